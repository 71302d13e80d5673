"""Shared fixtures, an independent re-implementation of the forward rules, and
which tests depend on the kernel backend (the selection of CI's NumPy pass)."""

import os
from pathlib import Path

import numpy as np
import pytest
from scipy.special import expit, softmax
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from threadpoolctl import threadpool_info, threadpool_limits

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
    coefs_, intercepts_, inference_active_units_, inference_thresholds_ and
    boost_factors_ (winners chosen on z times the layer's boost factors)."""
    hidden = HIDDEN_FUNCTIONS[estimator.activation]
    outputs = []
    values = np.asarray(X, dtype=estimator.coefs_[0].dtype)
    boost_factors = estimator.boost_factors_
    for layer, n_active in enumerate(estimator.inference_active_units_):
        z = values @ estimator.coefs_[layer] + estimator.intercepts_[layer]
        scores = z
        if boost_factors is not None and boost_factors[layer] is not None:
            scores = z * boost_factors[layer]
        if estimator.inference_thresholds_ is None:
            order = np.argsort(-scores, axis=1, kind="stable")
            winners = np.zeros(z.shape, dtype=bool)
            np.put_along_axis(winners, order[:, :n_active], True, axis=1)
        else:
            winners = scores > estimator.inference_thresholds_[layer]
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
    from sklearn_sparse_act._step_records import ForwardPass, Gradients

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


# ----------------------------------------------------------------------------
# Which tests the second CI pass (SKLEARN_SPARSE_ACT_KERNELS=numpy) runs
# ----------------------------------------------------------------------------
# The rule: a test is backend-sensitive, and runs on both kernel backends (CI's
# first pass on the compiled kernels, its second with the NumPy ones forced),
# when what it asserts is the arithmetic of the kernels in force: values,
# winners, gradients, thresholds, reproducibility, round-off between paths.
# A test is backend-agnostic when it runs no kernel, when it chooses the
# kernels of each run itself (both backends, or an explicit
# ``config_context``/``--kernels``), or when what it asserts sits above the
# kernels: the API contract (scikit-learn's checks), validation, persistence,
# export formats, scheduling, memory of the data path, the documentation's
# snippets and examples. A NumPy kernel that computes wrongly fails the
# kernel-by-kernel comparisons of test_backends.py in the first pass and the
# sensitive modules in the second (tools/mutation_check.py plants such bugs
# and runs each on its backend). Every test module is listed below, in one of
# the two tables (tests/test_suite_selection.py fails otherwise); a test of a
# sensitive module is agnostic only through a fixture of
# BACKEND_AGNOSTIC_FIXTURES. The doctests of the package fit models on the
# configured backend: they are sensitive.
BACKEND_SENSITIVE_MODULES = {
    "test_boost_prediction.py": "winners prediction chooses with boost factors",
    "test_codes.py": "hidden codes and compaction compared exactly across inputs",
    "test_connections.py": "absent weights through the configured kernels' updates",
    "test_controls.py": "winners under boosting, warm-up and inference factors",
    "test_determinism.py": "bitwise reproducibility of the configured kernels",
    "test_estimators.py": "what fits on the configured kernels learn",
    "test_extremes.py": "overflow, NaN and ties through the configured kernels",
    "test_fit_atomicity.py": "the state a failed fit leaves, bit for bit",
    "test_gradients.py": "backward passes on the configured kernels",
    "test_properties.py": "forward passes against an independent reference",
    "test_sklearn_mlp_suite.py": "scikit-learn's MLP arithmetic at ratio 1.0",
    "test_sparsity.py": "winner selection as fitted estimators apply it",
    "test_thread_safety.py": "concurrent predictions equal sequential ones",
    "test_training_semantics.py": "settling, sample weights and streaming",
}
BACKEND_AGNOSTIC_MODULES = {
    "test_backends.py": "every test names its backend, most run both and compare",
    "test_batch_quota_rows.py": "every test names its backend, or compares both",
    "test_benchmark_harness.py": "the benchmark harness on scripted clocks, no kernel",
    "test_benchmark_memory.py": "memory targets and table; its child picks kernels",
    "test_benchmarks.py": "the benchmark scripts' options, tables and verdicts",
    "test_benchmark_accuracy.py": "the accuracy benchmark; its runs pick the kernels",
    "test_benchmark_sections.py": "the speed benchmark's extra sections, own kernels",
    "test_callbacks.py": "the callback task tree and stopping, above the kernels",
    "test_common.py": "scikit-learn's API contract of the estimators",
    "test_connection_kernels.py": "every test names its backend, and compares",
    "test_demo.py": "the demo's progress report",
    "test_distributed.py": "scheduling of fits on a dask cluster",
    "test_docs_figures.py": "figures the documentation quotes, from its snippets",
    "test_evidence.py": "the evidence study's arithmetic and report, no result",
    "test_examples.py": "the gallery examples run and draw",
    "test_features.py": "the transformer API and pipelines, above the kernels",
    "test_kernel_compilations.py": "names its backend; counts numba's compilations",
    "test_filtered_top_k.py": "numba's two top-k selections, compared bit for bit",
    "test_fit_memory.py": "the memory check before a fit; step memory on NumPy's",
    "test_lint.py": "runs ruff on the sources, no kernel",
    "test_mutation_catalogue.py": "the mutation catalogue's texts, no kernel",
    "test_onnx.py": "the exported graph against the model's predictions",
    "test_out_of_core.py": "the memory and chunking of the data path",
    "test_persistence.py": "round trips of fitted models",
    "test_readme.py": "the README's snippet runs",
    "test_suite_selection.py": "checks these tables and the xdist settings, no kernel",
    "test_worker_settings.py": "settings reach joblib's workers; each test sets them",
}
# Fixtures whose kernels are chosen explicitly, whatever the configuration:
# the tests that use them assert on their output only.
BACKEND_AGNOSTIC_FIXTURES = {
    "quick_run": "runs bench_vs_sklearn.py with --kernels numpy numba",
    "numba_kernels_chosen": "the test runs every kernel on numba's (config_context)",
}


@pytest.fixture
def numba_kernels_chosen():
    """For a test that chooses numba's kernels for everything it runs
    (``config_context(kernels="numba")`` in each of its threads): it runs
    the same kernels whatever the configured backend, so CI's NumPy pass
    leaves it out. Skips it without numba."""
    from sklearn_sparse_act._backends import numba_available

    if not numba_available():
        pytest.skip("numba (the fast extra) not installed")


# Test modules whose module fixtures take seconds to build: with
# ``--dist loadgroup`` each runs as one unit in one xdist worker, which builds
# its fixtures once (pytest_xdist_make_scheduler below; every other test is a
# unit of its own, as in xdist's 'load' mode). Measured setup on two cores:
# test_benchmarks.py's quick_run 28 s, test_benchmark_accuracy.py's
# accuracy_quick_run 12 s,
# test_distributed.py's dask_client 1.3 s plus 2.2 s of teardown; every other
# module fixture of the suite takes under 0.01 s, less than moving its tests
# to one worker would cost.
SHARED_FIXTURE_MODULES = {
    "test_benchmarks.py": "the quick run of the speed benchmark",
    "test_benchmark_accuracy.py": "the quick run of the accuracy benchmark",
    "test_distributed.py": "a dask cluster of two worker processes",
}


def is_backend_sensitive(module_name, fixture_names):
    """Whether a test of ``module_name`` using ``fixture_names`` depends on the
    configured kernel backend (a module in neither table counts as sensitive,
    so that a new module runs on both backends until it is classified)."""
    if module_name in BACKEND_AGNOSTIC_MODULES:
        return False
    return not any(name in BACKEND_AGNOSTIC_FIXTURES for name in fixture_names)


def xdist_work_unit(nodeid):
    """The unit of work of a test under ``--dist loadgroup``: its module for
    the modules of SHARED_FIXTURE_MODULES, the test alone otherwise."""
    module = nodeid.split("::", 1)[0]
    return module if Path(module).name in SHARED_FIXTURE_MODULES else nodeid


# The marker expression of CI's second pass, which runs only the tests that
# depend on the kernel backend.
BACKEND_SENSITIVE_SELECTION = "backend_sensitive"


def pytest_ignore_collect(collection_path, config):
    """With ``-m backend_sensitive``, the modules of BACKEND_AGNOSTIC_MODULES
    are not collected at all: none of their tests would be selected, and
    importing them (dask, ONNX, scikit-learn's check suite) costs seconds in
    every xdist worker."""
    if (
        config.getoption("markexpr", "") == BACKEND_SENSITIVE_SELECTION
        and collection_path.name in BACKEND_AGNOSTIC_MODULES
    ):
        return True
    return None


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """Mark the backend-sensitive tests (before ``-m`` selects)."""
    for item in items:
        if is_backend_sensitive(item.path.name, getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.backend_sensitive)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """Under ``--dist loadgroup``, xdist's scheduler with the units of
    :func:`xdist_work_unit` for the tests without an ``xdist_group`` mark.

    xdist's own grouping rests on the ``xdist_group`` mark alone, and with
    pytest 9.2 and pytest-xdist 3.8 the mark is lost on the way to the
    scheduler; this grouping needs no mark.
    """
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadGroupScheduling

    class ModuleFixtureScheduling(LoadGroupScheduling):
        def _split_scope(self, nodeid):
            scope = super()._split_scope(nodeid)
            return xdist_work_unit(nodeid) if scope == nodeid else scope

    return ModuleFixtureScheduling(config, log)


# ----------------------------------------------------------------------------
# Each xdist worker's share of the cores
# ----------------------------------------------------------------------------
# OpenBLAS starts a thread per core in every process, and its threads spin
# while they wait: two xdist workers on two cores then fight over the cores
# (measured, two processes at once on 2 cores: the NumPy kernels' boosting and
# compaction tests took 21 s of CPU each with OpenBLAS's default threads,
# 3.4 s with one thread each; the compiled kernels' controls, estimator and
# scikit-learn MLP tests 36 s against 14 s). Under pytest-xdist with several
# workers, each worker therefore limits BLAS to its share of the cores (the
# package then runs numba's parallel kernels on as many threads, as it does
# under any BLAS limit a user sets). The modules below test how the package
# shares the cores, its parallel kernels or their reproducibility: they run
# with every core, as does a run without xdist.
ALL_CORES_MODULES = {
    "test_backends.py": "the parallel kernels, lanes and core sharing",
    "test_batch_quota_rows.py": "the parallel window kernel on one thread and two",
    "test_determinism.py": "bitwise reproducibility of the parallel kernels",
    "test_thread_safety.py": "concurrent predictions beside parallel kernels",
}


def worker_blas_threads(n_workers, n_cores):
    """BLAS threads of one of ``n_workers`` xdist workers on ``n_cores``
    (None: no limit, for a run in one process)."""
    if n_workers < 2:
        return None
    return max(1, n_cores // n_workers)


# The BLAS threads of a worker before it limited them.
_ALL_BLAS_THREADS = pytest.StashKey[int]()


def pytest_configure(config):
    """In an xdist worker, limit BLAS to the worker's share of the cores."""
    share = worker_blas_threads(
        int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1")), os.cpu_count() or 1
    )
    if share is not None:
        config.stash[_ALL_BLAS_THREADS] = max(
            (
                pool["num_threads"]
                for pool in threadpool_info()
                if pool["user_api"] == "blas"
            ),
            default=1,
        )
        threadpool_limits(limits=share, user_api="blas")


@pytest.fixture(autouse=True, scope="module")
def _every_core_for_the_modules_that_test_core_sharing(request):
    all_threads = request.config.stash.get(_ALL_BLAS_THREADS, None)
    if all_threads is None or request.path.name not in ALL_CORES_MODULES:
        yield
        return
    with threadpool_limits(limits=all_threads, user_api="blas"):
        yield
