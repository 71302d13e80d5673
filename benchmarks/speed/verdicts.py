"""A speed run judged against its targets (:mod:`benchmarks.speed.targets`).

Every function here takes the rows of a run (one per model and dtype, as
:func:`benchmarks.speed.measure.run_configuration` makes them) and returns
JSON-ready verdicts or their Markdown.
"""

from statistics import median

from benchmarks.harness import targets as harness_targets
from benchmarks.harness.reporting import markdown_table
from benchmarks.harness.targets import MISSED, NOT_MEASURED
from benchmarks.harness.timing import paired_ratios
from benchmarks.speed.measure import TIME_METRICS
from benchmarks.speed.targets import (
    DENSE_ACCURACY_TARGET,
    DYNAMIC_TARGETS,
    FLOAT32_TARGET,
    MEMORY_TARGETS,
    ROW_PATH_TARGET,
    TARGETS,
)

METRIC_NAMES = {
    "fit_seconds_per_epoch": "fit",
    "predict_seconds": "predict",
    "one_row_proba_seconds": "1-row predict_proba",
}


def evaluate_targets(rows):
    """Each target's verdict on the run's rows (met, missed or not measured),
    then the memory verdicts (:func:`memory_verdicts`) and the verdicts on the
    prediction paths (:func:`accuracy_verdicts`)."""
    verdicts = []
    for target in TARGETS:
        matches = [row for row in rows if target.selects(row)]
        if not matches:
            verdicts.append(target.not_measured(name=target.name))
            continue
        verdicts.append(
            target.verdict(
                matches[0][f"{target.metric}_ratio"],
                name=target.name,
                repeat_range=matches[0].get(f"{target.metric}_ratio_range"),
            )
        )
    verdicts.extend(memory_verdicts(rows))
    verdicts.extend(accuracy_verdicts(rows))
    return verdicts


def memory_verdicts(rows):
    """Each memory target's verdict on the largest ratio among the rows it
    selects, named with that row's model, or not measured when it selects
    none."""
    verdicts = []
    for target in MEMORY_TARGETS:
        matches = [row for row in rows if target.selects(row)]
        if not matches:
            verdicts.append(target.not_measured())
            continue
        worst = max(matches, key=lambda row: row[f"{target.metric}_ratio"])
        where = f"{worst['method']}, hidden {tuple(worst['hidden'])} [{worst['dtype']}]"
        verdicts.append(
            target.verdict(
                worst[f"{target.metric}_ratio"],
                name=f"{target.description} (largest: {where})",
            )
        )
    return verdicts


def accuracy_verdicts(rows):
    """The prediction path must not change accuracy.

    Our dense path must match scikit-learn's accuracy, and for every model the
    single-row predictions must equal the batched ones.
    """
    verdicts = []
    for row in rows:
        where = f"{row['method']}, hidden {tuple(row['hidden'])} [{row['dtype']}]"
        if row["strategy"] == "fixed" and row["ratio"] == 1.0:
            verdicts.append(
                DENSE_ACCURACY_TARGET.verdict(
                    abs(row["accuracy_delta"]),
                    name=f"{DENSE_ACCURACY_TARGET.description}: {where}",
                )
            )
        if not ROW_PATH_TARGET.is_met(row["row_path_agreement"]):
            verdicts.append(
                ROW_PATH_TARGET.verdict(
                    row["row_path_agreement"],
                    name=f"{ROW_PATH_TARGET.description}: {where}",
                )
            )
    if rows and all(ROW_PATH_TARGET.is_met(row["row_path_agreement"]) for row in rows):
        verdicts.append(
            ROW_PATH_TARGET.verdict(
                ROW_PATH_TARGET.bound,
                name=f"{ROW_PATH_TARGET.description}, every model",
            )
        )
    return verdicts


