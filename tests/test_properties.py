"""Property-based tests (hypothesis) over random shapes, dtypes, widths,
activation ratios, strategies and solvers.

Every example fits a tiny network for a few iterations, so each property runs
300 examples in a few seconds.
"""

import re
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.special import expit, softmax
from sklearn.exceptions import ConvergenceWarning

from sklearn_sparse_act import SparseMLPClassifier, SparseMLPRegressor
from sklearn_sparse_act._sparsity import row_top_k_mask

# The Poisson loss's exp may overflow at prediction (checked: never NaN).
pytestmark = pytest.mark.filterwarnings(
    "ignore:overflow encountered in exp:RuntimeWarning"
)

# Derandomized: every run draws the same 300 examples, so the suite passes or
# fails the same way on every machine and every run.
PROPERTY_SETTINGS = settings(
    max_examples=300,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
# Properties that fit a network per example draw 100 of them (a fit costs
# what hundreds of draws of a pure function cost). At 100 they still catch,
# on both backends, the planted bugs of tools/mutations.py that concern them:
# `python tools/mutation_check.py --only ties-go-right --only
# fixed-predicts-k-plus-one --tests tests/test_properties.py`.
FIT_PROPERTY_SETTINGS = settings(PROPERTY_SETTINGS, max_examples=100)

DTYPES = st.sampled_from([np.float32, np.float64])
# Values exactly representable in float32, so a float32 and a float64 draw of
# the same example hold the same numbers.
FEATURE_VALUES = st.floats(-10, 10, width=32)
RATIOS = st.floats(0, 1, exclude_min=True)

# Relative tolerance between two computations of the same probabilities.
PROBA_RTOL = {np.dtype(np.float32): 1e-5, np.dtype(np.float64): 1e-12}

DIVERGENCE_MESSAGE = re.compile(
    "Solver produced (non-finite parameter weights|a non-finite training loss"
    "|non-finite predictions on the training data)"
)

HIDDEN_ACTIVATIONS = {
    "identity": lambda z: z,
    "logistic": expit,
    "tanh": np.tanh,
    "relu": lambda z: np.maximum(z, 0),
}


@st.composite
def network_configs(draw, strategies=("fixed", "dynamic")):
    """Constructor parameters of a tiny sparse network."""
    widths = draw(st.lists(st.integers(2, 16), min_size=1, max_size=2))
    ratio = draw(RATIOS | st.lists(RATIOS, min_size=len(widths), max_size=len(widths)))
    solver = draw(st.sampled_from(["adam", "sgd", "lbfgs"]))
    return {
        "hidden_layer_sizes": tuple(widths),
        "activation_ratio": ratio,
        "sparsity_strategy": draw(st.sampled_from(strategies)),
        "activation": draw(st.sampled_from(sorted(HIDDEN_ACTIVATIONS))),
        "solver": solver,
        "max_iter": 2,
        "random_state": draw(st.integers(0, 2**16)),
    }


@st.composite
def feature_matrices(draw, n_features, min_rows=1, max_rows=12):
    dtype = draw(DTYPES)
    n_rows = draw(st.integers(min_rows, max_rows))
    return draw(arrays(dtype, (n_rows, n_features), elements=FEATURE_VALUES))


@st.composite
def classification_problems(draw):
    """(X_train, y_train, X_new): every class occurs in y_train."""
    n_features = draw(st.integers(1, 5))
    n_classes = draw(st.integers(2, 4))
    X = draw(feature_matrices(n_features, min_rows=n_classes, max_rows=24))
    classes = np.array(
        draw(
            st.lists(
                st.integers(-5, 5), min_size=n_classes, max_size=n_classes, unique=True
            )
        )
    )
    y = classes[np.arange(X.shape[0]) % n_classes]
    return X, y, draw(feature_matrices(n_features))


@st.composite
def regression_problems(draw):
    """(X_train, y_train, X_new, loss) with a 1d or 2d target."""
    n_features = draw(st.integers(1, 5))
    X = draw(feature_matrices(n_features, min_rows=2, max_rows=24))
    loss = draw(st.sampled_from(["squared_error", "poisson"]))
    n_outputs = draw(st.sampled_from([None, 2, 3]))
    shape = (X.shape[0],) if n_outputs is None else (X.shape[0], n_outputs)
    y = draw(arrays(np.float64, shape, elements=st.floats(0, 5)))
    return X, y, draw(feature_matrices(n_features)), loss


def _fit(model, X, y):
    """Fit, or return None when training diverged with the documented error
    (which only the Poisson loss's exp link does on these small inputs)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        # Overflow on the way to a divergence; the outcome is checked below.
        warnings.simplefilter("ignore", RuntimeWarning)
        try:
            return model.fit(X, y)
        except ValueError as error:
            assert DIVERGENCE_MESSAGE.match(str(error)), error
            assert model.loss == "poisson", error
            return None


def _assert_finite(values):
    assert np.isfinite(values).all(), values


# ----------------------------------------------------------------------
# Shapes, dtypes and probabilities
# ----------------------------------------------------------------------
@FIT_PROPERTY_SETTINGS
@given(problem=classification_problems(), config=network_configs())
def test_classifier_outputs_have_the_right_shape_dtype_and_probabilities(
    problem, config
):
    X, y, X_new = problem
    model = _fit(SparseMLPClassifier(**config), X, y)
    assert model.coefs_[0].dtype == X.dtype

    proba = model.predict_proba(X_new)
    n_classes = len(np.unique(y))
    assert proba.shape == (X_new.shape[0], n_classes)
    assert proba.dtype == np.result_type(X_new.dtype, model.coefs_[0].dtype)
    _assert_finite(proba)
    assert ((proba >= 0) & (proba <= 1)).all()
    eps = np.finfo(proba.dtype).eps
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=0, atol=8 * eps)

    labels = model.predict(X_new)
    assert labels.shape == (X_new.shape[0],)
    assert labels.dtype == y.dtype
    np.testing.assert_array_equal(labels, model.classes_[proba.argmax(axis=1)])

    # Equal to log(proba), as scikit-learn requires: -inf where a binary
    # probability 1 - p rounds to 0 (p > 1 - eps/2 at a logit of about 17 in
    # float32 or 37 in float64).
    with np.errstate(divide="ignore"):
        np.testing.assert_array_equal(
            model.predict_log_proba(X_new), np.log(proba), strict=True
        )


@FIT_PROPERTY_SETTINGS
@given(problem=regression_problems(), config=network_configs())
def test_regressor_outputs_have_the_right_shape_and_dtype(problem, config):
    X, y, X_new, loss = problem
    model = _fit(SparseMLPRegressor(loss=loss, **config), X, y)
    if model is None:
        return
    assert model.coefs_[0].dtype == X.dtype

    predictions = model.predict(X_new)
    assert predictions.shape == (X_new.shape[0], *y.shape[1:])
    assert predictions.dtype == np.result_type(X_new.dtype, model.coefs_[0].dtype)
    if loss == "poisson":
        # Never NaN, but exp may overflow to inf: even on the training inputs
        # when the last SGD step overshoots after the last loss was recorded.
        assert (predictions >= 0).all(), predictions
    else:
        _assert_finite(predictions)


# ----------------------------------------------------------------------
# Each row is predicted on its own
# ----------------------------------------------------------------------
def _outputs(model, X):
    if isinstance(model, SparseMLPClassifier):
        return {"labels": model.predict(X), "proba": model.predict_proba(X)}
    return {"values": model.predict(X)}


def _rounding_bound(model, X):
    """Per row, a bound on how far the output pre-activations can move when
    BLAS sums the same terms in another order: unit roundoff times the number
    of terms summed on the way times their magnitude (the network run on |X|
    with |weights|, every unit on; no activation exceeds max(|z|, 1))."""
    magnitude = np.abs(X).astype(np.float64)
    for coef, intercept in zip(model.coefs_, model.intercepts_, strict=True):
        magnitude = np.maximum(magnitude @ np.abs(coef) + np.abs(intercept), 1)
    n_terms = sum(coef.shape[0] for coef in model.coefs_)
    eps = np.finfo(np.result_type(X, model.coefs_[0])).eps
    return 2 * n_terms * eps * magnitude.max(axis=1) + 8 * eps


def _assert_same_rows(model, outputs, expected, bound):
    """Compare the predictions of a row set with the matching rows of a full
    prediction. They may differ by rounding only (within ``bound``, relative
    after exp or softmax); labels must be equal except on rows whose two best
    classes tie within that rounding."""
    if "proba" in outputs:
        actual, reference, relative = outputs["proba"], expected["proba"], True
    else:
        actual, reference = outputs["values"], expected["values"]
        relative = model.out_activation_ == "exp"
    if actual.ndim == 2:
        bound = bound[:, None]
    tolerance = 2 * bound * np.abs(reference) if relative else bound
    difference = np.abs(actual - reference)
    assert np.all(difference <= tolerance), (actual, reference, tolerance)
    if "labels" in outputs:
        top_two = np.sort(reference, axis=1)[:, -2:]
        clear = top_two[:, 1] - top_two[:, 0] > 4 * bound[:, 0]
        np.testing.assert_array_equal(
            outputs["labels"][clear], expected["labels"][clear]
        )


@FIT_PROPERTY_SETTINGS
@given(is_classifier=st.booleans(), config=network_configs(), data=st.data())
def test_predictions_do_not_depend_on_row_order_or_other_rows(
    is_classifier, config, data
):
    if is_classifier:
        X, y, X_new = data.draw(classification_problems(), label="problem")
        model = _fit(SparseMLPClassifier(**config), X, y)
    else:
        X, y, X_new, loss = data.draw(regression_problems(), label="problem")
        model = _fit(SparseMLPRegressor(loss=loss, **config), X, y)
        if model is None:
            return
    if config["sparsity_strategy"] == "dynamic":
        # A 'dynamic' threshold set by L-BFGS is exactly one of the training
        # pre-activations. On that training row the entry sits on the
        # threshold, and whether BLAS rounds it above (fires) or not depends
        # on how many rows are multiplied together. Known issue: such rows
        # are left out here (see the bad-input table in docs/persistence.rst).
        in_training = (X_new[:, None, :] == X[None, :, :]).all(axis=2).any(axis=1)
        X_new = X_new[~in_training]
        assume(X_new.shape[0] > 0)
    full = _outputs(model, X_new)
    if not np.isfinite(full.get("values", 0)).all():
        assert model.loss == "poisson"  # exp overflow, as above
        return
    n_rows = X_new.shape[0]
    permutation = data.draw(st.permutations(range(n_rows)), label="permutation")
    subset = data.draw(
        st.lists(st.integers(0, n_rows - 1), min_size=1, unique=True), label="subset"
    )
    row_sets = [np.array(permutation), np.array(subset)]
    row_sets += [np.array([row]) for row in range(n_rows)]
    bound = _rounding_bound(model, X_new)
    for rows in row_sets:
        expected = {name: values[rows] for name, values in full.items()}
        _assert_same_rows(model, _outputs(model, X_new[rows]), expected, bound[rows])


# ----------------------------------------------------------------------
# 'fixed' keeps exactly k winners per row
# ----------------------------------------------------------------------
@PROPERTY_SETTINGS
@given(
    pre_activations=st.integers(1, 16).flatmap(
        lambda width: arrays(
            st.sampled_from([np.float32, np.float64]),
            st.tuples(st.integers(1, 20), st.just(width)),
            # Few distinct values: most rows have ties at the k-th value.
            elements=st.sampled_from([-2.0, -0.5, 0.0, 0.0, 1.5, 3.0]) | FEATURE_VALUES,
        )
    ),
    data=st.data(),
)
def test_row_top_k_mask_keeps_exactly_k_largest_even_with_ties(pre_activations, data):
    width = pre_activations.shape[1]
    n_active = data.draw(st.integers(1, width), label="n_active")
    mask = row_top_k_mask(pre_activations, n_active)
    assert mask.shape == pre_activations.shape
    assert (mask.sum(axis=1) == n_active).all()
    smallest_winner = np.where(mask, pre_activations, np.inf).min(axis=1)
    largest_loser = np.where(mask, -np.inf, pre_activations).max(axis=1)
    assert (smallest_winner >= largest_loser).all()


def _reference_hidden_outputs(model, X):
    """The hidden layers' outputs recomputed from the fitted attributes, with
    each layer keeping exactly its k largest pre-activations, ties at the k-th
    value going to the lower column index (the documented rule)."""
    activation = HIDDEN_ACTIVATIONS[model.activation]
    outputs = []
    values = X
    for layer, n_active in enumerate(model.inference_active_units_):
        pre_activations = values @ model.coefs_[layer] + model.intercepts_[layer]
        # A stable sort of -z puts the lower column first among equal values.
        descending = np.argsort(-pre_activations, axis=1, kind="stable")
        mask = np.zeros(pre_activations.shape, dtype=bool)
        np.put_along_axis(mask, descending[:, :n_active], True, axis=1)
        values = np.where(mask, activation(pre_activations), 0)
        outputs.append(values)
    return outputs


def _reference_forward(model, X):
    """The output layer's pre-activations recomputed from the fitted
    attributes (see :func:`_reference_hidden_outputs`)."""
    last_hidden = _reference_hidden_outputs(model, X)[-1]
    return last_hidden @ model.coefs_[-1] + model.intercepts_[-1]


def _reference_proba(model, X):
    scores = _reference_forward(model, X)
    if model.out_activation_ == "softmax":
        return softmax(scores, axis=1)
    positive = expit(scores[:, 0])
    return np.column_stack([1 - positive, positive])


@FIT_PROPERTY_SETTINGS
@given(problem=classification_problems(), config=network_configs(["fixed"]))
def test_fixed_strategy_fires_exactly_k_units_per_row(problem, config):
    X, y, X_new = problem
    model = _fit(SparseMLPClassifier(**config), X, y)

    widths = config["hidden_layer_sizes"]
    ratios = config["activation_ratio"]
    ratios = ratios if isinstance(ratios, list) else [ratios] * len(widths)
    expected_k = [
        max(1, int(np.floor(ratio * width + 0.5)))
        for ratio, width in zip(ratios, widths, strict=True)
    ]
    assert model.active_units_ == expected_k

    # In training: logistic units never output 0, so the measured fraction of
    # non-zero outputs is exactly k / width.
    if config["activation"] == "logistic":
        np.testing.assert_array_equal(
            model.active_fraction_,
            [k / width for k, width in zip(expected_k, widths, strict=True)],
        )

    # At prediction: exactly k winners per row reproduce the model's output.
    expected_proba = _reference_proba(model, X_new)
    rtol = PROBA_RTOL[expected_proba.dtype]
    np.testing.assert_allclose(
        model.predict_proba(X_new), expected_proba, rtol=rtol, atol=rtol
    )


# ----------------------------------------------------------------------
# 'fixed' breaks ties towards the lower column
# ----------------------------------------------------------------------
HALVES = st.sampled_from([-1.0, -0.5, 0.0, 0.5, 1.0])
SMALL_INTEGERS = st.sampled_from([-3.0, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0])


@st.composite
def tied_networks(draw):
    """Integer inputs and a classifier's weights in multiples of 1/2, whose
    hidden units copy each other's incoming weights and bias.

    Every sum is a multiple of 1/8 below 2**11 in magnitude, exact in float32
    and float64 in any order, so the copies' pre-activations are equal on every path and
    backend, and most rows tie at the k-th largest value.
    """
    dtype = draw(DTYPES)
    n_features = draw(st.integers(1, 4))
    widths = draw(st.lists(st.integers(2, 12), min_size=1, max_size=2))
    n_classes = draw(st.integers(2, 3))
    n_rows = draw(st.integers(n_classes, 12))
    X = draw(arrays(dtype, (n_rows, n_features), elements=SMALL_INTEGERS))
    coefs, intercepts, n_active = [], [], []
    fan_in = n_features
    for width in widths:
        distinct = draw(arrays(np.float64, (fan_in + 1, width), elements=HALVES))
        copied = draw(
            st.lists(st.integers(0, width - 1), min_size=width, max_size=width)
        )
        coefs.append(distinct[:-1, copied].astype(dtype))
        intercepts.append(distinct[-1, copied].astype(dtype))
        n_active.append(draw(st.integers(1, width - 1)))
        fan_in = width
    n_outputs = 1 if n_classes == 2 else n_classes
    output = draw(arrays(np.float64, (fan_in + 1, n_outputs), elements=HALVES))
    coefs.append(output[:-1].astype(dtype))
    intercepts.append(output[-1].astype(dtype))
    return {
        "X": X,
        "y": np.arange(n_rows) % n_classes,
        "widths": tuple(widths),
        "n_active": n_active,
        "coefs": coefs,
        "intercepts": intercepts,
        "activation": draw(st.sampled_from(["identity", "relu"])),
    }


@settings(
    FIT_PROPERTY_SETTINGS,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(network=tied_networks())
def test_fixed_strategy_gives_ties_to_the_lower_column(network, compute_path):
    X, widths, n_active = network["X"], network["widths"], network["n_active"]
    model = _fit(
        SparseMLPClassifier(
            hidden_layer_sizes=widths,
            activation_ratio=[
                k / width for k, width in zip(n_active, widths, strict=True)
            ],
            activation=network["activation"],
            solver="sgd",
            max_iter=1,
            random_state=0,
        ),
        X,
        network["y"],
    )
    assert model.inference_active_units_ == n_active
    model.coefs_ = network["coefs"]
    model.intercepts_ = network["intercepts"]

    # 'identity' and 'relu' keep the exact pre-activations, so the codes are
    # equal; a unit chosen among tied copies by another rule would show in
    # another column.
    expected_codes = _reference_hidden_outputs(model, X)
    for layer, expected in enumerate(expected_codes):
        codes = model.hidden_activations(X, layer=layer)
        np.testing.assert_array_equal(codes.toarray(), expected)
    expected_proba = _reference_proba(model, X)
    rtol = PROBA_RTOL[expected_proba.dtype]
    np.testing.assert_allclose(
        model.predict_proba(X), expected_proba, rtol=rtol, atol=rtol
    )
