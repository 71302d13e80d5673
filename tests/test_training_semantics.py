"""Training behaviours that scikit-learn's MLP users rely on: divergence,
sparsity warm-up against the stopping rules, settled 'dynamic' thresholds and
L-BFGS on the piecewise-smooth k-winners objective."""

import copy
import warnings
from types import SimpleNamespace

import numpy as np
import pytest
import scipy.optimize
from conftest import training_pass
from sklearn.datasets import load_diabetes, load_iris, make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from sklearn_sparse_act import (
    SparseMLPClassifier,
    SparseMLPRegressor,
    _hidden_sparsity,
    _prediction,
)
from sklearn_sparse_act._lbfgs import _PackedLayout
from sklearn_sparse_act._prediction import WinnersRecord, winners_on

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


# ----------------------------------------------------------------------------
# 1. A diverging loss with early stopping keeps the best parameters
# ----------------------------------------------------------------------------
def test_diverging_loss_with_early_stopping_returns_the_best_model():
    # scikit-learn's regression test for its issue #29504, on our estimator
    # (targets as given, as scikit-learn trains them).
    X, y = load_diabetes(return_X_y=True)
    model = SparseMLPRegressor(
        normalize_y=False,
        solver="sgd",
        hidden_layer_sizes=[1],
        activation="identity",
        alpha=0.003,
        learning_rate_init=0.01,
        max_iter=10,
        early_stopping=True,
        random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        model.fit(X, y)
    assert np.isnan(model.validation_scores_[-1])
    assert all(np.isfinite(coef).all() for coef in model.coefs_)
    assert np.isfinite(model.predict(X)).all()


# ----------------------------------------------------------------------------
# 2. Plain SGD on unscaled data: divergence is stopped, not raised
# ----------------------------------------------------------------------------
def test_sgd_on_unscaled_inputs_keeps_the_best_epoch():
    # The check suite's unscaled inputs (mean 100): momentum SGD's step is too
    # large for them. k-winners hands the error to fresh winners epoch after
    # epoch until the weights overflow; the fit must end with the parameters
    # of its best epoch and say so.
    rng = np.random.RandomState(0)
    X = rng.normal(loc=100, size=(100, 2))
    y = rng.normal(size=100)
    model = SparseMLPRegressor(activation_ratio=0.1, solver="sgd", random_state=0)
    with pytest.warns(ConvergenceWarning, match="Training diverged in epoch"):
        model.fit(X, y)
    assert np.isfinite(model.loss_)
    assert model.loss_ == min(model.loss_curve_)
    assert np.isfinite(model.predict(X)).all()


# ----------------------------------------------------------------------------
# 3. Sparsity warm-up against the stopping rules
# ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def iris_split():
    X, y = load_iris(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.3, random_state=1, stratify=y
    )
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train), scaler.transform(X_test), y_train, y_test


def test_warmup_suspends_the_loss_plateau_stop(iris_split):
    X_train, _, y_train, _ = iris_split
    model = SparseMLPClassifier(
        activation_ratio=0.1, sparsity_warmup=20, n_iter_no_change=3, random_state=1
    ).fit(X_train, y_train)
    # The warm-up runs to its end and training continues at the target.
    assert model.n_iter_ > 20
    assert model.sparsity_curve_[20:].min() == pytest.approx(0.1)
    assert model.sparsity_curve_[-1] == pytest.approx(0.1)


def test_warmup_suspends_early_stopping_and_keeps_only_sparse_epochs(iris_split):
    X_train, _, y_train, _ = iris_split
    model = SparseMLPClassifier(
        sparsity_warmup=15,
        early_stopping=True,
        n_iter_no_change=2,
        validation_fraction=0.2,
        random_state=0,
    ).fit(X_train, y_train)
    assert model.n_iter_ > 15
    # The best validation score is one of the epochs at the target ratio.
    assert model.best_validation_score_ == max(model.validation_scores_[15:])


