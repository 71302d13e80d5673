"""The numba kernel backend (the ``fast`` extra): compiled, multithreaded
kernels over the winners, computing what :mod:`.numpy_kernels` computes.

Each kernel is a free ``@njit`` function over arrays; the functions with the
backend's interface around them only allocate outputs and pick a kernel.
Dense products stay on BLAS. Compiled code is cached on disk (``cache=True``):
beside this file, or in numba's per-user cache directory when the package
directory is read-only (``NUMBA_CACHE_DIR`` overrides both).

Threads: :mod:`._numba_threads` assigns the cores to the kernels or to BLAS.
"""

import functools
import math

import numpy as np
from numba import njit, prange
from sklearn.utils.extmath import safe_sparse_dot

from . import numpy_kernels
from ._numba_threads import (
    in_lane,
    kernel_threads,
    map_row_chunks,  # noqa: F401 (the backend interface)
    run_at_once,
    start_thread_pool,
    threads,  # noqa: F401 (the backend interface)
)
from .cost_model import numba_sparse_path, partition_blocks, runs_in_parallel
from .interface import SparseRows

name = "numba"

_ACTIVATION_CODES = {"identity": 0, "logistic": 1, "tanh": 2, "relu": 3}

# Which hidden layers run on the sparse path: the cost model's decision.
use_sparse_path = numba_sparse_path


# ----------------------------------------------------------------------
# Scalar helpers (inlined into the kernels)
# ----------------------------------------------------------------------
@njit(cache=True, inline="always")
def _activate(value, code):
    if code == 3:
        return value if value > 0 else value * 0
    if code == 2:
        return math.tanh(value)
    if code == 1:
        return 1 / (1 + math.exp(-value))
    return value


@njit(cache=True, inline="always")
def _derivative(activated, code):
    if code == 3:
        return 0 if activated == 0 else 1
    if code == 2:
        return 1 - activated**2
    if code == 1:
        return activated * (1 - activated)
    return 1


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


