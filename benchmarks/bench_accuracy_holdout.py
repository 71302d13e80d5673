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
import warnings
from itertools import product
from pathlib import Path

from joblib import Parallel, delayed
from sklearn.datasets import (
    make_blobs,
    make_classification,
    make_friedman1,
    make_gaussian_quantiles,
    make_hastie_10_2,
    make_regression,
    make_s_curve,
    make_sparse_uncorrelated,
)
from sklearn.exceptions import ConvergenceWarning

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_accuracy as bench  # noqa: E402


def make_s_curve_regression(**params):
    """Points on an S-shaped surface in 3-d; the target is the curve position."""
    return make_s_curve(**params)


HOLDOUT_DATASETS = {
    "clf_4class_30feat": (
        "classification",
        make_classification,
        dict(n_features=30, n_informative=15, n_classes=4, class_sep=0.8),
    ),
    "clf_binary_50feat_flip": (
        "classification",
        make_classification,
        dict(n_features=50, n_informative=8, n_redundant=10, flip_y=0.02),
    ),
    "hastie_10_2": ("classification", make_hastie_10_2, {}),
    "gaussian_quantiles": (
        "classification",
        make_gaussian_quantiles,
        dict(n_features=6, n_classes=3),
    ),
    "blobs_6_std3": (
        "classification",
        make_blobs,
        dict(centers=6, n_features=8, cluster_std=3.0),
    ),
    "sparse_uncorrelated": ("regression", make_sparse_uncorrelated, {}),
    "linear_50feat": (
        "regression",
        make_regression,
        dict(n_features=50, n_informative=20, noise=20.0),
    ),
    "friedman1_20feat": (
        "regression",
        make_friedman1,
        dict(n_features=20, noise=2.0),
    ),
    "s_curve": ("regression", make_s_curve_regression, dict(noise=0.1)),
}


def score(dataset, model, seed, settings):
    """One main-table fit of a hold-out data set (run in a worker process)."""
    bench.DATASETS.update(HOLDOUT_DATASETS)
    return bench.run_job(bench.main_table_score, (dataset, model, seed), settings, True)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    bench.DATASETS.update(HOLDOUT_DATASETS)
    default_output = bench.DEFAULT_OUTPUT.with_name("accuracy_holdout.md")
    if "--output" not in argv:
        argv = [*argv, "--output", str(default_output)]
    args, settings = bench.parse_args(argv)
    if args.datasets is None:
        settings["datasets"] = list(HOLDOUT_DATASETS)
    models = ["sklearn", *settings["strategies"]]
    keys = list(product(settings["datasets"], models, settings["seeds"]))
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        outputs = Parallel(n_jobs=settings["n_jobs"])(
            delayed(score)(*key, settings) for key in keys
        )
    elapsed = time.perf_counter() - start
    results = {
        ("main", *key): output for key, output in zip(keys, outputs, strict=True)
    }
    rows = [
        (
            name,
            (name, bench.METRIC[bench.DATASETS[name][0]]),
            bench.TOLERANCE[bench.DATASETS[name][0]],
        )
        for name in settings["datasets"]
    ]
    table, passed = bench.comparison_table(
        results, "main", rows, settings, ["data set", "metric"]
    )
    counts = ", ".join(f"{m} {passed[m]}/{len(rows)}" for m in settings["strategies"])
    command = " ".join(["python", "benchmarks/bench_accuracy_holdout.py", *argv])
    markdown = "\n".join(
        [
            "# Hold-out data sets: scikit-learn's MLP against sklearn-sparse-act",
            "",
            f"Command: `{command}`",
            "",
            f"Elapsed: {elapsed:.1f} s; seeds {settings['seeds']}; ours params "
            f"{settings['ours_params']}.",
            "",
            *table,
            "",
            f"PASS count: {counts}. {bench.epochs_line(results, settings)}",
            "",
        ]
    )
    print(markdown)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(markdown)
    return results


if __name__ == "__main__":
    main()
