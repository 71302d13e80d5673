"""Export of the sparse-activation MLPs to ONNX, through skl2onnx.

Importing this module registers :class:`~sklearn_sparse_act.SparseMLPClassifier`
and :class:`~sklearn_sparse_act.SparseMLPRegressor` with skl2onnx, so that
``skl2onnx.to_onnx`` converts them, alone or inside a
:class:`~sklearn.pipeline.Pipeline`. It needs the optional ``onnx`` extra:
``pip install -e ".[onnx]"`` from a clone of the repository.

The graph computes what ``predict_proba`` and ``predict`` compute. In each
hidden layer, ``z = a @ W + b``; 'fixed' keeps every row's ``k`` largest
entries of ``z`` (ONNX ``TopK``, ties going to the lower column index as in
the NumPy code) and scatters their activations into a row of zeros; 'dynamic'
keeps the entries strictly greater than the layer's fitted threshold. A
model trained with a boost still in force at the end of its fit compares
``z * boost_factors_[layer]`` instead (a ``Mul`` before the ``TopK`` or the
comparison), and its winners pass on their unboosted ``z``, as in
prediction. The number of winners and the thresholds are the prediction-time
ones, ``inference_active_units_`` and ``inference_thresholds_``.

Opset: the graphs use operators of the default ONNX domain as defined in
opset 13 (``Gemm``, ``TopK``, ``ScatterElements``, ``GatherElements``,
``Clip`` with tensor bounds, ``Softmax`` over one axis), so any
``target_opset`` from 13 up works; the tests and the documentation use
``target_opset=17``. A float32 input gives a float32 graph, a float64 input a
float64 graph.

Classifiers follow skl2onnx's conventions: outputs ``label`` and
``probabilities``, and the options ``zipmap`` (True, False or 'columns') and
``nocl``. Regressors have one output, ``variable``, of shape
``(n_samples, n_outputs)``.

Examples
--------
>>> import numpy as np
>>> from onnxruntime import InferenceSession
>>> from skl2onnx import to_onnx
>>> from sklearn.datasets import load_iris
>>> from sklearn.pipeline import make_pipeline
>>> from sklearn.preprocessing import StandardScaler
>>> import sklearn_sparse_act.onnx  # registers the converters
>>> from sklearn_sparse_act import SparseMLPClassifier
>>> X, y = load_iris(return_X_y=True)
>>> model = make_pipeline(
...     StandardScaler(),
...     SparseMLPClassifier((32,), activation_ratio=0.25, learning_rate_init=0.01,
...                         tol=1e-3, random_state=0),
... ).fit(X, y)
>>> onx = to_onnx(model, X[:1].astype(np.float32), target_opset=17,
...               options={"zipmap": False})
>>> [output.name for output in onx.graph.output]
['label', 'probabilities']
>>> session = InferenceSession(onx.SerializeToString(),
...                            providers=["CPUExecutionProvider"])
>>> labels, probabilities = session.run(None, {"X": X.astype(np.float32)})
>>> bool(np.abs(probabilities - model.predict_proba(X)).max() < 1e-5)
True
"""

import numpy as np
import scipy.sparse as sp

try:
    from onnx import TensorProto
    from onnx.helper import make_tensor, np_dtype_to_tensor_dtype
    from skl2onnx import update_registered_converter
    from skl2onnx._parse import _parse_sklearn_classifier, _parse_sklearn_simple_model
    from skl2onnx.common.data_types import (
        DoubleTensorType,
        Int64TensorType,
        StringTensorType,
        guess_tensor_type,
    )
    from skl2onnx.common.utils import check_input_and_output_numbers
    from skl2onnx.common.utils_classifier import get_label_classes
except ModuleNotFoundError as error:
    raise ModuleNotFoundError(
        f"{error}: sklearn_sparse_act.onnx needs the optional 'onnx' extra: "
        'pip install -e ".[onnx]" from a clone of the repository'
    ) from error
from sklearn.utils.validation import check_is_fitted

