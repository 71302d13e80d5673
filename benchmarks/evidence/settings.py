"""Settings of an evidence run: a frozen dataclass, its two sizes, the
command line."""

import argparse
from dataclasses import dataclass, replace
from pathlib import Path

from benchmarks.evidence.datasets import DATASETS

DESCRIPTION = (
    "When does a sparse network beat a dense one: noise robustness, learning "
    "curves, accuracy for the fit time and continual learning, against "
    "scikit-learn's MLPClassifier."
)
PROTOCOLS = ("curves", "continual", "ablation", "kernels")
RESULTS_DIR = Path(__file__).resolve().parents[1] / "results"


@dataclass(frozen=True)
class EvidenceSettings:
    """What an evidence run fits.

    Parameters
    ----------
    datasets : tuple of str
        Names of :data:`~benchmarks.evidence.datasets.DATASETS`.
    seeds : tuple of int
        One split and one initialisation per seed.
    epochs : int
        Epochs of every traced fit (noise protocols, accuracy for time), at
        least.
    trace_row_passes : int
        Rows a traced fit passes through at least: small data sets get more
        epochs.
    curve_rows : tuple of int
        Training rows of the learning curves (sizes at or above a data set's
        training rows are left out).
    curve_row_passes : int
        Rows a learning-curve fit may pass through in all: its ``max_iter``
        is 200 or this over its rows (at least 20), whichever is smaller.
    continual_epochs : int
        Epochs per task of the continual-learning sequences.
    continual_rows : int
        Training rows of the continual-learning sequences (stratified).
    permuted_tasks : int
        Tasks of the permuted-pixels sequence (the first is unpermuted).
    ablation_datasets : tuple of str
        Data sets on which the variants of
        :data:`~benchmarks.evidence.models.VARIANTS` are traced too.
    kernel_datasets : tuple of str
        Data sets on which numba's kernels are checked against NumPy's.
    protocols : tuple of str
        What runs besides the traces of the noise and fit-time protocols:
        any of :data:`PROTOCOLS`.
    max_rows : int or None
        Rows kept of each data set (stratified), before the 70/30 split.
    n_jobs : int
        Fits that run at once.
    quick : bool
        Whether this is the small run that the tests afford.
    verbose : int
        joblib's progress messages.
    """

    datasets: tuple
    seeds: tuple
    epochs: int
    trace_row_passes: int
    curve_rows: tuple
    curve_row_passes: int
    continual_epochs: int
    continual_rows: int
    permuted_tasks: int
    ablation_datasets: tuple
    kernel_datasets: tuple
    protocols: tuple
    max_rows: int | None
    n_jobs: int
    quick: bool
    verbose: int = 0


FULL = EvidenceSettings(
    datasets=tuple(DATASETS),
    seeds=(0, 1, 2, 3, 4),
    epochs=15,
    trace_row_passes=50000,
    curve_rows=(100, 200, 500, 1000),
    curve_row_passes=40000,
    continual_epochs=3,
    continual_rows=1500,
    permuted_tasks=5,
    ablation_datasets=("digits_16x16", "digits"),
    kernel_datasets=("digits",),
    protocols=PROTOCOLS,
    max_rows=None,
    n_jobs=2,
    quick=False,
)
QUICK = EvidenceSettings(
    datasets=("digits", "breast_cancer"),
    seeds=(0,),
    epochs=3,
    trace_row_passes=0,
    curve_rows=(100,),
    curve_row_passes=500,
    continual_epochs=1,
    continual_rows=300,
    permuted_tasks=2,
    ablation_datasets=(),
    kernel_datasets=("digits",),
    protocols=PROTOCOLS,
    max_rows=600,
    n_jobs=1,
    quick=True,
)


def parse_args(argv):
    """The parsed arguments and the run's :class:`EvidenceSettings`."""
    parser = argparse.ArgumentParser(description=DESCRIPTION)
    parser.add_argument(
        "--quick",
        action="store_true",
        help="the small run of the tests: 2 data sets, 1 seed, 3 epochs",
    )
    parser.add_argument("--datasets", nargs="+", choices=list(DATASETS))
    parser.add_argument("--seeds", nargs="+", type=int)
    parser.add_argument("--epochs", type=int)
    parser.add_argument("--n-jobs", type=int)
    parser.add_argument(
        "--protocols",
        nargs="+",
        choices=list(PROTOCOLS),
        help="what runs besides the traces of the noise and fit-time protocols "
        "(default: all)",
    )
    parser.add_argument(
        "--ablation-datasets",
        nargs="+",
        choices=list(DATASETS),
        help="data sets on which the weight-density variants run",
    )
    parser.add_argument("--verbose", type=int, default=0)
    parser.add_argument(
        "--output-dir",
        type=Path,
        default=RESULTS_DIR,
        help="where evidence.md and evidence.json are written",
    )
    args = parser.parse_args(argv)
    settings = QUICK if args.quick else FULL
    overrides = {
        "datasets": tuple(args.datasets) if args.datasets else None,
        "seeds": tuple(args.seeds) if args.seeds else None,
        "epochs": args.epochs,
        "n_jobs": args.n_jobs,
        "protocols": tuple(args.protocols) if args.protocols else None,
        "ablation_datasets": (
            tuple(args.ablation_datasets) if args.ablation_datasets else None
        ),
    }
    overrides = {key: value for key, value in overrides.items() if value is not None}
    if overrides.get("epochs", 1) < 1:
        parser.error("--epochs must be at least 1")
    return args, replace(settings, verbose=args.verbose, **overrides)
