"""The chunks of inputs of the numba product over present weights.

The forward product of a sparse layer from dense inputs over its present
weights (``forward_by_unit`` in
``sklearn_sparse_act/_backends/_numba_connections.py``) has every unit add
its inputs of one chunk before any unit goes on to the next chunk, so that
the chunk's rows of the transposed inputs stay in a core's second-level
cache while a thousand units read them; unchunked, every unit reads its
inputs from the whole batch. This times the kernel with chunks of several
sizes in bytes (``CHUNK_BYTES`` is the one it uses) against one chunk
holding every input, for layers of several input widths at one density,
interleaved within each repeat, and prints the median of the per-repeat
ratios with their range. The batch has 200 rows (the default
``batch_size``) unless ``--rows`` says otherwise; blocks of ``ROW_BLOCK``
rows are taken in turn either way.

    python benchmarks/bench_input_chunks.py
    python benchmarks/bench_input_chunks.py --features 3072 --units 4096 \\
        --chunk-kib 256 512 1024 --rows 200 512

The chunk size to keep is one that is never clearly slower than one chunk
(input widths whose batch fits in the cache) and fastest where the batch
does not fit.

With ``--fits`` it times instead whole fits of a ``(1024, 1024)`` network
(activation ratio 0.05, two epochs, 8,000 rows of 10 classes) at that
density, with the kernel's rule against chunks at every width
(``UNCHUNKED_BYTES`` set to 0), interleaved: ``UNCHUNKED_BYTES``, the
largest block of inputs taken in one chunk, is right where the chunks cost
the fit time below it and gain above it.

    python benchmarks/bench_input_chunks.py --fits --features 784 1024 3072

Needs numba (``pip install '.[fast]'``).
"""

import argparse
import sys
from pathlib import Path

import numpy as np
from sklearn.datasets import make_classification

from sklearn_sparse_act import SparseMLPClassifier, config_context
from sklearn_sparse_act._backends import _numba_connections, _numba_present
from sklearn_sparse_act._backends.interface import Connections
from sklearn_sparse_act._connections import _draw_mask

if not __package__:  # run as a script: make the benchmarks package importable
    sys.path.append(str(Path(__file__).resolve().parents[1]))

from benchmarks.harness.environment import load_average
from benchmarks.harness.fitting import fit_quietly
from benchmarks.harness.reporting import markdown_table
from benchmarks.harness.timing import (
    interleaved_seconds,
    median_and_range,
    paired_ratios,
)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--features", type=int, nargs="+", default=[784, 1024, 3072])
    parser.add_argument("--units", type=int, nargs="+", default=[1024, 4096])
    parser.add_argument("--rows", type=int, nargs="+", default=[200])
    parser.add_argument("--density", type=float, default=0.1)
    parser.add_argument(
        "--chunk-kib", type=int, nargs="+", default=[128, 256, 512, 1024, 2048]
    )
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument(
        "--calls", type=int, default=20, help="kernel calls per timed repeat"
    )
    parser.add_argument(
        "--fits",
        action="store_true",
        help="time whole fits with the kernel's rule against chunks everywhere",
    )
    return parser.parse_args(argv)


def layer(n_features, n_units, density, n_rows, seed=0):
    """A layer's transposed inputs, laid-out connections, present weights
    unit by unit, bias and output, drawn as a fit draws its pattern."""
    rng = np.random.RandomState(seed)
    n_inputs = max(1, round(density * n_features))
    mask = _draw_mask(n_features, n_units, n_inputs, rng)
    connections = Connections(mask)
    weights = rng.normal(size=(n_features, n_units)) * mask
    present = _numba_present.present_weights_by_unit(weights, connections)
    inputs_t = np.ascontiguousarray(rng.normal(size=(n_rows, n_features)).T)
    bias = rng.normal(size=n_units)
    return inputs_t, connections.by_unit, present, bias, np.empty((n_rows, n_units))


