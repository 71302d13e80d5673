"""One-row prediction latency: the exported ONNX graph in onnxruntime against
``predict_proba``.

For each architecture, a 'fixed' classifier with activation ratio 0.1 is
trained briefly (latency does not depend on how well the weights fit), then
exported with ``target_opset=17``. Single rows are predicted alternately by
onnxruntime (float32 graph) and by ``predict_proba`` (the float64 model), so
a change of machine load hits both alike; the medians are printed.

Run from the repository root, with the ``onnx`` extra installed::

    python benchmarks/bench_onnx.py
    python benchmarks/bench_onnx.py --calls 200 --hidden 64  # a quick look
"""

import argparse
import sys
from pathlib import Path
from statistics import median

import numpy as np
import onnxruntime
import skl2onnx
import threadpoolctl
from sklearn.datasets import make_classification

import sklearn_sparse_act.onnx  # noqa: F401  (registers the converters)
from sklearn_sparse_act import SparseMLPClassifier

if not __package__:  # run as a script: make the benchmarks package importable
    sys.path.append(str(Path(__file__).resolve().parents[1]))

from benchmarks.harness.command_line import parse_hidden
from benchmarks.harness.environment import describe_environment
from benchmarks.harness.fitting import fit_quietly
from benchmarks.harness.timing import interleaved_seconds

RATIO = 0.1
N_FEATURES = 64
N_CLASSES = 10
TRAIN_ROWS = 2000
WARM_UP_CALLS = 20


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--hidden",
        nargs="+",
        type=parse_hidden,
        default=[(1024, 1024), (256,)],
        help="hidden layer sizes, one comma-separated tuple per architecture",
    )
    parser.add_argument(
        "--calls", type=int, default=2000, help="timed single-row calls per method"
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="threads of onnxruntime and of NumPy's BLAS",
    )
    parser.add_argument("--seed", type=int, default=0)
    return parser.parse_args(argv)


def fitted_classifier(hidden, X, y, seed):
    model = SparseMLPClassifier(
        hidden, activation_ratio=RATIO, max_iter=2, random_state=seed
    )
    # Two epochs on purpose: the weights only need the right shapes.
    return fit_quietly(model, X, y)


def onnx_session(model, X, threads):
    onx = skl2onnx.to_onnx(
        model, X[:1].astype(np.float32), target_opset=17, options={"zipmap": False}
    )
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    return onnxruntime.InferenceSession(
        onx.SerializeToString(), options, providers=["CPUExecutionProvider"]
    )


def latencies(model, session, rows, calls):
    """Median seconds per single-row call of onnxruntime and of predict_proba,
    the two called alternately on the same rows."""
    input_name = session.get_inputs()[0].name
    rows32 = [row.astype(np.float32) for row in rows]
    seconds = interleaved_seconds(
        {
            "onnx": lambda call: session.run(
                None, {input_name: rows32[call % len(rows)]}
            ),
            "numpy": lambda call: model.predict_proba(rows[call % len(rows)]),
        },
        calls,
        rotate=False,
        warm_up=WARM_UP_CALLS,
    )
    return median(seconds["onnx"]), median(seconds["numpy"])


def main(argv=None):
    args = parse_args(argv)
    X, y = make_classification(
        n_samples=TRAIN_ROWS + 1000,
        n_features=N_FEATURES,
        n_informative=32,
        n_classes=N_CLASSES,
        random_state=args.seed,
    )
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    X_train, y_train = X[:TRAIN_ROWS], y[:TRAIN_ROWS]
    rows = [X[i : i + 1] for i in range(TRAIN_ROWS, X.shape[0])]

    environment = describe_environment()
    print(
        f"onnxruntime {onnxruntime.__version__}, skl2onnx {skl2onnx.__version__}, "
        f"NumPy {environment['numpy']}, Python {environment['python']}; "
        f"{args.threads} thread(s); median of {args.calls} one-row calls"
    )
    print(f"{'hidden':>14}  {'k':>9}  {'onnxruntime':>12}  {'predict_proba':>13}")
    with threadpoolctl.threadpool_limits(limits=args.threads):
        for hidden in args.hidden:
            model = fitted_classifier(hidden, X_train, y_train, args.seed)
            session = onnx_session(model, X_train, args.threads)
            onnx_median, numpy_median = latencies(model, session, rows, args.calls)
            winners = ",".join(map(str, model.inference_active_units_))
            print(
                f"{str(hidden):>14}  {winners:>9}  {onnx_median * 1e3:9.3f} ms"
                f"  {numpy_median * 1e3:10.3f} ms"
            )


if __name__ == "__main__":
    main()
