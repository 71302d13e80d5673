"""Kernel backends: the arithmetic of the network over winners.

``numpy_kernels`` is the reference and always available; ``numba_kernels``
(the ``fast`` extra) compiles the same functions. Both implement
:class:`.interface.KernelBackend`; :mod:`.cost_model` decides which path each
layer takes on them and who gets the cores. Which backend runs is a
package-level setting, :func:`sklearn_sparse_act.config_context`
(``kernels='auto'`` picks numba when it can be imported), not a
hyperparameter: the two differ only by round-off. Importing a backend starts
no threads and compiles nothing; numba's kernels are compiled (or loaded
from numba's cache) and its threads started on first use.
"""

import importlib
from functools import cache

from .._config import get_config, numba_available, resolved_kernels

__all__ = ["BACKENDS", "get_backend", "numba_available"]

BACKENDS = ("numpy", "numba")


@cache
def _load(name):
    return importlib.import_module(f"{__name__}.{name}_kernels")


def get_backend(name=None):
    """The backend module for the setting ``name`` (default: the configured
    one; 'auto' is numba when it is installed)."""
    return _load(resolved_kernels(get_config()["kernels"] if name is None else name))
