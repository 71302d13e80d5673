"""Sparse connections (``weight_density``): the pattern drawn, and absent
weights that stay exactly zero through every solver and way of training."""

import copy
import pickle

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import make_classification
from sklearn.model_selection import GridSearchCV
from sklearn.utils._param_validation import InvalidParameterError

from sklearn_sparse_act import SparseMLPClassifier, SparseMLPRegressor

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

ESTIMATORS = [SparseMLPClassifier, SparseMLPRegressor]
SIZES = (24, 16)
DENSITIES = [0.3, 0.5]

# Every way the solvers update the weights.
SOLVER_OPTIONS = {
    "adam": {"solver": "adam"},
    "sgd-nesterov": {"solver": "sgd", "momentum": 0.9},
    "sgd-momentum": {"solver": "sgd", "momentum": 0.9, "nesterovs_momentum": False},
    "sgd-plain": {"solver": "sgd", "momentum": 0.0},
    "lbfgs": {"solver": "lbfgs"},
    "adam-early-stopping": {"solver": "adam", "early_stopping": True},
    "sgd-early-stopping": {"solver": "sgd", "early_stopping": True},
}


def _problem(estimator_class, n_samples=120):
    X, y = make_classification(
        n_samples=n_samples, n_features=10, n_informative=6, random_state=0
    )
    if estimator_class is SparseMLPRegressor:
        y = X[:, 0] - X[:, 1] * X[:, 2]
    return X, y


def _model(estimator_class, **params):
    defaults = dict(
        hidden_layer_sizes=SIZES,
        activation_ratio=0.25,
        weight_density=DENSITIES,
        max_iter=15,
        random_state=0,
    )
    return estimator_class(**defaults | params)


def assert_absent_weights_zero(model):
    """Every absent weight and its best-epoch copy is exactly zero, and the
    optimizer's state holds the present weights only; the present weights
    are not zero (they were trained)."""
    masks = model.connection_masks_
    assert len(masks) == len(SIZES) and all(mask is not None for mask in masks)
    state = getattr(model, "_optimizer_state", None) or {}
    for layer, mask in enumerate(masks):
        assert mask.shape == model.coefs_[layer].shape
        # +0.0 (not -0.0): every absent weight has the same bits.
        assert not np.signbit(model.coefs_[layer][~mask]).any()
        assert np.all(model.coefs_[layer][~mask] == 0)
        assert np.all(model._best_coefs[layer][~mask] == 0)
        assert np.count_nonzero(model.coefs_[layer][mask]) == mask.sum()
        # The optimizer's state of the layer holds its present weights only.
        for name in ("velocities", "first_moments", "second_moments"):
            if name in state:
                assert state[name][layer].shape == (mask.sum(),), name
    # The output layer is fully connected.
    assert np.count_nonzero(model.coefs_[-1]) == model.coefs_[-1].size


@pytest.mark.parametrize("options", SOLVER_OPTIONS.values(), ids=SOLVER_OPTIONS)
@pytest.mark.parametrize("estimator_class", ESTIMATORS)
def test_absent_weights_stay_zero_for_every_solver(estimator_class, options):
    X, y = _problem(estimator_class)
    model = _model(estimator_class, **options).fit(X, y)
    assert model.n_iter_ > 1
    assert_absent_weights_zero(model)


@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
def test_warm_start_keeps_the_connections(solver):
    X, y = _problem(SparseMLPClassifier)
    model = _model(SparseMLPClassifier, solver=solver, warm_start=True).fit(X, y)
    masks = [mask.copy() for mask in model.connection_masks_]
    model.fit(X, y)
    for kept, mask in zip(masks, model.connection_masks_, strict=True):
        np.testing.assert_array_equal(mask, kept)
    assert_absent_weights_zero(model)
    with pytest.raises(ValueError, match="keep the fitted connections"):
        model.set_params(weight_density=0.5).fit(X, y)


@pytest.mark.parametrize("solver", ["adam", "sgd"])
@pytest.mark.parametrize("estimator_class", ESTIMATORS)
def test_partial_fit_keeps_the_connections(estimator_class, solver):
    X, y = _problem(estimator_class)
    model = _model(estimator_class, solver=solver)
    extra = {"classes": np.unique(y)} if estimator_class is SparseMLPClassifier else {}
    model.partial_fit(X[:60], y[:60], **extra)
    masks = [mask.copy() for mask in model.connection_masks_]
    for start in (60, 0, 30):
        model.partial_fit(X[start : start + 60], y[start : start + 60])
    for kept, mask in zip(masks, model.connection_masks_, strict=True):
        np.testing.assert_array_equal(mask, kept)
    assert_absent_weights_zero(model)


