"""Measure every constant of the kernel backends' cost model on this machine.

``sklearn_sparse_act/_backends/cost_model.py`` decides from shapes and counts
which path each hidden layer takes and who gets the cores; its constants
were measured on one machine. This script measures each of them here, in
the order of the module, printing what it timed, and ends with a table of
every constant: its value in the module and the value measured. It changes
nothing: a constant is changed by hand after reading the output (changing
one changes the fits of every model near its crossover).

Each comparison times its variants in interleaved repeats and divides their
medians (a ratio below 1: the first variant named is faster). A crossover is
read off the detail rows: the end of the first run of wins, or the start of
the last. On a busy machine, read the rows before trusting a narrow one.

Run: ``python benchmarks/calibrate_cost_model.py [--repeats 3] [--sections
numpy-paths numba-paths numba-cores]`` (a few minutes on 2 cores; the numba
sections need numba).
"""

import argparse
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
from sklearn.datasets import make_classification
from threadpoolctl import threadpool_info

from sklearn_sparse_act._backends import cost_model, numba_available

if not __package__:  # run as a script: make the benchmarks package importable
    sys.path.append(str(Path(__file__).resolve().parents[1]))

from benchmarks.calibration import cores, paths
from benchmarks.calibration.measure import print_table
from benchmarks.harness.environment import blas_description, load_average

# Every constant of the cost model, in the module's order: its section and
# how it is measured (a function of the run giving the value measured).
CONSTANTS = {
    "NUMPY_SPARSE_CROSSOVER": ("numpy-paths", paths.numpy_sparse_crossover),
    "NUMPY_MIN_SPARSE_FAN_OUT": ("numpy-paths", paths.numpy_min_sparse_fan_out),
    "NUMPY_FEW_ROWS": ("numpy-paths", paths.numpy_few_rows),
    "NUMPY_FEW_ROWS_CROSSOVER": ("numpy-paths", paths.numpy_few_rows_crossover),
    "NUMBA_SPARSE_CROSSOVER": ("numba-paths", paths.numba_sparse_crossover),
    "BLAS_MADD_SECONDS": ("numba-cores", cores.seconds_of_unit("BLAS multiply-add")),
    "KERNEL_MADD_SECONDS": ("numba-cores", cores.kernel_madd_seconds),
    "SELECTED_SCORE_SECONDS": ("numba-cores", cores.seconds_of_unit("selected score")),
    "PARAMETER_SECONDS": ("numba-cores", cores.seconds_of_unit("Adam parameter")),
    "SQUARED_ENTRY_SECONDS": ("numba-cores", cores.seconds_of_unit("squared entry")),
    "PARALLEL_MARGIN_SECONDS": ("numba-cores", cores.parallel_margin_seconds),
    "REGION_WAKE_SECONDS": ("numba-cores", cores.region_wake_seconds),
    "MIN_PARALLEL_ROWS": ("numba-cores", cores.min_parallel_rows),
    "MIN_PARTITION_BLOCK": ("numba-cores", cores.min_partition_block),
    "FILTERED_TOP_K_MAX_RATIO": ("numba-cores", cores.filtered_top_k_max_ratio),
}
SECTIONS = ("numpy-paths", "numba-paths", "numba-cores")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--rows", type=int, default=2000, help="training rows of the timed epochs"
    )
    parser.add_argument("--sections", nargs="+", choices=SECTIONS, default=SECTIONS)
    args = parser.parse_args(argv)
    X, y = make_classification(
        n_samples=args.rows,
        n_features=64,
        n_informative=32,
        n_classes=10,
        random_state=0,
    )
    run = SimpleNamespace(X=X, y=y, repeats=args.repeats, rng=np.random.default_rng(0))
    print(f"BLAS: {blas_description(threadpool_info())}")
    print(f"load average: {load_average()}")
    if numba_available():
        # Started as the backend starts them (passive waiting).
        from sklearn_sparse_act._backends._numba_threads import kernel_threads

        print(f"numba: {kernel_threads()} threads")
    start = time.perf_counter()
    rows = []
    for name, (section, measure) in CONSTANTS.items():
        if section not in args.sections:
            continue
        if section.startswith("numba") and not numba_available():
            measured = "not measured: numba is not installed"
        else:
            measured = measure(run)
        rows.append([name, str(getattr(cost_model, name)), str(measured)])
    print_table(
        "The constants of sklearn_sparse_act/_backends/cost_model.py",
        ["constant", "in the module", "measured here"],
        rows,
    )
    print(f"\n{time.perf_counter() - start:.0f} s; load average: {load_average()}")


if __name__ == "__main__":
    main()
