"""Prediction chooses winners as training does, with the boost factors frozen
at the end of the fit (and none when no boost is in force)."""

import numpy as np
import pytest
from conftest import training_pass
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from sklearn_sparse_act import SparseMLPClassifier

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _winner_masks(winners):
    """A training pass's winners of one layer as a boolean mask."""
    if isinstance(winners, np.ndarray):
        return winners
    return winners.to_csr().toarray() != 0


def test_constant_boosting_predicts_as_well_as_no_boosting():
    # A boost strength still in force at the end of the fit picks the winners
    # of training; prediction that ignored it lost 3 to 17 points on these
    # seeds (11 on average), choosing with the frozen factors it gains 1 to 2
    # (measured: mean 0.927 boosted against 0.927 plain, 0.817 unboosted
    # prediction). The mean over three seeds must stay within a point.
    X, y = load_digits(return_X_y=True)
    scores = {0.0: [], 1.5: []}
    for seed in range(3):
        X_train, X_test, y_train, y_test = train_test_split(
            X / 16, y, test_size=0.25, stratify=y, random_state=seed
        )
        for strength in scores:
            model = SparseMLPClassifier(
                hidden_layer_sizes=(64,),
                activation_ratio=0.1,
                boost_strength=strength,
                boost_decay=1.0,
                max_iter=20,
                random_state=seed,
            ).fit(X_train, y_train)
            scores[strength].append(model.score(X_test, y_test))
    assert np.mean(scores[1.5]) >= np.mean(scores[0.0]) - 0.01


@pytest.mark.parametrize("strategy", ["fixed", "dynamic"])
def test_prediction_keeps_the_winners_of_a_training_step(
    digits_split, strategy, compute_path
):
    # On the training rows, the winners of prediction are those a training
    # step on all of them picks with the boost in force at the end of the fit
    # ('dynamic': its threshold was settled on the same rows and scores). The
    # same products on the same rows choose both: equal by construction.
    X_train, _, y_train, _ = digits_split
    model = SparseMLPClassifier(
        hidden_layer_sizes=(48, 32),
        activation="tanh",
        activation_ratio=0.15,
        sparsity_strategy=strategy,
        boost_strength=3.0,
        max_iter=4,
        random_state=0,
    ).fit(X_train, y_train)
    Y = model._label_binarizer.transform(y_train).astype(float)
    _, training, _ = training_pass(model, X_train, Y)
    for layer in range(2):
        winners = _winner_masks(training.winners[layer])
        predicted = model.hidden_activations(X_train, layer).toarray() != 0
        np.testing.assert_array_equal(predicted, winners)
        factors = model.boost_factors_[layer]
        # The factors are in force: they change which units win.
        assert factors.shape == (model.coefs_[layer].shape[1],)
        assert np.ptp(factors) > 0.1


@pytest.mark.parametrize("params", [{}, {"solver": "lbfgs", "boost_strength": 2.0}])
def test_without_a_boost_in_force_no_factors_are_kept(digits_split, params):
    # No boosting, or L-BFGS (which never boosts): no factors, so prediction
    # chooses on the pre-activations themselves.
    X_train, _, y_train, _ = digits_split
    model = SparseMLPClassifier(
        hidden_layer_sizes=(32,), activation_ratio=0.2, max_iter=3, random_state=0
    )
    model.set_params(**params).fit(X_train[:200], y_train[:200])
    assert model.boost_factors_ is None


def test_boost_decayed_to_zero_keeps_no_factors(digits_split):
    X_train, _, y_train, _ = digits_split
    model = SparseMLPClassifier(
        hidden_layer_sizes=(32,),
        activation_ratio=0.2,
        boost_strength=2.0,
        boost_decay=0.0,
        max_iter=2,
        random_state=0,
    ).fit(X_train[:200], y_train[:200])
    assert model.boost_factors_ is None


def test_each_fit_freezes_the_factors_it_ends_with(digits_split):
    # partial_fit and warm_start freeze the duty cycles and strength they end
    # with: exp(-strength * (duty_cycle - k / width)).
    X_train, _, y_train, _ = digits_split
    model = SparseMLPClassifier(
        hidden_layer_sizes=(32,),
        activation_ratio=0.25,
        boost_strength=2.0,
        boost_decay=0.5,
        max_iter=2,
        warm_start=True,
        random_state=0,
    )
    for fit in (
        lambda: model.fit(X_train[:300], y_train[:300]),
        lambda: model.fit(X_train[300:600], y_train[300:600]),
        lambda: model.partial_fit(X_train[600:900], y_train[600:900]),
    ):
        fit()
        expected = np.exp(-model._boost_strength_now * (model.duty_cycles_[0] - 8 / 32))
        # Exactly the arithmetic training does, on the same numbers.
        np.testing.assert_array_equal(model.boost_factors_[0], expected)


@pytest.mark.parametrize("strategy", ["fixed", "dynamic"])
def test_compact_keeps_the_factors_of_the_units_it_keeps(digits_split, strategy):
    X_train, _, y_train, _ = digits_split
    model = SparseMLPClassifier(
        hidden_layer_sizes=(100,),
        activation_ratio=0.05,
        sparsity_strategy=strategy,
        boost_strength=2.0,
        max_iter=10,
        random_state=0,
    ).fit(X_train, y_train)
    compact = model.compact()
    kept = np.flatnonzero(model._training_winners[0])
    assert kept.size < 100
    np.testing.assert_array_equal(
        compact.boost_factors_[0], model.boost_factors_[0][kept]
    )
    # The same sums over fewer columns: equal up to BLAS round-off.
    np.testing.assert_allclose(
        compact.predict_proba(X_train), model.predict_proba(X_train), rtol=1e-9
    )
