"""numba kernels of the 'dynamic' batch quota (:mod:`.._batch_quota`): a
histogram of the values' order-preserving bit patterns, and the entries
inside a window of values. Each is one pass over a layer's values: on this
thread (releasing the GIL), or, for a training batch without row weights, in
parallel blocks of rows that also count each row's entries above the window.
"""

import numpy as np
from numba import njit, prange

from ._numba_twins import parallel_and_serial
from .interface import WINDOW_BLOCK_ROWS

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


def _window_blocks(
    values, bits, low, high, sign_free, capacity, entries, row_found, block_found
):
    """Per block of ``WINDOW_BLOCK_ROWS`` rows, its entries in ``[low,
    high)`` from ``block * (capacity + 1)`` on in ``entries`` (as many as
    fit), and in ``block_found[block]`` how many there are and the largest
    bit pattern of their magnitudes (``bits & sign_free``, ordered as the
    magnitudes are); per row, in ``row_found[row]``, how many of its entries
    are at or above ``high`` and how many in the window.

    A row is read twice, the second time from cache: once for the counts
    and the largest magnitude (vectorized), once for the window's entries
    without a branch on the values (an entry is written at the next free
    place whether or not it is in the window, and the place moves on only
    if it is: a branch taken for a few entries in a hundred, at random,
    would be mispredicted often). A block's last place takes the writes
    once its buffer is full.
    """
    n_rows, width = values.shape
    for block in prange((n_rows + WINDOW_BLOCK_ROWS - 1) // WINDOW_BLOCK_ROWS):
        first = block * WINDOW_BLOCK_ROWS
        start = block * (capacity + 1)
        n_entries = 0
        max_bits = 0
        for row in range(first, min(first + WINDOW_BLOCK_ROWS, n_rows)):
            n_above = 0
            n_inside = 0
            for column in range(width):
                value = values[row, column]
                n_above += value >= high
                n_inside += (value >= low) & (value < high)
                max_bits = max(max_bits, bits[row, column] & sign_free)
            row_found[row, 0] = n_above
            row_found[row, 1] = n_inside
            if n_inside == 0:
                continue
            for column in range(width):
                value = values[row, column]
                entries[start + min(n_entries, capacity)] = value
                n_entries += (value >= low) & (value < high)
        block_found[block, 0] = n_entries
        block_found[block, 1] = max_bits


window_blocks, window_blocks_serial = parallel_and_serial(_window_blocks)


@njit(cache=True, nogil=True)
def _packed(entries, n_entries, capacity):
    """Move each block's entries (``n_entries[block]`` of them from
    ``block * (capacity + 1)`` on) to follow the blocks before it; return
    how many there are in all."""
    n_packed = 0
    for block in range(n_entries.size):
        start = block * (capacity + 1)
        for entry in range(n_entries[block]):
            entries[n_packed] = entries[start + entry]
            n_packed += 1
    return n_packed


def window_rows(values, low, high, capacity, kernel):
    """:func:`~.numba_kernels.quota_window_rows` by ``kernel``
    (:func:`window_blocks` or its serial twin): the entries of ``values`` in
    ``[low, high)``, in row-major order, and their rows; per row, how many
    entries are at or above ``high``; the largest magnitude. None if a block
    of ``WINDOW_BLOCK_ROWS`` rows has more than ``capacity`` entries in the
    window. The blocks, and so where their entries are laid out, are the
    same on any number of threads."""
    values = np.ascontiguousarray(values)
    integer = np.int64 if values.dtype == np.float64 else np.int32
    n_rows = values.shape[0]
    n_blocks = -(-n_rows // WINDOW_BLOCK_ROWS)
    entries = np.empty(n_blocks * (capacity + 1), dtype=values.dtype)
    row_found = np.empty((n_rows, 2), dtype=np.int64)
    block_found = np.empty((n_blocks, 2), dtype=np.int64)
    kernel(
        values,
        values.view(integer),
        values.dtype.type(low),
        values.dtype.type(high),
        integer(np.iinfo(integer).max),
        capacity,
        entries,
        row_found,
        block_found,
    )
    if block_found[:, 0].max(initial=0) > capacity:
        return None
    # The column of counts as a contiguous array: numba would compile
    # _packed again for the strided view it is (but for a single block).
    n_packed = _packed(entries, np.ascontiguousarray(block_found[:, 0]), capacity)
    max_bits = np.array([block_found[:, 1].max(initial=0)], dtype=integer)
    return (
        entries[:n_packed],
        np.repeat(np.arange(n_rows), row_found[:, 1]),
        row_found[:, 0],
        float(max_bits.view(values.dtype)[0]),
    )
