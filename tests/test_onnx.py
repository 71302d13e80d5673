"""ONNX export: onnxruntime reproduces predict_proba and predict.

The graphs run in float32 against the float64 model, and the comparisons say
what that costs:

- float32 keeps about 7 significant digits. On the models below the graph's
  outputs differ from the model's by at most 3.2e-7 in absolute terms
  (probabilities, and regression outputs of order 1), which is at most 4e-6
  relative for probabilities above 0.01 and 1.3e-6 for regression outputs
  above 0.1: ``rtol=1e-5`` leaves a margin. Values near 0 (a small
  probability, ``1 - p`` next to a saturated sigmoid, a regression output
  crossing 0) have no relative accuracy left: their error is absolute, a few
  float32 ulps of the larger values they are computed from, hence
  ``atol=1e-6``.
- A hidden unit whose pre-activation float32 rounding can move across the
  k-th largest of its row ('fixed') or across the threshold ('dynamic') may win
  in one computation and lose in the other. Such rows are found explicitly
  (within ``NEAR_TIE`` of the row's largest pre-activation), excluded from the
  comparison, and must be rare; so are rows whose two best classes are within
  ``CLOSE_CALL`` of each other, when labels are compared.
"""

import copy
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import make_classification, make_regression
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_sparse_act import SparseMLPClassifier, SparseMLPRegressor

skl2onnx = pytest.importorskip("skl2onnx")
onnxruntime = pytest.importorskip("onnxruntime")
onnx_numpy_helper = pytest.importorskip("onnx.numpy_helper")
pytest.importorskip("sklearn_sparse_act.onnx")  # registers the converters
bench_onnx = pytest.importorskip("benchmarks.bench_onnx")

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

OPSET = 17
RTOL = 1e-5
PROBABILITY_ATOL = 1e-6
# Per unit of the targets' standard deviation (measured: up to 3.2e-7).
REGRESSION_ATOL = 1e-6
NEAR_TIE = 1e-4
CLOSE_CALL = 1e-5
# At most this fraction of the rows may be excluded as near-ties (measured: up
# to 1.75%, and none of those rows actually differed).
MAX_EXCLUDED = 0.05

CLASSIFIER_OPTIONS = {SparseMLPClassifier: {"zipmap": False}}


def classification_data(n_classes=3, labels=None, random_state=0):
    """Unscaled features (so the pipeline's scaler matters) and labels."""
    X, y = make_classification(
        n_samples=400,
        n_features=12,
        n_informative=8,
        n_classes=n_classes,
        random_state=random_state,
    )
    X = 3.0 * X + 5.0
    return X, (y if labels is None else np.asarray(labels)[y])


def regression_data(n_targets=1, random_state=0):
    X, y = make_regression(
        n_samples=400,
        n_features=12,
        n_targets=n_targets,
        noise=1.0,
        random_state=random_state,
    )
    return 3.0 * X + 5.0, y / y.std(axis=0)


def session_for(onx):
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    return onnxruntime.InferenceSession(
        onx.SerializeToString(), options, providers=["CPUExecutionProvider"]
    )


def run_onnx(model, X, dtype=np.float32, target_opset=OPSET, options=None):
    """The outputs of ``model`` converted to ONNX and run by onnxruntime."""
    onx = skl2onnx.to_onnx(
        model, X[:1].astype(dtype), target_opset=target_opset, options=options
    )
    session = session_for(onx)
    return session.run(None, {session.get_inputs()[0].name: X.astype(dtype)})


def split_pipeline(model):
    """The sparse MLP at the end of ``model``, and its input for ``X``."""
    if isinstance(model, Pipeline):
        return model[-1], model[:-1].transform
    return model, lambda X: X


