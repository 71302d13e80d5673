"""Thread safety: a fitted model serves predictions from many threads at once,
and predicting changes nothing in it."""

import io
import pickle
import sys
import threading
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from sklearn.datasets import load_digits, make_classification
from sklearn.exceptions import ConvergenceWarning
from threadpoolctl import threadpool_info, threadpool_limits

from sklearn_sparse_act import SparseMLPClassifier, SparseMLPRegressor, config_context
from sklearn_sparse_act._stochastic import batch_rows

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


# ----------------------------------------------------------------------
# The process's BLAS thread limits, with fits and predictions running at once
# ----------------------------------------------------------------------


def _blas_threads():
    return [
        info["num_threads"] for info in threadpool_info() if info["user_api"] == "blas"
    ]


def _kernels_take_the_cores(model, n_rows, training):
    """Whether the numba backend's cost model gives the cores to its kernels
    (BLAS limited to one thread) for passes over ``n_rows`` rows."""
    from sklearn_sparse_act._backends import _numba_threads, get_backend

    network = model._network(get_backend("numba"))
    units = model.active_units_ if training else model.inference_active_units_
    return _numba_threads.kernels_take_the_cores(network.work(units, n_rows, training))


class _HeldReports(io.StringIO):
    """``sys.stdout`` while fits report their epochs (``verbose=True``): a
    thread given a cue stops at its first report, which a stochastic fit
    writes inside its thread assignment, signals that it arrived there and
    waits for its go-ahead."""

    def __init__(self):
        super().__init__()
        self.cues = {}

    def write(self, text):
        cue = self.cues.pop(threading.get_ident(), None)
        if cue is not None:
            arrived, go_ahead = cue
            arrived.set()
            assert go_ahead.wait(timeout=120), "the other fit never arrived"
        return super().write(text)


@pytest.mark.usefixtures("numba_kernels_chosen")
def test_overlapping_fits_and_predictions_leave_blas_threads_as_they_were(
    monkeypatch,
):
    """Each fit and each prediction here limits BLAS to one thread while its
    kernels run in parallel. Two fits are forced into the order A starts, B
    starts, A ends, B ends (in which limiters that each restore what they
    found at entry leave one thread for good), and predictions from more
    threads, started together, run while both fits are inside."""
    if max(_blas_threads(), default=1) < 2:
        pytest.skip("BLAS runs on one thread here: there is no limit to restore")
    X, y = make_classification(
        n_samples=600, n_features=64, n_informative=20, n_classes=3, random_state=0
    )
    params = dict(
        hidden_layer_sizes=(256, 256), activation_ratio=0.1, max_iter=3, random_state=0
    )
    with config_context(kernels="numba"), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        predictor = SparseMLPClassifier(**params).fit(X, y)
        expected = {
            method: getattr(predictor, method)(X)
            for method in ("predict", "predict_proba")
        }
        # Every call below takes the path that limits BLAS: training batches
        # and the prediction's rows give the cores to the kernels.
        assert _kernels_take_the_cores(
            predictor, batch_rows(predictor.batch_size, 600), True
        )
        assert _kernels_take_the_cores(predictor, 600, False)

        blas_before = _blas_threads()
        reports = _HeldReports()
        monkeypatch.setattr(sys, "stdout", reports)
        first_inside, second_inside, predicted, first_done = (
            threading.Event() for _ in range(4)
        )
        n_predictions = 6
        start_together = threading.Barrier(n_predictions)

        # The package's settings are per thread: each thread asks for the
        # numba kernels itself (a NumPy default would otherwise run there).
        def first_fit():
            reports.cues[threading.get_ident()] = (first_inside, predicted)
            try:
                with config_context(kernels="numba"):
                    return SparseMLPClassifier(**params, verbose=True).fit(X, y)
            finally:
                first_done.set()

        def second_fit():
            assert first_inside.wait(timeout=120), "the first fit never arrived"
            reports.cues[threading.get_ident()] = (second_inside, first_done)
            with config_context(kernels="numba"):
                return SparseMLPClassifier(**params, verbose=True).fit(X, y)

        def predict(method):
            assert second_inside.wait(timeout=120), "the second fit never arrived"
            start_together.wait()
            with config_context(kernels="numba"):
                return [getattr(predictor, method)(X) for _ in range(2)]

        methods = ["predict", "predict_proba"] * (n_predictions // 2)
        with ThreadPoolExecutor(max_workers=2 + n_predictions) as pool:
            fits = [pool.submit(first_fit), pool.submit(second_fit)]
            predictions = [pool.submit(predict, method) for method in methods]
            results = [prediction.result() for prediction in predictions]
            predicted.set()
            fitted = [fit.result() for fit in fits]

    assert _blas_threads() == blas_before
    for method, repeats in zip(methods, results, strict=True):
        for result in repeats:
            np.testing.assert_array_equal(result, expected[method], strict=True)
    # The kernels give the same bits on any number of threads, and BLAS ran
    # on one thread in every pass, alone or not: both fits are the sequential
    # one.
    for model in fitted:
        for coef, expected_coef in zip(model.coefs_, predictor.coefs_, strict=True):
            np.testing.assert_array_equal(coef, expected_coef, strict=True)


@pytest.mark.usefixtures("numba_kernels_chosen")
def test_a_blas_limit_held_by_the_user_is_kept_and_restored():
    """A prediction that limits BLAS inside the user's own limit leaves the
    user's limit in place, and the user's exit restores the original."""
    if max(_blas_threads(), default=1) < 2:
        pytest.skip("BLAS runs on one thread here: there is no limit to restore")
    X, y = make_classification(
        n_samples=600, n_features=64, n_informative=20, n_classes=3, random_state=0
    )
    with config_context(kernels="numba"), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = SparseMLPClassifier(
            (256, 256), activation_ratio=0.1, max_iter=1, random_state=0
        ).fit(X, y)
        assert _kernels_take_the_cores(model, 600, False)
        blas_before = _blas_threads()
        expected = model.predict_proba(X)
        with threadpool_limits(limits=1):
            inside = model.predict_proba(X)
            assert _blas_threads() == [1] * len(blas_before)
        assert _blas_threads() == blas_before
        # Under a user's limit of one thread the prediction runs its chunks in
        # one lane: the same rows in each chunk, the same bits.
        np.testing.assert_array_equal(inside, expected, strict=True)
