"""Peak memory of out-of-core training with ``partial_fit`` over on-disk chunks.

The script writes a generated classification problem (``--rows`` x
``--features``) to ``.npy`` files in a temporary directory, then trains a
:class:`~sklearn_sparse_act.SparseMLPClassifier` with one ``partial_fit`` call
per ``--chunk-rows`` rows for ``--epochs`` passes, in a fresh Python process so
that nothing else shares its memory high-water mark. It reports

* the peak of Python/NumPy allocations made during training (``tracemalloc``),
* the growth of the process's peak resident set size (RSS) during training
  (``VmHWM`` after resetting it through ``/proc/self/clear_refs`` on Linux,
  ``getrusage`` elsewhere),

against the size of one chunk (its ``X`` and ``y`` rows) and of the model (its
weights, biases and optimizer state), and checks that both peaks stay within
``2 * chunk + model`` (PASS/FAIL with the ratio). The temporary directory is
deleted at the end.

Two readers are available. ``window`` (the default) maps one chunk of the file
at a time; ``memmap`` maps the whole file once and slices it. Both keep the
Python/NumPy allocations at the size of a chunk, but with ``memmap`` every page
of the file that training has read stays mapped, and counted in the RSS, until
the kernel needs the memory back.

Run ``python benchmarks/bench_out_of_core.py`` for the full measurement
(2,000,000 x 50 float64 rows, 800 MB on disk, 100,000-row chunks) or, e.g.,
``python benchmarks/bench_out_of_core.py --rows 20000 --chunk-rows 5000`` for a
quick one.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from functools import partial
from pathlib import Path

import numpy as np
from sklearn.utils import gen_batches

if not __package__:  # run as a script: make the benchmarks package importable
    sys.path.append(str(Path(__file__).resolve().parents[1]))

from benchmarks.harness.memory import PeakRss, traced
from benchmarks.harness.timing import seconds_of

N_CLASSES = 4
HELD_OUT_ROWS = 20_000
_MIB = 2**20


def _teacher_weights(n_features, seed):
    """The linear map whose noisy arg-max defines the labels."""
    return np.random.default_rng(seed).standard_normal((n_features, N_CLASSES))


def _labelled_rows(rng, teacher, n_rows, dtype):
    """Standard-normal rows and their labels under ``teacher``."""
    X = rng.standard_normal((n_rows, teacher.shape[0])).astype(dtype)
    noise = 0.5 * rng.standard_normal((n_rows, N_CLASSES))
    return X, np.argmax(X @ teacher + noise, axis=1)


def write_dataset(directory, n_rows, n_features, chunk_rows, dtype, seed):
    """Write ``X.npy`` and ``y.npy`` chunk by chunk; return their paths."""
    x_path = os.path.join(directory, "X.npy")
    y_path = os.path.join(directory, "y.npy")
    teacher = _teacher_weights(n_features, seed)
    rng = np.random.default_rng(seed + 1)
    X_disk = np.lib.format.open_memmap(
        x_path, mode="w+", dtype=dtype, shape=(n_rows, n_features)
    )
    y_disk = np.lib.format.open_memmap(
        y_path, mode="w+", dtype=np.int64, shape=(n_rows,)
    )
    for rows in gen_batches(n_rows, chunk_rows):
        X_disk[rows], y_disk[rows] = _labelled_rows(
            rng, teacher, rows.stop - rows.start, dtype
        )
    X_disk.flush()
    y_disk.flush()
    del X_disk, y_disk
    return x_path, y_path


def _npy_window(path, start, stop):
    """Rows ``start:stop`` of a 2d or 1d ``.npy`` file, mapped on their own."""
    whole = np.load(path, mmap_mode="r")
    row_bytes = whole.itemsize * int(np.prod(whole.shape[1:], dtype=np.int64))
    window = np.memmap(
        path,
        dtype=whole.dtype,
        mode="r",
        offset=whole.offset + start * row_bytes,
        shape=(stop - start, *whole.shape[1:]),
    )
    del whole
    return window


def iter_chunks(x_path, y_path, chunk_rows, reader):
    """Yield ``(X_chunk, y_chunk)`` pairs from the ``.npy`` files.

    ``reader='window'`` maps each chunk on its own, so that at most one chunk
    of the file is mapped at a time; ``reader='memmap'`` slices one mapping of
    the whole file.
    """
    X_disk = np.load(x_path, mmap_mode="r")
    n_rows = X_disk.shape[0]
    if reader == "window":
        del X_disk
        for rows in gen_batches(n_rows, chunk_rows):
            yield (
                _npy_window(x_path, rows.start, rows.stop),
                _npy_window(y_path, rows.start, rows.stop),
            )
    else:
        y_disk = np.load(y_path, mmap_mode="r")
        for rows in gen_batches(n_rows, chunk_rows):
            yield X_disk[rows], y_disk[rows]


def _model_bytes(model):
    """Bytes held by the weights, biases and the optimizer's state."""
    arrays = list(model.coefs_) + list(model.intercepts_)
    for value in getattr(model, "_optimizer_state", {}).values():
        if isinstance(value, np.ndarray):
            arrays.append(value)
        elif isinstance(value, list | tuple):
            arrays.extend(item for item in value if isinstance(item, np.ndarray))
    return sum(array.nbytes for array in arrays)


