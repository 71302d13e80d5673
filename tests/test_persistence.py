"""Persistence: pickle, joblib and skops round trips, and version stamps."""

import pickle
import warnings

import joblib
import numpy as np
import pytest
from sklearn.datasets import load_diabetes, load_iris
from sklearn.exceptions import ConvergenceWarning
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import sklearn_sparse_act
from sklearn_sparse_act import (
    SparseActVersionWarning,
    SparseMLPClassifier,
    SparseMLPRegressor,
)
from sklearn_sparse_act._persistence import UNSTAMPED_VERSION, VERSION_KEY

SOLVERS = ["adam", "sgd", "lbfgs"]
STRATEGIES = ["fixed", "dynamic"]
DTYPES = [np.float32, np.float64]

# Every training and inference control away from its default.
CONTROLS = {
    "boost_strength": 1.0,
    "boost_decay": 0.9,
    "inference_ratio_factor": 1.5,
    "sparsity_warmup": 3,
    "weight_density": [0.5, 0.3],
}
CLASSIFIER_CONTROLS = {**CONTROLS, "class_weight": {0: 1.0, 1: 2.0, 2: 0.5}}

# Attributes that are not plain data. Both are types that skops trusts by
# default (scikit-learn's LabelBinarizer and NumPy's RandomState); the skops
# tests below check that loading needs nothing trusted beyond our own classes.
NON_PLAIN_ATTRIBUTES = {"_label_binarizer", "_random_state"}


def _classification_data(dtype=np.float64):
    X, y = load_iris(return_X_y=True)
    return (X / 8).astype(dtype), y


def _regression_data(dtype=np.float64):
    X, y = load_diabetes(return_X_y=True)
    return (X[:150] * 10).astype(dtype), y[:150] / 300


def _data_for(estimator_class, dtype=np.float64):
    if estimator_class is SparseMLPClassifier:
        return _classification_data(dtype)
    return _regression_data(dtype)


