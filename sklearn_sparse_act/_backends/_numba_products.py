"""numba kernels of the products over winners: the forward product of a
layer's winners, the backward product of a delta at winners, the delta at a
layer's winners, and the structures they read (winners by unit, a dense
copy)."""

import numpy as np
from numba import njit, prange

from ._numba_activations import ActivationCode
from ._numba_twins import parallel_and_serial


@njit(cache=True, inline="always")
def _derivative(activated, code):
    """The derivative of the activation function of ``code``, from its
    output ``activated``."""
    if code == ActivationCode.RELU:
        return 0 if activated == 0 else 1
    if code == ActivationCode.TANH:
        return 1 - activated**2
    if code == ActivationCode.LOGISTIC:
        return activated * (1 - activated)
    return 1


@njit(cache=True, inline="always")
def _sparse_forward_row(row, indptr, indices, data, weights, bias, out):
    """Row ``row`` of ``inputs @ weights + bias``: the bias plus each winner's
    weight row times its value, four winners per pass over the output row
    (the output row is read and written a quarter as often as with one)."""
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


def _sparse_forward(indptr, indices, data, weights, bias, out):
    """``inputs @ weights + bias`` for inputs stored at winners."""
    for row in prange(out.shape[0]):
        _sparse_forward_row(row, indptr, indices, data, weights, bias, out)


sparse_forward, sparse_forward_serial = parallel_and_serial(_sparse_forward)


@njit(parallel=True, cache=True)
def sparse_backward_product(indptr, indices, data, weights, out):
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


def _delta_from_dense(upstream, weights, indptr, indices, activated, code, delta):
    """The delta at a layer's winners from the dense delta of the layer
    above."""
    fan_out = upstream.shape[1]
    for row in prange(indptr.size - 1):
        upstream_row = upstream[row]
        for position in range(indptr[row], indptr[row + 1]):
            weight_row = weights[indices[position]]
            total = upstream_row[0] * weight_row[0]
            for unit in range(1, fan_out):
                total += upstream_row[unit] * weight_row[unit]
            delta[position] = total * _derivative(activated[position], code)


delta_from_dense, delta_from_dense_serial = parallel_and_serial(_delta_from_dense)


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
    """The delta at a layer's winners from the delta at the winners of the
    layer above, unit by unit: the weight row of a winner is read once for
    every row it won in (a row at a time, each would come from memory
    again)."""
    for unit in prange(weights.shape[0]):
        weight_row = weights[unit]
        for entry in range(unit_ptr[unit], unit_ptr[unit + 1]):
            row = unit_rows[entry]
            position = unit_positions[entry]
            total = 0.0
            for upstream in range(up_indptr[row], up_indptr[row + 1]):
                total += up_data[upstream] * weight_row[up_indices[upstream]]
            delta[position] = total * _derivative(activated[position], code)


delta_from_sparse, delta_from_sparse_serial = parallel_and_serial(_delta_from_sparse)


@njit(cache=True)
def by_unit(indptr, indices, width):
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


@njit(parallel=True, cache=True)
def scatter_rows(indptr, indices, data, out):
    """Values stored at winners written into a dense array of zeros."""
    for row in prange(indptr.size - 1):
        for position in range(indptr[row], indptr[row + 1]):
            out[row, indices[position]] = data[position]
