"""Out-of-core training: ``partial_fit`` over chunks from disk or from dask.

A model trained chunk by chunk from a memory-mapped file, or from the blocks of
a dask array, must be bitwise the model trained on the same chunks held in
memory, must learn, and must stay within the memory the documentation
promises: two chunks plus the model, whatever the size of the file.
"""

import importlib.util
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.utils import gen_batches

from sklearn_sparse_act import SparseMLPClassifier

N_TRAIN = 3000
CHUNK_ROWS = 500
EPOCHS = 4
BENCHMARK_PATH = Path(__file__).parent.parent / "benchmarks" / "bench_out_of_core.py"


@pytest.fixture(scope="module")
def problem():
    """A 3-class problem: 3000 training rows (6 chunks) and 1000 held out."""
    X, y = make_classification(
        n_samples=N_TRAIN + 1000,
        n_features=20,
        n_informative=10,
        n_redundant=0,
        n_classes=3,
        n_clusters_per_class=1,
        class_sep=1.5,
        random_state=0,
    )
    return X[:N_TRAIN], y[:N_TRAIN], X[N_TRAIN:], y[N_TRAIN:]


@pytest.fixture(scope="module")
def npy_files(problem, tmp_path_factory):
    """The training rows saved as ``X.npy`` and ``y.npy``."""
    X_train, y_train, _, _ = problem
    directory = tmp_path_factory.mktemp("out_of_core")
    np.save(directory / "X.npy", X_train)
    np.save(directory / "y.npy", y_train)
    return directory / "X.npy", directory / "y.npy"


def make_model(sparsity_strategy="fixed"):
    return SparseMLPClassifier(
        hidden_layer_sizes=(64,),
        activation_ratio=0.25,
        sparsity_strategy=sparsity_strategy,
        learning_rate_init=0.01,
        random_state=0,
    )


def train_over_chunks(model, make_chunks, classes, epochs=EPOCHS):
    """``epochs`` passes of ``partial_fit``, one call per chunk."""
    first_call = True
    for _ in range(epochs):
        for X_chunk, y_chunk in make_chunks():
            if first_call:
                model.partial_fit(X_chunk, y_chunk, classes=classes)
                first_call = False
            else:
                model.partial_fit(X_chunk, y_chunk)
    return model


def in_memory_chunks(X, y):
    def make_chunks():
        for rows in gen_batches(X.shape[0], CHUNK_ROWS):
            yield X[rows], y[rows]

    return make_chunks


def assert_same_model(model, reference):
    assert model.t_ == reference.t_
    for param, reference_param in zip(
        model.coefs_ + model.intercepts_,
        reference.coefs_ + reference.intercepts_,
        strict=True,
    ):
        np.testing.assert_array_equal(param, reference_param)
    if reference.activation_thresholds_ is None:
        assert model.activation_thresholds_ is None
    else:
        np.testing.assert_array_equal(
            model.activation_thresholds_, reference.activation_thresholds_
        )


