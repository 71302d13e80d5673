"""Speed, memory and accuracy of the sparse MLPs against scikit-learn's dense MLP.

For every hidden-layer architecture, float dtype and kernel backend (``numpy``
and ``numba``, see :func:`sklearn_sparse_act.config_context`),
scikit-learn's :class:`~sklearn.neural_network.MLPClassifier` and our
:class:`~sklearn_sparse_act.SparseMLPClassifier` at each activation ratio are
trained with the same architecture, number of epochs (``tol=0`` and a patience
longer than the run, so both run exactly ``--epochs`` epochs), batch size and
seed, on the same synthetic 10-class data with 100 features. Measured per
model:

- fit seconds per epoch (fit wall time divided by ``n_iter_``);
- seconds to predict the 10,000 held-out rows (median of ``--predict-calls``
  consecutive calls: the first call after a fit also pays for the fit's
  after-effects, such as BLAS threads still spinning, and a single timing of
  a call of a few tens of milliseconds is mostly noise);
- one-row ``predict_proba`` latency (median over ``--one-row-calls``
  single-row calls);
- peak traced memory (``tracemalloc``, which sees NumPy's buffers) during a
  one-epoch fit and during the 10,000-row predict, measured once per model in
  an untimed run because tracing slows Python down;
- held-out accuracy, and whether single-row ``predict`` calls agree with the
  batched ones (the two prediction paths must give the same labels).

Each of our models is fitted, timed and measured inside
``config_context(kernels=...)`` of its backend; numba's kernels are compiled
(or loaded from its cache) by an untimed warm-up fit before any measurement.

Repeats are interleaved: each repeat fits and times every model of an
architecture once, both dtypes and both backends together, in an order rotated
from repeat to repeat. Each ratio to scikit-learn is the median over repeats of
ours / scikit-learn's from the same repeat (same dtype), so slow phases of a
noisy machine hit both sides of a ratio alike. float32 / float64 ratios of the
same model are paired the same way for fit; for the two predictions, the last
repeat's models of both dtypes are then called in pairs, one dtype right after
the other, since the few percent float32 saves on a short call are smaller than
the machine's drift between two slots of a repeat.

Two further sections (both on by default in a full run, off with ``--quick``):

- ``--grid-search``: ``GridSearchCV`` over activation ratios with
  ``n_jobs=1`` and ``n_jobs=2``, interleaved repeats;
- ``--jit``: numba's first-fit overhead in a fresh Python process, with a cold
  and then a warm ``NUMBA_CACHE_DIR``.

Run ``python benchmarks/bench_vs_sklearn.py --help`` for the options; results
go to ``--output-dir`` (default ``benchmarks/results/``): ``results.md`` (the
tables, also printed), ``results.json`` (settings, environment and every raw
measurement), ``results.csv`` (one row per model) and ``speedup_vs_ratio.png``
(when matplotlib is installed).
"""

import argparse
import csv
import gc
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import textwrap
import time
import tracemalloc
import warnings
from dataclasses import dataclass
from pathlib import Path
from statistics import median

import numpy as np
import sklearn
import threadpoolctl
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler

import sklearn_sparse_act
from sklearn_sparse_act import SparseMLPClassifier, config_context
from sklearn_sparse_act._backends import get_backend, numba_available

OPENBLAS_VARIABLES = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
RESULTS_DIR = Path(__file__).resolve().parent / "results"

N_FEATURES = 100
N_CLASSES = 10
BACKENDS = ("numpy", "numba")
# Training rows of the architectures; any other architecture gets
# training_rows()'s rule.
TRAIN_ROWS = {(256,): 20_000, (1024, 1024): 8_000}
REFERENCE_HIDDEN = (256,)
MAX_TRAIN_ROWS = 20_000
MIN_TRAIN_ROWS = 2_000

FULL_SETTINGS = {
    "hidden": [(256,), (1024, 1024), (4096,)],
    "ratios": [1.0, 0.1, 0.05, 0.02],
    "dtypes": ["float64", "float32"],
    "strategies": ["fixed"],
    "dynamic_ratio": 0.1,
    "repeats": 5,
    "epochs": 2,
    "batch_size": 200,
    "train_rows": None,
    "test_rows": 10_000,
    "predict_calls": 3,
    "one_row_calls": 200,
    "grid_search": True,
    "jit": True,
}
QUICK_SETTINGS = {
    "hidden": [(32,), (24, 24)],
    "ratios": [1.0, 0.25],
    "dtypes": ["float64", "float32"],
    "strategies": ["fixed"],
    "dynamic_ratio": 0.25,
    "repeats": 2,
    "epochs": 2,
    "batch_size": 50,
    "train_rows": 300,
    "test_rows": 200,
    "predict_calls": 2,
    "one_row_calls": 10,
    "grid_search": False,
    "jit": False,
}
# The GridSearchCV section: hidden layers, training rows, epochs per fit and
# interleaved repeats of each n_jobs.
GRID_SETTINGS = {"hidden": (256,), "rows": 20_000, "epochs": 5, "repeats": 3}
QUICK_GRID_SETTINGS = {"hidden": (32,), "rows": 300, "epochs": 2, "repeats": 2}
GRID_RATIOS = [0.05, 0.1, 0.2]
GRID_N_JOBS = (1, 2)
# The first-fit (JIT) section: one fit of this model in a fresh process.
JIT_SETTINGS = {"hidden": (256,), "ratio": 0.1, "rows": 2_000, "epochs": 2}
QUICK_JIT_SETTINGS = {"hidden": (32,), "ratio": 0.25, "rows": 300, "epochs": 2}

# Metrics timed in every repeat (seconds) and the memory metrics (bytes).
TIME_METRICS = ("fit_seconds_per_epoch", "predict_seconds", "one_row_proba_seconds")
MEMORY_METRICS = ("fit_peak_bytes", "predict_peak_bytes")
METRIC_NAMES = {
    "fit_seconds_per_epoch": "fit",
    "predict_seconds": "predict",
    "one_row_proba_seconds": "1-row predict_proba",
}


@dataclass(frozen=True)
class Target:
    """A goal of the project's issue: ours / scikit-learn's <= ``bound``.

    Judged on the float64 row of our ``'fixed'`` model at ``ratio`` with
    kernel backend ``kernels``.
    """

    metric: str
    hidden: tuple
    ratio: float
    bound: float
    kernels: str
    description: str
    dtype: str = "float64"


