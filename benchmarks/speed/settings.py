"""Settings of the speed benchmark: frozen dataclasses, presets, command line.

A run's settings are one :class:`SpeedSettings`, made from the full or the
quick preset with the explicit options laid over it (:func:`resolve_settings`).
Also the fixed shape of the data (features, classes) and the rule giving each
architecture its training rows.
"""

import argparse
import math
from dataclasses import dataclass, replace
from pathlib import Path

from benchmarks.harness.command_line import (
    parse_hidden,
    parse_optional_count,
    parse_optional_ratio,
    parse_ratio,
)
from sklearn_sparse_act._backends import numba_available

RESULTS_DIR = Path(__file__).resolve().parents[1] / "results"
N_FEATURES = 100
N_CLASSES = 10
BACKENDS = ("numpy", "numba")
# Training rows of the architectures the targets name; any other architecture
# gets training_rows()'s rule.
TRAIN_ROWS = {(256,): 20_000, (1024, 1024): 8_000}
REFERENCE_HIDDEN = (256,)
MAX_TRAIN_ROWS = 20_000
MIN_TRAIN_ROWS = 2_000
# The GridSearchCV section: the activation ratios searched and the n_jobs
# compared.
GRID_RATIOS = (0.05, 0.1, 0.2)
GRID_N_JOBS = (1, 2)


@dataclass(frozen=True)
class GridSearchSettings:
    """The GridSearchCV section: hidden layers, training rows, epochs per fit
    and interleaved repeats of each ``n_jobs``."""

    hidden: tuple
    rows: int
    epochs: int
    repeats: int


@dataclass(frozen=True)
class FirstFitSettings:
    """The first-fit (JIT) section: one fit of this model in a fresh process."""

    hidden: tuple
    ratio: float
    rows: int
    epochs: int


@dataclass(frozen=True)
class SpeedSettings:
    """Everything a run of the speed benchmark measures and how.

    ``kernels`` None stands for the default backends (:func:`default_kernels`);
    ``train_rows`` None for each architecture's own (:func:`training_rows`).
    ``memory_scale`` is the factor of the second training size whose one-epoch
    fit memory is also measured (None: the first size only); ``rss`` whether
    peak resident memory is measured too, one fresh process per model and size.
    The field order is the order of the settings in ``results.json``.
    """

    hidden: tuple
    ratios: tuple
    dtypes: tuple
    strategies: tuple
    dynamic_ratio: float | None
    repeats: int
    epochs: int
    batch_size: int
    train_rows: int | None
    test_rows: int
    predict_calls: int
    one_row_calls: int
    grid_search: bool
    jit: bool
    kernels: tuple | None
    memory_scale: int | None
    rss: bool
    grid: GridSearchSettings
    jit_fit: FirstFitSettings
    seed: int = 0
    blas_threads: int | None = None
    quick: bool = False


FULL_SETTINGS = SpeedSettings(
    hidden=((256,), (1024, 1024), (4096,)),
    ratios=(1.0, 0.1, 0.05, 0.02),
    dtypes=("float64", "float32"),
    strategies=("fixed",),
    dynamic_ratio=0.1,
    repeats=5,
    epochs=2,
    batch_size=200,
    train_rows=None,
    test_rows=10_000,
    predict_calls=3,
    one_row_calls=200,
    grid_search=True,
    jit=True,
    kernels=None,
    memory_scale=10,
    rss=True,
    grid=GridSearchSettings(hidden=(256,), rows=20_000, epochs=5, repeats=3),
    jit_fit=FirstFitSettings(hidden=(256,), ratio=0.1, rows=2_000, epochs=2),
)
QUICK_SETTINGS = SpeedSettings(
    hidden=((32,), (24, 24)),
    ratios=(1.0, 0.25),
    dtypes=("float64", "float32"),
    strategies=("fixed",),
    dynamic_ratio=0.25,
    repeats=2,
    epochs=2,
    batch_size=50,
    train_rows=300,
    test_rows=200,
    predict_calls=2,
    one_row_calls=10,
    grid_search=False,
    jit=False,
    kernels=None,
    memory_scale=10,
    rss=False,
    grid=GridSearchSettings(hidden=(32,), rows=300, epochs=2, repeats=2),
    jit_fit=FirstFitSettings(hidden=(32,), ratio=0.25, rows=300, epochs=2),
    quick=True,
)
# Options that take a list on the command line, stored as tuples.
LIST_OPTIONS = ("hidden", "ratios", "dtypes", "strategies", "kernels")
# Options the command line may override, in the order of the settings.
OVERRIDABLE = (
    "hidden",
    "ratios",
    "dtypes",
    "strategies",
    "dynamic_ratio",
    "repeats",
    "epochs",
    "batch_size",
    "train_rows",
    "test_rows",
    "predict_calls",
    "one_row_calls",
    "grid_search",
    "jit",
    "kernels",
    "memory_scale",
    "rss",
)
POSITIVE_OPTIONS = (
    "repeats",
    "epochs",
    "batch_size",
    "test_rows",
    "predict_calls",
    "one_row_calls",
)


