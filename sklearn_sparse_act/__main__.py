"""Demo: dense vs 'fixed' vs 'dynamic' sparse MLPs on scikit-learn's digits.

Run with ``python -m sklearn_sparse_act``. It says up front how long it takes,
reports each fit's progress every few seconds, and prints each model's result
as soon as that model is trained.
"""

import argparse
import sys
import time
import warnings
from concurrent.futures import ThreadPoolExecutor, TimeoutError

from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

from . import SparseMLPClassifier

HIDDEN = (256, 128)
MAX_ITER = 150
PROGRESS_EVERY = 5.0  # seconds between two progress lines of one fit
CONFIGURATIONS = [
    ("dense baseline", dict(activation_ratio=1.0)),
    ("fixed, ratio 0.1", dict(activation_ratio=0.1, sparsity_strategy="fixed")),
    ("dynamic, ratio 0.1", dict(activation_ratio=0.1, sparsity_strategy="dynamic")),
]


def say(text=""):
    """Print at once, even when the output goes to a pipe or a file."""
    print(text, flush=True)


def fit_with_progress(model, X, y):
    """Fit ``model`` in a worker thread, printing its progress meanwhile.

    The epochs done are read from the length of ``loss_curve_``, which the
    stochastic solvers extend after every epoch; the elapsed time is printed
    in any case. Returns the seconds the fit took.
    """
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=1) as executor:
        future = executor.submit(model.fit, X, y)
        while True:
            try:
                future.result(timeout=PROGRESS_EVERY)
                break
            except TimeoutError:
                epochs = len(getattr(model, "loss_curve_", []) or [])
                say(
                    f"    ... {time.perf_counter() - start:4.0f} s, "
                    f"epoch {epochs} of at most {model.max_iter}"
                )
    return time.perf_counter() - start


def main(argv=None):
    # The demo takes no options; --help says what it does.
    argparse.ArgumentParser(
        prog="python -m sklearn_sparse_act", description=__doc__.split("\n\n")[0]
    ).parse_args(argv)
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X / 16.0, y, test_size=0.25, stratify=y, random_state=0
    )
    say(
        f"Training {len(CONFIGURATIONS)} networks with hidden layers {HIDDEN} "
        f"(up to {MAX_ITER} epochs of Adam each) on scikit-learn's digits: "
        f"{X_train.shape[0]} training and {X_test.shape[0]} held-out samples."
    )
    say(
        "On a two-core machine this takes from 15 seconds (idle) to three "
        "minutes (busy);\nprogress is printed every "
        f"{PROGRESS_EVERY:.0f} seconds and each result as soon as it is ready.\n"
    )
    rows = []
    with warnings.catch_warnings():
        # A model that uses all its epochs warns that it could train longer;
        # the demo reports the epochs run instead.
        warnings.simplefilter("ignore", ConvergenceWarning)
        for number, (name, params) in enumerate(CONFIGURATIONS, start=1):
            model = SparseMLPClassifier(
                hidden_layer_sizes=HIDDEN, max_iter=MAX_ITER, random_state=0, **params
            )
            say(f"[{number}/{len(CONFIGURATIONS)}] fitting {name} ...")
            seconds = fit_with_progress(model, X_train, y_train)
            fractions = ", ".join(f"{value:.3f}" for value in model.active_fraction_)
            accuracy = model.score(X_test, y_test)
            say(
                f"    done in {seconds:.1f} s after {model.n_iter_} epochs: "
                f"held-out accuracy {accuracy:.4f}, active fraction per layer "
                f"{fractions}"
            )
            rows.append((name, accuracy, fractions, model.n_iter_, seconds))

    header = (
        f"{'model':<20} {'test accuracy':>13}  {'active fraction per layer':<26}"
        f" {'epochs':>6} {'fit seconds':>11}"
    )
    say("\n" + header)
    say("-" * len(header))
    for name, accuracy, fractions, epochs, seconds in rows:
        say(
            f"{name:<20} {accuracy:>13.4f}  {fractions:<26} {epochs:>6}"
            f" {seconds:>11.2f}"
        )


if __name__ == "__main__":
    sys.exit(main())