def test_warmup_longer_than_max_iter_is_shortened_with_a_warning(iris_split):
    X_train, _, y_train, _ = iris_split
    with pytest.warns(UserWarning, match="warm-up was shortened to 4 epoch"):
        model = SparseMLPClassifier(
            activation_ratio=0.1, sparsity_warmup=20, max_iter=5, random_state=0
        ).fit(X_train, y_train)
    np.testing.assert_allclose(
        model.sparsity_curve_[:, 0], [1, 0.775, 0.55, 0.325, 0.1]
    )
    # Training ended at the ratio prediction uses.
    assert model.active_fraction_[0] == pytest.approx(0.1)


def test_finished_warmup_is_not_restarted_by_warm_start(iris_split):
    X_train, _, y_train, _ = iris_split
    model = SparseMLPClassifier(
        activation_ratio=0.1,
        sparsity_warmup=20,
        max_iter=5,
        warm_start=True,
        random_state=0,
    )
    with pytest.warns(UserWarning, match="shortened"):
        model.fit(X_train, y_train)
    model.fit(X_train, y_train)
    np.testing.assert_allclose(model.sparsity_curve_[5:, 0], 0.1)


def test_partial_fit_calls_count_as_epochs_like_fit(iris_split):
    # One partial_fit call is one epoch for the warm-up and for boost decay,
    # as for n_iter_: n calls over the data train exactly like fit with
    # max_iter=n and no shuffling.
    X_train, _, y_train, _ = iris_split
    params = dict(
        sparsity_warmup=3,
        boost_strength=2.0,
        boost_decay=0.5,
        shuffle=False,
        tol=0,
        n_iter_no_change=100,
        random_state=0,
    )
    fitted = SparseMLPClassifier(max_iter=6, **params).fit(X_train, y_train)
    streamed = SparseMLPClassifier(**params)
    for _ in range(6):
        streamed.partial_fit(X_train, y_train, classes=np.unique(y_train))
    np.testing.assert_allclose(streamed.sparsity_curve_, fitted.sparsity_curve_)
    assert streamed.t_ == fitted.t_
    assert streamed._boost_strength_now == fitted._boost_strength_now == 2.0 / 2**6
    for streamed_coef, fitted_coef in zip(streamed.coefs_, fitted.coefs_, strict=True):
        np.testing.assert_allclose(streamed_coef, fitted_coef, rtol=1e-10)


# ----------------------------------------------------------------------------
# 4. 'dynamic' thresholds are settled from the final weights
# ----------------------------------------------------------------------------
def _firing_fraction(model, X):
    return np.array(
        [
            model.hidden_activations(X, layer=layer).nnz
            / (X.shape[0] * model.coefs_[layer].shape[1])
            for layer in range(len(model.active_units_))
        ]
    )


@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
def test_fit_settles_dynamic_thresholds_at_the_ratio(digits_split, solver):
    # On the training data, exactly k * n_rows pre-activations of each layer
    # exceed the settled threshold (tanh: a winner's output is never 0), up to
    # exact ties, which continuous data does not produce.
    X_train, _, y_train, _ = digits_split
    model = SparseMLPClassifier(
        hidden_layer_sizes=(60, 40),
        activation="tanh",
        sparsity_strategy="dynamic",
        activation_ratio=[0.1, 0.2],
        solver=solver,
        max_iter=30,
        random_state=0,
    ).fit(X_train, y_train)
    fractions = _firing_fraction(model, X_train)
    expected = np.array(model.active_units_) / np.array([60, 40])
    np.testing.assert_allclose(fractions, expected, atol=1 / X_train.shape[0])