# ----------------------------------------------------------------------
# Selection fused with the activation
# ----------------------------------------------------------------------
# Rows per block of the parallel top-k selection (each block allocates one
# candidates buffer).
_TOP_K_BLOCK = 32


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
def _top_k_rows(values, scores, kth_largest, n_active, code, indices, data):
    n_rows = scores.shape[0]
    for block in prange(-(-n_rows // _TOP_K_BLOCK)):
        first = block * _TOP_K_BLOCK
        stop = min(first + _TOP_K_BLOCK, n_rows)
        _top_k_block(
            first, stop, values, scores, kth_largest, n_active, code, indices, data
        )


@njit(cache=True, nogil=True)
def _top_k_rows_serial(values, scores, kth_largest, n_active, code, indices, data):
    n_rows = scores.shape[0]
    _top_k_block(0, n_rows, values, scores, kth_largest, n_active, code, indices, data)


@njit(cache=True, inline="always")
def _wins(score, threshold, inclusive):
    return score > threshold or (inclusive and score == threshold)


@njit(cache=True, inline="always")
def _count_above_row(row, scores, threshold, inclusive, counts):
    count = 0
    for column in range(scores.shape[1]):
        if _wins(scores[row, column], threshold, inclusive):
            count += 1
    counts[row] = count


@njit(parallel=True, cache=True)
def _count_above(scores, threshold, inclusive, counts):
    for row in prange(scores.shape[0]):
        _count_above_row(row, scores, threshold, inclusive, counts)


@njit(cache=True, nogil=True)
def _count_above_serial(scores, threshold, inclusive, counts):
    for row in range(scores.shape[0]):
        _count_above_row(row, scores, threshold, inclusive, counts)


@njit(cache=True, inline="always")
def _above_row(row, values, scores, threshold, inclusive, code, indptr, indices, data):
    position = indptr[row]
    for column in range(scores.shape[1]):
        if _wins(scores[row, column], threshold, inclusive):
            indices[position] = column
            data[position] = _activate(values[row, column], code)
            position += 1


@njit(parallel=True, cache=True)
def _rows_above(values, scores, threshold, inclusive, code, indptr, indices, data):
    for row in prange(scores.shape[0]):
        _above_row(
            row, values, scores, threshold, inclusive, code, indptr, indices, data
        )


@njit(cache=True, nogil=True)
def _rows_above_serial(
    values, scores, threshold, inclusive, code, indptr, indices, data
):
    for row in range(scores.shape[0]):
        _above_row(
            row, values, scores, threshold, inclusive, code, indptr, indices, data
        )


@njit(parallel=True, cache=True)
def _gather_rows(values, indptr, indices, code, data):
    for row in prange(indptr.size - 1):
        for position in range(indptr[row], indptr[row + 1]):
            data[position] = _activate(values[row, indices[position]], code)


# ----------------------------------------------------------------------
# Products over the winners
# ----------------------------------------------------------------------
@njit(cache=True, inline="always")
def _sparse_forward_row(row, indptr, indices, data, weights, bias, out):
    """Row ``row`` of ``inputs @ weights + bias``: the bias plus each winner's
    weight row times its value, four winners per pass over the output row
    (1.3 to 1.5 times faster than one: the output row is read and written a
    quarter as often)."""
    output = out[row]
    fan_out = output.size
    for unit in range(fan_out):
        output[unit] = bias[unit]
    position = indptr[row]
    stop = indptr[row + 1]
    while position + 4 <= stop:
        value_0, value_1 = data[position], data[position + 1]
        value_2, value_3 = data[position + 2], data[position + 3]
        row_0, row_1 = weights[indices[position]], weights[indices[position + 1]]
        row_2 = weights[indices[position + 2]]
        row_3 = weights[indices[position + 3]]
        for unit in range(fan_out):
            output[unit] += (value_0 * row_0[unit] + value_1 * row_1[unit]) + (
                value_2 * row_2[unit] + value_3 * row_3[unit]
            )
        position += 4
    for remaining in range(position, stop):
        value = data[remaining]
        weight_row = weights[indices[remaining]]
        for unit in range(fan_out):
            output[unit] += value * weight_row[unit]


@njit(parallel=True, cache=True)
def _sparse_forward(indptr, indices, data, weights, bias, out):
    for row in prange(out.shape[0]):
        _sparse_forward_row(row, indptr, indices, data, weights, bias, out)


@njit(cache=True, nogil=True)
def _sparse_forward_serial(indptr, indices, data, weights, bias, out):
    for row in range(out.shape[0]):
        _sparse_forward_row(row, indptr, indices, data, weights, bias, out)


@njit(parallel=True, cache=True)
def _sparse_backward_product(indptr, indices, data, weights, out):
    """Rows of ``delta @ weights.T`` for a delta stored at winners."""
    n_rows, fan_in = out.shape
    for row in prange(n_rows):
        output = out[row]
        for unit in range(fan_in):
            output[unit] = 0
        for position in range(indptr[row], indptr[row + 1]):
            value = data[position]
            column = indices[position]
            for unit in range(fan_in):
                output[unit] += value * weights[unit, column]


@njit(parallel=True, cache=True)
def _delta_from_dense(upstream, weights, indptr, indices, activated, code, delta):
    fan_out = upstream.shape[1]
    for row in prange(indptr.size - 1):
        upstream_row = upstream[row]
        for position in range(indptr[row], indptr[row + 1]):
            weight_row = weights[indices[position]]
            total = upstream_row[0] * weight_row[0]
            for unit in range(1, fan_out):
                total += upstream_row[unit] * weight_row[unit]
            delta[position] = total * _derivative(activated[position], code)


@njit(parallel=True, cache=True)
def _delta_from_sparse(
    unit_ptr,
    unit_rows,
    unit_positions,
    up_indptr,
    up_indices,
    up_data,
    weights,
    activated,
    code,
    delta,
):
    """Unit by unit: the weight row of a winner is read once for every row
    it won in (a row at a time, each would come from memory again)."""
    for unit in prange(weights.shape[0]):
        weight_row = weights[unit]
        for entry in range(unit_ptr[unit], unit_ptr[unit + 1]):
            row = unit_rows[entry]
            position = unit_positions[entry]
            total = 0.0
            for upstream in range(up_indptr[row], up_indptr[row + 1]):
                total += up_data[upstream] * weight_row[up_indices[upstream]]
            delta[position] = total * _derivative(activated[position], code)


@njit(cache=True)
def _by_unit(indptr, indices, width):
    """The transpose of a winners structure: per unit, the rows it won and
    the positions of those entries, rows in ascending order."""
    unit_ptr = np.zeros(width + 1, dtype=np.int64)
    for position in range(indices.size):
        unit_ptr[indices[position] + 1] += 1
    for unit in range(width):
        unit_ptr[unit + 1] += unit_ptr[unit]
    fill = unit_ptr[:-1].copy()
    unit_rows = np.empty(indices.size, dtype=np.int64)
    unit_positions = np.empty(indices.size, dtype=np.int64)
    for row in range(indptr.size - 1):
        for position in range(indptr[row], indptr[row + 1]):
            unit = indices[position]
            unit_rows[fill[unit]] = row
            unit_positions[fill[unit]] = position
            fill[unit] += 1
    return unit_ptr, unit_rows, unit_positions


@njit(cache=True, inline="always")
def _penalised(grad, weight, alpha, weight_sum):
    """One entry of ``(grad + alpha * weights) / weight_sum``."""
    return (grad + alpha * weight) / weight_sum


@njit(cache=True, inline="always")
def _add_penalty(grad_row, weight_row, alpha, weight_sum):
    """One row of ``(grad + alpha * weights) / weight_sum``, in place."""
    for column in range(grad_row.size):
        grad_row[column] = _penalised(
            grad_row[column], weight_row[column], alpha, weight_sum
        )


@njit(parallel=True, cache=True)
def _gradient_sparse_dense(
    unit_ptr, unit_rows, unit_positions, data, delta, weights, alpha, weight_sum, grad
):
    fan_out = grad.shape[1]
    for unit in prange(grad.shape[0]):
        grad_row = grad[unit]
        grad_row[:] = 0
        for entry in range(unit_ptr[unit], unit_ptr[unit + 1]):
            value = data[unit_positions[entry]]
            if value != 0:
                delta_row = delta[unit_rows[entry]]
                for column in range(fan_out):
                    grad_row[column] += value * delta_row[column]
        _add_penalty(grad_row, weights[unit], alpha, weight_sum)


@njit(parallel=True, cache=True)
def _gradient_sparse_sparse(
    unit_ptr,
    unit_rows,
    unit_positions,
    data,
    delta_indptr,
    delta_indices,
    delta_data,
    weights,
    alpha,
    weight_sum,
    grad,
):
    """Weight gradient as a sum of winners x winners outer products."""
    for unit in prange(grad.shape[0]):
        grad_row = grad[unit]
        grad_row[:] = 0
        for entry in range(unit_ptr[unit], unit_ptr[unit + 1]):
            value = data[unit_positions[entry]]
            if value != 0:
                row = unit_rows[entry]
                for position in range(delta_indptr[row], delta_indptr[row + 1]):
                    grad_row[delta_indices[position]] += value * delta_data[position]
        _add_penalty(grad_row, weights[unit], alpha, weight_sum)


# Units per block of the dense x winners gradient: a block's columns of the
# gradient share cache lines, so one thread writes them all.
_UNIT_BLOCK = 8


@njit(cache=True, inline="always")
def _add_scaled(out, scale, values):
    for index in range(out.size):
        out[index] += scale * values[index]


@njit(parallel=True, cache=True)
def _gradient_dense_sparse(
    inputs,
    unit_ptr,
    unit_rows,
    unit_positions,
    delta,
    weights,
    alpha,
    weight_sum,
    grad,
    n_chunks,
):
    """Weight gradient from dense inputs and a delta at winners: each unit's
    column sums the input rows where it won, scaled by its delta there
    (``n_chunks`` runs of unit blocks in parallel)."""
    fan_in, fan_out = grad.shape
    n_blocks = (fan_out + _UNIT_BLOCK - 1) // _UNIT_BLOCK
    for chunk in prange(n_chunks):
        columns = np.empty((_UNIT_BLOCK, fan_in), dtype=grad.dtype)
        for block in range(
            chunk * n_blocks // n_chunks, (chunk + 1) * n_blocks // n_chunks
        ):
            first = block * _UNIT_BLOCK
            units = min(fan_out, first + _UNIT_BLOCK) - first
            columns[:] = 0
            for offset in range(units):
                unit = first + offset
                for entry in range(unit_ptr[unit], unit_ptr[unit + 1]):
                    _add_scaled(
                        columns[offset],
                        delta[unit_positions[entry]],
                        inputs[unit_rows[entry]],
                    )
            for feature in range(fan_in):
                for offset in range(units):
                    grad[feature, first + offset] = _penalised(
                        columns[offset, feature],
                        weights[feature, first + offset],
                        alpha,
                        weight_sum,
                    )


@njit(parallel=True, cache=True)
def _finish_gradient(grad, weights, alpha, weight_sum):
    for unit in prange(grad.shape[0]):
        _add_penalty(grad[unit], weights[unit], alpha, weight_sum)


@njit(parallel=True, cache=True)
def _scatter_rows(indptr, indices, data, out):
    for row in prange(indptr.size - 1):
        for position in range(indptr[row], indptr[row + 1]):
            out[row, indices[position]] = data[position]


# Entries per block of the sum of squares. The blocks, not the threads,
# split the sum: each block is summed on its own and the block sums are added
# in block order, so the total has the same bits on any number of threads.
_SUM_BLOCK = 4096


# Reassociation lets a block's sum vectorize (in an order the compiled code
# fixes); NaN and infinities still propagate.
@njit(cache=True, fastmath={"reassoc"})
def _block_sum_of_squares(block):
    total = 0.0
    for index in range(block.size):
        total += block[index] * block[index]
    return total


@njit(parallel=True, cache=True)
def _sum_of_squares(values):
    n_blocks = -(-values.size // _SUM_BLOCK)
    block_sums = np.empty(n_blocks)
    for block in prange(n_blocks):
        first = block * _SUM_BLOCK
        block_sums[block] = _block_sum_of_squares(values[first : first + _SUM_BLOCK])
    total = 0.0
    for block in range(n_blocks):
        total += block_sums[block]
    return total


# ----------------------------------------------------------------------
# Optimizer steps over flat views of the parameters
# ----------------------------------------------------------------------
@njit(parallel=True, cache=True)
def _adam_step(param, grad, first, second, learning_rate, beta_1, beta_2, epsilon):
    one = param.dtype.type(1)
    for index in prange(param.size):
        gradient = grad[index]
        moment = first[index] * beta_1 + gradient * (one - beta_1)
        square = second[index] * beta_2 + gradient * gradient * (one - beta_2)
        first[index] = moment
        second[index] = square
        param[index] -= moment / (np.sqrt(square) + epsilon) * learning_rate


@njit(parallel=True, cache=True)
def _sgd_step(param, grad, velocity, learning_rate, momentum, nesterov):
    for index in prange(param.size):
        gradient = grad[index]
        moved = velocity[index] * momentum - learning_rate * gradient
        velocity[index] = moved
        if nesterov:
            param[index] += momentum * moved - learning_rate * gradient
        else:
            param[index] += moved


# ----------------------------------------------------------------------
# The backend interface
# ----------------------------------------------------------------------
def _starts_the_threads(function):
    """``function`` (a function of the backend interface that always runs
    parallel kernels) starting numba's threads first, if nothing has yet:
    importing the backend starts no threads."""

    @functools.wraps(function)
    def started_first(*args, **kwargs):
        start_thread_pool()
        return function(*args, **kwargs)

    return started_first


def _parallel(n_rows):
    """Whether work on ``n_rows`` rows runs the parallel kernels (numba's
    threads are then started, if nothing has yet): on fewer rows (see
    :func:`.cost_model.runs_in_parallel`), and in a lane of prediction
    chunks, the serial kernels run, which launch no threads."""
    if runs_in_parallel(n_rows) and not in_lane():
        start_thread_pool()
        return True
    return False


def _partition_threads():
    """Threads for blocks of NumPy's partition: numba's thread count, one in
    a lane of prediction chunks."""
    return 1 if in_lane() else kernel_threads()


def _contiguous(values):
    return values if values.flags.c_contiguous else np.ascontiguousarray(values)


def _kth_largest(scores, n_active):
    """Each row's ``n_active``-th largest score (NaN above every number).

    NumPy's introselect (vectorized where the processor allows) is several
    times faster than a compiled heap or quickselect; it releases the GIL,
    so blocks of rows run on numba's thread count of Python threads (one
    block in a lane of prediction chunks).
    """
    cut = scores.shape[1] - n_active
    n_rows = scores.shape[0]
    n_blocks = partition_blocks(scores.size, _partition_threads)
    if n_blocks < 2:
        return np.partition(scores, cut, axis=1)[:, cut]
    kth_largest = np.empty(n_rows, dtype=scores.dtype)
    edges = [n_rows * block // n_blocks for block in range(n_blocks + 1)]

    def partition_block(block):
        rows = slice(edges[block], edges[block + 1])
        kth_largest[rows] = np.partition(scores[rows], cut, axis=1)[:, cut]

    run_at_once(
        [lambda block=block: partition_block(block) for block in range(n_blocks)]
    )
    return kth_largest


def select(values, rule, activation, scores=None):
    """The winners of ``rule`` with their activated values, in one pass."""
    values = _contiguous(values)
    scores = values if scores is None else _contiguous(scores)
    code = _ACTIVATION_CODES[activation]
    n_rows, width = values.shape
    if hasattr(rule, "n_active"):
        size = n_rows * rule.n_active
        indptr = np.arange(0, size + 1, rule.n_active, dtype=np.int64)
        indices = np.empty(size, dtype=np.int64)
        data = np.empty(size, dtype=values.dtype)
        kth_largest = _kth_largest(scores, rule.n_active)
        top_k = _top_k_rows if _parallel(n_rows) else _top_k_rows_serial
        top_k(values, scores, kth_largest, rule.n_active, code, indices, data)
    else:
        threshold = scores.dtype.type(rule.value)
        counts = np.empty(n_rows, dtype=np.int64)
        parallel = _parallel(n_rows)
        count = _count_above if parallel else _count_above_serial
        count(scores, threshold, rule.inclusive, counts)
        indptr = np.zeros(n_rows + 1, dtype=np.int64)
        np.cumsum(counts, out=indptr[1:])
        indices = np.empty(indptr[-1], dtype=np.int64)
        data = np.empty(indptr[-1], dtype=values.dtype)
        fill = _rows_above if parallel else _rows_above_serial
        fill(values, scores, threshold, rule.inclusive, code, indptr, indices, data)
    return SparseRows(indptr, indices, data, width)


@_starts_the_threads
def gather(values, winners, activation):
    """``activation(values)`` at held winners."""
    data = np.empty(winners.indices.size, dtype=values.dtype)
    _gather_rows(
        _contiguous(values),
        winners.indptr,
        winners.indices,
        _ACTIVATION_CODES[activation],
        data,
    )
    return winners.with_values(data)


def forward(inputs, weights, bias):
    """``inputs @ weights + bias``: compiled over winners, BLAS otherwise."""
    if isinstance(inputs, SparseRows):
        dtype = np.result_type(inputs.dtype, weights.dtype)
        out = np.empty((inputs.shape[0], weights.shape[1]), dtype=dtype)
        product = _sparse_forward if _parallel(out.shape[0]) else _sparse_forward_serial
        product(
            inputs.indptr,
            inputs.indices,
            inputs.values,
            _contiguous(weights),
            bias,
            out,
        )
        return out
    values = (
        inputs @ weights
        if isinstance(inputs, np.ndarray)
        else safe_sparse_dot(inputs, weights)
    )
    values += bias
    return values


@_starts_the_threads
def backward_product(delta, weights):
    """``delta @ weights.T``, dense."""
    if isinstance(delta, SparseRows):
        dtype = np.result_type(delta.dtype, weights.dtype)
        out = np.empty((delta.shape[0], weights.shape[0]), dtype=dtype)
        _sparse_backward_product(
            delta.indptr, delta.indices, delta.values, _contiguous(weights), out
        )
        return out
    return safe_sparse_dot(delta, weights.T)


@_starts_the_threads
def delta_at_winners(upstream, weights, winners, activation):
    """``(upstream @ weights.T) * activation'`` at the winners only."""
    code = _ACTIVATION_CODES[activation]
    weights = _contiguous(weights)
    delta = np.empty(
        winners.indices.size,
        dtype=np.result_type(winners.dtype, upstream.dtype, weights.dtype),
    )
    if isinstance(upstream, SparseRows):
        _delta_from_sparse(
            *_units_of(winners),
            upstream.indptr,
            upstream.indices,
            upstream.values,
            weights,
            winners.values,
            code,
            delta,
        )
    else:
        _delta_from_dense(
            _contiguous(upstream),
            weights,
            winners.indptr,
            winners.indices,
            winners.values,
            code,
            delta,
        )
    return winners.with_values(delta)


@_starts_the_threads
def weight_gradient(inputs, delta, weights, alpha, weight_sum):
    """``(inputs.T @ delta + alpha * weights) / weight_sum``, dense and
    C-ordered: accumulated unit by unit over the winners when ``inputs`` are
    winners, through one BLAS product otherwise."""
    weights = _contiguous(weights)
    alpha = weights.dtype.type(alpha)
    weight_sum = weights.dtype.type(weight_sum)
    if isinstance(inputs, SparseRows):
        grad = np.empty(
            weights.shape, np.result_type(inputs.dtype, delta.dtype, weights.dtype)
        )
        by_unit = _units_of(inputs)
        if isinstance(delta, SparseRows):
            _gradient_sparse_sparse(
                *by_unit,
                inputs.values,
                delta.indptr,
                delta.indices,
                delta.values,
                weights,
                alpha,
                weight_sum,
                grad,
            )
        else:
            _gradient_sparse_dense(
                *by_unit,
                inputs.values,
                _contiguous(delta),
                weights,
                alpha,
                weight_sum,
                grad,
            )
        return grad
    if isinstance(delta, SparseRows):
        if isinstance(inputs, np.ndarray):
            # One multiply-add per input feature and winner, not per unit.
            grad = np.empty(
                weights.shape, np.result_type(inputs.dtype, delta.dtype, weights.dtype)
            )
            _gradient_dense_sparse(
                _contiguous(inputs),
                *_units_of(delta),
                delta.values,
                weights,
                alpha,
                weight_sum,
                grad,
                min(delta.width, 4 * kernel_threads()),
            )
            return grad
        dense_delta = np.zeros(delta.shape, dtype=delta.dtype)
        _scatter_rows(delta.indptr, delta.indices, delta.values, dense_delta)
        delta = dense_delta
    grad = np.ascontiguousarray(safe_sparse_dot(inputs.T, delta))
    _finish_gradient(grad, weights, alpha, weight_sum)
    return grad


# The column sums of a delta are one bincount or one reduction: NumPy's.
bias_gradient = numpy_kernels.bias_gradient


@_starts_the_threads
def squared_norm(arrays):
    """The sum of the squares of every entry of every array, in parallel
    (the same bits on any number of threads)."""
    total = 0.0
    for array in arrays:
        views = _flat_views(array)
        if views is None:
            total += numpy_kernels.squared_norm([array])
        else:
            total += _sum_of_squares(views[0])
    return total


def _units_of(winners):
    """:func:`_by_unit` of a winners structure, computed once for it and the
    copies carrying other values (a layer's outputs and its delta share it:
    three uses per training step)."""
    units = winners.derived.get("numba_units")
    if units is None:
        units = winners.derived["numba_units"] = _by_unit(
            winners.indptr, winners.indices, winners.width
        )
    return units


def _flat_views(*arrays):
    """1d views of the arrays, or None if one is not C-contiguous (its
    reshape would be a copy, and an update of it would be lost)."""
    if not all(array.flags.c_contiguous for array in arrays):
        return None
    return [array.reshape(-1) for array in arrays]


@_starts_the_threads
def adam_update(
    params, grads, firsts, seconds, learning_rate, betas, epsilon, workspace
):
    """One fused Adam step per parameter array, in place (arrays that are not
    C-contiguous take the NumPy step)."""
    for param, grad, first, second in zip(params, grads, firsts, seconds, strict=True):
        views = _flat_views(param, _contiguous(grad), first, second)
        if views is None:
            numpy_kernels.adam_update(
                [param], [grad], [first], [second], learning_rate, betas, epsilon, {}
            )
            continue
        scalar = param.dtype.type
        _adam_step(
            *views,
            scalar(learning_rate),
            scalar(betas[0]),
            scalar(betas[1]),
            scalar(epsilon),
        )


@_starts_the_threads
def sgd_update(params, grads, velocities, learning_rate, momentum, nesterov):
    """One fused momentum SGD step per parameter array, in place (arrays
    that are not C-contiguous take the NumPy step)."""
    for param, grad, velocity in zip(params, grads, velocities, strict=True):
        views = _flat_views(param, _contiguous(grad), velocity)
        if views is None:
            numpy_kernels.sgd_update(
                [param], [grad], [velocity], learning_rate, momentum, nesterov
            )
            continue
        scalar = param.dtype.type
        _sgd_step(*views, scalar(learning_rate), scalar(momentum), bool(nesterov))
