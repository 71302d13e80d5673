"""Where the time goes in the speed targets of ``bench_vs_sklearn.py``.

Every kernel function of the numba backend is wrapped in a wall-clock timer
(a few microseconds per call), then the benchmark's models are fitted and
asked for predictions: the time of each function per training step (for
fits, including the end-of-fit pass over the training rows) or per call.

    python benchmarks/profile_targets.py

Needs numba (``pip install '.[fast]'``).
"""

import sys
import warnings
from functools import partial
from pathlib import Path

from sklearn.datasets import make_classification

from sklearn_sparse_act import SparseMLPClassifier, config_context
from sklearn_sparse_act._backends import get_backend

if not __package__:  # run as a script: make the benchmarks package importable
    sys.path.append(str(Path(__file__).resolve().parents[1]))

from benchmarks.harness.timing import CallTimer, seconds_of

KERNELS = get_backend("numba")
TIMED = (
    "forward",
    "sparse_forward",
    "sparse_forward_serial",
    "select",
    "filtered_top_k",
    "filtered_top_k_serial",
    "kth_largest",
    "top_k_rows",
    "top_k_rows_serial",
    "weight_gradient",
    "delta_at_winners",
    "adam_update",
    "squared_norm",
    "bias_gradient",
    "units_of",
)
FITS = (((1024, 1024), 0.05, 8000), ((1024, 1024), 0.02, 8000), ((256,), 0.1, 20000))
BATCH_SIZE = 200
EPOCHS = 2

TIMER = CallTimer()


def report(title, per, unit):
    """Print each kernel function's time per ``unit``, then start afresh."""
    print(title)
    for name in TIMED:
        if TIMER.calls[name]:
            print(
                f"  {name:24s} {TIMER.seconds[name] / per * 1e3:8.3f} ms per {unit}"
                f"  ({TIMER.calls[name]} calls)"
            )
    TIMER.clear()


def data(n_rows):
    return make_classification(
        n_rows, 100, n_informative=50, n_classes=10, random_state=0
    )


def profile_fits():
    for hidden, ratio, n_rows in FITS:
        X, y = data(n_rows)
        model = SparseMLPClassifier(
            hidden,
            activation_ratio=ratio,
            max_iter=EPOCHS,
            tol=0,
            batch_size=BATCH_SIZE,
            random_state=0,
        )
        model.fit(X, y)
        recording = seconds_of(partial(model._winners_on, X))
        TIMER.clear()
        fit = seconds_of(partial(model.fit, X, y))
        steps = EPOCHS * -(-n_rows // BATCH_SIZE)
        report(
            f"fit {hidden} at ratio {ratio}: {fit:.3f} s, of which the final "
            f"recording pass {recording:.3f} s; {steps} steps",
            steps,
            "step",
        )


def profile_predictions():
    X, y = data(18000)
    train, test = slice(0, 8000), slice(8000, None)
    model = SparseMLPClassifier(
        (1024, 1024), activation_ratio=0.05, max_iter=EPOCHS, tol=0, random_state=0
    ).fit(X[train], y[train])
    model.predict(X[test])
    TIMER.clear()
    elapsed = seconds_of(lambda: model.predict(X[test]))
    report(f"predict 10000 rows, (1024, 1024) at 0.05: {elapsed:.3f} s", 1, "call")
    model.set_params(activation_ratio=0.1).fit(X[train], y[train])
    rows = [X[row : row + 1] for row in range(8000, 8200)]
    for row in rows[:20]:
        model.predict_proba(row)
    TIMER.clear()
    elapsed = seconds_of(lambda: [model.predict_proba(row) for row in rows])
    report(
        "one-row predict_proba, (1024, 1024) at 0.1: "
        f"{elapsed / len(rows) * 1e3:.3f} ms per call",
        len(rows),
        "call",
    )


def main():
    warnings.simplefilter("ignore")
    for name in TIMED:
        setattr(KERNELS, name, TIMER.wrap(name, getattr(KERNELS, name)))
    with config_context(kernels="numba"):
        profile_fits()
        profile_predictions()


if __name__ == "__main__":
    main()
