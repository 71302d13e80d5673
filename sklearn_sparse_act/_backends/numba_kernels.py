"""The numba kernel backend (the ``fast`` extra): compiled, multithreaded
kernels over the winners, computing what :mod:`.numpy_kernels` computes.

The functions here implement the backend interface: they allocate the
outputs, pick a kernel and run it (the optimizer steps and the L2 norm over
whole parameter arrays are :mod:`._numba_steps`'s). The kernels are free
compiled functions over arrays, by concept: the selection of winners
(:mod:`._numba_selection`), the products over winners
(:mod:`._numba_products`), the weight gradients (:mod:`._numba_gradients`),
the steps over the parameters (:mod:`._numba_parameters`) and everything
over a sparse layer's present weights only (:mod:`._numba_connections`,
called by :mod:`._numba_present`); how they are compiled is
:mod:`._numba_twins`'s, how arrays are handed to them
:mod:`._numba_arrays`'s. Dense products stay on BLAS.
:mod:`.cost_model` decides the paths and who gets the cores,
:mod:`._numba_threads` assigns them.
"""

import sys

import numpy as np
from sklearn.utils.extmath import safe_sparse_dot

from .._batch_quota import select_quota
from .._connections import zero_absent
from .._sparsity import Threshold, TopK
from . import numpy_kernels
from ._numba_activations import activation_code
from ._numba_arrays import contiguous, output_array, read_only, runs_parallel, units_of
from ._numba_gradients import (
    finish_gradient,
    gradient_dense_sparse,
    gradient_sparse_dense,
    gradient_sparse_sparse,
)
from ._numba_layout import lay_out_connections  # noqa: F401 (the backend interface)
from ._numba_present import (
    forward_at,
    gradient_at,
    hold_weights,  # noqa: F401 (the backend interface)
)
from ._numba_products import (
    delta_from_dense,
    delta_from_dense_serial,
    delta_from_sparse,
    delta_from_sparse_serial,
    scatter_rows,
    sparse_backward_product,
    sparse_forward,
    sparse_forward_serial,
)
from ._numba_quota import (  # noqa: F401 (the backend interface)
    candidate_blocks,
    candidate_blocks_serial,
    quota_histogram,
    quota_window,
    row_counts,
    row_counts_serial,
    window_rows,
)
from ._numba_selection import (
    candidates_above,
    candidates_above_serial,
    count_above,
    count_above_serial,
    count_candidates_above,
    count_candidates_above_serial,
    filtered_top_k,
    filtered_top_k_serial,
    gather_rows,
    kth_largest,
    rows_above,
    rows_above_serial,
    top_k_rows,
    top_k_rows_serial,
)
from ._numba_steps import (  # noqa: F401 (the backend interface)
    adam_update,
    sgd_update,
    squared_norm,
)
from ._numba_threads import (
    kernel_threads,
    map_row_chunks,  # noqa: F401 (the backend interface)
    starts_the_threads,
    stream_row_chunks,  # noqa: F401 (the backend interface)
    threads,  # noqa: F401 (the backend interface)
)
from .cost_model import (
    KERNEL_MADD_SECONDS,
    SELECTED_SCORE_SECONDS,
    filtered_top_k_pays,
    numba_connection_path,
    numba_sparse_path,
)
from .interface import SparseRows

name = "numba"

# Which hidden layers run on the sparse path, and which sparse layers on
# kernels over their present weights: the cost model's decisions.
use_sparse_path = numba_sparse_path
use_connection_path = numba_connection_path

# Chunks of unit blocks per thread in the dense x winners gradient: several
# per thread, so that the threads finish together although units win
# unequally often.
_GRADIENT_CHUNKS_PER_THREAD = 4


def _selection_seconds(scores):
    """Estimated single-thread seconds of choosing winners among ``scores``."""
    return scores.size * SELECTED_SCORE_SECONDS


def batch_threshold(values, n_active, sample_weight=None):
    """:func:`~.._sparsity.batch_threshold` by a pass over the entries near
    the quota's edge (:func:`.._batch_quota.select_quota`), compiled: no
    partition of the whole batch."""
    return batch_selection(values, n_active, sample_weight)[:2]


def batch_selection(values, n_active, sample_weight=None):
    """:func:`batch_threshold`, and the rows' candidates of the winners
    (found on the way when there are no sample weights, else None)."""
    return select_quota(sys.modules[__name__], values, n_active, sample_weight)