def chunk_ratios(n_features, n_units, n_rows, args):
    """Per chunk size in KiB: the kernel's seconds with chunks of that many
    bytes over its seconds with one chunk, repeat by repeat."""
    inputs_t, by_unit, present, bias, out = layer(
        n_features, n_units, args.density, n_rows
    )
    block_rows = min(n_rows, _numba_connections.ROW_BLOCK)
    chunks = {"one chunk": n_features}
    for kib in args.chunk_kib:
        chunks[kib] = max(1, kib * 1024 // (block_rows * inputs_t.itemsize))

    def calls(chunk):
        def call(repeat):
            for _ in range(args.calls):
                _numba_connections.forward_by_unit(
                    inputs_t, *by_unit, present, bias, out, chunk
                )

        return call

    seconds = interleaved_seconds(
        {name: calls(chunk) for name, chunk in chunks.items()},
        args.repeats,
        warm_up=1,
    )
    return {
        kib: paired_ratios(seconds[kib], seconds["one chunk"]) for kib in args.chunk_kib
    }


def fit_ratios(n_features, args, hidden=(1024, 1024), n_rows=8000):
    """The fit seconds with the kernel's ``UNCHUNKED_BYTES`` over those with
    every block of inputs in chunks, repeat by repeat."""
    X, y = make_classification(
        n_rows,
        n_features,
        n_informative=min(50, n_features // 2),
        n_classes=10,
        random_state=0,
    )
    rule = _numba_connections.UNCHUNKED_BYTES

    def fit(unchunked_bytes):
        def call(repeat):
            _numba_connections.UNCHUNKED_BYTES = unchunked_bytes
            model = SparseMLPClassifier(
                hidden,
                activation_ratio=0.05,
                weight_density=args.density,
                max_iter=2,
                random_state=0,
            )
            fit_quietly(model, X, y)

        return call

    try:
        with config_context(kernels="numba"):
            seconds = interleaved_seconds(
                {"rule": fit(rule), "chunks": fit(0)},
                args.repeats,
                warm_up=1,
                collect_garbage=True,
            )
    finally:
        _numba_connections.UNCHUNKED_BYTES = rule
    return paired_ratios(seconds["rule"], seconds["chunks"])


def main_fits(args):
    rows = []
    for n_features in args.features:
        ratio, (low, high) = median_and_range(fit_ratios(n_features, args))
        rows.append([str(n_features), f"{ratio:.2f} [{low:.2f}, {high:.2f}]"])
    print(
        f"load average at end {load_average()}; (1024, 1024) at density "
        f"{args.density}, {args.repeats} repeats; UNCHUNKED_BYTES is "
        f"{_numba_connections.UNCHUNKED_BYTES // 1024} KiB"
    )
    header = ["features", "fit with the rule / fit with chunks everywhere"]
    print("\n".join(markdown_table(header, rows)))


def main(argv=None):
    args = parse_args(argv)
    print(f"load average at start {load_average()}")
    if args.fits:
        main_fits(args)
        return
    rows = []
    for n_features in args.features:
        for n_units in args.units:
            for n_rows in args.rows:
                ratios = chunk_ratios(n_features, n_units, n_rows, args)
                cells = []
                for kib in args.chunk_kib:
                    ratio, (low, high) = median_and_range(ratios[kib])
                    cells.append(f"{ratio:.2f} [{low:.2f}, {high:.2f}]")
                rows.append([str(n_features), str(n_units), str(n_rows), *cells])
    print(
        f"load average at end {load_average()}; density {args.density}, "
        f"{args.repeats} repeats of {args.calls} calls; CHUNK_BYTES is "
        f"{_numba_connections.CHUNK_BYTES // 1024} KiB, UNCHUNKED_BYTES "
        f"{_numba_connections.UNCHUNKED_BYTES // 1024} KiB"
    )
    header = ["features", "units", "rows"] + [
        f"{kib} KiB / one chunk" for kib in args.chunk_kib
    ]
    print("\n".join(markdown_table(header, rows)))


if __name__ == "__main__":
    main()
