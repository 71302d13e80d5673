"""Kernel backends: the arithmetic of the network over winners.

``numpy_kernels`` is the reference and always available; ``numba_kernels``
(the ``fast`` extra) compiles the same functions. Both implement
:class:`.interface.KernelBackend`. Which one runs is a package-level setting,
:func:`sklearn_sparse_act.config_context` (``kernels='auto'`` picks numba when
it can be imported), not a hyperparameter: the two differ only by round-off.
"""

import importlib
from functools import cache

from .._config import get_config

BACKENDS = ("numpy", "numba")


@cache
def _load(name):
    return importlib.import_module(f"{__name__}.{name}_kernels")


@cache
def numba_available():
    """Whether numba can be imported (the ``fast`` extra is installed)."""
    try:
        importlib.import_module("numba")
    except ImportError:
        return False
    return True


def get_backend(name=None):
    """The backend module for ``name`` (default: the configured one)."""
    name = get_config()["kernels"] if name is None else name
    if name == "auto":
        name = "numba" if numba_available() else "numpy"
    if name == "numba" and not numba_available():
        raise ImportError(
            "kernels='numba' needs numba: install the fast extra, "
            "pip install 'sklearn-sparse-act[fast]'."
        )
    return _load(name)
