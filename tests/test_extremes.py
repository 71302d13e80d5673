"""Extreme and bad inputs: finite outputs, or a clear error.

The bad-input table of ``docs/persistence.rst`` is generated from the cases
below by running them; ``python tests/test_extremes.py`` prints it, and a test
checks that the page shows what the code really does.
"""

import pickle
import re
import warnings
from pathlib import Path

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import make_regression
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.utils._param_validation import InvalidParameterError

import sklearn_sparse_act
from sklearn_sparse_act import (
    SparseActVersionWarning,
    SparseMLPClassifier,
    SparseMLPRegressor,
)

SOLVERS = ["adam", "sgd", "lbfgs"]
STRATEGIES = ["fixed", "dynamic"]
DOCS_PAGE = Path(__file__).parents[1] / "docs" / "persistence.rst"
DIVERGENCE_MESSAGE = re.compile(
    r"Solver produced (non-finite parameter weights|a non-finite training loss)\. "
    r"The input data may contain large values and need to be preprocessed\."
)

_rng = np.random.RandomState(0)
UNIT_X = _rng.uniform(-1, 1, size=(40, 3))

# Valid but extreme training sets, each (X, class labels, regression targets).
EXTREME_DATA = {
    "magnitude-1e6": (UNIT_X * 1e6, np.arange(40) % 3, UNIT_X[:, 0] + 1),
    "constant-features": (
        np.column_stack([UNIT_X, np.full(40, 7.0), np.zeros(40)]),
        np.arange(40) % 3,
        UNIT_X[:, 0] + 1,
    ),
    "one-sample": (UNIT_X[:1], np.array([2]), np.array([0.5])),
    "duplicated-rows": (
        np.repeat(UNIT_X[:5], 8, axis=0),
        np.repeat(np.arange(5) % 2, 8),
        np.repeat(UNIT_X[:5, 0] + 1, 8),
    ),
    "identical-rows": (
        np.tile(UNIT_X[:1], (40, 1)),
        np.arange(40) % 2,
        np.linspace(0, 2, 40),
    ),
    "one-class": (UNIT_X, np.full(40, 4), UNIT_X[:, 0] + 1),
}


