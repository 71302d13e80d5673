"""Calibration of who gets the cores on the numba backend: the seconds per
unit of work, the margin of the parallel regions, the fewest rows of a
parallel region, the fewest scores of a partition block and the largest
activation ratio of the filtered top-k selection. Each function takes the
run's settings and data and returns the value it measured, after printing
what it timed."""

from functools import cache
from statistics import median

import numpy as np
from threadpoolctl import threadpool_limits

from benchmarks.calibration.measure import (
    BATCH_ROWS,
    N_ACTIVE,
    WIDTH,
    ZERO_BIAS,
    end_of_first_wins,
    medians,
    print_table,
    random_winners,
    ratio_of_medians,
    start_of_last_wins,
)
from benchmarks.harness.fitting import convergence_warnings_ignored
from sklearn_sparse_act import SparseMLPClassifier, config_context
from sklearn_sparse_act._backends import cost_model
from sklearn_sparse_act._backends._numba_activations import activation_code
from sklearn_sparse_act._sparsity import TopK


@cache
def unit_seconds(repeats):
    """Single-threaded seconds per unit of each kind of Work, on a batch of
    200 rows of a layer of 51 winners of 1024 units feeding 1024."""
    import numba

    from sklearn_sparse_act._backends import numba_kernels

    rng = np.random.default_rng(0)
    scores = rng.standard_normal((BATCH_ROWS, WIDTH))
    weights = rng.standard_normal((WIDTH, WIDTH))
    inputs = random_winners(rng, BATCH_ROWS, WIDTH, N_ACTIVE)
    upstream = rng.standard_normal((BATCH_ROWS, WIDTH))
    # Parameters, gradients and the two moments of an Adam step.
    state = [[weights.copy()], [scores.T @ upstream], [weights * 0], [weights * 0]]
    threads = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        with threadpool_limits(limits=1, user_api="blas"):
            seconds = medians(
                {
                    "blas": lambda: scores @ weights,
                    "forward": lambda: numba_kernels.forward(
                        inputs, weights, ZERO_BIAS
                    ),
                    "delta": lambda: numba_kernels.delta_at_winners(
                        upstream, weights, inputs, "relu"
                    ),
                    "gradient": lambda: numba_kernels.weight_gradient(
                        inputs, upstream, weights, 1e-4, BATCH_ROWS
                    ),
                    "select": lambda: numba_kernels.select(
                        scores, TopK(N_ACTIVE), "relu"
                    ),
                    "adam": lambda: numba_kernels.adam_update(
                        *state, 1e-3, (0.9, 0.999), 1e-8, {}
                    ),
                    "squares": lambda: numba_kernels.squared_norm([weights]),
                },
                4 * repeats,
            )
    finally:
        numba.set_num_threads(threads)
    kernel_madds = BATCH_ROWS * N_ACTIVE * WIDTH
    per_unit = {
        "BLAS multiply-add": seconds["blas"] / (BATCH_ROWS * WIDTH * WIDTH),
        **{
            f"kernel multiply-add ({name})": seconds[name] / kernel_madds
            for name in ("forward", "delta", "gradient")
        },
        "selected score": seconds["select"] / scores.size,
        "Adam parameter": seconds["adam"] / weights.size,
        "squared entry": seconds["squares"] / weights.size,
    }
    print_table(
        f"numba: nanoseconds per unit of work, one thread ({BATCH_ROWS} rows, "
        f"{N_ACTIVE} winners of {WIDTH}, {WIDTH} x {WIDTH} weights)",
        ["unit", "ns"],
        [[unit, f"{value * 1e9:.3f}"] for unit, value in per_unit.items()],
    )
    return per_unit


def kernel_madd_seconds(run):
    per_unit = unit_seconds(run.repeats)
    kernels = [value for unit, value in per_unit.items() if unit.startswith("kernel")]
    return f"{median(kernels):.3g} (the median of the three kernels)"


@cache
def _region_wake_up(repeats):
    """Seconds a parallel kernel on a tiny input takes beyond its serial
    twin, each call 50 microseconds after the last with this thread busy,
    as the regions of a training step follow each other."""
    from sklearn_sparse_act._backends import numba_kernels

    scores = np.random.default_rng(0).standard_normal(
        (cost_model.MIN_PARALLEL_ROWS, 16)
    )
    counts = np.empty(scores.shape[0], dtype=np.int64)
    seconds = medians(
        {
            "parallel": lambda: numba_kernels.count_above(scores, 0.0, True, counts),
            "serial": lambda: numba_kernels.count_above_serial(
                scores, 0.0, True, counts
            ),
        },
        40 * repeats,
        pause=50e-6,
    )
    return seconds["parallel"] - seconds["serial"]


