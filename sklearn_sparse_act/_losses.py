"""Loss functions, looked up by name.

Each takes the targets, the output layer's activations and optional sample
weights and returns a float. They are paired with the canonical output
activation (``identity`` for squared error, ``exp`` for Poisson, ``softmax``
or ``logistic`` for log loss), so the output delta is always
``prediction - target``.
"""

import numpy as np
from scipy.special import xlogy


def squared_loss(y_true, y_pred, sample_weight=None):
    """Half the mean squared error, summed over outputs.

    Summing (rather than averaging, as scikit-learn's MLP reports) over outputs
    makes the loss the one whose gradient the backward pass computes, which
    L-BFGS needs for multi-output targets.
    """
    squared_error = (y_true - y_pred) ** 2
    return 0.5 * np.average(squared_error, weights=sample_weight, axis=0).sum()


def poisson_loss(y_true, y_pred, sample_weight=None):
    """Half the Poisson deviance, summed over outputs."""
    deviance = xlogy(y_true, y_true / y_pred) - y_true + y_pred
    return np.average(deviance, weights=sample_weight, axis=0).sum()


def log_loss(y_true, y_prob, sample_weight=None):
    """Cross-entropy of one-hot targets against softmax probabilities."""
    eps = np.finfo(y_prob.dtype).eps
    y_prob = np.clip(y_prob, eps, 1 - eps)
    if y_prob.shape[1] == 1:
        y_prob = np.hstack([1 - y_prob, y_prob])
    if y_true.shape[1] == 1:
        y_true = np.hstack([1 - y_true, y_true])
    return -np.average(xlogy(y_true, y_prob), weights=sample_weight, axis=0).sum()


def binary_log_loss(y_true, y_prob, sample_weight=None):
    """Cross-entropy of independent binary targets against logistic outputs."""
    eps = np.finfo(y_prob.dtype).eps
    y_prob = np.clip(y_prob, eps, 1 - eps)
    per_sample = xlogy(y_true, y_prob) + xlogy(1 - y_true, 1 - y_prob)
    return -np.average(per_sample, weights=sample_weight, axis=0).sum()


LOSS_FUNCTIONS = {
    "squared_error": squared_loss,
    "poisson": poisson_loss,
    "log_loss": log_loss,
    "binary_log_loss": binary_log_loss,
}
