"""Settings of an accuracy run: a frozen dataclass and the command line."""

import argparse
import json
from dataclasses import dataclass
from pathlib import Path

from benchmarks.accuracy.cases import ESTIMATORS
from benchmarks.accuracy.datasets import DATASETS

DESCRIPTION = (
    "Held-out accuracy of SparseMLP* against scikit-learn's MLP, defaults vs defaults."
)
DEFAULT_OUTPUT = Path(__file__).resolve().parents[1] / "results" / "accuracy.md"
QUICK_DATASETS = ("digits", "diabetes")
QUICK_MAX_ITER = 20
DEFAULT_SEEDS = (0, 1, 2)
STRATEGIES = ("fixed", "dynamic")


@dataclass(frozen=True)
class AccuracySettings:
    """What an accuracy run fits: data sets, seeds, our strategies, the
    parameters set on each side, joblib's ``n_jobs``, and whether it is the
    quick smoke test (``max_iter`` capped at :data:`QUICK_MAX_ITER`)."""

    datasets: tuple
    seeds: tuple
    strategies: tuple
    ours_params: dict
    sklearn_params: dict
    n_jobs: int
    quick: bool
    main_only: bool = False

    @property
    def max_iter(self):
        """The cap on every model's ``max_iter``, or None."""
        return QUICK_MAX_ITER if self.quick else None


def parse_params(text):
    """A JSON object of estimator parameters."""
    params = json.loads(text)
    if not isinstance(params, dict):
        raise argparse.ArgumentTypeError(f"expected a JSON object, got {text!r}")
    return params


def check_params(params, family):
    """Fail unless some estimator of ``family`` ('ours', 'sklearn') accepts
    every key of ``params``."""
    accepted = set()
    for task in ("classification", "regression"):
        accepted |= set(ESTIMATORS[family, task]().get_params())
    unknown = sorted(set(params) - accepted)
    if unknown:
        raise SystemExit(f"--{family}-params: no {family} estimator accepts {unknown}")


def parse_args(argv, datasets=DATASETS, default_datasets=None, quick_datasets=None):
    """The parsed arguments and the run's :class:`AccuracySettings`.

    ``datasets`` are the names ``--datasets`` accepts; without it, a run
    takes ``default_datasets`` (default: all of them), a quick run
    ``quick_datasets`` (default: :data:`QUICK_DATASETS`).
    """
    parser = argparse.ArgumentParser(description=DESCRIPTION)
    parser.add_argument("--datasets", nargs="+", choices=list(datasets))
    parser.add_argument("--seeds", nargs="+", type=int, default=list(DEFAULT_SEEDS))
    parser.add_argument(
        "--strategies", nargs="+", choices=list(STRATEGIES), default=None
    )
    parser.add_argument("--ours-params", type=parse_params, default={})
    parser.add_argument("--sklearn-params", type=parse_params, default={})
    parser.add_argument("--n-jobs", type=int, default=1)
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"smoke test: {list(QUICK_DATASETS)}, first seed, "
        f"max_iter={QUICK_MAX_ITER}",
    )
    parser.add_argument(
        "--main-only",
        action="store_true",
        help="only the main table (and its regression rows on standardized "
        "targets), without the small-network, streaming and iso-active cases",
    )
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    args = parser.parse_args(argv)
    check_params(args.ours_params, "ours")
    check_params(args.sklearn_params, "sklearn")
    if args.datasets is not None:
        chosen = args.datasets
    elif args.quick:
        chosen = QUICK_DATASETS if quick_datasets is None else quick_datasets
    else:
        chosen = datasets if default_datasets is None else default_datasets
    return args, AccuracySettings(
        datasets=tuple(chosen),
        seeds=tuple(args.seeds[:1] if args.quick else args.seeds),
        strategies=tuple(dict.fromkeys(args.strategies or STRATEGIES)),
        ours_params=args.ours_params,
        sklearn_params=args.sklearn_params,
        n_jobs=args.n_jobs,
        quick=args.quick,
        main_only=args.main_only,
    )
