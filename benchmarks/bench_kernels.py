"""Calibrate the dense/sparse cost model of a kernel backend.

For each hidden width and activation ratio, time one training epoch and one
prediction pass with every sparse layer forced onto the dense path and then
onto the sparse path (medians of interleaved repeats), and print the ratio
sparse / dense: the largest ratio at which the sparse path is not slower is
the backend's crossover in ``sklearn_sparse_act/_backends/cost_model.py``
(``benchmarks/calibrate_cost_model.py`` measures it with every other
constant of the cost model).

Run: ``python benchmarks/bench_kernels.py --kernels numba [--widths 256 1024]``
"""

import argparse
import sys
from pathlib import Path

import numpy as np
from sklearn.datasets import make_classification

from sklearn_sparse_act import SparseMLPClassifier, config_context
from sklearn_sparse_act._backends import get_backend

if not __package__:  # run as a script: make the benchmarks package importable
    sys.path.append(str(Path(__file__).resolve().parents[1]))

from benchmarks.harness.fitting import convergence_warnings_ignored
from benchmarks.harness.reporting import markdown_table, table_row
from benchmarks.harness.timing import interleaved, seconds_of


def _time_path(backend, sparse, X, y, width, ratio, layers):
    original = backend.use_sparse_path
    backend.use_sparse_path = lambda n_active, n_units, fan_out, n_rows: (
        sparse and n_active < n_units
    )
    try:
        model = SparseMLPClassifier(
            hidden_layer_sizes=(width,) * layers,
            activation_ratio=ratio,
            max_iter=1,
            random_state=0,
        )
        fit_seconds = seconds_of(lambda: model.fit(X, y))
        return fit_seconds, seconds_of(lambda: model.predict(X))
    finally:
        backend.use_sparse_path = original


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--widths", type=int, nargs="+", default=[256, 1024, 4096])
    parser.add_argument(
        "--ratios", type=float, nargs="+", default=[0.01, 0.02, 0.05, 0.1, 0.2]
    )
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--rows", type=int, default=4000)
    parser.add_argument("--kernels", choices=["numpy", "numba"], default="numpy")
    args = parser.parse_args(argv)
    backend = get_backend(args.kernels)

    X, y = make_classification(
        n_samples=args.rows,
        n_features=64,
        n_informative=32,
        n_classes=10,
        random_state=0,
    )
    print(
        f"{args.kernels} kernels, {args.layers} hidden layers, {args.rows} rows, "
        "batch 200, 1 epoch"
    )
    header = [
        "width",
        "ratio",
        "k",
        "model says",
        "fit sparse/dense",
        "predict sparse/dense",
    ]
    print("\n".join(markdown_table(header, [], "rrrlrr")))
    with convergence_warnings_ignored():
        for width in args.widths:
            for ratio in args.ratios:
                print(
                    table_row(measured_row(backend, args, X, y, width, ratio)),
                    flush=True,
                )


def measured_row(backend, args, X, y, width, ratio):
    """One line of the table: both paths timed in interleaved repeats."""

    def path(sparse):
        def time_once(repeat):
            with config_context(kernels=args.kernels):
                return _time_path(backend, sparse, X, y, width, ratio, args.layers)

        return time_once

    timings = interleaved(
        {False: path(False), True: path(True)}, args.repeats, rotate=False
    )
    dense = np.median(np.array(timings[False]), axis=0)
    sparse = np.median(np.array(timings[True]), axis=0)
    k = max(1, int(np.floor(ratio * width + 0.5)))
    fan_out = width if args.layers > 1 else 10
    choice = "sparse" if backend.use_sparse_path(k, width, fan_out, 200) else "dense"
    return [
        str(width),
        str(ratio),
        str(k),
        choice,
        f"{sparse[0] / dense[0]:.2f}",
        f"{sparse[1] / dense[1]:.2f}",
    ]


if __name__ == "__main__":
    main()
