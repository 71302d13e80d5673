"""
==========================
What the hidden layer sees
==========================

A hidden layer of 256 units drawn as a 16x16 image: for a few digits, which
units fire and how strongly, in a dense network and in sparse networks with
the 'fixed' and 'dynamic' strategies at ratio 0.1. Then, over the whole test
set, how often each unit fires, and how many units never fire at all.
"""

# %%
# Three networks
# --------------
# The same architecture, seed and epochs; only the activation ratio and the
# strategy differ. ``SKLEARN_SPARSE_ACT_EXAMPLE_SCALE=small`` (used by the
# tests and the CI documentation build) shortens training.
import os
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
        "Reduced run (SKLEARN_SPARSE_ACT_EXAMPLE_SCALE=small): fewer epochs, "
        "seeds or rows than the full example; its numbers are not the ones "
        "quoted in the text or in the user guide."
    )
MAX_ITER = 15 if SMALL else 150

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(
    X / 16, y, test_size=0.25, stratify=y, random_state=0
)

settings = {
    "dense (ratio 1.0)": dict(activation_ratio=1.0),
    "'fixed', ratio 0.1": dict(activation_ratio=0.1, sparsity_strategy="fixed"),
    "'dynamic', ratio 0.1": dict(activation_ratio=0.1, sparsity_strategy="dynamic"),
}
models = {
    name: SparseMLPClassifier(
        hidden_layer_sizes=(256,), max_iter=MAX_ITER, random_state=0, **params
    ).fit(X_train, y_train)
    for name, params in settings.items()
}
for name, model in models.items():
    print(
        f"{name:<22} accuracy {model.score(X_test, y_test):.3f}, "
        f"dead units in training: {model.dead_units_[0]} of 256"
    )


# %%
# The hidden code
# ---------------
# The output of the hidden layer follows from the fitted attributes alone, as
# the estimator's docstring states: compute the pre-activations
# ``z = x @ coefs_[0] + intercepts_[0]``; with 'fixed' the
# ``k = inference_active_units_[0]`` largest entries of each row win, with
# 'dynamic' the entries strictly above ``inference_thresholds_[0]`` win (by
# default these equal ``active_units_`` and ``activation_thresholds_``); the
# winners pass through the ReLU and every other unit outputs 0.
def hidden_code(model, X):
    """Output of the first hidden layer of a fitted ReLU ``model`` for ``X``."""
    pre_activations = X @ model.coefs_[0] + model.intercepts_[0]
    n_active = model.inference_active_units_[0]
    if n_active == pre_activations.shape[1]:
        winners = np.ones(pre_activations.shape, dtype=bool)
    elif model.inference_thresholds_ is None:
        kth_largest = -np.partition(-pre_activations, n_active - 1, axis=1)[
            :, n_active - 1 : n_active
        ]
        winners = pre_activations >= kth_largest
    else:
        winners = pre_activations > model.inference_thresholds_[0]
    return np.where(winners, np.maximum(pre_activations, 0), 0.0)


codes = {name: hidden_code(model, X_test) for name, model in models.items()}

# %%
# The codes are exactly what the estimator computes: they equal what
# :meth:`~sklearn_sparse_act.SparseMLPClassifier.hidden_activations` returns
# (as a sparse CSR matrix), and the output layer applied to them reproduces
# ``predict_proba``.
for name, model in models.items():
    assert np.allclose(codes[name], model.hidden_activations(X_test).toarray())
    logits = codes[name] @ model.coefs_[1] + model.intercepts_[1]
    probabilities = np.exp(logits - logits.max(axis=1, keepdims=True))
    probabilities /= probabilities.sum(axis=1, keepdims=True)
    assert np.allclose(probabilities, model.predict_proba(X_test))