def test_compact_slices_the_connections_with_the_units():
    X, y = _problem(SparseMLPClassifier)
    model = _model(SparseMLPClassifier, activation_ratio=0.1, max_iter=30).fit(X, y)
    compacted = model.compact()
    assert sum(compacted.removed_units_) > 0
    for layer, mask in enumerate(compacted.connection_masks_):
        assert mask.shape == compacted.coefs_[layer].shape
        assert np.all(compacted.coefs_[layer][~mask] == 0)
    # Kept units keep their inputs (from the kept units below).
    first, second = model._training_winners
    np.testing.assert_array_equal(
        compacted.connection_masks_[0], model.connection_masks_[0][:, first]
    )
    np.testing.assert_array_equal(
        compacted.connection_masks_[1], model.connection_masks_[1][first][:, second]
    )
    # Same winners, smaller products: BLAS may sum in another order.
    np.testing.assert_allclose(
        compacted.predict_proba(X), model.predict_proba(X), rtol=1e-12
    )


@pytest.mark.parametrize(
    "density, fan_in, expected",
    [(0.3, 10, [3, 6]), (0.05, 10, [1, 1]), (0.5, 8, [4, 8]), (0.25, 10, [3, 5])],
)
def test_every_unit_has_the_same_number_of_inputs(density, fan_in, expected):
    """``max(1, floor(density * fan_in + 0.5))`` inputs per unit (the second
    hidden layer's fan-in is twice the first's)."""
    X, y = _problem(SparseMLPClassifier)
    model = SparseMLPClassifier(
        hidden_layer_sizes=(fan_in * 2, 16),
        weight_density=density,
        max_iter=1,
        random_state=0,
    ).fit(X[:, :fan_in], y)
    for mask, inputs in zip(model.connection_masks_, expected, strict=True):
        np.testing.assert_array_equal(mask.sum(axis=0), inputs)
        # Different units draw different inputs.
        assert len({mask[:, unit].tobytes() for unit in range(mask.shape[1])}) > 1


def test_pattern_follows_the_random_state():
    X, y = _problem(SparseMLPClassifier)

    def masks(seed):
        model = _model(SparseMLPClassifier, max_iter=1, random_state=seed)
        return model.fit(X, y).connection_masks_

    for same, again in zip(masks(0), masks(0), strict=True):
        np.testing.assert_array_equal(same, again)
    for first, second in zip(masks(0), masks(1), strict=True):
        assert not np.array_equal(first, second)


@pytest.mark.parametrize("estimator_class", ESTIMATORS)
def test_full_density_draws_no_connections(estimator_class):
    X, y = _problem(estimator_class)
    default = _model(estimator_class, weight_density=1.0).fit(X, y)
    per_layer = _model(estimator_class, weight_density=[1.0, 1.0]).fit(X, y)
    assert default.connection_masks_ == [None, None]
    assert per_layer.connection_masks_ == [None, None]
    for ours, theirs in zip(default.coefs_, per_layer.coefs_, strict=True):
        np.testing.assert_array_equal(ours, theirs)
    # A density that keeps every input of a layer gives it no mask.
    mixed = _model(estimator_class, weight_density=[0.3, 0.99]).fit(X, y)
    assert mixed.connection_masks_[0] is not None
    assert mixed.connection_masks_[1] is None


@pytest.mark.parametrize("estimator_class", ESTIMATORS)
@pytest.mark.parametrize("density", [0, 1.5, -0.1, "half", None])
def test_invalid_weight_density(estimator_class, density):
    X, y = _problem(estimator_class, n_samples=40)
    with pytest.raises(InvalidParameterError, match="'weight_density' parameter"):
        estimator_class(weight_density=density).fit(X, y)


@pytest.mark.parametrize("estimator_class", ESTIMATORS)
@pytest.mark.parametrize("densities", [[0.1], [0.1, 0.2, 0.3], [0.1, 0], [0.5, 1.5]])
def test_invalid_per_layer_densities(estimator_class, densities):
    X, y = _problem(estimator_class, n_samples=40)
    with pytest.raises(ValueError, match="weight_density"):
        estimator_class(hidden_layer_sizes=(8, 8), weight_density=densities).fit(X, y)


def test_grid_search_over_weight_density():
    X, y = _problem(SparseMLPClassifier)
    search = GridSearchCV(
        _model(SparseMLPClassifier, max_iter=5),
        {"weight_density": [0.3, [0.5, 1.0]]},
        cv=2,
    ).fit(X, y)
    assert search.best_params_["weight_density"] in ([0.5, 1.0], 0.3)
    best = search.best_estimator_
    assert best.weight_density == search.best_params_["weight_density"]
    assert best.connection_masks_[0] is not None


# ----------------------------------------------------------------------------
# Holding the sparse layers as sparse matrices: sparsify_weights() and
# densify_weights()
# ----------------------------------------------------------------------------


