"""Behaviour of the public estimators as scikit-learn users rely on it."""

import io
import pickle
import re
import warnings
from contextlib import redirect_stdout

import joblib
import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.datasets import (
    load_diabetes,
    load_digits,
    load_iris,
    make_multilabel_classification,
)
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.multioutput import MultiOutputClassifier
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler, StandardScaler
from sklearn.utils._param_validation import InvalidParameterError

from sklearn_sparse_act import SparseMLPClassifier, SparseMLPRegressor
from sklearn_sparse_act._stochastic import StochasticSolver

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
ESTIMATORS = [SparseMLPClassifier, SparseMLPRegressor]


def _normalised_message(error_info, estimator_class):
    """The error message without the class name, with sets in sorted order
    (a set of options may iterate in another order in another process)."""
    message = str(error_info.value).replace(estimator_class.__name__, "")
    return re.sub(
        r"\{([^{}]*)\}",
        lambda match: "{" + ", ".join(sorted(match.group(1).split(", "))) + "}",
        message,
    )


def _small_problem(estimator_class, n_samples=40):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(n_samples, 5))
    y = (X[:, 0] > 0).astype(int) if estimator_class is SparseMLPClassifier else X[:, 0]
    return X, y


# ----------------------------------------------------------------------------
# Same parameters as scikit-learn
# ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "ours, theirs",
    [(SparseMLPClassifier, MLPClassifier), (SparseMLPRegressor, MLPRegressor)],
)
def test_parameters_match_scikit_learn(ours, theirs):
    our_params = ours().get_params()
    their_params = theirs().get_params()
    # Our own defaults, each resolving to scikit-learn's at ratio 1.0.
    assert our_params.pop("learning_rate_init") == "auto"
    for name, value in their_params.items():
        if name == "learning_rate_init":
            continue
        assert our_params[name] == value, name
    new_params = {
        "activation_ratio",
        "weight_density",
        "sparsity_strategy",
        "boost_strength",
        "boost_decay",
        "inference_ratio_factor",
        "sparsity_warmup",
        "transform_layer",
    }
    if ours is SparseMLPClassifier:
        new_params.add("class_weight")
    else:
        new_params.add("normalize_y")
    assert set(our_params) - set(their_params) == new_params
    assert our_params["activation_ratio"] == "auto"
    assert our_params["sparsity_strategy"] == "fixed"


