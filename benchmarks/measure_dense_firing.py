"""How many hidden units fire per row in scikit-learn's default MLP.

The number behind ``activation_ratio='auto'``'s floor of 50 winners: fits
scikit-learn's default network (one ReLU layer of 100 units) on the first
split (seed 0) of ten data sets of ``bench_accuracy.py`` and prints the mean
number of positive hidden pre-activations per held-out row.
Usage: ``python benchmarks/measure_dense_firing.py``.
"""

import sys
from pathlib import Path

import numpy as np
from sklearn.preprocessing import StandardScaler

if not __package__:  # run as a script: make the benchmarks package importable
    sys.path.append(str(Path(__file__).resolve().parents[1]))

from benchmarks.accuracy.cases import ESTIMATORS
from benchmarks.accuracy.datasets import held_out_split, task_of
from benchmarks.harness.fitting import fit_quietly

DATASETS = [
    "digits",
    "wine",
    "breast_cancer",
    "clf_3class",
    "clf_5class_sep0.5",
    "clf_redundant_flip",
    "moons_noise0.3",
    "diabetes",
    "friedman1",
    "linear_3targets",
]


def main():
    for name in DATASETS:
        X_train, X_test, y_train, _ = held_out_split(name, 0)
        scaler = StandardScaler().fit(X_train)
        model = ESTIMATORS["sklearn", task_of(name)](random_state=0)
        fit_quietly(model, scaler.transform(X_train), y_train)
        z = scaler.transform(X_test) @ model.coefs_[0] + model.intercepts_[0]
        firing = np.mean((z > 0).sum(axis=1))
        print(f"{name:22s} {firing:5.1f} of {z.shape[1]} units fire per row")


if __name__ == "__main__":
    main()