def near_tie_rows(model, X):
    """Rows where float32 rounding could change a sparse layer's winners.

    In some hidden layer that selects winners, the k-th and (k+1)-th largest
    pre-activation ('fixed'), or a pre-activation and the layer's threshold
    ('dynamic'), lie within ``NEAR_TIE`` times the row's largest absolute
    pre-activation (the scale of the float32 error of the row's sums); with
    boost factors, the scores compared are the pre-activations times them.
    """
    mlp, transform = split_pipeline(model)
    X = transform(X)
    near_tie = np.zeros(X.shape[0], dtype=bool)
    inputs = X
    for layer, n_active in enumerate(mlp.inference_active_units_):
        z = inputs @ mlp.coefs_[layer] + mlp.intercepts_[layer]
        if mlp.boost_factors_ is not None and mlp.boost_factors_[layer] is not None:
            z = z * mlp.boost_factors_[layer]
        tolerance = NEAR_TIE * np.abs(z).max(axis=1)
        if n_active < z.shape[1]:
            if mlp.sparsity_strategy == "fixed":
                descending = -np.sort(-z, axis=1)
                gap = descending[:, n_active - 1] - descending[:, n_active]
                near_tie |= gap <= tolerance
            else:
                distance = np.abs(z - mlp.inference_thresholds_[layer])
                near_tie |= (distance <= tolerance[:, None]).any(axis=1)
        inputs = mlp.hidden_activations(X, layer).toarray()
    return near_tie


def close_call_rows(probabilities, multilabel):
    """Rows whose predicted label hangs on less than ``CLOSE_CALL``."""
    if multilabel:
        return (np.abs(probabilities - 0.5) < CLOSE_CALL).any(axis=1)
    if probabilities.shape[1] == 1:
        return np.zeros(probabilities.shape[0], dtype=bool)
    best_two = np.sort(probabilities, axis=1)[:, -2:]
    return best_two[:, 1] - best_two[:, 0] < CLOSE_CALL


def check_classifier(model, X):
    """onnxruntime's labels and probabilities against predict and
    predict_proba, on every row but the near-ties."""
    labels, probabilities = run_onnx(model, X, options=CLASSIFIER_OPTIONS)
    expected = model.predict_proba(X)
    excluded = near_tie_rows(model, X)
    assert excluded.mean() <= MAX_EXCLUDED
    assert_allclose(
        probabilities[~excluded],
        expected[~excluded],
        rtol=RTOL,
        atol=PROBABILITY_ATOL,
    )
    expected_labels = model.predict(X)
    undecided = excluded | close_call_rows(expected, expected_labels.ndim == 2)
    assert undecided.mean() <= MAX_EXCLUDED
    assert_array_equal(labels[~undecided], expected_labels[~undecided])


def check_regressor(model, X, expected=None, atol=REGRESSION_ATOL):
    """onnxruntime's predictions against ``expected`` (by default, predict's)
    on every row but the near-ties; the targets have a standard deviation of
    about 1 unless ``atol`` is scaled."""
    (predictions,) = run_onnx(model, X)
    if expected is None:
        expected = model.predict(X)
    excluded = near_tie_rows(model, X)
    assert excluded.mean() <= MAX_EXCLUDED
    assert_allclose(
        predictions[~excluded],
        expected.reshape(predictions.shape)[~excluded],
        rtol=RTOL,
        atol=atol,
    )


def sparse_classifier(**params):
    defaults = dict(
        hidden_layer_sizes=(32, 16),
        activation_ratio=0.25,
        max_iter=40,
        random_state=0,
    )
    return make_pipeline(StandardScaler(), SparseMLPClassifier(**defaults | params))


def sparse_regressor(**params):
    defaults = dict(
        hidden_layer_sizes=(32, 16),
        activation_ratio=0.25,
        max_iter=40,
        random_state=0,
    )
    return make_pipeline(StandardScaler(), SparseMLPRegressor(**defaults | params))


@pytest.mark.parametrize("strategy", ["fixed", "dynamic"])
@pytest.mark.parametrize("activation", ["identity", "logistic", "tanh", "relu"])
def test_multiclass_classifier_in_a_pipeline(strategy, activation):
    X, y = classification_data()
    model = sparse_classifier(sparsity_strategy=strategy, activation=activation)
    check_classifier(model.fit(X, y), X)


