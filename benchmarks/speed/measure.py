"""Measuring the models of one architecture: memory, timed repeats, summaries.

:func:`run_configuration` is one architecture of a run: an untimed warm-up of
the numba models, the memory of every model (traced bytes here, at the
training size and at ``memory_scale`` times it; peak resident memory in fresh
processes, :mod:`benchmarks.speed.resident`), then repeats in which every
model of every dtype and backend is fitted and timed once, in an order rotated
from repeat to repeat; then float32 and float64 predictions called in pairs.
Each model's row holds the medians of its repeats and its ratios to
scikit-learn's MLP from the same repeats.
"""

import math
import tempfile
from functools import partial
from pathlib import Path
from statistics import median

import numpy as np

from benchmarks.harness.fitting import fit_quietly
from benchmarks.harness.memory import traced_peak_bytes
from benchmarks.harness.timing import (
    interleaved_seconds,
    paired_ratios,
    rotated,
    seconds_of,
    timed,
)
from benchmarks.speed.models import methods_for, warm_up
from benchmarks.speed.resident import measure_resident, write_data

# Metrics timed in every repeat (seconds) and the memory metrics (bytes): the
# traced peaks, then the growths of the peak RSS; 'scaled_' is the fit on
# memory_scale times the training rows. A run has those it measured.
TIME_METRICS = ("fit_seconds_per_epoch", "predict_seconds", "one_row_proba_seconds")
MEMORY_METRICS = (
    "fit_peak_bytes",
    "scaled_fit_peak_bytes",
    "predict_peak_bytes",
    "fit_peak_rss_bytes",
    "scaled_fit_peak_rss_bytes",
    "predict_peak_rss_bytes",
)


def measure_memory(method, sizes, settings, hidden, data_files=None):
    """Peak memory of one model: of a one-epoch fit at each training size and
    of predicting the held-out rows.

    ``sizes`` maps a metric prefix (``""`` for the training size,
    ``"scaled_"`` for the larger one) to that size's data. Traced bytes are
    measured in this process (``tracemalloc``); with ``data_files`` (the same
    prefixes to the data's ``.npz`` files), the growth of the peak RSS too, in
    a fresh process per size (the predict in the first size's).
    """
    memory = {}
    with method.context():
        for prefix, (X_train, y_train, X_test, _) in sizes.items():
            model = method.build(hidden, 1, settings.batch_size, settings.seed)
            memory[f"{prefix}fit_peak_bytes"] = traced_peak_bytes(
                partial(fit_quietly, model, X_train, y_train)
            )
            if not prefix:
                memory["predict_peak_bytes"] = traced_peak_bytes(
                    partial(model.predict, X_test)
                )
    if data_files is None:
        return memory
    exact = True
    for prefix, path in data_files.items():
        resident = measure_resident(method, hidden, settings, path, not prefix)
        memory[f"{prefix}fit_peak_rss_bytes"] = resident["fit_peak_rss_bytes"]
        if not prefix:
            memory["predict_peak_rss_bytes"] = resident["predict_peak_rss_bytes"]
        exact = exact and resident["exact"]
    memory["peak_rss_exact"] = exact
    return memory


def memory_sizes(X_pool, y_pool, X_test, y_test, n_rows, dtype, settings):
    """The data of each training size of the memory measurements, by metric
    prefix (see :func:`measure_memory`)."""
    row_counts = {"": n_rows}
    if settings.memory_scale is not None:
        row_counts["scaled_"] = n_rows * settings.memory_scale
    return {
        prefix: (
            X_pool[:rows].astype(dtype),
            y_pool[:rows],
            X_test.astype(dtype),
            y_test,
        )
        for prefix, rows in row_counts.items()
    }


def measure_once(method, data, settings, hidden):
    """Fit, held-out predict and one-row latency of one model, timed once;
    returns the measurements and the fitted model."""
    with method.context():
        return _measure_once(method, data, settings, hidden)


def _measure_once(method, data, settings, hidden):
    X_train, y_train, X_test, y_test = data
    model = method.build(hidden, settings.epochs, settings.batch_size, settings.seed)
    fit_seconds = seconds_of(lambda: fit_quietly(model, X_train, y_train), True)
    if model.n_iter_ != settings.epochs:
        raise RuntimeError(
            f"{method.label} ran {model.n_iter_} epochs instead of "
            f"{settings.epochs}: the comparison would be unfair"
        )

    predict_times = []
    for _ in range(settings.predict_calls):
        batch_predictions, seconds = timed(partial(model.predict, X_test), True)
        predict_times.append(seconds)

    # One-row latency is timed on predict_proba (the metric of the targets);
    # the untimed single-row predict checks that the row path gives the
    # batched labels.
    n_calls = min(settings.one_row_calls, X_test.shape[0])
    model.predict_proba(X_test[:1])
    latencies = []
    agreeing = 0
    for row in range(n_calls):
        single_row = X_test[row : row + 1]
        latencies.append(seconds_of(partial(model.predict_proba, single_row)))
        agreeing += int(model.predict(single_row)[0] == batch_predictions[row])

    return {
        "fit_seconds_per_epoch": fit_seconds / model.n_iter_,
        "predict_seconds": median(predict_times),
        "one_row_proba_seconds": median(latencies),
        "accuracy": float(np.mean(batch_predictions == y_test)),
        "row_path_agreement": agreeing / n_calls,
        "n_iter": int(model.n_iter_),
    }, model


