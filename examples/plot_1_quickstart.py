"""
==========
Quickstart
==========

Fit a :class:`~sklearn_sparse_act.SparseMLPClassifier` on scikit-learn's
hand-written digits, predict held-out digits, and read the three numbers that
describe how its hidden layer fired during training: ``active_units_``,
``active_fraction_`` and ``dead_units_``.
"""

# %%
# Data and model
# --------------
# The 8x8 digit images have pixel intensities from 0 to 16; dividing by 16
# puts them in [0, 1], the range the network's initialisation expects.
#
# The test suite and the continuous-integration documentation build set the
# environment variable ``SKLEARN_SPARSE_ACT_EXAMPLE_SCALE=small`` to run a
# shrunken version of every example. When this page was built that way, the
# first line of the output below says so, and its numbers are those of the
# shortened run, not of the full one that the text and the user guide quote.
# A fit that reaches ``max_iter`` before its loss settles warns with
# scikit-learn's ``ConvergenceWarning``; the example reports that in its
# output instead.
import os
import warnings

import matplotlib.pyplot as plt
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

from sklearn_sparse_act import SparseMLPClassifier

SMALL = os.environ.get("SKLEARN_SPARSE_ACT_EXAMPLE_SCALE") == "small"
if SMALL:
    print(
        "Reduced run (SKLEARN_SPARSE_ACT_EXAMPLE_SCALE=small): fewer epochs, "
        "seeds or rows than the full example; its numbers are not the ones "
        "quoted in the text or in the user guide."
    )
MAX_ITER = 15 if SMALL else 200

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(
    X / 16, y, test_size=0.25, stratify=y, random_state=0
)

model = SparseMLPClassifier(
    hidden_layer_sizes=(256,),
    activation_ratio=0.1,
    sparsity_strategy="fixed",
    max_iter=MAX_ITER,
    random_state=0,
)
with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)
    model.fit(X_train, y_train)
# Training stops early when the loss stops improving; otherwise at max_iter.
if model.n_iter_ < MAX_ITER:
    print(f"epochs run: {model.n_iter_} (the loss stopped improving)")
else:
    print(f"epochs run: {model.n_iter_} (stopped by max_iter before converging)")
print(f"held-out accuracy: {model.score(X_test, y_test):.3f}")

# %%
# Predictions
# -----------
# ``predict`` and ``predict_proba`` behave as in scikit-learn's
# :class:`~sklearn.neural_network.MLPClassifier`. Each prediction depends on
# its own row only: the winners of a hidden layer are chosen per sample.
predicted = model.predict(X_test)
probabilities = model.predict_proba(X_test)

fig, axes = plt.subplots(2, 6, figsize=(8, 3.4))
for image_index, axis in enumerate(axes.ravel()):
    axis.imshow(X_test[image_index].reshape(8, 8), cmap="gray_r")
    axis.set_title(
        f"{predicted[image_index]} ({probabilities[image_index].max():.2f})",
        color="black" if predicted[image_index] == y_test[image_index] else "red",
        fontsize=10,
    )
    axis.set_axis_off()
fig.suptitle("Predicted digit (its probability); red marks a mistake")
fig.tight_layout()

# %%
# How the hidden layer fired
# --------------------------
# ``active_units_`` is the number ``k`` of winners per hidden layer:
# ``max(1, floor(0.1 * 256 + 0.5)) = 26``. ``active_fraction_`` is the mean
# fraction of hidden outputs that were non-zero over the last training epoch:
# at most ``26 / 256 = 0.102`` with ``'fixed'``, less when a winner's
# pre-activation is negative (ReLU then outputs 0). ``dead_units_`` counts the
# units that never fired on any training sample in that epoch: they lost
# every competition, so the loss gave them no gradient (only the L2 penalty
# still shrinks their weights). The user guide's section on dead units
# measures how they come about.
print(f"winners per hidden layer (active_units_): {model.active_units_}")
print(f"active fraction per hidden layer: {model.active_fraction_.round(4)}")
print(f"dead units per hidden layer: {model.dead_units_} of 256")

# %%
# The training loss per epoch is in ``loss_curve_``, as in scikit-learn.
fig, axis = plt.subplots(figsize=(5, 3.2))
axis.plot(range(1, len(model.loss_curve_) + 1), model.loss_curve_)
axis.set_xlabel("epoch")
axis.set_ylabel("training log-loss")
axis.set_yscale("log")
axis.set_title("SparseMLPClassifier, activation_ratio=0.1")
fig.tight_layout()
plt.show()