@pytest.mark.parametrize("strategy", ["fixed", "dynamic"])
def test_per_layer_ratios_and_more_winners_at_inference(strategy):
    X, y = classification_data()
    model = sparse_classifier(
        sparsity_strategy=strategy,
        activation_ratio=[0.1, 0.5],
        inference_ratio_factor=2.0,
    ).fit(X, y)
    mlp = model[-1]
    assert mlp.inference_active_units_ != mlp.active_units_
    check_classifier(model, X)


@pytest.mark.parametrize("strategy", ["fixed", "dynamic"])
def test_boost_factors_choose_the_winners(strategy):
    """A boost in force at the end of the fit: the graph multiplies the
    pre-activations by the frozen factors before it chooses the winners, and
    the winners pass on their own pre-activations."""
    X, y = classification_data()
    model = sparse_classifier(
        sparsity_strategy=strategy,
        activation="tanh",
        boost_strength=3.0,
        inference_ratio_factor=1.5,
    ).fit(X, y)
    # The factors change the winners (so a graph without them would differ).
    without_factors = copy.deepcopy(model[-1])
    without_factors.boost_factors_ = None
    inputs = model[0].transform(X)
    assert not np.array_equal(
        model[-1].hidden_activations(inputs, 0).toarray() != 0,
        without_factors.hidden_activations(inputs, 0).toarray() != 0,
    )
    check_classifier(model, X)


@pytest.mark.parametrize("strategy", ["fixed", "dynamic"])
@pytest.mark.parametrize(
    "n_classes, labels",
    [(2, ["no", "yes"]), (4, ["ant", "bee", "cat", "dog"]), (3, None)],
    ids=["binary-strings", "multiclass-strings", "multiclass-integers"],
)
def test_class_labels(strategy, n_classes, labels):
    X, y = classification_data(n_classes, labels)
    model = sparse_classifier(sparsity_strategy=strategy).fit(X, y)
    check_classifier(model, X)


@pytest.mark.parametrize("strategy", ["fixed", "dynamic"])
def test_multilabel_classifier(strategy):
    X, y = classification_data(n_classes=4)
    indicator = np.column_stack([y == 0, y >= 2, X[:, 0] > 5.0]).astype(int)
    model = sparse_classifier(sparsity_strategy=strategy).fit(X, indicator)
    labels, _ = run_onnx(model, X[:5], options=CLASSIFIER_OPTIONS)
    assert labels.shape == (5, 3) and labels.dtype == np.int64
    check_classifier(model, X)


def test_single_class_classifier():
    X, _ = classification_data()
    model = sparse_classifier().fit(X, np.full(X.shape[0], "only"))
    labels, probabilities = run_onnx(model, X, options=CLASSIFIER_OPTIONS)
    assert_array_equal(probabilities, np.ones((X.shape[0], 1)))
    assert_array_equal(labels, model.predict(X))


@pytest.mark.parametrize("strategy", ["fixed", "dynamic"])
@pytest.mark.parametrize("n_targets", [1, 3])
def test_regressor(strategy, n_targets):
    X, y = regression_data(n_targets)
    model = sparse_regressor(sparsity_strategy=strategy, activation="tanh")
    check_regressor(model.fit(X, y), X)


@pytest.mark.parametrize("strategy", ["fixed", "dynamic"])
def test_poisson_regressor(strategy):
    X, y = regression_data(2)
    counts = np.random.RandomState(0).poisson(np.exp(y / 2))
    model = sparse_regressor(loss="poisson", sparsity_strategy=strategy)
    check_regressor(model.fit(X, counts), X)