from ._classifier import SparseMLPClassifier
from ._regressor import SparseMLPRegressor

_MIN_OPSET = 13

_HIDDEN_OPERATORS = {
    "identity": None,
    "logistic": "Sigmoid",
    "tanh": "Tanh",
    "relu": "Relu",
}
_OUTPUT_OPERATORS = {
    "identity": None,
    "logistic": "Sigmoid",
    "exp": "Exp",
    "softmax": "Softmax",
}


class _GraphBuilder:
    """Adds named nodes and constants to skl2onnx's container.

    ``dtype`` is the graph's floating-point type (float32 or float64): every
    weight and every computed value is stored in it.
    """

    def __init__(self, scope, container, dtype):
        if container.target_opset < _MIN_OPSET:
            raise RuntimeError(
                f"The sparse MLP converters need target_opset >= {_MIN_OPSET}; "
                f"got {container.target_opset}."
            )
        self.scope = scope
        self.container = container
        self.dtype = np.dtype(dtype)
        self.tensor_type = np_dtype_to_tensor_dtype(self.dtype)

    def constant(self, hint, values, dtype=None):
        """Name of a new initializer holding ``values`` (in the graph's dtype
        unless ``dtype`` is given)."""
        values = np.asarray(values, dtype=self.dtype if dtype is None else dtype)
        name = self.scope.get_unique_variable_name(hint)
        if values.dtype.kind in "OU":
            encoded = [str(value).encode("utf-8") for value in values.ravel()]
            self.container.add_initializer(
                name, TensorProto.STRING, list(values.shape), encoded
            )
        else:
            self.container.add_initializer(
                name,
                np_dtype_to_tensor_dtype(values.dtype),
                list(values.shape),
                values.ravel().tolist(),
            )
        return name

    def node(self, op_type, inputs, output=None, **attributes):
        """Add a node with one output; returns the output's name (``output``,
        or a new unique name)."""
        if output is None:
            output = self.scope.get_unique_variable_name(op_type.lower())
        self.container.add_node(
            op_type,
            inputs,
            [output],
            name=self.scope.get_unique_operator_name(op_type),
            **attributes,
        )
        return output

    def top_k(self, values, k):
        """Each row's ``k`` largest entries and their columns.

        TopK puts the lower column first among equal values, so ties at the
        k-th value go to the lower column, as in ``row_top_k_mask``.
        """
        outputs = [
            self.scope.get_unique_variable_name("top_values"),
            self.scope.get_unique_variable_name("top_columns"),
        ]
        self.container.add_node(
            "TopK",
            [values, self.constant("k", [k], dtype=np.int64)],
            outputs,
            name=self.scope.get_unique_operator_name("TopK"),
            axis=1,
            largest=1,
            sorted=1,
        )
        return outputs

    def apply(self, op_type, values):
        """``op_type`` applied to ``values``; None means the identity."""
        return values if op_type is None else self.node(op_type, [values])

    def filled_like(self, values, fill):
        """A tensor of ``values``'s (run-time) shape, every entry ``fill``."""
        shape = self.node("Shape", [values])
        value = make_tensor("value", self.tensor_type, [1], [fill])
        return self.node("ConstantOfShape", [shape], value=value)


def _graph_dtype(operator):
    """float64 for a double input, float32 for anything else (as skl2onnx's
    own converters do)."""
    if isinstance(operator.inputs[0].type, DoubleTensorType):
        return np.float64
    return np.float32


def _boosted_scores(graph, model, layer, pre_activations):
    """What hidden ``layer``'s winners are chosen on: the pre-activations
    times the layer's boost factors, or the pre-activations themselves when
    it has none (a model fitted without a boost in force, or saved before
    boost factors were kept)."""
    boost_factors = getattr(model, "boost_factors_", None)
    if boost_factors is None or boost_factors[layer] is None:
        return pre_activations
    factors = graph.constant("boost_factors", boost_factors[layer].reshape(1, -1))
    return graph.node("Mul", [pre_activations, factors])


