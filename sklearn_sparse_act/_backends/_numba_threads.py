"""How the numba backend shares the cores between its kernels and BLAS.

numba's ``prange`` loops and OpenBLAS both want every core, and a parallel
kernel run right after a multithreaded BLAS call competes with OpenBLAS's
spinning threads. Each pass therefore gives the cores to one of them:

- a training step (:func:`threads`): to numba's parallel kernels, with BLAS
  limited to one thread, when the kernels' estimated time exceeds BLAS's by
  enough; to BLAS otherwise, with the kernels on one thread;
- a prediction over many rows (:func:`map_row_chunks`; and
  :func:`stream_row_chunks`, for the passes that settle thresholds): when
  the kernels take the cores, chunks of rows run at once in *lanes*, one
  Python thread per core, each running everything of its chunk on one core
  (the serial kernels release the GIL; so do BLAS and NumPy's partition). A
  chunk needs no parallel region at all, and the first layer's dense
  product, which a parallel kernel would leave on one BLAS thread, runs on
  every core too.

numba's threads are started on first use (:func:`start_thread_pool`, called
before anything runs a parallel kernel or asks numba for its threads), not
when the package is imported, and OpenMP's with passive waiting: spinning
workers turn every parallel region into a wait for a descheduled thread as
soon as anything else runs on the machine (a training step became many
times slower beside one other busy process).
"""

import functools
import os
import threading
from concurrent.futures import ThreadPoolExecutor, wait
from contextlib import contextmanager, nullcontext

import numba

from ._blas_limit import allowed_threads, one_blas_thread
from .cost_model import (
    kernels_take_the_cores,
    lane_rows,
    predicts_in_lanes,
    region_pays,
    runs_in_parallel,
)
from .interface import row_chunks

# The processors this process may run on (numba's default thread count,
# whatever NUMBA_NUM_THREADS says): at most this many lanes run at once.
_MACHINE_CORES = numba.config.NUMBA_DEFAULT_NUM_THREADS


# Whether numba's threads have been started (by start_thread_pool); started
# once, under _start_lock.
_pool_started = False
_start_lock = threading.Lock()

# numba's 'workqueue' layer (when neither OpenMP nor TBB is installed) aborts
# the process if two threads launch parallel kernels at once: calls are then
# serialized under this lock (None on the other layers, or before the start).
_launch_lock = None


def start_thread_pool():
    """Start numba's threads, once, before their first use: with passive
    waiting (unless the user chose an OpenMP wait policy), and with the
    launches serialized on the 'workqueue' layer.

    OpenMP reads ``OMP_WAIT_POLICY`` once, when its runtime starts (numba
    starts it on the first call that needs its threads): the setting lasts
    only for that start, so the environment seen by other libraries and child
    processes is left as it was. Threads numba started before (a parallel
    function of the user's) keep the policy they started with.
    """
    global _pool_started, _launch_lock
    if _pool_started:
        return
    with _start_lock:
        if _pool_started:
            return
        chosen = os.environ.get("OMP_WAIT_POLICY")
        if chosen is None:
            os.environ["OMP_WAIT_POLICY"] = "PASSIVE"
        try:
            numba.get_num_threads()
        finally:
            if chosen is None:
                del os.environ["OMP_WAIT_POLICY"]
        if numba.threading_layer() == "workqueue":
            _launch_lock = threading.Lock()
        _pool_started = True


# This thread's state: whether it runs a lane (its kernels then run serially),
# and the budget of cores of the training pass's assignment it runs in.
_this_thread = threading.local()

# Python threads for the lanes and for blocks of NumPy's partition (both
# release the GIL); a forked child has none of its parent's threads.
_pool = None


def _forget_pool():
    global _pool
    _pool = None


os.register_at_fork(after_in_child=_forget_pool)


def in_lane():
    """Whether this thread runs a lane of :func:`map_row_chunks`: its kernels
    then run on one core, without parallel regions."""
    return getattr(_this_thread, "lane", False)


def run_at_once(tasks):
    """Call every function of ``tasks``, the first in this thread and the
    others in Python threads, and return their results in order."""
    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(thread_name_prefix="sklearn_sparse_act")
    others = [_pool.submit(task) for task in tasks[1:]]
    try:
        first = tasks[0]()
    finally:
        # Every task ends before anything it uses is released.
        wait(others)
    return [first, *(other.result() for other in others)]


def parallel_pays(serial_seconds):
    """Whether a kernel estimated to take ``serial_seconds`` on one thread
    runs its parallel version here: not in a lane, and only when a region
    on numba's threads pays for its wake-up (:func:`.cost_model.region_pays`;
    never on one thread, where the serial twin does the same work without
    a region)."""
    return not in_lane() and region_pays(serial_seconds, kernel_threads)


def run_where_it_pays(kernel, serial_seconds, *args):
    """``kernel(*args)``, a parallel kernel without a serial twin estimated
    to take ``serial_seconds`` on one thread, on numba's threads where its
    region pays for their wake-up (:func:`parallel_pays`), else on this
    thread alone (numba's thread count set to one while it runs)."""
    n_threads = kernel_threads()
    if n_threads == 1 or parallel_pays(serial_seconds):
        return kernel(*args)
    numba.set_num_threads(1)
    try:
        return kernel(*args)
    finally:
        numba.set_num_threads(n_threads)


def kernel_threads():
    """numba's thread count (numba's threads started first, if nothing has
    yet)."""
    start_thread_pool()
    return numba.get_num_threads()


