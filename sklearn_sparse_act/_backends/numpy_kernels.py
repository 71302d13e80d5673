"""The NumPy/SciPy kernel backend: the reference, always available.

Sparse-path layers go through SciPy's CSR products (or, over a few rows,
products of gathered weight rows); everything else is BLAS. SciPy's CSR
products run one multiply-add at a time on one core, far slower per
multiply-add than BLAS, so the sparse path pays off only at low ratios
(:func:`.cost_model.numpy_sparse_path`).
"""

import sys
from contextlib import nullcontext

import numpy as np
import scipy.sparse as sp
from sklearn.utils.extmath import safe_sparse_dot

from .._activations import ACTIVATIONS, DERIVATIVES
from .._batch_quota import select_quota
from .._connections import zero_absent
from .cost_model import numpy_connection_path, numpy_gathers_rows, numpy_sparse_path
from .interface import WINDOW_BLOCK_ROWS, SparseRows, row_chunks

name = "numpy"
# Connections makes each index form it is asked for, with NumPy.
lay_out_connections = None

# Row chunks of the backward gather are about this many bytes.
_GATHER_CHUNK_BYTES = 4 * 2**20

# Elementwise arithmetic over a whole parameter array (the optimizer steps,
# the gradient's L2 term) runs in row chunks of about this many bytes, so its
# temporaries stay small whatever the layer's size.
SCRATCH_BYTES = 2**18

# Bits of a value's order-preserving key that make its histogram bucket in
# the 'dynamic' batch quota (:mod:`.._batch_quota`).
_HISTOGRAM_BITS = 16

# Which hidden layers run on the sparse path, and which sparse layers on
# kernels over their present weights (none): the cost model's decisions.
use_sparse_path = numpy_sparse_path
use_connection_path = numpy_connection_path


def _from_mask(values, mask, activation):
    """The entries of ``mask`` as :class:`SparseRows` of
    ``activation(values)``: found by their flat positions, which NumPy
    lists several times faster than a 2-D array's row and column indices,
    and which take the values from the flat array."""
    n_rows, width = mask.shape
    positions = np.flatnonzero(mask)
    indptr = np.zeros(n_rows + 1, dtype=np.int64)
    np.cumsum(np.count_nonzero(mask, axis=1), out=indptr[1:])
    data = np.take(values, positions)
    ACTIVATIONS[activation](data)
    return SparseRows(indptr, positions % width, data, width)


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


def hold_weights(weights, connections, dense_inputs):
    """Nothing: the reference's products read the dense weights."""
    return None


def forward(inputs, weights, bias, connections=None, out=None, held=None):
    """``inputs @ weights + bias``, dense (absent weights are zero: the
    reference multiplies them like the others, and holds none:
    :func:`hold_weights`), into ``out`` if given.

    Over the winners of a few rows, each row's product reads only its
    winners' weight rows, gathered for one BLAS product (SciPy's CSR product
    runs one multiply-add at a time).
    """
    if isinstance(inputs, SparseRows) and numpy_gathers_rows(inputs.shape[0]):
        values = _gathered_rows_product(inputs, weights, out)
    else:
        values = _product(_as_scipy(inputs), weights, out)
    values += bias
    return values


def _product(left, right, out):
    """``left @ right`` as a dense array, into ``out`` if given (a sparse
    operand's product is made first, then copied)."""
    if out is None:
        return np.asarray(safe_sparse_dot(left, right))
    if isinstance(left, np.ndarray) and isinstance(right, np.ndarray):
        return np.matmul(left, right, out=out)
    out[...] = safe_sparse_dot(left, right)
    return out


def _gathered_rows_product(inputs, weights, out=None):
    """``inputs @ weights`` row by row over each row's winners."""
    dtype = np.result_type(inputs.dtype, weights.dtype)
    shape = (inputs.shape[0], weights.shape[1])
    values = np.empty(shape, dtype=dtype) if out is None else out
    for row in range(inputs.shape[0]):
        entries = slice(inputs.indptr[row], inputs.indptr[row + 1])
        values[row] = inputs.values[entries] @ weights[inputs.indices[entries]]
    return values