def quota_window_rows(values, low, high, capacity):
    """The entries of ``values`` in ``[low, high)``, what surrounds them and
    the rows' candidates (:func:`._numba_quota.window_rows`): over rows in
    parallel on enough rows, else on this thread."""
    if runs_parallel(values.shape[0], _selection_seconds(values)):
        kernels = (row_counts, candidate_blocks)
    else:
        kernels = (row_counts_serial, candidate_blocks_serial)
    return window_rows(values, low, high, capacity, kernels)


def select(values, rule, activation, scores=None):
    """The winners of ``rule`` with their activated values, in one pass."""
    values = contiguous(values)
    scores = values if scores is None else contiguous(scores)
    code = activation_code(activation)
    n_rows, width = values.shape
    if isinstance(rule, TopK):
        size = n_rows * rule.n_active
        indptr = np.arange(0, size + 1, rule.n_active, dtype=np.int64)
        indices = np.empty(size, dtype=np.int64)
        data = np.empty(size, dtype=values.dtype)
        parallel = runs_parallel(n_rows, _selection_seconds(scores))
        if filtered_top_k_pays(rule.n_active, width):
            top_k = filtered_top_k if parallel else filtered_top_k_serial
            top_k(values, scores, rule.n_active, code, indices, data)
        else:
            kth = kth_largest(scores, rule.n_active)
            top_k = top_k_rows if parallel else top_k_rows_serial
            top_k(values, scores, kth, rule.n_active, code, indices, data)
    elif isinstance(rule, Threshold):
        return _threshold_winners(values, scores, rule, code)
    else:
        raise TypeError(f"No selection for the rule {rule!r}.")
    return SparseRows(indptr, indices, data, width)


