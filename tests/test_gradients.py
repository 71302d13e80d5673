"""Finite-difference checks of the backward pass with the winners held fixed."""

import numpy as np
import pytest
from conftest import training_pass
from sklearn.preprocessing import LabelBinarizer

from sklearn_sparse_act import SparseMLPClassifier, SparseMLPRegressor
from sklearn_sparse_act._lbfgs import _pack

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

ACTIVATIONS = ["identity", "logistic", "tanh", "relu"]
STRATEGIES = ["fixed", "dynamic"]
# Two small sparse layers (losers in both) fitted a few L-BFGS steps.
SMALL_LBFGS = dict(
    hidden_layer_sizes=(8, 6),
    activation_ratio=[0.5, 0.34],
    solver="lbfgs",
    max_iter=3,
    alpha=0.01,
    random_state=0,
)


def _as_mask(winners):
    """A training layer's winners as a boolean mask, whichever path ran."""
    return winners if isinstance(winners, np.ndarray) else winners.to_mask()


def _classification_problem(rng):
    X = rng.normal(size=(12, 5))
    y = rng.randint(0, 3, size=12)
    return X, y, LabelBinarizer().fit_transform(y).astype(float)


def _regression_problem(rng):
    X = rng.normal(size=(12, 5))
    Y = rng.normal(size=(12, 2))
    return X, Y, Y


def _set_parameters(estimator, packed):
    start = 0
    for params in (estimator.coefs_, estimator.intercepts_):
        for index, param in enumerate(params):
            params[index] = packed[start : start + param.size].reshape(param.shape)
            start += param.size


def _held_finite_differences(estimator, X, Y, held, indices, sample_weight=None):
    """Central differences at step 1e-6 of the loss with the winners of
    ``held``, at the estimator's parameters, for the packed ``indices``
    (zero elsewhere); the parameters are left as they were."""
    parameters = _pack(estimator.coefs_, estimator.intercepts_)
    step = 1e-6
    numerical = np.zeros_like(parameters)
    for index in indices:
        shifted = parameters.copy()
        shifted[index] += step
        _set_parameters(estimator, shifted)
        loss_plus = training_pass(estimator, X, Y, sample_weight, held=held)[0]
        shifted[index] -= 2 * step
        _set_parameters(estimator, shifted)
        loss_minus = training_pass(estimator, X, Y, sample_weight, held=held)[0]
        numerical[index] = (loss_plus - loss_minus) / (2 * step)
    _set_parameters(estimator, parameters)
    return numerical


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize(
    "estimator_class, make_problem",
    [
        (SparseMLPClassifier, _classification_problem),
        (SparseMLPRegressor, _regression_problem),
    ],
)
@pytest.mark.parametrize("weighted", [False, True])
def test_backward_pass_matches_finite_differences(
    activation, strategy, estimator_class, make_problem, weighted, compute_path
):
    rng = np.random.RandomState(0)
    X, y, Y = make_problem(rng)
    sample_weight = rng.uniform(0.5, 2.0, size=X.shape[0]) if weighted else None
    estimator = estimator_class(
        activation=activation, sparsity_strategy=strategy, **SMALL_LBFGS
    ).fit(X, y)

    loss, forward, gradients = training_pass(estimator, X, Y, sample_weight)
    gradient = _pack(gradients.coef_grads, gradients.intercept_grads)
    # The winners chosen above are really sparse: losers exist in every layer.
    for winners, width in zip(forward.winners, (8, 6), strict=True):
        won = winners.counts() if compute_path == "sparse" else winners.sum(axis=0)
        assert 0 < won.sum() < X.shape[0] * width
        assert won.size == width

    numerical = _held_finite_differences(
        estimator, X, Y, forward, range(gradient.size), sample_weight
    )
    relative_error = np.linalg.norm(numerical - gradient) / np.linalg.norm(
        numerical + gradient
    )
    assert relative_error < 1e-6


