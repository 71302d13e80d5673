"""numba kernels that select the winners of a layer, fused with the
activation: the k largest scores of every row (:class:`TopK`), given each
row's k-th largest score, which :func:`kth_largest` finds by NumPy's
partition, or in one pass that narrows every row to a few candidates first
(:func:`filtered_top_k`, for few winners); or every score above a threshold
(:class:`Threshold`; among each row's candidates when the threshold's
selection found them); and the activation at winners held from an earlier
pass."""

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
def _collect_not_below(row_scores, floor, candidates):
    """The columns whose scores are not below ``floor`` (NaN included), into
    ``candidates`` in column order; returns how many. Collected without a
    branch: a winner every twenty columns or so would mispredict."""
    n_candidates = 0
    for column in range(row_scores.size):
        candidates[n_candidates] = column
        n_candidates += not (row_scores[column] < floor)
    return n_candidates


@njit(cache=True, inline="always")
def _emit_winners(
    row,
    values,
    row_scores,
    kth,
    n_active,
    code,
    candidates,
    n_candidates,
    indices,
    data,
):
    """Row ``row``'s winners among its ``candidates`` (every column not below
    its k-th largest score ``kth``, in column order): those above ``kth``,
    then the leftmost of those tied with it. Most rows have no extra ties,
    and all their candidates win."""
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
def _top_k_row(
    row, values, scores, kth_largest, n_active, code, candidates, indices, data
):
    """Row ``row``'s winners given its k-th largest score."""
    row_scores = scores[row]
    kth = kth_largest[row]
    n_candidates = _collect_not_below(row_scores, kth, candidates)
    _emit_winners(
        row,
        values,
        row_scores,
        kth,
        n_active,
        code,
        candidates,
        n_candidates,
        indices,
        data,
    )


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
def _floor_of_winners(row_scores, n_active, maxima):
    """A score that at least ``n_active`` of the row's scores are not below:
    the least of the maxima of ``n_active`` groups of columns (column ``c``
    in group ``c % n_active``), each maximum one of its group's scores.

    The groups interleave so that the maxima build up over contiguous runs
    of ``n_active`` columns, which the compiler vectorizes. A NaN maximum is
    passed over, and is itself a candidate (NaN is not below anything); a
    NaN first maximum gives a NaN floor, under which every column is a
    candidate.
    """
    width = row_scores.size
    maxima[:n_active] = row_scores[:n_active]
    start = n_active
    while start < width:
        for group in range(min(n_active, width - start)):
            score = row_scores[start + group]
            held = maxima[group]
            maxima[group] = score if score > held else held
        start += n_active
    floor = maxima[0]
    for group in range(1, n_active):
        held = maxima[group]
        floor = held if held < floor else floor
    return floor


@njit(cache=True, inline="always")
def _nth_smallest(numbers, n_numbers, position):
    """The number at ``position`` of ``numbers[:n_numbers]`` sorted (no NaN),
    by quickselect in place."""
    low = 0
    high = n_numbers - 1
    while low < high:
        pivot = numbers[(low + high) // 2]
        left = low
        right = high
        while left <= right:
            while numbers[left] < pivot:
                left += 1
            while numbers[right] > pivot:
                right -= 1
            if left <= right:
                numbers[left], numbers[right] = numbers[right], numbers[left]
                left += 1
                right -= 1
        if position <= right:
            high = right
        elif position >= left:
            low = left
        else:
            break
    return numbers[position]


@njit(cache=True, inline="always")
def _bucket(number, low, scale, last):
    """The bucket of ``number`` in equal buckets from ``low``: the same or a
    higher bucket for a larger number (each operation rounds monotonically)."""
    bucket = int((number - low) * scale)
    return bucket if bucket < last else last


@njit(cache=True, inline="always")
def _rank_largest(numbers, n_numbers, rank, counts):
    """The ``rank``-th largest of ``numbers[:n_numbers]`` (no NaN), which
    it reorders: as many equal buckets as numbers between their least and
    largest, the counts per bucket locate the bucket of the ``rank``-th
    largest, and the search goes on among that bucket's numbers (a few
    passes without a branch to mispredict), down to a quickselect over a
    handful. Infinite or equal numbers go straight to the quickselect."""
    while n_numbers > 8:
        low = numbers[0]
        high = numbers[0]
        for index in range(1, n_numbers):
            number = numbers[index]
            low = number if number < low else low
            high = number if number > high else high
        if not high > low:
            break
        scale = n_numbers / (high - low)
        if not (math.isfinite(scale) and scale > 0):
            break
        last = n_numbers - 1
        counts[:n_numbers] = 0
        for index in range(n_numbers):
            counts[_bucket(numbers[index], low, scale, last)] += 1
        above = 0
        bucket = last
        while above + counts[bucket] < rank:
            above += counts[bucket]
            bucket -= 1
        kept = 0
        for index in range(n_numbers):
            number = numbers[index]
            numbers[kept] = number
            kept += _bucket(number, low, scale, last) == bucket
        if kept == n_numbers:
            break
        n_numbers = kept
        rank -= above
    return _nth_smallest(numbers, n_numbers, n_numbers - rank)


@njit(cache=True, inline="always")
def _kth_of_candidates(row_scores, candidates, n_candidates, n_active, numbers, counts):
    """The row's ``n_active``-th largest score, NaN above every number, from
    its candidates (which hold every score at or above it)."""
    n_nan = 0
    n_numbers = 0
    for candidate in range(n_candidates):
        score = row_scores[candidates[candidate]]
        if math.isnan(score):
            n_nan += 1
        else:
            numbers[n_numbers] = score
            n_numbers += 1
    if n_nan >= n_active:
        return row_scores.dtype.type(np.nan)
    return _rank_largest(numbers, n_numbers, n_active - n_nan, counts)


@njit(cache=True, inline="always")
def _narrow(row_scores, kth, candidates, n_candidates):
    """Keep, in order, the candidates not below ``kth``; returns how many."""
    kept = 0
    for candidate in range(n_candidates):
        column = candidates[candidate]
        candidates[kept] = column
        kept += not (row_scores[column] < kth)
    return kept


def _filtered_top_k(values, scores, n_active, code, indices, data):
    """Every row's ``n_active`` winners, as :func:`top_k_rows` picks them, in
    one pass per row that needs no k-th score from NumPy: the columns not
    below :func:`_floor_of_winners` (about four per winner) are the
    candidates, their k-th largest is found among them
    (:func:`_rank_largest`), and the winners are emitted as
    :func:`top_k_rows` emits them. In blocks of ``TOP_K_BLOCK`` rows (one
    set of buffers each)."""
    n_rows, width = scores.shape
    for block in prange(-(-n_rows // TOP_K_BLOCK)):
        candidates = np.empty(width + 1, dtype=np.int64)
        numbers = np.empty(width, dtype=scores.dtype)
        counts = np.empty(width, dtype=np.int64)
        for row in range(block * TOP_K_BLOCK, min((block + 1) * TOP_K_BLOCK, n_rows)):
            row_scores = scores[row]
            floor = _floor_of_winners(row_scores, n_active, numbers)
            n_candidates = _collect_not_below(row_scores, floor, candidates)
            kth = _kth_of_candidates(
                row_scores, candidates, n_candidates, n_active, numbers, counts
            )
            n_candidates = _narrow(row_scores, kth, candidates, n_candidates)
            _emit_winners(
                row,
                values,
                row_scores,
                kth,
                n_active,
                code,
                candidates,
                n_candidates,
                indices,
                data,
            )


filtered_top_k, filtered_top_k_serial = parallel_and_serial(_filtered_top_k)


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
