"""Package-level settings, in the manner of :func:`sklearn.config_context`.

Settings are per thread, and start from the environment: the variable
``SKLEARN_SPARSE_ACT_KERNELS`` sets the initial ``kernels`` of a process.
Like scikit-learn's own settings, they travel with the tasks of
:class:`sklearn.utils.parallel.Parallel` (GridSearchCV's, cross_validate's):
scikit-learn captures its configuration in the calling thread and restores
it in the worker around the task, and this module adds its settings to what
is captured and restored (:func:`_carry_settings_to_workers`). This module
also knows which kernels can run here (:func:`resolved_kernels`); the
backends themselves live in :mod:`._backends`, which reads the setting from
here.
"""

import importlib
import os
import threading
from contextlib import contextmanager
from functools import cache

import sklearn._config
import sklearn.utils.parallel
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
        environment variable ``SKLEARN_SPARSE_ACT_KERNELS`` (default 'auto').
        The tasks of scikit-learn's parallel tools (``GridSearchCV``,
        ``cross_validate`` with ``n_jobs``) run in their workers with the
        setting of the thread that started them, as scikit-learn's own
        settings do.

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


# ----------------------------------------------------------------------------
# The settings in scikit-learn's parallel tasks
# ----------------------------------------------------------------------------
# Key of this package's settings in the configuration that scikit-learn's
# Parallel captures for a task.
_TASK_CONFIG_KEY = "sklearn_sparse_act"


class TaskSettings(dict):
    """This package's settings, captured for a parallel task.

    A class of this module, so that unpickling a task that carries it in a
    worker process imports this module, which prepares the worker to restore
    it (:func:`_carry_settings_to_workers`) before the task runs.
    """


def _task_config():
    """scikit-learn's configuration of this thread, with this package's
    settings (what ``Parallel`` captures for its tasks)."""
    return {
        **sklearn._config.get_config(),
        _TASK_CONFIG_KEY: TaskSettings(get_config()),
    }


@contextmanager
def _task_config_context(**config):
    """Restore a captured configuration around a task: scikit-learn's
    settings, then this package's (a task captured without them keeps the
    worker's own)."""
    settings = config.pop(_TASK_CONFIG_KEY, None)
    with sklearn._config.config_context(**config):
        if settings is None:
            yield
        else:
            with config_context(**settings):
                yield


def _carry_settings_to_workers():
    """Make scikit-learn's parallel tasks carry this package's settings.

    ``sklearn.utils.parallel.Parallel`` captures ``get_config()`` in the
    calling thread and its task wrapper enters ``config_context(**config)``
    in the worker; both are looked up in that module when used. Its
    configuration takes no keys but its own, so this package's settings
    ride under their own key, which the worker's ``config_context`` takes
    out and enters with this module's :func:`config_context`. Installed
    once, on import (in a worker process, by unpickling a task's
    :class:`TaskSettings`).
    """
    parallel = sklearn.utils.parallel
    if parallel.get_config is _task_config:
        return
    if (parallel.get_config, parallel.config_context) != (
        sklearn._config.get_config,
        sklearn._config.config_context,
    ):
        # Another library replaced them: leave them alone (the environment
        # variable still reaches new worker processes).
        return
    parallel.get_config = _task_config
    parallel.config_context = _task_config_context


_carry_settings_to_workers()
