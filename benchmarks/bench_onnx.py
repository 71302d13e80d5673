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
import platform
import time
import warnings
from statistics import median

import numpy as np
import onnxruntime
import skl2onnx
import threadpoolctl
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning

import sklearn_sparse_act.onnx  # noqa: F401  (registers the converters)
from sklearn_sparse_act import SparseMLPClassifier

RATIO = 0.1
N_FEATURES = 64
N_CLASSES = 10
TRAIN_ROWS = 2000
WARM_UP_CALLS = 20


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--hidden",
        nargs="+",
        default=["1024,1024", "256"],
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
    return parser.parse_args()


def fitted_classifier(hidden, X, y, seed):
    model = SparseMLPClassifier(
        hidden, activation_ratio=RATIO, max_iter=2, random_state=seed
    )
    with warnings.catch_warnings():
        # Two epochs on purpose: the weights only need the right shapes.
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(X, y)


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
    onnx_seconds, numpy_seconds = [], []
    for call in range(WARM_UP_CALLS + calls):
        row = rows[call % len(rows)]
        row32 = row.astype(np.float32)
        start = time.perf_counter()
        session.run(None, {input_name: row32})
        middle = time.perf_counter()
        model.predict_proba(row)
        end = time.perf_counter()
        if call >= WARM_UP_CALLS:
            onnx_seconds.append(middle - start)
            numpy_seconds.append(end - middle)
    return median(onnx_seconds), median(numpy_seconds)


def main():
    args = parse_args()
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

    print(
        f"onnxruntime {onnxruntime.__version__}, skl2onnx {skl2onnx.__version__}, "
        f"NumPy {np.__version__}, Python {platform.python_version()}; "
        f"{args.threads} thread(s); median of {args.calls} one-row calls"
    )
    print(f"{'hidden':>14}  {'k':>9}  {'onnxruntime':>12}  {'predict_proba':>13}")
    with threadpoolctl.threadpool_limits(limits=args.threads):
        for spec in args.hidden:
            hidden = tuple(int(size) for size in spec.split(","))
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