def _hidden_layer(graph, model, layer, pre_activations):
    """A hidden layer's outputs: the activation at the winners, 0 elsewhere."""
    activation = _HIDDEN_OPERATORS[model.activation]
    n_active = model.inference_active_units_[layer]
    width = model.coefs_[layer].shape[1]
    if n_active >= width:
        return graph.apply(activation, pre_activations)
    scores = _boosted_scores(graph, model, layer, pre_activations)
    if model._strategy_name == "fixed":
        winning_values, winning_columns = graph.top_k(scores, n_active)
        if scores is not pre_activations:
            # The winners pass on their own pre-activations, not the scores.
            winning_values = graph.node(
                "GatherElements", [pre_activations, winning_columns], axis=1
            )
        return graph.node(
            "ScatterElements",
            [
                graph.filled_like(pre_activations, 0.0),
                winning_columns,
                graph.apply(activation, winning_values),
            ],
            axis=1,
        )
    threshold = model.inference_thresholds_[layer]
    if threshold == -np.inf:
        # Every finite pre-activation exceeds it: the layer is dense.
        return graph.apply(activation, pre_activations)
    fires = graph.node("Greater", [scores, graph.constant("threshold", threshold)])
    return graph.node(
        "Where",
        [
            fires,
            graph.apply(activation, pre_activations),
            graph.constant("zero", 0.0),
        ],
    )


def _dense(coef):
    """A layer's weights as a dense array (those of a model held sparse by
    ``sparsify_weights()`` are a sparse matrix)."""
    return coef.toarray() if sp.issparse(coef) else coef


def _network_output(graph, model, input_name):
    """The output layer's activations (``out_activation_`` applied) for the
    operator's input."""
    values = graph.node("Cast", [input_name], to=graph.tensor_type)
    last = len(model.coefs_) - 1
    for layer, (coef, intercept) in enumerate(
        zip(model.coefs_, model.intercepts_, strict=True)
    ):
        pre_activations = graph.node(
            "Gemm",
            [
                values,
                graph.constant("coef", _dense(coef)),
                graph.constant("bias", intercept),
            ],
        )
        if layer == last:
            values = pre_activations
        else:
            values = _hidden_layer(graph, model, layer, pre_activations)
    if model.out_activation_ == "softmax":
        return graph.node("Softmax", [values], axis=1)
    return graph.apply(_OUTPUT_OPERATORS[model.out_activation_], values)


def _label_values(scope, model):
    """The class labels as the graph stores them: int64, or str.

    ``nocl`` replaces them by their indices; integral float labels become
    int64, as in skl2onnx's converters.
    """
    labels = np.asarray(get_label_classes(scope, model))
    if labels.dtype.kind in "biu":
        return labels.astype(np.int64)
    if labels.dtype.kind == "f":
        if not np.array_equal(labels, np.round(labels)):
            raise ValueError(
                f"ONNX export needs integer or string class labels; got {labels!r}."
            )
        return labels.astype(np.int64)
    return labels.astype(str)


def _is_multilabel(model):
    return model._label_binarizer.y_type_ == "multilabel-indicator"


def _parse_classifier(scope, model, inputs, custom_parsers=None):
    """skl2onnx's classifier parser, after checking that the model is fitted
    (it reads ``classes_`` first, which would otherwise fail obscurely)."""
    check_is_fitted(model)
    return _parse_sklearn_classifier(scope, model, inputs, custom_parsers)


def _parse_regressor(scope, model, inputs, custom_parsers=None):
    """skl2onnx's parser for a model with one output, after the same check."""
    check_is_fitted(model)
    return _parse_sklearn_simple_model(scope, model, inputs, custom_parsers)


