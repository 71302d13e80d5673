"""Fit time and model size against ``weight_density``.

For each hidden-layer architecture, fits ``SparseMLPClassifier`` at every
weight density (fully connected first, the reference) with the same
activation ratio, data, epochs and seed, the densities interleaved within
each repeat, and reports per density the median fit seconds, the median of
the fit-time ratios to density 1.0 taken within each repeat, the pickled
model's bytes and their ratio to density 1.0's, and the bytes the fitted
model holds in memory (traced while it is unpickled), as fitted and held
sparse by ``sparsify_weights()``, and the latter's ratio to density 1.0's. The data
has the speed benchmark's shape (100 features, 50 of them informative, 10
classes; 5,000 training rows for ``(4096,)``, 8,000 for ``(1024, 1024)``)
unless ``--features`` gives another width (half of it informative, at most
50): with 784 features (the width of a 28x28 image) the
first layer's connections are most of a fit's work, with 100 the winners'
selection and the output layer are.

    python benchmarks/bench_weight_density.py
    python benchmarks/bench_weight_density.py --hidden 1024,1024 \\
        --densities 1.0 0.3 0.2 0.1 --kernels numpy
    python benchmarks/bench_weight_density.py --features 784

With ``--crossover`` it measures instead, per density, the fit time with
the numba kernels over the present weights against the same fit with the
dense products (the constants ``NUMBA_CONNECTION_CROSSOVER`` and
``NUMBA_DENSE_INPUT_CROSSOVER`` of ``sklearn_sparse_act/_backends/cost_model.py``
both set to 1 and to 0), the paths interleaved within each repeat: the
crossover is the largest density at which the kernels gain clearly. A
``(4096,)`` network has only a layer with dense inputs, a ``(1024, 1024)``
one a layer with winners as inputs as well; with ``--winners-only`` the
layers with dense inputs take the kernels in both fits, so that the ratio
is the layer from winners' alone.

    python benchmarks/bench_weight_density.py --crossover \
        --densities 0.5 0.3 0.2 0.1 0.05
    python benchmarks/bench_weight_density.py --crossover --winners-only \
        --hidden 1024,1024 --densities 0.3 0.2 0.1

With ``--partial-fit`` it measures instead, per density, one
``partial_fit`` call on 200 rows of a model that has started (every call
lays out the connections again and keeps the model it continues safe from
an interrupted call, as a streaming fit does), the densities interleaved,
``--repeats`` calls each on the next 200 rows:

    python benchmarks/bench_weight_density.py --partial-fit --features 784 \
        --densities 0.1 --repeats 15

The run's environment (versions, BLAS, load average at the start and the
end) is printed before the table: the fit-time ratios are only as good as
the quiet of the machine.
"""

import argparse
import copy
import json
import pickle
import sys
import tracemalloc
from contextlib import nullcontext
from pathlib import Path

import numpy as np
from sklearn.datasets import make_classification

from sklearn_sparse_act import SparseMLPClassifier, config_context
from sklearn_sparse_act._backends import cost_model

if not __package__:  # run as a script: make the benchmarks package importable
    sys.path.append(str(Path(__file__).resolve().parents[1]))

from benchmarks.harness.command_line import parse_hidden
from benchmarks.harness.environment import describe_environment, load_average
from benchmarks.harness.fitting import convergence_warnings_ignored, fit_quietly
from benchmarks.harness.reporting import markdown_table
from benchmarks.harness.timing import (
    interleaved_seconds,
    median_and_range,
    paired_ratios,
)

N_FEATURES = 100
PARTIAL_FIT_ROWS = 200
N_CLASSES = 10
TRAIN_ROWS = {(4096,): 5_000, (1024, 1024): 8_000}
DEFAULT_ROWS = 5_000


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--hidden",
        nargs="+",
        type=parse_hidden,
        default=[(4096,), (1024, 1024)],
        help="hidden layer sizes, layers separated by commas (default: 4096 1024,1024)",
    )
    parser.add_argument(
        "--densities",
        nargs="+",
        type=float,
        default=[1.0, 0.1],
        help="weight densities; 1.0 is added first as the reference",
    )
    parser.add_argument("--ratio", type=float, default=0.05)
    parser.add_argument(
        "--features",
        type=int,
        default=N_FEATURES,
        help=f"input features of the data (default: {N_FEATURES})",
    )
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--kernels", choices=["numpy", "numba"], default=None)
    parser.add_argument("--json", type=Path, default=None, help="also write JSON")
    parser.add_argument(
        "--crossover",
        action="store_true",
        help="time the kernels over present weights against the dense products",
    )
    parser.add_argument(
        "--partial-fit",
        action="store_true",
        help=f"time one partial_fit call on {PARTIAL_FIT_ROWS} rows per density",
    )
    parser.add_argument(
        "--winners-only",
        action="store_true",
        help="with --crossover: only the layers from winners change path",
    )
    return parser.parse_args(argv)


