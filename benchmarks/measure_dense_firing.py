"""How many hidden units fire per row in scikit-learn's default MLP.

The number behind ``activation_ratio='auto'``'s floor of 50 winners: fits
scikit-learn's default network (one ReLU layer of 100 units) on the first
split (seed 0) of ten data sets of ``bench_accuracy.py`` and prints the mean
number of positive hidden pre-activations per held-out row.
Usage: ``python benchmarks/measure_dense_firing.py``.
"""

import sys
import warnings
from pathlib import Path

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_accuracy as bench  # noqa: E402

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
    warnings.simplefilter("ignore", ConvergenceWarning)
    for name in DATASETS:
        task = bench.DATASETS[name][0]
        X_train, X_test, y_train, _ = bench.held_out_split(name, 0)
        scaler = StandardScaler().fit(X_train)
        model = bench.ESTIMATORS["sklearn", task](random_state=0)
        model.fit(scaler.transform(X_train), y_train)
        z = scaler.transform(X_test) @ model.coefs_[0] + model.intercepts_[0]
        firing = np.mean((z > 0).sum(axis=1))
        print(f"{name:22s} {firing:5.1f} of {z.shape[1]} units fire per row")


if __name__ == "__main__":
    main()
