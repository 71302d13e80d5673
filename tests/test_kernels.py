"""The sparse-kernel path computes what the dense path computes."""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import make_classification, make_regression

from sklearn_sparse_act import SparseMLPClassifier, SparseMLPRegressor, _kernels

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _fit_on_path(monkeypatch, path, estimator, X, y, **fit_params):
    sparse = path == "sparse"
    monkeypatch.setattr(
        _kernels,
        "use_sparse_path",
        lambda n_active, width, fan_out: sparse and n_active < width,
    )
    return estimator.fit(X, y, **fit_params)


@pytest.mark.parametrize(
    "params",
    [
        dict(sparsity_strategy="fixed", activation="relu"),
        dict(sparsity_strategy="dynamic", activation="tanh"),
        dict(sparsity_strategy="fixed", activation="logistic", boost_strength=2.0),
        dict(sparsity_strategy="dynamic", activation="relu", solver="sgd"),
        dict(sparsity_strategy="fixed", activation="identity", solver="lbfgs"),
    ],
)
def test_dense_and_sparse_paths_agree(monkeypatch, params):
    X, y = make_classification(
        n_samples=300, n_features=20, n_informative=10, n_classes=3, random_state=0
    )
    sample_weight = np.random.RandomState(0).uniform(0.5, 2, size=300)
    models = {}
    for path in ("dense", "sparse"):
        estimator = SparseMLPClassifier(
            hidden_layer_sizes=(64, 48),
            activation_ratio=[0.1, 0.05],
            max_iter=8,
            random_state=0,
            **params,
        )
        models[path] = _fit_on_path(
            monkeypatch, path, estimator, X, y, sample_weight=sample_weight
        )
        models[path].proba_ = models[path].predict_proba(X)
        models[path].codes_ = models[path].hidden_activations(X, layer=1).toarray()
    dense, sparse = models["dense"], models["sparse"]
    for ours, theirs in zip(sparse.coefs_, dense.coefs_, strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(sparse.proba_, dense.proba_, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(sparse.codes_, dense.codes_, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(sparse.duty_cycles_[0], dense.duty_cycles_[0])
    np.testing.assert_array_equal(sparse.dead_units_, dense.dead_units_)


def test_paths_agree_for_regression_with_sparse_input(monkeypatch):
    X, y = make_regression(n_samples=200, n_features=30, random_state=0)
    X[np.abs(X) < 1] = 0
    X = sp.csr_matrix(X)
    predictions = []
    for path in ("dense", "sparse"):
        estimator = SparseMLPRegressor(
            hidden_layer_sizes=(80,), activation_ratio=0.05, max_iter=5, random_state=0
        )
        model = _fit_on_path(monkeypatch, path, estimator, X, y / 100)
        predictions.append(model.predict(X))
    np.testing.assert_allclose(predictions[1], predictions[0], rtol=1e-10)


def test_winners_structure_round_trips_a_mask():
    mask = np.array([[True, False, True], [False, False, False], [False, True, False]])
    winners = _kernels.Winners.from_mask(mask)
    np.testing.assert_array_equal(winners.indptr, [0, 2, 2, 3])
    np.testing.assert_array_equal(winners.indices, [0, 2, 1])
    values = np.arange(9.0).reshape(3, 3)
    np.testing.assert_array_equal(winners.gather(values), [0.0, 2.0, 7.0])
    np.testing.assert_array_equal(
        winners.to_csr(winners.gather(values)).toarray(), values * mask
    )
    np.testing.assert_array_equal(winners.counts(), [1, 1, 1])


@pytest.mark.parametrize("upstream_format", ["dense", "csr"])
def test_winners_delta_is_the_gathered_product(upstream_format):
    rng = np.random.RandomState(0)
    mask = rng.rand(50, 40) < 0.1
    upstream = rng.normal(size=(50, 30))
    if upstream_format == "csr":
        upstream[rng.rand(50, 30) < 0.8] = 0
        upstream = sp.csr_matrix(upstream)
    weights = rng.normal(size=(40, 30))
    winners = _kernels.Winners.from_mask(mask)
    expected = (upstream @ weights.T)[mask]
    np.testing.assert_allclose(
        _kernels.winners_delta(upstream, weights, winners), expected, rtol=1e-12
    )


def test_cost_model_prefers_dense_at_high_ratios_and_small_fan_out():
    for width in (64, 256, 1024, 4096, 16384):
        decisions = [
            _kernels.use_sparse_path(n_active, width, 1024)
            for n_active in range(1, width + 1)
        ]
        # Sparse up to some number of winners (possibly none), dense above it.
        switch = decisions.index(False)
        assert not any(decisions[switch:])
        assert not _kernels.use_sparse_path(width // 2, width, 1024)
        assert not _kernels.use_sparse_path(1, width, 10)
    assert _kernels.use_sparse_path(10, 1024, 1024)
    assert _kernels.use_sparse_path(82, 4096, 4096)
