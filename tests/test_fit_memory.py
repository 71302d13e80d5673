"""A network that cannot fit in memory fails at once, naming the layer."""

import pytest
from sklearn.datasets import load_iris

from sklearn_sparse_act import SparseMLPClassifier, SparseMLPRegressor, _base, _memory

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