def test_gradient_is_zero_for_losing_units():
    """A unit that loses on every row gets no gradient on its incoming weights."""
    rng = np.random.RandomState(1)
    X = rng.normal(size=(10, 4))
    y = rng.randint(0, 2, size=10)
    estimator = SparseMLPClassifier(
        hidden_layer_sizes=(10,),
        activation="tanh",
        activation_ratio=0.2,
        solver="lbfgs",
        max_iter=1,
        random_state=0,
    ).fit(X, y)
    Y = y.reshape(-1, 1).astype(float)
    _, forward, gradients = training_pass(estimator, X, Y)
    never_won = ~_as_mask(forward.winners[0]).any(axis=0)
    assert never_won.any()
    weight_gradient = (
        gradients.coef_grads[0] - estimator.alpha * estimator.coefs_[0] / 10
    )
    np.testing.assert_allclose(weight_gradient[:, never_won], 0, atol=1e-15)
    np.testing.assert_array_equal(gradients.intercept_grads[0][never_won], 0)


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_backward_pass_with_sparse_connections(strategy, compute_path):
    """With ``weight_density``, the gradient is zero at the absent weights and
    matches finite differences at the present ones and the biases."""
    rng = np.random.RandomState(0)
    X, y, Y = _classification_problem(rng)
    estimator = SparseMLPClassifier(
        hidden_layer_sizes=(8, 6),
        activation="tanh",
        activation_ratio=[0.5, 0.34],
        weight_density=[0.4, 0.5],
        sparsity_strategy=strategy,
        solver="lbfgs",
        max_iter=3,
        alpha=0.01,
        random_state=0,
    ).fit(X, y)
    masks = estimator.connection_masks_
    loss, forward, gradients = training_pass(estimator, X, Y)
    # A gradient may be held at the present weights only (the numba kernels
    # from winners): made whole, it is zero at the absent ones.
    for grad, mask in zip(gradients.coef_grads, masks, strict=False):
        assert np.all(np.asarray(grad)[~mask] == 0)
    gradient = _pack(gradients.coef_grads, gradients.intercept_grads)
    present = _pack(
        [*masks, np.ones_like(estimator.coefs_[-1], dtype=bool)],
        [np.ones_like(b, dtype=bool) for b in estimator.intercepts_],
    ).astype(bool)

    numerical = _held_finite_differences(
        estimator, X, Y, forward, np.flatnonzero(present)
    )
    # Central differences of a smooth function (winners held) at step 1e-6:
    # truncation and round-off errors are both far below 1e-6 relative.
    relative_error = np.linalg.norm(numerical - gradient) / np.linalg.norm(
        numerical + gradient
    )
    assert relative_error < 1e-6


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("strategy", STRATEGIES)
def test_backward_pass_away_from_where_the_winners_were_chosen(
    activation, strategy, compute_path
):
    """L-BFGS's line search holds the winners chosen at its iterate and asks
    for the gradient at trial points: there the held winners' derivatives
    are those of their values at the trial point. A unit pushed below zero
    on every row (a relu winner that stops firing, a saturated tanh) and
    every other parameter moved: the gradient still matches finite
    differences of the held objective."""
    rng = np.random.RandomState(0)
    X, y, Y = _classification_problem(rng)
    estimator = SparseMLPClassifier(
        activation=activation, sparsity_strategy=strategy, **SMALL_LBFGS
    ).fit(X, y)
    _, chosen, _ = training_pass(estimator, X, Y)
    parameters = _pack(estimator.coefs_, estimator.intercepts_)
    trial = parameters + rng.normal(scale=0.1, size=parameters.size)
    _set_parameters(estimator, trial)
    # Just below zero on every row: the outputs stay moderate (a saturated
    # softmax would meet the log-loss's clipping, which is flat).
    winner = int(np.argmax(_as_mask(chosen.winners[0]).any(axis=0)))
    first_bias = sum(coef.size for coef in estimator.coefs_)
    trial[first_bias + winner] -= 0.5 + np.max(
        X @ estimator.coefs_[0][:, winner] + estimator.intercepts_[0][winner]
    )
    _set_parameters(estimator, trial)

    pre_activations = X @ estimator.coefs_[0] + estimator.intercepts_[0]
    assert np.all(pre_activations[:, winner] < 0)

    _, _, gradients = training_pass(estimator, X, Y, held=chosen)
    gradient = _pack(gradients.coef_grads, gradients.intercept_grads)

    numerical = _held_finite_differences(estimator, X, Y, chosen, range(trial.size))
    relative_error = np.linalg.norm(numerical - gradient) / np.linalg.norm(
        numerical + gradient
    )
    assert relative_error < 1e-6