TARGETS = [
    Target(
        "fit_seconds_per_epoch",
        (1024, 1024),
        1.0,
        1.0,
        "numba",
        "fit at ratio 1.0 (dense), (1024, 1024), 8000x100, batch 200",
    ),
    Target(
        "fit_seconds_per_epoch",
        (1024, 1024),
        0.05,
        0.35,
        "numba",
        "fit at 0.05, (1024, 1024), 8000x100, batch 200",
    ),
    Target(
        "fit_seconds_per_epoch",
        (1024, 1024),
        0.02,
        0.25,
        "numba",
        "fit at 0.02, (1024, 1024), 8000x100, batch 200",
    ),
    Target(
        "fit_seconds_per_epoch",
        (256,),
        0.1,
        1.0,
        "numba",
        "fit at 0.1, (256,), 20000x100",
    ),
    Target(
        "one_row_proba_seconds",
        (1024, 1024),
        0.1,
        0.3,
        "numba",
        "one-row predict_proba at 0.1, (1024, 1024)",
    ),
    Target(
        "one_row_proba_seconds",
        (1024, 1024),
        0.1,
        0.5,
        "numpy",
        "one-row predict_proba at 0.1, (1024, 1024)",
    ),
    Target(
        "predict_seconds",
        (1024, 1024),
        0.05,
        0.5,
        "numba",
        "predict on 10,000 rows at 0.05, (1024, 1024)",
    ),
]
# float32 time / float64 time of the same model must not exceed this.
FLOAT32_BOUND = 1.0
# GridSearchCV with n_jobs=2 time / with n_jobs=1 time must not exceed this.
GRID_SEARCH_BOUND = 1.0
# Largest held-out accuracy difference allowed between our dense path (ratio
# 1.0) and scikit-learn's MLP with the same seed: both draw the same weights and
# batches, so only floating-point summation order may separate them.
DENSE_ACCURACY_TOLERANCE = 0.005


@dataclass(frozen=True)
class Method:
    """One model: scikit-learn's MLP, or ours at a ratio on a kernel backend."""

    strategy: str
    ratio: float
    kernels: str | None = None

    @property
    def is_baseline(self):
        return self.strategy == "sklearn"

    @property
    def label(self):
        if self.is_baseline:
            return "sklearn MLP"
        return f"ours {self.kernels} {self.strategy} {self.ratio:g}"

    def build(self, hidden, epochs, batch_size, seed):
        shared = dict(
            hidden_layer_sizes=hidden,
            max_iter=epochs,
            tol=0.0,
            n_iter_no_change=epochs + 1,
            batch_size=batch_size,
            random_state=seed,
        )
        if self.is_baseline:
            return MLPClassifier(**shared)
        return SparseMLPClassifier(
            activation_ratio=self.ratio, sparsity_strategy=self.strategy, **shared
        )

    def context(self):
        """The package settings this model runs under (its kernel backend)."""
        return config_context(kernels=self.kernels)


def parse_hidden(text):
    """``"1024,1024"`` -> ``(1024, 1024)``."""
    try:
        sizes = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"hidden sizes are comma-separated integers, got {text!r}"
        ) from None
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError(f"hidden sizes must be >= 1, got {text!r}")
    return sizes


def parse_ratio(text):
    value = float(text)
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"ratios are in (0, 1], got {text!r}")
    return value


def parse_optional_ratio(text):
    return None if text.lower() == "none" else parse_ratio(text)


def default_kernels():
    """Both backends when numba can be imported, else NumPy's alone."""
    return list(BACKENDS) if numba_available() else ["numpy"]


def build_parser():
    parser = argparse.ArgumentParser(
        description=(
            "Benchmark SparseMLPClassifier against scikit-learn's MLPClassifier "
            "(same architecture, epochs, batch size and seed) and report ratios."
        )
    )
    full = FULL_SETTINGS
    parser.add_argument(
        "--hidden",
        nargs="+",
        type=parse_hidden,
        help="hidden layer sizes, one architecture per argument, layers separated "
        "by commas (default: 256 1024,1024 4096)",
    )
    parser.add_argument(
        "--ratios",
        nargs="+",
        type=parse_ratio,
        help="activation ratios of our models; 1.0 is our dense path "
        f"(default: {' '.join(f'{r:g}' for r in full['ratios'])})",
    )
    parser.add_argument(
        "--kernels",
        nargs="+",
        choices=list(BACKENDS),
        help="kernel backends of our models, each timed separately "
        "(default: numpy numba when numba can be imported, else numpy)",
    )
    parser.add_argument(
        "--dtypes",
        nargs="+",
        choices=["float64", "float32"],
        help="float dtypes of the data (default: float64 float32)",
    )
    parser.add_argument(
        "--strategies",
        nargs="+",
        choices=["fixed", "dynamic"],
        help="sparsity strategies timed at every ratio below 1 (default: fixed)",
    )
    parser.add_argument(
        "--dynamic-ratio",
        type=parse_optional_ratio,
        help="also time the 'dynamic' strategy at this one ratio, for every "
        "architecture, dtype and backend; 'none' to skip (default: 0.1)",
    )
    parser.add_argument(
        "--repeats", type=int, help="interleaved repeats per model (default: 5)"
    )
    parser.add_argument(
        "--epochs", type=int, help="epochs of Adam per fit (default: 2)"
    )
    parser.add_argument("--batch-size", type=int, help="mini-batch size (default: 200)")
    parser.add_argument(
        "--train-rows",
        type=int,
        help="training rows for every architecture (default: 20000 for (256,), "
        "8000 for (1024, 1024), otherwise 20000 / sqrt(cost relative to (256,)), "
        "at least 2000: 5000 for (4096,))",
    )
    parser.add_argument(
        "--test-rows", type=int, help="held-out rows to predict (default: 10000)"
    )
    parser.add_argument(
        "--predict-calls",
        type=int,
        help="held-out predict calls per timing, of which the median is kept "
        "(default: 3)",
    )
    parser.add_argument(
        "--one-row-calls",
        type=int,
        help="single-row predict_proba calls per latency measurement (default: 200)",
    )
    parser.add_argument(
        "--grid-search",
        action=argparse.BooleanOptionalAction,
        help="time GridSearchCV over activation ratios with n_jobs=1 and "
        "n_jobs=2 (default: on, off with --quick)",
    )
    parser.add_argument(
        "--jit",
        action=argparse.BooleanOptionalAction,
        help="time numba's first fit in a fresh process with a cold and a warm "
        "cache; only when numba is installed (default: on, off with --quick)",
    )
    parser.add_argument(
        "--seed", type=int, default=0, help="seed of the data and of every model"
    )
    parser.add_argument(
        "--blas-threads",
        type=int,
        help="limit the BLAS thread pool (default: the library's own setting)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="tiny sizes for a smoke test (explicit options still override)",
    )
    parser.add_argument(
        "--output-dir",
        type=Path,
        default=RESULTS_DIR,
        help=f"where to write the results (default: {RESULTS_DIR})",
    )
    parser.add_argument(
        "--unset-openblas-env",
        action="store_true",
        help="restart this benchmark without OPENBLAS_CORETYPE and "
        "OPENBLAS_L2_SIZE in its environment (both together), so OpenBLAS picks "
        "its kernel for the processor itself; the kernel used is recorded",
    )
    return parser


