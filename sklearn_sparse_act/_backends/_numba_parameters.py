"""numba kernels over flat views of the parameter arrays: the Adam and
momentum SGD steps, and the sum of squares of the L2 penalty."""

import numpy as np
from numba import njit, prange

# Entries per block of the sum of squares. The blocks, not the threads,
# split the sum: each block is summed on its own and the block sums are added
# in block order, so the total has the same bits on any number of threads.
SUM_BLOCK = 4096


# Reassociation lets a block's sum vectorize (in an order the compiled code
# fixes); NaN and infinities still propagate.
@njit(cache=True, fastmath={"reassoc"})
def _block_sum_of_squares(block):
    total = 0.0
    for index in range(block.size):
        total += block[index] * block[index]
    return total


@njit(parallel=True, cache=True)
def sum_of_squares(values):
    """The sum of the squares of a 1d array, in blocks of ``SUM_BLOCK``."""
    n_blocks = -(-values.size // SUM_BLOCK)
    block_sums = np.empty(n_blocks)
    for block in prange(n_blocks):
        first = block * SUM_BLOCK
        block_sums[block] = _block_sum_of_squares(values[first : first + SUM_BLOCK])
    total = 0.0
    for block in range(n_blocks):
        total += block_sums[block]
    return total


@njit(cache=True, inline="always")
def adam_entry(
    param, index, gradient, first, second, state, learning_rate, beta_1, beta_2, epsilon
):
    """Adam's step of entry ``index`` of the flat ``param``, whose gradient
    is ``gradient`` and whose moment estimates are entry ``state`` of
    ``first`` and ``second``, in place (shared with the step over a sparse
    layer's present weights, whose state holds those only)."""
    one = param.dtype.type(1)
    moment = first[state] * beta_1 + gradient * (one - beta_1)
    square = second[state] * beta_2 + gradient * gradient * (one - beta_2)
    first[state] = moment
    second[state] = square
    param[index] -= moment / (np.sqrt(square) + epsilon) * learning_rate


@njit(parallel=True, cache=True)
def adam_step(param, grad, first, second, learning_rate, beta_1, beta_2, epsilon):
    """One Adam step, in place."""
    for index in prange(param.size):
        adam_entry(
            param,
            index,
            grad[index],
            first,
            second,
            index,
            learning_rate,
            beta_1,
            beta_2,
            epsilon,
        )


@njit(cache=True, inline="always")
def sgd_entry(
    param, index, gradient, velocity, state, learning_rate, momentum, nesterov
):
    """The (Nesterov) momentum SGD step of entry ``index`` of the flat
    ``param``, whose gradient is ``gradient`` and whose velocity is entry
    ``state`` of ``velocity``, in place (shared with the step over present
    weights)."""
    moved = velocity[state] * momentum - learning_rate * gradient
    velocity[state] = moved
    if nesterov:
        param[index] += momentum * moved - learning_rate * gradient
    else:
        param[index] += moved


@njit(parallel=True, cache=True)
def sgd_step(param, grad, velocity, learning_rate, momentum, nesterov):
    """One (Nesterov) momentum SGD step, in place."""
    for index in prange(param.size):
        sgd_entry(
            param,
            index,
            grad[index],
            velocity,
            index,
            learning_rate,
            momentum,
            nesterov,
        )
