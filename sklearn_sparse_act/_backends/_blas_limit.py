"""The process-wide limit of BLAS to one thread, shared by every caller.

A pass that gives the cores to numba's kernels (a training step, the lanes
of a prediction) limits BLAS to one thread while it runs. threadpoolctl's
limiter records the limits current when it is entered and restores them when
it is left, so two overlapping limiters from two threads leave BLAS on one
thread for good when they end in the order they started (A records 2 and
sets 1, B records 1, A restores 2, B restores 1). The limit is therefore one
state owned here: the first caller in records the limits and sets one
thread, the callers after it only count themselves in, and the last one out
restores exactly what the first recorded.

A limit the user holds around the calls (``threadpool_limits``) is what gets
recorded and restored. A limit the user sets from another thread while a
call holds this one is overwritten when the last call ends, and restores the
one thread it found when it is left. A child forked while the limit is held
starts without it, with the recorded limits restored.
"""

import os
import threading
from contextlib import contextmanager

from threadpoolctl import ThreadpoolController

_lock = threading.Lock()
_controller = None
# While the limit is held: how many callers hold it, the BLAS thread counts
# recorded before it was set, and threadpoolctl's limiter that restores them.
_holders = 0
_recorded_threads = None
_limiter = None


def _forget_holders():
    """A forked child has none of its parent's threads: nothing holds the
    limit there, and BLAS gets back the limits recorded before it was set."""
    global _lock, _holders, _recorded_threads, _limiter
    _lock = threading.Lock()
    if _limiter is not None:
        _limiter.restore_original_limits()
    _holders = 0
    _recorded_threads = None
    _limiter = None


os.register_at_fork(after_in_child=_forget_holders)


def _blas_controller():
    """threadpoolctl's view of the loaded BLAS libraries (built once: the
    scan of loaded libraries is the expensive part). Called under ``_lock``."""
    global _controller
    if _controller is None:
        _controller = ThreadpoolController().select(user_api="blas")
    return _controller


def allowed_threads():
    """The most threads a loaded BLAS library may use outside this limit: the
    counts recorded before it was set while a caller holds it, the current
    ones otherwise (a limit the user set); None without a BLAS library."""
    with _lock:
        if _recorded_threads is not None:
            counts = _recorded_threads
        else:
            counts = [info["num_threads"] for info in _blas_controller().info()]
    return max(counts, default=None)


@contextmanager
def one_blas_thread():
    """BLAS limited to one thread until the last caller of this context,
    in any thread, has left it; then the limits are restored as the first
    caller found them."""
    global _holders, _recorded_threads, _limiter
    with _lock:
        if _holders == 0:
            controller = _blas_controller()
            _recorded_threads = [info["num_threads"] for info in controller.info()]
            _limiter = controller.limit(limits=1)
        _holders += 1
    try:
        yield
    finally:
        with _lock:
            _holders -= 1
            if _holders == 0:
                _limiter.restore_original_limits()
                _limiter = None
                _recorded_threads = None
