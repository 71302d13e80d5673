"""numba kernels of the 'dynamic' batch quota (:mod:`.._batch_quota`): a
histogram of the values' order-preserving bit patterns, and the entries
inside a window of values. Each is one pass over a layer's values on this
thread (releasing the GIL); for a training batch without row weights, two
passes over rows in parallel also count each row's entries above the window
and collect its candidates (the columns at or above the window, among which
its winners are).
"""

import numpy as np
from numba import njit, prange

from ._numba_twins import parallel_and_serial
from .interface import WINDOW_BLOCK_ROWS, Candidates

# The histogram's buckets are the top 16 bits of a value's key (as
# :mod:`.._batch_quota` counts them); bucket 0 holds the most negative keys.
_HISTOGRAM_BITS = 16

# Per float dtype, the integer type of its bit pattern and the mask of every
# bit but the sign.
_BITS = {
    np.dtype(np.float64): (np.int64, np.int64(np.iinfo(np.int64).max)),
    np.dtype(np.float32): (np.int32, np.int32(np.iinfo(np.int32).max)),
}


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
    integer, sign_free = _BITS[values.dtype]
    return _histogram(
        values,
        values.view(integer),
        row_weights.astype(np.float64, copy=False),
        counts,
        weights,
        values.dtype.itemsize * 8 - _HISTOGRAM_BITS,
        sign_free,
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


def _row_counts(values, bits, low, high, sign_free, row_found):
    """Per row, in ``row_found[row]``: how many of its entries are at or
    above ``high``, how many in ``[low, high)``, and the largest bit pattern
    of their magnitudes (``bits & sign_free``, ordered as the magnitudes
    are): comparisons and sums, without a branch."""
    n_rows, width = values.shape
    for row in prange(n_rows):
        n_above = 0
        n_inside = 0
        max_bits = 0
        for column in range(width):
            value = values[row, column]
            n_above += value >= high
            n_inside += (value >= low) & (value < high)
            max_bits = max(max_bits, bits[row, column] & sign_free)
        row_found[row, 0] = n_above
        row_found[row, 1] = n_inside
        row_found[row, 2] = max_bits


row_counts, row_counts_serial = parallel_and_serial(_row_counts)


def _candidate_blocks(
    values, low, high, candidate_starts, columns, entry_starts, entries
):
    """Per row, the columns of its entries at or above ``low`` (its
    candidates) from ``candidate_starts[row]`` on in ``columns``, and the
    values of those below ``high`` (its entries in the window) from
    ``entry_starts[row]`` on in ``entries``; in blocks of
    ``WINDOW_BLOCK_ROWS`` rows, each with one scratch row.

    The candidates are collected without a branch on the values (a column
    is written at the next free place of the scratch row whether or not it
    is a candidate, and the place moves on only if it is: a branch taken
    for one entry in ten, at random, would be mispredicted often), then
    copied to their places, and those below ``high`` to the window's
    entries (a branch over a row's few candidates).
    """
    n_rows, width = values.shape
    for block in prange((n_rows + WINDOW_BLOCK_ROWS - 1) // WINDOW_BLOCK_ROWS):
        scratch = np.empty(width + 1, dtype=np.int64)
        first = block * WINDOW_BLOCK_ROWS
        for row in range(first, min(first + WINDOW_BLOCK_ROWS, n_rows)):
            start = candidate_starts[row]
            if candidate_starts[row + 1] == start:
                continue
            n_candidates = 0
            for column in range(width):
                scratch[n_candidates] = column
                n_candidates += values[row, column] >= low
            entry = entry_starts[row]
            for candidate in range(n_candidates):
                column = scratch[candidate]
                columns[start + candidate] = column
                value = values[row, column]
                if value < high:
                    entries[entry] = value
                    entry += 1


candidate_blocks, candidate_blocks_serial = parallel_and_serial(_candidate_blocks)


@njit(cache=True, nogil=True)
def _layout(row_found, capacity, candidate_starts, entry_starts):
    """Lay out the rows' candidates and window entries (each row's start,
    from its counts in ``row_found``, as :func:`row_counts` leaves them);
    return whether every block of ``WINDOW_BLOCK_ROWS`` rows has at most
    ``capacity`` entries in the window, how many entries are at or above
    it, and the largest bit pattern of a magnitude."""
    fits = True
    n_above = 0
    max_bits = 0
    block_entries = 0
    for row in range(row_found.shape[0]):
        if row % WINDOW_BLOCK_ROWS == 0:
            block_entries = 0
        block_entries += row_found[row, 1]
        fits &= block_entries <= capacity
        n_above += row_found[row, 0]
        max_bits = max(max_bits, row_found[row, 2])
        candidate_starts[row + 1] = (
            candidate_starts[row] + row_found[row, 0] + row_found[row, 1]
        )
        entry_starts[row + 1] = entry_starts[row] + row_found[row, 1]
    return fits, n_above, max_bits


def window_rows(values, low, high, capacity, kernels):
    """:func:`~.numba_kernels.quota_window_rows` by ``kernels`` (``(row_counts,
    candidate_blocks)`` or their serial twins): the entries of ``values`` in
    ``[low, high)`` in row-major order; how many entries are at or above
    ``high``; the largest magnitude; each row's candidates, the columns of
    its entries at or above ``low``. None if a block of
    ``WINDOW_BLOCK_ROWS`` rows has more than ``capacity`` entries in the
    window. Every array is laid out from the rows' counts: the same on any
    number of threads."""
    count, collect = kernels
    values = np.ascontiguousarray(values)
    integer, sign_free = _BITS[values.dtype]
    low, high = values.dtype.type(low), values.dtype.type(high)
    n_rows = values.shape[0]
    row_found = np.empty((n_rows, 3), dtype=np.int64)
    count(values, values.view(integer), low, high, sign_free, row_found)
    candidate_starts = np.zeros(n_rows + 1, dtype=np.int64)
    entry_starts = np.zeros(n_rows + 1, dtype=np.int64)
    fits, n_above, max_bits = _layout(
        row_found, capacity, candidate_starts, entry_starts
    )
    if not fits:
        return None
    columns = np.empty(candidate_starts[-1], dtype=np.int64)
    entries = np.empty(entry_starts[-1], dtype=values.dtype)
    collect(values, low, high, candidate_starts, columns, entry_starts, entries)
    max_abs = np.array([max_bits], dtype=integer).view(values.dtype)[0]
    return entries, n_above, float(max_abs), Candidates(candidate_starts, columns)
