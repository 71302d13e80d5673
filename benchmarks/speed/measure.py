"""Measuring the models of one architecture: memory, timed repeats, summaries.

:func:`run_configuration` is one architecture of a run: an untimed warm-up of
the numba models, the memory of every model, then repeats in which every
model of every dtype and backend is fitted and timed once, in an order rotated
from repeat to repeat; then float32 and float64 predictions called in pairs.
Each model's row holds the medians of its repeats and its ratios to
scikit-learn's MLP from the same repeats.
"""

from functools import partial
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

# Metrics timed in every repeat (seconds) and the memory metrics (bytes).
TIME_METRICS = ("fit_seconds_per_epoch", "predict_seconds", "one_row_proba_seconds")
MEMORY_METRICS = ("fit_peak_bytes", "predict_peak_bytes")


def measure_memory(method, data, settings, hidden):
    """Peak traced bytes of a one-epoch fit and of predicting the held-out rows."""
    X_train, y_train, X_test, _ = data
    with method.context():
        model = method.build(hidden, 1, settings.batch_size, settings.seed)
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
        summary[f"{metric}_ratio"] = memory[metric] / baseline_memory[metric]
    return summary


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
    memory = {
        (dtype, method): measure_memory(method, data[dtype], settings, hidden)
        for dtype, method in slots
    }
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