def load_benchmark():
    spec = importlib.util.spec_from_file_location("bench_out_of_core", BENCHMARK_PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("sparsity_strategy", ["fixed", "dynamic"])
def test_partial_fit_over_memmap_chunks(problem, npy_files, sparsity_strategy):
    X_train, y_train, X_test, y_test = problem
    x_path, y_path = npy_files
    X_disk = np.load(x_path, mmap_mode="r")
    y_disk = np.load(y_path, mmap_mode="r")
    assert isinstance(X_disk, np.memmap)
    assert X_disk.shape[0] > 4 * CHUNK_ROWS

    def disk_chunks():
        for rows in gen_batches(X_disk.shape[0], CHUNK_ROWS):
            yield X_disk[rows], y_disk[rows]

    classes = np.unique(y_train)
    from_disk = train_over_chunks(make_model(sparsity_strategy), disk_chunks, classes)
    from_memory = train_over_chunks(
        make_model(sparsity_strategy), in_memory_chunks(X_train, y_train), classes
    )

    assert from_disk.t_ == EPOCHS * N_TRAIN
    assert from_disk.n_features_in_ == X_train.shape[1]
    np.testing.assert_array_equal(from_disk.classes_, classes)
    assert_same_model(from_disk, from_memory)
    assert from_disk.score(X_test, y_test) > 0.8


def test_window_reader_of_the_recipe_matches_whole_file_memmap(problem, npy_files):
    """The benchmark's and docs' one-chunk-at-a-time reader reads the file's
    rows in order and trains the same model as slicing the whole memmap."""
    bench = load_benchmark()
    X_train, y_train, _, _ = problem
    x_path, y_path = map(str, npy_files)

    windows = list(bench.iter_chunks(x_path, y_path, CHUNK_ROWS, reader="window"))
    assert len(windows) == N_TRAIN // CHUNK_ROWS
    assert all(isinstance(X_chunk, np.memmap) for X_chunk, _ in windows)
    np.testing.assert_array_equal(np.vstack([X for X, _ in windows]), X_train)
    np.testing.assert_array_equal(np.concatenate([y for _, y in windows]), y_train)
    del windows

    classes = np.unique(y_train)
    by_window = train_over_chunks(
        make_model(),
        lambda: bench.iter_chunks(x_path, y_path, CHUNK_ROWS, reader="window"),
        classes,
    )
    by_memmap = train_over_chunks(
        make_model(),
        lambda: bench.iter_chunks(x_path, y_path, CHUNK_ROWS, reader="memmap"),
        classes,
    )
    assert by_window.t_ == EPOCHS * N_TRAIN
    assert_same_model(by_window, by_memmap)


def test_partial_fit_over_dask_blocks(problem, npy_files):
    da = pytest.importorskip("dask.array")
    X_train, y_train, X_test, y_test = problem
    x_path, y_path = npy_files
    X_dask = da.from_array(np.load(x_path, mmap_mode="r"), chunks=(CHUNK_ROWS, -1))
    y_dask = da.from_array(np.load(y_path, mmap_mode="r"), chunks=CHUNK_ROWS)
    assert X_dask.numblocks == (N_TRAIN // CHUNK_ROWS, 1)

    def dask_chunks():
        for block in range(X_dask.numblocks[0]):
            yield (
                X_dask.blocks[block].compute(scheduler="synchronous"),
                y_dask.blocks[block].compute(scheduler="synchronous"),
            )

    classes = np.unique(y_train)
    from_dask = train_over_chunks(make_model("dynamic"), dask_chunks, classes)
    from_memory = train_over_chunks(
        make_model("dynamic"), in_memory_chunks(X_train, y_train), classes
    )
    assert from_dask.t_ == EPOCHS * N_TRAIN
    assert_same_model(from_dask, from_memory)
    assert from_dask.score(X_test, y_test) > 0.8


@pytest.mark.parametrize("sparsity_strategy", ["fixed", "dynamic"])
def test_predict_on_dask_array_with_map_blocks(problem, sparsity_strategy):
    da = pytest.importorskip("dask.array")
    X_train, y_train, X_test, _ = problem
    model = train_over_chunks(
        make_model(sparsity_strategy),
        in_memory_chunks(X_train, y_train),
        np.unique(y_train),
        epochs=2,
    )
    X_dask = da.from_array(X_test, chunks=(300, -1))

    labels = X_dask.map_blocks(model.predict, dtype=model.classes_.dtype, drop_axis=1)
    assert labels.shape == (X_test.shape[0],)
    assert labels.dtype == model.classes_.dtype
    assert labels.chunks == (X_dask.chunks[0],)
    computed_labels = labels.compute(scheduler="threads")
    np.testing.assert_array_equal(computed_labels, model.predict(X_test))
    assert len(np.unique(computed_labels)) == len(model.classes_)

    n_classes = len(model.classes_)
    probabilities = X_dask.map_blocks(
        model.predict_proba,
        dtype=np.float64,
        chunks=(X_dask.chunks[0], (n_classes,)),
    )
    assert probabilities.shape == (X_test.shape[0], n_classes)
    np.testing.assert_allclose(
        probabilities.compute(scheduler="threads"),
        model.predict_proba(X_test),
        rtol=1e-12,
        atol=1e-15,
    )


def test_dask_ml_incremental_equals_partial_fit_loop(problem):
    dask = pytest.importorskip("dask")
    da = pytest.importorskip("dask.array")
    wrappers = pytest.importorskip("dask_ml.wrappers")
    X_train, y_train, X_test, y_test = problem
    X_dask = da.from_array(X_train, chunks=(CHUNK_ROWS, -1))
    y_dask = da.from_array(y_train, chunks=CHUNK_ROWS)
    classes = np.unique(y_train)

    incremental = wrappers.Incremental(make_model(), shuffle_blocks=False)
    with dask.config.set(scheduler="synchronous"):
        incremental.fit(X_dask, y_dask, classes=classes)
        for _ in range(EPOCHS - 1):
            incremental.partial_fit(X_dask, y_dask)
        predicted = incremental.predict(da.from_array(X_test, chunks=(250, -1)))
        assert isinstance(predicted, da.Array)
        predicted = predicted.compute()

    reference = train_over_chunks(
        make_model(), in_memory_chunks(X_train, y_train), classes
    )
    assert_same_model(incremental.estimator_, reference)
    np.testing.assert_array_equal(predicted, reference.predict(X_test))
    assert incremental.estimator_.score(X_test, y_test) > 0.8


def test_benchmark_quick_run(tmp_path):
    bench = load_benchmark()
    results = bench.run_benchmark(
        n_rows=6000,
        n_features=10,
        chunk_rows=2000,
        epochs=2,
        hidden_units=16,
        directory=tmp_path,
    )
    assert list(tmp_path.iterdir()) == []
    assert results["rows_seen"] == 2 * 6000
    assert results["chunk_bytes"] == 2000 * (10 * 8 + 8)
    assert results["file_bytes"] == 3 * results["chunk_bytes"]
    assert results["model_bytes"] >= 8 * (10 * 16 + 16 + 16 * 4 + 4)
    assert results["traced_peak_bytes"] > 0
    assert results["rss_growth_bytes"] >= 0
    assert (
        results["limit_bytes"] == 2 * results["chunk_bytes"] + (results["model_bytes"])
    )
    assert results["held_out_accuracy"] > 0.5
    report = bench.format_report(results)
    assert "12,000" in report
    assert "peak memory is" in report


# The memory test's file: 6 chunks of 10,000 rows x 20 float64 features, so
# that holding the whole file takes about 3 times the limit below.
MEMORY_ROWS = 60_000
MEMORY_FEATURES = 20
MEMORY_CHUNK_ROWS = 10_000
MEMORY_EPOCHS = 2


@pytest.mark.parametrize("reader", ["window", "memmap"])
def test_training_over_chunks_stays_within_two_chunks_plus_the_model(tmp_path, reader):
    """The documented bound of out-of-core training (docs/scaling.rst,
    "Measured memory"): ``partial_fit`` over the chunks of an on-disk file,
    read the documented way, allocates at most ``2 x chunk + model`` bytes at
    its peak, where a chunk is its ``X`` and ``y`` rows.

    tracemalloc counts every NumPy and Python allocation, not the file pages
    that a memory map brings in, so the count is the same on every run of the
    same library versions. Measured: 0.25 of the limit on both kernel
    backends (the mini-batch copies, the shuffled row order, the chunk's
    encoded labels and one mini-batch of activations), so the bound holds
    with a margin of 4 for other library versions. Any path that holds the
    whole file in memory allocates at least ``file_bytes``, about 3 times the
    limit, and fails.
    """
    bench = load_benchmark()
    x_path, y_path = bench.write_dataset(
        tmp_path,
        MEMORY_ROWS,
        MEMORY_FEATURES,
        MEMORY_CHUNK_ROWS,
        np.dtype(np.float64),
        seed=0,
    )
    classes = np.arange(bench.N_CLASSES)
    # A first fit imports what partial_fit imports lazily and compiles the
    # kernels, so that neither counts as training memory.
    warm_up_X, warm_up_y = bench._labelled_rows(
        np.random.default_rng(0),
        bench._teacher_weights(MEMORY_FEATURES, 0),
        8,
        np.float64,
    )
    bench._make_model(64).partial_fit(warm_up_X, warm_up_y, classes=classes)

    model = bench._make_model(64)
    # Counted from here (whether or not something traced already).
    already_tracing = tracemalloc.is_tracing()
    tracemalloc.start()
    tracemalloc.reset_peak()
    before, _ = tracemalloc.get_traced_memory()
    try:
        for _ in range(MEMORY_EPOCHS):
            for X_chunk, y_chunk in bench.iter_chunks(
                x_path, y_path, MEMORY_CHUNK_ROWS, reader
            ):
                model.partial_fit(X_chunk, y_chunk, classes=classes)
                del X_chunk, y_chunk
        traced_peak = tracemalloc.get_traced_memory()[1] - before
    finally:
        if not already_tracing:
            tracemalloc.stop()

    assert model.t_ == MEMORY_EPOCHS * MEMORY_ROWS
    row_bytes = MEMORY_FEATURES * 8 + 8
    chunk_bytes = MEMORY_CHUNK_ROWS * row_bytes
    limit_bytes = 2 * chunk_bytes + bench._model_bytes(model)
    file_bytes = MEMORY_ROWS * row_bytes
    # The test can tell the bound from holding the whole data.
    assert file_bytes > 2.5 * limit_bytes
    assert traced_peak <= limit_bytes, (traced_peak, limit_bytes)