def backward_product(delta, weights, out=None):
    """``delta @ weights.T``, dense, into ``out`` if given."""
    return _product(_as_scipy(delta), weights.T, out)


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


def weight_gradient(
    inputs, delta, weights, alpha, weight_sum, connections=None, out=None, held=None
):
    """``(inputs.T @ delta + alpha * weights) / weight_sum`` as a C-ordered
    dense array (a gradient in Fortran order would slow every optimizer step
    that combines it with the C-ordered weights), +0.0 at absent weights;
    into ``out`` (C-ordered) if given. The penalty reads the dense
    ``weights``, which hold what a copy ``held`` would."""
    inputs, delta = _as_scipy(inputs), _as_scipy(delta)
    if (
        out is not None
        and isinstance(inputs, np.ndarray)
        and isinstance(delta, np.ndarray)
    ):
        grad = np.matmul(inputs.T, delta, out=out)
    else:
        grad = inputs.T @ delta
        grad = (
            grad.toarray(order="C") if sp.issparse(grad) else np.ascontiguousarray(grad)
        )
        if out is not None:
            out[...] = grad
            grad = out
    add_multiple(grad, alpha, weights)
    grad /= weight_sum
    if connections is not None:
        zero_absent(grad, connections.mask, connections.absent)
    return grad


def bias_gradient(delta, weight_sum):
    """Column sums of ``delta`` over ``weight_sum``."""
    if isinstance(delta, SparseRows):
        sums = np.bincount(delta.indices, weights=delta.values, minlength=delta.width)
        sums = sums.astype(delta.dtype, copy=False)
    else:
        sums = delta.sum(axis=0)
    return sums / weight_sum