def region_wake_seconds(run):
    """The wake-up of a parallel region of a training step."""
    from sklearn_sparse_act._backends._numba_threads import kernel_threads

    if kernel_threads() < 2:
        return "not measured: numba runs on one thread here"
    wake_up = _region_wake_up(run.repeats)
    print_table(
        "numba: wake-up of a parallel region",
        ["wake-up of a region (us)"],
        [[f"{wake_up * 1e6:.1f}"]],
    )
    return f"{wake_up:.3g}"


def parallel_margin_seconds(run):
    """The cost of the parallel regions of a training step of hidden layers
    (1024, 1024) at ratio 0.05, in the units of the margin.

    With the cores, on ``n`` threads, the kernels save ``(1 - 1/n)`` of their
    single-threaded time and BLAS loses as much of its own, against the
    wake-up of every parallel region: the kernels gain when their time
    exceeds BLAS's by ``n / (n - 1)`` wake-ups per region.
    """
    from sklearn_sparse_act._backends import numba_kernels
    from sklearn_sparse_act._backends._numba_threads import kernel_threads

    n_threads = kernel_threads()
    if n_threads < 2:
        return "not measured: numba runs on one thread here"
    wake_up = _region_wake_up(run.repeats)
    regions = regions_per_step(run, numba_kernels)
    margin = wake_up * regions * n_threads / (n_threads - 1)
    print_table(
        "numba: margin of the parallel regions",
        ["wake-up of a region (us)", "regions per step", "threads", "margin (ms)"],
        [
            [
                f"{wake_up * 1e6:.1f}",
                str(regions),
                str(n_threads),
                f"{margin * 1e3:.3f}",
            ]
        ],
    )
    return f"{margin:.3g}"


def regions_per_step(run, numba_kernels):
    """Parallel kernels launched by one training step (those of the backend
    and of its optimizer steps): those of partial_fit over two batches less
    those over one."""
    from numba.core.registry import CPUDispatcher

    from sklearn_sparse_act._backends import _numba_steps

    launches = [0]

    def counted(kernel):
        def launch(*arguments):
            launches[0] += 1
            return kernel(*arguments)

        return launch

    parallel_kernels = [
        (module, name, kernel)
        for module in (numba_kernels, _numba_steps)
        for name, kernel in vars(module).items()
        if isinstance(kernel, CPUDispatcher) and kernel.targetoptions.get("parallel")
    ]
    model = SparseMLPClassifier((1024, 1024), activation_ratio=0.05, random_state=0)
    launches_of = {}
    try:
        for module, name, kernel in parallel_kernels:
            setattr(module, name, counted(kernel))
        with config_context(kernels="numba"), convergence_warnings_ignored():
            rows = slice(0, BATCH_ROWS)
            model.partial_fit(run.X[rows], run.y[rows], classes=np.unique(run.y))
            for n_rows in (BATCH_ROWS, 2 * BATCH_ROWS):
                launches[0] = 0
                model.partial_fit(run.X[:n_rows], run.y[:n_rows])
                launches_of[n_rows] = launches[0]
    finally:
        for module, name, kernel in parallel_kernels:
            setattr(module, name, kernel)
    return launches_of[2 * BATCH_ROWS] - launches_of[BATCH_ROWS]