def describe_verdict(verdict):
    """One Markdown list item for a verdict of this benchmark: an agreement
    for the prediction paths, an accuracy difference for the dense path, a
    ratio otherwise."""
    name, measured = verdict["target"], verdict.get("measured")
    if verdict["status"] != NOT_MEASURED:
        if name.startswith(ROW_PATH_TARGET.description):
            return harness_targets.describe_verdict(
                verdict, f"agreement {measured:.1%}"
            )
        if name.startswith(DENSE_ACCURACY_TARGET.description):
            return harness_targets.describe_verdict(
                verdict, f"|difference| {measured:.4f}, allowed {verdict['bound']:g}"
            )
    return harness_targets.describe_verdict(verdict)


def float32_checks(rows):
    """Ours in float32 against the same model in float64, for every metric.

    One entry per architecture, model and metric, met when within
    :data:`~benchmarks.speed.targets.FLOAT32_TARGET`: for the predictions, the
    median of the float32 / float64 ratios of calls made in pairs
    (:func:`~benchmarks.speed.measure.interleaved_dtype_ratios`); for the fit
    (and when a row has no pairs), the median over repeats of float32 time /
    float64 time from the same repeat.
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
                ratios = paired_ratios(single["raw"][metric], double["raw"][metric])
            measured = median(ratios)
            verdict = FLOAT32_TARGET.verdict(measured)
            checks.append(
                {
                    "hidden": list(hidden),
                    "method": method,
                    "kernels": single.get("kernels", ""),
                    "metric": metric,
                    "measured": measured,
                    "repeat_range": [min(ratios), max(ratios)],
                    "bound": verdict["bound"],
                    "status": verdict["status"],
                }
            )
    return checks


def float32_table(checks):
    """One line per architecture and model: float32 / float64 per metric."""
    if not checks:
        return "Not measured: the run needs both float32 and float64."
    grouped = {}
    for check in checks:
        grouped.setdefault((tuple(check["hidden"]), check["method"]), {})[
            check["metric"]
        ] = check
    table_rows = []
    for (hidden, method), by_metric in grouped.items():
        missed = [
            METRIC_NAMES[metric]
            for metric, check in by_metric.items()
            if check["status"] == MISSED
        ]
        verdict = "MISSED: " + ", ".join(missed) if missed else "MET"
        cells = [str(hidden), method]
        cells.extend(
            f"{by_metric[metric]['measured']:.2f}" if metric in by_metric else "-"
            for metric in TIME_METRICS
        )
        table_rows.append([*cells, verdict])
    header = ["hidden", "model", *(METRIC_NAMES[m] for m in TIME_METRICS), "verdict"]
    lines = markdown_table(header, table_rows, "ll" + "r" * len(TIME_METRICS) + "l")
    n_missed = sum(check["status"] == MISSED for check in checks)
    lines.append("")
    lines.append(
        f"- {'MET' if n_missed == 0 else 'MISSED'}: "
        f"{FLOAT32_TARGET.description} "
        f"(float32 / float64 <= {FLOAT32_TARGET.bound:g}): "
        f"{len(checks) - n_missed} of {len(checks)} model-metric pairs"
    )
    return "\n".join(lines)


def dynamic_checks(rows):
    """Each 'dynamic' model's fit time against the 'fixed' model of the same
    architecture, dtype, backend and ratio: the median over repeats of the
    ratio of their times in the same repeat, judged by the backend's
    :data:`~benchmarks.speed.targets.DYNAMIC_TARGETS` bound."""
    fixed = {
        (tuple(row["hidden"]), row["dtype"], row.get("kernels"), row["ratio"]): row
        for row in rows
        if row["strategy"] == "fixed"
    }
    checks = []
    for row in rows:
        key = (tuple(row["hidden"]), row["dtype"], row.get("kernels"), row["ratio"])
        if row["strategy"] != "dynamic" or key not in fixed:
            continue
        metric = "fit_seconds_per_epoch"
        ratios = paired_ratios(row["raw"][metric], fixed[key]["raw"][metric])
        target = DYNAMIC_TARGETS[row["kernels"]]
        name = f"{target.description}, {key[0]} at {key[3]:g} [{key[1]}]"
        checks.append(
            target.verdict(
                median(ratios), name=name, repeat_range=[min(ratios), max(ratios)]
            )
        )
    return checks
