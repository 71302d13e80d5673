"""Brain-inspired sparsity controls: boosting, inference k, warm-up, class
weights, validation loss, sparse codes and compaction."""

import numpy as np
import pytest
import scipy.sparse as sp
from conftest import reference_hidden_outputs, reference_output, training_pass
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.utils._param_validation import InvalidParameterError

from sklearn_sparse_act import SparseMLPClassifier, SparseMLPRegressor
from sklearn_sparse_act._stochastic import StochasticSolver

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _as_mask(winners):
    """A training layer's winners as a boolean mask, whichever path ran."""
    return winners if isinstance(winners, np.ndarray) else winners.to_mask()


# ----------------------------------------------------------------------------
# Homeostatic boosting
# ----------------------------------------------------------------------------
def test_boosting_revives_dead_units_on_digits(digits_split):
    X_train, X_test, y_train, y_test = digits_split
    params = dict(
        hidden_layer_sizes=(200,), activation_ratio=0.05, max_iter=30, random_state=0
    )
    plain = SparseMLPClassifier(**params).fit(X_train, y_train)
    boosted = SparseMLPClassifier(boost_strength=5.0, boost_decay=0.9, **params)
    boosted.fit(X_train, y_train)
    assert plain.dead_units_[0] > 100
    assert boosted.dead_units_[0] <= plain.dead_units_[0] - 15
    # Duty cycles are spread more evenly around the target ratio, at no cost
    # in accuracy.
    assert np.std(boosted.duty_cycles_[0]) < 0.85 * np.std(plain.duty_cycles_[0])
    assert boosted.score(X_test, y_test) >= plain.score(X_test, y_test) - 0.02


def test_duty_cycles_are_win_fractions(digits_split):
    X_train, _, y_train, _ = digits_split
    model = SparseMLPClassifier(
        hidden_layer_sizes=(40, 20),
        activation_ratio=[0.1, 0.25],
        activation="tanh",
        solver="lbfgs",
        max_iter=20,
        random_state=0,
    ).fit(X_train, y_train)
    # lbfgs measures them in one full pass: exact win fractions, mean = ratio.
    for duty, ratio, width in zip(
        model.duty_cycles_, [0.1, 0.25], [40, 20], strict=True
    ):
        assert duty.shape == (width,)
        assert duty.mean() == pytest.approx(ratio)
        assert np.all((duty >= 0) & (duty <= 1))
    first_layer = reference_hidden_outputs(model, X_train)[0]
    np.testing.assert_allclose(
        model.duty_cycles_[0], np.count_nonzero(first_layer, axis=0) / len(X_train)
    )


class _WinCountingSolver(StochasticSolver):
    """Adds up on the model, per hidden unit, the training rows it won."""

    def train_step(self, X, y, sample_weight, optimizer):
        loss = super().train_step(X, y, sample_weight, optimizer)
        model = self.model
        if not hasattr(model, "rows_won"):
            model.rows_won = [0] * len(self.forward.winners)
            model.rows_seen = 0
        model.rows_seen += X.shape[0]
        for layer, winners in enumerate(self.forward.winners):
            model.rows_won[layer] += _as_mask(winners).sum(axis=0)
        return loss


class _WinCountingClassifier(SparseMLPClassifier):
    _stochastic_solver = _WinCountingSolver


@pytest.mark.parametrize("strategy", ["fixed", "dynamic"])
def test_duty_cycles_average_over_every_training_row_so_far(digits_split, strategy):
    # A duty cycle is a running average over about the last 1000 training
    # samples: until 1000 have been seen it is the fraction of all training
    # rows so far that the unit won (here 3 epochs of 300 rows in batches of
    # 100), not that of the last batches.
    X_train, _, y_train, _ = digits_split
    model = _WinCountingClassifier(
        hidden_layer_sizes=(40, 20),
        activation_ratio=[0.1, 0.25],
        sparsity_strategy=strategy,
        batch_size=100,
        max_iter=3,
        tol=0,
        random_state=0,
    ).fit(X_train[:300], y_train[:300])
    assert model.rows_seen == 900
    for duty_cycle, rows_won in zip(model.duty_cycles_, model.rows_won, strict=True):
        # A running mean and a sum over the same batches: round-off apart.
        np.testing.assert_allclose(duty_cycle, rows_won / 900, rtol=1e-12, atol=1e-15)