def _fit_quietly(model, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(X, y)


def _fitted(
    estimator_class, strategy="fixed", solver="adam", dtype=np.float64, **params
):
    X, y = _data_for(estimator_class, dtype)
    model = estimator_class(
        hidden_layer_sizes=(12, 8),
        activation_ratio=0.25,
        sparsity_strategy=strategy,
        solver=solver,
        max_iter=8,
        random_state=0,
        **params,
    )
    return _fit_quietly(model, X, y)


def _controls_for(estimator_class):
    if estimator_class is SparseMLPClassifier:
        return CLASSIFIER_CONTROLS
    return CONTROLS


def _outputs(model, X):
    """Every prediction the model offers, by method name."""
    methods = ["predict", "predict_proba", "predict_log_proba"]
    return {name: getattr(model, name)(X) for name in methods if hasattr(model, name)}


def assert_identical(actual, expected, where="estimator"):
    """Recursive bitwise equality of attribute values (NaN equals NaN)."""
    assert type(actual) is type(expected), where
    if isinstance(expected, np.ndarray):
        assert actual.dtype == expected.dtype, where
        np.testing.assert_array_equal(actual, expected, err_msg=where, strict=True)
    elif isinstance(expected, dict):
        assert actual.keys() == expected.keys(), where
        for key in expected:
            assert_identical(actual[key], expected[key], f"{where}[{key!r}]")
    elif isinstance(expected, list | tuple):
        assert len(actual) == len(expected), where
        for index, (left, right) in enumerate(zip(actual, expected, strict=True)):
            assert_identical(left, right, f"{where}[{index}]")
    elif isinstance(expected, np.random.RandomState):
        assert_identical(actual.get_state(), expected.get_state(), where)
    elif hasattr(expected, "__dict__"):
        assert_identical(vars(actual), vars(expected), where)
    elif isinstance(expected, float | np.floating) and np.isnan(expected):
        assert np.isnan(actual), where
    else:
        assert actual == expected, where


def assert_same_model(restored, original, X):
    assert_identical(vars(restored), vars(original))
    restored_outputs, original_outputs = _outputs(restored, X), _outputs(original, X)
    for name, expected in original_outputs.items():
        assert_identical(restored_outputs[name], expected, name)


def _is_plain(value):
    if value is None or isinstance(value, bool | int | float | str | np.number):
        return True
    if isinstance(value, np.ndarray):
        return value.dtype.kind in "biufU"
    if isinstance(value, list | tuple):
        return all(_is_plain(item) for item in value)
    if isinstance(value, dict):
        return all(_is_plain(key) and _is_plain(item) for key, item in value.items())
    return False


# ----------------------------------------------------------------------
# pickle and joblib
# ----------------------------------------------------------------------
@pytest.mark.parametrize("with_controls", [False, True], ids=["defaults", "controls"])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("estimator_class", [SparseMLPClassifier, SparseMLPRegressor])
def test_pickle_and_joblib_round_trips_are_bitwise_exact(
    estimator_class, strategy, solver, dtype, with_controls, tmp_path
):
    controls = _controls_for(estimator_class) if with_controls else {}
    model = _fitted(estimator_class, strategy, solver, dtype, **controls)
    X, _ = _data_for(estimator_class, dtype)
    path = tmp_path / "model.joblib"
    joblib.dump(model, path)

    with warnings.catch_warnings():
        warnings.simplefilter("error", SparseActVersionWarning)
        from_pickle = pickle.loads(pickle.dumps(model))
        from_joblib = joblib.load(path)

    for restored in (from_pickle, from_joblib):
        assert_same_model(restored, model, X)
        assert not hasattr(restored, VERSION_KEY)


IRIS_NAMES = np.array(["setosa", "versicolor", "virginica"])


@pytest.mark.parametrize(
    "estimator_class, params, make_target",
    [
        (SparseMLPClassifier, {"early_stopping": True}, lambda y: y),
        (SparseMLPClassifier, {}, lambda y: IRIS_NAMES[y]),
        (SparseMLPClassifier, {}, lambda y: np.column_stack([y == 0, y == 2])),
        (SparseMLPRegressor, {"early_stopping": True}, lambda y: y),
        (SparseMLPRegressor, {}, lambda y: np.column_stack([y, -y])),
        (SparseMLPRegressor, {"loss": "poisson"}, lambda y: np.round(3 * y)),
    ],
    ids=["early-stopping", "string-labels", "multilabel"]
    + ["early-stopping-regression", "multioutput", "poisson"],
)
def test_round_trips_of_other_configurations(estimator_class, params, make_target):
    X, y = _data_for(estimator_class)
    model = estimator_class(
        hidden_layer_sizes=(10,), max_iter=10, random_state=0, **params
    )
    _fit_quietly(model, X, make_target(y))
    assert_same_model(pickle.loads(pickle.dumps(model)), model, X)


@pytest.mark.parametrize("solver", ["adam", "sgd"])
@pytest.mark.parametrize("estimator_class", [SparseMLPClassifier, SparseMLPRegressor])
def test_restored_model_resumes_training_exactly(estimator_class, solver):
    """Optimizer state, thresholds and counters survive: partial_fit on the
    restored copy lands on the same weights as on the original."""
    model = _fitted(
        estimator_class, "dynamic", solver, **_controls_for(estimator_class)
    )
    restored = pickle.loads(pickle.dumps(model))
    X, y = _data_for(estimator_class)
    for estimator in (model, restored):
        estimator.partial_fit(X[:50], y[:50])
    assert_same_model(restored, model, X)


# ----------------------------------------------------------------------
# version stamps
# ----------------------------------------------------------------------
def test_pickled_state_carries_the_package_version():
    model = _fitted(SparseMLPClassifier)
    assert model.__getstate__()[VERSION_KEY] == sklearn_sparse_act.__version__
    assert VERSION_KEY not in vars(model)


@pytest.mark.parametrize("estimator_class", [SparseMLPClassifier, SparseMLPRegressor])
def test_unpickling_from_another_version_warns(estimator_class, monkeypatch):
    model = _fitted(estimator_class)
    current_version = sklearn_sparse_act.__version__
    with monkeypatch.context() as patch:
        patch.setattr(sklearn_sparse_act, "__version__", "0.0.1")
        pickled = pickle.dumps(model)

    with pytest.warns(SparseActVersionWarning) as record:
        restored = pickle.loads(pickled)
    [warning] = record
    assert issubclass(warning.category, UserWarning)
    message = str(warning.message)
    assert estimator_class.__name__ in message
    assert "version 0.0.1 when using version " + current_version in message
    assert warning.message.original_version == "0.0.1"
    assert warning.message.current_version == current_version
    # The warning does not stop the model from loading intact.
    X, _ = _data_for(estimator_class)
    assert_same_model(restored, model, X)


def test_state_without_a_stamp_warns_as_unknown_version():
    model = _fitted(SparseMLPRegressor)
    state = model.__getstate__()
    del state[VERSION_KEY]
    restored = SparseMLPRegressor.__new__(SparseMLPRegressor)
    with pytest.warns(SparseActVersionWarning, match="unknown"):
        restored.__setstate__(state)
    assert restored.get_params() == model.get_params()
    assert UNSTAMPED_VERSION in str(
        SparseActVersionWarning("SparseMLPRegressor", "1.0", UNSTAMPED_VERSION)
    )


def test_version_warning_survives_pickling():
    """Warnings cross process boundaries (joblib workers) by pickle."""
    warning = SparseActVersionWarning("SparseMLPClassifier", "2.0", "1.0")
    restored = pickle.loads(pickle.dumps(warning))
    assert str(restored) == str(warning)
    assert restored.original_version == "1.0"


# ----------------------------------------------------------------------
# skops
# ----------------------------------------------------------------------
def _own_type_names(*estimator_classes):
    return sorted(f"{cls.__module__}.{cls.__qualname__}" for cls in estimator_classes)


@pytest.mark.parametrize("with_controls", [False, True], ids=["defaults", "controls"])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("estimator_class", [SparseMLPClassifier, SparseMLPRegressor])
def test_skops_loads_trusting_only_our_types(
    estimator_class, strategy, solver, dtype, with_controls, tmp_path
):
    sio = pytest.importorskip("skops.io")
    controls = _controls_for(estimator_class) if with_controls else {}
    model = _fitted(estimator_class, strategy, solver, dtype, **controls)
    path = tmp_path / "model.skops"
    sio.dump(model, path)

    untrusted = sio.get_untrusted_types(file=path)
    assert untrusted == _own_type_names(estimator_class)
    with pytest.raises(sio.exceptions.UntrustedTypesFoundException):
        sio.load(path)
    with warnings.catch_warnings():
        warnings.simplefilter("error", SparseActVersionWarning)
        restored = sio.load(path, trusted=untrusted)
    X, _ = _data_for(estimator_class, dtype)
    assert_same_model(restored, model, X)


def test_skops_pipeline_needs_only_our_types():
    sio = pytest.importorskip("skops.io")
    X, y = _classification_data()
    pipeline = make_pipeline(
        StandardScaler(),
        SparseMLPClassifier(hidden_layer_sizes=(16,), max_iter=5, random_state=0),
    )
    _fit_quietly(pipeline, X, y)
    data = sio.dumps(pipeline)
    trusted = _own_type_names(SparseMLPClassifier)
    assert sio.get_untrusted_types(data=data) == trusted
    restored = sio.loads(data, trusted=trusted)
    np.testing.assert_array_equal(
        restored.predict_proba(X), pipeline.predict_proba(X), strict=True
    )


def test_skops_restores_the_version_stamp_check(monkeypatch):
    sio = pytest.importorskip("skops.io")
    model = _fitted(SparseMLPClassifier)
    with monkeypatch.context() as patch:
        patch.setattr(sklearn_sparse_act, "__version__", "0.0.1")
        data = sio.dumps(model)
    with pytest.warns(SparseActVersionWarning, match="version 0.0.1"):
        sio.loads(data, trusted=_own_type_names(SparseMLPClassifier))


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("estimator_class", [SparseMLPClassifier, SparseMLPRegressor])
def test_fitted_state_is_plain_data(estimator_class, solver):
    """Optimizer state and every fitted attribute are arrays, lists, dicts,
    strings and numbers, which any safe format can store without code."""
    controls = _controls_for(estimator_class)
    model = _fitted(estimator_class, "dynamic", solver, early_stopping=True, **controls)
    not_plain = {
        name: type(value).__name__
        for name, value in vars(model).items()
        if name not in model.get_params()
        and name not in NON_PLAIN_ATTRIBUTES
        and not _is_plain(value)
    }
    assert not_plain == {}
    if solver != "lbfgs":
        assert isinstance(model._optimizer_state, dict)


def test_sparse_connections_are_stored_at_the_present_weights():
    """At weight density 0.1 the pickle holds a tenth of the first layer's
    weights, of their best-epoch copy and of Adam's two moment estimates (the
    output layer stays dense): 6 of 64 inputs per unit, 1,536 + 768 values
    per array against 16,384 + 768, 0.13 of the bytes; the bound leaves room
    for the rest of the state."""
    X, y = load_iris(return_X_y=True)
    X = np.tile(X, 16)
    sizes = {}
    for density in (1.0, 0.1):
        model = SparseMLPClassifier(
            hidden_layer_sizes=(256,),
            weight_density=density,
            max_iter=2,
            random_state=0,
        )
        pickled = pickle.dumps(_fit_quietly(model, X, y))
        sizes[density] = len(pickled)
        assert_same_model(pickle.loads(pickled), model, X)
    assert sizes[0.1] < 0.3 * sizes[1.0]
