"""A fit completes or leaves the model as it found it.

An exception that escapes a fit (a Ctrl-C during the end-of-fit passes, an
error in the training loop) leaves a fitted model exactly as its previous fit
left it, attribute for attribute and bit for bit; a Ctrl-C inside the
training loop stops training and the fit completes.
"""

import copy
import warnings

import numpy as np
import pytest
from sklearn.datasets import load_iris
from sklearn.preprocessing import LabelBinarizer

from sklearn_sparse_act import SparseMLPClassifier, _base, _hidden_sparsity
from sklearn_sparse_act._stochastic import StochasticSolver

X_IRIS, Y_IRIS = load_iris(return_X_y=True)


def fitted_state(model):
    """The model's attributes that are not parameters."""
    parameters = model.get_params(deep=False)
    return {name: v for name, v in vars(model).items() if name not in parameters}


def assert_bitwise_equal(before, after, where="model"):
    """Equal values, with arrays compared bit for bit (NaN included)."""
    assert type(before) is type(after), where
    if isinstance(before, np.ndarray):
        assert before.dtype == after.dtype and before.shape == after.shape, where
        assert before.tobytes() == after.tobytes(), where
    elif isinstance(before, dict):
        assert before.keys() == after.keys(), where
        for key in before:
            assert_bitwise_equal(before[key], after[key], f"{where}[{key!r}]")
    elif isinstance(before, list | tuple):
        assert len(before) == len(after), where
        for index, (item_before, item_after) in enumerate(
            zip(before, after, strict=True)
        ):
            assert_bitwise_equal(item_before, item_after, f"{where}[{index}]")
    elif isinstance(before, np.random.RandomState):
        assert_bitwise_equal(before.get_state(), after.get_state(), where)
    elif isinstance(before, LabelBinarizer):
        assert_bitwise_equal(vars(before), vars(after), where)
    elif isinstance(before, float) and np.isnan(before):
        assert np.isnan(after), where
    else:
        assert before == after, where


def snapshot(model):
    """A deep, independent record of the model's fitted state."""
    return copy.deepcopy(fitted_state(model))


def fitted_model(**params):
    params = {
        "hidden_layer_sizes": (12, 10),
        "activation_ratio": 0.3,
        "sparsity_strategy": "dynamic",
        "inference_ratio_factor": 1.5,
        "boost_strength": 1.0,
        "max_iter": 4,
        "random_state": 0,
        **params,
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return SparseMLPClassifier(**params).fit(X_IRIS, Y_IRIS)


def raise_on_call(function, n_call, exception):
    """``function``, raising ``exception`` on its ``n_call``-th call."""
    calls = []

    def wrapper(*args, **kwargs):
        calls.append(None)
        if len(calls) == n_call:
            raise exception
        return function(*args, **kwargs)

    return wrapper


def continue_fitting(model, how):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if how == "refit":
            model.fit(X_IRIS[::-1], Y_IRIS[::-1])
        elif how == "warm_start":
            model.set_params(warm_start=True).fit(X_IRIS, Y_IRIS)
        else:
            model.partial_fit(X_IRIS, Y_IRIS)


# The end-of-fit passes: the inference calibration, which starts once the
# thresholds are settled, and the pass recording the training winners for
# compact() (fit only).
END_OF_FIT_FAULTS = [
    (
        _hidden_sparsity,
        "calibrated_thresholds",
        1,
        ("refit", "warm_start", "partial_fit"),
    ),
    (_base, "training_winners", 1, ("refit", "warm_start")),
]


@pytest.mark.parametrize(
    "module, function_name, n_call, how",
    [
        (module, name, n_call, how)
        for module, name, n_call, hows in END_OF_FIT_FAULTS
        for how in hows
    ],
)
def test_interrupt_in_end_of_fit_passes_leaves_the_model_as_it_was(
    monkeypatch, module, function_name, n_call, how
):
    model = fitted_model()
    before = snapshot(model)
    monkeypatch.setattr(
        module,
        function_name,
        raise_on_call(getattr(module, function_name), n_call, KeyboardInterrupt),
    )
    with pytest.raises(KeyboardInterrupt):
        continue_fitting(model, how)
    assert_bitwise_equal(before, fitted_state(model))


def test_interrupt_while_settling_a_first_fit_leaves_it_unfitted(monkeypatch):
    model = SparseMLPClassifier(
        hidden_layer_sizes=(12, 10),
        activation_ratio=0.3,
        sparsity_strategy="dynamic",
        inference_ratio_factor=1.5,
        max_iter=2,
    )
    unfitted = snapshot(model)
    monkeypatch.setattr(
        _hidden_sparsity,
        "calibrated_thresholds",
        raise_on_call(_hidden_sparsity.calibrated_thresholds, 1, KeyboardInterrupt),
    )
    with pytest.raises(KeyboardInterrupt), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X_IRIS, Y_IRIS)
    assert_bitwise_equal(unfitted, fitted_state(model))
    assert not model.__sklearn_is_fitted__()


@pytest.mark.parametrize("how", ["warm_start", "partial_fit"])
def test_error_in_training_loop_keeps_what_the_model_learned(monkeypatch, how):
    """An error in the third training step of a continued fit (after two
    steps have updated the weights, duty cycles and running thresholds in
    place) leaves the previous fit's model, bit for bit."""
    model = fitted_model(batch_size=50)
    before = snapshot(model)
    monkeypatch.setattr(
        StochasticSolver,
        "train_step",
        raise_on_call(StochasticSolver.train_step, 3, MemoryError("no room")),
    )
    with pytest.raises(MemoryError, match="no room"):
        continue_fitting(model, how)
    assert_bitwise_equal(before, fitted_state(model))
    # It still predicts as before.
    assert model.predict(X_IRIS).shape == Y_IRIS.shape


def test_interrupt_in_training_loop_completes_the_fit(monkeypatch):
    """A Ctrl-C inside the training loop stops training and the fit
    completes: the model is settled with the weights trained so far."""
    model = fitted_model()
    n_iter_before = model.n_iter_
    monkeypatch.setattr(
        StochasticSolver,
        "train_step",
        raise_on_call(StochasticSolver.train_step, 2, KeyboardInterrupt),
    )
    with pytest.warns(UserWarning, match="interrupted"):
        model.set_params(warm_start=True).fit(X_IRIS, Y_IRIS)
    # One training step per epoch here: the second epoch was interrupted.
    assert model.n_iter_ == 1 < n_iter_before
    reference = fitted_model()
    assert not np.array_equal(model.coefs_[0], reference.coefs_[0])
    # Settled on the weights trained so far: the inference thresholds were
    # calibrated (lower than the trained ones with inference_ratio_factor).
    assert np.all(model.inference_thresholds_ < model.activation_thresholds_)