def test_prediction_chooses_winners_on_the_frozen_boost_factors(digits_split):
    # The reference multiplies the pre-activations by boost_factors_ before it
    # chooses the winners; the boost is in force (no decay), so it matters.
    X_train, X_test, y_train, _ = digits_split
    model = SparseMLPClassifier(
        hidden_layer_sizes=(64,),
        activation_ratio=0.1,
        boost_strength=5.0,
        max_iter=5,
        random_state=0,
    ).fit(X_train, y_train)
    np.testing.assert_allclose(
        model.predict_proba(X_test), reference_output(model, X_test), rtol=1e-10
    )


def test_boost_decay_turns_boosting_off_over_epochs(digits_split):
    X_train, _, y_train, _ = digits_split
    params = dict(
        activation_ratio=0.1,
        hidden_layer_sizes=(64,),
        max_iter=4,
        tol=0,
        random_state=0,
    )
    plain = SparseMLPClassifier(**params).fit(X_train, y_train)
    decayed = SparseMLPClassifier(boost_strength=3.0, boost_decay=0.0, **params)
    decayed.fit(X_train, y_train)
    constant = SparseMLPClassifier(boost_strength=3.0, **params).fit(X_train, y_train)
    # decay 0: boosted first epoch only, so it differs from plain training
    # but less than constant boosting does.
    assert not np.array_equal(decayed.coefs_[0], plain.coefs_[0])
    assert not np.array_equal(decayed.coefs_[0], constant.coefs_[0])
    assert decayed._boost_strength_now == 0.0
    assert constant._boost_strength_now == 3.0


def test_boost_parameters_set_anew_between_fits_restart_the_schedule(digits_split):
    """A warm-started fit (or a partial_fit) goes on with the strength in
    force, decayed by ``boost_decay`` per epoch; a ``boost_strength`` or
    ``boost_decay`` set anew between fits starts the schedule again from the
    new strength, as any parameter set between fits takes effect. (Powers of
    two: the decayed strengths are exact.)"""
    X_train, _, y_train, _ = digits_split
    params = dict(
        hidden_layer_sizes=(32,),
        activation_ratio=0.1,
        max_iter=2,
        tol=0,
        warm_start=True,
        random_state=0,
    )
    model = SparseMLPClassifier(boost_strength=2.0, boost_decay=0.5, **params)
    model.fit(X_train, y_train)
    assert model._boost_strength_now == 0.5
    model.fit(X_train, y_train)
    assert model._boost_strength_now == 0.125
    model.set_params(boost_strength=3.0).fit(X_train, y_train)
    assert model._boost_strength_now == 0.75
    model.set_params(boost_decay=1.0).fit(X_train, y_train)
    assert model._boost_strength_now == 3.0
    model.set_params(boost_strength=0.0).fit(X_train, y_train)
    assert model.boost_factors_ is None

    plain = SparseMLPClassifier(**params).fit(X_train, y_train)
    assert plain.boost_factors_ is None
    plain.set_params(boost_strength=1.5).partial_fit(X_train, y_train)
    assert plain._boost_strength_now == 1.5
    assert plain.boost_factors_ is not None


@pytest.mark.parametrize("strategy", ["fixed", "dynamic"])
def test_boosted_training_gradients_flow_through_winners(digits_split, strategy):
    X_train, _, y_train, _ = digits_split
    model = SparseMLPClassifier(
        activation_ratio=0.1,
        hidden_layer_sizes=(30,),
        sparsity_strategy=strategy,
        boost_strength=4.0,
        max_iter=3,
        random_state=0,
    ).fit(X_train, y_train)
    Y = model._label_binarizer.transform(y_train[:50]).astype(float)
    _, forward, gradients = training_pass(model, X_train[:50], Y)
    winners = _as_mask(forward.winners[0])
    # Each row keeps k winners ('fixed') or the batch keeps k * n ('dynamic').
    assert winners.sum() == model.active_units_[0] * 50
    silent = ~winners.any(axis=0)
    assert np.all(gradients.intercept_grads[0][silent] == 0)


def _dense(outputs):
    """A training layer's outputs as a dense array, whichever path ran."""
    return outputs if isinstance(outputs, np.ndarray) else outputs.to_csr().toarray()