def _make_model(hidden_units):
    from sklearn_sparse_act import SparseMLPClassifier

    return SparseMLPClassifier(
        hidden_layer_sizes=(hidden_units,),
        activation_ratio=0.1,
        learning_rate_init=0.01,
        random_state=0,
    )


def measure_training(x_path, y_path, chunk_rows, epochs, reader, hidden_units, seed):
    """Train over the chunks and measure peak memory; run in a fresh process."""
    classes = np.arange(N_CLASSES)
    X_disk = np.load(x_path, mmap_mode="r")
    n_rows, n_features = X_disk.shape
    dtype = X_disk.dtype
    del X_disk

    # Train a throw-away model on a few rows first, so that the modules
    # partial_fit imports lazily are not counted as training memory.
    warm_up_X, warm_up_y = _labelled_rows(
        np.random.default_rng(0), _teacher_weights(n_features, seed), 8, dtype
    )
    _make_model(hidden_units).partial_fit(warm_up_X, warm_up_y, classes=classes)
    del warm_up_X, warm_up_y

    model = _make_model(hidden_units)

    def train():
        for _ in range(epochs):
            for X_chunk, y_chunk in iter_chunks(x_path, y_path, chunk_rows, reader):
                model.partial_fit(X_chunk, y_chunk, classes=classes)
                del X_chunk, y_chunk

    peak_rss = PeakRss()
    seconds, traced_peak = traced(partial(seconds_of, train))
    rss_growth = peak_rss.growth_bytes()

    X_test, y_test = _labelled_rows(
        np.random.default_rng(seed + 2),
        _teacher_weights(n_features, seed),
        HELD_OUT_ROWS,
        dtype,
    )
    return {
        "rows_seen": int(model.t_),
        "seconds": seconds,
        "traced_peak_bytes": traced_peak,
        "rss_growth_bytes": rss_growth,
        "rss_exact": peak_rss.exact,
        "model_bytes": _model_bytes(model),
        "held_out_accuracy": float(model.score(X_test, y_test)),
    }