def resolve_settings(args):
    """The run's settings: the explicit options over the full or quick defaults."""
    settings = dict(QUICK_SETTINGS if args.quick else FULL_SETTINGS)
    settings["kernels"] = None
    for name in settings:
        value = getattr(args, name)
        if value is not None:
            settings[name] = value
    for name in (
        "repeats",
        "epochs",
        "batch_size",
        "test_rows",
        "predict_calls",
        "one_row_calls",
    ):
        if settings[name] < 1:
            raise SystemExit(f"--{name.replace('_', '-')} must be >= 1")
    if settings["kernels"] is None:
        settings["kernels"] = default_kernels()
    settings["kernels"] = list(dict.fromkeys(settings["kernels"]))
    if "numba" in settings["kernels"] and not numba_available():
        raise SystemExit("--kernels numba needs numba: pip install '.[fast]'")
    if settings["jit"] and not numba_available():
        settings["jit"] = False
    settings["hidden"] = [tuple(sizes) for sizes in settings["hidden"]]
    settings["grid"] = dict(QUICK_GRID_SETTINGS if args.quick else GRID_SETTINGS)
    settings["jit_fit"] = dict(QUICK_JIT_SETTINGS if args.quick else JIT_SETTINGS)
    settings["seed"] = args.seed
    settings["blas_threads"] = args.blas_threads
    settings["quick"] = args.quick
    return settings


def macs_per_row(hidden, n_features=N_FEATURES, n_classes=N_CLASSES):
    """Multiply-adds of one dense forward pass of one row."""
    units = [n_features, *hidden, n_classes]
    return sum(
        fan_in * fan_out for fan_in, fan_out in zip(units[:-1], units[1:], strict=True)
    )


def training_rows(hidden):
    """Default training rows for an architecture.

    The issue's architectures have their own: 20,000 rows for (256,) and
    8,000 for (1024, 1024). Any other network whose dense forward pass costs
    ``c`` times as much as (256,)'s trains on ``20000 / sqrt(c)`` rows
    (rounded to hundreds, at least 2,000), so wide networks still run many
    mini-batches per epoch while the full grid stays within about 25 minutes.
    Both libraries always get the same rows.

    Examples
    --------
    >>> training_rows((256,)), training_rows((1024, 1024)), training_rows((4096,))
    (20000, 8000, 5000)
    """
    if tuple(hidden) in TRAIN_ROWS:
        return TRAIN_ROWS[tuple(hidden)]
    cost = macs_per_row(hidden) / macs_per_row(REFERENCE_HIDDEN)
    rows = round(MAX_TRAIN_ROWS / math.sqrt(cost), -2)
    return int(min(MAX_TRAIN_ROWS, max(MIN_TRAIN_ROWS, rows)))


def make_data(n_train, n_test, seed):
    """Standardised 10-class synthetic data: a training pool and held-out rows."""
    X, y = make_classification(
        n_samples=n_train + n_test,
        n_features=N_FEATURES,
        n_informative=40,
        n_redundant=8,
        n_classes=N_CLASSES,
        n_clusters_per_class=2,
        class_sep=1.5,
        random_state=seed,
    )
    scaler = StandardScaler().fit(X[:n_train])
    X = scaler.transform(X)
    return X[:n_train], y[:n_train], X[n_train:], y[n_train:]


def methods_for(settings):
    """scikit-learn's MLP first, then ours per backend at every ratio and strategy."""
    methods = [Method("sklearn", 1.0)]
    for kernels in settings.get("kernels", ["numpy"]):
        for ratio in settings["ratios"]:
            if ratio == 1.0:
                methods.append(Method("fixed", 1.0, kernels))
                continue
            methods.extend(
                Method(strategy, ratio, kernels) for strategy in settings["strategies"]
            )
        dynamic_ratio = settings["dynamic_ratio"]
        if dynamic_ratio is not None and dynamic_ratio < 1.0:
            methods.append(Method("dynamic", dynamic_ratio, kernels))
    return list(dict.fromkeys(methods))


