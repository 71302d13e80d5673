"""Check the constants of the guessed window of a 'dynamic' training batch.

``sklearn_sparse_act/_batch_quota.py`` selects a training batch's quota from
the entries inside a window of values guessed from a sample of the batch:
about ``_GUESS_SAMPLE`` entries (never more than every ``_MIN_GUESS_STRIDE``-th),
the window running from the value above which ``1 + w`` times the target
fraction of the sample lies to the one above which ``1 - w`` times does,
``w`` being ``_WINDOW_SPREADS`` times the relative spread of a sample's count
above the edge, and at least ``_MIN_WINDOW``. When the quota's edge is
outside the window, an exact search costs two more passes over the batch. A
larger sample or a wider window misses less often and costs more per batch.

This script takes the pre-activations of hidden layers of widths 256, 1024
and 4096 (the first layer of a model trained for one epoch on the speed
benchmark's data), in batches of 200 rows at activation ratios 0.1 and 0.02,
and for each setting of the constants (the module's first, then one changed
at a time) prints how often the guess missed and the median time of the
batch selection (the backend's ``batch_selection``), relative to the
module's setting. It changes nothing: a constant is changed by hand after
reading the output. The module's setting should miss on few batches (a few
in a hundred) and cost no more than the others within the timing noise.

Run: ``python benchmarks/check_quota_guess.py [--kernels numba] [--repeats 5]``
(a minute or two on 2 cores).
"""

import argparse
import time
import warnings

import numpy as np
from sklearn.datasets import make_classification
from sklearn.preprocessing import StandardScaler

from sklearn_sparse_act import SparseMLPClassifier, _batch_quota, config_context
from sklearn_sparse_act._backends import get_backend, numba_available

WIDTHS = (256, 1024, 4096)
RATIOS = (0.1, 0.02)
BATCH_ROWS = 200
N_BATCHES = 10
# The settings compared: the module's, then one constant changed at a time.
VARIANTS = (
    {"_GUESS_SAMPLE": 2**12},
    {"_GUESS_SAMPLE": 2**13},
    {"_GUESS_SAMPLE": 2**15},
    {"_MIN_GUESS_STRIDE": 4},
    {"_MIN_GUESS_STRIDE": 16},
    {"_WINDOW_SPREADS": 0.0},
    {"_WINDOW_SPREADS": 2.0},
    {"_WINDOW_SPREADS": 4.0},
    {"_MIN_WINDOW": 0.05},
    {"_MIN_WINDOW": 0.2},
)
NAMES = ("_GUESS_SAMPLE", "_MIN_GUESS_STRIDE", "_WINDOW_SPREADS", "_MIN_WINDOW")


def layer_batches(width, dtype, seed=0):
    """``N_BATCHES`` batches of first-layer pre-activations of a model of
    ``width`` hidden units trained for one epoch."""
    X, y = make_classification(
        n_samples=BATCH_ROWS * N_BATCHES,
        n_features=100,
        n_informative=40,
        n_classes=10,
        random_state=seed,
    )
    X = StandardScaler().fit_transform(X).astype(dtype)
    model = SparseMLPClassifier(
        hidden_layer_sizes=(width,),
        sparsity_strategy="dynamic",
        activation_ratio=0.1,
        max_iter=1,
        random_state=seed,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X, y)
    values = X @ model.coefs_[0] + model.intercepts_[0]
    return [
        values[start : start + BATCH_ROWS] for start in range(0, len(X), BATCH_ROWS)
    ]


class MissCounter:
    """Counts the batches whose guessed window missed (the exact search ran)."""

    def __init__(self):
        self.misses = 0
        self._run = _batch_quota.QuotaSearch.run

    def __enter__(self):
        counter = self

        def run(search, chunks, guessed=False):
            counter.misses += 1
            return counter._run(search, chunks, guessed)

        _batch_quota.QuotaSearch.run = run
        return self

    def __exit__(self, *exc):
        _batch_quota.QuotaSearch.run = self._run


class Setting:
    """The module's constants set to ``values`` while in a ``with`` block."""

    def __init__(self, values):
        self.values = values
        self.saved = {}

    def __enter__(self):
        self.saved = {name: getattr(_batch_quota, name) for name in self.values}
        for name, value in self.values.items():
            setattr(_batch_quota, name, value)

    def __exit__(self, *exc):
        for name, value in self.saved.items():
            setattr(_batch_quota, name, value)


def measure(backend, batches, n_active, settings, repeats):
    """Per setting, misses per batch and median seconds per batch (the
    settings timed in turn within each repeat)."""
    misses = []
    for setting in settings:
        with Setting(setting), MissCounter() as counter:
            for values in batches:
                backend.batch_selection(values, n_active)
        misses.append(counter.misses / len(batches))
    seconds = [[] for _ in settings]
    for _ in range(repeats):
        for setting, times in zip(settings, seconds, strict=True):
            with Setting(setting):
                start = time.perf_counter()
                for values in batches:
                    backend.batch_selection(values, n_active)
                times.append((time.perf_counter() - start) / len(batches))
    return [
        (miss, float(np.median(times)))
        for miss, times in zip(misses, seconds, strict=True)
    ]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--kernels",
        choices=("numpy", "numba"),
        default="numba" if numba_available() else "numpy",
    )
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    backend = get_backend(args.kernels)
    module_setting = {name: getattr(_batch_quota, name) for name in NAMES}
    print(f"module: {module_setting}; kernels: {args.kernels}")
    print(f"{'width':>5} {'dtype':>7} {'ratio':>5}  setting{'':33} miss  time")
    for width in WIDTHS:
        for dtype in (np.float64, np.float32):
            with config_context(kernels=args.kernels):
                batches = layer_batches(width, dtype)
            for ratio in RATIOS:
                n_active = max(1, int(ratio * width))
                backend.batch_selection(batches[0], n_active)  # compile
                settings = [{}, *VARIANTS]
                results = measure(backend, batches, n_active, settings, args.repeats)
                base_seconds = results[0][1]
                for setting, (miss, seconds) in zip(settings, results, strict=True):
                    label = ", ".join(f"{k}={v}" for k, v in setting.items())
                    print(
                        f"{width:5d} {np.dtype(dtype).name:>7} {ratio:5g}  "
                        f"{label or 'module':40s} {miss:4.0%} "
                        f"{seconds / base_seconds:5.2f}"
                    )


if __name__ == "__main__":
    main()