def _fit(model, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(X, y)


def _make(kind, solver, strategy, **params):
    shared = {
        "hidden_layer_sizes": (8, 6),
        "activation_ratio": 0.25,
        "sparsity_strategy": strategy,
        "solver": solver,
        "max_iter": 20,
        "random_state": 0,
        **params,
    }
    if kind == "classifier":
        return SparseMLPClassifier(**shared)
    return SparseMLPRegressor(loss=kind, **shared)


def _assert_finite_outputs(model, X):
    n_samples = X.shape[0]
    predictions = model.predict(X)
    assert predictions.shape[0] == n_samples
    if isinstance(model, SparseMLPClassifier):
        assert set(predictions) <= set(model.classes_)
        proba = model.predict_proba(X)
        assert proba.shape == (n_samples, len(model.classes_))
        assert np.isfinite(proba).all()
        np.testing.assert_allclose(proba.sum(axis=1), 1)
    else:
        assert np.isfinite(predictions).all()


# ----------------------------------------------------------------------
# Extreme but valid data
# ----------------------------------------------------------------------
@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("kind", ["classifier", "squared_error", "poisson"])
@pytest.mark.parametrize("data_name", sorted(EXTREME_DATA))
def test_extreme_training_data_gives_finite_outputs_or_a_clear_error(
    data_name, kind, solver, strategy
):
    X, labels, targets = EXTREME_DATA[data_name]
    y = labels if kind == "classifier" else targets
    model = _make(kind, solver, strategy)
    with warnings.catch_warnings():
        # Overflow on the way to a divergence is reported by the ValueError.
        warnings.simplefilter("ignore", RuntimeWarning)
        try:
            _fit(model, X, y)
        except ValueError as error:
            assert DIVERGENCE_MESSAGE.fullmatch(str(error)), error
            # Only inputs of magnitude 1e6 may make training diverge.
            assert data_name == "magnitude-1e6"
            return
    _assert_finite_outputs(model, X)


@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
@pytest.mark.parametrize("kind", ["classifier", "squared_error"])
def test_inputs_of_magnitude_1e6_train_without_diverging(kind, solver, strategy):
    X, labels, targets = EXTREME_DATA["magnitude-1e6"]
    model = _fit(
        _make(kind, solver, strategy), X, labels if kind == "classifier" else targets
    )
    _assert_finite_outputs(model, X)
    _assert_finite_outputs(model, -X)


@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("kind", ["classifier", "squared_error"])
def test_predicting_inputs_of_magnitude_1e6_stays_finite(kind, solver, strategy):
    """A model trained on unit-scale data, asked about inputs 1e6 times
    larger: probabilities saturate and linear outputs grow, without overflow."""
    X, labels, targets = EXTREME_DATA["constant-features"]
    model = _fit(
        _make(kind, solver, strategy), X, labels if kind == "classifier" else targets
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        _assert_finite_outputs(model, X * 1e6)


@pytest.mark.parametrize("solver", SOLVERS)
def test_one_class_is_predicted_with_certainty(solver):
    X, labels, _ = EXTREME_DATA["one-class"]
    model = _fit(_make("classifier", solver, "fixed"), X, labels)
    np.testing.assert_array_equal(model.classes_, [4])
    np.testing.assert_array_equal(model.predict(X), labels)
    np.testing.assert_array_equal(model.predict_proba(X), np.ones((40, 1)))
    np.testing.assert_array_equal(model.predict_log_proba(X), np.zeros((40, 1)))


@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("kind", ["classifier", "squared_error"])
def test_duplicated_rows_get_the_same_prediction(kind, strategy):
    X, labels, targets = EXTREME_DATA["duplicated-rows"]
    y = labels if kind == "classifier" else targets
    model = _fit(_make(kind, "adam", strategy), X, y)
    method = model.predict_proba if kind == "classifier" else model.predict
    outputs = method(X).reshape(5, 8, -1)
    first_copies = np.broadcast_to(outputs[:, :1], outputs.shape)
    np.testing.assert_allclose(outputs, first_copies, rtol=1e-12)


# ----------------------------------------------------------------------
# Documented numerical limits (docs/persistence.rst, "Numerical limits")
# ----------------------------------------------------------------------
def test_log_proba_is_log_of_proba_even_where_a_probability_underflows():
    X, labels, _ = EXTREME_DATA["constant-features"]
    model = _fit(_make("classifier", "lbfgs", "fixed"), X, labels)
    far_away = X * 1e6
    proba = model.predict_proba(far_away)
    assert (proba == 0).any()
    with np.errstate(divide="ignore"):
        np.testing.assert_array_equal(model.predict_log_proba(far_away), np.log(proba))


def test_poisson_predictions_overflow_far_outside_the_training_range():
    X, _, targets = EXTREME_DATA["constant-features"]
    model = _fit(_make("poisson", "adam", "fixed"), X, targets)
    assert np.isfinite(model.predict(X)).all()
    with pytest.warns(RuntimeWarning, match="overflow"):
        far_away = model.predict(X * 1e6)
    assert np.isinf(far_away).any()


@pytest.mark.parametrize(
    "dtype, scale, rtol", [(np.float64, 1e200, 1e-10), (np.float32, 1e25, 1e-5)]
)
def test_targets_whose_squares_overflow_are_standardized(dtype, scale, rtol):
    """``normalize_y`` on finite targets whose squares overflow the dtype:
    the model trains on the same standardized targets as on the targets
    divided by ``scale`` (up to their last bits: observed 3e-16 and 9e-8 of
    the largest prediction, hence the margins), and predicts finite values
    ``scale`` times larger, where the squares made every prediction
    infinite."""
    X, y = make_regression(200, 5, random_state=0)
    X, y = X.astype(dtype), (y / np.abs(y).max()).astype(dtype)
    params = dict(hidden_layer_sizes=(32,), max_iter=5, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        unit = SparseMLPRegressor(**params).fit(X, y)
        huge = SparseMLPRegressor(**params).fit(X, y * dtype(scale))
    predictions = huge.predict(X)
    assert np.isfinite(predictions).all()
    expected = unit.predict(X)
    np.testing.assert_allclose(
        predictions / scale, expected, rtol=0, atol=rtol * np.abs(expected).max()
    )


@pytest.mark.parametrize("solver", SOLVERS)
def test_float32_data_trains_in_float32(solver):
    X, labels, _ = EXTREME_DATA["constant-features"]
    model = _fit(_make("classifier", solver, "fixed"), X.astype(np.float32), labels)
    parameters = model.coefs_ + model.intercepts_
    assert {array.dtype for array in parameters} == {np.dtype(np.float32)}
    assert model.predict_proba(X.astype(np.float32)).dtype == np.float32


# ----------------------------------------------------------------------
# Divergence
# ----------------------------------------------------------------------
def _diverging_sgd():
    """Plain SGD with a huge step on inputs of magnitude 1e6: the weights
    overflow in the second epoch."""
    X, _, targets = EXTREME_DATA["magnitude-1e6"]
    model = SparseMLPRegressor(
        hidden_layer_sizes=(8,),
        solver="sgd",
        learning_rate_init=10.0,
        max_iter=5,
        random_state=0,
    )
    return model, X, targets


def _diverging_poisson_sgd():
    """The Poisson loss's exp link overshoots on all-zero counts: the
    weights stay finite but the predictions underflow and the loss is NaN.
    (Found by hypothesis; whether a given seed diverges depends on it.)"""
    model = SparseMLPRegressor(
        loss="poisson",
        hidden_layer_sizes=(2,),
        activation="identity",
        activation_ratio=0.5,
        solver="sgd",
        max_iter=2,
        random_state=4710,
    )
    return model, np.full((2, 5), 5.0, dtype=np.float32), np.zeros(2)


def _diverging_poisson_lbfgs():
    """L-BFGS cannot start: the first Poisson prediction overflows."""
    X, _, targets = EXTREME_DATA["magnitude-1e6"]
    model = SparseMLPRegressor(
        loss="poisson", hidden_layer_sizes=(8,), solver="lbfgs", random_state=0
    )
    return model, X, targets


def _diverging_sgd_first_epoch():
    """Inputs and targets of magnitude 1e200 overflow in the first epoch."""
    rng = np.random.RandomState(0)
    model = SparseMLPRegressor(solver="sgd", max_iter=5, random_state=0)
    return model, rng.normal(size=(50, 3)) * 1e200, rng.normal(size=50) * 1e200


@pytest.mark.parametrize("make_case", [_diverging_sgd, _diverging_poisson_sgd])
def test_divergence_after_a_finite_epoch_restores_it(make_case):
    model, X, y = make_case()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        with pytest.warns(ConvergenceWarning, match="Training diverged in epoch"):
            model.fit(X, y)
    assert not np.isfinite(model.loss_curve_[-1])
    assert model.loss_ == np.nanmin(model.loss_curve_)
    assert all(np.isfinite(p).all() for p in model.coefs_ + model.intercepts_)
    assert np.isfinite(model.predict(X)).all()


@pytest.mark.parametrize(
    "make_case, message",
    [
        (_diverging_sgd_first_epoch, "non-finite parameter weights"),
        (_diverging_poisson_lbfgs, "a non-finite training loss"),
    ],
    ids=["sgd-first-epoch", "poisson-lbfgs"],
)
def test_divergence_raises_a_clear_error(make_case, message):
    model, X, y = make_case()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        with pytest.raises(ValueError, match=f"^Solver produced {message}"):
            _fit(model, X, y)


@pytest.mark.parametrize("warm_start", [False, True])
def test_a_first_fit_that_fails_leaves_no_fitted_model(warm_start):
    """A first fit that raises leaves weights but no sparsity behind: the
    model is not fitted (a clear NotFittedError, not an AttributeError from
    inside prediction), and the next fit starts afresh, with warm_start too."""
    model, X, y = _diverging_sgd_first_epoch()
    model.set_params(warm_start=warm_start)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        with pytest.raises(ValueError, match="^Solver produced non-finite"):
            _fit(model, X, y)
    with pytest.raises(NotFittedError):
        model.predict(X_SMALL)
    refitted = _fit(model, X_SMALL, TARGETS)
    fresh = _fit(clone(model).set_params(warm_start=False), X_SMALL, TARGETS)
    for coef, fresh_coef in zip(refitted.coefs_, fresh.coefs_, strict=True):
        np.testing.assert_array_equal(coef, fresh_coef)


# ----------------------------------------------------------------------
# The bad-input table
# ----------------------------------------------------------------------
X_SMALL = UNIT_X[:30]
LABELS = np.arange(30) % 2
TARGETS = UNIT_X[:30, 0] + 1


def _fitted_classifier(**params):
    model = SparseMLPClassifier(hidden_layer_sizes=(8,), random_state=0, **params)
    return _fit(model, X_SMALL, LABELS)


def _fitted_regressor(**params):
    model = SparseMLPRegressor(hidden_layer_sizes=(8,), random_state=0, **params)
    return _fit(model, X_SMALL, TARGETS)


def _with_value(X, value):
    X = X.copy()
    X[0, 0] = value
    return X


def _pickled_by_another_version():
    model = _fitted_regressor(max_iter=2)
    current_version = sklearn_sparse_act.__version__
    sklearn_sparse_act.__version__ = "0.0.1"
    try:
        pickled = pickle.dumps(model)
    finally:
        sklearn_sparse_act.__version__ = current_version
    return pickle.loads(pickled)


def _skops_without_trusted():
    sio = pytest.importorskip("skops.io")
    return sio.loads(sio.dumps(_fitted_regressor(max_iter=2)))


def _untrusted_types_exception():
    sio = pytest.importorskip("skops.io")
    return sio.exceptions.UntrustedTypesFoundException


# (what the user does, what to call, exception or warning class). The class
# may be a callable returning it, for optional dependencies.
BAD_INPUT_CASES = [
    (
        "NaN in ``X`` (``fit``, ``predict``, ...)",
        lambda: SparseMLPRegressor().fit(_with_value(X_SMALL, np.nan), TARGETS),
        ValueError,
    ),
    (
        "``inf`` in ``X``",
        lambda: SparseMLPRegressor().fit(_with_value(X_SMALL, np.inf), TARGETS),
        ValueError,
    ),
    (
        "NaN in ``y``",
        lambda: SparseMLPRegressor().fit(X_SMALL, np.r_[np.nan, TARGETS[1:]]),
        ValueError,
    ),
    (
        "No samples",
        lambda: SparseMLPRegressor().fit(np.empty((0, 3)), []),
        ValueError,
    ),
    (
        "1d ``X``",
        lambda: SparseMLPRegressor().fit(X_SMALL[:, 0], TARGETS),
        ValueError,
    ),
    (
        "3d ``X``",
        lambda: SparseMLPRegressor().fit(X_SMALL[:, :, None], TARGETS),
        ValueError,
    ),
    (
        "Strings in ``X``",
        lambda: SparseMLPRegressor().fit([["a", 1.0], ["b", 2.0]], [1.0, 2.0]),
        ValueError,
    ),
    (
        "Complex numbers in ``X``",
        lambda: SparseMLPRegressor().fit(X_SMALL + 1j, TARGETS),
        ValueError,
    ),
    (
        "``X`` and ``y`` of different lengths",
        lambda: SparseMLPRegressor().fit(X_SMALL, TARGETS[:-1]),
        ValueError,
    ),
    (
        "Continuous ``y`` for the classifier",
        lambda: SparseMLPClassifier().fit(X_SMALL, TARGETS),
        ValueError,
    ),
    (
        "Negative ``y`` with ``loss='poisson'``",
        lambda: SparseMLPRegressor(loss="poisson").fit(X_SMALL, -TARGETS),
        ValueError,
    ),
    (
        "A parameter out of range (``activation_ratio=0``)",
        lambda: SparseMLPClassifier(activation_ratio=0).fit(X_SMALL, LABELS),
        InvalidParameterError,
    ),
    (
        "One ratio per layer, but the wrong number of them",
        lambda: SparseMLPClassifier((8, 8), activation_ratio=[0.5]).fit(
            X_SMALL, LABELS
        ),
        ValueError,
    ),
    (
        "Training diverges in its first epoch (SGD, inputs of 1e200)",
        lambda: _fit(*_diverging_sgd_first_epoch()),
        ValueError,
    ),
    (
        "The training loss is not finite (Poisson, inputs of 1e6, L-BFGS)",
        lambda: _fit(*_diverging_poisson_lbfgs()),
        ValueError,
    ),
    (
        "A validation set too small for ``early_stopping``",
        lambda: SparseMLPClassifier(early_stopping=True).fit(X_SMALL[:8], LABELS[:8]),
        ValueError,
    ),
    (
        "``warm_start`` with other ``hidden_layer_sizes``",
        lambda: (
            _fitted_regressor(warm_start=True, max_iter=2)
            .set_params(hidden_layer_sizes=(9,))
            .fit(X_SMALL, TARGETS)
        ),
        ValueError,
    ),
    (
        "``hidden_layer_sizes`` holding a float",
        lambda: SparseMLPClassifier(hidden_layer_sizes=[64.0, 32]).fit(X_SMALL, LABELS),
        ValueError,
    ),
    (
        "First ``partial_fit`` without ``classes``",
        lambda: SparseMLPClassifier().partial_fit(X_SMALL, LABELS),
        ValueError,
    ),
    (
        "``partial_fit`` with a class not seen before",
        lambda: _fitted_classifier(max_iter=2).partial_fit(X_SMALL, np.arange(30) % 3),
        ValueError,
    ),
    (
        "``partial_fit`` with ``class_weight='balanced'``",
        lambda: SparseMLPClassifier(class_weight="balanced").partial_fit(
            X_SMALL, LABELS, classes=[0, 1]
        ),
        ValueError,
    ),
    (
        "``partial_fit`` with ``solver='lbfgs'``",
        lambda: SparseMLPRegressor(solver="lbfgs").partial_fit(X_SMALL, TARGETS),
        AttributeError,
    ),
    (
        "``predict`` before ``fit``",
        lambda: SparseMLPRegressor().predict(X_SMALL),
        NotFittedError,
    ),
    (
        "``predict`` with another number of features",
        lambda: _fitted_regressor(max_iter=2).predict(X_SMALL[:, :2]),
        ValueError,
    ),
    (
        "``skops.io.load`` without ``trusted``",
        _skops_without_trusted,
        _untrusted_types_exception,
    ),
    (
        "Unpickling a model saved by another version",
        _pickled_by_another_version,
        SparseActVersionWarning,
    ),
    (
        "Training stops at ``max_iter`` before converging",
        lambda: SparseMLPRegressor(max_iter=2).fit(X_SMALL, TARGETS),
        ConvergenceWarning,
    ),
]


def _outcome(action, expected_class):
    """Run a case: the class and first message line of what it raised or
    warned, checked against the expected class."""
    if callable(expected_class) and not isinstance(expected_class, type):
        expected_class = expected_class()
    if issubclass(expected_class, Warning):
        with pytest.warns(expected_class) as record:
            action()
        caught = next(
            w.message for w in record if isinstance(w.message, expected_class)
        )
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            warnings.simplefilter("ignore", RuntimeWarning)
            with pytest.raises(expected_class) as info:
                action()
        caught = info.value
    message = str(caught).strip().splitlines()[0]
    # The table outlives releases: name the installed version generically.
    message = message.replace(
        f"version {sklearn_sparse_act.__version__}", "version <installed>"
    )
    return type(caught).__name__, message


def render_bad_input_table():
    """The reStructuredText table of ``docs/persistence.rst``, from real runs."""
    lines = [
        ".. list-table::",
        "   :header-rows: 1",
        "   :widths: 30 18 52",
        "",
        "   * - Input or action",
        "     - You get",
        "     - Message (first line)",
    ]
    for description, action, expected_class in BAD_INPUT_CASES:
        name, message = _outcome(action, expected_class)
        lines += [
            f"   * - {description}",
            f"     - ``{name}``",
            f"     - {_rst_literal(message)}",
        ]
    return "\n".join(lines) + "\n"


def _rst_literal(text):
    """A message as an inline literal (which may hold single backquotes)."""
    assert "``" not in text and not text.endswith("`"), text
    return f"``{text}``"


@pytest.mark.parametrize(
    "description, action, expected_class",
    BAD_INPUT_CASES,
    ids=[case[0] for case in BAD_INPUT_CASES],
)
def test_bad_input_gives_its_documented_error(description, action, expected_class):
    name, message = _outcome(action, expected_class)
    page = DOCS_PAGE.read_text(encoding="utf-8")
    row = f"   * - {description}\n     - ``{name}``\n     - {_rst_literal(message)}\n"
    assert row in page, f"docs/persistence.rst is out of date for: {description}"


if __name__ == "__main__":
    print(render_bad_input_table())
