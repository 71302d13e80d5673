"""Multilayer perceptrons with sparse (k-winners-take-all) hidden activations,
as scikit-learn estimators."""

from ._classifier import SparseMLPClassifier
from ._config import config_context, get_config, set_config
from ._persistence import SparseActVersionWarning
from ._regressor import SparseMLPRegressor

__version__ = "0.1.0"

__all__ = [
    "SparseActVersionWarning",
    "SparseMLPClassifier",
    "SparseMLPRegressor",
    "__version__",
    "config_context",
    "get_config",
    "set_config",
]