def test_settled_thresholds_count_sample_weights(digits_split):
    # Weights by class, so that the heavy rows are the ones where some units
    # fire more often: ignoring them moves the threshold.
    X_train, _, y_train, _ = digits_split
    weights = np.where(y_train < 5, 3.0, 1.0)
    model = SparseMLPClassifier(
        activation_ratio=0.1,
        hidden_layer_sizes=(50,),
        activation="tanh",
        sparsity_strategy="dynamic",
        max_iter=20,
        random_state=0,
    ).fit(X_train, y_train, sample_weight=weights)
    codes = model.hidden_activations(X_train).toarray() != 0
    weighted_fraction = (codes.sum(axis=1) * weights).sum() / (weights.sum() * 50)
    # Settling keeps the largest pre-activations until their weights reach
    # k * weights.sum(): the last one kept overshoots by less than its row's
    # weight (no exact ties in continuous data).
    overshoot = weights.max() / (weights.sum() * 50)
    assert weighted_fraction == pytest.approx(5 / 50, abs=overshoot)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_settling_pass_records_the_training_winners(digits_split, monkeypatch, dtype):
    # The pass that settles the last layer's threshold on a subset of the
    # rows records which units win there; the end of fit then passes over the
    # other rows only, and finds what a pass over every row finds.
    X_train, _, y_train, _ = digits_split
    X_train = X_train.astype(dtype)
    # All rows but 5 settle the thresholds: the 5 others cannot show every
    # unit that wins.
    settle_rows = X_train.shape[0] - 5
    monkeypatch.setattr(_hidden_sparsity, "_SETTLE_ROWS", settle_rows)
    passed_rows = []

    def counted_winners_on(network, rules, X, max_rows=None):
        passed_rows.append(X.shape[0])
        return winners_on(network, rules, X, max_rows)

    monkeypatch.setattr(_prediction, "winners_on", counted_winners_on)
    model = SparseMLPClassifier(
        hidden_layer_sizes=(60, 60),
        activation_ratio=0.05,
        sparsity_strategy="dynamic",
        boost_strength=1.0,
        max_iter=3,
        random_state=0,
    ).fit(X_train, y_train)
    assert passed_rows == [5]
    expected, finite = model._winners_on(X_train)
    assert finite
    for recorded, won in zip(model._training_winners, expected, strict=True):
        np.testing.assert_array_equal(recorded, won)


def test_winners_record_vouches_only_for_bounded_outputs():
    # Hidden values up to 10 (relu: outputs up to 10) times output weights
    # whose column sums reach 3: outputs below 31, far from overflow; a
    # value of 1e308 (a bound of 3e308 overflows), or a non-finite one, and
    # the bound cannot vouch.
    network = SimpleNamespace(
        out_activation="softmax",
        coefs=[np.ones((4, 3)), np.array([[1.0, -2.0], [2.0, 0.5], [0.0, 0.5]])],
        intercepts=[np.zeros(3), np.array([1.0, 0.0])],
    )
    values = np.array([[10.0, -3.0, 0.5], [1.0, 2.0, -10.0]])
    record = WinnersRecord([3], np.arange(2))
    record.take(WinnersRecord.summary([], values, values))
    assert record.outputs_finite(network)
    assert not record.outputs_finite(
        SimpleNamespace(**{**vars(network), "out_activation": "exp"})
    )
    for extreme in (1e308, np.inf, np.nan):
        record = WinnersRecord([3], np.arange(2))
        extremes = np.where(values == 10.0, extreme, values)
        record.take(WinnersRecord.summary([], extremes, values))
        assert not record.outputs_finite(network)


def test_streaming_dynamic_thresholds_converge_to_the_ratio(digits_split):
    X_train, X_test, y_train, _ = digits_split
    scaler = StandardScaler().fit(X_train)
    X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
    model = SparseMLPClassifier(
        activation_ratio=0.1,
        hidden_layer_sizes=(64,),
        activation="tanh",
        sparsity_strategy="dynamic",
        learning_rate_init=0.01,
        random_state=0,
    )
    chunks = np.array_split(np.arange(X_train.shape[0]), 4)
    for _ in range(5):
        for chunk in chunks:
            model.partial_fit(X_train[chunk], y_train[chunk], classes=np.arange(10))
    # Unseen rows fire at the target ratio (6 of 64 units) to within the
    # sampling spread of a 1000-sample running estimate.
    assert _firing_fraction(model, X_test)[0] == pytest.approx(6 / 64, abs=0.01)


def _settled_on_copies(pre_activations, n_active, weights):
    """The threshold that lets ``n_active`` units per row fire, on average, on
    the rows each repeated as many times as its integer weight: halfway
    between the ``n_active * weights.sum()``-th largest pre-activation and
    the largest one below it."""
    copies = np.repeat(pre_activations, weights.astype(int), axis=0)
    ordered = np.sort(copies, axis=None)[::-1]
    smallest_kept = ordered[n_active * int(weights.sum()) - 1]
    largest_dropped = ordered[ordered < smallest_kept][0]
    return (smallest_kept + largest_dropped) / 2


