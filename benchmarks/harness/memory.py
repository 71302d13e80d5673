"""Peak memory of a piece of work: traced allocations and resident set size.

Two views of the same question. :func:`traced_peak_bytes` is the peak of the
allocations Python and NumPy make while a function runs (``tracemalloc`` sees
NumPy's buffers), independent of what the process held before.
:class:`PeakRss` is the growth of the process's peak resident set size (RSS),
which also sees memory that ``tracemalloc`` cannot, such as pages of a mapped
file: on Linux the kernel's high-water mark is reset first (exact), elsewhere
the peak since the process started stands in for it (an upper bound).
"""

import resource
import sys
import tracemalloc

from benchmarks.harness.timing import collect_and_freeze


def traced(function):
    """``function()``'s result and the peak of memory ``tracemalloc`` traced
    while it ran, in bytes.

    A collection runs first (``collect_and_freeze`` of
    :mod:`benchmarks.harness.timing`); the memory traced when tracing starts
    is subtracted.
    """
    collect_and_freeze()
    tracemalloc.start()
    try:
        start, _ = tracemalloc.get_traced_memory()
        result = function()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return result, peak - start


def traced_peak_bytes(function):
    """Peak of memory traced by ``tracemalloc`` while ``function()`` runs
    (see :func:`traced`)."""
    return traced(function)[1]


class PeakRss:
    """Growth of the peak resident set size from now on.

    Creating one resets the kernel's high-water mark where it can
    (``/proc/self/clear_refs`` on Linux) and records the current RSS;
    :meth:`growth_bytes` is the peak since then minus that. ``exact`` says
    whether the reset worked; when it did not, the peak is ``getrusage``'s
    since the process started, so the growth is an upper bound.
    """

    def __init__(self):
        self.exact = _reset_peak_rss()
        self.start_bytes = current_rss_bytes()

    def growth_bytes(self):
        """Peak RSS since creation (or since the process started) minus the
        RSS at creation; 0 when the peak is below it."""
        peak = _status_bytes("VmHWM") if self.exact else _getrusage_peak_bytes()
        return max(peak - self.start_bytes, 0)


def current_rss_bytes():
    """The process's resident set size now (its peak where that is unknown)."""
    rss = _status_bytes("VmRSS")
    if rss is not None:
        return rss
    try:
        import psutil
    except ImportError:
        return _getrusage_peak_bytes()
    return psutil.Process().memory_info().rss


def _status_bytes(field):
    """A ``kB`` field of ``/proc/self/status`` in bytes, or None off Linux."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def _reset_peak_rss():
    """Reset the kernel's RSS high-water mark; False where unsupported."""
    try:
        with open("/proc/self/clear_refs", "w") as clear_refs:
            clear_refs.write("5")
    except OSError:
        return False
    return _status_bytes("VmHWM") is not None


def _getrusage_peak_bytes():
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024
