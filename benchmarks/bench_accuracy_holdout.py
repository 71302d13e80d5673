"""Defaults on data sets beyond the ones of ``bench_accuracy.py`` (a second check).

``bench_accuracy.py`` is the table the defaults were chosen on; this script
scores the same models (every parameter at its default on both sides, 70/30
split, ``StandardScaler`` pipeline, seeds 0-2) on other generated data sets,
which were fixed before any candidate default was measured on them (every
candidate was then scored on both scripts: a check on more data, not an
untouched hold-out). Same options as
``bench_accuracy.py`` for ``--ours-params``, ``--strategies``, ``--seeds`` and
``--n-jobs``. Usage: ``python benchmarks/bench_accuracy_holdout.py --n-jobs 2``.
"""

import sys
import time
from pathlib import Path

if not __package__:  # run as a script: make the benchmarks package importable
    sys.path.append(str(Path(__file__).resolve().parents[1]))

from benchmarks.accuracy.cases import plan_main_table, run_all
from benchmarks.accuracy.datasets import ALL_DATASETS, HOLDOUT_DATASETS
from benchmarks.accuracy.report import (
    comparison_table,
    epochs_line,
    main_table_rows,
    pass_counts,
)
from benchmarks.accuracy.settings import DEFAULT_OUTPUT, parse_args


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if "--output" not in argv:
        argv = [*argv, "--output", str(DEFAULT_OUTPUT.with_name("accuracy_holdout.md"))]
    args, settings = parse_args(
        argv,
        ALL_DATASETS,
        default_datasets=HOLDOUT_DATASETS,
        quick_datasets=HOLDOUT_DATASETS,
    )
    start = time.perf_counter()
    results = run_all(plan_main_table(settings), settings, single_thread=True)
    elapsed = time.perf_counter() - start
    rows = main_table_rows(settings.datasets)
    table, passed = comparison_table(
        results, "main", rows, settings, ["data set", "metric"]
    )
    command = " ".join(["python", "benchmarks/bench_accuracy_holdout.py", *argv])
    markdown = "\n".join(
        [
            "# Hold-out data sets: scikit-learn's MLP against sklearn-sparse-act",
            "",
            f"Command: `{command}`",
            "",
            f"Elapsed: {elapsed:.1f} s; seeds {list(settings.seeds)}; ours params "
            f"{settings.ours_params}.",
            "",
            *table,
            "",
            f"PASS count: {pass_counts(passed, settings, len(rows))}. "
            f"{epochs_line(results, settings)}",
            "",
        ]
    )
    print(markdown)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(markdown)
    return results


if __name__ == "__main__":
    main()
