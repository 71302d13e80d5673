"""numba kernels that select the winners of a layer, fused with the
activation: the k largest scores of every row (:class:`TopK`, given each
row's k-th largest score, which :func:`kth_largest` finds by NumPy's
partition), or every score above a threshold (:class:`Threshold`; among
each row's candidates when the threshold's selection found them); and the
activation at winners held from an earlier pass."""

import math

import numpy as np
from numba import njit, prange

from ._numba_activations import ActivationCode
from ._numba_threads import in_lane, kernel_threads, run_at_once
from ._numba_twins import parallel_and_serial
from .cost_model import partition_blocks

# Rows per block of the parallel top-k selection (each block allocates one
# candidates buffer).
TOP_K_BLOCK = 32


def _partition_threads():
    """Threads for blocks of NumPy's partition: numba's thread count, one in
    a lane of prediction chunks."""
    return 1 if in_lane() else kernel_threads()


def kth_largest(scores, n_active):
    """Each row's ``n_active``-th largest score (NaN above every number), in
    a C-contiguous array however it is computed: a column of the partitioned
    scores is a strided view, and numba compiles the selection kernels again
    for each layout they meet.

    NumPy's introselect (vectorized where the processor allows) is several
    times faster than a compiled heap or quickselect; it releases the GIL,
    so blocks of rows run on numba's thread count of Python threads (one
    block in a lane of prediction chunks).
    """
    cut = scores.shape[1] - n_active
    n_rows = scores.shape[0]
    n_blocks = partition_blocks(scores.size, _partition_threads)
    if n_blocks < 2:
        return np.ascontiguousarray(np.partition(scores, cut, axis=1)[:, cut])
    kth = np.empty(n_rows, dtype=scores.dtype)
    edges = [n_rows * block // n_blocks for block in range(n_blocks + 1)]

    def partition_block(block):
        rows = slice(edges[block], edges[block + 1])
        kth[rows] = np.partition(scores[rows], cut, axis=1)[:, cut]

    run_at_once(
        [lambda block=block: partition_block(block) for block in range(n_blocks)]
    )
    return kth


@njit(cache=True, inline="always")
def _activate(value, code):
    """The activation function of ``code`` at ``value``."""
    if code == ActivationCode.RELU:
        return value if value > 0 else value * 0
    if code == ActivationCode.TANH:
        return math.tanh(value)
    if code == ActivationCode.LOGISTIC:
        return 1 / (1 + math.exp(-value))
    return value


@njit(cache=True, inline="always")
def _above(value, kth):
    """``value > kth``, with NaN above every number (as np.partition sorts)."""
    if math.isnan(value):
        return not math.isnan(kth)
    return value > kth


@njit(cache=True, inline="always")
def _tied(value, kth):
    if math.isnan(value):
        return math.isnan(kth)
    return value == kth


@njit(cache=True, inline="always")
def _top_k_row(
    row, values, scores, kth_largest, n_active, code, candidates, indices, data
):
    """Row ``row``'s winners: the entries above its k-th largest score, then
    the leftmost of those tied with it.

    The columns at or above the k-th value (NaN included) are collected
    without a branch (a winner every twenty columns or so would mispredict);
    most rows have no extra ties, and all their candidates win.
    """
    row_scores = scores[row]
    kth = kth_largest[row]
    n_candidates = 0
    for column in range(row_scores.size):
        candidates[n_candidates] = column
        n_candidates += not (row_scores[column] < kth)
    position = row * n_active
    if n_candidates == n_active:
        for candidate in range(n_candidates):
            column = candidates[candidate]
            indices[position + candidate] = column
            data[position + candidate] = _activate(values[row, column], code)
        return
    # NaN is above every number (nothing is above a NaN k-th value).
    n_above = 0
    for candidate in range(n_candidates):
        n_above += _above(row_scores[candidates[candidate]], kth)
    ties_left = n_active - n_above
    for candidate in range(n_candidates):
        column = candidates[candidate]
        score = row_scores[column]
        if _above(score, kth):
            pass
        elif ties_left > 0 and _tied(score, kth):
            ties_left -= 1
        else:
            continue
        indices[position] = column
        data[position] = _activate(values[row, column], code)
        position += 1


@njit(cache=True, inline="always")
def _top_k_block(
    first, stop, values, scores, kth_largest, n_active, code, indices, data
):
    """The winners of rows ``first`` to ``stop`` (one candidates buffer)."""
    candidates = np.empty(scores.shape[1] + 1, dtype=np.int64)
    for row in range(first, stop):
        _top_k_row(
            row, values, scores, kth_largest, n_active, code, candidates, indices, data
        )


@njit(parallel=True, cache=True)
def top_k_rows(values, scores, kth_largest, n_active, code, indices, data):
    """Every row's ``n_active`` winners given its k-th largest score, in
    parallel blocks of ``TOP_K_BLOCK`` rows."""
    n_rows = scores.shape[0]
    for block in prange(-(-n_rows // TOP_K_BLOCK)):
        first = block * TOP_K_BLOCK
        stop = min(first + TOP_K_BLOCK, n_rows)
        _top_k_block(
            first, stop, values, scores, kth_largest, n_active, code, indices, data
        )


# The serial twin of top_k_rows is written apart: all rows in one block (one
# candidates buffer) compile to faster code than the loop over blocks run
# serially.
@njit(cache=True, nogil=True)
def top_k_rows_serial(values, scores, kth_largest, n_active, code, indices, data):
    """:func:`top_k_rows` on this thread."""
    _top_k_block(
        0, scores.shape[0], values, scores, kth_largest, n_active, code, indices, data
    )


@njit(cache=True, inline="always")
def _wins(score, threshold, inclusive):
    """Whether ``score`` wins against ``threshold`` (a loop over scores
    tests ``inclusive`` once, outside the loop)."""
    if inclusive:
        return score >= threshold
    return score > threshold


@njit(cache=True, inline="always")
def _count_above_row(row, scores, threshold, inclusive, counts):
    count = 0
    for column in range(scores.shape[1]):
        count += _wins(scores[row, column], threshold, inclusive)
    counts[row] = count


def _count_above(scores, threshold, inclusive, counts):
    """Per row, how many scores win against ``threshold``."""
    for row in prange(scores.shape[0]):
        _count_above_row(row, scores, threshold, inclusive, counts)


count_above, count_above_serial = parallel_and_serial(_count_above)


@njit(cache=True, inline="always")
def _above_row(
    row, values, scores, threshold, inclusive, code, indptr, indices, data, candidates
):
    """Row ``row``'s winners against ``threshold``: their columns collected
    without a branch (as :func:`_top_k_row` does), then activated."""
    n_winners = 0
    for column in range(scores.shape[1]):
        candidates[n_winners] = column
        n_winners += _wins(scores[row, column], threshold, inclusive)
    position = indptr[row]
    for winner in range(n_winners):
        column = candidates[winner]
        indices[position + winner] = column
        data[position + winner] = _activate(values[row, column], code)


def _rows_above(values, scores, threshold, inclusive, code, indptr, indices, data):
    """The winners of every row against ``threshold``, at the positions
    ``indptr`` gives (from the counts of :func:`count_above`), in blocks of
    ``TOP_K_BLOCK`` rows (one candidates buffer each)."""
    n_rows, width = scores.shape
    for block in prange(-(-n_rows // TOP_K_BLOCK)):
        candidates = np.empty(width + 1, dtype=np.int64)
        for row in range(block * TOP_K_BLOCK, min((block + 1) * TOP_K_BLOCK, n_rows)):
            _above_row(
                row,
                values,
                scores,
                threshold,
                inclusive,
                code,
                indptr,
                indices,
                data,
                candidates,
            )


rows_above, rows_above_serial = parallel_and_serial(_rows_above)


@njit(parallel=True, cache=True)
def gather_rows(values, indptr, indices, code, data):
    """The activation of ``values`` at held winners."""
    for row in prange(indptr.size - 1):
        for position in range(indptr[row], indptr[row + 1]):
            data[position] = _activate(values[row, indices[position]], code)


def _count_candidates_above(
    scores, threshold, inclusive, candidate_indptr, candidate_columns, counts
):
    """Per row, how many of its candidates' scores win against
    ``threshold``."""
    for row in prange(scores.shape[0]):
        count = 0
        for candidate in range(candidate_indptr[row], candidate_indptr[row + 1]):
            count += _wins(
                scores[row, candidate_columns[candidate]], threshold, inclusive
            )
        counts[row] = count


count_candidates_above, count_candidates_above_serial = parallel_and_serial(
    _count_candidates_above
)


def _candidates_above(
    values,
    scores,
    threshold,
    inclusive,
    code,
    candidate_indptr,
    candidate_columns,
    indptr,
    indices,
    data,
):
    """The winners of every row against ``threshold`` among its candidates,
    at the positions ``indptr`` gives (from the counts of
    :func:`count_candidates_above`)."""
    for row in prange(scores.shape[0]):
        position = indptr[row]
        for candidate in range(candidate_indptr[row], candidate_indptr[row + 1]):
            column = candidate_columns[candidate]
            if _wins(scores[row, column], threshold, inclusive):
                indices[position] = column
                data[position] = _activate(values[row, column], code)
                position += 1


candidates_above, candidates_above_serial = parallel_and_serial(_candidates_above)