def _threshold_winners(values, scores, rule, code):
    """:func:`select` for a :class:`Threshold`: a pass that counts each
    row's winners, then one that fills them in; over the rule's candidates
    when it has them, else over every score."""
    threshold = scores.dtype.type(rule.value)
    n_rows, width = values.shape
    parallel = runs_parallel(n_rows, _selection_seconds(scores))
    if rule.candidates is None:
        candidates = ()
        count = count_above if parallel else count_above_serial
        fill = rows_above if parallel else rows_above_serial
    else:
        candidates = tuple(rule.candidates)
        count = count_candidates_above if parallel else count_candidates_above_serial
        fill = candidates_above if parallel else candidates_above_serial
    counts = np.empty(n_rows, dtype=np.int64)
    count(scores, threshold, rule.inclusive, *candidates, counts)
    indptr = np.zeros(n_rows + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    indices = np.empty(indptr[-1], dtype=np.int64)
    data = np.empty(indptr[-1], dtype=values.dtype)
    fill(
        values,
        scores,
        threshold,
        rule.inclusive,
        code,
        *candidates,
        indptr,
        indices,
        data,
    )
    return SparseRows(indptr, indices, data, width)


@starts_the_threads
def gather(values, winners, activation):
    """``activation(values)`` at held winners."""
    data = np.empty(winners.indices.size, dtype=values.dtype)
    gather_rows(
        contiguous(values),
        winners.indptr,
        winners.indices,
        activation_code(activation),
        data,
    )
    return winners.with_values(data)


def forward(inputs, weights, bias, connections=None, out=None, held=None):
    """``inputs @ weights + bias`` (into ``out`` if given): compiled over the
    winners or the present weights (read from ``held``, if given: what
    :func:`hold_weights` returned for these weights), BLAS otherwise."""
    if connections is not None and isinstance(inputs, SparseRows | np.ndarray):
        dense_inputs = isinstance(inputs, np.ndarray)
        if numba_connection_path(connections.density, dense_inputs):
            return forward_at(inputs, weights, bias, connections, out, held)
    if isinstance(inputs, SparseRows):
        out = output_array(out, inputs, weights.shape[1], weights)
        madds = inputs.indices.size * weights.shape[1]
        parallel = runs_parallel(out.shape[0], madds * KERNEL_MADD_SECONDS)
        product = sparse_forward if parallel else sparse_forward_serial
        product(
            inputs.indptr,
            inputs.indices,
            inputs.values,
            read_only(weights),
            read_only(bias),
            out,
        )
        return out
    if isinstance(inputs, np.ndarray):
        values = np.matmul(inputs, weights, out=out)
    elif out is None:
        values = safe_sparse_dot(inputs, weights)
    else:
        out[...] = safe_sparse_dot(inputs, weights)
        values = out
    values += bias
    return values


@starts_the_threads
def backward_product(delta, weights, out=None):
    """``delta @ weights.T``, dense, into ``out`` if given."""
    if isinstance(delta, SparseRows):
        out = output_array(out, delta, weights.shape[0], weights)
        sparse_backward_product(
            delta.indptr, delta.indices, delta.values, contiguous(weights), out
        )
        return out
    return np.matmul(delta, weights.T, out=out)


@starts_the_threads
def delta_at_winners(upstream, weights, winners, activation):
    """``(upstream @ weights.T) * activation'`` at the winners only."""
    code = activation_code(activation)
    weights = contiguous(weights)
    delta = np.empty(
        winners.indices.size,
        dtype=np.result_type(winners.dtype, upstream.dtype, weights.dtype),
    )
    # Each winner x the upstream units (winners: of an average row).
    fan_out = upstream.shape[1]
    if isinstance(upstream, SparseRows):
        fan_out = upstream.indices.size / max(1, upstream.shape[0])
    madds = winners.indices.size * fan_out
    parallel = runs_parallel(winners.shape[0], madds * KERNEL_MADD_SECONDS)
    if isinstance(upstream, SparseRows):
        (delta_from_sparse if parallel else delta_from_sparse_serial)(
            *units_of(winners),
            upstream.indptr,
            upstream.indices,
            upstream.values,
            weights,
            winners.values,
            code,
            delta,
        )
    else:
        (delta_from_dense if parallel else delta_from_dense_serial)(
            contiguous(upstream),
            weights,
            winners.indptr,
            winners.indices,
            winners.values,
            code,
            delta,
        )
    return winners.with_values(delta)


@starts_the_threads
def weight_gradient(
    inputs, delta, weights, alpha, weight_sum, connections=None, out=None, held=None
):
    """``(inputs.T @ delta + alpha * weights) / weight_sum``, dense and
    C-ordered (into ``out``, C-ordered, if given): accumulated unit by unit
    over the winners when ``inputs`` are winners, through one BLAS product
    otherwise; +0.0 at absent weights. A sparse layer's gradient from a
    delta at winners is a :class:`~.interface.PresentGradient` instead, at
    its present weights only: from winners always, from dense inputs on
    the connections' path, its penalty reading them from ``held``
    (:class:`~.interface.HeldWeights`) if given."""
    weights = contiguous(weights)
    alpha = weights.dtype.type(alpha)
    weight_sum = weights.dtype.type(weight_sum)
    if connections is None:
        return _weight_gradient(inputs, delta, weights, alpha, weight_sum, out)
    present = gradient_at(inputs, delta, weights, alpha, weight_sum, connections, held)
    if present is not None:
        return present
    grad = _weight_gradient(inputs, delta, weights, alpha, weight_sum, out)
    zero_absent(grad, connections.mask, connections.absent)
    return grad


def _weight_gradient(inputs, delta, weights, alpha, weight_sum, out=None):
    """The gradient of every weight, present or not (into ``out`` if given)."""
    dtype = np.result_type(inputs.dtype, delta.dtype, weights.dtype)
    if isinstance(inputs, SparseRows):
        grad = np.empty(weights.shape, dtype) if out is None else out
        inputs_by_unit = units_of(inputs)
        if isinstance(delta, SparseRows):
            gradient_sparse_sparse(
                *inputs_by_unit,
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
            gradient_sparse_dense(
                *inputs_by_unit,
                inputs.values,
                contiguous(delta),
                weights,
                alpha,
                weight_sum,
                grad,
            )
        return grad
    if isinstance(delta, SparseRows):
        if isinstance(inputs, np.ndarray):
            # One multiply-add per input feature and winner, not per unit.
            grad = np.empty(weights.shape, dtype) if out is None else out
            gradient_dense_sparse(
                read_only(inputs),
                *units_of(delta),
                delta.values,
                weights,
                alpha,
                weight_sum,
                grad,
                min(delta.width, _GRADIENT_CHUNKS_PER_THREAD * kernel_threads()),
            )
            return grad
        dense_delta = np.zeros(delta.shape, dtype=delta.dtype)
        scatter_rows(delta.indptr, delta.indices, delta.values, dense_delta)
        delta = dense_delta
    if out is not None and isinstance(inputs, np.ndarray):
        grad = np.matmul(inputs.T, delta, out=out)
    else:
        grad = np.ascontiguousarray(safe_sparse_dot(inputs.T, delta))
        if out is not None:
            out[...] = grad
            grad = out
    finish_gradient(grad, weights, alpha, weight_sum)
    return grad


# The column sums of a delta are one bincount or one reduction: NumPy's.
bias_gradient = numpy_kernels.bias_gradient
