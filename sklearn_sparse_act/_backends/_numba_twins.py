"""How the numba kernels are compiled: cached on disk, and a kernel that runs
both in parallel and serially written once.

Compiled code is cached on disk (``cache=True``): beside the kernels'
modules, or in numba's per-user cache directory when the package directory
is read-only (``NUMBA_CACHE_DIR`` overrides both). Nothing is compiled at
import: a kernel is compiled, or loaded from the cache, on its first call.

numba discards a kernel's cached code when the kernel's own module changes,
not when something it compiled in from another module does. The compiled
helpers therefore sit in the module of the kernels that inline them; the
one thing compiled in from elsewhere is the values of
:class:`._numba_activations.ActivationCode`: after changing them, delete
the cache (the ``*.nbi`` and ``*.nbc`` files).
"""

import types

from numba import njit


def parallel_and_serial(loop):
    """Compile ``loop``, a function whose outer loop is a ``prange``, as a
    parallel kernel and as its serial twin.

    The parallel kernel (``njit(parallel=True)``) splits the ``prange``
    between numba's threads. The serial twin (``njit(nogil=True)``) is the
    same code compiled without ``parallel``, where ``prange`` is ``range``:
    it launches no threads and releases the GIL, for passes over few rows
    and for the lanes of a prediction, which run it in Python threads of
    their own. Both are cached on disk.

    numba names a cached function's files after its qualified name and keys
    the entries by its code, not by its options: the twin is therefore
    compiled from a copy of ``loop`` named ``<name>_serial``, so that the two
    never share a cache entry. (A factory of closures over a row body would
    not do: numba keys a closure's entry by its pickled cells, and a pickled
    kernel carries an id of its process, so every process would compile it
    again.)

    Parameters
    ----------
    loop : function
        The kernel's Python function.

    Returns
    -------
    parallel, serial : numba dispatchers
    """
    serial_loop = types.FunctionType(
        loop.__code__,
        loop.__globals__,
        f"{loop.__name__}_serial",
        loop.__defaults__,
        loop.__closure__,
    )
    serial_loop.__qualname__ = f"{loop.__qualname__}_serial"
    serial_loop.__module__ = loop.__module__
    serial_loop.__doc__ = loop.__doc__
    return (
        njit(parallel=True, cache=True)(loop),
        njit(nogil=True, cache=True)(serial_loop),
    )
