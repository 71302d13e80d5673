"""
=============================
When a sparse network wins
=============================

A sparse hidden layer does not beat a dense one everywhere. The evidence
study (``python benchmarks/bench_evidence.py``, every figure in
``benchmarks/RESULTS_EVIDENCE.md``) compares scikit-learn's
:class:`~sklearn.neural_network.MLPClassifier` with a wide sparse layer
(1024 units, 26 of which fire per row, ``activation_ratio=0.025``, boosted
with ``boost_strength=1.5, boost_decay=0.85``) on six data sets. This
example first plots three of its stored results, then reruns two of its
protocols on a small data set where the sparse layer does *not* win.
"""

# %%
# Stored results: noise robustness on three image sets
# -----------------------------------------------------
# Ahmad and Scheinkman's protocol ("How Can We Be So Dense?", 2019): train on
# clean images, then set a fraction ``0, 0.05, ..., 0.5`` of every test
# image's pixels to the training pixels' mean + 2 standard deviations. Mean
# held-out accuracy (%) over 5 seeds at each level, from the study: on
# 784-pixel MNIST digits the boosted sparse network (1024 units, 26 active)
# is ahead of the dense one of the same width at every level (noise score
# +17.9%); on 784-pixel animal silhouettes, with the same network, the two
# are level (+2.2%, inside the seeds' spread) and both fall to chance by a
# quarter of the pixels; on the 64-pixel digits (256 units, 51 active,
# boosted) it is behind at every level (noise score -9.6%).
import os
import warnings

import matplotlib.pyplot as plt
import numpy as np
from scipy import ndimage
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier

from sklearn_sparse_act import SparseMLPClassifier

warnings.filterwarnings("ignore", category=ConvergenceWarning)

NOISE_LEVELS = np.linspace(0, 0.5, 11)
STORED = {
    "MNIST, 784 pixels": {
        "scikit-learn MLP": "93.7 91.4 83.4 71.3 60.2 51.8 44.8 38.1 32.8 29.3 25.7",
        "sparse, 26 active": "94.5 93.2 89.3 81.9 74.2 66.9 59.5 52.4 46.0 40.8 35.2",
    },
    "animal silhouettes, 784 pixels": {
        "scikit-learn MLP": "84.9 72.9 44.4 22.2 13.3 10.7 10.1 10.0 10.0 10.0 10.0",
        "sparse, 26 active": "85.4 75.7 47.4 21.6 12.8 11.0 10.6 10.2 10.2 10.0 10.0",
    },
    "digits, 64 pixels": {
        "scikit-learn MLP": "97.1 92.0 86.0 75.7 69.8 61.0 54.3 45.4 40.7 33.4 29.4",
        "sparse, 51 active": "97.0 88.5 79.5 69.0 59.7 51.6 45.7 39.2 34.4 29.5 25.3",
    },
}
fig, axes = plt.subplots(1, 3, figsize=(12, 3.6), sharey=True)
for axis, (title, curves) in zip(axes, STORED.items(), strict=True):
    for name, accuracy in curves.items():
        values = np.array(accuracy.split(), dtype=float)
        axis.plot(NOISE_LEVELS, values, marker="o", markersize=3, label=name)
    axis.set_title(title)
    axis.set_xlabel("fraction of test pixels corrupted")
axes[0].set_ylabel("held-out accuracy %")
axes[0].legend()
fig.tight_layout()

# %%
# Stored results: where the noise falls
# -------------------------------------
# ``python benchmarks/bench_noise_locus.py`` scores the same fits on the same
# corrupted images with the corruption kept on one half of the pixels only:
# the quieter half (least spread in training, mostly blank pixels) or the
# busier half (the pixels that draw the shapes). The sparse layer's gain over
# the dense one (noise score, 5 seeds) is on the quieter half: it resists
# stray ink on a blank background, not noise on the strokes. How much of an
# image set's noise is of that kind follows from its share of pixels blank in
# 90% of the training images (in brackets).
LOCUS_GAINS = {  # % noise score over scikit-learn's: quieter half, busier half
    "MNIST (57%)": (24.6, -2.7),
    "animal silhouettes (15%)": (7.3, -10.7),
    "digits 16x16 (2%)": (-2.2, -0.4),
    "digits 8x8 (25%)": (-8.7, -5.6),
}
fig, axis = plt.subplots(figsize=(7, 3.2))
positions = np.arange(len(LOCUS_GAINS))
quieter, busier = np.array(list(LOCUS_GAINS.values())).T
axis.bar(positions - 0.2, quieter, width=0.4, label="noise on the quieter half")
axis.bar(positions + 0.2, busier, width=0.4, label="noise on the busier half")
axis.axhline(0, color="black", linewidth=0.8)
axis.set_xticks(positions, list(LOCUS_GAINS), fontsize=8)
axis.set_ylabel("noise score vs scikit-learn %")
axis.legend(fontsize=8)
fig.tight_layout()