@pytest.mark.parametrize("strategy", ["fixed", "dynamic"])
def test_boosting_chooses_winners_but_passes_on_unboosted_values(
    digits_split, strategy, compute_path
):
    # Boosting scales the scores that choose the winners; what a winner passes
    # on (and what the next layer and the gradient see) is the activation of
    # its own, unboosted pre-activation.
    X_train, _, y_train, _ = digits_split
    model = SparseMLPClassifier(
        hidden_layer_sizes=(40, 30),
        activation="tanh",
        activation_ratio=0.1,
        sparsity_strategy=strategy,
        boost_strength=5.0,
        max_iter=3,
        random_state=0,
    ).fit(X_train, y_train)
    X = X_train[:100]
    Y = model._label_binarizer.transform(y_train[:100]).astype(float)
    _, boosted, _ = training_pass(model, X, Y)
    strength = model._boost_strength_now
    model._boost_strength_now = 0.0
    _, unboosted, _ = training_pass(model, X, Y)
    model._boost_strength_now = strength
    inputs = X
    for layer in range(2):
        winners = _as_mask(boosted.winners[layer])
        # Boosting is at work: it changed the winners of this batch.
        assert not np.array_equal(winners, _as_mask(unboosted.winners[layer]))
        pre_activations = inputs @ model.coefs_[layer] + model.intercepts_[layer]
        # Same numbers as the network's, up to the round-off of the products.
        outputs = _dense(boosted.hidden_outputs[layer])
        np.testing.assert_allclose(
            outputs,
            np.where(winners, np.tanh(pre_activations), 0),
            rtol=1e-10,
            atol=1e-12,
        )
        inputs = outputs


# ----------------------------------------------------------------------------
# Inference ratio factor
# ----------------------------------------------------------------------------
@pytest.mark.parametrize("factor, expected", [(1.0, 5), (1.5, 8), (2.0, 10), (40, 50)])
def test_fixed_inference_factor_sets_winners_per_row(digits_split, factor, expected):
    X_train, X_test, y_train, _ = digits_split
    model = SparseMLPClassifier(
        hidden_layer_sizes=(50,),
        activation="tanh",
        activation_ratio=0.1,
        inference_ratio_factor=factor,
        max_iter=10,
        random_state=0,
    ).fit(X_train, y_train)
    assert model.active_units_ == [5]
    assert model.inference_active_units_ == [expected]
    codes = model.hidden_activations(X_test)
    np.testing.assert_array_equal(np.diff(codes.indptr), expected)


def test_dynamic_inference_factor_scales_firing_on_training_data(digits_split):
    X_train, _, y_train, _ = digits_split
    params = dict(
        activation_ratio=0.1,
        hidden_layer_sizes=(100, 50),
        activation="tanh",
        sparsity_strategy="dynamic",
        max_iter=20,
        random_state=0,
    )
    base = SparseMLPClassifier(**params).fit(X_train, y_train)
    wider = SparseMLPClassifier(inference_ratio_factor=2.0, **params).fit(
        X_train, y_train
    )
    np.testing.assert_array_equal(
        wider.activation_thresholds_, base.activation_thresholds_
    )
    assert np.all(wider.inference_thresholds_ < wider.activation_thresholds_)
    first = wider.hidden_activations(X_train, layer=0)
    z = X_train @ wider.coefs_[0] + wider.intercepts_[0]
    trained_firing = np.count_nonzero(z > wider.activation_thresholds_[0])
    assert first.nnz == pytest.approx(2 * trained_firing, abs=1)
    # The deeper layer is calibrated on the widened first layer's output.
    second = wider.hidden_activations(X_train, layer=1)
    assert second.nnz / (X_train.shape[0] * 50) > 0.15


# ----------------------------------------------------------------------------
# Sparsity warm-up
# ----------------------------------------------------------------------------
def test_sparsity_curve_follows_the_warmup_schedule(digits_split):
    X_train, _, y_train, _ = digits_split
    model = SparseMLPClassifier(
        hidden_layer_sizes=(100, 40),
        activation="tanh",
        activation_ratio=[0.1, 0.5],
        sparsity_warmup=4,
        max_iter=7,
        tol=0,
        random_state=0,
    ).fit(X_train, y_train)
    expected = np.array(
        [[1.0, 1.0], [0.775, 0.875], [0.55, 0.75], [0.325, 0.625]] + [[0.1, 0.5]] * 3
    )
    np.testing.assert_allclose(model.sparsity_curve_, expected)
    # The last epoch ran at the final ratios.
    np.testing.assert_allclose(model.active_fraction_, [0.1, 0.5])


