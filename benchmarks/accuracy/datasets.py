"""The data sets of the accuracy benchmarks and their held-out split.

:data:`DATASETS` are the main table's, the ones the defaults were chosen on;
:data:`HOLDOUT_DATASETS` are other generated data sets, fixed before any
candidate default was measured on them. Each entry is ``name: (task, bundled
loader or generator, generator parameters)``; generated data sets have 1000
rows drawn with ``random_state=0``.
"""

from sklearn.datasets import (
    load_breast_cancer,
    load_diabetes,
    load_digits,
    load_iris,
    load_wine,
    make_blobs,
    make_circles,
    make_classification,
    make_friedman1,
    make_friedman2,
    make_friedman3,
    make_gaussian_quantiles,
    make_hastie_10_2,
    make_moons,
    make_regression,
    make_s_curve,
    make_sparse_uncorrelated,
)
from sklearn.model_selection import train_test_split

GENERATED_ROWS = 1000


def make_regression_with_offset(offset, **params):
    """``make_regression`` with ``offset`` added to the target (far from 0 mean)."""
    X, y = make_regression(**params)
    return X, y + offset


def make_s_curve_regression(**params):
    """Points on an S-shaped surface in 3-d; the target is the curve position."""
    return make_s_curve(**params)


CLASSIFICATION_20 = dict(n_features=20, n_informative=10)
DATASETS = {
    "digits": ("classification", load_digits, {}),
    "wine": ("classification", load_wine, {}),
    "iris": ("classification", load_iris, {}),
    "breast_cancer": ("classification", load_breast_cancer, {}),
    "clf_3class": (
        "classification",
        make_classification,
        dict(**CLASSIFICATION_20, n_classes=3),
    ),
    "clf_5class_sep0.5": (
        "classification",
        make_classification,
        dict(**CLASSIFICATION_20, n_classes=5, class_sep=0.5),
    ),
    "clf_redundant_flip": (
        "classification",
        make_classification,
        dict(n_features=40, n_informative=5, n_redundant=30, flip_y=0.05),
    ),
    "moons_noise0.3": ("classification", make_moons, dict(noise=0.3)),
    "circles_noise0.1": ("classification", make_circles, dict(noise=0.1, factor=0.5)),
    "diabetes": ("regression", load_diabetes, {}),
    "friedman1": ("regression", make_friedman1, dict(noise=1.0)),
    # Friedman #2 and #3: noise std about a third of the noiseless target's std
    "friedman2": ("regression", make_friedman2, dict(noise=125.0)),  # target std ~380
    "friedman3": ("regression", make_friedman3, dict(noise=0.1)),  # target std ~0.34
    "linear_offset1000": (
        "regression",
        make_regression_with_offset,
        dict(offset=1000.0, n_features=20, n_informative=5, noise=10.0),
    ),
    "linear_3targets": (
        "regression",
        make_regression,
        dict(n_features=20, n_informative=10, n_targets=3, noise=10.0),
    ),
}
HOLDOUT_DATASETS = {
    "clf_4class_30feat": (
        "classification",
        make_classification,
        dict(n_features=30, n_informative=15, n_classes=4, class_sep=0.8),
    ),
    "clf_binary_50feat_flip": (
        "classification",
        make_classification,
        dict(n_features=50, n_informative=8, n_redundant=10, flip_y=0.02),
    ),
    "hastie_10_2": ("classification", make_hastie_10_2, {}),
    "gaussian_quantiles": (
        "classification",
        make_gaussian_quantiles,
        dict(n_features=6, n_classes=3),
    ),
    "blobs_6_std3": (
        "classification",
        make_blobs,
        dict(centers=6, n_features=8, cluster_std=3.0),
    ),
    "sparse_uncorrelated": ("regression", make_sparse_uncorrelated, {}),
    "linear_50feat": (
        "regression",
        make_regression,
        dict(n_features=50, n_informative=20, noise=20.0),
    ),
    "friedman1_20feat": (
        "regression",
        make_friedman1,
        dict(n_features=20, noise=2.0),
    ),
    "s_curve": ("regression", make_s_curve_regression, dict(noise=0.1)),
}
ALL_DATASETS = {**DATASETS, **HOLDOUT_DATASETS}


def task_of(name):
    """``"classification"`` or ``"regression"``."""
    return ALL_DATASETS[name][0]


def load_dataset(name):
    """X, y of a bundled data set, or the generated rows fixed by random_state=0."""
    _, function, params = ALL_DATASETS[name]
    if function.__name__.startswith("load_"):
        return function(return_X_y=True)
    return function(n_samples=GENERATED_ROWS, random_state=0, **params)


def held_out_split(dataset, seed):
    """``X_train, X_test, y_train, y_test``: 70% to train, 30% held out."""
    X, y = load_dataset(dataset)
    return train_test_split(X, y, test_size=0.3, random_state=seed)
