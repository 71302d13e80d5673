"""Calibrate the dense/sparse cost model of a kernel backend.

For each hidden width and activation ratio, time one training epoch and one
prediction pass with every sparse layer forced onto the dense path and then
onto the sparse path (medians of interleaved repeats), and print the ratio
sparse / dense. The crossover ratios in the backend's ``_SPARSE_CROSSOVER``
(``sklearn_sparse_act/_backends/<name>_kernels.py``) are read off this table:
the largest ratio at which the sparse path is not slower.

Run: ``python benchmarks/bench_kernels.py --kernels numba [--widths 256 1024]``
"""

import argparse
import time
import warnings

import numpy as np
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning

from sklearn_sparse_act import SparseMLPClassifier, config_context
from sklearn_sparse_act._backends import get_backend


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
        start = time.perf_counter()
        model.fit(X, y)
        fit_seconds = time.perf_counter() - start
        start = time.perf_counter()
        model.predict(X)
        return fit_seconds, time.perf_counter() - start
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
    print(
        "| width | ratio | k | model says | fit sparse/dense | predict sparse/dense |"
    )
    print("|---:|---:|---:|---|---:|---:|")
    warnings.simplefilter("ignore", ConvergenceWarning)
    for width in args.widths:
        for ratio in args.ratios:
            timings = {True: [], False: []}
            for _ in range(args.repeats):
                for sparse in (False, True):
                    with config_context(kernels=args.kernels):
                        timings[sparse].append(
                            _time_path(backend, sparse, X, y, width, ratio, args.layers)
                        )
            dense = np.median(np.array(timings[False]), axis=0)
            sparse = np.median(np.array(timings[True]), axis=0)
            k = max(1, int(np.floor(ratio * width + 0.5)))
            fan_out = width if args.layers > 1 else 10
            choice = (
                "sparse" if backend.use_sparse_path(k, width, fan_out, 200) else "dense"
            )
            print(
                f"| {width} | {ratio} | {k} | {choice} | {sparse[0] / dense[0]:.2f} "
                f"| {sparse[1] / dense[1]:.2f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
