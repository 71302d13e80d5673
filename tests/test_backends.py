"""Kernel backends: each compiled kernel against its NumPy twin, whole fits on
both backends, the dense and sparse paths, and the package-level switch."""

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from conftest import backend_params, training_pass
from sklearn.datasets import make_classification, make_regression
from threadpoolctl import threadpool_info, threadpool_limits

import sklearn_sparse_act
from sklearn_sparse_act import (
    SparseMLPClassifier,
    SparseMLPRegressor,
    config_context,
    get_config,
    set_config,
)
from sklearn_sparse_act._backends import (
    BACKENDS,
    cost_model,
    get_backend,
    numba_available,
    numpy_kernels,
)
from sklearn_sparse_act._backends.interface import SparseRows, Work, row_chunks
from sklearn_sparse_act._network import Network
from sklearn_sparse_act._sparsity import Threshold, TopK

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

needs_numba = pytest.mark.skipif(
    not numba_available(), reason="numba (the fast extra) not installed"
)

# The cost of a parallel region the module states; the tests below run with
# none (every_region_pays).
REGION_WAKE_SECONDS = cost_model.REGION_WAKE_SECONDS


@pytest.fixture(autouse=True)
def every_region_pays(monkeypatch):
    """Kernels over enough rows run their parallel versions however little
    their work, as they do on a machine whose regions cost nothing: each is
    compared with its NumPy twin here. (With the module's cost, kernels over
    small arrays run their serial twins, which test_determinism compares
    with the parallel kernels bit for bit.)"""
    monkeypatch.setattr(cost_model, "REGION_WAKE_SECONDS", 0.0)


# Tolerances of two backends (or two paths) computing the same numbers in a
# different order: a few hundred units of round-off of each dtype.
TOLERANCES = {
    np.float64: dict(rtol=1e-10, atol=1e-12),
    np.float32: dict(rtol=1e-5, atol=1e-6),
}

ACTIVATIONS = ["identity", "logistic", "tanh", "relu"]


def _assert_rows_equal(ours, reference, dtype):
    np.testing.assert_array_equal(ours.indptr, reference.indptr)
    np.testing.assert_array_equal(ours.indices, reference.indices)
    np.testing.assert_allclose(ours.values, reference.values, **TOLERANCES[dtype])
    assert ours.values.dtype == dtype


def _random_winners(rng, n_rows, width, ratio, dtype):
    values = rng.normal(size=(n_rows, width)).astype(dtype)
    return numpy_kernels.select(
        values, TopK(max(1, int(ratio * width))), "relu", scores=values
    ).with_values(
        rng.uniform(0.1, 1, size=n_rows * max(1, int(ratio * width))).astype(dtype)
    )


# ----------------------------------------------------------------------
# The winners structure
# ----------------------------------------------------------------------
def test_sparse_rows_round_trip_a_mask():
    values = np.arange(9.0).reshape(3, 3) - 2
    mask = np.array([[True, False, True], [False, False, False], [False, True, True]])
    rows = numpy_kernels.select(
        values, Threshold(0.5, inclusive=False), "identity", mask * 1.0
    )
    np.testing.assert_array_equal(rows.indptr, [0, 2, 2, 4])
    np.testing.assert_array_equal(rows.indices, [0, 2, 1, 2])
    np.testing.assert_array_equal(rows.values, values[mask])
    np.testing.assert_array_equal(rows.to_csr().toarray(), values * mask)
    np.testing.assert_array_equal(rows.rows(), [0, 0, 2, 2])
    np.testing.assert_array_equal(rows.counts(), [1, 1, 2])
    np.testing.assert_array_equal(rows.counts(nonzero_only=True), [1, 1, 1])
    # What a backend derives from the winners is shared with every copy that
    # carries other values (a delta, say), and not with other winners.
    assert rows.with_values(rows.values * 2).derived is rows.derived
    assert numpy_kernels.select(values, Threshold(0.5), "identity").derived == {}


# ----------------------------------------------------------------------
# Each compiled kernel against its NumPy twin
# ----------------------------------------------------------------------
@needs_numba
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_top_k_selection_matches_numpy(dtype, activation):
    numba_kernels = get_backend("numba")
    rng = np.random.RandomState(0)
    values = rng.normal(size=(60, 50)).astype(dtype)
    # Rows full of ties: the lowest column indices among the tied win.
    values[:10] = np.round(values[:10])
    values[10] = 1.0
    scores = values * rng.uniform(0.5, 2, size=50).astype(dtype)
    for n_active in (1, 5, 49):
        for chosen_on in (None, scores):
            reference = numpy_kernels.select(
                values, TopK(n_active), activation, chosen_on
            )
            ours = numba_kernels.select(values, TopK(n_active), activation, chosen_on)
            _assert_rows_equal(ours, reference, dtype)


@needs_numba
def test_top_k_selection_in_blocks_of_rows_matches_numpy():
    # Enough scores that each row block is partitioned in a thread of its
    # own (when there are several cores), with tied rows in every block.
    numba_kernels = get_backend("numba")
    rng = np.random.RandomState(3)
    values = rng.normal(size=(601, 1024))
    values[::7] = np.round(values[::7])
    for n_active in (1, 51, 200):
        _assert_rows_equal(
            numba_kernels.select(values, TopK(n_active), "relu"),
            numpy_kernels.select(values, TopK(n_active), "relu"),
            np.float64,
        )


