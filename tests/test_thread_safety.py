"""Thread safety: a fitted model serves predictions from many threads at once,
and predicting changes nothing in it."""

import pickle
import threading
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning

from sklearn_sparse_act import SparseMLPClassifier, SparseMLPRegressor

N_THREADS = 8
CALLS_PER_THREAD = 4


def _digits():
    X, y = load_digits(return_X_y=True)
    return X[:600] / 16, y[:600]


def _fitted(estimator_class, **params):
    X, y = _digits()
    if estimator_class is SparseMLPRegressor:
        y = y / 9
    model = estimator_class(
        hidden_layer_sizes=(64, 32), max_iter=5, random_state=0, **params
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(X, y)


def _slices(n_samples):
    """Row ranges of different lengths and offsets, one per call."""
    for call in range(N_THREADS * CALLS_PER_THREAD):
        start = (call * 37) % (n_samples - 64)
        yield slice(start, start + 16 + (call * 13) % 48)


@pytest.mark.parametrize(
    "estimator_class, params",
    [
        (SparseMLPClassifier, {"sparsity_strategy": "fixed"}),
        (SparseMLPClassifier, {"sparsity_strategy": "dynamic"}),
        (
            SparseMLPClassifier,
            {"sparsity_strategy": "dynamic", "inference_ratio_factor": 2.0},
        ),
        (SparseMLPRegressor, {"sparsity_strategy": "fixed"}),
        (SparseMLPRegressor, {"sparsity_strategy": "dynamic", "solver": "lbfgs"}),
    ],
    ids=["fixed", "dynamic", "dynamic-inference-factor", "regressor", "lbfgs"],
)
def test_concurrent_predictions_match_sequential_ones(estimator_class, params):
    model = _fitted(estimator_class, **params)
    X, _ = _digits()
    methods = [name for name in ("predict", "predict_proba") if hasattr(model, name)]
    calls = [(method, rows) for rows in _slices(len(X)) for method in methods]

    state_before = pickle.dumps(model)
    attribute_ids = {name: id(value) for name, value in vars(model).items()}
    sequential = [getattr(model, method)(X[rows]) for method, rows in calls]

    start_together = threading.Barrier(N_THREADS)

    def run_share(thread_index):
        start_together.wait()
        return [
            (index, getattr(model, method)(X[rows]))
            for index, (method, rows) in enumerate(calls)
            if index % N_THREADS == thread_index
        ]

    with ThreadPoolExecutor(max_workers=N_THREADS) as pool:
        shares = list(pool.map(run_share, range(N_THREADS)))

    results = dict(result for share in shares for result in share)
    assert sorted(results) == list(range(len(calls)))
    for index, expected in enumerate(sequential):
        np.testing.assert_array_equal(results[index], expected, strict=True)

    # Nothing was stored, replaced or changed in place while predicting.
    assert {name: id(value) for name, value in vars(model).items()} == attribute_ids
    assert pickle.dumps(model) == state_before