# %%
# Codes of a few digits
# ---------------------
# One test image per class 0-4, then its hidden code in each network (darker
# is a stronger output; white is exactly 0). The dense ReLU layer switches on
# most of its units for every digit; the sparse layers keep a small set, and
# different digits recruit different units.
examples = [int(np.flatnonzero(y_test == digit)[0]) for digit in range(5)]
fig, axes = plt.subplots(len(examples), 4, figsize=(6.4, 8))
for row, sample in zip(axes, examples, strict=True):
    row[0].imshow(X_test[sample].reshape(8, 8), cmap="gray_r")
    for axis, code in zip(row[1:], codes.values(), strict=True):
        axis.imshow(code[sample].reshape(16, 16), cmap="Blues")
        axis.set_xlabel(f"{np.count_nonzero(code[sample])} firing", fontsize=8)
for axis, title in zip(axes[0], ["input", *codes], strict=True):
    axis.set_title(title, fontsize=9)
for axis in axes.ravel():
    axis.set_xticks([])
    axis.set_yticks([])
fig.tight_layout()

# %%
# Firing rates and dead units
# ---------------------------
# Left: how many units fire per test digit. 'fixed' keeps ``k = 26`` winners
# for every digit (fewer only if a winner's ReLU output is 0); 'dynamic' lets
# the count vary around ``k`` from digit to digit. Right: the fraction of test
# digits on which each unit fires. A unit at rate 0 is dead on the test set.
fig, (count_axis, rate_axis) = plt.subplots(1, 2, figsize=(9, 3.6))
bins = np.linspace(0, 1, 41)
for name, code in codes.items():
    firing = code > 0
    count_axis.hist(
        firing.sum(axis=1), bins=np.arange(0, 257, 4), histtype="step", label=name
    )
    rates = firing.mean(axis=0)
    n_dead = np.count_nonzero(rates == 0)
    rate_axis.hist(rates, bins=bins, histtype="step", label=f"{name}: {n_dead} dead")
count_axis.set_xlabel("units firing per test digit")
count_axis.set_ylabel("test digits")
rate_axis.set_xlabel("fraction of test digits on which a unit fires")
rate_axis.set_ylabel("units")
rate_axis.set_yscale("log")
count_axis.legend(fontsize=8)
rate_axis.legend(fontsize=8)
fig.tight_layout()

for name, code in codes.items():
    rates = (code > 0).mean(axis=0)
    firing_per_digit = np.count_nonzero(code, axis=1)
    print(
        f"{name:<22} units firing per digit: {firing_per_digit.mean():6.1f}"
        f" (from {firing_per_digit.min()} to {firing_per_digit.max()})"
        f", dead on the test set: {np.count_nonzero(rates == 0):3d}"
        f", busiest unit fires on {rates.max():.0%} of digits"
    )

# %%
# When units die
# --------------
# ``dead_units_`` is measured over each training epoch, so training one epoch
# at a time with ``partial_fit`` shows when the units die. A unit that loses
# every competition receives no gradient from the loss, so nothing pushes it
# back into the competition.
RATIOS = [0.05, 0.25] if SMALL else [0.05, 0.1, 0.25, 0.5]
EPOCHS = 5 if SMALL else 60
fig, axis = plt.subplots(figsize=(6, 3.8))
for strategy, line_style in (("fixed", "-"), ("dynamic", "--")):
    for color, ratio in enumerate(RATIOS):
        model = SparseMLPClassifier(
            hidden_layer_sizes=(256,),
            activation_ratio=ratio,
            sparsity_strategy=strategy,
            random_state=0,
        )
        dead_per_epoch = []
        for _ in range(EPOCHS):
            model.partial_fit(X_train, y_train, classes=np.arange(10))
            dead_per_epoch.append(model.dead_units_[0])
        axis.plot(
            range(1, EPOCHS + 1),
            dead_per_epoch,
            line_style,
            color=f"C{color}",
            label=f"'{strategy}', ratio {ratio}",
        )
        print(
            f"'{strategy}' ratio {ratio:<5} dead units after epoch 1: "
            f"{dead_per_epoch[0]:3d}, after epoch {EPOCHS}: {dead_per_epoch[-1]:3d}"
        )
axis.set_xlabel("epoch")
axis.set_ylabel("dead units (of 256)")
axis.legend(fontsize=8, ncol=2)
fig.tight_layout()
plt.show()