def _quota_batches():
    """Batches with ties (values rounded to one decimal), repeated rows,
    float32, and integer and fractional row weights (some zero)."""
    rng = np.random.RandomState(2)
    for trial in range(24):
        dtype = (np.float64, np.float32)[trial % 2]
        values = rng.normal(size=(rng.randint(1, 40), rng.randint(2, 50)))
        if trial % 3 == 0:
            values = np.round(values, 1)
        values[: values.shape[0] // 2] = values[-(values.shape[0] // 2) :]
        weights = (None, rng.randint(0, 4, values.shape[0]).astype(float))[
            trial % 4 == 1
        ]
        if trial % 4 == 3:
            weights = rng.uniform(0, 2, values.shape[0])
        n_active = rng.randint(1, values.shape[1])
        yield values.astype(dtype), n_active, weights


@needs_numba
def test_quota_kernels_match_numpy():
    numba_kernels = get_backend("numba")
    for values, _, weights in _quota_batches():
        rows = np.empty(0) if weights is None else weights
        histograms = []
        for backend in (numba_kernels, numpy_kernels):
            counts = np.zeros(2**16, dtype=np.int32)
            sums = np.zeros(2**16 if weights is not None else 0)
            max_abs = backend.quota_histogram(values, rows, counts, sums)
            entries, entry_weights = (
                np.empty(values.size),
                np.empty(rows.size and values.size),
            )
            found = backend.quota_window(
                values, rows, -0.3, 0.4, entries, entry_weights
            )
            n_entries = found[0]
            histograms.append(
                (
                    counts,
                    sums,
                    max_abs,
                    found,
                    entries[:n_entries],
                    entry_weights[:n_entries],
                )
            )
        (counts, sums, max_abs, found, entries, entry_weights) = histograms[0]
        np.testing.assert_array_equal(counts, histograms[1][0])
        # Sums of the same weights in another order: round-off only.
        np.testing.assert_allclose(sums, histograms[1][1], rtol=1e-12)
        assert max_abs == histograms[1][2]
        assert found[0] == histograms[1][3][0] and found[2] == histograms[1][3][2]
        assert found[1] == pytest.approx(histograms[1][3][1], rel=1e-12)
        np.testing.assert_array_equal(entries, histograms[1][4])
        np.testing.assert_array_equal(entry_weights, histograms[1][5])


@pytest.mark.parametrize("backend", BACKENDS)
def test_quota_search_equals_the_batch_threshold(backend):
    # The histogram and window passes find exactly the partition's values,
    # in one chunk (a training batch) and in chunks of rows (settling).
    from sklearn_sparse_act._batch_quota import QuotaSearch
    from sklearn_sparse_act._sparsity import batch_threshold

    if backend == "numba" and not numba_available():
        pytest.skip("numba (the fast extra) not installed")
    kernels = get_backend(backend)
    for values, n_active, weights in _quota_batches():
        expected = batch_threshold(values, n_active, weights)
        assert kernels.batch_threshold(values, n_active, weights) == expected
        chunks = row_chunks(values.shape[0], 7)

        def value_chunks(reduce, values=values, weights=weights, chunks=chunks):
            for rows in chunks:
                yield reduce(values[rows], None if weights is None else weights[rows])

        def reduced_at_once(reduce, values=values, weights=weights, chunks=chunks):
            # Every chunk of a pass reduced, in threads, before the search
            # takes any: what a reduction finds depends on no earlier one.
            def reduced(rows):
                return reduce(values[rows], None if weights is None else weights[rows])

            with ThreadPoolExecutor(2) as pool:
                return list(pool.map(reduced, chunks))

        quota = n_active * (values.shape[0] if weights is None else weights.sum())
        # Exact search; a window guessed from every other row at the right
        # fraction; one guessed at a wrong fraction (the second pass runs);
        # one whose budget is too small (likewise).
        right, size = n_active / values.shape[1], values.size
        for guess in (None, (right, size), (0.9, size), (right, 1)):
            if guess is not None:
                guess = (values[::2], *guess)
            for chunked in (value_chunks, reduced_at_once):
                search = QuotaSearch(kernels, quota, values.dtype, weights is not None)
                if guess is not None:
                    search.guess_window(*guess)
                found = search.run(chunked, guessed=guess is not None)
                assert found == expected


@needs_numba
@pytest.mark.parametrize("inclusive", [True, False])
def test_threshold_selection_matches_numpy(inclusive):
    numba_kernels = get_backend("numba")
    rng = np.random.RandomState(1)
    values = np.round(rng.normal(size=(40, 30)), 1)
    for threshold in (-np.inf, 0.5, 10.0):
        rule = Threshold(threshold, inclusive=inclusive)
        _assert_rows_equal(
            numba_kernels.select(values, rule, "tanh"),
            numpy_kernels.select(values, rule, "tanh"),
            np.float64,
        )


@needs_numba
def test_top_k_keeps_exactly_k_winners_in_rows_with_nan():
    numba_kernels = get_backend("numba")
    values = np.array([[np.nan, 1.0, np.nan, 0.0], [np.nan] * 4])
    rows = numba_kernels.select(values, TopK(2), "identity")
    np.testing.assert_array_equal(rows.indptr, [0, 2, 4])
    np.testing.assert_array_equal(rows.indices, [0, 2, 0, 1])


@needs_numba
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_products_over_winners_match_numpy(dtype):
    numba_kernels = get_backend("numba")
    rng = np.random.RandomState(2)
    winners = _random_winners(rng, 70, 64, 0.1, dtype)
    # 45 units: the dense x winners gradient's last block of 8 is partial.
    upstream_winners = _random_winners(rng, 70, 45, 0.2, dtype)
    weights = rng.normal(size=(64, 45)).astype(dtype)
    bias = rng.normal(size=45).astype(dtype)
    dense_in = rng.normal(size=(70, 64)).astype(dtype)
    dense_delta = rng.normal(size=(70, 45)).astype(dtype)
    tolerance = TOLERANCES[dtype]

    def agree(function, *args):
        ours = getattr(numba_kernels, function)(*args)
        reference = getattr(numpy_kernels, function)(*args)
        if isinstance(reference, SparseRows):
            _assert_rows_equal(ours, reference, dtype)
        else:
            np.testing.assert_allclose(ours, reference, **tolerance)
            assert ours.dtype == dtype and ours.flags.c_contiguous

    agree("forward", winners, weights, bias)
    agree("forward", dense_in, weights, bias)
    agree("backward_product", upstream_winners, weights)
    agree("backward_product", dense_delta, weights)
    for activation in ACTIVATIONS:
        agree("delta_at_winners", dense_delta, weights, winners, activation)
        agree("delta_at_winners", upstream_winners, weights, winners, activation)
    for inputs in (winners, dense_in):
        for delta in (upstream_winners, dense_delta):
            agree("weight_gradient", inputs, delta, weights, 1e-3, 37.5)
    agree("bias_gradient", upstream_winners, 37.5)
    agree("bias_gradient", dense_delta, 37.5)
    agree("gather", dense_in, winners, "logistic")
    # A transposed array is not contiguous and takes NumPy's path.
    for arrays in ([weights, dense_in], [weights.T]):
        np.testing.assert_allclose(
            numba_kernels.squared_norm(arrays),
            numpy_kernels.squared_norm(arrays),
            **tolerance,
        )


@needs_numba
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_numba_squared_norm_has_the_same_bits_on_one_thread_and_two(dtype):
    import numba

    from sklearn_sparse_act._backends import _numba_parameters

    if numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("numba runs on one thread here")
    numba_kernels = get_backend("numba")
    rng = np.random.default_rng(0)
    # Twenty arrays of 25 blocks (the last one partial in half of them), so
    # that the sum runs in parallel; a sum split by the threads gave other
    # bits for most of them.
    arrays = [
        rng.standard_normal(102400 - (index % 2) * 7).astype(dtype)
        for index in range(20)
    ]
    assert min(array.size for array in arrays) > 24 * _numba_parameters.SUM_BLOCK
    sums = {}
    threads_before = numba.get_num_threads()
    try:
        for n_threads in (1, 2):
            numba.set_num_threads(n_threads)
            sums[n_threads] = [numba_kernels.squared_norm([array]) for array in arrays]
    finally:
        numba.set_num_threads(threads_before)
    assert sums[1] == sums[2]
    for array, total in zip(arrays, sums[1], strict=True):
        if dtype == np.float64:
            # Two sums of n non-negative terms in different orders: each is
            # within n * eps (2.3e-11 here) of the exact sum, relatively.
            assert total == pytest.approx(
                numpy_kernels.squared_norm([array]), rel=1e-10
            )
        else:
            # float32 squares (each within 6e-8 of its exact value) summed in
            # float64 (within n * eps of theirs); NumPy's twin sums in float32.
            exact = float(np.sum(array.astype(np.float64) ** 2))
            assert total == pytest.approx(exact, rel=1e-7)


def test_numpy_squared_norm_has_the_same_bits_on_any_number_of_blas_threads():
    """BLAS's dot product splits a vector of a million entries between its
    threads (OpenBLAS: other bits on 1 and 2 threads); the twin does not."""
    rng = np.random.default_rng(0)
    weights = rng.standard_normal((1024, 1024))
    sums = []
    for n_threads in (1, 2):
        with threadpool_limits(limits=n_threads, user_api="blas"):
            sums.append(numpy_kernels.squared_norm([weights, weights[:5]]))
    assert sums[0] == sums[1]
    assert sums[0] == pytest.approx(
        float(np.sum(weights**2) + np.sum(weights[:5] ** 2)), rel=1e-10
    )


@pytest.mark.parametrize("backend", backend_params())
@pytest.mark.parametrize("n_rows", [1, 5, 16, 17, 40])
def test_forward_over_winners_equals_the_dense_product(backend, n_rows):
    # Few rows take a row-by-row product over gathered weight rows on the
    # NumPy backend, more rows SciPy's CSR product; a row without winners
    # ('dynamic' can leave one) gets the bias alone.
    rng = np.random.RandomState(n_rows)
    width, fan_out = 48, 30
    counts = rng.randint(0, 10, size=n_rows)
    counts[n_rows // 2] = 0
    indptr = np.concatenate([[0], np.cumsum(counts)])
    indices = np.concatenate(
        [np.sort(rng.choice(width, count, replace=False)) for count in counts]
    ).astype(np.int64)
    winners = SparseRows(indptr, indices, rng.normal(size=indices.size), width)
    weights = rng.normal(size=(width, fan_out))
    bias = rng.normal(size=fan_out)

    values = get_backend(backend).forward(winners, weights, bias)

    expected = winners.to_csr().toarray() @ weights + bias
    np.testing.assert_allclose(values, expected, **TOLERANCES[np.float64])
    np.testing.assert_array_equal(values[n_rows // 2], bias)


@pytest.mark.parametrize("backend", backend_params())
@pytest.mark.parametrize("chunk_winners", [None, 8])
def test_delta_at_winners_equals_the_dense_product_there(
    monkeypatch, backend, chunk_winners
):
    # The NumPy backend gathers weight rows in chunks of winners of about
    # _GATHER_CHUNK_BYTES: one chunk here by default, or chunks of 8 winners
    # of which the last (of 420) is partial.
    if chunk_winners is not None:
        monkeypatch.setattr(
            numpy_kernels, "_GATHER_CHUNK_BYTES", chunk_winners * 45 * 8
        )
    rng = np.random.RandomState(5)
    winners = _random_winners(rng, 70, 64, 0.1, np.float64)
    assert winners.indices.size == 420
    weights = rng.normal(size=(64, 45))
    upstream = rng.normal(size=(70, 45))

    delta = get_backend(backend).delta_at_winners(upstream, weights, winners, "tanh")

    product = (upstream @ weights.T)[winners.rows(), winners.indices]
    expected = product * (1 - winners.values**2)
    np.testing.assert_array_equal(delta.indices, winners.indices)
    np.testing.assert_allclose(delta.values, expected, **TOLERANCES[np.float64])


@needs_numba
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_optimizer_steps_match_numpy(dtype):
    numba_kernels = get_backend("numba")
    rng = np.random.RandomState(3)
    shapes = [(30, 20), (20,), (20, 3)]

    def arrays():
        return [rng.normal(size=shape).astype(dtype) for shape in shapes]

    params, grads, firsts, seconds = arrays(), arrays(), arrays(), arrays()
    seconds = [np.abs(second) for second in seconds]
    results = {}
    for backend in (numpy_kernels, numba_kernels):
        state = [a.copy() for a in params + firsts + seconds]
        backend.adam_update(
            state[0:3], grads, state[3:6], state[6:9], 1e-3, (0.9, 0.999), 1e-8, {}
        )
        velocity_state = [a.copy() for a in params + firsts]
        for nesterov in (False, True):
            backend.sgd_update(
                velocity_state[0:3], grads, velocity_state[3:6], 0.1, 0.9, nesterov
            )
        results[backend.name] = state + velocity_state
    for ours, reference in zip(results["numba"], results["numpy"], strict=True):
        np.testing.assert_allclose(ours, reference, **TOLERANCES[dtype])


@needs_numba
def test_optimizer_updates_arrays_that_are_not_contiguous():
    numba_kernels = get_backend("numba")
    start = np.asfortranarray(np.random.RandomState(4).normal(size=(4, 3)))
    params = {}
    for backend in (numpy_kernels, numba_kernels):
        param = start.copy(order="F")
        velocity = np.ones((4, 3), order="F")
        backend.sgd_update([param], [np.ones((4, 3))], [velocity], 0.1, 0.9, False)
        params[backend.name] = param
    assert not np.allclose(params["numba"], start)
    np.testing.assert_allclose(params["numba"], params["numpy"], rtol=1e-15)


# ----------------------------------------------------------------------
# Whole fits: both backends, both paths
# ----------------------------------------------------------------------
FIT_CONFIGURATIONS = [
    dict(sparsity_strategy="fixed", activation="relu"),
    dict(sparsity_strategy="dynamic", activation="tanh"),
    dict(sparsity_strategy="fixed", activation="logistic", boost_strength=2.0),
    dict(
        sparsity_strategy="dynamic",
        activation="tanh",
        boost_strength=2.0,
        inference_ratio_factor=1.5,
    ),
    dict(sparsity_strategy="dynamic", activation="relu", solver="sgd"),
    dict(sparsity_strategy="fixed", activation="identity", solver="lbfgs"),
    dict(sparsity_strategy="dynamic", activation="relu", sparsity_warmup=3),
]


def _fit_classifier(params, X, y, sample_weight, dtype=np.float64):
    estimator = SparseMLPClassifier(
        hidden_layer_sizes=(64, 48),
        activation_ratio=[0.1, 0.05],
        max_iter=8,
        random_state=0,
        **params,
    )
    estimator.fit(X.astype(dtype), y, sample_weight=sample_weight)
    return estimator


def _assert_models_agree(ours, reference, X, dtype=np.float64):
    tolerance = TOLERANCES[dtype]
    for mine, theirs in zip(ours.coefs_, reference.coefs_, strict=True):
        np.testing.assert_allclose(mine, theirs, **tolerance)
    np.testing.assert_allclose(
        ours.predict_proba(X), reference.predict_proba(X), **tolerance
    )
    np.testing.assert_allclose(
        ours.hidden_activations(X, layer=1).toarray(),
        reference.hidden_activations(X, layer=1).toarray(),
        **tolerance,
    )
    np.testing.assert_array_equal(ours.dead_units_, reference.dead_units_)
    np.testing.assert_allclose(
        ours.duty_cycles_[0], reference.duty_cycles_[0], **tolerance
    )


@pytest.fixture(scope="module")
def classification_data():
    X, y = make_classification(
        n_samples=300, n_features=20, n_informative=10, n_classes=3, random_state=0
    )
    sample_weight = np.random.RandomState(0).uniform(0.5, 2, size=300)
    return X, y, sample_weight


@pytest.mark.parametrize("backend", backend_params())
@pytest.mark.parametrize("params", FIT_CONFIGURATIONS)
def test_dense_and_sparse_paths_agree(
    monkeypatch, classification_data, backend, params
):
    X, y, sample_weight = classification_data
    models = {}
    with config_context(kernels=backend):
        for path in ("dense", "sparse"):
            monkeypatch.setattr(
                get_backend(),
                "use_sparse_path",
                lambda n_active, width, fan_out, n_rows, sparse=path == "sparse": (
                    sparse and n_active < width
                ),
            )
            models[path] = _fit_classifier(params, X, y, sample_weight)
        _assert_models_agree(models["sparse"], models["dense"], X)


@needs_numba
@pytest.mark.parametrize("params", FIT_CONFIGURATIONS)
def test_backends_agree_on_whole_fits(classification_data, params):
    X, y, sample_weight = classification_data
    models = {}
    for backend in BACKENDS:
        with config_context(kernels=backend):
            models[backend] = _fit_classifier(params, X, y, sample_weight)
    with config_context(kernels="numpy"):
        _assert_models_agree(models["numba"], models["numpy"], X)


@needs_numba
@pytest.mark.parametrize("params", FIT_CONFIGURATIONS)
def test_backends_agree_in_float32(classification_data, params):
    # One model, its predictions and gradients on either backend: 1e-5.
    X, y, sample_weight = classification_data
    X = X.astype(np.float32)
    model = _fit_classifier(params, X, y, sample_weight, np.float32)
    Y = model._label_binarizer.transform(y).astype(np.float32)
    results = {}
    for backend in BACKENDS:
        with config_context(kernels=backend):
            proba = model.predict_proba(X)
            _, _, gradients = training_pass(
                model, X, Y, sample_weight.astype(np.float32)
            )
        results[backend] = [proba, *gradients.coef_grads, *gradients.intercept_grads]
        assert all(result.dtype == np.float32 for result in results[backend])
    for ours, reference in zip(results["numba"], results["numpy"], strict=True):
        np.testing.assert_allclose(ours, reference, rtol=1e-5, atol=1e-6)
    # Whole float32 fits: Adam divides by the root of tiny second moments,
    # which amplifies float32 round-off over the 8 epochs to about 1e-5
    # absolute in the weights; the bound leaves a 10x margin.
    with config_context(kernels="numpy"):
        reference = _fit_classifier(params, X, y, sample_weight, np.float32)
    for ours, theirs in zip(model.coefs_, reference.coefs_, strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-3, atol=1e-4)


@needs_numba
@pytest.mark.parametrize(
    "params", [{}, dict(sparsity_strategy="dynamic", loss="poisson")]
)
def test_backends_agree_on_regression_with_sparse_input(params):
    X, y = make_regression(n_samples=200, n_features=30, n_targets=2, random_state=0)
    X[np.abs(X) < 1] = 0
    X = sp.csr_matrix(X)
    y = np.abs(y) / 100
    predictions = []
    for backend in BACKENDS:
        with config_context(kernels=backend):
            model = SparseMLPRegressor(
                hidden_layer_sizes=(80, 40),
                activation_ratio=0.05,
                max_iter=5,
                random_state=0,
                **params,
            ).fit(X, y)
            predictions.append(model.predict(X))
    np.testing.assert_allclose(predictions[1], predictions[0], rtol=1e-10, atol=1e-12)


@needs_numba
def test_backends_give_the_same_gradients(classification_data):
    X, y, sample_weight = classification_data
    model = _fit_classifier(
        dict(sparsity_strategy="dynamic", activation="tanh"), X, y, None
    )
    Y = model._label_binarizer.transform(y).astype(float)
    grads = {}
    for backend in BACKENDS:
        with config_context(kernels=backend):
            loss, _, gradients = training_pass(model, X, Y, sample_weight)
        grads[backend] = [loss, *gradients.coef_grads, *gradients.intercept_grads]
    for ours, reference in zip(grads["numba"], grads["numpy"], strict=True):
        np.testing.assert_allclose(ours, reference, rtol=1e-10, atol=1e-13)


# ----------------------------------------------------------------------
# The cost model
# ----------------------------------------------------------------------
@pytest.mark.parametrize("backend", backend_params())
def test_cost_model_is_sparse_below_some_ratio_and_dense_above(backend):
    use_sparse_path = get_backend(backend).use_sparse_path
    for n_rows in (1, 200):
        for width in (64, 256, 1024, 4096):
            decisions = [
                use_sparse_path(n_active, width, 1024, n_rows)
                for n_active in range(1, width + 1)
            ]
            switch = decisions.index(False)
            assert not any(decisions[switch:])
            assert not use_sparse_path(width, width, 1024, n_rows)
    assert use_sparse_path(10, 1024, 1024, 200)
    assert use_sparse_path(102, 1024, 1024, 1)


@needs_numba
def test_work_is_counted_where_it_runs():
    # 10 inputs -> 64 units (6 winners, on the numba sparse path) -> 3 outputs.
    rng = np.random.RandomState(0)
    coefs = [rng.normal(size=(10, 64)), rng.normal(size=(64, 3))]
    intercepts = [np.zeros(64), np.zeros(3)]
    network = Network(coefs, intercepts, "relu", "softmax", get_backend("numba"))
    prediction = network.work([6], n_rows=5, training=False)
    # BLAS: the first product; kernels: each winner's row of the output
    # weights; selection: every score of the hidden layer.
    assert prediction == Work(
        blas_madds=5 * 10 * 64, kernel_madds=5 * 6 * 3, selected_scores=5 * 64
    )
    step = network.work([6], n_rows=5, training=True)
    # Training adds the first layer's gradient at the winners (10 x 6 per
    # row), the output layer's gradient and the delta at the winners (6 x 3
    # each) and every parameter of the optimizer step.
    assert step == Work(
        blas_madds=5 * 10 * 64,
        kernel_madds=5 * (10 * 6 + 3 * 6 * 3),
        selected_scores=5 * 64,
        parameters=10 * 64 + 64 * 3 + 64 + 3,
    )


@needs_numba
def test_numba_gives_the_cores_to_its_kernels_only_for_sparse_work():
    numba_kernels = get_backend("numba")
    rng = np.random.RandomState(0)
    coefs = [rng.normal(size=(100, 1024)), rng.normal(size=(1024, 1024))]
    coefs.append(rng.normal(size=(1024, 10)))
    intercepts = [np.zeros(1024), np.zeros(1024), np.zeros(10)]
    network = Network(coefs, intercepts, "relu", "softmax", numba_kernels)
    for training in (False, True):
        dense = network.work([1024, 1024], 200, training)
        sparse = network.work([51, 51], 200, training)
        assert not cost_model.kernels_take_the_cores(dense)
        assert cost_model.kernels_take_the_cores(sparse)


@pytest.mark.parametrize(
    "n_rows, chunk_rows", [(0, 5), (1, 5), (10, 4), (10, 10), (1000, 512), (7, 1)]
)
def test_row_chunks_cover_the_rows_in_order_in_equal_chunks(n_rows, chunk_rows):
    chunks = row_chunks(n_rows, chunk_rows)
    covered = [row for rows in chunks for row in range(rows.start, rows.stop)]
    assert covered == list(range(n_rows))
    lengths = [rows.stop - rows.start for rows in chunks]
    assert all(0 < length <= chunk_rows for length in lengths)
    assert max(lengths, default=0) - min(lengths, default=0) <= 1
    assert len(chunks) == -(-n_rows // chunk_rows)


def _blas_threads():
    return max(
        info["num_threads"] for info in threadpool_info() if info["user_api"] == "blas"
    )


@pytest.mark.parametrize("backend", backend_params())
@pytest.mark.parametrize("kernels_heavy", [False, True])
def test_map_row_chunks_calls_every_chunk_once_in_order(backend, kernels_heavy):
    backend = get_backend(backend)
    heavy = Work(kernel_madds=10**9) if kernels_heavy else Work(blas_madds=10**9)
    blas_before = _blas_threads()
    facts = backend.map_row_chunks(
        lambda rows: (rows, threading.get_ident()), 1000, 300, lambda rows: heavy
    )
    chunks = [rows for rows, _ in facts]
    covered = [row for rows in chunks for row in range(rows.start, rows.stop)]
    assert covered == list(range(1000))
    assert all(rows.stop - rows.start <= 300 for rows in chunks)
    assert _blas_threads() == blas_before
    if backend.name == "numpy" or not kernels_heavy:
        assert {thread for _, thread in facts} == {threading.get_ident()}


@pytest.mark.parametrize("backend", backend_params())
@pytest.mark.parametrize("method", ["predict_proba", "predict"])
def test_a_prediction_in_chunks_is_its_chunks_predicted_one_by_one(
    backend, method, monkeypatch
):
    from sklearn_sparse_act import _prediction

    X, y = make_classification(
        n_samples=200, n_features=12, n_classes=3, n_informative=6, random_state=0
    )
    with config_context(kernels=backend):
        model = SparseMLPClassifier(
            hidden_layer_sizes=(40, 24),
            activation_ratio=0.2,
            max_iter=30,
            random_state=0,
        ).fit(X, y)
        # Chunks of 7 rows of the widest layer: 200 rows in 29 chunks.
        monkeypatch.setattr(_prediction, "_PREDICT_CHUNK_BYTES", 7 * 40 * 8)
        chunked = getattr(model, method)(X)
        # Each chunk on its own is one chunk: the same products on the same
        # rows, so the same numbers by construction.
        chunks = row_chunks(X.shape[0], 7)
        assert len(chunks) == 29
        one_by_one = np.concatenate(
            [getattr(model, method)(X[rows]) for rows in chunks]
        )
    assert chunked.shape == one_by_one.shape
    np.testing.assert_array_equal(chunked, one_by_one)


@needs_numba
def test_numba_runs_kernel_heavy_prediction_chunks_in_serial_lanes():
    from sklearn_sparse_act._backends import _numba_threads

    numba_kernels = get_backend("numba")
    if _numba_threads._thread_budget() < 2:
        pytest.skip("one core: no lanes")
    blas_before = _blas_threads()

    def chunk_facts(rows):
        # In a lane, the kernels run serially and BLAS on one thread.
        return (
            rows,
            threading.get_ident(),
            numba_kernels.runs_parallel(1000, 1.0),
            _blas_threads(),
        )

    facts = numba_kernels.map_row_chunks(
        chunk_facts, 1000, 100, lambda rows: Work(kernel_madds=10**9)
    )
    chunks = [rows for rows, _, _, _ in facts]
    assert [row for rows in chunks for row in range(rows.start, rows.stop)] == list(
        range(1000)
    )
    n_lanes = len({thread for _, thread, _, _ in facts})
    assert n_lanes >= 2
    # The chunks in flight at once hold no more rows than one chunk would
    # (or the fewest rows of a lane each, on a machine of many cores).
    longest = max(rows.stop - rows.start for rows in chunks)
    assert n_lanes * longest <= max(100, n_lanes * cost_model.MIN_PARALLEL_ROWS)
    assert not any(parallel for _, _, parallel, _ in facts)
    assert {blas for _, _, _, blas in facts} == {1}
    assert _blas_threads() == blas_before
    assert numba_kernels.runs_parallel(1000, 1.0)

    def failing(rows):
        if rows.start > 0:
            raise RuntimeError(f"chunk at row {rows.start}")
        return rows

    with pytest.raises(RuntimeError, match="chunk at row"):
        numba_kernels.map_row_chunks(
            failing, 1000, 100, lambda rows: Work(kernel_madds=10**9)
        )
    assert _blas_threads() == blas_before
    assert numba_kernels.runs_parallel(1000, 1.0)


@needs_numba
def test_numba_prediction_chunks_do_not_change_with_the_thread_count():
    """The rows of each chunk, and with them the rounding of BLAS's products,
    are the same with one lane as with several."""
    import numba

    from sklearn_sparse_act._backends import _numba_threads

    if min(_numba_threads._thread_budget(), _numba_threads._MACHINE_CORES) < 2:
        pytest.skip("one core: no lanes")
    numba_kernels = get_backend("numba")

    def chunks_and_lanes():
        facts = numba_kernels.map_row_chunks(
            lambda rows: (rows, threading.get_ident()),
            1000,
            300,
            lambda rows: Work(kernel_madds=10**9),
        )
        return [rows for rows, _ in facts], len({thread for _, thread in facts})

    threads_before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one_thread, one_lane = chunks_and_lanes()
        numba.set_num_threads(2)
        two_threads, two_lanes = chunks_and_lanes()
        with threadpool_limits(limits=1, user_api="blas"):
            one_blas_thread, _ = chunks_and_lanes()
    finally:
        numba.set_num_threads(threads_before)
    assert (one_lane, two_lanes) == (1, 2)
    assert one_thread == two_threads == one_blas_thread


@pytest.mark.parametrize("backend", backend_params())
def test_streamed_row_chunks_come_in_order_and_leave_blas_between_them(backend):
    backend = get_backend(backend)
    blas_before = _blas_threads()
    lock = threading.Lock()
    computed_rows, threads_seen = [0], set()

    def chunk_facts(rows):
        with lock:
            computed_rows[0] += rows.stop - rows.start
            threads_seen.add(threading.get_ident())
        return rows

    stream = backend.stream_row_chunks(
        chunk_facts, 1000, 200, lambda rows: Work(kernel_madds=10**9)
    )
    chunks, taken_rows, held_rows = [], 0, []
    for rows in stream:
        # Between two chunks the caller runs with BLAS as it found it.
        assert _blas_threads() == blas_before
        held_rows.append(computed_rows[0] - taken_rows)
        taken_rows += rows.stop - rows.start
        chunks.append(rows)
    covered = [row for rows in chunks for row in range(rows.start, rows.stop)]
    assert covered == list(range(1000))
    # The chunks computed but not yet taken hold at most 200 rows (or the
    # fewest rows of a lane each, on a machine of many cores).
    lanes = 1 if backend.name == "numpy" else _numba_lanes()
    assert max(held_rows) <= max(200, lanes * cost_model.MIN_PARALLEL_ROWS)
    if lanes == 1:
        assert threads_seen == {threading.get_ident()}
    else:
        assert len(threads_seen) >= 2


def _numba_lanes():
    from sklearn_sparse_act._backends import _numba_threads

    return min(_numba_threads._thread_budget(), _numba_threads._MACHINE_CORES)


@needs_numba
def test_predictions_in_lanes_equal_those_of_parallel_kernels(monkeypatch):
    from sklearn_sparse_act._backends import _numba_threads

    X, y = make_classification(800, 20, n_informative=10, n_classes=3, random_state=0)
    with config_context(kernels="numba"):
        model = SparseMLPClassifier(
            (128, 128), activation_ratio=0.1, max_iter=5, random_state=0
        ).fit(X, y)
        predictions = {}
        for lanes in (False, True):
            # The training steps' assignment and the lanes' decision.
            for module in (_numba_threads, cost_model):
                monkeypatch.setattr(
                    module, "kernels_take_the_cores", lambda work, lanes=lanes: lanes
                )
            predictions[lanes] = (
                model.predict_proba(X),
                model.hidden_activations(X),
                model._winners_on(X),
            )
    # The kernels compute every row alike on one thread or several; only the
    # first layer's BLAS product may round differently on another thread count.
    np.testing.assert_allclose(predictions[True][0], predictions[False][0], rtol=1e-12)
    np.testing.assert_allclose(
        predictions[True][1].toarray(), predictions[False][1].toarray(), rtol=1e-12
    )
    (winners, finite), (reference, reference_finite) = (
        predictions[True][2],
        predictions[False][2],
    )
    assert finite and reference_finite
    for layer_winners, layer_reference in zip(winners, reference, strict=True):
        np.testing.assert_array_equal(layer_winners, layer_reference)


@needs_numba
@pytest.mark.parametrize("inference_ratio_factor", [1.0, 1.5])
def test_settling_in_lanes_equals_settling_chunk_by_chunk(
    monkeypatch, inference_ratio_factor
):
    # The end of a 'dynamic' fit settles the thresholds (and records the
    # training winners, or calibrates the inference thresholds) over chunks
    # of rows, two at a time in lanes when the kernels take the cores, as
    # many lanes as the fit's budget of cores allows.
    from sklearn_sparse_act._backends import _numba_threads

    if _numba_lanes() < 2:
        pytest.skip("one core: no lanes")
    X, y = make_classification(1200, 20, n_informative=10, n_classes=3, random_state=0)
    lane_calls = []
    run_lane = _numba_threads._run_lane

    def counted_run_lane(function, chunks):
        lane_calls.append(threading.get_ident())
        return run_lane(function, chunks)

    monkeypatch.setattr(_numba_threads, "_run_lane", counted_run_lane)
    fitted = {}
    for lanes in (False, True):
        # The lanes' decision only: the training steps run alike.
        monkeypatch.setattr(
            _numba_threads,
            "predicts_in_lanes",
            lambda n_rows, work, lanes=lanes: lanes,
        )
        lane_calls.clear()
        with config_context(kernels="numba"):
            fitted[lanes] = SparseMLPClassifier(
                (96, 64),
                activation_ratio=0.1,
                sparsity_strategy="dynamic",
                inference_ratio_factor=inference_ratio_factor,
                batch_size=100,
                max_iter=2,
                random_state=0,
            ).fit(X, y)
        # Lanes ran (or did not) in the passes over the training rows, two
        # at once although the training steps gave the cores to BLAS.
        assert len(set(lane_calls)) >= 2 if lanes else not lane_calls
    serial, in_lanes = fitted[False], fitted[True]
    # The same weights by construction; the settling passes' BLAS products
    # may round differently in chunks of other sizes, on one thread.
    for coef, lane_coef in zip(serial.coefs_, in_lanes.coefs_, strict=True):
        np.testing.assert_array_equal(coef, lane_coef)
    for name in ("activation_thresholds_", "inference_thresholds_"):
        np.testing.assert_allclose(
            getattr(in_lanes, name), getattr(serial, name), rtol=1e-12
        )
    for won, lane_won in zip(
        serial._training_winners, in_lanes._training_winners, strict=True
    ):
        np.testing.assert_array_equal(lane_won, won)


# ----------------------------------------------------------------------
# Import and first use of the numba backend
# ----------------------------------------------------------------------
# Run in a fresh interpreter: imports the numba backend, reports what the
# import did, then makes a first use of it (FIRST_USE) while recording every
# launch of numba's threading layer with the OpenMP wait policy it saw.
_IMPORT_AND_FIRST_USE = """
import json, os, sys
environment_before = dict(os.environ)
import numba
from numba.core.registry import CPUDispatcher
from numba.np.ufunc import parallel

import sklearn_sparse_act._backends.numba_kernels as numba_kernels


def threads_started():
    try:
        numba.threading_layer()
    except ValueError:  # "Threading layer is not initialized."
        return False
    return True


def compiled_kernels():
    return sorted(
        f"{module_name}.{name}"
        for module_name, module in list(sys.modules.items())
        if module_name.startswith("sklearn_sparse_act")
        for name, value in vars(module).items()
        if isinstance(value, CPUDispatcher) and value.overloads
    )


facts = {
    "started at import": threads_started(),
    "compiled at import": compiled_kernels(),
    "environment changed at import": dict(os.environ) != environment_before,
}
launches = []
launch_threads = parallel._launch_threads


def recorded_launch():
    launches.append([threads_started(), os.environ.get("OMP_WAIT_POLICY")])
    launch_threads()


parallel._launch_threads = recorded_launch
import numpy as np
from sklearn_sparse_act import SparseMLPClassifier, config_context
from sklearn_sparse_act._sparsity import TopK

values = np.random.default_rng(0).normal(size=(64, 100))
FIRST_USE
facts["first launch"] = launches[0] if launches else None
facts["started after use"] = threads_started()
facts["compiled after use"] = bool(compiled_kernels())
facts["environment changed by use"] = dict(os.environ) != environment_before
print(json.dumps(facts))
"""

FIRST_USES = {
    "fit": (
        "with config_context(kernels='numba'):\n"
        "    SparseMLPClassifier((32,), max_iter=1).fit(values, values[:, 0] > 0)"
    ),
    # Wide enough rows that the selection pays for a parallel region.
    "select": "numba_kernels.select(np.tile(values, 40), TopK(5), 'relu')",
    "squared_norm": "numba_kernels.squared_norm([values])",
}


@needs_numba
@pytest.mark.parametrize(
    "first_use, chosen_policy",
    # Each case is a fresh interpreter (seconds): a first use through the
    # estimator, one through each kind of kernel (a selection, a reduction),
    # one of them under a policy the user chose.
    [("fit", None), ("squared_norm", None), ("select", "ACTIVE")],
)
def test_importing_numba_kernels_starts_no_threads_and_compiles_nothing(
    first_use, chosen_policy
):
    """Threads are started, with passive waiting unless the user chose a
    policy, by the first use; the environment is never left changed."""
    import json
    import subprocess
    import sys

    environment = {
        name: value for name, value in os.environ.items() if name != "OMP_WAIT_POLICY"
    }
    if chosen_policy is not None:
        environment["OMP_WAIT_POLICY"] = chosen_policy
    # The package under test, whatever the working directory.
    package_root = str(Path(sklearn_sparse_act.__file__).parents[1])
    environment["PYTHONPATH"] = os.pathsep.join(
        [package_root, *filter(None, [os.environ.get("PYTHONPATH")])]
    )
    code = _IMPORT_AND_FIRST_USE.replace("FIRST_USE", FIRST_USES[first_use])
    result = subprocess.run(
        [sys.executable, "-c", code], env=environment, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    facts = json.loads(result.stdout)
    assert facts == {
        "started at import": False,
        "compiled at import": [],
        "environment changed at import": False,
        # The first launch started the threads, under the policy.
        "first launch": [False, chosen_policy or "PASSIVE"],
        "started after use": True,
        "compiled after use": True,
        "environment changed by use": False,
    }


# One pair made by the factory of twins, the parallel counting of the winners
# against a threshold and its serial twin (each kernel compiled cold costs
# seconds, so the other pairs, made by the same factory, are left out);
# prints, per kernel used, its function's name, its cache hits and its misses.
_SELECTIONS_CACHED = """
import json
import numpy as np
from numba.core.registry import CPUDispatcher
from sklearn_sparse_act._backends import numba_kernels

values = np.random.default_rng(0).normal(size=(64, 100))
counts = np.empty(64, dtype=np.int64)
for count_above in (numba_kernels.count_above, numba_kernels.count_above_serial):
    count_above(values, 1.0, False, counts)
print(json.dumps({
    name: [
        kernel.py_func.__qualname__,
        sum(kernel.stats.cache_hits.values()),
        sum(kernel.stats.cache_misses.values()),
    ]
    for name, kernel in vars(numba_kernels).items()
    if isinstance(kernel, CPUDispatcher) and kernel.overloads
}))
"""


@needs_numba
def test_parallel_kernels_and_their_serial_twins_are_cached_apart(tmp_path):
    """A second process loads every kernel from numba's on-disk cache, and
    each twin from files of its own (twins sharing an entry would load each
    other's code)."""
    import json
    import subprocess
    import sys

    package_root = str(Path(sklearn_sparse_act.__file__).parents[1])
    environment = dict(
        os.environ,
        NUMBA_CACHE_DIR=str(tmp_path),
        PYTHONPATH=os.pathsep.join(
            [package_root, *filter(None, [os.environ.get("PYTHONPATH")])]
        ),
    )
    runs = []
    for _ in range(2):
        result = subprocess.run(
            [
                sys.executable,
                "-W",
                "error:Cannot cache compiled function",
                "-c",
                _SELECTIONS_CACHED,
            ],
            env=environment,
            capture_output=True,
            text=True,
        )
        assert result.returncode == 0, result.stderr
        runs.append(json.loads(result.stdout))
    used = ["count_above", "count_above_serial"]
    assert sorted(runs[0]) == sorted(runs[1]) == used
    # Compiled once each in the first process, loaded in the second.
    assert all(hits == 0 and misses == 1 for _, hits, misses in runs[0].values())
    assert all(hits == 1 and misses == 0 for _, hits, misses in runs[1].values())
    # Each kernel's index file is named after its function.
    index_files = sorted(path.name.split("-")[0] for path in tmp_path.rglob("*.nbi"))
    assert index_files == sorted(
        f"_numba_selection.{qualname}" for qualname, _, _ in runs[1].values()
    )
    assert len(set(index_files)) == len(used)


# ----------------------------------------------------------------------
# The switch
# ----------------------------------------------------------------------
def test_config_context_switches_backends_and_restores():
    initial = get_config()["kernels"]
    with config_context(kernels="numpy"):
        assert get_backend().name == "numpy"
        assert get_config()["kernels"] == "numpy"
    assert get_config()["kernels"] == initial
    with config_context(kernels="auto"):
        assert get_backend().name == ("numba" if numba_available() else "numpy")


def _kernels_in_a_new_thread():
    """The ``kernels`` setting a thread started now sees."""
    seen = []
    thread = threading.Thread(target=lambda: seen.append(get_config()["kernels"]))
    thread.start()
    thread.join()
    return seen[0]


def test_config_context_is_per_thread():
    """A setting made in one thread is not seen by any other, and each
    thread's setting is restored when its context ends."""
    initial = _kernels_in_a_new_thread()
    main_setting = get_config()["kernels"]
    # Settings that differ from what the other threads have.
    ours = "numpy" if initial != "numpy" else "auto"
    theirs = "numpy" if main_setting != "numpy" else "auto"

    with config_context(kernels=ours):
        assert get_config()["kernels"] == ours
        assert _kernels_in_a_new_thread() == initial

    inside, leave = threading.Event(), threading.Event()
    seen = {}

    def other_thread():
        with config_context(kernels=theirs):
            seen["inside"] = get_config()["kernels"]
            inside.set()
            leave.wait(timeout=60)
        seen["after"] = get_config()["kernels"]

    thread = threading.Thread(target=other_thread)
    thread.start()
    try:
        assert inside.wait(timeout=60)
        assert get_config()["kernels"] == main_setting
        assert get_backend().name == get_backend(main_setting).name
        assert _kernels_in_a_new_thread() == initial
    finally:
        leave.set()
        thread.join()
    assert seen == {"inside": theirs, "after": initial}
    assert get_config()["kernels"] == main_setting


def test_config_rejects_an_unknown_backend():
    initial = get_config()["kernels"]
    with pytest.raises(ValueError, match="kernels"):
        set_config(kernels="cuda")
    assert get_config()["kernels"] == initial


@pytest.mark.parametrize("kernels", ["numpy", "auto"])
def test_the_environment_sets_the_initial_backend(kernels):
    import subprocess
    import sys

    code = (
        "import sklearn_sparse_act as s; "
        "print(s.get_config()['kernels'], s._backends.get_backend().name)"
    )
    environment = dict(os.environ, SKLEARN_SPARSE_ACT_KERNELS=kernels)
    result = subprocess.run(
        [sys.executable, "-c", code], env=environment, capture_output=True, text=True
    )
    expected = "numba" if kernels == "auto" and numba_available() else "numpy"
    assert result.stdout.split() == [kernels, expected]


def test_an_unknown_backend_in_the_environment_is_named():
    import subprocess
    import sys

    environment = dict(os.environ, SKLEARN_SPARSE_ACT_KERNELS="cuda")
    result = subprocess.run(
        [sys.executable, "-c", "import sklearn_sparse_act"],
        env=environment,
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert "SKLEARN_SPARSE_ACT_KERNELS must be one of auto, numpy, numba" in (
        result.stderr
    )


def test_numba_requested_without_numba_says_how_to_install(monkeypatch):
    from sklearn_sparse_act import _config

    monkeypatch.setattr(_config, "numba_available", lambda: False)
    with pytest.raises(ImportError, match=r"sklearn-sparse-act\[fast\]"):
        set_config(kernels="numba")
    assert get_backend("auto").name == "numpy"


@needs_numba
def test_numba_predictions_leave_thread_settings_as_they_were():
    import numba

    X, y = make_classification(n_samples=400, n_features=20, random_state=0)
    model = SparseMLPClassifier(
        hidden_layer_sizes=(256,), activation_ratio=0.05, max_iter=3, random_state=0
    )
    threads_before = numba.get_num_threads()
    blas_before = [info["num_threads"] for info in threadpool_info()]
    with config_context(kernels="numba"):
        model.fit(X, y)
        model.predict(X)
        model.predict(X[:1])
    assert numba.get_num_threads() == threads_before
    assert [info["num_threads"] for info in threadpool_info()] == blas_before


@needs_numba
@pytest.mark.usefixtures("numba_kernels_chosen")
def test_steps_over_small_arrays_run_on_one_thread(monkeypatch):
    """With the module's cost of a parallel region, a training step wakes
    numba's threads only for arrays whose estimated work pays for it: the
    Adam step runs on every thread over the large weight matrices and on one
    over the biases and the small output layer; the penalty's sum of
    squares, cheaper per entry, runs on one over all of these. The product
    over the winners into the wide layer runs in parallel, the one into the
    three outputs on its serial twin."""
    import numba

    from sklearn_sparse_act._backends import _numba_steps

    n_threads = numba.get_num_threads()
    if n_threads < 2:
        pytest.skip("numba runs on one thread here")
    monkeypatch.setattr(cost_model, "REGION_WAKE_SECONDS", REGION_WAKE_SECONDS)
    threads_by_size = {}
    kernels = {
        "adam_step": cost_model.PARAMETER_SECONDS,
        "sum_of_squares": cost_model.SQUARED_ENTRY_SECONDS,
    }

    def recorded(name):
        kernel = getattr(_numba_steps, name)

        def run(param, *args):
            seen = threads_by_size.setdefault(name, {}).setdefault(param.size, set())
            seen.add(numba.get_num_threads())
            return kernel(param, *args)

        return run

    for name in kernels:
        monkeypatch.setattr(_numba_steps, name, recorded(name))
    # The products over winners: which twin each layer's product takes, by
    # its number of outputs.
    numba_kernels = get_backend("numba")
    products = {}

    def recorded_product(name):
        kernel = getattr(numba_kernels, name)

        def run(*args):
            products.setdefault(name, set()).add(args[-1].shape[1])
            return kernel(*args)

        return run

    for name in ("sparse_forward", "sparse_forward_serial"):
        monkeypatch.setattr(numba_kernels, name, recorded_product(name))
    X, y = make_classification(
        n_samples=400, n_features=64, n_informative=20, n_classes=3, random_state=0
    )
    with config_context(kernels="numba"):
        SparseMLPClassifier(
            (1024, 256), activation_ratio=0.05, max_iter=1, random_state=0
        ).fit(X, y)
    assert numba.get_num_threads() == n_threads
    coefs = {64 * 1024, 1024 * 256, 256 * 3}
    arrays = {"adam_step": coefs | {1024, 256, 3}, "sum_of_squares": coefs}
    for name, seconds in kernels.items():
        assert set(threads_by_size[name]) == arrays[name]
        for size, seen in threads_by_size[name].items():
            pays = size * seconds * (1 - 1 / n_threads) > REGION_WAKE_SECONDS
            assert seen == ({n_threads} if pays else {1}), (name, size)
    adam = threads_by_size["adam_step"]
    assert adam[64 * 1024] == adam[1024 * 256] == {n_threads}
    assert adam[1024] == adam[256] == adam[3] == {1}
    # A batch's 200 rows x 51 winners x 256 outputs pay for a region, x 3
    # (after the second layer's 13 winners) do not. (The pass over the
    # training rows at the end of fit runs serial twins in lanes.)
    assert products["sparse_forward"] == {256}
    assert 3 in products["sparse_forward_serial"]
