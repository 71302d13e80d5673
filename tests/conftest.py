"""Shared fixtures and an independent re-implementation of the forward rules."""

import numpy as np
import pytest
from scipy.special import expit, softmax
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

HIDDEN_FUNCTIONS = {
    "identity": lambda z: z,
    "logistic": expit,
    "tanh": np.tanh,
    "relu": lambda z: np.maximum(z, 0),
}
OUTPUT_FUNCTIONS = {
    "identity": lambda z: z,
    "exp": np.exp,
    "logistic": expit,
    "softmax": lambda z: softmax(z, axis=1),
}


def reference_hidden_outputs(estimator, X):
    """Hidden-layer outputs recomputed from the documented contract alone:
    coefs_, intercepts_, inference_active_units_, inference_thresholds_."""
    hidden = HIDDEN_FUNCTIONS[estimator.activation]
    outputs = []
    values = np.asarray(X, dtype=estimator.coefs_[0].dtype)
    for layer, n_active in enumerate(estimator.inference_active_units_):
        z = values @ estimator.coefs_[layer] + estimator.intercepts_[layer]
        if estimator.inference_thresholds_ is None:
            order = np.argsort(-z, axis=1, kind="stable")
            winners = np.zeros(z.shape, dtype=bool)
            np.put_along_axis(winners, order[:, :n_active], True, axis=1)
        else:
            winners = z > estimator.inference_thresholds_[layer]
        values = np.where(winners, hidden(z), 0.0).astype(z.dtype)
        outputs.append(values)
    return outputs


def reference_output(estimator, X):
    """Output-layer activations recomputed from the contract."""
    last_hidden = reference_hidden_outputs(estimator, X)[-1]
    z = last_hidden @ estimator.coefs_[-1] + estimator.intercepts_[-1]
    return OUTPUT_FUNCTIONS[estimator.out_activation_](z)


@pytest.fixture(scope="session")
def digits_split():
    X, y = load_digits(return_X_y=True)
    return train_test_split(X / 16.0, y, test_size=0.25, stratify=y, random_state=0)


@pytest.fixture(params=["dense", "sparse"])
def compute_path(request, monkeypatch):
    """Run a test once with every hidden layer on the dense path and once with
    every sparse layer on the sparse-kernel path, whatever the cost model says
    (on every kernel backend)."""
    from sklearn_sparse_act._backends import BACKENDS, get_backend, numba_available

    sparse = request.param == "sparse"
    for name in BACKENDS:
        if name == "numba" and not numba_available():
            continue
        monkeypatch.setattr(
            get_backend(name),
            "use_sparse_path",
            lambda n_active, width, fan_out, n_rows: sparse and n_active < width,
        )
    return request.param


def backend_params():
    """The kernel backends installed here, as pytest parameters."""
    from sklearn_sparse_act._backends import numba_available

    return [
        "numpy",
        pytest.param(
            "numba",
            marks=pytest.mark.skipif(
                not numba_available(), reason="numba (the fast extra) not installed"
            ),
        ),
    ]


def training_pass(model, X, Y, sample_weight=None, held=None):
    """The loss, forward record and gradients of a training step's passes at
    a fitted model's parameters, on the kernel backend in force.

    The winners are chosen as in training, by the model's sparsity continued
    from its fitted state; with ``held`` (the forward record of an earlier
    pass over X) they are the winners it holds, as in L-BFGS's line search.
    """
    from sklearn_sparse_act._backends import get_backend
    from sklearn_sparse_act._network import ForwardPass, Gradients

    network = model._network(get_backend())
    if held is None:
        sparsity = model._start_sparsity(model._hidden_layer_sizes(), first_pass=False)
        forward = network.forward_train(
            X, sparsity.training_rule, sample_weight, ForwardPass(model.n_layers_)
        )
    else:
        forward = network.forward_held(X, held)
    gradients = Gradients(model.n_layers_)
    loss = network.backprop(
        forward, Y, sample_weight, model._loss_function(), model.alpha, gradients
    )
    return loss, forward, gradients
