"""How a numba kernel is told which activation function to apply: a code per
function of :data:`sklearn_sparse_act._activations.ACTIVATIONS` that hidden
layers use.

The kernels apply the function of a code (``_activate`` in
:mod:`._numba_selection`) and its derivative (``_derivative`` in
:mod:`._numba_products`); numba compiles the codes' values into them as
constants.
"""

from enum import IntEnum
from functools import cache


class ActivationCode(IntEnum):
    """How a kernel is told which activation function to apply."""

    IDENTITY = 0
    LOGISTIC = 1
    TANH = 2
    RELU = 3


@cache  # looked up on every call of the backend (an enum lookup is slow)
def activation_code(activation):
    """The code of an activation named in
    :data:`sklearn_sparse_act._activations.ACTIVATIONS`, as a kernel takes it.

    Examples
    --------
    >>> from sklearn_sparse_act._backends._numba_activations import activation_code
    >>> activation_code("relu")
    3
    """
    return int(ActivationCode[activation.upper()])