# %%
# A live run: the digits enlarged to 16x16 pixels
# -----------------------------------------------
# Each 8x8 digit is enlarged to 16x16 = 256 pixels and moved by a random
# shift of up to two pixels: four times the pixels of the digits, but no more
# information. ``SKLEARN_SPARSE_ACT_EXAMPLE_SCALE=small`` (used by the tests and the CI
# documentation build) shrinks the experiment: its numbers say nothing.
SMALL = os.environ.get("SKLEARN_SPARSE_ACT_EXAMPLE_SCALE") == "small"
if SMALL:
    print(
        "Reduced run (SKLEARN_SPARSE_ACT_EXAMPLE_SCALE=small): fewer epochs, "
        "seeds and sizes than the full example."
    )
SEEDS = [0] if SMALL else [0, 1, 2]
MAX_ITER = 5 if SMALL else 30
TRAIN_SIZES = [100, 400] if SMALL else [100, 200, 500, 1000]

digits, y = load_digits(return_X_y=True)
rng = np.random.default_rng(0)
X = np.empty((len(digits), 256))
for index, image in enumerate(digits.reshape(-1, 8, 8) / 16.0):
    large = ndimage.zoom(image, 2, order=1)
    X[index] = ndimage.shift(large, rng.integers(-2, 3, size=2), order=0).ravel()
X = np.clip(X, 0.0, 1.0)

models = {
    "scikit-learn MLP, 1024 units": lambda seed: MLPClassifier(
        (1024,), max_iter=MAX_ITER, random_state=seed
    ),
    "sparse, 1024 units, 26 active, boosted": lambda seed: SparseMLPClassifier(
        (1024,),
        activation_ratio=0.025,
        boost_strength=1.5,
        boost_decay=0.85,
        max_iter=MAX_ITER,
        random_state=seed,
    ),
}


# %%
# Robustness to noise, the same protocol. The *noise score* is the number of
# correct predictions summed over the levels.
def corrupt(images, fraction, value, rng):
    noisy = images.copy()
    n_corrupted = int(round(fraction * images.shape[1]))
    for row in noisy:
        row[rng.choice(images.shape[1], size=n_corrupted, replace=False)] = value
    return noisy


correct = {name: [] for name in models}
for seed in SEEDS:
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.3, stratify=y, random_state=seed
    )
    value = X_train.mean() + 2 * X_train.std()
    noisy_rng = np.random.default_rng(seed)
    noisy = [corrupt(X_test, level, value, noisy_rng) for level in NOISE_LEVELS]
    for name, make_model in models.items():
        model = make_model(seed).fit(X_train, y_train)
        correct[name].append([np.sum(model.predict(Z) == y_test) for Z in noisy])

fig, axis = plt.subplots(figsize=(6, 4))
for name, counts in correct.items():
    counts = np.array(counts)
    axis.plot(NOISE_LEVELS, counts.mean(axis=0) / len(y_test), marker="o", label=name)
    print(
        f"{name}: noise score {counts.sum(axis=1).mean():.0f} of "
        f"{len(NOISE_LEVELS) * len(y_test)}, clean accuracy "
        f"{counts[:, 0].mean() / len(y_test):.3f}"
    )
axis.set_xlabel("fraction of test pixels corrupted")
axis.set_ylabel("test accuracy")
axis.set_title("16x16 digits: accuracy under noise")
axis.legend()
fig.tight_layout()

# %%
# Learning from few rows: held-out accuracy after training on a stratified
# subsample of the training rows, mean over the seeds.
curves = {name: np.zeros(len(TRAIN_SIZES)) for name in models}
for seed in SEEDS:
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.3, stratify=y, random_state=seed
    )
    for position, rows in enumerate(TRAIN_SIZES):
        X_few, _, y_few, _ = train_test_split(
            X_train, y_train, train_size=rows, stratify=y_train, random_state=seed
        )
        for name, make_model in models.items():
            model = make_model(seed).fit(X_few, y_few)
            curves[name][position] += model.score(X_test, y_test) / len(SEEDS)

fig, axis = plt.subplots(figsize=(6, 4))
for name, accuracy in curves.items():
    axis.plot(TRAIN_SIZES, accuracy, marker="o", label=name)
axis.set_xscale("log")
axis.set_xlabel("training rows")
axis.set_ylabel("test accuracy")
axis.set_title("16x16 digits: learning curve")
axis.legend()
fig.tight_layout()
plt.show()

# %%
# What decides it
# ---------------
# In the study the sparse network wins on MNIST with about 100 training rows
# per class or more: there it is 18% more robust to pixel noise, 0.8 points
# more accurate and reaches the dense network's accuracy in about a fifth of
# the time (with fewer rows, 102 winners instead of 26 lead the dense
# network). On animal silhouettes of as many pixels and more principal
# components (174 hold 95% of the variance, against MNIST's 146) it is only
# level with the dense network, so neither the pixel count nor the
# components decide it. On the 8x8 digits and on their enlargement the dense
# network of the same width is more accurate and as robust or more. Sparse
# connections (``weight_density``) cost robustness on MNIST and add some on
# the silhouettes, at 0.7 points of clean accuracy. Neither network keeps
# earlier tasks in continual learning, and the sparse one forgets more.
