"""Calibration of the path decisions: the sparse path's crossovers on both
backends, the NumPy backend's smallest fan-out and its few-rows products.
Each function takes the run's settings and data and returns the value it
measured, after printing what it timed."""

from sklearn.utils.extmath import safe_sparse_dot

from benchmarks.calibration.measure import (
    N_ACTIVE,
    WIDTH,
    ZERO_BIAS,
    crossover,
    end_of_first_wins,
    print_table,
    random_winners,
    ratio_of_medians,
    sparse_over_dense_epoch,
    start_of_last_wins,
)
from sklearn_sparse_act._backends import get_backend


# ----------------------------------------------------------------------
# Paths of the NumPy backend
# ----------------------------------------------------------------------
def numpy_sparse_crossover(run):
    # A width from each row of the table: up to 512 units, more.
    return "; ".join(
        f"width {width}: {crossover(run, 'numpy', width, (0.01, 0.02, 0.03, 0.05))}"
        for width in (256, 1024)
    )


def numpy_min_sparse_fan_out(run):
    fan_outs = {
        fan_out: sparse_over_dense_epoch(run, "numpy", (1024, fan_out), [0.01, 1.0])
        for fan_out in (8, 16, 32, 64, 128, 256)
    }
    print_table(
        "numpy: epoch seconds of hidden layers (1024, fan-out) at ratios "
        "(0.01, 1.0), sparse / dense",
        ["fan-out", "sparse / dense"],
        fan_outs,
    )
    return start_of_last_wins(fan_outs)


def numpy_few_rows(run):
    numpy_kernels = get_backend("numpy")
    weights = run.rng.standard_normal((WIDTH, WIDTH))

    def gathered_over_csr(n_rows):
        inputs = random_winners(run.rng, n_rows, WIDTH, N_ACTIVE)
        return ratio_of_medians(
            lambda: numpy_kernels._gathered_rows_product(inputs, weights),
            lambda: safe_sparse_dot(inputs.to_csr(), weights),
            20 * run.repeats,
        )

    gathered = {n_rows: gathered_over_csr(n_rows) for n_rows in (1, 2, 4, 8, 16, 32)}
    print_table(
        "numpy: few rows, seconds of the gathered product over SciPy's CSR "
        f"product ({N_ACTIVE} winners of {WIDTH}, {WIDTH} outputs)",
        ["rows", "gathered / CSR"],
        gathered,
    )
    return end_of_first_wins(gathered)


def numpy_few_rows_crossover(run):
    """The smallest, over 1 to 16 rows, of the largest fraction of the width
    (the rows' winners together) at which the product over the winners of a
    few rows is no slower than the dense product."""
    numpy_kernels = get_backend("numpy")
    weights = run.rng.standard_normal((WIDTH, WIDTH))

    def sparse_over_dense(n_rows, n_active):
        inputs = random_winners(run.rng, n_rows, WIDTH, n_active)
        dense = inputs.to_csr().toarray()
        return ratio_of_medians(
            lambda: numpy_kernels.forward(inputs, weights, ZERO_BIAS),
            lambda: numpy_kernels.forward(dense, weights, ZERO_BIAS),
            20 * run.repeats,
        )

    fractions = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8, 0.95)
    rows, break_even = [], []
    for n_rows in (1, 2, 4, 8, 16):
        per_fraction = {
            fraction: sparse_over_dense(n_rows, round(fraction * WIDTH / n_rows))
            for fraction in fractions
        }
        rows.append([str(n_rows), *(f"{ratio:.2f}" for ratio in per_fraction.values())])
        break_even.append(end_of_first_wins(per_fraction) or 0.0)
    print_table(
        "numpy: few rows, seconds of the product over winners over the dense "
        f"product ({WIDTH} x {WIDTH} weights), by the rows' winners as a "
        "fraction of the width",
        ["rows", *map(str, fractions)],
        rows,
    )
    return f"{min(break_even)} (the smallest over 1 to 16 rows)"


# ----------------------------------------------------------------------
# Paths of the numba backend
# ----------------------------------------------------------------------
def numba_sparse_crossover(run):
    return crossover(run, "numba", 1024, (0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5))
