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
  an untimed run because tracing slows Python down; the fit also on
  ``--memory-scale`` (default 10) times the training rows, to show whether
  training memory grows with the data beyond the data itself;
- with ``--rss`` (on by default in a full run), the growth of the peak
  resident set size during the same fits and predict, each model and training
  size in a fresh Python process that has loaded the data and made a small
  untimed fit first (see :mod:`benchmarks.speed.resident`): unlike traced
  bytes, it also counts what numba's kernels and BLAS allocate;
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

This script only runs the sections in order; the settings, targets,
measurements and reports are in :mod:`benchmarks.speed`, over the shared
:mod:`benchmarks.harness`.
"""

import gc
import sys
import time
from dataclasses import asdict
from pathlib import Path

import threadpoolctl

if not __package__:  # run as a script: make the benchmarks package importable
    sys.path.append(str(Path(__file__).resolve().parents[1]))

from benchmarks.harness.environment import (
    describe_environment,
    load_average,
    restart_without_openblas_variables,
)
from benchmarks.harness.reporting import write_json
from benchmarks.speed.first_fit import run_first_fit
from benchmarks.speed.grid_search import run_grid_search
from benchmarks.speed.measure import run_configuration
from benchmarks.speed.models import make_data
from benchmarks.speed.report import markdown_report, plot_speedups, write_rows_csv
from benchmarks.speed.settings import build_parser, resolve_settings, training_rows
from benchmarks.speed.verdicts import (
    dynamic_checks,
    evaluate_targets,
    float32_checks,
)


def log(message):
    """Progress, on stderr."""
    print(message, file=sys.stderr, flush=True)


def main(argv=None):
    args = build_parser().parse_args(argv)
    if args.unset_openblas_env:
        restart_without_openblas_variables()
    settings = resolve_settings(args)
    environment = describe_environment()
    rows_per_hidden = {
        hidden: settings.train_rows or training_rows(hidden)
        for hidden in settings.hidden
    }
    pool_rows = max(rows_per_hidden.values()) * (settings.memory_scale or 1)
    if settings.grid_search:
        pool_rows = max(pool_rows, settings.grid.rows)
    data_pool = make_data(pool_rows, settings.test_rows, settings.seed)
    # The objects of the imported libraries and the data live to the end: keep
    # them out of the collections run before every timed call.
    gc.freeze()
    started = time.perf_counter()
    rows = []
    grid_search = first_fit = None
    with threadpoolctl.threadpool_limits(limits=settings.blas_threads):
        environment["threadpools"] = threadpoolctl.threadpool_info()
        for hidden in settings.hidden:
            log(
                f"hidden {hidden}, {rows_per_hidden[hidden]} training rows, "
                f"{' and '.join(settings.dtypes)}, kernels "
                f"{' and '.join(settings.kernels)} "
                f"({time.perf_counter() - started:.0f} s elapsed)"
            )
            rows.extend(
                run_configuration(
                    hidden, rows_per_hidden[hidden], data_pool, settings, log
                )
            )
        if settings.grid_search:
            log(f"GridSearchCV ({time.perf_counter() - started:.0f} s elapsed)")
            grid_search = run_grid_search(data_pool, settings, log)
    if settings.jit:
        log(f"first fit in fresh processes ({time.perf_counter() - started:.0f} s)")
        first_fit = run_first_fit(settings, log)
    elapsed = time.perf_counter() - started
    environment["load_end"] = load_average()
    results = {
        "rows": rows,
        "targets": evaluate_targets(rows),
        "float32_checks": float32_checks(rows),
        "dynamic_checks": dynamic_checks(rows),
        "grid_search": grid_search,
        "jit": first_fit,
    }

    output_dir = args.output_dir
    output_dir.mkdir(parents=True, exist_ok=True)
    report = markdown_report(results, settings, environment, elapsed)
    (output_dir / "results.md").write_text(report)
    write_json(
        {
            "settings": asdict(settings),
            "environment": environment,
            "elapsed_seconds": elapsed,
            **results,
        },
        output_dir / "results.json",
    )
    write_rows_csv(rows, output_dir / "results.csv")
    plotted = plot_speedups(rows, output_dir / "speedup_vs_ratio.png")
    print(report)
    print(f"results written to {output_dir}")
    if not plotted:
        print("matplotlib is not installed: no speedup_vs_ratio.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
