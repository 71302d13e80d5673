"""What every measurement of the cost model's calibration shares: timing two
variants against each other, reading a crossover off the ratios, printing
them, and training epochs with every layer forced onto one path."""

import time
from itertools import takewhile
from statistics import median
from unittest import mock

import numpy as np

from benchmarks.harness.fitting import convergence_warnings_ignored
from benchmarks.harness.reporting import markdown_table, table_row
from benchmarks.harness.timing import interleaved
from sklearn_sparse_act import SparseMLPClassifier, config_context
from sklearn_sparse_act._backends import get_backend
from sklearn_sparse_act._sparsity import TopK

BATCH_ROWS = 200
# The layers of the micro-benchmarks: 51 winners (ratio 0.05) of 1024 units
# feeding 1024 units.
WIDTH, N_ACTIVE = 1024, 51
ZERO_BIAS = np.zeros(WIDTH)


def medians(calls, repeats, pause=0.0):
    """Median seconds of each of ``calls`` (``{name: function}``), timed in
    interleaved repeats after one untimed call each. With ``pause``, each
    call comes that many seconds after the previous one ended, this thread
    busy meanwhile, as it is between the parallel regions of a training step
    (numba's threads asleep; a sleeping caller would let its own processor
    idle too, and measure the wake-up of an idle machine instead)."""

    def timed(function):
        def call(repeat):
            busy_until = time.perf_counter() + pause
            while time.perf_counter() < busy_until:
                pass
            start = time.perf_counter()
            function()
            return time.perf_counter() - start

        return call

    for function in calls.values():
        function()
    seconds = interleaved({name: timed(call) for name, call in calls.items()}, repeats)
    return {name: median(values) for name, values in seconds.items()}


def ratio_of_medians(first, second, repeats, pause=0.0):
    """Median seconds of ``first()`` over those of ``second()`` (see
    :func:`medians`)."""
    seconds = medians({"first": first, "second": second}, repeats, pause)
    return seconds["first"] / seconds["second"]


def end_of_first_wins(ratios):
    """The last setting of ``ratios`` (``{setting: ratio}``, ascending) before
    the first ratio above 1 (None if the first is above 1).

    >>> end_of_first_wins({0.01: 0.8, 0.02: 0.95, 0.05: 1.2, 0.1: 0.9})
    0.02
    """
    wins = list(takewhile(lambda item: item[1] <= 1, ratios.items()))
    return wins[-1][0] if wins else None


def start_of_last_wins(ratios):
    """The first setting of ``ratios`` (ascending) after the last ratio above
    1 (None if the last is above 1).

    >>> start_of_last_wins({8: 1.3, 16: 0.9, 32: 1.1, 64: 0.7, 128: 0.6})
    64
    """
    wins = list(takewhile(lambda item: item[1] <= 1, reversed(ratios.items())))
    return wins[-1][0] if wins else None


def print_table(title, header, rows):
    """A Markdown table; ``rows`` may be ``{setting: ratio}``."""
    if isinstance(rows, dict):
        rows = [[str(setting), f"{ratio:.2f}"] for setting, ratio in rows.items()]
    print(f"\n{title}\n")
    print("\n".join(markdown_table(header, [], "r" * len(header))))
    for row in rows:
        print(table_row(row), flush=True)


def random_winners(rng, n_rows, width, n_active):
    """Winners of random scores: ``n_active`` of ``width`` columns per row."""
    scores = rng.standard_normal((n_rows, width))
    return get_backend("numpy").select(scores, TopK(n_active), "relu")


def sparse_over_dense_epoch(run, kernels, hidden, ratio):
    """Seconds of a training epoch (batches of 200 rows) on the sparse path
    over those on the dense path."""
    backend = get_backend(kernels)

    def epoch(sparse):
        # Every hidden layer with fewer winners than units on the sparse
        # path, or every one on the dense path, whatever the cost model says.
        def use_sparse_path(n_active, width, fan_out, n_rows):
            return sparse and n_active < width

        def fit():
            with (
                config_context(kernels=kernels),
                mock.patch.object(backend, "use_sparse_path", use_sparse_path),
            ):
                SparseMLPClassifier(
                    hidden, activation_ratio=ratio, max_iter=1, random_state=0
                ).fit(run.X, run.y)

        return fit

    with convergence_warnings_ignored():
        return ratio_of_medians(epoch(True), epoch(False), run.repeats)


def crossover(run, kernels, width, ratios):
    """The largest ratio at which two hidden layers of ``width`` units train
    no slower on the sparse path (0.0: never)."""
    per_ratio = {
        ratio: sparse_over_dense_epoch(run, kernels, (width, width), ratio)
        for ratio in ratios
    }
    print_table(
        f"{kernels}: epoch seconds at width {width}, sparse / dense",
        ["ratio", "sparse / dense"],
        per_ratio,
    )
    return end_of_first_wins(per_ratio) or 0.0
