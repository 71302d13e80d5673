"""Activation functions and their derivatives, as in-place lookup tables.

Every function works in place on a dense array. Derivatives take the layer's
*output* ``activated`` (not its pre-activation) and scale ``delta`` in place;
the winners' mask is applied separately by the backward pass, because with
top-k selection a losing unit can have a non-zero activation function value.
"""

import numpy as np
from scipy.special import expit


def inplace_identity(values):
    """Leave ``values`` unchanged (linear units)."""


def inplace_logistic(values):
    """Apply the logistic sigmoid in place."""
    expit(values, out=values)


def inplace_tanh(values):
    """Apply the hyperbolic tangent in place."""
    np.tanh(values, out=values)


def inplace_relu(values):
    """Apply the rectified linear unit in place."""
    np.maximum(values, 0, out=values)


def inplace_exp(values):
    """Apply the exponential in place (Poisson regression output)."""
    np.exp(values, out=values)


def inplace_softmax(values):
    """Apply the row-wise softmax in place (multiclass output)."""
    values -= values.max(axis=1, keepdims=True)
    np.exp(values, out=values)
    values /= values.sum(axis=1, keepdims=True)


ACTIVATIONS = {
    "identity": inplace_identity,
    "logistic": inplace_logistic,
    "tanh": inplace_tanh,
    "relu": inplace_relu,
    "exp": inplace_exp,
    "softmax": inplace_softmax,
}


def identity_derivative(activated, delta):
    """Multiply ``delta`` by the identity's derivative (one): nothing to do."""


def logistic_derivative(activated, delta):
    """Multiply ``delta`` by ``s * (1 - s)`` where ``s`` is the logistic output."""
    delta *= activated
    delta *= 1 - activated


def tanh_derivative(activated, delta):
    """Multiply ``delta`` by ``1 - t**2`` where ``t`` is the tanh output."""
    delta *= 1 - activated**2


def relu_derivative(activated, delta):
    """Zero ``delta`` where the relu output is zero."""
    np.copyto(delta, 0, where=activated == 0)


# Activations whose derivative is zero wherever their output is zero: the
# derivative alone already silences the losers (whose output is 0).
ZERO_OUTPUT_ZERO_DERIVATIVE = frozenset({"relu"})

DERIVATIVES = {
    "identity": identity_derivative,
    "logistic": logistic_derivative,
    "tanh": tanh_derivative,
    "relu": relu_derivative,
}
