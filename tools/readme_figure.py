"""Draw the README's picture: what the hidden layer of a dense and of a sparse
network does with the same digits.

Usage: ``python tools/readme_figure.py [OUTPUT.png]`` (default
``docs/_static/sparse_codes.png``; needs matplotlib, the ``benchmark`` extra).
"""

import sys
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning

from sklearn_sparse_act import SparseMLPClassifier

DEFAULT_OUTPUT = Path(__file__).resolve().parents[1] / "docs/_static/sparse_codes.png"
SHOWN_DIGITS = [0, 1, 2, 3]


def main(output=DEFAULT_OUTPUT):
    warnings.simplefilter("ignore", ConvergenceWarning)
    X, y = load_digits(return_X_y=True)
    X = X / 16
    settings = {
        "dense MLP (ratio 1.0)": dict(activation_ratio=1.0),
        "'fixed', ratio 0.1": dict(activation_ratio=0.1),
        "'dynamic', ratio 0.1": dict(activation_ratio=0.1, sparsity_strategy="dynamic"),
    }
    codes = {
        name: SparseMLPClassifier((256,), max_iter=60, random_state=0, **params)
        .fit(X, y)
        .hidden_activations(X[SHOWN_DIGITS])
        .toarray()
        for name, params in settings.items()
    }
    figure, axes = plt.subplots(
        len(SHOWN_DIGITS), 1 + len(codes), figsize=(7.2, 7.0), layout="constrained"
    )
    for row, digit in enumerate(SHOWN_DIGITS):
        axes[row, 0].imshow(X[digit].reshape(8, 8), cmap="gray_r")
        for column, (name, code) in enumerate(codes.items(), start=1):
            fired = (code[row] > 0).sum()
            axes[row, column].imshow(code[row].reshape(16, 16), cmap="magma")
            axes[row, column].set_xlabel(f"{fired} of 256 fire", fontsize=8)
            if row == 0:
                axes[row, column].set_title(name, fontsize=9)
    axes[0, 0].set_title("input", fontsize=9)
    for axis in axes.ravel():
        axis.set_xticks([])
        axis.set_yticks([])
    figure.suptitle("The 256 hidden units of three networks, for four digits")
    figure.savefig(output, dpi=90)


if __name__ == "__main__":
    main(*sys.argv[1:])
