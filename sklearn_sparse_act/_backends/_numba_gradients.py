"""numba kernels of the penalised weight gradient
``(inputs.T @ delta + alpha * weights) / weight_sum`` when the inputs, the
delta or both are stored at winners, and the penalty added to a gradient
from BLAS."""

import numpy as np
from numba import njit, prange

# Units per block of the dense x winners gradient: a block's columns of the
# gradient share cache lines, so one thread writes them all.
UNIT_BLOCK = 8


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


@njit(cache=True, inline="always")
def add_winner_products(
    sums,
    first,
    last,
    unit_positions,
    data,
    unit_rows,
    delta_indptr,
    delta_indices,
    delta_data,
):
    """Add to ``sums`` (an input unit's row of the gradient) the products of
    the unit's winning values, entries ``first`` to ``last`` of its lists by
    unit, with the deltas at the winners of their rows (shared with the
    gradient at the present weights)."""
    for entry in range(first, last):
        value = data[unit_positions[entry]]
        if value != 0:
            row = unit_rows[entry]
            for position in range(delta_indptr[row], delta_indptr[row + 1]):
                sums[delta_indices[position]] += value * delta_data[position]


@njit(parallel=True, cache=True)
def gradient_sparse_dense(
    unit_ptr, unit_rows, unit_positions, data, delta, weights, alpha, weight_sum, grad
):
    """Weight gradient from inputs at winners (by unit) and a dense delta."""
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
def gradient_sparse_sparse(
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
        add_winner_products(
            grad_row,
            unit_ptr[unit],
            unit_ptr[unit + 1],
            unit_positions,
            data,
            unit_rows,
            delta_indptr,
            delta_indices,
            delta_data,
        )
        _add_penalty(grad_row, weights[unit], alpha, weight_sum)


@njit(cache=True, inline="always")
def _add_scaled(out, scale, values):
    for index in range(out.size):
        out[index] += scale * values[index]


@njit(parallel=True, cache=True)
def gradient_dense_sparse(
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
    n_blocks = (fan_out + UNIT_BLOCK - 1) // UNIT_BLOCK
    for chunk in prange(n_chunks):
        columns = np.empty((UNIT_BLOCK, fan_in), dtype=grad.dtype)
        for block in range(
            chunk * n_blocks // n_chunks, (chunk + 1) * n_blocks // n_chunks
        ):
            first = block * UNIT_BLOCK
            units = min(fan_out, first + UNIT_BLOCK) - first
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
def finish_gradient(grad, weights, alpha, weight_sum):
    """``(grad + alpha * weights) / weight_sum`` in place, for a product from
    BLAS."""
    for unit in prange(grad.shape[0]):
        _add_penalty(grad[unit], weights[unit], alpha, weight_sum)
