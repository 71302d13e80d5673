"""
==================
Sparse connections
==================

Cortex is sparse twice over: few neurons fire at a time, and each neuron is
connected to a small fraction of the others. ``activation_ratio`` gives the
first kind of sparsity, ``weight_density`` the second: each hidden unit keeps
a fixed random subset of its possible inputs, drawn when the weights are
first drawn, and the other weights stay exactly zero.

This example trains on the 8x8 digits three networks with 10% of their
hidden units firing: fully connected, and with 30% and 10% of each hidden
unit's incoming weights. It compares their accuracy on clean and corrupted
test digits (the protocol of the noise example), and the size of each model
on disk.
"""

# %%
# Training
# --------
# ``SKLEARN_SPARSE_ACT_EXAMPLE_SCALE=small`` (used by the tests and the CI
# documentation build) shrinks the experiment.
import os
import pickle
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

from sklearn_sparse_act import SparseMLPClassifier

warnings.filterwarnings("ignore", category=ConvergenceWarning)

SMALL = os.environ.get("SKLEARN_SPARSE_ACT_EXAMPLE_SCALE") == "small"
if SMALL:
    print(
        "Reduced run (SKLEARN_SPARSE_ACT_EXAMPLE_SCALE=small): fewer epochs "
        "and seeds than the full example; its numbers are not the ones quoted "
        "in the text or in the user guide."
    )
SEEDS = [0] if SMALL else [0, 1, 2]
MAX_ITER = 10 if SMALL else 100
NOISE_LEVELS = np.linspace(0, 0.5, 6)
DENSITIES = [1.0, 0.3, 0.1]
HIDDEN = (256,)

X, y = load_digits(return_X_y=True)
X = X / 16


def corrupt(images, noise_level, rng):
    """Copy of ``images`` with a fraction ``noise_level`` of each row set to 1."""
    noisy = images.copy()
    n_corrupted = int(round(noise_level * images.shape[1]))
    for row in noisy:
        row[rng.choice(images.shape[1], size=n_corrupted, replace=False)] = 1.0
    return noisy


accuracy = {density: [] for density in DENSITIES}
models = {}
for seed in SEEDS:
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=450, stratify=y, random_state=seed
    )
    rng = np.random.default_rng(seed)
    noisy_tests = [corrupt(X_test, level, rng) for level in NOISE_LEVELS]
    for density in DENSITIES:
        model = SparseMLPClassifier(
            HIDDEN,
            activation_ratio=0.1,
            weight_density=density,
            max_iter=MAX_ITER,
            random_state=seed,
        ).fit(X_train, y_train)
        accuracy[density].append([model.score(Xn, y_test) for Xn in noisy_tests])
        models[density] = model

# %%
# The connections
# ---------------
# ``connection_masks_`` holds, per hidden layer, which weights exist. Every
# unit keeps the same number of inputs, ``round(density * 64)`` of the 64
# pixels; the output layer is fully connected.
sparse = models[0.1]
mask = sparse.connection_masks_[0]
print("inputs per hidden unit:", np.unique(mask.sum(axis=0)))
print("absent weights all zero:", bool(np.all(sparse.coefs_[0][~mask] == 0)))

fig, axes = plt.subplots(1, 4, figsize=(6, 1.9))
for unit, axis in enumerate(axes):
    axis.imshow(sparse.coefs_[0][:, unit].reshape(8, 8), cmap="RdBu")
    axis.set_title(f"unit {unit}", fontsize=9)
    axis.set_axis_off()
fig.suptitle("input weights of four hidden units, weight_density=0.1", fontsize=9)
fig.tight_layout()

# %%
# Accuracy against noise
# ----------------------
# Means over the seeds.
fig, axis = plt.subplots(figsize=(6, 4))
for density, rows in accuracy.items():
    axis.plot(
        NOISE_LEVELS, np.mean(rows, axis=0), marker="o", label=f"density {density}"
    )
axis.set_xlabel("fraction of test pixels corrupted")
axis.set_ylabel("test accuracy")
axis.set_title(f"digits, hidden layer {HIDDEN}, ratio 0.1, {len(SEEDS)} seed(s)")
axis.legend()
fig.tight_layout()

print(f"{'density':<9}{'clean':>7}{'noise 0.5':>11}{'pickle bytes':>14}")
for density, rows in accuracy.items():
    size = len(pickle.dumps(models[density]))
    print(
        f"{density:<9}{np.mean(rows, axis=0)[0]:>7.3f}"
        f"{np.mean(rows, axis=0)[-1]:>11.3f}{size:>14}"
    )
plt.show()