def _classifier_shapes(operator):
    """Types and shapes of ``label`` and ``probabilities``."""
    check_input_and_output_numbers(operator, input_count_range=1, output_count_range=2)
    model = operator.raw_operator
    n_rows = operator.inputs[0].get_first_dimension()
    n_columns = len(model.classes_)
    labels = _label_values(operator.scope_inst, model)
    label_type = StringTensorType if labels.dtype.kind == "U" else Int64TensorType
    label_shape = [n_rows, n_columns] if _is_multilabel(model) else [n_rows]
    operator.outputs[0].type = label_type(shape=label_shape)
    operator.outputs[1].type = guess_tensor_type(operator.inputs[0].type)
    operator.outputs[1].type.shape = [n_rows, n_columns]


def _regressor_shapes(operator):
    """Type and shape of ``variable``: (n_samples, n_outputs)."""
    check_input_and_output_numbers(operator, input_count_range=1, output_count_range=1)
    n_rows = operator.inputs[0].get_first_dimension()
    output_type = guess_tensor_type(operator.inputs[0].type)
    output_type.shape = [n_rows, operator.raw_operator.n_outputs_]
    operator.outputs[0].type = output_type


def _convert_classifier(scope, operator, container):
    """``predict`` as ``label`` and ``predict_proba`` as ``probabilities``."""
    model = operator.raw_operator
    graph = _GraphBuilder(scope, container, _graph_dtype(operator))
    label_name, probabilities_name = (output.full_name for output in operator.outputs)
    output = _network_output(graph, model, operator.inputs[0].full_name)
    if model.out_activation_ == "logistic":
        # Like predict_proba: keep every probability inside (0, 1), here with
        # the eps of the graph's dtype.
        eps = np.finfo(graph.dtype).eps
        output = graph.node(
            "Clip",
            [
                output,
                graph.constant("eps", eps),
                graph.constant("one_minus_eps", 1 - eps),
            ],
        )

    if _is_multilabel(model):
        graph.node("Identity", [output], probabilities_name)
        fires = graph.node("Greater", [output, graph.constant("half", 0.5)])
        graph.node("Cast", [fires], label_name, to=TensorProto.INT64)
        return

    n_classes = len(model.classes_)
    if n_classes == 1:
        # Only one class was seen in fit: it has probability 1.
        graph.node("Identity", [graph.filled_like(output, 1.0)], probabilities_name)
    elif n_classes == 2:
        negative = graph.node("Sub", [graph.constant("one", 1.0), output])
        graph.node("Concat", [negative, output], probabilities_name, axis=1)
    else:
        graph.node("Identity", [output], probabilities_name)
    # For two classes the argmax of [1 - p, p] picks p exactly when p > 0.5
    # (1 - p is exact in floating point for p >= 0.5, and a tie goes to the
    # first column), which is LabelBinarizer's rule.
    best_column = graph.node("ArgMax", [probabilities_name], axis=1, keepdims=0)
    classes = _label_values(scope, model)
    labels = graph.constant("classes", classes, dtype=classes.dtype)
    graph.node("Gather", [labels, best_column], label_name, axis=0)


def _convert_regressor(scope, operator, container):
    """``predict`` as ``variable``, of shape (n_samples, n_outputs)."""
    model = operator.raw_operator
    graph = _GraphBuilder(scope, container, _graph_dtype(operator))
    output = _network_output(graph, model, operator.inputs[0].full_name)
    target_mean = getattr(model, "_y_train_mean", None)
    target_std = getattr(model, "_y_train_std", None)
    if target_mean is not None and target_std is not None:
        # The network was trained on standardised targets: undo it.
        output = graph.node("Mul", [output, graph.constant("target_std", target_std)])
        output = graph.node("Add", [output, graph.constant("target_mean", target_mean)])
    graph.node("Identity", [output], operator.outputs[0].full_name)


update_registered_converter(
    SparseMLPClassifier,
    "SklearnSparseActSparseMLPClassifier",
    _classifier_shapes,
    _convert_classifier,
    parser=_parse_classifier,
    options={"zipmap": [True, False, "columns"], "nocl": [True, False]},
)
update_registered_converter(
    SparseMLPRegressor,
    "SklearnSparseActSparseMLPRegressor",
    _regressor_shapes,
    _convert_regressor,
    parser=_parse_regressor,
)