def row_chunks_of(array):
    """Slices of ``array``'s first axis, each of about :data:`SCRATCH_BYTES`
    (at least one row)."""
    row_bytes = max(1, array[:1].nbytes)
    rows = max(1, SCRATCH_BYTES // row_bytes)
    return [slice(start, start + rows) for start in range(0, array.shape[0], rows)]


def add_multiple(out, factor, array):
    """``out += factor * array`` in row chunks: the products are rounded as
    one whole-array product would round them, in a small scratch array."""
    if array.nbytes <= SCRATCH_BYTES:
        out += factor * array
        return
    chunks = row_chunks_of(array)
    scratch = np.empty_like(array[chunks[0]])
    for rows in chunks:
        products = scratch[: array[rows].shape[0]]
        np.multiply(array[rows], factor, out=products)
        out[rows] += products


def squared_norm(arrays):
    """The sum of the squares of every entry of every array.

    NumPy's einsum sums on one thread: BLAS's dot product splits long vectors
    between its threads, and its sum changes with their number (a 1024 x 1024
    float64 matrix with OpenBLAS on 1 and 2 threads).
    """
    return sum(np.einsum("i,i->", array.ravel(), array.ravel()) for array in arrays)


def adam_update(
    params,
    grads,
    firsts,
    seconds,
    learning_rate,
    betas,
    epsilon,
    workspace,
    connections=None,
    kept=None,
):
    """One Adam step in place. The arithmetic runs in row chunks of about
    :data:`SCRATCH_BYTES` through one preallocated scratch array (kept in
    ``workspace``), so a step allocates nothing (large temporaries cost page
    faults) and holds no temporary the size of a parameter. An array with
    sparse connections (``connections``), whose moment estimates the state
    holds at its present weights only, is stepped there only, on copies of
    its present weights and their gradients (the same arithmetic), and its
    copy in ``kept`` (a :class:`~.interface.HeldWeights`, if any) takes the
    new weights."""
    beta_1, beta_2 = betas
    chunks = _adam_chunks(workspace, params)
    for index, (param, grad, first, second, param_chunks) in enumerate(
        zip(params, grads, firsts, seconds, chunks, strict=True)
    ):
        positions = _present_positions(connections, index)
        if positions is not None:
            weights, gradients = param.flat[positions], np.asarray(grad).flat[positions]
            scratch = np.empty_like(weights)
            _adam_chunk(
                weights,
                gradients,
                first,
                second,
                learning_rate,
                beta_1,
                beta_2,
                epsilon,
                scratch,
            )
            param.flat[positions] = weights
            _keep(kept, index, connections, weights)
            continue
        for rows, scratch in param_chunks:
            _adam_chunk(
                param[rows],
                grad[rows],
                first[rows],
                second[rows],
                learning_rate,
                beta_1,
                beta_2,
                epsilon,
                scratch,
            )


def _adam_chunks(workspace, params):
    """Per parameter array, its row chunks, each with a scratch array of its
    shape: views of one array, made on the first step (and again if the
    parameters' shapes change) and kept in ``workspace``."""
    layout = [(param.shape, param.dtype) for param in params]
    if workspace.get("layout") != layout:
        chunks = [row_chunks_of(param) for param in params]
        pairs = zip(params, chunks, strict=True)
        size = max((p[rows].size for p, rs in pairs for rows in rs), default=0)
        scratch = np.empty(size, dtype=np.result_type(*params))
        workspace["layout"] = layout
        workspace["chunks"] = [
            [
                (rows, scratch[: param[rows].size].reshape(param[rows].shape))
                for rows in param_rows
            ]
            for param, param_rows in zip(params, chunks, strict=True)
        ]
    return workspace["chunks"]


def _adam_chunk(
    param, grad, first, second, learning_rate, beta_1, beta_2, epsilon, scratch
):
    """Adam's step on one chunk of a parameter array, in place."""
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


def sgd_update(
    params,
    grads,
    velocities,
    learning_rate,
    momentum,
    nesterov,
    connections=None,
    kept=None,
):
    """One momentum SGD step in place, in row chunks of about
    :data:`SCRATCH_BYTES`, so its temporaries stay small; an array with sparse
    connections, whose velocities the state holds at its present weights
    only, on copies of those and their gradients, its copy in ``kept`` (if
    any) taking the new weights."""
    for index, (param, grad, velocity) in enumerate(
        zip(params, grads, velocities, strict=True)
    ):
        positions = _present_positions(connections, index)
        if positions is not None:
            weights = param.flat[positions]
            _sgd_chunk(
                weights,
                np.asarray(grad).flat[positions],
                velocity,
                learning_rate,
                momentum,
                nesterov,
            )
            param.flat[positions] = weights
            _keep(kept, index, connections, weights)
            continue
        for rows in row_chunks_of(param):
            _sgd_chunk(
                param[rows],
                grad[rows],
                velocity[rows],
                learning_rate,
                momentum,
                nesterov,
            )


def _sgd_chunk(chunk, step, change, learning_rate, momentum, nesterov):
    """The momentum SGD step on one chunk of a parameter array, in place."""
    change *= momentum
    change -= learning_rate * step
    if nesterov:
        chunk += momentum * change - learning_rate * step
    else:
        chunk += change


def _keep(kept, index, connections, weights):
    """Write array ``index``'s new present weights (``weights``, in C order)
    to its copy in ``kept``, if it has one, in the copy's order."""
    held = None if kept is None else kept[index]
    if held is None:
        return
    if held.dense_inputs:
        held.values[connections[index].entries_in_c_order] = weights
    else:
        held.values[...] = weights


def _present_positions(connections, index):
    """The flat positions of array ``index``'s present weights when it has
    sparse connections, else None."""
    if connections is None or connections[index] is None:
        return None
    return connections[index].positions


def threads(n_rows, work):
    """NumPy leaves the cores to BLAS."""
    return nullcontext()


def map_row_chunks(function, n_rows, chunk_rows, work):
    """The chunks one after the other, each with the cores to BLAS."""
    return [function(rows) for rows in row_chunks(n_rows, chunk_rows)]


def stream_row_chunks(function, n_rows, chunk_rows, work):
    """The chunks one after the other, yielded as they are computed."""
    for rows in row_chunks(n_rows, chunk_rows):
        yield function(rows)


def _bucket_keys(values):
    """The histogram bucket of every entry (see :mod:`.._batch_quota`)."""
    integer = np.int64 if values.dtype == np.float64 else np.int32
    keys = np.ascontiguousarray(values).view(integer)
    keys = np.where(keys >= 0, keys, keys ^ np.iinfo(integer).max)
    shift = values.dtype.itemsize * 8 - _HISTOGRAM_BITS
    return (keys >> shift) + 2 ** (_HISTOGRAM_BITS - 1)


def quota_histogram(values, row_weights, counts, weights):
    """Add the entries to the per-bucket ``counts`` (and their rows' weights
    to ``weights``); return their largest magnitude."""
    buckets = _bucket_keys(values).ravel()
    counts += np.bincount(buckets, minlength=counts.size)
    if row_weights.size:
        entry_weights = np.repeat(row_weights, values.shape[1])
        weights += np.bincount(buckets, entry_weights, minlength=weights.size)
    return float(np.abs(values).max()) if values.size else 0.0


def quota_window(values, row_weights, low, high, entries, entry_weights):
    """The entries in ``[low, high)`` copied to the start of ``entries`` (and
    their rows' weights to ``entry_weights``), as many as fit; returns how
    many there are, the weight at or above ``high``, the largest entry below
    ``low`` of a row of positive weight, and the largest magnitude."""
    low, high = values.dtype.type(low), values.dtype.type(high)
    inside = (values >= low) & (values < high)
    n_entries = np.count_nonzero(inside)
    n_kept = min(n_entries, entries.size)
    entries[:n_kept] = values[inside][:n_kept]
    at_or_above = values >= high
    below = values < low
    if row_weights.size:
        if n_kept:
            rows = np.nonzero(inside)[0][:n_kept]
            entry_weights[:n_kept] = row_weights[rows]
        above = float(np.count_nonzero(at_or_above, axis=1) @ row_weights)
        below &= (row_weights > 0)[:, None]
    else:
        above = float(np.count_nonzero(at_or_above))
    # The largest entry below the window, by blocks of rows: a reduction of
    # a where() temporary is faster than a masked reduction, and the blocks
    # keep the temporary the size of the scratch arrays.
    max_below = -np.inf
    for rows in row_chunks_of(values):
        block = np.where(below[rows], values[rows], -np.inf)
        max_below = max(max_below, block.max(initial=-np.inf))
    max_abs = float(max(values.max(), -values.min())) if values.size else 0.0
    return n_entries, above, values.dtype.type(max_below), max_abs


def batch_threshold(values, n_active, sample_weight=None):
    """:func:`~.._sparsity.batch_threshold` from a window of entries near the
    quota's edge (:func:`batch_selection`)."""
    return batch_selection(values, n_active, sample_weight)[:2]


def batch_selection(values, n_active, sample_weight=None):
    """:func:`batch_threshold`'s two values, from a window of entries near
    the quota's edge (:func:`.._batch_quota.select_quota`: a few passes of
    comparisons cost less than the partition of the whole batch), and None
    (no candidates of the winners: see :func:`quota_window_rows`)."""
    return select_quota(sys.modules[__name__], values, n_active, sample_weight)


def quota_window_rows(values, low, high, capacity):
    """The entries of ``values`` in ``[low, high)`` in row-major order; how
    many entries are at or above ``high``; the largest magnitude; and None:
    no candidates of the winners (a mask of the whole batch selects them
    faster in NumPy than an index of the candidates would). None if a block
    of ``WINDOW_BLOCK_ROWS`` rows has more than ``capacity`` entries in the
    window."""
    low, high = values.dtype.type(low), values.dtype.type(high)
    positions = np.flatnonzero((values >= low) & (values < high))
    block_size = WINDOW_BLOCK_ROWS * values.shape[1]
    if np.bincount(positions // block_size).max(initial=0) > capacity:
        return None
    return (
        np.take(values, positions),
        int(np.count_nonzero(values >= high)),
        float(max(values.max(), -values.min())) if values.size else 0.0,
        None,
    )