def macs_per_row(hidden, n_features=N_FEATURES, n_classes=N_CLASSES):
    """Multiply-adds of one dense forward pass of one row."""
    units = [n_features, *hidden, n_classes]
    return sum(
        fan_in * fan_out for fan_in, fan_out in zip(units[:-1], units[1:], strict=True)
    )


def training_rows(hidden):
    """Default training rows for an architecture.

    The targets' architectures have their own: 20,000 rows for (256,) and
    8,000 for (1024, 1024). Any other network whose dense forward pass costs
    ``c`` times as much as (256,)'s trains on ``20000 / sqrt(c)`` rows
    (rounded to hundreds, at least 2,000), so wide networks still run many
    mini-batches per epoch while the full grid stays within about 25 minutes.
    Both libraries always get the same rows.

    Examples
    --------
    >>> training_rows((256,)), training_rows((1024, 1024)), training_rows((4096,))
    (20000, 8000, 5000)
    """
    if tuple(hidden) in TRAIN_ROWS:
        return TRAIN_ROWS[tuple(hidden)]
    cost = macs_per_row(hidden) / macs_per_row(REFERENCE_HIDDEN)
    rows = round(MAX_TRAIN_ROWS / math.sqrt(cost), -2)
    return int(min(MAX_TRAIN_ROWS, max(MIN_TRAIN_ROWS, rows)))


def default_kernels():
    """Both backends when numba can be imported, else NumPy's alone."""
    return list(BACKENDS) if numba_available() else ["numpy"]


def resolve_settings(args):
    """The run's settings: the options given over the full or quick preset."""
    preset = QUICK_SETTINGS if args.quick else FULL_SETTINGS
    given = vars(args)
    explicit = {name: given[name] for name in OVERRIDABLE if name in given}
    for name in LIST_OPTIONS:
        if name in explicit:
            explicit[name] = tuple(explicit[name])
    settings = replace(
        preset,
        **explicit,
        seed=args.seed,
        blas_threads=args.blas_threads,
        quick=args.quick,
    )
    for name in POSITIVE_OPTIONS:
        if getattr(settings, name) < 1:
            raise SystemExit(f"--{name.replace('_', '-')} must be >= 1")
    if settings.memory_scale is not None and settings.memory_scale < 2:
        raise SystemExit("--memory-scale must be >= 2, or 'none'")
    kernels = settings.kernels if settings.kernels is not None else default_kernels()
    kernels = tuple(dict.fromkeys(kernels))
    if "numba" in kernels and not numba_available():
        raise SystemExit("--kernels numba needs numba: pip install '.[fast]'")
    return replace(
        settings,
        kernels=kernels,
        jit=settings.jit and numba_available(),
        hidden=tuple(tuple(sizes) for sizes in settings.hidden),
    )


