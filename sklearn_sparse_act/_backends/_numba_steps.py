"""The numba backend's steps over whole parameter arrays: the Adam and
momentum SGD steps (fused, one compiled pass per array, or over the present
weights only of a layer with sparse connections, whose optimizer state holds
those only) and the sum of squares of the L2 penalty. Arrays that are not
C-contiguous take NumPy's step; over arrays too small to pay for a parallel
region, the kernels run on this thread alone (compiled with ``parallel``,
they vectorize where a serial twin would not).
"""

from functools import partial

import numpy as np

from . import numpy_kernels
from ._numba_connections import adam_step_at, sgd_step_at
from ._numba_parameters import adam_step, sgd_step, sum_of_squares
from ._numba_threads import run_where_it_pays, starts_the_threads
from .cost_model import PARAMETER_SECONDS, SQUARED_ENTRY_SECONDS
from .interface import PresentGradient


@starts_the_threads
def squared_norm(arrays):
    """The sum of the squares of every entry of every array, in parallel
    where it pays (the same bits on any number of threads)."""
    total = 0.0
    for array in arrays:
        views = _flat_views(array)
        if views is None:
            total += numpy_kernels.squared_norm([array])
        else:
            seconds = array.size * SQUARED_ENTRY_SECONDS
            total += run_where_it_pays(sum_of_squares, seconds, views[0])
    return total


def _flat_views(*arrays):
    """1d views of the arrays, or None if one is not C-contiguous (its
    reshape would be a copy, and an update of it would be lost)."""
    if not all(array.flags.c_contiguous for array in arrays):
        return None
    return [array.reshape(-1) for array in arrays]


def _at_present(grad, connections, index):
    """For array ``index`` with sparse connections, whose optimizer state
    holds its present weights only: their gradients, in C order (a
    :class:`~.interface.PresentGradient` holds them so, a whole gradient is
    read at them), and their flat positions; None for a fully connected
    array."""
    if connections is None or connections[index] is None:
        return None
    positions = connections[index].positions
    if isinstance(grad, PresentGradient):
        return grad.values, positions
    return np.take(np.ravel(grad), positions), positions


def _kept_copy(kept, index, connections, dtype):
    """The arguments of a step at present weights that keep array
    ``index``'s copy of them (:class:`~.interface.HeldWeights`) equal to
    them: the copy's values and, for a copy unit by unit, where each weight
    in C order goes in it (empty arrays: no copy, a copy in C order)."""
    held = None if kept is None else kept[index]
    entries = connections[index].entries_in_c_order
    if held is None:
        return np.empty(0, dtype), entries[:0]
    return held.values, entries if held.dense_inputs else entries[:0]


def _step_array(
    kernels, param, grad, state, connections, kept, index, scalars, numpy_step
):
    """One parameter array's step, in place: over its present weights
    (``kernels[0]``) where its ``state`` holds those only, writing each new
    weight to its copy in ``kept`` (if any), over the whole array
    (``kernels[1]``) otherwise, each on one thread where a parallel region
    does not pay; ``numpy_step()`` for arrays that are not C-contiguous."""
    present = _at_present(grad, connections, index)
    flat_param = _flat_views(param)
    if present is not None and flat_param is not None:
        values, positions = present
        copy = _kept_copy(kept, index, connections, param.dtype)
        seconds = positions.size * PARAMETER_SECONDS
        run_where_it_pays(
            kernels[0],
            seconds,
            flat_param[0],
            values,
            *state,
            positions,
            *copy,
            *scalars,
        )
        return
    views = None
    if present is None:
        views = _flat_views(param, np.ascontiguousarray(grad), *state)
    if views is None:
        numpy_step()
        return
    run_where_it_pays(kernels[1], param.size * PARAMETER_SECONDS, *views, *scalars)


@starts_the_threads
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
    """One fused Adam step per parameter array, in place; over the present
    weights only, whose moment estimates the state holds, for an array with
    sparse connections, keeping its copy in ``kept`` (if any) equal to them
    (arrays that are not C-contiguous take the NumPy step)."""
    for index, (param, grad, first, second) in enumerate(
        zip(params, grads, firsts, seconds, strict=True)
    ):
        scalar = param.dtype.type
        _step_array(
            (adam_step_at, adam_step),
            param,
            grad,
            (first, second),
            connections,
            kept,
            index,
            (
                scalar(learning_rate),
                scalar(betas[0]),
                scalar(betas[1]),
                scalar(epsilon),
            ),
            partial(
                numpy_kernels.adam_update,
                [param],
                [grad],
                [first],
                [second],
                learning_rate,
                betas,
                epsilon,
                {},
                *_one_array(connections, kept, index),
            ),
        )


@starts_the_threads
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
    """One fused momentum SGD step per parameter array, in place; over the
    present weights only, whose velocities the state holds, for an array
    with sparse connections, keeping its copy in ``kept`` (if any) equal to
    them (arrays that are not C-contiguous take the NumPy step)."""
    for index, (param, grad, velocity) in enumerate(
        zip(params, grads, velocities, strict=True)
    ):
        scalar = param.dtype.type
        _step_array(
            (sgd_step_at, sgd_step),
            param,
            grad,
            (velocity,),
            connections,
            kept,
            index,
            (scalar(learning_rate), scalar(momentum), bool(nesterov)),
            partial(
                numpy_kernels.sgd_update,
                [param],
                [grad],
                [velocity],
                learning_rate,
                momentum,
                nesterov,
                *_one_array(connections, kept, index),
            ),
        )


def _one_array(connections, kept, index):
    """``connections`` and ``kept`` of array ``index`` alone, for NumPy's
    step of that array."""
    return (
        None if connections is None else [connections[index]],
        None if kept is None else [kept[index]],
    )