def test_warmup_continues_across_partial_fit(digits_split):
    X_train, _, y_train, _ = digits_split
    model = SparseMLPClassifier(
        activation_ratio=0.1,
        hidden_layer_sizes=(50,),
        activation="tanh",
        sparsity_warmup=2,
    )
    fractions = []
    for _ in range(3):
        model.partial_fit(X_train, y_train, classes=np.arange(10))
        fractions.append(model.active_fraction_[0])
    np.testing.assert_allclose(model.sparsity_curve_[:, 0], [1.0, 0.55, 0.1])
    np.testing.assert_allclose(fractions, [1.0, 0.56, 0.1])


# ----------------------------------------------------------------------------
# Class weights
# ----------------------------------------------------------------------------
def test_balanced_class_weight_predicts_minority_more_often():
    X, y = make_classification(
        n_samples=600,
        n_features=10,
        weights=[0.9, 0.1],
        class_sep=0.5,
        flip_y=0.05,
        random_state=0,
    )
    params = dict(
        hidden_layer_sizes=(40,), activation_ratio=0.2, max_iter=60, random_state=0
    )
    plain = SparseMLPClassifier(**params).fit(X, y)
    balanced = SparseMLPClassifier(class_weight="balanced", **params).fit(X, y)
    assert (balanced.predict(X) == 1).sum() > 1.5 * (plain.predict(X) == 1).sum()


def test_class_weight_dict_multiplies_sample_weight():
    X, y = make_classification(n_samples=100, n_features=5, random_state=0)
    params = dict(
        hidden_layer_sizes=(10,),
        solver="lbfgs",
        max_iter=20,
        activation_ratio=0.5,
        random_state=0,
    )
    sample_weight = np.linspace(0.5, 1.5, 100)
    by_class = SparseMLPClassifier(class_weight={0: 3.0, 1: 1.0}, **params).fit(
        X, y, sample_weight=sample_weight
    )
    by_sample = SparseMLPClassifier(**params).fit(
        X, y, sample_weight=sample_weight * np.where(y == 0, 3.0, 1.0)
    )
    np.testing.assert_allclose(by_class.coefs_[0], by_sample.coefs_[0])


def test_balanced_class_weight_is_refused_by_partial_fit():
    X, y = make_classification(n_samples=50, n_features=5, random_state=0)
    model = SparseMLPClassifier(class_weight="balanced")
    with pytest.raises(ValueError, match="not supported by partial_fit"):
        model.partial_fit(X, y, classes=[0, 1])
    with pytest.raises(InvalidParameterError, match="'class_weight' parameter"):
        SparseMLPClassifier(class_weight="uniform").fit(X, y)


# ----------------------------------------------------------------------------
# Validation loss
# ----------------------------------------------------------------------------
def test_validation_loss_curve_beside_validation_scores(digits_split):
    X_train, _, y_train, _ = digits_split
    model = SparseMLPClassifier(
        hidden_layer_sizes=(50,), early_stopping=True, max_iter=15, random_state=0
    ).fit(X_train, y_train)
    assert len(model.validation_loss_curve_) == len(model.validation_scores_)
    assert all(np.isfinite(model.validation_loss_curve_))
    # Learning lowers the held-out loss while the score rises.
    assert model.validation_loss_curve_[-1] < model.validation_loss_curve_[0]
    assert np.argmin(model.validation_loss_curve_) > 0
    without = SparseMLPClassifier(max_iter=2).fit(X_train[:100], y_train[:100])
    assert without.validation_loss_curve_ is None