def build_parser():
    """The command line of ``bench_vs_sklearn.py``."""
    # An option left out is absent from the parsed arguments, so that an
    # explicit value, even None ('--dynamic-ratio none'), overrides the preset.
    parser = argparse.ArgumentParser(
        description=(
            "Benchmark SparseMLPClassifier against scikit-learn's MLPClassifier "
            "(same architecture, epochs, batch size and seed) and report ratios."
        ),
        argument_default=argparse.SUPPRESS,
    )
    parser.add_argument(
        "--hidden",
        nargs="+",
        type=parse_hidden,
        help="hidden layer sizes, one architecture per argument, layers separated "
        "by commas (default: 256 1024,1024 4096)",
    )
    parser.add_argument(
        "--ratios",
        nargs="+",
        type=parse_ratio,
        help="activation ratios of our models; 1.0 is our dense path "
        f"(default: {' '.join(f'{r:g}' for r in FULL_SETTINGS.ratios)})",
    )
    parser.add_argument(
        "--kernels",
        nargs="+",
        choices=list(BACKENDS),
        help="kernel backends of our models, each timed separately "
        "(default: numpy numba when numba can be imported, else numpy)",
    )
    parser.add_argument(
        "--dtypes",
        nargs="+",
        choices=["float64", "float32"],
        help="float dtypes of the data (default: float64 float32)",
    )
    parser.add_argument(
        "--strategies",
        nargs="+",
        choices=["fixed", "dynamic"],
        help="sparsity strategies timed at every ratio below 1 (default: fixed)",
    )
    parser.add_argument(
        "--dynamic-ratio",
        type=parse_optional_ratio,
        help="also time the 'dynamic' strategy at this one ratio, for every "
        "architecture, dtype and backend; 'none' to skip (default: 0.1)",
    )
    parser.add_argument(
        "--repeats", type=int, help="interleaved repeats per model (default: 5)"
    )
    parser.add_argument(
        "--epochs", type=int, help="epochs of Adam per fit (default: 2)"
    )
    parser.add_argument("--batch-size", type=int, help="mini-batch size (default: 200)")
    parser.add_argument(
        "--train-rows",
        type=int,
        help="training rows for every architecture (default: 20000 for (256,), "
        "8000 for (1024, 1024), otherwise 20000 / sqrt(cost relative to (256,)), "
        "at least 2000: 5000 for (4096,))",
    )
    parser.add_argument(
        "--test-rows", type=int, help="held-out rows to predict (default: 10000)"
    )
    parser.add_argument(
        "--predict-calls",
        type=int,
        help="held-out predict calls per timing, of which the median is kept "
        "(default: 3)",
    )
    parser.add_argument(
        "--one-row-calls",
        type=int,
        help="single-row predict_proba calls per latency measurement (default: 200)",
    )
    parser.add_argument(
        "--grid-search",
        action=argparse.BooleanOptionalAction,
        help="time GridSearchCV over activation ratios with n_jobs=1 and "
        "n_jobs=2 (default: on, off with --quick)",
    )
    parser.add_argument(
        "--jit",
        action=argparse.BooleanOptionalAction,
        help="time numba's first fit in a fresh process with a cold and a warm "
        "cache; only when numba is installed (default: on, off with --quick)",
    )
    parser.add_argument(
        "--memory-scale",
        type=parse_optional_count,
        help="also measure the memory of a one-epoch fit on this many times the "
        "training rows, so that growth with the data shows; 'none' to skip "
        "(default: 10)",
    )
    parser.add_argument(
        "--rss",
        action=argparse.BooleanOptionalAction,
        help="also measure the growth of the peak resident set size of each "
        "model's fit and predict, in a fresh Python process per model and "
        "training size (default: on, off with --quick)",
    )
    parser.add_argument(
        "--seed", type=int, default=0, help="seed of the data and of every model"
    )
    parser.add_argument(
        "--blas-threads",
        type=int,
        default=None,
        help="limit the BLAS thread pool (default: the library's own setting)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        default=False,
        help="tiny sizes for a smoke test (explicit options still override)",
    )
    parser.add_argument(
        "--output-dir",
        type=Path,
        default=RESULTS_DIR,
        help=f"where to write the results (default: {RESULTS_DIR})",
    )
    parser.add_argument(
        "--unset-openblas-env",
        action="store_true",
        default=False,
        help="restart this benchmark without OPENBLAS_CORETYPE and "
        "OPENBLAS_L2_SIZE in its environment (both together), so OpenBLAS picks "
        "its kernel for the processor itself; the kernel used is recorded",
    )
    return parser