def _thread_budget():
    """Cores this call may use: numba's count (joblib's loky workers set it
    to their share, the user may lower it with ``numba.set_num_threads``),
    lowered to a BLAS limit the caller set (not the one-thread limit of
    passes running at the same time in other threads). Inside a training
    pass's assignment (:func:`threads`) in this thread, the budget that
    assignment started from, not numba's count as the assignment set it
    (one thread, when it gave the cores to BLAS)."""
    assigned = getattr(_this_thread, "budget", None)
    if assigned is not None:
        return assigned
    budget = kernel_threads()
    blas_threads = allowed_threads()
    if blas_threads is not None:
        budget = min(budget, blas_threads)
    return max(1, budget)


def threads(n_rows, work):
    """Give the cores to numba's kernels (BLAS limited to one thread) when
    the kernels do most of ``work()`` on enough rows; otherwise run them on
    one thread and leave the cores to BLAS."""
    if not runs_in_parallel(n_rows):
        # The kernels run serially on so few rows (and changing the threads
        # setting costs as much as a kernel).
        return nullcontext()
    return _assigned_threads(work)


@contextmanager
def _assigned_threads(work):
    start_thread_pool()
    if _launch_lock is not None:
        _launch_lock.acquire()
    previous = numba.get_num_threads()
    outer_budget = getattr(_this_thread, "budget", None)
    _this_thread.budget = budget = _thread_budget()
    try:
        if not kernels_take_the_cores(work()):
            numba.set_num_threads(1)
            yield
        else:
            numba.set_num_threads(budget)
            with one_blas_thread():
                yield
    finally:
        numba.set_num_threads(previous)
        _this_thread.budget = outer_budget
        if _launch_lock is not None:
            _launch_lock.release()


def _lane_chunks(n_rows, chunk_rows, work):
    """The chunks of a pass in lanes over ``n_rows`` rows, and how many lanes
    run them at once; None when the pass does not run in lanes."""
    rows_at_once = min(chunk_rows, n_rows)
    if not predicts_in_lanes(n_rows, lambda: work(rows_at_once)):
        return None
    chunks = row_chunks(n_rows, lane_rows(rows_at_once, _MACHINE_CORES))
    return chunks, min(_thread_budget(), _MACHINE_CORES, len(chunks))


def map_row_chunks(function, n_rows, chunk_rows, work):
    """``function(rows)`` for consecutive chunks of ``range(n_rows)``, in
    lanes when the kernels take the cores (see the module's docstring).

    The lanes' chunks share ``chunk_rows`` between the machine's cores (at
    least ``MIN_PARALLEL_ROWS`` rows each), whatever the number of lanes: a
    chunk's rows, and with them the rounding of BLAS's products, do not
    change with the threads a call gets. The chunks in flight at once hold
    at most ``chunk_rows`` rows (or ``MIN_PARALLEL_ROWS`` per lane, if that
    is more), so a prediction's memory does not grow with the number of
    lanes. With one lane (numba or BLAS limited to one thread) the chunks run
    in this thread, as in a lane.
    """
    in_lanes = _lane_chunks(n_rows, chunk_rows, work)
    if in_lanes is not None:
        chunks, n_lanes = in_lanes
        with one_blas_thread():
            lanes = run_at_once(
                [
                    lambda lane=lane: _run_lane(function, chunks[lane::n_lanes])
                    for lane in range(n_lanes)
                ]
            )
        # Lane ``lane`` ran chunks lane, lane + n_lanes, ...
        results = [None] * len(chunks)
        for lane, lane_results in enumerate(lanes):
            results[lane::n_lanes] = lane_results
        return results
    chunks = row_chunks(n_rows, chunk_rows)
    first_rows = chunks[0].stop - chunks[0].start if chunks else 0
    with threads(first_rows, lambda: work(first_rows)):
        return [function(rows) for rows in chunks]


def stream_row_chunks(function, n_rows, chunk_rows, work):
    """``function(rows)`` for consecutive chunks of ``range(n_rows)``,
    yielded in order, for a pass that keeps only what it reduces them to.

    In lanes, as :func:`map_row_chunks` runs them, the chunks run as many at
    once as there are lanes: the chunks held at once, computed but not yet
    taken, hold at most ``chunk_rows`` rows (or ``MIN_PARALLEL_ROWS`` per
    lane). Otherwise the chunks run one by one in this thread, with the
    cores as the caller assigned them (a pass inside a training step's
    :func:`threads`). BLAS is limited to one thread only while a group of
    lanes runs, never across a ``yield``.
    """
    in_lanes = _lane_chunks(n_rows, chunk_rows, work)
    if in_lanes is None:
        for rows in row_chunks(n_rows, chunk_rows):
            yield function(rows)
        return
    chunks, n_lanes = in_lanes
    for start in range(0, len(chunks), n_lanes):
        with one_blas_thread():
            results = run_at_once(
                [
                    lambda rows=rows: _run_lane(function, [rows])[0]
                    for rows in chunks[start : start + n_lanes]
                ]
            )
        yield from results


def _run_lane(function, chunks):
    _this_thread.lane = True
    try:
        return [function(rows) for rows in chunks]
    finally:
        _this_thread.lane = False


def starts_the_threads(function):
    """``function`` (a function of the backend interface that always runs
    parallel kernels) starting numba's threads first, if nothing has yet:
    importing the backend starts no threads."""

    @functools.wraps(function)
    def started_first(*args, **kwargs):
        start_thread_pool()
        return function(*args, **kwargs)

    return started_first
