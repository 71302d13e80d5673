"""Determinism: the same data and random_state give bitwise identical models,
run after run, whatever the number of jobs of a search and the number of
threads of numba's kernels."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.datasets import load_diabetes, load_iris, make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV

from sklearn_sparse_act import SparseMLPClassifier, SparseMLPRegressor, config_context
from sklearn_sparse_act._backends import numba_available
from sklearn_sparse_act._stochastic import batch_rows


def _data(estimator_class, dtype):
    if estimator_class is SparseMLPClassifier:
        X, y = load_iris(return_X_y=True)
        return (X / 8).astype(dtype), y
    X, y = load_diabetes(return_X_y=True)
    return (X[:200] * 10).astype(dtype), y[:200] / 300


def _fit(model, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(X, y)


def _fingerprint(model, X):
    """Everything a run produces that randomness could change."""
    arrays = {
        "coefs_": model.coefs_,
        "intercepts_": model.intercepts_,
        "activation_thresholds_": model.activation_thresholds_,
        "active_fraction_": model.active_fraction_,
        "loss_curve_": getattr(model, "loss_curve_", None),
        "validation_scores_": getattr(model, "validation_scores_", None),
        "predict": model.predict(X),
    }
    if hasattr(model, "predict_proba"):
        arrays["predict_proba"] = model.predict_proba(X)
    return arrays


def _assert_bitwise_equal(first, second):
    assert first.keys() == second.keys()
    for name in first:
        if first[name] is None:
            assert second[name] is None, name
        elif isinstance(first[name], list) and not np.isscalar(first[name][0]):
            for left, right in zip(first[name], second[name], strict=True):
                np.testing.assert_array_equal(left, right, err_msg=name, strict=True)
        else:
            np.testing.assert_array_equal(
                np.asarray(first[name]), np.asarray(second[name]), err_msg=name
            )


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
@pytest.mark.parametrize("strategy", ["fixed", "dynamic"])
@pytest.mark.parametrize("estimator_class", [SparseMLPClassifier, SparseMLPRegressor])
def test_same_data_and_seed_give_bitwise_identical_runs(
    estimator_class, strategy, solver, dtype
):
    X, y = _data(estimator_class, dtype)
    params = {
        "hidden_layer_sizes": (16, 8),
        "activation_ratio": 0.25,
        "sparsity_strategy": strategy,
        "solver": solver,
        "max_iter": 10,
        "random_state": 7,
    }
    if solver != "lbfgs":
        # Randomness beyond the initial weights: shuffling, the validation
        # split, and boosting's tie-breaks.
        params.update(early_stopping=True, boost_strength=1.0)
    first = _fit(estimator_class(**params), X, y)
    second = _fit(estimator_class(**params), X, y)
    refit = _fit(first, X, y)  # the same instance, fitted again
    cloned = _fit(clone(second), X, y)

    reference = _fingerprint(second, X)
    for run in (refit, cloned):
        _assert_bitwise_equal(_fingerprint(run, X), reference)


def test_another_seed_gives_another_model():
    """The check above is not vacuous: the seed does reach the weights."""
    X, y = _data(SparseMLPClassifier, np.float64)
    models = [
        _fit(SparseMLPClassifier((8,), max_iter=5, random_state=seed), X, y)
        for seed in (0, 1)
    ]
    assert not np.array_equal(models[0].coefs_[0], models[1].coefs_[0])


@pytest.mark.parametrize("estimator_class", [SparseMLPClassifier, SparseMLPRegressor])
def test_grid_search_is_bitwise_identical_across_n_jobs(estimator_class):
    X, y = _data(estimator_class, np.float64)
    estimator = estimator_class(
        hidden_layer_sizes=(16,), max_iter=15, random_state=0, solver="adam"
    )
    grid = {
        "activation_ratio": [0.125, 0.5],
        "sparsity_strategy": ["fixed", "dynamic"],
    }
    searches = []
    for n_jobs in (1, 2):
        search = GridSearchCV(clone(estimator), grid, cv=3, n_jobs=n_jobs)
        searches.append(_fit(search, X, y))
    sequential, parallel = searches

    score_keys = [key for key in sequential.cv_results_ if "test_score" in key]
    assert "split0_test_score" in score_keys
    for key in score_keys:
        np.testing.assert_array_equal(
            parallel.cv_results_[key], sequential.cv_results_[key], err_msg=key
        )
    assert parallel.best_params_ == sequential.best_params_
    _assert_bitwise_equal(
        _fingerprint(parallel.best_estimator_, X),
        _fingerprint(sequential.best_estimator_, X),
    )


# ----------------------------------------------------------------------
# The number of threads: numba's compiled kernels in parallel
# ----------------------------------------------------------------------
needs_numba = pytest.mark.skipif(
    not numba_available(), reason="numba (the fast extra) not installed"
)


def _skip_without_two_kernel_threads():
    from sklearn_sparse_act._backends import _numba_threads

    if _numba_threads._thread_budget() < 2:
        pytest.skip("numba's kernels get one thread here (numba's or BLAS's limit)")


# Together these reach every parallel numba kernel in training: 'fixed'
# selection, the products and gradients over winners with Adam; 'dynamic'
# selection, SGD and sparse input; L-BFGS, which reuses a batch's winners,
# with a dense layer below a sparse one. The first two predict their 600
# rows in lanes (the third's first layer gives the cores to BLAS).
PARALLEL_FITS = [
    ("dense", True, dict(hidden_layer_sizes=(1024, 256), solver="adam")),
    (
        "sparse",
        True,
        dict(hidden_layer_sizes=(1024, 256), solver="sgd", sparsity_strategy="dynamic"),
    ),
    (
        "dense",
        False,
        dict(
            hidden_layer_sizes=(256, 1024),
            activation_ratio=[0.5, 0.05],
            solver="lbfgs",
        ),
    ),
    # The kernels over present weights: from dense inputs and from winners,
    # and the steps of both stochastic solvers.
    ("dense", True, dict(hidden_layer_sizes=(1024, 256), weight_density=0.05)),
    (
        "dense",
        True,
        dict(hidden_layer_sizes=(1024, 256), weight_density=0.05, solver="sgd"),
    ),
]


def _parallel_data():
    X, y = make_classification(
        n_samples=600, n_features=64, n_informative=20, n_classes=3, random_state=0
    )
    return X, y


def _kernels_take_the_cores(model, n_rows, training):
    """Whether the numba backend's cost model gives the cores to its kernels
    for passes over ``n_rows`` rows."""
    from sklearn_sparse_act._backends import _numba_threads, get_backend

    network = model._network(get_backend("numba"))
    units = model.active_units_ if training else model.inference_active_units_
    return _numba_threads.kernels_take_the_cores(network.work(units, n_rows, training))


@pytest.mark.usefixtures("numba_kernels_chosen")
def test_numba_fits_have_the_same_bits_on_one_thread_and_two(monkeypatch):
    """numba's thread count set in this process (``numba.set_num_threads``,
    which every fit and prediction reads) changes nothing: every parallel
    kernel runs on two threads and gives the bits that one thread gives
    (its serial twin, where it has one; itself on one thread otherwise)."""
    import numba
    from numba.core.registry import CPUDispatcher

    from sklearn_sparse_act._backends import _numba_steps, cost_model, numba_kernels

    _skip_without_two_kernel_threads()
    # Every region pays: the kernels of these small fits run in parallel on
    # two threads, as the kernels of large ones do.
    monkeypatch.setattr(cost_model, "REGION_WAKE_SECONDS", 0.0)
    threads_seen = {}

    def recorded(name, kernel, serial=False):
        def run(*args):
            threads = "serial" if serial else numba.get_num_threads()
            threads_seen.setdefault(name, set()).add(threads)
            return kernel(*args)

        return run

    # The backend's modules that call the kernels, and the kernels' names:
    # parallel ones, and their serial twins (recorded under the parallel
    # kernel's name).
    callers = (numba_kernels, _numba_steps)
    kernels = {
        name: kernel
        for module in callers
        for name, kernel in vars(module).items()
        if isinstance(kernel, CPUDispatcher)
    }
    parallel_kernels = sorted(
        name for name, kernel in kernels.items() if kernel.targetoptions.get("parallel")
    )
    twinned = {name for name in parallel_kernels if f"{name}_serial" in kernels}
    for module in callers:
        for name in parallel_kernels:
            if hasattr(module, name):
                monkeypatch.setattr(module, name, recorded(name, getattr(module, name)))
            twin = f"{name}_serial"
            if hasattr(module, twin):
                serial = recorded(name, getattr(module, twin), serial=True)
                monkeypatch.setattr(module, twin, serial)

    X, y = _parallel_data()
    threads_before = numba.get_num_threads()
    with config_context(kernels="numba"):
        for input_format, in_lanes, params in PARALLEL_FITS:
            X_fit = sp.csr_matrix(X) if input_format == "sparse" else X
            runs = {}
            for n_threads in (1, 2):
                numba.set_num_threads(n_threads)
                try:
                    # A strong L2 penalty, as large as the data loss: the last
                    # bits of its squared norm show in the loss (at alpha=1e-4
                    # they are mostly rounded away).
                    model = _fit(
                        SparseMLPClassifier(
                            **{"activation_ratio": 0.05, **params},
                            alpha=1.0,
                            max_iter=3,
                            random_state=0,
                        ),
                        X_fit,
                        y,
                    )
                    runs[n_threads] = _fingerprint(model, X_fit)
                    # Few rows: the parallel kernels, not lanes.
                    runs[n_threads]["few rows"] = model.predict_proba(X_fit[:40])
                finally:
                    numba.set_num_threads(threads_before)
            _assert_bitwise_equal(runs[1], runs[2])
            training_rows = (
                len(X) if model.solver == "lbfgs" else batch_rows(model.batch_size, 600)
            )
            assert _kernels_take_the_cores(model, training_rows, training=True)
            assert _kernels_take_the_cores(model, 600, training=False) == in_lanes
    assert sorted(threads_seen) == parallel_kernels
    for name, thread_counts in threads_seen.items():
        # One thread runs the serial twin, where there is one.
        expected = {"serial", 2} if name in twinned else {1, 2}
        assert thread_counts == expected, name


def _final_training_loss(estimator, X, y):
    """A score that carries the bits of the training loss (the L2 term's
    squared norm included)."""
    return estimator.loss_curve_[-1]


@needs_numba
def test_grid_search_with_parallel_kernels_is_bitwise_identical_across_n_jobs():
    """joblib's workers get a share of the cores (numba and BLAS on one
    thread each, on two cores): their kernels run serially where the
    sequential search runs them in parallel."""
    from sklearn_sparse_act._backends import get_backend

    if get_backend().name != "numba":
        pytest.skip("the configured kernels are not numba's")
    _skip_without_two_kernel_threads()
    X, y = _parallel_data()
    estimator = SparseMLPClassifier(
        hidden_layer_sizes=(1024, 256),
        activation_ratio=0.05,
        alpha=1.0,  # the L2 term's bits show in the loss (see above)
        max_iter=3,
        random_state=0,
    )
    fitted = _fit(clone(estimator), X[:300], y[:300])
    assert _kernels_take_the_cores(
        fitted, batch_rows(fitted.batch_size, 300), training=True
    )
    assert _kernels_take_the_cores(fitted, 300, training=False)
    grid = {"sparsity_strategy": ["fixed", "dynamic"]}
    scoring = {"accuracy": "accuracy", "final_loss": _final_training_loss}
    searches = []
    for n_jobs in (1, 2):
        search = GridSearchCV(
            clone(estimator), grid, cv=2, n_jobs=n_jobs, scoring=scoring, refit=False
        )
        searches.append(_fit(search, X, y))
    sequential, parallel = searches
    score_keys = [key for key in sequential.cv_results_ if "_test_" in key]
    assert "split0_test_final_loss" in score_keys
    for key in score_keys:
        np.testing.assert_array_equal(
            parallel.cv_results_[key], sequential.cv_results_[key], err_msg=key
        )
