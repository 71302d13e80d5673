"""The NumPy/SciPy kernel backend: the reference, always available.

Sparse-path layers go through SciPy's CSR products; everything else is BLAS.
SciPy's CSR products run on one core at about a twentieth of the speed of
2-thread OpenBLAS, so the sparse path pays off only at low ratios
(:func:`use_sparse_path`). The cost model uses shapes alone and never times
anything, so a fit is bitwise reproducible.
"""

from contextlib import nullcontext

import numpy as np
import scipy.sparse as sp
from sklearn.utils.extmath import safe_sparse_dot

from .._activations import ACTIVATIONS, DERIVATIVES
from .interface import SparseRows, row_chunks

name = "numpy"

# Largest fraction of winners at which the sparse path is cheaper, by layer
# width (first matching row). Measured on 2 cores with OpenBLAS by
# ``python benchmarks/bench_kernels.py --kernels numpy``: at width 1024 (two
# layers) the sparse path took 0.83x / 0.90x / 1.30x of the dense epoch at
# ratios 0.01 / 0.02 / 0.05; at width 256 it never won by more than noise.
_SPARSE_CROSSOVER = ((512, 0.0), (np.inf, 0.03))

# Below this fan-out the next layer's dense product is too cheap for the
# sparse path's bookkeeping to pay (a (4096,) network's 10 outputs, say).
_MIN_SPARSE_FAN_OUT = 64

# A dense product over a few rows reads the whole weight matrix once; the
# row-by-row product over gathered winners reads each row's winners' weight
# rows. Up to _FEW_ROWS rows, the sparse path is taken while the rows'
# winners together are at most _FEW_ROWS_CROSSOVER of the layer's width.
# predict_proba of a (1024, 1024) network on both paths, interleaved on 2
# cores: break-even at about 0.8 of the width (8 rows of 102 winners, 16 rows
# of 51); one row takes 0.82 of the dense time at ratio 0.1, 0.63 at 0.05.
_FEW_ROWS = 16
_FEW_ROWS_CROSSOVER = 0.5

# Row chunks of the backward gather are about this many bytes.
_GATHER_CHUNK_BYTES = 4 * 2**20


def use_sparse_path(n_active, width, fan_out, n_rows):
    """Whether a hidden layer with ``n_active`` winners of ``width`` units,
    feeding a layer of ``fan_out`` units, should run on the sparse path for
    batches of ``n_rows`` rows.

    Examples
    --------
    >>> from sklearn_sparse_act._backends import numpy_kernels
    >>> numpy_kernels.use_sparse_path(20, 1024, 1024, n_rows=200)
    True
    >>> numpy_kernels.use_sparse_path(51, 1024, 1024, n_rows=200)  # ratio 0.05
    False
    >>> numpy_kernels.use_sparse_path(51, 1024, 1024, n_rows=1)  # one row
    True
    >>> numpy_kernels.use_sparse_path(102, 1024, 1024, n_rows=16)
    False
    >>> numpy_kernels.use_sparse_path(20, 1024, 10, n_rows=200)  # few outputs
    False
    """
    if n_active >= width or fan_out < _MIN_SPARSE_FAN_OUT:
        return False
    if n_rows <= _FEW_ROWS:
        return n_rows * n_active <= _FEW_ROWS_CROSSOVER * width
    for max_width, crossover in _SPARSE_CROSSOVER:
        if width <= max_width:
            return n_active / width <= crossover
    return False


def _from_mask(values, mask, activation):
    rows, columns = np.nonzero(mask)
    indptr = np.zeros(mask.shape[0] + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=mask.shape[0]), out=indptr[1:])
    data = values[rows, columns]
    ACTIVATIONS[activation](data)
    return SparseRows(indptr, columns, data, mask.shape[1])


def select(values, rule, activation, scores=None):
    """The winners of ``rule`` with their activated values."""
    return _from_mask(
        values, rule.mask(values if scores is None else scores), activation
    )


def gather(values, winners, activation):
    """``activation(values)`` at held winners."""
    data = values[winners.rows(), winners.indices]
    ACTIVATIONS[activation](data)
    return winners.with_values(data)


def _as_scipy(operand):
    return operand.to_csr() if isinstance(operand, SparseRows) else operand


def forward(inputs, weights, bias):
    """``inputs @ weights + bias``, dense.

    Over the winners of a few rows, each row's product reads only its
    winners' weight rows, gathered for one BLAS product: SciPy's CSR product
    runs one multiply-add at a time (one row of 102 winners of a 1024 x 1024
    matrix: 0.07 ms against 0.10 ms).
    """
    if isinstance(inputs, SparseRows) and inputs.shape[0] <= _FEW_ROWS:
        values = _gathered_rows_product(inputs, weights)
    else:
        values = safe_sparse_dot(_as_scipy(inputs), weights)
    values += bias
    return values


