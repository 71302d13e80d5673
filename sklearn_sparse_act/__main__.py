"""Demo: dense vs 'fixed' vs 'dynamic' sparse MLPs on scikit-learn's digits.

Run with ``python -m sklearn_sparse_act``.
"""

import time
import warnings

from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

from . import SparseMLPClassifier

CONFIGURATIONS = [
    ("dense baseline", dict(activation_ratio=1.0)),
    ("fixed, ratio 0.1", dict(activation_ratio=0.1, sparsity_strategy="fixed")),
    ("dynamic, ratio 0.1", dict(activation_ratio=0.1, sparsity_strategy="dynamic")),
]


def main():
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X / 16.0, y, test_size=0.25, stratify=y, random_state=0
    )
    print(
        f"digits: {X_train.shape[0]} training and {X_test.shape[0]} held-out "
        "samples, hidden layers (256, 128), 150 epochs of Adam\n"
    )
    header = f"{'model':<20} {'test accuracy':>13}  {'active fraction per layer':<26}"
    print(header + f" {'fit seconds':>11}")
    print("-" * (len(header) + 12))
    for name, params in CONFIGURATIONS:
        model = SparseMLPClassifier(
            hidden_layer_sizes=(256, 128), max_iter=150, random_state=0, **params
        )
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(X_train, y_train)
        seconds = time.perf_counter() - start
        fractions = ", ".join(f"{value:.3f}" for value in model.active_fraction_)
        print(
            f"{name:<20} {model.score(X_test, y_test):>13.4f}  {fractions:<26}"
            f" {seconds:>11.2f}"
        )


if __name__ == "__main__":
    main()
