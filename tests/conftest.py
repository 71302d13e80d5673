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
    every sparse layer on the sparse-kernel path, whatever the cost model says."""
    from sklearn_sparse_act import _kernels

    if request.param == "dense":
        monkeypatch.setattr(
            _kernels, "use_sparse_path", lambda n_active, width, fan_out: False
        )
    else:
        monkeypatch.setattr(
            _kernels,
            "use_sparse_path",
            lambda n_active, width, fan_out: n_active < width,
        )
    return request.param
