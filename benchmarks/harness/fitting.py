"""Fitting models to be measured, without the warning that they did not converge.

Benchmarks fit for a fixed number of epochs on purpose, or with default
settings that stop before convergence on some data sets, on both sides of a
comparison; the ``ConvergenceWarning`` would only bury the output. Nothing
else is silenced.
"""

import warnings
from contextlib import contextmanager

from sklearn.exceptions import ConvergenceWarning


@contextmanager
def convergence_warnings_ignored():
    """Ignore ``ConvergenceWarning`` inside the ``with`` block."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


def fit_quietly(model, X, y):
    """``model.fit(X, y)`` without the ``ConvergenceWarning``; returns the model."""
    with convergence_warnings_ignored():
        return model.fit(X, y)
