"""A network that cannot fit in memory fails at once, naming the layer; a
training step holds each array the size of a layer once; settling the
thresholds holds a few chunks of rows."""

import gc
import tracemalloc
import warnings

import numpy as np
import pytest
from sklearn.datasets import load_iris, make_classification
from sklearn.exceptions import ConvergenceWarning

from sklearn_sparse_act import (
    SparseMLPClassifier,
    SparseMLPRegressor,
    _base,
    _memory,
    config_context,
)
from sklearn_sparse_act._backends import get_backend
from sklearn_sparse_act._network import Network
from sklearn_sparse_act._settling import settling_quota
from sklearn_sparse_act._sparsity import InferenceRules, batch_threshold

X_IRIS, Y_IRIS = load_iris(return_X_y=True)


def refuse_to_draw_weights(monkeypatch):
    """Make drawing any weights fail the test: the error must come first."""

    def draw(*args, **kwargs):
        raise AssertionError("weights were allocated before the memory check")

    monkeypatch.setattr(_base, "initial_parameters", draw)


@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
def test_network_too_large_fails_before_allocating(monkeypatch, solver):
    if _memory.physical_memory() is None:
        pytest.skip("the physical memory cannot be read here")
    refuse_to_draw_weights(monkeypatch)
    model = SparseMLPClassifier(hidden_layer_sizes=(10, 10**12), solver=solver)
    # The weights into the 10**12 units, with a batch of their values, are
    # the largest part.
    with pytest.raises(MemoryError, match=r"cannot fit in memory") as error:
        model.fit(X_IRIS, Y_IRIS)
    message = str(error.value)
    assert "hidden layer 2 (10 x 1000000000000 weights)" in message
    assert "TiB" in message or "PiB" in message
    assert not hasattr(model, "coefs_") and not hasattr(model, "n_features_in_")


def test_allocation_failure_names_the_layer(monkeypatch):
    """Where the physical memory is unknown, NumPy's own MemoryError when the
    weights are drawn is raised again with the layer and the bytes."""
    monkeypatch.setattr(_memory, "physical_memory", lambda: None)
    # 4 x 10**15 float64 weights: 32 PB, more than a 64-bit process can
    # address, so the allocation fails at once on any machine.
    model = SparseMLPRegressor(hidden_layer_sizes=(10**15,), max_iter=1)
    with pytest.raises(MemoryError, match=r"cannot fit in memory") as error:
        model.fit(X_IRIS, Y_IRIS)
    message = str(error.value)
    assert "hidden layer 1 (4 x 1000000000000000)" in message
    assert "32000000000000000 bytes" in message
    assert not hasattr(model, "coefs_")


def test_estimate_counts_weights_optimizer_and_batches():
    # Adam: weights, gradients, best copy and two moments of (4 + 1) x 10
    # parameters, plus 2 x 100 x 10 batch values, in float64.
    assert _memory.layer_fit_bytes([4, 10], 100, 8, "adam") == [
        8 * (5 * 5 * 10 + 2 * 100 * 10)
    ]


def test_estimate_counts_a_sparse_layers_gradient_and_state_at_its_inputs():
    # Adam at density 0.3 on 20 inputs: each of the 10 units keeps 6 of
    # them; the weights and their best copy are whole, the gradient and the
    # two moments hold the 60 present weights; the biases and the batch
    # values are whole, and so is the output layer.
    assert _memory.layer_fit_bytes([20, 10, 3], 100, 8, "adam", [6]) == [
        8 * (2 * 20 * 10 + 3 * 6 * 10 + 5 * 10 + 2 * 100 * 10),
        8 * (5 * 11 * 3 + 2 * 100 * 3),
    ]
    # Every input kept: the same as a fully connected layer.
    assert _memory.layer_fit_bytes(
        [20, 10, 3], 100, 8, "sgd", [20]
    ) == _memory.layer_fit_bytes([20, 10, 3], 100, 8, "sgd")