def test_streaming_dynamic_thresholds_count_sample_weights(digits_split):
    # The first partial_fit call settles the threshold on its chunk with each
    # row counted as many times as its weight; every later call moves it
    # part of the way towards the one settled on its own chunk (a running
    # average over the calls).
    X_train, _, y_train, _ = digits_split
    weights = np.where(y_train < 5, 3.0, 1.0)
    model = SparseMLPClassifier(
        activation_ratio=0.1,
        hidden_layer_sizes=(50,),
        activation="tanh",
        sparsity_strategy="dynamic",
        random_state=0,
    )
    previous = None
    for chunk in (slice(0, 400), slice(400, 800), slice(800, None)):
        X, y, chunk_weights = X_train[chunk], y_train[chunk], weights[chunk]
        model.partial_fit(X, y, sample_weight=chunk_weights, classes=np.arange(10))
        pre_activations = X @ model.coefs_[0] + model.intercepts_[0]
        on_chunk = _settled_on_copies(pre_activations, 5, chunk_weights)
        unweighted = _settled_on_copies(pre_activations, 5, np.ones(len(X)))
        # The weights matter: far more than the round-off of the two
        # computations of the pre-activations (about 1e-15 relative).
        assert abs(on_chunk - unweighted) > 1e-3 * abs(on_chunk)
        threshold = model.activation_thresholds_[0]
        if previous is None:
            assert threshold == pytest.approx(on_chunk, rel=1e-10)
        else:
            assert min(previous, on_chunk) < threshold < max(previous, on_chunk)
        previous = threshold


# ----------------------------------------------------------------------------
# 5. L-BFGS on the piecewise-smooth objective
# ----------------------------------------------------------------------------
@pytest.fixture
def scipy_runs(monkeypatch):
    """The results of the runs of SciPy's ``minimize`` while the test runs."""
    runs = []
    minimize = scipy.optimize.minimize

    def recording_minimize(*args, **kwargs):
        runs.append(minimize(*args, **kwargs))
        return runs[-1]

    monkeypatch.setattr(scipy.optimize, "minimize", recording_minimize)
    return runs


def test_lbfgs_line_searches_do_not_fail_at_winner_changes(iris_split, scipy_runs):
    # With the winners chosen anew inside every line search, a step that
    # changes them made the loss jump and the search fail ("ABNORMAL") after
    # a few iterations; held fixed within each iteration, it converges.
    X_train, _, y_train, _ = iris_split
    for seed in range(3):
        for strategy in ("fixed", "dynamic"):
            SparseMLPClassifier(
                solver="lbfgs", sparsity_strategy=strategy, random_state=seed
            ).fit(X_train, y_train)
    assert len(scipy_runs) >= 6
    assert all("ABNORMAL" not in str(run.message) for run in scipy_runs)


