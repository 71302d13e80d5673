"""The speed benchmark's outputs: ``results.md``, ``results.csv`` and the plot.

``results.md`` (also printed) has the table of every model, the environment,
the verdicts, the float32 table and the GridSearchCV and first-fit sections;
``results.csv`` one row per model; ``speedup_vs_ratio.png`` the speed-ups
against the activation ratio.
"""

from benchmarks.harness.environment import blas_description, openblas_description
from benchmarks.harness.reporting import load_pyplot, markdown_table, write_csv
from benchmarks.speed.measure import MEMORY_METRICS
from benchmarks.speed.settings import N_CLASSES, N_FEATURES
from benchmarks.speed.verdicts import describe_verdict, float32_table

MIB = 1024.0**2


def results_table(rows, test_rows):
    """The Markdown table of every model: times, accuracy, ratios."""
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
        "accuracy",
        "Δ acc",
    ]
    cells = [
        [
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
            f"{row['accuracy']:.4f}",
            f"{row['accuracy_delta']:+.4f}",
        ]
        for row in rows
    ]
    return "\n".join(markdown_table(header, cells, "lll" + "r" * (len(header) - 3)))


def memory_table(rows, memory_scale):
    """The Markdown table of every model's memory: MiB and ratio to
    scikit-learn's for each metric of :data:`MEMORY_METRICS` ("-" where the
    run did not measure it)."""
    scaled = f"{memory_scale}× rows" if memory_scale else "scaled rows"
    names = {
        "fit_peak_bytes": "fit traced MiB",
        "scaled_fit_peak_bytes": f"fit traced MiB, {scaled}",
        "predict_peak_bytes": "predict traced MiB",
        "fit_peak_rss_bytes": "fit RSS MiB",
        "scaled_fit_peak_rss_bytes": f"fit RSS MiB, {scaled}",
        "predict_peak_rss_bytes": "predict RSS MiB",
    }
    header = ["hidden", "dtype", "model", "train rows"]
    for metric in MEMORY_METRICS:
        header.extend([names[metric], "×"])
    cells = []
    for row in rows:
        line = [
            str(tuple(row["hidden"])),
            row["dtype"],
            row["method"],
            str(row["train_rows"]),
        ]
        for metric in MEMORY_METRICS:
            if metric in row:
                line.append(f"{row[metric] / MIB:.1f}")
                line.append(f"{row[f'{metric}_ratio']:.2f}")
            else:
                line.extend(["-", "-"])
        cells.append(line)
    return "\n".join(markdown_table(header, cells, "lll" + "r" * (len(header) - 3)))


def memory_description(settings):
    """What the memory table measures, in a paragraph."""
    scaled = (
        f"and on {settings.memory_scale} times as many rows (the first rows of "
        "the same data), "
        if settings.memory_scale
        else ""
    )
    rss = (
        "RSS is the growth of the peak resident set size during the same fit "
        "(and predict), each model and training size in a fresh Python "
        "process, measured from just before the fit, once the data is loaded "
        "and a two-batch fit has loaded the kernels: it counts every page the "
        "fit touches beyond what the process already held (NumPy's buffers, "
        "numba's and BLAS's allocations, the allocator's slack) and excludes "
        "the data and the libraries' code."
        if settings.rss
        else "Peak resident memory was not measured (`--rss` to measure it)."
    )
    return (
        "Traced is the `tracemalloc` peak (NumPy's buffers and Python objects) "
        f"of a one-epoch fit on the training rows {scaled}and of the held-out "
        f"predict, in this process. {rss} Columns × are ours / scikit-learn's "
        "in the same dtype; memory that does not grow with the rows keeps the "
        "ratio as the rows grow."
    )


def grid_search_report(result):
    """The GridSearchCV section, or why it is missing."""
    if result is None:
        return "Not run (`--grid-search` to run it)."
    times = result["median_seconds"]
    table = markdown_table(
        ["n_jobs", "seconds"],
        [[name.split("=")[1], f"{value:.2f}"] for name, value in times.items()],
        "rr",
    )
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
            *table,
            "",
            describe_verdict(result["verdict"]),
        ]
    )


def first_fit_report(result):
    """The first-fit (JIT) section, or why it is missing."""
    if result is None:
        return "Not run (`--jit` to run it; needs numba)."
    cells = [
        [
            name,
            f"{result[name]['import_seconds']:.2f}",
            f"{result[name]['first_fit_seconds']:.2f}",
            f"{result[name]['repeat_fit_median_seconds']:.3f}",
            f"{result[name]['overhead_seconds']:.2f}",
        ]
        for name in ("cold", "warm")
    ]
    header = ["cache", "import s", "first fit s", "repeated fit s", "overhead s"]
    return "\n".join(
        [
            f"`SparseMLPClassifier(hidden_layer_sizes={tuple(result['hidden'])}, "
            f"activation_ratio={result['activation_ratio']:g}, "
            f"max_iter={result['epochs']})` on {result['train_rows']}x{N_FEATURES} "
            "rows with `kernels='numba'`, each in a fresh Python process whose "
            "`NUMBA_CACHE_DIR` is a new temporary directory (cold) and then the "
            f"same directory ({result['cache_files_written']} files written by the "
            "cold run: warm). The first fit compiles (cold) or loads (warm) the "
            "kernels it needs; importing the package beforehand is timed apart "
            "(import s); the repeated fit is the median of 3 more identical fits "
            "in the same process, and the overhead is first minus repeated.",
            "",
            *markdown_table(header, cells, "lrrrr"),
        ]
    )


