"""Package-level settings, in the manner of :func:`sklearn.config_context`.

Settings are per thread, and start from the environment: the variable
``SKLEARN_SPARSE_ACT_KERNELS`` sets the initial ``kernels``, which is how the
setting reaches processes started by joblib (GridSearchCV's workers) or a
test run. This module also knows which kernels can run here
(:func:`resolved_kernels`); the backends themselves live in
:mod:`._backends`, which reads the setting from here.
"""

import importlib
import os
import threading
from contextlib import contextmanager
from functools import cache

from sklearn.utils._param_validation import StrOptions, validate_params

KERNELS = ("auto", "numpy", "numba")
KERNELS_VARIABLE = "SKLEARN_SPARSE_ACT_KERNELS"


def _initial_kernels():
    kernels = os.environ.get(KERNELS_VARIABLE, "auto")
    if kernels not in KERNELS:
        raise ValueError(
            f"The environment variable {KERNELS_VARIABLE} must be one of "
            f"{', '.join(KERNELS)}; got {kernels!r}."
        )
    return kernels


@cache
def numba_available():
    """Whether numba can be imported (the ``fast`` extra is installed)."""
    try:
        importlib.import_module("numba")
    except ImportError:
        return False
    return True


def resolved_kernels(kernels):
    """The backend that runs for the setting ``kernels``: 'numpy' or 'numba'
    ('auto' is numba when it is installed).

    Raises ImportError when numba is asked for and not installed.

    Examples
    --------
    >>> from sklearn_sparse_act._config import resolved_kernels
    >>> resolved_kernels("numpy")
    'numpy'
    """
    if kernels == "auto":
        return "numba" if numba_available() else "numpy"
    if kernels == "numba" and not numba_available():
        raise ImportError(
            "kernels='numba' needs numba: install the fast extra, "
            "pip install 'sklearn-sparse-act[fast]'."
        )
    return kernels


_global_config = {"kernels": _initial_kernels()}
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
    {"kernels": [StrOptions(set(KERNELS)), None]},
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
        None leaves the setting unchanged. The initial setting comes from the
        environment variable ``SKLEARN_SPARSE_ACT_KERNELS`` (default 'auto'),
        which also reaches joblib's worker processes.

    Examples
    --------
    >>> from sklearn_sparse_act import get_config, set_config
    >>> initial = get_config()["kernels"]
    >>> set_config(kernels="numpy")
    >>> get_config()["kernels"]
    'numpy'
    >>> set_config(kernels=initial)
    """
    if kernels is not None:
        if kernels == "numba":
            resolved_kernels(kernels)  # raises if numba is not installed
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