def fit_quietly(model, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(X, y)


def traced_peak_bytes(function):
    """Peak of memory traced by tracemalloc while ``function()`` runs."""
    gc.collect()
    tracemalloc.start()
    try:
        start, _ = tracemalloc.get_traced_memory()
        function()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak - start


def warm_up(method, data, settings, hidden):
    """An untimed small fit and predictions, so numba compiles its kernels
    (or loads them from its cache) before anything is measured."""
    X_train, y_train, X_test, _ = data
    n_rows = min(X_train.shape[0], 2 * settings["batch_size"])
    with method.context():
        model = method.build(hidden, 1, settings["batch_size"], settings["seed"])
        fit_quietly(model, X_train[:n_rows], y_train[:n_rows])
        model.predict(X_test[:n_rows])
        model.predict_proba(X_test[:1])
        model.predict(X_test[:1])


def measure_memory(method, data, settings, hidden):
    """Peak traced bytes of a one-epoch fit and of predicting the held-out rows."""
    X_train, y_train, X_test, _ = data
    with method.context():
        model = method.build(hidden, 1, settings["batch_size"], settings["seed"])
        fit_peak = traced_peak_bytes(lambda: fit_quietly(model, X_train, y_train))
        predict_peak = traced_peak_bytes(lambda: model.predict(X_test))
    return {"fit_peak_bytes": fit_peak, "predict_peak_bytes": predict_peak}


def measure_once(method, data, settings, hidden):
    """Fit, held-out predict and one-row latency of one model, timed once;
    returns the measurements and the fitted model."""
    with method.context():
        return _measure_once(method, data, settings, hidden)


def _measure_once(method, data, settings, hidden):
    X_train, y_train, X_test, y_test = data
    model = method.build(
        hidden, settings["epochs"], settings["batch_size"], settings["seed"]
    )
    gc.collect()
    start = time.perf_counter()
    fit_quietly(model, X_train, y_train)
    fit_seconds = time.perf_counter() - start
    if model.n_iter_ != settings["epochs"]:
        raise RuntimeError(
            f"{method.label} ran {model.n_iter_} epochs instead of "
            f"{settings['epochs']}: the comparison would be unfair"
        )

    predict_times = []
    for _ in range(settings["predict_calls"]):
        gc.collect()
        start = time.perf_counter()
        batch_predictions = model.predict(X_test)
        predict_times.append(time.perf_counter() - start)

    # One-row latency is timed on predict_proba (the metric); the
    # untimed single-row predict checks that the row path gives the batched
    # labels.
    n_calls = min(settings["one_row_calls"], X_test.shape[0])
    model.predict_proba(X_test[:1])
    latencies = []
    agreeing = 0
    for row in range(n_calls):
        single_row = X_test[row : row + 1]
        start = time.perf_counter()
        model.predict_proba(single_row)
        latencies.append(time.perf_counter() - start)
        agreeing += int(model.predict(single_row)[0] == batch_predictions[row])

    return {
        "fit_seconds_per_epoch": fit_seconds / model.n_iter_,
        "predict_seconds": median(predict_times),
        "one_row_proba_seconds": median(latencies),
        "accuracy": float(np.mean(batch_predictions == y_test)),
        "row_path_agreement": agreeing / n_calls,
        "n_iter": int(model.n_iter_),
    }, model


def paired_ratios(raw, baseline_raw, metric):
    """Ours / the reference's for each repeat, both from the same repeat."""
    return [
        ours / reference
        for ours, reference in zip(raw[metric], baseline_raw[metric], strict=True)
    ]


def summarise(method, raw, baseline_raw, memory, baseline_memory):
    """Medians of a model's repeats and its ratios to scikit-learn's MLP."""
    summary = {metric: median(raw[metric]) for metric in TIME_METRICS}
    summary.update(memory)
    summary["accuracy"] = median(raw["accuracy"])
    summary["row_path_agreement"] = min(raw["row_path_agreement"])
    summary["accuracy_delta"] = summary["accuracy"] - median(baseline_raw["accuracy"])
    for metric in TIME_METRICS:
        ratios = paired_ratios(raw, baseline_raw, metric)
        summary[f"{metric}_ratio"] = median(ratios)
        summary[f"{metric}_ratio_range"] = [min(ratios), max(ratios)]
    for metric in MEMORY_METRICS:
        summary[f"{metric}_ratio"] = memory[metric] / baseline_memory[metric]
    return summary


def run_configuration(hidden, n_rows, data_pool, settings, log):
    """All models of one architecture, every dtype and backend interleaved:
    warm-up, memory, then timed repeats."""
    X_pool, y_pool, X_test, y_test = data_pool
    data = {
        dtype: (
            X_pool[:n_rows].astype(dtype),
            y_pool[:n_rows],
            X_test.astype(dtype),
            y_test,
        )
        for dtype in settings["dtypes"]
    }
    methods = methods_for(settings)
    slots = [(dtype, method) for dtype in settings["dtypes"] for method in methods]
    for dtype, method in slots:
        if method.kernels == "numba":
            warm_up(method, data[dtype], settings, hidden)
    memory = {
        (dtype, method): measure_memory(method, data[dtype], settings, hidden)
        for dtype, method in slots
    }
    log("  warm-up and memory done")
    raw = {slot: {} for slot in slots}
    fitted = {}
    for repeat in range(settings["repeats"]):
        shift = repeat % len(slots)
        for dtype, method in slots[shift:] + slots[:shift]:
            measured, fitted[dtype, method] = measure_once(
                method, data[dtype], settings, hidden
            )
            for name, value in measured.items():
                raw[dtype, method].setdefault(name, []).append(value)
        log(f"  repeat {repeat + 1}/{settings['repeats']} done")
    dtype_ratios = {
        method: interleaved_dtype_ratios(
            method,
            fitted["float32", method],
            fitted["float64", method],
            data["float32"][2],
            data["float64"][2],
            settings,
        )
        for method in methods[1:]
        if {"float32", "float64"} <= set(settings["dtypes"])
    }

    rows = []
    for dtype, method in slots:
        baseline = (dtype, methods[0])
        rows.append(
            {
                "hidden": list(hidden),
                "dtype": dtype,
                "method": method.label,
                "kernels": method.kernels or "",
                "strategy": method.strategy,
                "ratio": method.ratio,
                "train_rows": n_rows,
                "test_rows": int(X_test.shape[0]),
                **summarise(
                    method,
                    raw[dtype, method],
                    raw[baseline],
                    memory[dtype, method],
                    memory[baseline],
                ),
                "raw": raw[dtype, method],
            }
        )
        if dtype == "float32" and method in dtype_ratios:
            rows[-1]["dtype_ratios"] = dtype_ratios[method]
    return rows


def interleaved_dtype_ratios(method, single, double, X_single, X_double, settings):
    """float32 / float64 times of the same fitted model, its two dtypes called
    in pairs, one right after the other (each dtype first in every other
    pair): the held-out predict ``predict_calls`` times and the one-row
    ``predict_proba`` ``one_row_calls`` times, as per-pair ratios.

    A repeat times the two dtypes of a model a minute apart, and the machine's
    speed drifts by more than the few percent float32 saves on a call of tens
    of microseconds; the two calls of a pair see the same machine.
    """

    def predict(model, X):
        return lambda: model.predict(X)

    def one_row(model, X, row):
        return lambda: model.predict_proba(X[row : row + 1])

    n_rows = min(settings["one_row_calls"], X_single.shape[0])
    pairs = {
        "predict_seconds": [(predict(single, X_single), predict(double, X_double))]
        * settings["predict_calls"],
        "one_row_proba_seconds": [
            (one_row(single, X_single, row), one_row(double, X_double, row))
            for row in range(n_rows)
        ],
    }
    ratios = {}
    with method.context():
        for metric, metric_pairs in pairs.items():
            collect = metric == "predict_seconds"
            ratios[metric] = []
            for index, (single_call, double_call) in enumerate(metric_pairs):
                if index % 2 == 0:
                    single_seconds = seconds_of(single_call, collect)
                    double_seconds = seconds_of(double_call, collect)
                else:
                    double_seconds = seconds_of(double_call, collect)
                    single_seconds = seconds_of(single_call, collect)
                ratios[metric].append(single_seconds / double_seconds)
    return ratios


def seconds_of(function, collect_garbage=False):
    """Wall time of one call (after an untimed garbage collection)."""
    if collect_garbage:
        gc.collect()
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def evaluate_targets(rows):
    """Each target's verdict on the run's rows: met, missed or not measured."""
    verdicts = []
    for target in TARGETS:
        matches = [
            row
            for row in rows
            if tuple(row["hidden"]) == target.hidden
            and row["dtype"] == target.dtype
            and row["strategy"] == "fixed"
            and row.get("kernels") == target.kernels
            and math.isclose(row["ratio"], target.ratio)
        ]
        name = f"{target.description} [{target.kernels}, {target.dtype}]"
        if not matches:
            verdicts.append(
                {"target": name, "status": "not measured", "bound": target.bound}
            )
            continue
        measured = matches[0][f"{target.metric}_ratio"]
        verdicts.append(
            {
                "target": name,
                "status": "met" if measured <= target.bound else "missed",
                "bound": target.bound,
                "measured": measured,
                "repeat_range": matches[0].get(f"{target.metric}_ratio_range"),
                "margin": target.bound - measured,
            }
        )
    verdicts.extend(accuracy_verdicts(rows))
    return verdicts


def float32_checks(rows):
    """Ours in float32 against the same model in float64, for every metric.

    One entry per architecture, model and metric, met when at most
    ``FLOAT32_BOUND``: for the predictions, the median of the float32 /
    float64 ratios of calls made in pairs (:func:`interleaved_dtype_ratios`);
    for the fit (and when a row has no pairs), the median over repeats of
    float32 time / float64 time from the same repeat.
    """
    by_key = {
        (tuple(row["hidden"]), row["method"], row["dtype"]): row
        for row in rows
        if row["strategy"] != "sklearn"
    }
    checks = []
    for (hidden, method, dtype), single in by_key.items():
        double = by_key.get((hidden, method, "float64"))
        if dtype != "float32" or double is None:
            continue
        for metric in TIME_METRICS:
            ratios = single.get("dtype_ratios", {}).get(metric)
            if ratios is None:
                ratios = paired_ratios(single["raw"], double["raw"], metric)
            measured = median(ratios)
            checks.append(
                {
                    "hidden": list(hidden),
                    "method": method,
                    "kernels": single.get("kernels", ""),
                    "metric": metric,
                    "measured": measured,
                    "repeat_range": [min(ratios), max(ratios)],
                    "bound": FLOAT32_BOUND,
                    "status": "met" if measured <= FLOAT32_BOUND else "missed",
                }
            )
    return checks


def float32_table(checks):
    """One line per architecture and model: float32 / float64 per metric."""
    if not checks:
        return "Not measured: the run needs both float32 and float64."
    header = ["hidden", "model", *(METRIC_NAMES[m] for m in TIME_METRICS), "verdict"]
    lines = [
        "| " + " | ".join(header) + " |",
        "|" + "|".join(["---"] * 2 + ["---:"] * len(TIME_METRICS) + ["---"]) + "|",
    ]
    grouped = {}
    for check in checks:
        grouped.setdefault((tuple(check["hidden"]), check["method"]), {})[
            check["metric"]
        ] = check
    for (hidden, method), by_metric in grouped.items():
        missed = [
            METRIC_NAMES[metric]
            for metric, check in by_metric.items()
            if check["status"] == "missed"
        ]
        verdict = "MISSED: " + ", ".join(missed) if missed else "MET"
        cells = [str(hidden), method]
        cells.extend(
            f"{by_metric[metric]['measured']:.2f}" if metric in by_metric else "-"
            for metric in TIME_METRICS
        )
        lines.append("| " + " | ".join([*cells, verdict]) + " |")
    n_missed = sum(check["status"] == "missed" for check in checks)
    lines.append("")
    lines.append(
        f"- {'MET' if n_missed == 0 else 'MISSED'}: float32 no slower than float64 "
        f"in every row (float32 / float64 <= {FLOAT32_BOUND:g}): "
        f"{len(checks) - n_missed} of {len(checks)} model-metric pairs"
    )
    return "\n".join(lines)


def accuracy_verdicts(rows):
    """The prediction path must not change accuracy.

    Our dense path must match scikit-learn's accuracy, and for every model the
    single-row predictions must equal the batched ones.
    """
    verdicts = []
    for row in rows:
        where = f"{row['method']}, hidden {tuple(row['hidden'])} [{row['dtype']}]"
        if row["strategy"] == "fixed" and row["ratio"] == 1.0:
            difference = abs(row["accuracy_delta"])
            verdicts.append(
                {
                    "target": f"dense accuracy equals scikit-learn's: {where}",
                    "status": "met"
                    if difference <= DENSE_ACCURACY_TOLERANCE
                    else "missed",
                    "bound": DENSE_ACCURACY_TOLERANCE,
                    "measured": difference,
                    "margin": DENSE_ACCURACY_TOLERANCE - difference,
                }
            )
        if row["row_path_agreement"] < 1.0:
            verdicts.append(
                {
                    "target": f"one-row predictions equal batched ones: {where}",
                    "status": "missed",
                    "bound": 1.0,
                    "measured": row["row_path_agreement"],
                    "margin": row["row_path_agreement"] - 1.0,
                }
            )
    if rows and all(row["row_path_agreement"] == 1.0 for row in rows):
        verdicts.append(
            {
                "target": "one-row predictions equal batched ones, every model",
                "status": "met",
                "bound": 1.0,
                "measured": 1.0,
                "margin": 0.0,
            }
        )
    return verdicts


def describe_verdict(verdict):
    if verdict["status"] == "not measured":
        return f"- not measured: {verdict['target']} (target <= {verdict['bound']:g})"
    measured, bound, margin = verdict["measured"], verdict["bound"], verdict["margin"]
    if verdict["target"].startswith("one-row predictions"):
        detail = f"agreement {measured:.1%}"
    elif verdict["target"].startswith("dense accuracy"):
        detail = f"|difference| {measured:.4f}, allowed {bound:g}"
    else:
        relation = "under" if margin >= 0 else "over"
        spread = verdict.get("repeat_range")
        spread = f" (repeats {spread[0]:.3f} to {spread[1]:.3f})" if spread else ""
        detail = (
            f"ratio {measured:.3f}{spread}, target <= {bound:g}: "
            f"{abs(margin):.3f} {relation} ({abs(margin) / bound:.0%} of the target)"
        )
    return f"- {verdict['status'].upper()}: {verdict['target']}: {detail}"


# -- GridSearchCV with one and two jobs -----------------------------------------
def run_grid_search(data_pool, settings, log):
    """GridSearchCV over activation ratios, n_jobs=1 against n_jobs=2.

    The search runs with the package's default ``kernels='auto'`` (numba when
    installed), which is also what joblib's worker processes use: the
    ``config_context`` setting of this process does not travel to them. One
    untimed search with each n_jobs first starts joblib's workers and compiles
    or loads the kernels; then the timed repeats alternate which n_jobs goes
    first.
    """
    grid = settings["grid"]
    X_pool, y_pool, _, _ = data_pool
    n_rows = min(grid["rows"], X_pool.shape[0])
    X, y = X_pool[:n_rows], y_pool[:n_rows]

    def search(n_jobs):
        estimator = SparseMLPClassifier(
            hidden_layer_sizes=grid["hidden"],
            max_iter=grid["epochs"],
            batch_size=settings["batch_size"],
            random_state=settings["seed"],
        )
        searcher = GridSearchCV(
            estimator, {"activation_ratio": GRID_RATIOS}, cv=3, n_jobs=n_jobs
        )
        gc.collect()
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            searcher.fit(X, y)
        return time.perf_counter() - start, searcher.best_params_["activation_ratio"]

    with config_context(kernels="auto"):
        backend = get_backend().name
        for n_jobs in GRID_N_JOBS:
            search(n_jobs)
        seconds = {n_jobs: [] for n_jobs in GRID_N_JOBS}
        best = {n_jobs: [] for n_jobs in GRID_N_JOBS}
        for repeat in range(grid["repeats"]):
            order = GRID_N_JOBS if repeat % 2 == 0 else GRID_N_JOBS[::-1]
            for n_jobs in order:
                elapsed, best_ratio = search(n_jobs)
                seconds[n_jobs].append(elapsed)
                best[n_jobs].append(best_ratio)
            log(f"  grid search repeat {repeat + 1}/{grid['repeats']} done")
    ratios = paired_ratios({"t": seconds[2]}, {"t": seconds[1]}, "t")
    measured = median(ratios)
    return {
        "hidden": list(grid["hidden"]),
        "train_rows": n_rows,
        "epochs": grid["epochs"],
        "repeats": grid["repeats"],
        "activation_ratios": GRID_RATIOS,
        "cv": 3,
        "kernels": backend,
        "seconds": {f"n_jobs={n}": seconds[n] for n in GRID_N_JOBS},
        "median_seconds": {f"n_jobs={n}": median(seconds[n]) for n in GRID_N_JOBS},
        "best_activation_ratio": {f"n_jobs={n}": best[n] for n in GRID_N_JOBS},
        "verdict": {
            "target": "GridSearchCV n_jobs=2 no slower than n_jobs=1",
            "status": "met" if measured <= GRID_SEARCH_BOUND else "missed",
            "bound": GRID_SEARCH_BOUND,
            "measured": measured,
            "repeat_range": [min(ratios), max(ratios)],
            "margin": GRID_SEARCH_BOUND - measured,
        },
    }


def grid_search_report(result):
    if result is None:
        return "Not run (`--grid-search` to run it)."
    times = result["median_seconds"]
    return "\n".join(
        [
            f"`GridSearchCV(SparseMLPClassifier(hidden_layer_sizes="
            f"{tuple(result['hidden'])}, max_iter={result['epochs']}), "
            f"{{'activation_ratio': {result['activation_ratios']}}}, "
            f"cv={result['cv']})` on {result['train_rows']} rows, kernels "
            f"'{result['kernels']}' (the default 'auto', in the workers too); "
            f"medians of {result['repeats']} interleaved repeats after one "
            "untimed search each.",
            "",
            "| n_jobs | seconds |",
            "|---:|---:|",
            *[
                f"| {name.split('=')[1]} | {value:.2f} |"
                for name, value in times.items()
            ],
            "",
            describe_verdict(result["verdict"]),
        ]
    )


# -- numba's first fit in a fresh process ----------------------------------------
JIT_CHILD = textwrap.dedent(
    """
    import json, sys, time, warnings
    start = time.perf_counter()
    from sklearn.datasets import make_classification
    from sklearn.exceptions import ConvergenceWarning
    from sklearn_sparse_act import SparseMLPClassifier, config_context
    import_seconds = time.perf_counter() - start
    hidden, ratio, rows, epochs, batch_size, seed, n_features, n_classes = (
        json.loads(sys.argv[1])
    )
    X, y = make_classification(
        n_samples=rows, n_features=n_features, n_informative=40,
        n_classes=n_classes, random_state=seed,
    )
    warnings.simplefilter("ignore", ConvergenceWarning)

    def fit_seconds():
        model = SparseMLPClassifier(
            hidden_layer_sizes=tuple(hidden), activation_ratio=ratio,
            max_iter=epochs, batch_size=batch_size, random_state=seed,
        )
        start = time.perf_counter()
        model.fit(X, y)
        return time.perf_counter() - start

    with config_context(kernels="numba"):
        first = fit_seconds()
        repeats = [fit_seconds() for _ in range(3)]
    print(json.dumps({"import_seconds": import_seconds, "first_fit_seconds": first,
                      "repeat_fit_seconds": repeats}))
    """
)


def run_jit_child(cache_dir, settings):
    """One fresh Python process: its first numba fit and the same fit again."""
    jit = settings["jit_fit"]
    arguments = json.dumps(
        [
            list(jit["hidden"]),
            jit["ratio"],
            jit["rows"],
            jit["epochs"],
            settings["batch_size"],
            settings["seed"],
            N_FEATURES,
            N_CLASSES,
        ]
    )
    environment = {**os.environ, "NUMBA_CACHE_DIR": str(cache_dir)}
    completed = subprocess.run(
        [sys.executable, "-c", JIT_CHILD, arguments],
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"the first-fit process failed:\n{completed.stderr}")
    measured = json.loads(completed.stdout.strip().splitlines()[-1])
    repeat = median(measured["repeat_fit_seconds"])
    measured["repeat_fit_median_seconds"] = repeat
    measured["overhead_seconds"] = measured["first_fit_seconds"] - repeat
    return measured


def run_jit(settings, log):
    """numba's first-fit overhead with a cold cache, then a warm one.

    ``NUMBA_CACHE_DIR`` points at a new empty directory for the first process
    (everything is compiled and written there) and at the same directory for
    the second (everything is loaded from it).
    """
    jit = settings["jit_fit"]
    with tempfile.TemporaryDirectory(prefix="numba-cache-") as cache_dir:
        cold = run_jit_child(cache_dir, settings)
        log("  JIT, cold cache done")
        cached_files = sum(len(files) for _, _, files in os.walk(cache_dir))
        warm = run_jit_child(cache_dir, settings)
        log("  JIT, warm cache done")
    return {
        "hidden": list(jit["hidden"]),
        "activation_ratio": jit["ratio"],
        "train_rows": jit["rows"],
        "epochs": jit["epochs"],
        "cache_files_written": cached_files,
        "cold": cold,
        "warm": warm,
    }


def jit_report(result):
    if result is None:
        return "Not run (`--jit` to run it; needs numba)."
    lines = [
        f"`SparseMLPClassifier(hidden_layer_sizes={tuple(result['hidden'])}, "
        f"activation_ratio={result['activation_ratio']:g}, "
        f"max_iter={result['epochs']})` on {result['train_rows']}x{N_FEATURES} "
        "rows with `kernels='numba'`, each in a fresh Python process whose "
        "`NUMBA_CACHE_DIR` is a new temporary directory (cold) and then the same "
        f"directory ({result['cache_files_written']} files written by the cold "
        "run: warm). The first fit compiles (cold) or loads (warm) the kernels "
        "it needs; importing the package beforehand is timed apart (import s); "
        "the repeated fit is the median of 3 more identical fits in the same "
        "process, and the overhead is first minus repeated.",
        "",
        "| cache | import s | first fit s | repeated fit s | overhead s |",
        "|---|---:|---:|---:|---:|",
    ]
    for name in ("cold", "warm"):
        measured = result[name]
        lines.append(
            f"| {name} | {measured['import_seconds']:.2f} | "
            f"{measured['first_fit_seconds']:.2f} | "
            f"{measured['repeat_fit_median_seconds']:.3f} | "
            f"{measured['overhead_seconds']:.2f} |"
        )
    return "\n".join(lines)


def markdown_table(rows, test_rows):
    header = [
        "hidden",
        "dtype",
        "model",
        "train rows",
        "fit s/epoch",
        "fit ×",
        f"predict {test_rows} rows s",
        "predict ×",
        "1-row proba ms",
        "1-row ×",
        "fit peak MiB",
        "fit mem ×",
        "predict peak MiB",
        "predict mem ×",
        "accuracy",
        "Δ acc",
    ]
    lines = [
        "| " + " | ".join(header) + " |",
        "|" + "|".join(["---"] * 3 + ["---:"] * (len(header) - 3)) + "|",
    ]
    mib = 1024.0**2
    for row in rows:
        cells = [
            str(tuple(row["hidden"])),
            row["dtype"],
            row["method"],
            str(row["train_rows"]),
            f"{row['fit_seconds_per_epoch']:.3f}",
            f"{row['fit_seconds_per_epoch_ratio']:.2f}",
            f"{row['predict_seconds']:.3f}",
            f"{row['predict_seconds_ratio']:.2f}",
            f"{row['one_row_proba_seconds'] * 1e3:.3f}",
            f"{row['one_row_proba_seconds_ratio']:.2f}",
            f"{row['fit_peak_bytes'] / mib:.1f}",
            f"{row['fit_peak_bytes_ratio']:.2f}",
            f"{row['predict_peak_bytes'] / mib:.1f}",
            f"{row['predict_peak_bytes_ratio']:.2f}",
            f"{row['accuracy']:.4f}",
            f"{row['accuracy_delta']:+.4f}",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def blas_description(environment):
    pools = [
        f"{pool.get('internal_api')} {pool.get('version')} "
        f"(kernel {pool.get('architecture')}, {pool.get('num_threads')} threads)"
        for pool in environment["threadpools"]
        if pool.get("user_api") == "blas"
    ]
    return "; ".join(pools) or "no BLAS pool reported"


def markdown_report(results, settings, environment, elapsed_seconds):
    """The whole report: the table, the targets and the extra sections."""
    rows, verdicts = results["rows"], results["targets"]
    openblas = ", ".join(
        f"{name}={value if value is not None else 'unset'}"
        for name, value in environment["openblas_variables"].items()
    )
    lines = [
        "# SparseMLPClassifier vs scikit-learn's MLPClassifier",
        "",
        f"Command: `{environment['command']}`",
        "",
        f"scikit-learn {environment['sklearn']}, NumPy {environment['numpy']}, "
        f"sklearn-sparse-act {environment['sklearn_sparse_act']} "
        f"(commit {environment['git_commit'] or 'unknown'}), Python "
        f"{environment['python']}, {environment['cpu_count']} CPUs "
        f"({environment['processor']}); BLAS: {blas_description(environment)}; "
        f"{openblas}. Load average at start {environment['load_start']}, at end "
        f"{environment['load_end']}. Run took {elapsed_seconds / 60:.1f} min.",
        "",
        f"Adam, {settings['epochs']} epochs (tol=0), batch size "
        f"{settings['batch_size']}, seed {settings['seed']}; "
        f"{N_CLASSES}-class synthetic data with {N_FEATURES} features, "
        f"{settings['test_rows']} held-out rows; kernel backends "
        f"{', '.join(settings['kernels'])} (each of our models runs inside "
        "`config_context(kernels=...)`, after an untimed warm-up fit for numba); "
        f"medians of {settings['repeats']} interleaved repeats. Columns marked × "
        "are ours / scikit-learn's in the same dtype (median of per-repeat ratios "
        "for times; below 1 is better); held-out predict time is the median of "
        f"{settings['predict_calls']} consecutive calls; one-row latency is the "
        "median of "
        f"{settings['one_row_calls']} single-row `predict_proba` calls; memory is "
        "the tracemalloc peak of a one-epoch fit and of the held-out predict.",
        "",
        markdown_table(rows, settings["test_rows"]),
        "",
        "## Targets",
        "",
        "The issue's targets, each on the float64 row of its backend:",
        "",
        *[describe_verdict(verdict) for verdict in verdicts],
        "",
        "## float32 against float64",
        "",
        "Ours in float32 / the same model in float64: for fit, the median of "
        "per-repeat ratios (both dtypes are timed in the same interleaved "
        "repeats); for the predictions, the median of the ratios of calls made "
        "in pairs, the two dtypes of the last repeat's model one right after "
        f"the other ({settings['predict_calls']} held-out predicts and "
        f"{settings['one_row_calls']} single rows of each):",
        "",
        float32_table(results["float32_checks"]),
        "",
        "## GridSearchCV, n_jobs=2 against n_jobs=1",
        "",
        grid_search_report(results["grid_search"]),
        "",
        "## numba's first fit (JIT) in a fresh process",
        "",
        jit_report(results["jit"]),
        "",
    ]
    return "\n".join(lines)


def write_csv(rows, path):
    columns = [name for name in rows[0] if name != "raw"]
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow({**row, "hidden": "x".join(map(str, row["hidden"]))})


def plot_speedups(rows, path):
    """Fit and predict speed-up (scikit-learn time / ours) against the ratio.

    Returns False without writing anything when matplotlib is not installed.
    """
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        from matplotlib.ticker import FuncFormatter, NullFormatter
    except ImportError:
        return False

    panels = [
        ("fit_seconds_per_epoch_ratio", "fit (per epoch)"),
        ("predict_seconds_ratio", "predict, held-out rows"),
        ("one_row_proba_seconds_ratio", "predict_proba, one row"),
    ]
    figure, axes = plt.subplots(1, len(panels), figsize=(15, 4.5), sharey=True)
    series = sorted(
        {
            (tuple(row["hidden"]), row["kernels"], row["dtype"])
            for row in rows
            if row["strategy"] == "fixed"
        }
    )
    measured_ratios = sorted({row["ratio"] for row in rows})
    plain_number = FuncFormatter(lambda value, _: f"{value:g}")
    for axis, (metric, title) in zip(axes, panels, strict=True):
        for hidden, kernels, dtype in series:
            points = sorted(
                (row["ratio"], 1.0 / row[metric])
                for row in rows
                if row["strategy"] == "fixed"
                and tuple(row["hidden"]) == hidden
                and row["kernels"] == kernels
                and row["dtype"] == dtype
            )
            ratios, speedups = zip(*points, strict=True)
            axis.plot(
                ratios,
                speedups,
                marker="o" if kernels == "numba" else "s",
                linestyle="-" if dtype == "float64" else "--",
                label=f"{hidden} {kernels} {dtype}",
            )
        axis.axhline(1.0, color="grey", linewidth=0.8)
        axis.set_xscale("log")
        axis.set_yscale("log")
        axis.set_xticks(measured_ratios)
        axis.xaxis.set_major_formatter(plain_number)
        axis.xaxis.set_minor_formatter(NullFormatter())
        axis.yaxis.set_major_formatter(plain_number)
        axis.yaxis.set_minor_formatter(plain_number)
        axis.set_xlabel("activation ratio")
        axis.set_title(title)
        axis.grid(True, which="both", alpha=0.3)
    axes[0].set_ylabel("speed-up over scikit-learn (sklearn time / ours)")
    axes[-1].legend(fontsize="small")
    figure.suptitle("SparseMLPClassifier ('fixed') vs scikit-learn's MLPClassifier")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return True


def git_commit():
    try:
        completed = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=Path(__file__).resolve().parent,
            capture_output=True,
            text=True,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError):
        return None
    return completed.stdout.strip() or None


def load_average():
    try:
        return ", ".join(f"{value:.2f}" for value in os.getloadavg())
    except OSError:
        return "unknown"


def describe_environment():
    return {
        "command": " ".join(["python", *sys.argv]),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "sklearn": sklearn.__version__,
        "sklearn_sparse_act": sklearn_sparse_act.__version__,
        "git_commit": git_commit(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "threadpools": threadpoolctl.threadpool_info(),
        "openblas_variables": {
            name: os.environ.get(name) for name in OPENBLAS_VARIABLES
        },
        "load_start": load_average(),
    }


def restart_without_openblas_variables():
    """Re-run this process without OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE.

    OpenBLAS reads them when it is loaded, so the benchmark restarts itself
    rather than changing them in place. Returns only if neither is set.
    """
    if not any(name in os.environ for name in OPENBLAS_VARIABLES):
        return
    environment = {
        name: value
        for name, value in os.environ.items()
        if name not in OPENBLAS_VARIABLES
    }
    print(
        "restarting without " + " and ".join(OPENBLAS_VARIABLES),
        file=sys.stderr,
        flush=True,
    )
    os.execve(sys.executable, [sys.executable, *sys.argv], environment)


def main(argv=None):
    args = build_parser().parse_args(argv)
    if args.unset_openblas_env:
        restart_without_openblas_variables()
    settings = resolve_settings(args)

    def log(message):
        print(message, file=sys.stderr, flush=True)

    environment = describe_environment()
    rows_per_hidden = {
        hidden: settings["train_rows"] or training_rows(hidden)
        for hidden in settings["hidden"]
    }
    pool_rows = max(rows_per_hidden.values())
    if settings["grid_search"]:
        pool_rows = max(pool_rows, settings["grid"]["rows"])
    data_pool = make_data(pool_rows, settings["test_rows"], settings["seed"])
    # The objects of the imported libraries and the data live to the end: keep
    # them out of the collections run before every timed call.
    gc.freeze()
    started = time.perf_counter()
    rows = []
    grid_search = jit = None
    with threadpoolctl.threadpool_limits(limits=settings["blas_threads"]):
        environment["threadpools"] = threadpoolctl.threadpool_info()
        for hidden in settings["hidden"]:
            log(
                f"hidden {hidden}, {rows_per_hidden[hidden]} training rows, "
                f"{' and '.join(settings['dtypes'])}, kernels "
                f"{' and '.join(settings['kernels'])} "
                f"({time.perf_counter() - started:.0f} s elapsed)"
            )
            rows.extend(
                run_configuration(
                    hidden, rows_per_hidden[hidden], data_pool, settings, log
                )
            )
        if settings["grid_search"]:
            log(f"GridSearchCV ({time.perf_counter() - started:.0f} s elapsed)")
            grid_search = run_grid_search(data_pool, settings, log)
    if settings["jit"]:
        log(f"first fit in fresh processes ({time.perf_counter() - started:.0f} s)")
        jit = run_jit(settings, log)
    elapsed = time.perf_counter() - started
    environment["load_end"] = load_average()
    results = {
        "rows": rows,
        "targets": evaluate_targets(rows),
        "float32_checks": float32_checks(rows),
        "grid_search": grid_search,
        "jit": jit,
    }

    output_dir = args.output_dir
    output_dir.mkdir(parents=True, exist_ok=True)
    report = markdown_report(results, settings, environment, elapsed)
    (output_dir / "results.md").write_text(report)
    json_settings = {
        **settings,
        "hidden": [list(sizes) for sizes in settings["hidden"]],
        "grid": {**settings["grid"], "hidden": list(settings["grid"]["hidden"])},
        "jit_fit": {
            **settings["jit_fit"],
            "hidden": list(settings["jit_fit"]["hidden"]),
        },
    }
    (output_dir / "results.json").write_text(
        json.dumps(
            {
                "settings": json_settings,
                "environment": environment,
                "elapsed_seconds": elapsed,
                **results,
            },
            indent=2,
        )
    )
    write_csv(rows, output_dir / "results.csv")
    plotted = plot_speedups(rows, output_dir / "speedup_vs_ratio.png")
    print(report)
    print(f"results written to {output_dir}")
    if not plotted:
        print("matplotlib is not installed: no speedup_vs_ratio.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