def markdown_report(results, settings, environment, elapsed_seconds):
    """The whole report: the table, the targets and the extra sections."""
    lines = [
        "# SparseMLPClassifier vs scikit-learn's MLPClassifier",
        "",
        f"Command: `{environment['command']}`",
        "",
        f"scikit-learn {environment['sklearn']}, NumPy {environment['numpy']}, "
        f"sklearn-sparse-act {environment['sklearn_sparse_act']} "
        f"(commit {environment['git_commit'] or 'unknown'}), Python "
        f"{environment['python']}, {environment['cpu_count']} CPUs "
        f"({environment['processor']}); BLAS: "
        f"{blas_description(environment['threadpools'])}; "
        f"{openblas_description(environment['openblas_variables'])}. Load "
        f"average at start {environment['load_start']}, at end "
        f"{environment['load_end']}. Run took {elapsed_seconds / 60:.1f} min.",
        "",
        f"Adam, {settings.epochs} epochs (tol=0), batch size "
        f"{settings.batch_size}, seed {settings.seed}; "
        f"{N_CLASSES}-class synthetic data with {N_FEATURES} features, "
        f"{settings.test_rows} held-out rows; kernel backends "
        f"{', '.join(settings.kernels)} (each of our models runs inside "
        "`config_context(kernels=...)`, after an untimed warm-up fit for numba); "
        f"medians of {settings.repeats} interleaved repeats. Columns marked × "
        "are ours / scikit-learn's in the same dtype (median of per-repeat ratios "
        "for times; below 1 is better); held-out predict time is the median of "
        f"{settings.predict_calls} consecutive calls; one-row latency is the "
        "median of "
        f"{settings.one_row_calls} single-row `predict_proba` calls; memory is "
        "in its own table below.",
        "",
        results_table(results["rows"], settings.test_rows),
        "",
        "## Memory",
        "",
        memory_description(settings),
        "",
        memory_table(results["rows"], settings.memory_scale),
        "",
        "## Targets",
        "",
        "The speed targets, each on the float64 row of its backend, then the "
        "memory targets, each on the largest ratio among the rows it judges:",
        "",
        *[describe_verdict(verdict) for verdict in results["targets"]],
        "",
        "## 'dynamic' against 'fixed'",
        "",
        "Each 'dynamic' model's fit time over the 'fixed' model's of the same "
        "architecture, dtype, backend and ratio: the median of the ratios of "
        "their times in the same interleaved repeat:",
        "",
        *(
            [describe_verdict(check) for check in results["dynamic_checks"]]
            or ["Not measured: the run has no 'dynamic' model."]
        ),
        "",
        "## float32 against float64",
        "",
        "Ours in float32 / the same model in float64: for fit, the median of "
        "per-repeat ratios (both dtypes are timed in the same interleaved "
        "repeats); for the predictions, the median of the ratios of calls made "
        "in pairs, the two dtypes of the last repeat's model one right after "
        f"the other ({settings.predict_calls} held-out predicts and "
        f"{settings.one_row_calls} single rows of each):",
        "",
        float32_table(results["float32_checks"]),
        "",
        "## GridSearchCV, n_jobs=2 against n_jobs=1",
        "",
        grid_search_report(results["grid_search"]),
        "",
        "## numba's first fit (JIT) in a fresh process",
        "",
        first_fit_report(results["jit"]),
        "",
    ]
    return "\n".join(lines)


def write_rows_csv(rows, path):
    """``results.csv``: one row per model, every column but the raw repeats;
    hidden sizes joined by ``x``."""
    columns = [name for name in rows[0] if name != "raw"]
    write_csv(
        [{**row, "hidden": "x".join(map(str, row["hidden"]))} for row in rows],
        path,
        columns,
    )


def plot_speedups(rows, path):
    """Fit and predict speed-up (scikit-learn time / ours) against the ratio.

    Returns False without writing anything when matplotlib is not installed.
    """
    plt = load_pyplot()
    if plt is None:
        return False
    from matplotlib.ticker import FuncFormatter, NullFormatter

    panels = [
        ("fit_seconds_per_epoch_ratio", "fit (per epoch)"),
        ("predict_seconds_ratio", "predict, held-out rows"),
        ("one_row_proba_seconds_ratio", "predict_proba, one row"),
    ]
    figure, axes = plt.subplots(1, len(panels), figsize=(15, 4.5), sharey=True)
    fixed = [row for row in rows if row["strategy"] == "fixed"]
    series = sorted(
        {(tuple(row["hidden"]), row["kernels"], row["dtype"]) for row in fixed}
    )
    measured_ratios = sorted({row["ratio"] for row in rows})
    plain_number = FuncFormatter(lambda value, _: f"{value:g}")
    for axis, (metric, title) in zip(axes, panels, strict=True):
        for hidden, kernels, dtype in series:
            points = sorted(
                (row["ratio"], 1.0 / row[metric])
                for row in fixed
                if tuple(row["hidden"]) == hidden
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
