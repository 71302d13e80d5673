"""scikit-learn's estimator API checks for every configuration we promise."""

import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_sparse_act import SparseMLPClassifier, SparseMLPRegressor

CONFIGURATIONS = [
    {},
    {"sparsity_strategy": "dynamic"},
    {"sparsity_strategy": "dynamic", "activation_ratio": 0.2},
    {
        "hidden_layer_sizes": (16, 12),
        "activation": "tanh",
        "activation_ratio": [0.25, 0.5],
    },
    {"solver": "lbfgs"},
    {"solver": "sgd"},
    {"activation_ratio": 1.0},
]

ESTIMATORS = [
    estimator_class(**params)
    for estimator_class in (SparseMLPClassifier, SparseMLPRegressor)
    for params in CONFIGURATIONS
]


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@parametrize_with_checks(ESTIMATORS)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