def test_lbfgs_goes_on_where_scipy_stops_after_the_winners_changed(scipy_runs):
    """Choosing the winners again between iterations changes the function
    SciPy minimises; its convergence test then compared losses of two
    functions and stopped this fit after 4 of 30 iterations, at a loss above
    the iterate before. A sparse fit now ends only when its iterations are
    spent or when a fresh run from where the last one stopped lowers the
    loss by less than ``tol``: a run that stops early is followed by
    another."""
    X, y = load_diabetes(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    model = SparseMLPRegressor(
        hidden_layer_sizes=(128, 64),
        activation_ratio=[0.1, 0.25],
        solver="lbfgs",
        max_iter=30,
        random_state=0,
    ).fit(X, y / y.std())
    assert model.n_iter_ == sum(run.nit for run in scipy_runs)
    assert scipy_runs[0].nit < 30  # SciPy stops the first run early...
    assert len(scipy_runs) > 1  # ...and the fit goes on from there.


def test_lbfgs_ends_at_the_best_of_its_runs(scipy_runs):
    """A run started again after the winners changed can end above where it
    started (here the second run of these data, 0.676 after 0.580): the fit
    ends at the lowest sparse loss of the points its runs ended at. The
    losses are recomputed by another pass over the same parameters; 1e-12
    covers the round-off between two passes' orders of sums."""
    X, y = make_classification(300, 10, n_informative=6, n_classes=3, random_state=0)
    model = SparseMLPClassifier(
        hidden_layer_sizes=(64, 32),
        activation_ratio=0.2,
        alpha=1e-3,
        solver="lbfgs",
        max_iter=30,
        random_state=0,
    ).fit(X, y)
    Y = model._label_binarizer.transform(y).astype(float)
    layout = _PackedLayout(model.coefs_, lambda layer: None)
    run_end_losses = []
    for run in scipy_runs:
        probe = copy.deepcopy(model)
        layout.unpack(run.x, probe.coefs_, probe.intercepts_)
        run_end_losses.append(training_pass(probe, X, Y)[0])
    assert len(run_end_losses) > 1
    assert max(run_end_losses) > min(run_end_losses) + 0.01  # a run ended higher
    assert model.loss_ <= min(run_end_losses) + 1e-12
    assert training_pass(model, X, Y)[0] == pytest.approx(model.loss_, abs=1e-12)


def test_warm_started_dynamic_lbfgs_keeps_training(iris_split):
    X_train, _, y_train, _ = iris_split
    model = SparseMLPClassifier(
        solver="lbfgs",
        sparsity_strategy="dynamic",
        warm_start=True,
        max_iter=5,
        random_state=0,
    )
    model.fit(X_train, y_train)
    first_loss = model.loss_
    model.fit(X_train, y_train)
    assert model.n_iter_ > 0
    assert model.loss_ < first_loss


# ----------------------------------------------------------------------------
# 7. Training memory is bounded by the batch, not by the data
# ----------------------------------------------------------------------------
def _fit_peak_bytes(model, X, y):
    import gc
    import tracemalloc

    gc.collect()
    tracemalloc.start()
    try:
        start, _ = tracemalloc.get_traced_memory()
        model.fit(X, y)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak - start


@pytest.mark.parametrize("strategy", ["fixed", "dynamic"])
def test_fit_memory_does_not_grow_with_the_rows(strategy):
    from sklearn.datasets import make_classification

    X, y = make_classification(n_samples=12000, n_features=8, random_state=0)
    model = SparseMLPClassifier(
        hidden_layer_sizes=(128,),
        activation_ratio=0.1,
        sparsity_strategy=strategy,
        batch_size=100,
        max_iter=1,
        random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        # A first fit compiles the kernels (numba), which tracemalloc sees.
        model.fit(X[:300], y[:300])
        peaks = [_fit_peak_bytes(model, X[:n], y[:n]) for n in (3000, 12000)]
    # Four times the rows may add per row what the solver keeps of its own
    # (shuffled and settling row indices, the encoded targets: at most 64
    # bytes a row), and what settling keeps at most whatever the rows (a
    # 256 KiB histogram, and a window of values around the threshold of at
    # most 0.3 times the ratio of the 10,000 settling rows' values: 300 KiB);
    # never a layer's values for every row (1 KiB a row, 9 MiB here), which
    # the end-of-fit passes held before they went in chunks.
    assert peaks[1] - peaks[0] <= 64 * 9000 + 2**20


def test_early_stopping_holds_out_rows_without_copying_them():
    from sklearn.datasets import make_classification

    # Wide rows and a small network: a copy of the data (its 9 MB) would
    # dwarf everything the fit holds of its own.
    X, y = make_classification(n_samples=6000, n_features=200, random_state=0)
    peaks = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for early_stopping in (False, True):
            model = SparseMLPClassifier(
                hidden_layer_sizes=(16,),
                batch_size=100,
                max_iter=1,
                early_stopping=early_stopping,
                random_state=0,
            )
            model.fit(X[:300], y[:300])  # compiles the kernels (numba)
            peaks[early_stopping] = _fit_peak_bytes(model, X, y)
    # What early stopping adds: the split's row indices and targets (16 bytes
    # a row), the best epoch's parameters, the validation rows' outputs (16
    # bytes a row) and one batch of them gathered at a time (160 KB); a copy
    # of the training rows would add 90% of X.nbytes, one of the validation
    # rows 10%.
    assert peaks[True] - peaks[False] <= 0.05 * X.nbytes