@pytest.mark.parametrize("strategy", ["fixed", "dynamic"])
def test_compacted_model(strategy):
    X, y = classification_data()
    mlp = SparseMLPClassifier(
        (64,), activation_ratio=0.1, sparsity_strategy=strategy, random_state=0
    )
    model = make_pipeline(StandardScaler(), mlp).fit(X, y)
    compacted = model[-1].compact()
    assert sum(compacted.removed_units_) > 0
    check_classifier(make_pipeline(model[0], compacted), X)


@pytest.mark.parametrize("strategy", ["fixed", "dynamic"])
def test_sparse_connections(strategy):
    """The graph's weights are the model's, zero at the absent connections."""
    X, y = classification_data()
    model = sparse_classifier(weight_density=[0.3, 0.5], sparsity_strategy=strategy)
    model.fit(X, y)
    check_classifier(model, X)
    onx = skl2onnx.to_onnx(model, X[:1].astype(np.float32), target_opset=OPSET)
    initializers = [onnx_numpy_helper.to_array(init) for init in onx.graph.initializer]
    for coef, mask in zip(model[-1].coefs_, model[-1].connection_masks_, strict=False):
        [weights] = [array for array in initializers if array.shape == coef.shape]
        assert_array_equal(weights, coef.astype(np.float32))
        assert np.all(weights[~mask] == 0)


def test_model_held_sparse_exports_the_same_graph():
    X, y = classification_data()
    model = sparse_classifier(weight_density=[0.3, 0.5]).fit(X, y)
    dense = skl2onnx.to_onnx(model, X[:1].astype(np.float32), target_opset=OPSET)
    model[-1].sparsify_weights()
    held_sparse = skl2onnx.to_onnx(model, X[:1].astype(np.float32), target_opset=OPSET)
    assert held_sparse.SerializeToString() == dense.SerializeToString()


def test_regressor_with_normalized_targets():
    X, y = regression_data(2)
    target_std = 10.0
    y = target_std * y + [100.0, -50.0]
    if "normalize_y" in SparseMLPRegressor().get_params():
        model = sparse_regressor(normalize_y=True).fit(X, y)
        expected = model.predict(X)
    else:
        # The estimator does not standardise targets yet: set the attributes
        # a fit with standardised targets would leave, and undo by hand.
        model = sparse_regressor().fit(X, (y - y.mean(axis=0)) / y.std(axis=0))
        model[-1]._y_train_mean = y.mean(axis=0)
        model[-1]._y_train_std = y.std(axis=0)
        expected = model.predict(X) * y.std(axis=0) + y.mean(axis=0)
    check_regressor(model, X, expected, atol=REGRESSION_ATOL * target_std)


@pytest.mark.parametrize("strategy", ["fixed", "dynamic"])
def test_double_input_gives_a_double_graph(strategy):
    X, y = classification_data()
    model = sparse_classifier(sparsity_strategy=strategy).fit(X, y)
    labels, probabilities = run_onnx(
        model, X, dtype=np.float64, options=CLASSIFIER_OPTIONS
    )
    assert probabilities.dtype == np.float64
    assert_allclose(probabilities, model.predict_proba(X), rtol=1e-12, atol=1e-15)
    assert_array_equal(labels, model.predict(X))


def test_ties_go_to_the_lower_column_as_in_numpy():
    # Integer weights and inputs: every sum is exact in float32, so the tied
    # pre-activations are exactly equal in the model and in the graph.
    X = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [2.0, 1.0]])
    model = SparseMLPRegressor(
        hidden_layer_sizes=(6,), activation="identity", activation_ratio=2 / 6
    ).fit(X, np.zeros(4))
    model.coefs_[0] = np.array(
        [[1.0, 2.0, 1.0, 2.0, 0.0, 1.0], [1.0, 0.0, 1.0, 0.0, 1.0, 1.0]]
    )
    model.intercepts_[0] = np.zeros(6)
    model.coefs_[1] = np.array([[1.0], [2.0], [4.0], [8.0], [16.0], [32.0]])
    model.intercepts_[1] = np.zeros(1)
    # Row by row, the winners are columns {1, 3}, {0, 2}, {0, 1}, {1, 3}.
    assert_array_equal(model.predict(X), [20.0, 5.0, 6.0, 40.0])
    (predictions,) = run_onnx(model, X)
    assert_array_equal(predictions.ravel(), model.predict(X))