def _data(hidden, n_features):
    return make_classification(
        n_samples=TRAIN_ROWS.get(hidden, DEFAULT_ROWS),
        n_features=n_features,
        n_informative=min(50, n_features // 2),
        n_classes=N_CLASSES,
        random_state=0,
    )


def measure_crossover(hidden, densities, args):
    """Per density below 1: the fit-time ratios, repeat by repeat, of the
    kernels over present weights to the dense products (``args``: the
    command line's ratio, epochs, repeats and features)."""
    X, y = _data(hidden, args.features)

    def fit(density, crossover):
        def call(repeat):
            cost_model.NUMBA_CONNECTION_CROSSOVER = crossover
            cost_model.NUMBA_DENSE_INPUT_CROSSOVER = (
                1.0 if args.winners_only else crossover
            )
            model = SparseMLPClassifier(
                hidden,
                activation_ratio=args.ratio,
                weight_density=density,
                max_iter=args.epochs,
                random_state=0,
            )
            fit_quietly(model, X, y)

        return call

    constants = (
        cost_model.NUMBA_CONNECTION_CROSSOVER,
        cost_model.NUMBA_DENSE_INPUT_CROSSOVER,
    )
    ratios = {}
    try:
        for density in densities:
            seconds = interleaved_seconds(
                {"present": fit(density, 1.0), "dense": fit(density, 0.0)},
                args.repeats,
                warm_up=1,
                collect_garbage=True,
            )
            ratios[density] = paired_ratios(seconds["present"], seconds["dense"])
    finally:
        (
            cost_model.NUMBA_CONNECTION_CROSSOVER,
            cost_model.NUMBA_DENSE_INPUT_CROSSOVER,
        ) = constants
    return ratios


def measure_partial_fit(hidden, densities, args):
    """Per density: the seconds of each ``partial_fit`` call on the next
    ``PARTIAL_FIT_ROWS`` rows of a model started on the first ones, and
    their ratios, call by call, to density 1.0's (``args``: the command
    line's ratio, repeats and features)."""
    X, y = _data(hidden, args.features)
    n_batches = X.shape[0] // PARTIAL_FIT_ROWS
    models = {}
    for density in densities:
        models[density] = SparseMLPClassifier(
            hidden, activation_ratio=args.ratio, weight_density=density, random_state=0
        )
        with convergence_warnings_ignored():
            models[density].partial_fit(
                X[:PARTIAL_FIT_ROWS], y[:PARTIAL_FIT_ROWS], classes=np.unique(y)
            )

    def step(density):
        def call(repeat):
            first = PARTIAL_FIT_ROWS * (1 + repeat % (n_batches - 1))
            rows = slice(first, first + PARTIAL_FIT_ROWS)
            with convergence_warnings_ignored():
                models[density].partial_fit(X[rows], y[rows])

        return call

    seconds = interleaved_seconds(
        {density: step(density) for density in densities},
        args.repeats,
        warm_up=1,
        collect_garbage=True,
    )
    return {
        density: (seconds[density], paired_ratios(seconds[density], seconds[1.0]))
        for density in densities
    }


def held_bytes(model):
    """The bytes ``model`` holds in memory: what unpickling it allocates and
    keeps (its arrays and Python objects), traced."""
    data = pickle.dumps(model)
    tracemalloc.start()
    try:
        loaded = pickle.loads(data)
        held, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    del loaded
    return held


def measure(hidden, densities, args):
    """Per density: fit seconds of every repeat, ratios to density 1.0 and
    pickled bytes (``args``: the command line's ratio, epochs, repeats and
    features)."""
    X, y = _data(hidden, args.features)
    models = {}

    def fit(density):
        def call(repeat):
            model = SparseMLPClassifier(
                hidden,
                activation_ratio=args.ratio,
                weight_density=density,
                max_iter=args.epochs,
                random_state=0,
            )
            models[density] = fit_quietly(model, X, y)

        return call

    seconds = interleaved_seconds(
        {density: fit(density) for density in densities},
        args.repeats,
        warm_up=1,
        collect_garbage=True,
    )
    sizes = {density: len(pickle.dumps(models[density])) for density in densities}
    held = {density: held_bytes(models[density]) for density in densities}
    held_sparse = {
        density: held_bytes(copy.deepcopy(models[density]).sparsify_weights())
        for density in densities
    }
    return {
        density: {
            "seconds": seconds[density],
            "time_ratios": paired_ratios(seconds[density], seconds[1.0]),
            "pickle_bytes": sizes[density],
            "size_ratio": sizes[density] / sizes[1.0],
            "held_bytes": held[density],
            "held_sparse_bytes": held_sparse[density],
            "held_sparse_ratio": held_sparse[density] / held[1.0],
        }
        for density in densities
    }


def main_crossover(args):
    rows = []
    with config_context(kernels="numba"):
        for hidden in args.hidden:
            densities = [density for density in args.densities if density < 1]
            ratios = measure_crossover(hidden, densities, args)
            for density, values in ratios.items():
                ratio, (low, high) = median_and_range(values)
                rows.append(
                    [
                        str(hidden),
                        f"{density:g}",
                        f"{ratio:.2f} [{low:.2f}, {high:.2f}]",
                    ]
                )
    print(
        f"load average at end {load_average()}; {args.features} features, "
        f"{args.epochs} epochs, ratio {args.ratio}, {args.repeats} repeats"
        + ("; only the layers from winners change path" if args.winners_only else "")
    )
    header = ["hidden", "density", "fit over present weights / dense fit"]
    print("\n".join(markdown_table(header, rows)))


def main_partial_fit(args, densities):
    rows = []
    with config_context(kernels=args.kernels) if args.kernels else nullcontext():
        for hidden in args.hidden:
            measured = measure_partial_fit(hidden, densities, args)
            for density, (seconds, ratios) in measured.items():
                median_seconds, _ = median_and_range(seconds)
                ratio, (low, high) = median_and_range(ratios)
                rows.append(
                    [
                        str(hidden),
                        f"{density:g}",
                        f"{1e3 * median_seconds:.1f}",
                        f"{ratio:.2f} [{low:.2f}, {high:.2f}]",
                    ]
                )
    print(
        f"load average at end {load_average()}; {args.features} features, "
        f"ratio {args.ratio}, {args.repeats} calls of {PARTIAL_FIT_ROWS} rows, "
        f"kernels {args.kernels or 'default'}"
    )
    header = ["hidden", "density", "partial_fit ms", "partial_fit / density 1.0"]
    print("\n".join(markdown_table(header, rows)))


def main(argv=None):
    args = parse_args(argv)
    densities = [1.0, *(density for density in args.densities if density != 1.0)]
    if args.crossover or args.partial_fit:
        print(f"load average at start {load_average()}")
        if args.crossover:
            main_crossover(args)
        else:
            main_partial_fit(args, densities)
        return
    environment = describe_environment(argv)
    rows, results = [], {}
    with config_context(kernels=args.kernels) if args.kernels else nullcontext():
        for hidden in args.hidden:
            measured = measure(hidden, densities, args)
            results[str(hidden)] = {str(d): m for d, m in measured.items()}
            for density, figures in measured.items():
                seconds, _ = median_and_range(figures["seconds"])
                ratio, (low, high) = median_and_range(figures["time_ratios"])
                rows.append(
                    [
                        str(hidden),
                        f"{density:g}",
                        f"{seconds:.2f}",
                        f"{ratio:.2f} [{low:.2f}, {high:.2f}]",
                        f"{figures['pickle_bytes']:,}",
                        f"{figures['size_ratio']:.3f}",
                        f"{figures['held_bytes']:,}",
                        f"{figures['held_sparse_bytes']:,}",
                        f"{figures['held_sparse_ratio']:.3f}",
                    ]
                )
    environment["load_end"] = load_average()
    print(json.dumps({k: environment[k] for k in ("command", "git_commit")}))
    print(
        f"load average at start {environment['load_start']}, end "
        f"{environment['load_end']}; {args.features} features, {args.epochs} "
        f"epochs, ratio {args.ratio}, {args.repeats} repeats, kernels "
        f"{args.kernels or 'default'}"
    )
    print(
        "\n".join(
            markdown_table(
                [
                    "hidden",
                    "density",
                    "fit s",
                    "fit / density 1.0",
                    "pickle bytes",
                    "size / density 1.0",
                    "memory bytes",
                    "held sparse",
                    "held sparse / density 1.0",
                ],
                rows,
            )
        )
    )
    if args.json is not None:
        args.json.write_text(
            json.dumps({"environment": environment, "results": results}, default=str)
        )


if __name__ == "__main__":
    main()
