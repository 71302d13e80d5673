"""The numba backend's products over a sparse layer's present weights.

The forward product (from dense inputs unit by unit, from winners input by
input) and the weight gradient from a delta at winners, each over the
present weights only, and the present weights gathered once for a pass of
many products in which they do not change (:func:`hold_weights`). Needs a
layer's :class:`~.interface.Connections` (which weights are present, in
which orders) and the compiled kernels of :mod:`._numba_connections`; the
backend's :mod:`.numba_kernels` decides when a layer takes them.
"""

import numpy as np

from ._numba_arrays import contiguous, output_array, read_only, runs_parallel, units_of
from ._numba_connections import (
    chunk_inputs,
    forward_by_unit,
    forward_by_unit_serial,
    gather_by_unit,
    gather_in_c_order,
    gradient_dense_sparse_at,
    gradient_sparse_sparse_at,
    sparse_forward_by_input,
    sparse_forward_by_input_serial,
)
from .cost_model import KERNEL_MADD_SECONDS, numba_connection_path
from .interface import HeldWeights, PresentGradient, SparseRows


def present_weights(weights, positions):
    """A sparse layer's weights at ``positions`` (its connections' C order,
    the order of ``by_input``): each winner's weights in one contiguous run."""
    present = np.empty(positions.size, weights.dtype)
    gather_in_c_order(contiguous(weights).reshape(-1), positions, present)
    return present


def present_weights_by_unit(weights, connections):
    """A sparse layer's present weights unit by unit (the order of
    ``by_unit``): each unit's weights in one contiguous run, read from the
    weight matrix in the order it is stored."""
    present = np.empty(connections.positions.size, weights.dtype)
    gather_by_unit(
        contiguous(weights).reshape(-1),
        connections.positions,
        connections.entries_in_c_order,
        present,
    )
    return present


def hold_weights(weights, connections, dense_inputs):
    """:class:`~.interface.HeldWeights` of ``weights``, a sparse layer's,
    for its product from dense inputs or from winners; None where the
    layer's density keeps that product on the dense weights."""
    if not numba_connection_path(connections.density, dense_inputs):
        return None
    if dense_inputs:
        return HeldWeights(present_weights_by_unit(weights, connections), True)
    return HeldWeights(present_weights(weights, connections.positions), False)


def forward_at(inputs, weights, bias, connections, out=None, held=None):
    """``inputs @ weights + bias`` over the present weights only, read from
    ``held`` (:class:`~.interface.HeldWeights` of these weights) if it
    holds them for this product, else gathered."""
    out = output_array(out, inputs, weights.shape[1], weights)
    dense_inputs = not isinstance(inputs, SparseRows)
    present = _held_in_order(held, weights, connections, dense_inputs)
    # Input entries (every entry, or winners) x outputs x density.
    entries = inputs.size if dense_inputs else inputs.indices.size
    madds = entries * weights.shape[1] * connections.density
    parallel = runs_parallel(out.shape[0], madds * KERNEL_MADD_SECONDS)
    if dense_inputs:
        product = forward_by_unit if parallel else forward_by_unit_serial
        dtype = np.result_type(inputs.dtype, weights.dtype)
        inputs_t = np.ascontiguousarray(inputs.T, dtype=dtype)
        chunk = chunk_inputs(*inputs_t.shape, inputs_t.itemsize)
        product(inputs_t, *connections.by_unit, present, read_only(bias), out, chunk)
    else:
        product = (
            sparse_forward_by_input if parallel else sparse_forward_by_input_serial
        )
        product(
            inputs.indptr,
            inputs.indices,
            inputs.values,
            *connections.by_input,
            present,
            read_only(bias),
            out,
        )
    return out


def gradient_at(inputs, delta, weights, alpha, weight_sum, connections, held=None):
    """A sparse layer's weight gradient from a delta at winners as a
    :class:`~.interface.PresentGradient`, where it runs over the present
    weights (from winners always, from dense inputs on the connections'
    path); else None. The penalty reads the present weights from ``held``
    (:class:`~.interface.HeldWeights` of these weights) if it holds them in
    the order the kernel reads them, else gathered. ``weights``
    C-contiguous, ``alpha`` and ``weight_sum`` of its dtype."""
    if not isinstance(delta, SparseRows):
        return None
    dtype = np.result_type(inputs.dtype, delta.dtype, weights.dtype)
    if isinstance(inputs, SparseRows):
        values = np.empty(connections.positions.size, dtype)
        gradient_sparse_sparse_at(
            *units_of(inputs),
            inputs.values,
            delta.indptr,
            delta.indices,
            delta.values,
            *connections.by_input,
            _held_in_order(held, weights, connections, False),
            weights.shape[1],
            alpha,
            weight_sum,
            values,
        )
        return PresentGradient(values, connections.positions, weights.shape)
    dense_inputs = isinstance(inputs, np.ndarray)
    if dense_inputs and numba_connection_path(connections.density, True):
        values = np.empty(connections.positions.size, dtype)
        gradient_dense_sparse_at(
            read_only(inputs),
            *units_of(delta),
            delta.values,
            *connections.by_unit,
            connections.entries_by_unit,
            _held_in_order(held, weights, connections, True),
            alpha,
            weight_sum,
            values,
        )
        return PresentGradient(values, connections.positions, weights.shape)
    return None


def _held_in_order(held, weights, connections, by_unit):
    """The present weights unit by unit (``by_unit``) or in C order: read
    from ``held`` where it holds them so, else gathered."""
    if held is not None and held.dense_inputs == by_unit:
        return held.values
    if by_unit:
        return present_weights_by_unit(weights, connections)
    return present_weights(weights, connections.positions)