@pytest.mark.parametrize(
    "strategy, layer_arrays",
    [
        # The outputs and the delta (2), the winners' mask (1/8 of a float64
        # array) and the copy a partition makes of a few rows at a time
        # (512 KiB: 0.32 of the layer here), with room to spare: 3. Before
        # the arrays were refilled in place a step held about 4.5.
        ("fixed", 3),
        # The same, plus the copy of the whole batch that the NumPy
        # reference partitions for the batch's quota: 4 (about 5.5 before).
        ("dynamic", 4),
    ],
)
def test_numpy_training_holds_each_layer_array_once(strategy, layer_arrays):
    """A fit on the NumPy kernels of a layer of 1024 units at ratio 0.1 holds
    at most ``layer_arrays`` arrays of a batch by the layer's width beyond
    the arrays the size of the parameters: a dense temporary of the layer's
    size reintroduced in the step, or the last step's arrays held beside the
    new ones, break the bound."""
    X, y = make_classification(n_samples=400, n_features=8, random_state=0)
    batch, width = 200, 1024
    model = SparseMLPClassifier(
        hidden_layer_sizes=(width,),
        activation_ratio=0.1,
        sparsity_strategy=strategy,
        batch_size=batch,
        max_iter=1,
        random_state=0,
    )
    with config_context(kernels="numpy"), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)  # imports what a fit needs first, untraced
        gc.collect()
        tracemalloc.start()
        try:
            start, _ = tracemalloc.get_traced_memory()
            model.fit(X, y)
            peak = tracemalloc.get_traced_memory()[1] - start
        finally:
            tracemalloc.stop()
    itemsize = X.dtype.itemsize
    parameter_bytes = itemsize * sum(a.size for a in model.coefs_ + model.intercepts_)
    # Weights, gradients, the best epoch's copy, Adam's two moments and its
    # scratch (at most as large as the parameters): 6 copies.
    layer_bytes = batch * width * itemsize
    assert peak - 6 * parameter_bytes <= layer_arrays * layer_bytes


def test_settling_holds_a_few_chunks_not_the_rows():
    """Settling a 'dynamic' threshold on many rows (the NumPy kernels) holds
    about two chunks of rows by the layer's width at a time, and the entries
    near the threshold: the sample that guessed the window freed before the
    passes, and each chunk's window gathered into a buffer of about its
    share of the entries, not one the size of the chunk."""
    rng = np.random.RandomState(0)
    n_rows, n_features, width, chunk = 6000, 8, 1024, 200
    X = rng.normal(size=(n_rows, n_features))
    network = Network(
        [rng.normal(size=(n_features, width)), rng.normal(size=(width, 2))],
        [np.zeros(width), np.zeros(2)],
        "relu",
        "softmax",
        get_backend("numpy"),
    )
    n_active = 102
    rules = InferenceRules("dynamic", [n_active], np.array([np.inf]))
    rows = np.arange(n_rows)
    settling_quota(network, rules, 0, X, rows, None, chunk)  # imports, untraced
    gc.collect()
    tracemalloc.start()
    try:
        start, _ = tracemalloc.get_traced_memory()
        found = settling_quota(network, rules, 0, X, rows, None, chunk)
        peak = tracemalloc.get_traced_memory()[1] - start
    finally:
        tracemalloc.stop()
    values = X @ network.coefs[0]
    assert found == batch_threshold(values, n_active)
    chunk_bytes = chunk * width * X.dtype.itemsize
    kept_bytes = n_active * n_rows * X.dtype.itemsize
    # At most two chunks' worth (the sample and its partitioned copy, or a
    # chunk's values and the masks of its comparisons) beside the window,
    # which holds about a fifth of the kept entries and is held twice while
    # it is joined. The sample held through the passes and chunk-sized window
    # buffers took 4.3 chunks here, against a bound of 3.2.
    assert peak <= 2 * chunk_bytes + 0.4 * kept_bytes