def test_zipmap_and_nocl_options():
    X, y = classification_data(3, ["a", "b", "c"])
    model = sparse_classifier().fit(X, y)
    labels, probability_maps = run_onnx(model, X[:3])
    assert_array_equal(labels, model.predict(X[:3]))
    assert sorted(probability_maps[0]) == ["a", "b", "c"]
    labels, *columns = run_onnx(
        model, X[:3], options={SparseMLPClassifier: {"zipmap": "columns"}}
    )
    assert len(columns) == 3
    labels, _ = run_onnx(
        model,
        X[:3],
        options={SparseMLPClassifier: {"zipmap": False, "nocl": True}},
    )
    assert_array_equal(model[-1].classes_[labels], model.predict(X[:3]))


def test_default_opset_converts_and_too_old_an_opset_is_refused():
    X, y = classification_data()
    model = sparse_classifier().fit(X, y)
    labels, _ = run_onnx(model, X[:5], target_opset=None, options=CLASSIFIER_OPTIONS)
    assert_array_equal(labels, model.predict(X[:5]))
    with pytest.raises(RuntimeError, match="target_opset >= 13"):
        run_onnx(model, X[:5], target_opset=12, options=CLASSIFIER_OPTIONS)


@pytest.mark.parametrize("estimator", [SparseMLPClassifier(), SparseMLPRegressor()])
def test_unfitted_model_is_refused(estimator):
    with pytest.raises(NotFittedError):
        skl2onnx.to_onnx(estimator, np.zeros((1, 3), dtype=np.float32))


def test_saved_model_runs_in_a_fresh_process(tmp_path):
    X, y = classification_data(3, ["a", "b", "c"])
    model = sparse_classifier().fit(X, y)
    onx = skl2onnx.to_onnx(
        model, X[:1].astype(np.float32), target_opset=OPSET, options=CLASSIFIER_OPTIONS
    )
    (tmp_path / "model.onnx").write_bytes(onx.SerializeToString())
    np.save(tmp_path / "X.npy", X.astype(np.float32))
    script = textwrap.dedent(
        """
        import sys
        from pathlib import Path

        import numpy as np
        import onnxruntime

        folder = Path(sys.argv[1])
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1
        session = onnxruntime.InferenceSession(
            str(folder / "model.onnx"), options, providers=["CPUExecutionProvider"]
        )
        labels, probabilities = session.run(None, {"X": np.load(folder / "X.npy")})
        np.save(folder / "labels.npy", labels.astype(str))
        np.save(folder / "probabilities.npy", probabilities)
        assert "sklearn_sparse_act" not in sys.modules
        """
    )
    subprocess.run([sys.executable, "-c", script, str(tmp_path)], check=True)
    labels, probabilities = session_for(onx).run(None, {"X": X.astype(np.float32)})
    assert_array_equal(np.load(tmp_path / "labels.npy"), labels)
    assert_array_equal(np.load(tmp_path / "probabilities.npy"), probabilities)
    excluded = near_tie_rows(model, X)
    assert excluded.mean() <= MAX_EXCLUDED
    assert_allclose(
        probabilities[~excluded],
        model.predict_proba(X)[~excluded],
        rtol=RTOL,
        atol=PROBABILITY_ATOL,
    )


def test_latency_benchmark_runs(capsys):
    # In this process: a fresh interpreter would import onnxruntime and
    # scikit-learn again for nothing the benchmark measures.
    bench_onnx.main(["--hidden", "16", "8,8", "--calls", "5"])
    table = capsys.readouterr().out.splitlines()[-2:]
    assert [line.split()[0] for line in table] == ["(16,)", "(8,"]
    assert all(line.count(" ms") == 2 for line in table)
