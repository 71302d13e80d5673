"""Multilayer perceptrons with sparse (k-winners-take-all) hidden activations,
as scikit-learn estimators."""

from ._classifier import SparseMLPClassifier
from ._persistence import SparseActVersionWarning
from ._regressor import SparseMLPRegressor

__version__ = "0.1.0"

__all__ = [
    "SparseActVersionWarning",
    "SparseMLPClassifier",
    "SparseMLPRegressor",
    "__version__",
]