@pytest.mark.parametrize(
    "activation_ratio, sizes, expected",
    [
        (1.0, (20,), 0.001),
        (0.5, (20,), 0.001),
        (0.25, (20,), 0.002),
        ([0.5, 0.1], (20, 20), 0.005),
        ([0.1, 0.5], (20, 20), 0.001),
        (0.1, (20,), 0.005),
        (0.05, (20,), 0.01),
        (0.02, (20,), 0.01),
        ("auto", (100,), 0.001),  # ratio 0.5: 50 winners
        ("auto", (20, 1000), 0.005),  # last layer at ratio 0.1
    ],
)
def test_auto_learning_rate_scales_with_the_last_ratio(
    activation_ratio, sizes, expected
):
    # 0.001 * (h / 2) / k, within [0.001, 0.01].
    X = np.random.RandomState(0).normal(size=(40, 5))
    y = np.arange(40) % 2
    model = SparseMLPClassifier(
        hidden_layer_sizes=sizes, activation_ratio=activation_ratio, max_iter=1
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
    initial_step = model._optimizer_state["learning_rate"]
    # Adam's state holds the bias-corrected step of its last update.
    step = model._optimizer_state["step"]
    correction = np.sqrt(1 - 0.999**step) / (1 - 0.9**step)
    assert initial_step == pytest.approx(expected * correction, rel=1e-12)


@pytest.mark.parametrize(
    "sizes, expected",
    [
        ((20,), [20]),  # at most 50 units: dense
        ((50,), [50]),
        ((100,), [50]),  # the default: half the layer
        ((300,), [50]),
        ((500,), [50]),
        ((1000,), [100]),  # from 500 units on: ratio 0.1
        ((100, 2000, 8), [50, 200, 8]),
    ],
)
def test_auto_activation_ratio_keeps_at_least_50_winners(sizes, expected):
    X = np.random.RandomState(0).normal(size=(30, 4))
    y = np.arange(30) % 2
    model = SparseMLPClassifier(hidden_layer_sizes=sizes, max_iter=1)
    assert model.activation_ratio == "auto"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
    assert model.active_units_ == expected
    np.testing.assert_allclose(
        model.sparsity_curve_[-1], np.divide(expected, sizes), rtol=1e-12
    )


def test_explicit_ratio_keeps_its_meaning_below_50_winners():
    X = np.random.RandomState(0).normal(size=(30, 4))
    y = np.arange(30) % 2
    model = SparseMLPRegressor(activation_ratio=0.1, max_iter=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
    assert model.active_units_ == [10]


@pytest.mark.parametrize(
    "ours, theirs",
    [(SparseMLPClassifier, MLPClassifier), (SparseMLPRegressor, MLPRegressor)],
)
def test_defaults_on_a_narrow_layer_train_as_scikit_learn(ours, theirs):
    # 'auto' makes a layer of at most 50 units dense, and the 'auto' step is
    # then scikit-learn's 0.001: the same fit, epoch by epoch.
    X, y = load_digits(return_X_y=True)
    X = X[:400] / 16
    y = y[:400] if ours is SparseMLPClassifier else y[:400] / 9.0
    params = dict(hidden_layer_sizes=(40,), max_iter=15, random_state=0)
    extra = {} if ours is SparseMLPClassifier else {"normalize_y": False}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        mine = ours(**params, **extra).fit(X, y)
        reference = theirs(**params).fit(X, y)
    assert mine.active_units_ == [40]
    np.testing.assert_allclose(mine.loss_curve_, reference.loss_curve_, rtol=1e-6)


def test_dense_classifier_matches_scikit_learn_on_digits(digits_split):
    X_train, X_test, y_train, y_test = digits_split
    params = dict(hidden_layer_sizes=(64,), max_iter=60, random_state=0)
    ours = SparseMLPClassifier(activation_ratio=1.0, **params).fit(X_train, y_train)
    theirs = MLPClassifier(**params).fit(X_train, y_train)
    assert abs(ours.score(X_test, y_test) - theirs.score(X_test, y_test)) <= 0.01
    assert ours.n_iter_ == theirs.n_iter_
    np.testing.assert_allclose(ours.loss_curve_, theirs.loss_curve_, rtol=1e-6)


def test_dense_regressor_matches_scikit_learn_on_diabetes():
    X, y = load_diabetes(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    scaler = StandardScaler().fit(X_train)
    X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
    params = dict(
        hidden_layer_sizes=(32,),
        solver="lbfgs",
        max_iter=200,
        alpha=1.0,
        random_state=0,
    )
    ours = SparseMLPRegressor(activation_ratio=1.0, normalize_y=False, **params)
    ours.fit(X_train, y_train)
    theirs = MLPRegressor(**params).fit(X_train, y_train)
    assert abs(ours.score(X_test, y_test) - theirs.score(X_test, y_test)) <= 0.01


# ----------------------------------------------------------------------------
# normalize_y
# ----------------------------------------------------------------------------
@pytest.mark.parametrize("n_outputs", [1, 3])
def test_normalize_y_trains_on_standardized_targets(n_outputs):
    # Training on y with normalize_y is training on the standardized y without
    # it, with predictions mapped back: the same computation up to round-off.
    rng = np.random.RandomState(0)
    X = rng.normal(size=(120, 6))
    y = X[:, :n_outputs] @ rng.normal(size=(n_outputs, n_outputs)) * 50 + 300
    y = y.ravel() if n_outputs == 1 else y
    weights = rng.randint(1, 4, size=120).astype(float)
    params = dict(hidden_layer_sizes=(30,), max_iter=20, random_state=0)
    normalized = SparseMLPRegressor(**params).fit(X, y, sample_weight=weights)
    mean = np.average(y, axis=0, weights=weights)
    std = np.sqrt(np.average((y - mean) ** 2, axis=0, weights=weights))
    by_hand = SparseMLPRegressor(normalize_y=False, **params)
    by_hand.fit(X, (y - mean) / std, sample_weight=weights)
    np.testing.assert_allclose(normalized._y_train_mean, np.atleast_1d(mean))
    np.testing.assert_allclose(normalized.loss_curve_, by_hand.loss_curve_, rtol=1e-9)
    np.testing.assert_allclose(
        normalized.predict(X), by_hand.predict(X) * std + mean, rtol=1e-9
    )


def test_normalize_y_statistics_come_from_the_first_partial_fit_call():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(200, 4))
    y = X @ rng.normal(size=4) * 10 + 1000
    model = SparseMLPRegressor(hidden_layer_sizes=(20,), random_state=0)
    model.partial_fit(X[:100], y[:100])
    first_mean = model._y_train_mean.copy()
    model.partial_fit(X[100:], y[100:] + 500)
    np.testing.assert_array_equal(model._y_train_mean, first_mean)


def test_normalize_y_closes_the_gap_on_offset_targets():
    # Targets of mean 1000: without normalize_y the network spends its epochs
    # reaching the offset.
    rng = np.random.RandomState(0)
    X = rng.normal(size=(300, 5))
    y = X @ rng.normal(size=5) * 10 + 1000
    params = dict(hidden_layer_sizes=(50,), max_iter=50, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        normalized = SparseMLPRegressor(**params).fit(X, y)
        raw = SparseMLPRegressor(normalize_y=False, **params).fit(X, y)
    assert normalized.score(X, y) > 0.9 > raw.score(X, y)


# ----------------------------------------------------------------------------
# Targets and inputs
# ----------------------------------------------------------------------------
@pytest.mark.parametrize("strategy", ["fixed", "dynamic"])
def test_multilabel_classification(strategy):
    X, Y = make_multilabel_classification(n_samples=120, n_classes=4, random_state=0)
    model = SparseMLPClassifier(
        hidden_layer_sizes=(40,),
        sparsity_strategy=strategy,
        activation_ratio=0.25,
        max_iter=200,
        random_state=0,
    ).fit(X, Y)
    assert model.out_activation_ == "logistic"
    proba = model.predict_proba(X)
    assert proba.shape == (120, 4)
    assert model.predict(X).shape == (120, 4)
    # A network of 40 hidden units fits its 120 training rows better than
    # one logistic regression per label (subset accuracy 0.59; the network
    # reaches 0.79 to 0.80 with either strategy). Asking for 0.1 more leaves
    # room for another machine's round-off to change the training path, and
    # fails a model that learned no more than a linear one.
    linear = MultiOutputClassifier(LogisticRegression(max_iter=1000)).fit(X, Y)
    assert model.score(X, Y) > linear.score(X, Y) + 0.1


def test_binary_and_multioutput_regression(digits_split):
    X_train, X_test, y_train, _ = digits_split
    binary = SparseMLPClassifier(max_iter=20, random_state=0).fit(X_train, y_train % 2)
    assert binary.predict_proba(X_test).shape == (X_test.shape[0], 2)
    np.testing.assert_allclose(binary.predict_proba(X_test).sum(axis=1), 1)
    Y = np.column_stack([X_train[:, 10], X_train[:, 20] - X_train[:, 30]])
    regressor = SparseMLPRegressor(
        hidden_layer_sizes=(50,), activation_ratio=0.2, max_iter=50, random_state=0
    ).fit(X_train, Y)
    assert regressor.predict(X_test).shape == (X_test.shape[0], 2)
    assert regressor.n_outputs_ == 2


def test_poisson_regression_predicts_positive_rates():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(200, 3))
    y = rng.poisson(np.exp(0.5 * X[:, 0]))
    model = SparseMLPRegressor(
        loss="poisson",
        hidden_layer_sizes=(20,),
        activation_ratio=0.25,
        max_iter=100,
        random_state=0,
    ).fit(X, y)
    assert model.out_activation_ == "exp"
    assert np.all(model.predict(X) > 0)


@pytest.mark.parametrize("estimator_class", ESTIMATORS)
@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_float32_is_kept(estimator_class, solver):
    X, y = _small_problem(estimator_class)
    model = estimator_class(
        hidden_layer_sizes=(8,), solver=solver, max_iter=5, random_state=0
    ).fit(X.astype(np.float32), y)
    assert all(coef.dtype == np.float32 for coef in model.coefs_)
    assert all(bias.dtype == np.float32 for bias in model.intercepts_)
    output = (
        model.predict_proba if hasattr(model, "predict_proba") else model.predict
    )(X.astype(np.float32))
    assert output.dtype == np.float32


@pytest.mark.parametrize("estimator_class", ESTIMATORS)
@pytest.mark.parametrize("sparse_format", ["csr", "csc"])
def test_sparse_input_gives_dense_results(estimator_class, sparse_format):
    X, y = _small_problem(estimator_class)
    X[np.abs(X) < 0.8] = 0
    params = dict(hidden_layer_sizes=(10,), max_iter=20, random_state=0)
    dense = estimator_class(**params).fit(X, y)
    sparse = estimator_class(**params).fit(sp.csr_matrix(X).asformat(sparse_format), y)
    for sparse_coef, dense_coef in zip(sparse.coefs_, dense.coefs_, strict=True):
        np.testing.assert_allclose(sparse_coef, dense_coef, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(sparse.predict(X), dense.predict(X), rtol=1e-10)


# ----------------------------------------------------------------------------
# Methods, solvers and fitting modes
# ----------------------------------------------------------------------------
@pytest.mark.parametrize("estimator_class", ESTIMATORS)
def test_partial_fit_only_for_stochastic_solvers(estimator_class):
    assert not hasattr(estimator_class(solver="lbfgs"), "partial_fit")
    assert hasattr(estimator_class(solver="sgd"), "partial_fit")
    assert hasattr(estimator_class(solver="adam"), "partial_fit")


@pytest.mark.parametrize("strategy", ["fixed", "dynamic"])
def test_partial_fit_equals_fit_epochs(digits_split, strategy):
    X_train, _, y_train, _ = digits_split
    params = dict(
        hidden_layer_sizes=(32,),
        sparsity_strategy=strategy,
        shuffle=False,
        random_state=0,
    )
    fitted = SparseMLPClassifier(max_iter=3, tol=0, **params).fit(X_train, y_train)
    incremental = SparseMLPClassifier(**params)
    for _ in range(3):
        incremental.partial_fit(X_train, y_train, classes=np.unique(y_train))
    for ours, theirs in zip(incremental.coefs_, fitted.coefs_, strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12)
    if strategy == "dynamic":
        np.testing.assert_allclose(
            incremental.activation_thresholds_, fitted.activation_thresholds_
        )


@pytest.mark.parametrize("strategy", ["fixed", "dynamic"])
def test_partial_fit_with_sample_weight_equals_weighted_fit_epochs(
    digits_split, strategy
):
    X_train, _, y_train, _ = digits_split
    weights = np.where(y_train < 5, 3.0, 1.0)
    params = dict(
        hidden_layer_sizes=(32,),
        sparsity_strategy=strategy,
        shuffle=False,
        random_state=0,
    )
    fitted = SparseMLPClassifier(max_iter=3, tol=0, **params)
    fitted.fit(X_train, y_train, sample_weight=weights)
    incremental = SparseMLPClassifier(**params)
    for _ in range(3):
        incremental.partial_fit(
            X_train, y_train, sample_weight=weights, classes=np.unique(y_train)
        )
    unweighted = SparseMLPClassifier(max_iter=3, tol=0, **params)
    unweighted.fit(X_train, y_train)
    # The weights change the fit far beyond round-off ...
    assert not np.allclose(fitted.coefs_[0], unweighted.coefs_[0], rtol=1e-3)
    # ... and each partial_fit call trains one weighted epoch as fit does.
    np.testing.assert_allclose(incremental.loss_curve_, fitted.loss_curve_, rtol=1e-12)
    for ours, theirs in zip(incremental.coefs_, fitted.coefs_, strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12)
    if strategy == "dynamic":
        np.testing.assert_allclose(
            incremental.activation_thresholds_, fitted.activation_thresholds_
        )


def test_sample_weight_zero_removes_samples(digits_split):
    X_train, _, y_train, _ = digits_split
    X, y = X_train[:150], y_train[:150]
    weights = np.ones(150)
    weights[100:] = 0
    params = dict(
        hidden_layer_sizes=(20,),
        solver="lbfgs",
        max_iter=30,
        sparsity_strategy="dynamic",
        random_state=0,
    )
    weighted = SparseMLPClassifier(**params).fit(X, y, sample_weight=weights)
    trimmed = SparseMLPClassifier(**params).fit(X[:100], y[:100])
    np.testing.assert_allclose(
        weighted.predict_proba(X), trimmed.predict_proba(X), rtol=1e-6, atol=1e-9
    )


class _RecordingSolver(StochasticSolver):
    """Remembers the weights and thresholds after every epoch."""

    def update_no_improvement_count(self, validation):
        super().update_no_improvement_count(validation)
        thresholds = self.sparsity.thresholds
        self.model.snapshots_.append(
            (
                [coef.copy() for coef in self.model.coefs_],
                None if thresholds is None else thresholds.copy(),
            )
        )


class _RecordingClassifier(SparseMLPClassifier):
    _stochastic_solver = _RecordingSolver


@pytest.mark.parametrize("strategy", ["fixed", "dynamic"])
def test_early_stopping_restores_best_weights(digits_split, strategy):
    X_train, _, y_train, _ = digits_split
    model = _RecordingClassifier(
        activation_ratio=0.1,
        hidden_layer_sizes=(32,),
        sparsity_strategy=strategy,
        early_stopping=True,
        n_iter_no_change=3,
        max_iter=60,
        random_state=0,
    )
    model.snapshots_ = []
    model.fit(X_train, y_train)
    assert model.best_loss_ is None
    assert model.n_iter_ < 60
    assert len(model.validation_scores_) == model.n_iter_
    best_epoch = int(np.argmax(model.validation_scores_))
    assert best_epoch < model.n_iter_ - 1
    assert model.best_validation_score_ == model.validation_scores_[best_epoch]
    best_coefs, best_thresholds = model.snapshots_[best_epoch]
    for restored, best in zip(model.coefs_, best_coefs, strict=True):
        np.testing.assert_array_equal(restored, best)
    if strategy == "dynamic":
        # The thresholds are then settled from the restored weights.
        assert not np.array_equal(model.activation_thresholds_, best_thresholds)
        values = X_train @ model.coefs_[0] + model.intercepts_[0]
        n_firing = np.count_nonzero(values > model.activation_thresholds_[0])
        assert n_firing == X_train.shape[0] * model.active_units_[0]


def test_warm_start_continues_and_keeps_architecture(digits_split):
    X_train, X_test, y_train, y_test = digits_split
    model = SparseMLPClassifier(
        hidden_layer_sizes=(32,), max_iter=5, warm_start=True, random_state=0
    ).fit(X_train, y_train)
    first_curve = list(model.loss_curve_)
    model.fit(X_train, y_train)
    assert model.loss_curve_[: len(first_curve)] == first_curve
    assert len(model.loss_curve_) == 10
    model.set_params(hidden_layer_sizes=(16,))
    with pytest.raises(ValueError, match="keep the fitted architecture"):
        model.fit(X_train, y_train)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_warm_start_follows_changed_stopping_settings(digits_split):
    """A warm start that turns early stopping on or off, or that follows an
    L-BFGS fit, trains with the records its settings need: the validation
    record starts with the fit that turns it on, and ends with the one that
    turns it off."""
    X_train, _, y_train, _ = digits_split
    model = SparseMLPClassifier(
        hidden_layer_sizes=(16,), max_iter=3, warm_start=True, random_state=0
    ).fit(X_train, y_train)
    model.set_params(early_stopping=True).fit(X_train, y_train)
    assert len(model.validation_scores_) == model.n_iter_ == 3
    assert model.best_validation_score_ == max(model.validation_scores_)
    model.set_params(early_stopping=False).fit(X_train, y_train)
    assert model.validation_scores_ is None
    assert model.best_loss_ == min(model.loss_curve_[-3:])

    model = SparseMLPClassifier(
        hidden_layer_sizes=(16,), solver="lbfgs", max_iter=3, warm_start=True
    ).fit(X_train, y_train)
    model.set_params(solver="adam").fit(X_train, y_train)
    assert len(model.loss_curve_) == model.n_iter_ == 3


@pytest.mark.parametrize("first, then", [("adam", "sgd"), ("sgd", "adam")])
def test_partial_fit_follows_a_changed_stochastic_solver(digits_split, first, then):
    """partial_fit after the solver changed between 'adam' and 'sgd' starts
    the new solver's optimizer (it failed with a KeyError on every later
    call), and the steps go on from the trained weights."""
    X_train, _, y_train, _ = digits_split
    classes = np.unique(y_train)
    model = SparseMLPClassifier(hidden_layer_sizes=(16,), solver=first, random_state=0)
    model.partial_fit(X_train, y_train, classes=classes)
    trained = [coef.copy() for coef in model.coefs_]
    model.set_params(solver=then).partial_fit(X_train, y_train)
    assert ("velocities" in model._optimizer_state) == (then == "sgd")
    assert model.t_ == 2 * X_train.shape[0]
    assert not np.array_equal(model.coefs_[0], trained[0])
    model.partial_fit(X_train, y_train)
    assert model.t_ == 3 * X_train.shape[0]


def test_verbose_prints_progress(digits_split):
    X_train, _, y_train, _ = digits_split
    buffer = io.StringIO()
    with redirect_stdout(buffer):
        SparseMLPClassifier(
            hidden_layer_sizes=(8,), max_iter=3, verbose=True, random_state=0
        ).fit(X_train, y_train)
    lines = re.findall(r"Iteration (\d+), loss = ([0-9.]+)", buffer.getvalue())
    assert [int(number) for number, _ in lines] == [1, 2, 3]


@pytest.mark.parametrize("strategy", ["fixed", "dynamic"])
def test_verbose_prints_the_sparsity_of_each_epoch(digits_split, strategy, capsys):
    X_train, _, y_train, _ = digits_split
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = SparseMLPClassifier(
            hidden_layer_sizes=(32, 16),
            activation_ratio=0.25,
            sparsity_strategy=strategy,
            max_iter=3,
            verbose=True,
            random_state=0,
        ).fit(X_train, y_train)
    reports = re.findall(r"^Sparsity: (.*)$", capsys.readouterr().out, re.MULTILINE)
    assert len(reports) == 3
    layer = r"layer (\d): fired ([0-9.]+)%, (\d+) dead of (\d+)(?:, threshold ([^;]+))?"
    last = re.findall(layer, reports[-1])
    assert [int(number) for number, *_ in last] == [0, 1]
    # The last epoch's statistics are the fitted ones (printed to 2 decimals
    # of a percentage).
    for (_, fired, dead, width, threshold), fraction, n_dead, size in zip(
        last, model.active_fraction_, model.dead_units_, (32, 16), strict=True
    ):
        assert float(fired) == pytest.approx(100 * fraction, abs=0.005)
        assert (int(dead), int(width)) == (n_dead, size)
        if strategy == "dynamic":
            assert np.isfinite(float(threshold))
        else:
            assert threshold == ""


# ----------------------------------------------------------------------------
# Pipelines, search and persistence
# ----------------------------------------------------------------------------
def test_grid_search_over_sparsity_in_a_pipeline(digits_split):
    X_train, X_test, y_train, y_test = digits_split
    pipeline = make_pipeline(
        MinMaxScaler(),
        SparseMLPClassifier(hidden_layer_sizes=(64,), max_iter=30, random_state=0),
    )
    grid = {
        "sparsemlpclassifier__activation_ratio": [0.05, 0.25],
        "sparsemlpclassifier__sparsity_strategy": ["fixed", "dynamic"],
    }
    search = GridSearchCV(pipeline, grid, cv=2, n_jobs=2).fit(X_train, y_train)
    assert len(search.cv_results_["params"]) == 4
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))
    best = search.best_estimator_[-1]
    assert (
        best.activation_ratio
        == search.best_params_["sparsemlpclassifier__activation_ratio"]
    )
    assert search.score(X_test, y_test) > 0.8


@pytest.mark.parametrize("estimator_class", ESTIMATORS)
@pytest.mark.parametrize("strategy", ["fixed", "dynamic"])
def test_pickle_and_joblib_round_trips(tmp_path, estimator_class, strategy):
    X, y = _small_problem(estimator_class, n_samples=80)
    model = estimator_class(
        hidden_layer_sizes=(20,),
        activation_ratio=0.2,
        sparsity_strategy=strategy,
        max_iter=30,
        random_state=0,
    ).fit(X, y)
    method = "predict_proba" if hasattr(model, "predict_proba") else "predict"
    expected = getattr(model, method)(X)
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(getattr(restored, method)(X), expected)
    joblib.dump(model, tmp_path / "model.joblib")
    reloaded = joblib.load(tmp_path / "model.joblib")
    np.testing.assert_array_equal(getattr(reloaded, method)(X), expected)
    # The restored model keeps learning from where the original stopped.
    if hasattr(reloaded, "partial_fit"):
        clone_then = pickle.loads(pickle.dumps(model))
        clone_then.partial_fit(X, y)
        reloaded.partial_fit(X, y)
        np.testing.assert_array_equal(reloaded.coefs_[0], clone_then.coefs_[0])


def test_changing_parameters_after_fit_does_not_change_predictions(digits_split):
    X_train, X_test, y_train, _ = digits_split
    model = SparseMLPClassifier(
        hidden_layer_sizes=(32,),
        sparsity_strategy="dynamic",
        max_iter=10,
        random_state=0,
    ).fit(X_train, y_train)
    before = model.predict_proba(X_test)
    model.set_params(activation_ratio=0.5, sparsity_strategy="fixed")
    np.testing.assert_array_equal(model.predict_proba(X_test), before)
    assert clone(model).get_params()["sparsity_strategy"] == "fixed"


# ----------------------------------------------------------------------------
# Bad input
# ----------------------------------------------------------------------------
@pytest.mark.parametrize("estimator_class", ESTIMATORS)
@pytest.mark.parametrize("ratio", [0, 1.5, -0.1, "half", None])
def test_invalid_activation_ratio(estimator_class, ratio):
    X, y = _small_problem(estimator_class)
    with pytest.raises(InvalidParameterError, match="'activation_ratio' parameter"):
        estimator_class(activation_ratio=ratio).fit(X, y)


@pytest.mark.parametrize("estimator_class", ESTIMATORS)
@pytest.mark.parametrize("ratios", [[0.1], [0.1, 0.2, 0.3], [0.1, 0], [0.5, 1.5]])
def test_invalid_per_layer_ratios(estimator_class, ratios):
    X, y = _small_problem(estimator_class)
    with pytest.raises(ValueError, match="activation_ratio"):
        estimator_class(hidden_layer_sizes=(8, 8), activation_ratio=ratios).fit(X, y)


@pytest.mark.parametrize("estimator_class", ESTIMATORS)
@pytest.mark.parametrize("sizes", [(), [], (8, 0), (-3,)])
def test_invalid_hidden_layer_sizes(estimator_class, sizes):
    X, y = _small_problem(estimator_class)
    with pytest.raises(ValueError, match="hidden_layer_sizes must"):
        estimator_class(hidden_layer_sizes=sizes).fit(X, y)


@pytest.mark.parametrize("estimator_class", ESTIMATORS)
def test_unknown_strategy(estimator_class):
    X, y = _small_problem(estimator_class)
    with pytest.raises(InvalidParameterError, match="'sparsity_strategy' parameter"):
        estimator_class(sparsity_strategy="adaptive").fit(X, y)


@pytest.mark.parametrize(
    "ours, theirs",
    [(SparseMLPClassifier, MLPClassifier), (SparseMLPRegressor, MLPRegressor)],
)
@pytest.mark.parametrize(
    "params",
    [
        {"alpha": -1},
        {"solver": "newton"},
        {"hidden_layer_sizes": (0,)},
        {"max_iter": 0},
        {"batch_size": 0},
        {"momentum": 2.0},
    ],
)
def test_standard_parameter_errors_match_scikit_learn(ours, theirs, params):
    X, y = _small_problem(ours)
    with pytest.raises(Exception) as their_error:
        theirs(**params).fit(X, y)
    with pytest.raises(type(their_error.value)) as our_error:
        ours(**params).fit(X, y)
    assert _normalised_message(our_error, ours) == _normalised_message(
        their_error, theirs
    )


@pytest.mark.parametrize(
    "ours, theirs",
    [(SparseMLPClassifier, MLPClassifier), (SparseMLPRegressor, MLPRegressor)],
)
def test_data_errors_match_scikit_learn(ours, theirs):
    X, y = _small_problem(ours)
    for bad_value in (np.nan, np.inf):
        X_bad = X.copy()
        X_bad[3, 2] = bad_value
        with pytest.raises(ValueError) as their_error:
            theirs(max_iter=5).fit(X_bad, y)
        with pytest.raises(ValueError) as our_error:
            ours(max_iter=5).fit(X_bad, y)
        assert str(our_error.value).replace(ours.__name__, "") == str(
            their_error.value
        ).replace(theirs.__name__, "")
    with pytest.raises(NotFittedError):
        ours().predict(X)
    model = ours(hidden_layer_sizes=(5,), max_iter=5).fit(X, y)
    with pytest.raises(ValueError, match="X has 4 features, but .* is expecting 5"):
        model.predict(X[:, :4])
    X_nan = X.copy()
    X_nan[0, 0] = np.nan
    with pytest.raises(ValueError, match="Input X contains NaN"):
        model.predict(X_nan)


# ----------------------------------------------------------------------------
# What 'auto' resolved to
# ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "hidden_layer_sizes, activation_ratio, ratios, step",
    [
        # 'auto': max(0.1, min(1, 50 / h)) per layer; the step follows the
        # last layer's ratio r: min(max(0.0005 / r, 0.001), 0.01).
        ((100,), "auto", [0.5], 0.001),
        ((20, 1000), "auto", [1.0, 0.1], 0.005),
        ((30, 30), 0.04, [0.04, 0.04], 0.01),
        ((30, 30), [0.5, 0.25], [0.5, 0.25], 0.002),
    ],
)
def test_fitted_attributes_say_what_auto_resolved_to(
    hidden_layer_sizes, activation_ratio, ratios, step
):
    X, y = load_iris(return_X_y=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = SparseMLPClassifier(
            hidden_layer_sizes=hidden_layer_sizes,
            activation_ratio=activation_ratio,
            max_iter=1,
            random_state=0,
        ).fit(X, y)
        fixed_step = clone(model).set_params(learning_rate_init=0.03).fit(X, y)
        lbfgs = clone(model).set_params(solver="lbfgs").fit(X, y)
    assert model.activation_ratios_ == pytest.approx(ratios, rel=1e-12)
    assert model.learning_rate_init_ == pytest.approx(step, rel=1e-12)
    assert fixed_step.learning_rate_init_ == 0.03
    assert lbfgs.activation_ratios_ == model.activation_ratios_
    assert not hasattr(lbfgs, "learning_rate_init_")
    compacted = model.compact()
    assert compacted.activation_ratios_ == compacted.activation_ratio
