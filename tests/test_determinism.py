"""Determinism: the same data and random_state give bitwise identical models,
run after run and whatever the number of jobs of a search."""

import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import load_diabetes, load_iris
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV

from sklearn_sparse_act import SparseMLPClassifier, SparseMLPRegressor


def _data(estimator_class, dtype):
    if estimator_class is SparseMLPClassifier:
        X, y = load_iris(return_X_y=True)
        return (X / 8).astype(dtype), y
    X, y = load_diabetes(return_X_y=True)
    return (X[:200] * 10).astype(dtype), y[:200] / 300


def _fit(model, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(X, y)


def _fingerprint(model, X):
    """Everything a run produces that randomness could change."""
    arrays = {
        "coefs_": model.coefs_,
        "intercepts_": model.intercepts_,
        "activation_thresholds_": model.activation_thresholds_,
        "active_fraction_": model.active_fraction_,
        "loss_curve_": getattr(model, "loss_curve_", None),
        "validation_scores_": getattr(model, "validation_scores_", None),
        "predict": model.predict(X),
    }
    if hasattr(model, "predict_proba"):
        arrays["predict_proba"] = model.predict_proba(X)
    return arrays


def _assert_bitwise_equal(first, second):
    assert first.keys() == second.keys()
    for name in first:
        if first[name] is None:
            assert second[name] is None, name
        elif isinstance(first[name], list) and not np.isscalar(first[name][0]):
            for left, right in zip(first[name], second[name], strict=True):
                np.testing.assert_array_equal(left, right, err_msg=name, strict=True)
        else:
            np.testing.assert_array_equal(
                np.asarray(first[name]), np.asarray(second[name]), err_msg=name
            )


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
@pytest.mark.parametrize("strategy", ["fixed", "dynamic"])
@pytest.mark.parametrize("estimator_class", [SparseMLPClassifier, SparseMLPRegressor])
def test_same_data_and_seed_give_bitwise_identical_runs(
    estimator_class, strategy, solver, dtype
):
    X, y = _data(estimator_class, dtype)
    params = {
        "hidden_layer_sizes": (16, 8),
        "activation_ratio": 0.25,
        "sparsity_strategy": strategy,
        "solver": solver,
        "max_iter": 10,
        "random_state": 7,
    }
    if solver != "lbfgs":
        # Randomness beyond the initial weights: shuffling, the validation
        # split, and boosting's tie-breaks.
        params.update(early_stopping=True, boost_strength=1.0)
    first = _fit(estimator_class(**params), X, y)
    second = _fit(estimator_class(**params), X, y)
    refit = _fit(first, X, y)  # the same instance, fitted again
    cloned = _fit(clone(second), X, y)

    reference = _fingerprint(second, X)
    for run in (refit, cloned):
        _assert_bitwise_equal(_fingerprint(run, X), reference)


def test_another_seed_gives_another_model():
    """The check above is not vacuous: the seed does reach the weights."""
    X, y = _data(SparseMLPClassifier, np.float64)
    models = [
        _fit(SparseMLPClassifier((8,), max_iter=5, random_state=seed), X, y)
        for seed in (0, 1)
    ]
    assert not np.array_equal(models[0].coefs_[0], models[1].coefs_[0])


@pytest.mark.parametrize("estimator_class", [SparseMLPClassifier, SparseMLPRegressor])
def test_grid_search_is_bitwise_identical_across_n_jobs(estimator_class):
    X, y = _data(estimator_class, np.float64)
    estimator = estimator_class(
        hidden_layer_sizes=(16,), max_iter=15, random_state=0, solver="adam"
    )
    grid = {
        "activation_ratio": [0.125, 0.5],
        "sparsity_strategy": ["fixed", "dynamic"],
    }
    searches = []
    for n_jobs in (1, 2):
        search = GridSearchCV(clone(estimator), grid, cv=3, n_jobs=n_jobs)
        searches.append(_fit(search, X, y))
    sequential, parallel = searches

    score_keys = [key for key in sequential.cv_results_ if "test_score" in key]
    assert "split0_test_score" in score_keys
    for key in score_keys:
        np.testing.assert_array_equal(
            parallel.cv_results_[key], sequential.cv_results_[key], err_msg=key
        )
    assert parallel.best_params_ == sequential.best_params_
    _assert_bitwise_equal(
        _fingerprint(parallel.best_estimator_, X),
        _fingerprint(sequential.best_estimator_, X),
    )
