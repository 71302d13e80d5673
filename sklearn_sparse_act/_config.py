"""Package-level settings, in the manner of :func:`sklearn.config_context`."""

import threading
from contextlib import contextmanager

from sklearn.utils._param_validation import StrOptions, validate_params

_global_config = {"kernels": "auto"}
_thread_local = threading.local()


def _local_config():
    if not hasattr(_thread_local, "config"):
        _thread_local.config = _global_config.copy()
    return _thread_local.config


def get_config():
    """The current settings of sklearn-sparse-act.

    Returns
    -------
    config : dict
        Keys are the parameter names of :func:`set_config`.

    Examples
    --------
    >>> from sklearn_sparse_act import get_config
    >>> sorted(get_config())
    ['kernels']
    """
    return _local_config().copy()


@validate_params(
    {"kernels": [StrOptions({"auto", "numpy", "numba"}), None]},
    prefer_skip_nested_validation=True,
)
def set_config(kernels=None):
    """Set the package's settings (in this thread).

    Parameters
    ----------
    kernels : {'auto', 'numpy', 'numba'}, default=None
        Which kernel backend trains and runs the networks. 'numpy' is the
        NumPy/SciPy reference, always available; 'numba' the compiled kernels
        of the ``fast`` extra; 'auto' (the initial setting) takes numba when
        it is installed. Results differ between backends only by round-off.
        None leaves the setting unchanged.

    Examples
    --------
    >>> from sklearn_sparse_act import get_config, set_config
    >>> set_config(kernels="numpy")
    >>> get_config()["kernels"]
    'numpy'
    >>> set_config(kernels="auto")
    """
    if kernels is not None:
        if kernels == "numba":
            from ._backends import get_backend

            get_backend("numba")
        _local_config()["kernels"] = kernels


@contextmanager
def config_context(*, kernels=None):
    """Temporarily change the package's settings (in this thread).

    Parameters
    ----------
    kernels : {'auto', 'numpy', 'numba'}, default=None
        See :func:`set_config`.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn_sparse_act import SparseMLPClassifier, config_context
    >>> X, y = load_iris(return_X_y=True)
    >>> with config_context(kernels="numpy"):
    ...     clf = SparseMLPClassifier(max_iter=5, random_state=0).fit(X, y)
    """
    old = get_config()
    set_config(kernels=kernels)
    try:
        yield
    finally:
        set_config(**old)