def summarise(raw, baseline_raw, memory, baseline_memory):
    """Medians of a model's repeats and its ratios to scikit-learn's MLP."""
    summary = {metric: median(raw[metric]) for metric in TIME_METRICS}
    summary.update(memory)
    summary["accuracy"] = median(raw["accuracy"])
    summary["row_path_agreement"] = min(raw["row_path_agreement"])
    summary["accuracy_delta"] = summary["accuracy"] - median(baseline_raw["accuracy"])
    for metric in TIME_METRICS:
        ratios = paired_ratios(raw[metric], baseline_raw[metric])
        summary[f"{metric}_ratio"] = median(ratios)
        summary[f"{metric}_ratio_range"] = [min(ratios), max(ratios)]
    for metric in MEMORY_METRICS:
        if metric in memory:
            summary[f"{metric}_ratio"] = memory_ratio(
                memory[metric], baseline_memory[metric]
            )
    return summary


def memory_ratio(ours, baseline):
    """Ours / scikit-learn's memory; NaN when scikit-learn's is 0 (a peak RSS
    that did not grow), where no ratio means anything.

    Examples
    --------
    >>> memory_ratio(3, 2), memory_ratio(0, 0)
    (1.5, nan)
    """
    return ours / baseline if baseline > 0 else math.nan


def run_configuration(hidden, n_rows, data_pool, settings, log):
    """All models of one architecture, every dtype and backend interleaved:
    warm-up, memory, then timed repeats. Returns one row per model and dtype."""
    X_pool, y_pool, X_test, y_test = data_pool
    data = {
        dtype: (
            X_pool[:n_rows].astype(dtype),
            y_pool[:n_rows],
            X_test.astype(dtype),
            y_test,
        )
        for dtype in settings.dtypes
    }
    methods = methods_for(settings)
    slots = [(dtype, method) for dtype in settings.dtypes for method in methods]
    for dtype, method in slots:
        if method.kernels == "numba":
            warm_up(method, data[dtype], settings, hidden)
    memory = measure_all_memory(slots, data_pool, n_rows, settings, hidden)
    log("  warm-up and memory done")
    raw = {slot: {} for slot in slots}
    fitted = {}
    for repeat in range(settings.repeats):
        for dtype, method in rotated(slots, repeat):
            measured, fitted[dtype, method] = measure_once(
                method, data[dtype], settings, hidden
            )
            for name, value in measured.items():
                raw[dtype, method].setdefault(name, []).append(value)
        log(f"  repeat {repeat + 1}/{settings.repeats} done")
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
        if {"float32", "float64"} <= set(settings.dtypes)
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
                "scaled_train_rows": (
                    None
                    if settings.memory_scale is None
                    else n_rows * settings.memory_scale
                ),
                "test_rows": int(X_test.shape[0]),
                **summarise(
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


def measure_all_memory(slots, data_pool, n_rows, settings, hidden):
    """:func:`measure_memory` of every (dtype, model) slot; with
    ``settings.rss`` the data of each dtype and size goes to a temporary
    ``.npz`` file for the fresh processes."""
    memory = {}
    with tempfile.TemporaryDirectory(prefix="memory-data-") as directory:
        for dtype in dict.fromkeys(dtype for dtype, _ in slots):
            sizes = memory_sizes(*data_pool, n_rows, dtype, settings)
            data_files = None
            if settings.rss:
                data_files = {
                    prefix: write_data(
                        Path(directory) / f"{dtype}-{prefix or 'base'}.npz", *size[:3]
                    )
                    for prefix, size in sizes.items()
                }
            for slot_dtype, method in slots:
                if slot_dtype == dtype:
                    memory[dtype, method] = measure_memory(
                        method, sizes, settings, hidden, data_files
                    )
            del sizes
    return memory


def interleaved_dtype_ratios(method, single, double, X_single, X_double, settings):
    """float32 / float64 times of the same fitted model, its two dtypes called
    in pairs, one right after the other (each dtype first in every other
    pair): the held-out predict ``predict_calls`` times and the one-row
    ``predict_proba`` ``one_row_calls`` times, as per-pair ratios.

    A repeat times the two dtypes of a model a minute apart, and the machine's
    speed drifts by more than the few percent float32 saves on a call of tens
    of microseconds; the two calls of a pair see the same machine.
    """
    n_rows = min(settings.one_row_calls, X_single.shape[0])
    with method.context():
        predict = interleaved_seconds(
            {
                "float32": lambda _: single.predict(X_single),
                "float64": lambda _: double.predict(X_double),
            },
            settings.predict_calls,
            collect_garbage=True,
        )
        one_row = interleaved_seconds(
            {
                "float32": lambda row: single.predict_proba(X_single[row : row + 1]),
                "float64": lambda row: double.predict_proba(X_double[row : row + 1]),
            },
            n_rows,
        )
    return {
        "predict_seconds": paired_ratios(predict["float32"], predict["float64"]),
        "one_row_proba_seconds": paired_ratios(one_row["float32"], one_row["float64"]),
    }