def run_benchmark(
    n_rows=2_000_000,
    n_features=50,
    chunk_rows=100_000,
    epochs=2,
    dtype="float64",
    reader="window",
    hidden_units=64,
    seed=0,
    directory=None,
):
    """Write the data, measure training in a child process, clean up.

    Returns
    -------
    results : dict
        The child's measurements plus the sizes they are compared with:
        ``chunk_bytes`` (one chunk of ``X`` and ``y``), ``limit_bytes``
        (``2 * chunk_bytes + model_bytes``), the ratios of both peaks to that
        limit and ``passed``.
    """
    workdir = tempfile.mkdtemp(prefix="bench_out_of_core_", dir=directory)
    try:
        x_path, y_path = write_dataset(
            workdir, n_rows, n_features, chunk_rows, np.dtype(dtype), seed
        )
        arguments = {
            "x_path": x_path,
            "y_path": y_path,
            "chunk_rows": chunk_rows,
            "epochs": epochs,
            "reader": reader,
            "hidden_units": hidden_units,
            "seed": seed,
        }
        child = subprocess.run(
            [
                sys.executable,
                os.path.abspath(__file__),
                "--child",
                json.dumps(arguments),
            ],
            check=True,
            capture_output=True,
            text=True,
        )
        results = json.loads(child.stdout.strip().splitlines()[-1])
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    chunk_size = min(chunk_rows, n_rows)
    chunk_bytes = chunk_size * (n_features * np.dtype(dtype).itemsize + 8)
    limit = 2 * chunk_bytes + results["model_bytes"]
    results.update(
        n_rows=n_rows,
        n_features=n_features,
        chunk_rows=chunk_size,
        epochs=epochs,
        dtype=dtype,
        reader=reader,
        file_bytes=n_rows * (n_features * np.dtype(dtype).itemsize + 8),
        chunk_bytes=chunk_bytes,
        limit_bytes=limit,
        traced_ratio=results["traced_peak_bytes"] / limit,
        rss_ratio=results["rss_growth_bytes"] / limit,
    )
    results["passed"] = results["traced_ratio"] <= 1 and results["rss_ratio"] <= 1
    return results


def format_report(results):
    """The results as a plain-text table with the PASS/FAIL verdict."""
    rows = [
        ("data on disk (X + y)", f"{results['file_bytes'] / _MIB:,.1f} MiB"),
        (
            "one chunk (X + y)",
            f"{results['chunk_bytes'] / _MIB:,.1f} MiB "
            f"({results['chunk_rows']:,} rows)",
        ),
        ("model + optimizer state", f"{results['model_bytes'] / 1024:,.1f} KiB"),
        ("limit: 2 x chunk + model", f"{results['limit_bytes'] / _MIB:,.1f} MiB"),
        (
            "peak NumPy/Python allocations",
            f"{results['traced_peak_bytes'] / _MIB:,.1f} MiB "
            f"({results['traced_ratio']:.2f} x limit)",
        ),
        (
            "peak RSS growth" + ("" if results["rss_exact"] else " (getrusage)"),
            f"{results['rss_growth_bytes'] / _MIB:,.1f} MiB "
            f"({results['rss_ratio']:.2f} x limit)",
        ),
        ("training time", f"{results['seconds']:.1f} s"),
        ("rows seen (t_)", f"{results['rows_seen']:,}"),
        ("held-out accuracy", f"{results['held_out_accuracy']:.3f}"),
    ]
    title = (
        f"partial_fit over {results['n_rows']:,} x {results['n_features']} "
        f"{results['dtype']} rows, reader={results['reader']}, "
        f"epochs={results['epochs']}"
    )
    width = max(len(label) for label, _ in rows)
    lines = [title, "-" * len(title)]
    lines += [f"{label:<{width}}  {value}" for label, value in rows]
    verdict = "PASS" if results["passed"] else "FAIL"
    worst = max(results["traced_ratio"], results["rss_ratio"])
    lines.append(f"{verdict}: peak memory is {worst:.2f} x (2 x chunk + model)")
    return "\n".join(lines)


def _parse_arguments(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--features", type=int, default=50)
    parser.add_argument("--chunk-rows", type=int, default=100_000)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--dtype", choices=["float64", "float32"], default="float64")
    parser.add_argument("--reader", choices=["window", "memmap"], default="window")
    parser.add_argument("--hidden-units", type=int, default=64)
    parser.add_argument(
        "--dir", default=None, help="where to write the temporary data files"
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv=None):
    arguments = _parse_arguments(argv)
    if arguments.child is not None:
        print(json.dumps(measure_training(**json.loads(arguments.child))))
        return 0
    results = run_benchmark(
        n_rows=arguments.rows,
        n_features=arguments.features,
        chunk_rows=arguments.chunk_rows,
        epochs=arguments.epochs,
        dtype=arguments.dtype,
        reader=arguments.reader,
        hidden_units=arguments.hidden_units,
        directory=arguments.dir,
    )
    print(format_report(results))
    return 0 if results["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
