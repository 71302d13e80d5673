"""Held-out accuracy of SparseMLP* against scikit-learn's MLP, defaults vs defaults.

Every model is built with its library's default parameters (ours at the
default ``activation_ratio``), fitted in ``make_pipeline(StandardScaler(), model)``
on 70% of a data set split with ``random_state=seed`` and scored on the other
30%. Four cases are measured, each against scikit-learn in the same run:

1. the main table: bundled and generated classification/regression data sets;
   its regression rows also against scikit-learn's MLP on standardized
   targets (``TransformedTargetRegressor(MLPRegressor(),
   transformer=StandardScaler())``), as our regressor trains by default;
2. a small network scored by 3-fold ``cross_validate`` (digits / 16, no scaler);
3. streaming: ``partial_fit`` over 300-row chunks of the digits, 5 passes;
4. iso-active units: dense width ``w`` against ours at width ``w / ratio``.

Targets: classification, ours >= scikit-learn - 1 accuracy point; regression,
ours >= scikit-learn - 2 R^2 points (R^2 x 100); cases 2 and 3, ours >=
scikit-learn - 2 points. ``--main-only`` runs the main table alone. Usage:
``python benchmarks/bench_accuracy.py --help``.
"""

import shlex
import sys
import time
from pathlib import Path

if not __package__:  # run as a script: make the benchmarks package importable
    sys.path.append(str(Path(__file__).resolve().parents[1]))

from benchmarks.accuracy.cases import plan_jobs, run_all
from benchmarks.accuracy.report import render_markdown
from benchmarks.accuracy.settings import parse_args


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    args, settings = parse_args(argv)
    command = shlex.join(["python", "benchmarks/bench_accuracy.py", *argv])
    start = time.perf_counter()
    results = run_all(plan_jobs(settings), settings)
    elapsed = time.perf_counter() - start
    markdown = render_markdown(results, settings, elapsed, command)
    print(markdown)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(markdown)
    print(f"elapsed {elapsed:.1f} s; wrote {args.output}", file=sys.stderr)
    return results


if __name__ == "__main__":
    main()