# ----------------------------------------------------------------------------
# Sparse codes
# ----------------------------------------------------------------------------
@pytest.mark.parametrize("strategy", ["fixed", "dynamic"])
def test_hidden_activations_equal_independent_recomputation(digits_split, strategy):
    X_train, X_test, y_train, _ = digits_split
    model = SparseMLPClassifier(
        hidden_layer_sizes=(60, 30),
        activation_ratio=[0.1, 0.2],
        sparsity_strategy=strategy,
        max_iter=15,
        random_state=0,
    ).fit(X_train, y_train)
    expected = reference_hidden_outputs(model, X_test)
    for layer in (0, 1, -1, -2):
        codes = model.hidden_activations(X_test, layer=layer)
        assert sp.isspmatrix_csr(codes)
        np.testing.assert_allclose(codes.toarray(), expected[layer], rtol=1e-12)
    with pytest.raises(ValueError, match="layer must be an integer"):
        model.hidden_activations(X_test, layer=2)


def test_hidden_activations_feed_a_pipeline(digits_split):
    X_train, X_test, y_train, y_test = digits_split
    mlp = SparseMLPClassifier(
        hidden_layer_sizes=(200,), activation_ratio=0.1, max_iter=30, random_state=0
    ).fit(X_train, y_train)
    pipeline = make_pipeline(
        FunctionTransformer(mlp.hidden_activations, accept_sparse=True),
        LogisticRegression(max_iter=500),
    ).fit(X_train, y_train)
    assert pipeline.score(X_test, y_test) > 0.85


# ----------------------------------------------------------------------------
# Compaction
# ----------------------------------------------------------------------------
@pytest.mark.parametrize("strategy", ["fixed", "dynamic"])
@pytest.mark.parametrize("estimator_class", [SparseMLPClassifier, SparseMLPRegressor])
def test_compact_removes_silent_units_and_keeps_predictions(
    digits_split, strategy, estimator_class
):
    X_train, X_test, y_train, _ = digits_split
    model = estimator_class(
        hidden_layer_sizes=(150, 60),
        activation_ratio=0.05,
        sparsity_strategy=strategy,
        max_iter=20,
        random_state=0,
    ).fit(X_train, y_train)
    compact = model.compact()
    assert sum(compact.removed_units_) > 0
    assert compact.hidden_layer_sizes == tuple(
        width - removed
        for width, removed in zip((150, 60), compact.removed_units_, strict=True)
    )
    assert sum(c.size for c in compact.coefs_) < sum(c.size for c in model.coefs_)
    assert compact.active_units_ == model.active_units_
    method = "predict_proba" if hasattr(model, "predict_proba") else "predict"
    np.testing.assert_allclose(
        getattr(compact, method)(X_train), getattr(model, method)(X_train), rtol=1e-9
    )
    if estimator_class is SparseMLPClassifier:
        np.testing.assert_array_equal(compact.predict(X_train), model.predict(X_train))
    # The original is untouched and the compacted model keeps training.
    assert model.coefs_[0].shape == (64, 150)
    compact.set_params(warm_start=True, max_iter=2).fit(X_train, y_train)
    assert compact.coefs_[0].shape[1] == 150 - compact.removed_units_[0]


def test_compact_after_partial_fit_needs_data(digits_split):
    X_train, _, y_train, _ = digits_split
    model = SparseMLPClassifier(hidden_layer_sizes=(80,), activation_ratio=0.05)
    model.partial_fit(X_train, y_train, classes=np.arange(10))
    with pytest.raises(ValueError, match="pass the data"):
        model.compact()
    compact = model.compact(X_train)
    np.testing.assert_array_equal(compact.predict(X_train), model.predict(X_train))


def test_controls_are_tunable_with_grid_search(digits_split):
    X_train, _, y_train, _ = digits_split
    search = GridSearchCV(
        SparseMLPClassifier(hidden_layer_sizes=(40,), max_iter=5, random_state=0),
        {
            "boost_strength": [0.0, 1.0],
            "sparsity_warmup": [0, 2],
            "inference_ratio_factor": [1.0, 2.0],
        },
        cv=2,
    ).fit(X_train[:400], y_train[:400])
    assert len(search.cv_results_["params"]) == 8
    for name, bad in [
        ("boost_strength", -1),
        ("boost_decay", 1.5),
        ("inference_ratio_factor", 0.5),
        ("sparsity_warmup", -2),
    ]:
        with pytest.raises(InvalidParameterError, match=f"'{name}' parameter"):
            SparseMLPClassifier(**{name: bad}).fit(X_train[:50], y_train[:50])