def min_parallel_rows(run):
    """The fewest rows from which the parallel selection and forward product
    beat their serial twins (each call with the threads asleep, this thread
    busy since the last)."""
    from sklearn_sparse_act._backends import numba_kernels

    weights = run.rng.standard_normal((WIDTH, WIDTH))

    def parallel_over_serial(n_rows):
        scores = run.rng.standard_normal((n_rows, WIDTH))
        cut = WIDTH - N_ACTIVE
        kth_largest = np.partition(scores, cut, axis=1)[:, cut]
        winners = np.empty(n_rows * N_ACTIVE, dtype=np.int64)
        values = np.empty(n_rows * N_ACTIVE)
        inputs = random_winners(run.rng, n_rows, WIDTH, N_ACTIVE)
        out = np.empty((n_rows, WIDTH))

        def layer(top_k, forward):
            def run_layer():
                top_k(
                    scores,
                    scores,
                    kth_largest,
                    N_ACTIVE,
                    activation_code("relu"),
                    winners,
                    values,
                )
                forward(
                    inputs.indptr,
                    inputs.indices,
                    inputs.values,
                    weights,
                    ZERO_BIAS,
                    out,
                )

            return run_layer

        return ratio_of_medians(
            layer(numba_kernels.top_k_rows, numba_kernels.sparse_forward),
            layer(numba_kernels.top_k_rows_serial, numba_kernels.sparse_forward_serial),
            20 * run.repeats,
            pause=0.002,
        )

    per_rows = {
        n_rows: parallel_over_serial(n_rows) for n_rows in (4, 8, 16, 32, 64, 128, 256)
    }
    print_table(
        "numba: seconds of the parallel selection and forward product over "
        f"their serial twins ({N_ACTIVE} winners of {WIDTH}, {WIDTH} outputs)",
        ["rows", "parallel / serial"],
        per_rows,
    )
    return start_of_last_wins(per_rows)


def min_partition_block(run):
    """Half the fewest scores from which NumPy's partition of 200 rows in two
    blocks, each in a thread, beats one block (k: a tenth of the width)."""
    from sklearn_sparse_act._backends._numba_threads import run_at_once

    def two_blocks_over_one(width):
        scores = run.rng.standard_normal((BATCH_ROWS, width))
        cut = width - max(1, width // 10)
        blocks = [scores[: BATCH_ROWS // 2], scores[BATCH_ROWS // 2 :]]
        return ratio_of_medians(
            lambda: run_at_once(
                [
                    lambda block=block: np.partition(block, cut, axis=1)
                    for block in blocks
                ]
            ),
            lambda: np.partition(scores, cut, axis=1),
            20 * run.repeats,
        )

    per_scores = {
        BATCH_ROWS * width: two_blocks_over_one(width)
        for width in (64, 128, 256, 512, 1024, 2048, 4096)
    }
    print_table(
        "numba: seconds of NumPy's partition in two blocks over one",
        ["scores", "two blocks / one"],
        per_scores,
    )
    fewest = start_of_last_wins(per_scores)
    return None if fewest is None else fewest // 2


def filtered_top_k_max_ratio(run):
    """The largest activation ratio up to which the filtered top-k selection
    beats NumPy's partition and the winners pass, on 200 rows of 1024
    scores, both in parallel (as a training step runs them) and on one
    thread (as a lane of a prediction does): the slower of the two
    quotients decides."""
    from sklearn_sparse_act._backends import numba_kernels

    code = activation_code("relu")

    def filtered_over_partition(ratio):
        n_active = max(1, round(ratio * WIDTH))
        scores = run.rng.standard_normal((BATCH_ROWS, WIDTH))
        winners = np.empty(BATCH_ROWS * n_active, dtype=np.int64)
        values = np.empty(BATCH_ROWS * n_active)

        def filtered(top_k):
            return lambda: top_k(scores, scores, n_active, code, winners, values)

        def partitioned(top_k):
            def select():
                kth = numba_kernels.kth_largest(scores, n_active)
                top_k(scores, scores, kth, n_active, code, winners, values)

            return select

        return max(
            ratio_of_medians(
                filtered(filtered_kernel),
                partitioned(partition_kernel),
                20 * run.repeats,
                pause=0.002,
            )
            for filtered_kernel, partition_kernel in (
                (numba_kernels.filtered_top_k, numba_kernels.top_k_rows),
                (numba_kernels.filtered_top_k_serial, numba_kernels.top_k_rows_serial),
            )
        )

    per_ratio = {
        ratio: filtered_over_partition(ratio)
        for ratio in (0.01, 0.02, 0.05, 0.1, 0.15, 0.2, 0.3)
    }
    print_table(
        "numba: seconds of the filtered top-k selection over NumPy's partition "
        f"and the winners pass ({BATCH_ROWS} rows of {WIDTH} scores; the larger "
        "of the parallel and the serial quotients)",
        ["activation ratio", "filtered / partition"],
        per_ratio,
    )
    return end_of_first_wins(per_ratio)


def seconds_of_unit(unit):
    """How the seconds per ``unit`` are measured (see unit_seconds)."""
    return lambda run: f"{unit_seconds(run.repeats)[unit]:.3g}"
