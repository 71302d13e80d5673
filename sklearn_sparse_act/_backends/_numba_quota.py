"""numba kernels of the 'dynamic' batch quota (:mod:`.._batch_quota`): a
histogram of the values' order-preserving bit patterns, and the entries
inside a window of values. Each is one pass over a layer's values on this
thread (it releases the GIL)."""

import numpy as np
from numba import njit

# The histogram's buckets are the top 16 bits of a value's key (as
# :mod:`.._batch_quota` counts them); bucket 0 holds the most negative keys.
_HISTOGRAM_BITS = 16


@njit(cache=True, inline="always")
def _key(bits, sign_free):
    """The order-preserving signed key of a float's bit pattern."""
    return bits if bits >= 0 else bits ^ sign_free


@njit(cache=True, nogil=True)
def _histogram(values, bits, row_weights, counts, weights, shift, sign_free):
    n_rows, width = values.shape
    offset = counts.size // 2
    weighted = row_weights.size > 0
    max_abs = 0.0
    for row in range(n_rows):
        weight = row_weights[row] if weighted else 1.0
        for column in range(width):
            bucket = (_key(bits[row, column], sign_free) >> shift) + offset
            counts[bucket] += 1
            if weighted:
                weights[bucket] += weight
            magnitude = abs(values[row, column])
            if magnitude > max_abs:
                max_abs = magnitude
    return max_abs


def quota_histogram(values, row_weights, counts, weights):
    """Add ``values``' entries to the per-bucket ``counts`` (and, with row
    weights, their rows' weights to ``weights``); return their largest
    magnitude."""
    values = np.ascontiguousarray(values)
    integer = np.int64 if values.dtype == np.float64 else np.int32
    return _histogram(
        values,
        values.view(integer),
        row_weights.astype(np.float64, copy=False),
        counts,
        weights,
        values.dtype.itemsize * 8 - _HISTOGRAM_BITS,
        integer(np.iinfo(integer).max),
    )


@njit(cache=True, nogil=True)
def _window(values, row_weights, low, high, entries, entry_weights):
    n_rows, width = values.shape
    weighted = row_weights.size > 0
    n_entries = 0
    above = 0.0
    max_below = -np.inf
    max_abs = 0.0
    for row in range(n_rows):
        weight = row_weights[row] if weighted else 1.0
        for column in range(width):
            value = values[row, column]
            magnitude = abs(value)
            if magnitude > max_abs:
                max_abs = magnitude
            if value >= high:
                above += weight
            elif value >= low:
                if n_entries < entries.size:
                    entries[n_entries] = value
                    if weighted:
                        entry_weights[n_entries] = weight
                n_entries += 1
            elif value > max_below and weight > 0:
                max_below = value
    return n_entries, above, max_below, max_abs


def quota_window(values, row_weights, low, high, entries, entry_weights):
    """Copy the entries of ``values`` in ``[low, high)`` (and their rows'
    weights) to the start of ``entries`` (``entry_weights``), as many as fit;
    return how many there are, the weight of the entries at or above
    ``high``, the largest entry below ``low`` of a row of positive weight,
    and the largest magnitude."""
    values = np.ascontiguousarray(values)
    n_entries, above, max_below, max_abs = _window(
        values,
        row_weights.astype(np.float64, copy=False),
        values.dtype.type(low),
        values.dtype.type(high),
        entries,
        entry_weights,
    )
    return n_entries, above, values.dtype.type(max_below), max_abs