def _layer_arrays(model, layer):
    """Layer ``layer``'s weights, best-epoch weights and optimizer arrays."""
    state = model._optimizer_state
    return [model.coefs_[layer], model._best_coefs[layer]] + [
        state[name][layer] for name in ("first_moments", "second_moments")
    ]


@pytest.fixture
def held_sparse():
    """A classifier with a sparse first and a fully connected second layer,
    a copy of it as fitted, and the copy's probabilities on its data; the
    classifier then held sparse."""
    X, y = _problem(SparseMLPClassifier)
    model = _model(SparseMLPClassifier, weight_density=[0.3, 1.0]).fit(X, y)
    fitted = copy.deepcopy(model)
    assert model.sparsify_weights() is model
    return model, fitted, X, y


def test_sparsify_weights_keeps_only_the_present_weights(held_sparse):
    model, fitted, X, _ = held_sparse
    first, second, output = model.coefs_
    assert sp.issparse(first) and first.format == "csr"
    assert isinstance(second, np.ndarray) and isinstance(output, np.ndarray)
    mask = model.connection_masks_[0]
    # The stored entries are the mask's pattern (zeros included), in order.
    pattern = sp.csr_matrix(
        (np.ones(first.nnz), first.indices, first.indptr), shape=first.shape
    )
    np.testing.assert_array_equal(pattern.toarray() == 1, mask)
    # The optimizer's state of the layer held its present weights only
    # before; the weights and their best-epoch copy hold them now.
    pairs = zip(_layer_arrays(model, 0), _layer_arrays(fitted, 0), strict=True)
    for held, fitted_array in pairs:
        values = held.data if sp.issparse(held) else held
        present = fitted_array if fitted_array.ndim == 1 else fitted_array[mask]
        assert values.tobytes() == present.tobytes()
    # The fully connected layer keeps its dense arrays.
    pairs = zip(_layer_arrays(model, 1), _layer_arrays(fitted, 1), strict=True)
    for held, dense in pairs:
        assert isinstance(held, np.ndarray) and held.tobytes() == dense.tobytes()
    # The products run in another order: round-off apart, the same outputs.
    np.testing.assert_allclose(
        model.predict_proba(X), fitted.predict_proba(X), rtol=1e-10, atol=1e-14
    )
    np.testing.assert_allclose(
        model.hidden_activations(X, layer=1).toarray(),
        fitted.hidden_activations(X, layer=1).toarray(),
        rtol=1e-10,
        atol=1e-14,
    )


def test_densify_weights_restores_every_array_bit_for_bit(held_sparse):
    model, fitted, _, _ = held_sparse
    assert model.densify_weights() is model
    for layer in range(2):
        for restored, dense in zip(
            _layer_arrays(model, layer), _layer_arrays(fitted, layer), strict=True
        ):
            assert isinstance(restored, np.ndarray)
            assert restored.tobytes() == dense.tobytes()


def test_a_model_held_sparse_is_persisted_held_sparse(held_sparse):
    model, _, X, _ = held_sparse
    loaded = pickle.loads(pickle.dumps(model))
    assert sp.issparse(loaded.coefs_[0])
    assert loaded.coefs_[0].data.tobytes() == model.coefs_[0].data.tobytes()
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))
    compacted = model.compact()
    assert sp.issparse(compacted.coefs_[0])
    np.testing.assert_allclose(
        compacted.predict_proba(X),
        model.densify_weights().compact().predict_proba(X),
        rtol=1e-10,
        atol=1e-14,
    )


def test_training_a_model_held_sparse_needs_densify_weights(held_sparse):
    model, _, X, y = held_sparse
    data = model.coefs_[0].data.copy()
    with pytest.raises(ValueError, match=r"densify_weights\(\)"):
        model.partial_fit(X, y)
    with pytest.raises(ValueError, match=r"densify_weights\(\)"):
        model.set_params(warm_start=True).fit(X, y)
    assert sp.issparse(model.coefs_[0])
    np.testing.assert_array_equal(model.coefs_[0].data, data)
    model.densify_weights().partial_fit(X, y)
    model.set_params(warm_start=False).sparsify_weights().fit(X, y)
    assert all(isinstance(coef, np.ndarray) for coef in model.coefs_)


def test_layers_held_sparse_predict_on_either_compute_path(compute_path):
    # On the sparse path the second layer reads the first one's winners.
    X, y = _problem(SparseMLPClassifier)
    model = _model(SparseMLPClassifier).fit(X, y)
    proba = model.predict_proba(X)
    model.sparsify_weights()
    assert all(sp.issparse(coef) for coef in model.coefs_[:2])
    np.testing.assert_allclose(model.predict_proba(X), proba, rtol=1e-10, atol=1e-14)
