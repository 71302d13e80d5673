"""Wall-clock timing: one call, interleaved repeats, medians and paired ratios.

A benchmark compares variants (two libraries, two dtypes, two code paths) on a
machine whose speed drifts. Timing each variant once per repeat, all of them
within the repeat (:func:`interleaved`), lets a slow phase hit every variant
of that repeat alike; a ratio is then taken within each repeat
(:func:`paired_ratios`) before the median over repeats. :class:`CallTimer`
adds up the time spent in wrapped functions, for profiles.

Every clock reading is ``time.perf_counter()``, looked up at call time.
"""

import gc
import time
from collections import Counter, defaultdict
from statistics import median


def collect_and_freeze():
    """Collect what came before, then freeze what survives.

    A full ``gc.collect()`` walks every object the collector tracks; in a
    process that has imported scikit-learn and compiled numba's kernels that
    is tens of milliseconds per call. Survivors are frozen (``gc.freeze()``)
    so that the next collection walks only what came since. A frozen object
    that later becomes part of unreachable cycles is not reclaimed: a
    benchmark process may pay that, a library may not.
    """
    gc.collect()
    gc.freeze()


def timed(function, collect_garbage=False):
    """``function()``'s result and the wall-clock seconds of the call.

    With ``collect_garbage``, an untimed collection runs first
    (:func:`collect_and_freeze`), so that the call does not pay for a collection
    of what came before it.
    """
    if collect_garbage:
        collect_and_freeze()
    start = time.perf_counter()
    result = function()
    return result, time.perf_counter() - start


def seconds_of(function, collect_garbage=False):
    """Wall-clock seconds of one call of ``function()`` (see :func:`timed`)."""
    return timed(function, collect_garbage)[1]


def rotated(items, repeat):
    """``items`` rotated left by ``repeat`` places (modulo their number).

    The order of the variants in a repeat: each goes first in turn, and with
    two variants the order alternates.

    Examples
    --------
    >>> rotated(["a", "b", "c"], 1), rotated(["a", "b"], 3)
    (['b', 'c', 'a'], ['b', 'a'])
    """
    items = list(items)
    shift = repeat % len(items)
    return items[shift:] + items[:shift]


def interleaved(calls, repeats, *, rotate=True, warm_up=0):
    """Results of calling every variant once per repeat, repeat after repeat.

    Parameters
    ----------
    calls : dict
        ``{name: function}``; ``function(repeat)`` is called with the index of
        the repeat (warm-up repeats included), so that a repeat can pick its
        own input.
    repeats : int
        Repeats whose results are kept.
    rotate : bool, default=True
        Whether the order of the variants turns from repeat to repeat
        (:func:`rotated`); otherwise every repeat calls them in the order of
        ``calls``.
    warm_up : int, default=0
        Repeats run first, in the same way, whose results are dropped.

    Returns
    -------
    results : dict
        ``{name: [result of each kept repeat]}``, in the order of ``calls``.
    """
    names = list(calls)
    results = {name: [] for name in names}
    for repeat in range(warm_up + repeats):
        for name in rotated(names, repeat) if rotate else names:
            result = calls[name](repeat)
            if repeat >= warm_up:
                results[name].append(result)
    return results


def interleaved_seconds(
    calls, repeats, *, rotate=True, warm_up=0, collect_garbage=False
):
    """Seconds of each call of :func:`interleaved` (see there for the arguments).

    ``collect_garbage`` runs an untimed :func:`collect_and_freeze` before every
    call.
    """
    return interleaved(
        {
            name: _timed_call(function, collect_garbage)
            for name, function in calls.items()
        },
        repeats,
        rotate=rotate,
        warm_up=warm_up,
    )


def _timed_call(function, collect_garbage):
    return lambda repeat: seconds_of(lambda: function(repeat), collect_garbage)


def paired_ratios(values, references):
    """``value / reference`` for each repeat, both from the same repeat.

    Examples
    --------
    >>> paired_ratios([2.0, 3.0], [4.0, 1.0])
    [0.5, 3.0]
    """
    return [
        value / reference for value, reference in zip(values, references, strict=True)
    ]


def median_and_range(values):
    """The median of ``values`` and ``[smallest, largest]``.

    Examples
    --------
    >>> median_and_range([3.0, 1.0, 2.0, 10.0])
    (2.5, [1.0, 10.0])
    """
    return median(values), [min(values), max(values)]


class CallTimer:
    """Adds up the seconds and calls of the functions it wraps, by name."""

    def __init__(self):
        self.seconds = defaultdict(float)
        self.calls = Counter()

    def wrap(self, name, function):
        """``function`` that also adds its time and one call to ``name``."""

        def timed(*args, **kwargs):
            start = time.perf_counter()
            result = function(*args, **kwargs)
            self.seconds[name] += time.perf_counter() - start
            self.calls[name] += 1
            return result

        return timed

    def clear(self):
        """Forget everything timed so far."""
        self.seconds.clear()
        self.calls.clear()