def _gathered_rows_product(inputs, weights):
    """``inputs @ weights`` row by row over each row's winners."""
    dtype = np.result_type(inputs.dtype, weights.dtype)
    values = np.empty((inputs.shape[0], weights.shape[1]), dtype=dtype)
    for row in range(inputs.shape[0]):
        entries = slice(inputs.indptr[row], inputs.indptr[row + 1])
        values[row] = inputs.values[entries] @ weights[inputs.indices[entries]]
    return values


def backward_product(delta, weights):
    """``delta @ weights.T``, dense."""
    return np.asarray(safe_sparse_dot(_as_scipy(delta), weights.T))


def delta_at_winners(upstream, weights, winners, activation):
    """``(upstream @ weights.T) * activation'`` at the winners, without
    forming the dense product when ``upstream`` is dense: the gathered rows of
    ``weights`` are combined with ``upstream`` in row chunks of about 4 MB."""
    if isinstance(upstream, SparseRows):
        product = upstream.to_csr() @ weights.T
        delta = product[winners.rows(), winners.indices]
    else:
        delta = np.empty(winners.indices.size, dtype=np.result_type(upstream, weights))
        row_bytes = weights.shape[1] * weights.dtype.itemsize
        chunk = max(1, _GATHER_CHUNK_BYTES // row_bytes)
        rows = winners.rows()
        for start in range(0, delta.size, chunk):
            stop = min(start + chunk, delta.size)
            gathered = weights[winners.indices[start:stop]]
            gathered *= upstream[rows[start:stop]]
            gathered.sum(axis=1, out=delta[start:stop])
    DERIVATIVES[activation](winners.values, delta)
    return winners.with_values(delta)


def weight_gradient(inputs, delta, weights, alpha, weight_sum):
    """``(inputs.T @ delta + alpha * weights) / weight_sum`` as a C-ordered
    dense array (a gradient in Fortran order would slow every optimizer step
    that combines it with the C-ordered weights)."""
    grad = _as_scipy(inputs).T @ _as_scipy(delta)
    grad = grad.toarray(order="C") if sp.issparse(grad) else np.ascontiguousarray(grad)
    grad += alpha * weights
    grad /= weight_sum
    return grad


def bias_gradient(delta, weight_sum):
    """Column sums of ``delta`` over ``weight_sum``."""
    if isinstance(delta, SparseRows):
        sums = np.bincount(delta.indices, weights=delta.values, minlength=delta.width)
        sums = sums.astype(delta.dtype, copy=False)
    else:
        sums = delta.sum(axis=0)
    return sums / weight_sum


def squared_norm(arrays):
    """The sum of the squares of every entry of every array.

    NumPy's einsum sums on one thread: BLAS's dot product splits long vectors
    between its threads, and its sum changes with their number (a 1024 x 1024
    float64 matrix with OpenBLAS on 1 and 2 threads).
    """
    return sum(np.einsum("i,i->", array.ravel(), array.ravel()) for array in arrays)


def adam_update(
    params, grads, firsts, seconds, learning_rate, betas, epsilon, workspace
):
    """One Adam step in place. The arithmetic runs in one preallocated
    scratch array per parameter (kept in ``workspace``), so a step allocates
    nothing (large temporaries cost page faults)."""
    beta_1, beta_2 = betas
    scratches = workspace.get("scratch")
    if scratches is None or len(scratches) != len(params):
        scratches = workspace["scratch"] = [np.empty_like(param) for param in params]
    for param, grad, first, second, scratch in zip(
        params, grads, firsts, seconds, scratches, strict=True
    ):
        first *= beta_1
        np.multiply(grad, 1 - beta_1, out=scratch)
        first += scratch
        second *= beta_2
        np.multiply(grad, grad, out=scratch)
        scratch *= 1 - beta_2
        second += scratch
        np.sqrt(second, out=scratch)
        scratch += epsilon
        np.divide(first, scratch, out=scratch)
        scratch *= learning_rate
        param -= scratch


def sgd_update(params, grads, velocities, learning_rate, momentum, nesterov):
    """One momentum SGD step in place."""
    for param, grad, velocity in zip(params, grads, velocities, strict=True):
        velocity *= momentum
        velocity -= learning_rate * grad
        if nesterov:
            param += momentum * velocity - learning_rate * grad
        else:
            param += velocity


def threads(n_rows, work):
    """NumPy leaves the cores to BLAS."""
    return nullcontext()


def map_row_chunks(function, n_rows, chunk_rows, work):
    """The chunks one after the other, each with the cores to BLAS."""
    return [function(rows) for rows in row_chunks(n_rows, chunk_rows)]
