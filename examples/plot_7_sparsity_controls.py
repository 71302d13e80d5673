"""
=========================================
What the brain-inspired controls change
=========================================

Measure, on scikit-learn's digits, what each control of
:class:`~sklearn_sparse_act.SparseMLPClassifier` does at a small activation
ratio (5% of 200 hidden units, k = 10): homeostatic boosting
(``boost_strength``, ``boost_decay``), a sparsity warm-up
(``sparsity_warmup``), more winners at prediction
(``inference_ratio_factor``) and dropping the units that never win
(``compact``). Each model is scored on the same held-out digits; every number
is a mean over seeds.
"""

# %%
# Setup
# -----
# ``SKLEARN_SPARSE_ACT_EXAMPLE_SCALE=small`` (set by the tests and the
# documentation build in CI) shrinks the run.
import os
import warnings

import matplotlib.pyplot as plt
import numpy as np
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
SEEDS = [0] if SMALL else [0, 1]
MAX_ITER = 5 if SMALL else 60
# A warm-up must end before max_iter (a longer one is shortened, with a warning).
WARMUP = 2 if SMALL else 10
warnings.simplefilter("ignore", ConvergenceWarning)

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(
    X / 16, y, test_size=0.25, stratify=y, random_state=0
)
BASE = dict(hidden_layer_sizes=(200,), activation_ratio=0.05, max_iter=MAX_ITER)
VARIANTS = {
    "no control": {},
    "boost 5, decay 0.9": dict(boost_strength=5.0, boost_decay=0.9),
    "boost 1, no decay": dict(boost_strength=1.0),
    f"warm-up {WARMUP} epochs": dict(sparsity_warmup=WARMUP),
    "inference factor 2": dict(inference_ratio_factor=2.0),
}

# %%
# Fit every variant over the seeds
# --------------------------------
results = {name: {"accuracy": [], "dead": [], "in_use": []} for name in VARIANTS}
for seed in SEEDS:
    for name, params in VARIANTS.items():
        model = SparseMLPClassifier(random_state=seed, **BASE, **params)
        model.fit(X_train, y_train)
        results[name]["accuracy"].append(model.score(X_test, y_test))
        results[name]["dead"].append(model.dead_units_[0])
        compacted = model.compact()
        results[name]["in_use"].append(compacted.hidden_layer_sizes[0])

print(f"{'variant':<22}{'accuracy':>10}{'dead units':>12}{'units kept':>12}")
for name, measured in results.items():
    print(
        f"{name:<22}{np.mean(measured['accuracy']):>10.4f}"
        f"{np.mean(measured['dead']):>12.1f}{np.mean(measured['in_use']):>12.1f}"
    )

# %%
# ``compact()`` keeps the predictions on the training data
# ---------------------------------------------------------
# It drops the units that never won on the training data; the copy predicts
# the training digits exactly as the original does, with fewer weights.
model = SparseMLPClassifier(random_state=0, **BASE).fit(X_train, y_train)
compacted = model.compact()
same = np.array_equal(compacted.predict(X_train), model.predict(X_train))
print(
    f"compact(): {sum(c.size for c in model.coefs_)} -> "
    f"{sum(c.size for c in compacted.coefs_)} weights, "
    f"{compacted.removed_units_[0]} units removed, same training predictions: {same}"
)

# %%
# Plot
# ----
names = list(results)
fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4), layout="constrained")
positions = np.arange(len(names))
# The accuracy axis starts at 0 so that every bar shows, however low; each bar
# carries its value.
mean_accuracy = [np.mean(results[n]["accuracy"]) for n in names]
bars = left.barh(positions, mean_accuracy)
left.bar_label(bars, fmt="%.3f", padding=2)
left.set_yticks(positions, names)
left.set_xlim(0.0, 1.12)
left.set_xlabel("held-out accuracy")
bars = right.barh(
    positions, [np.mean(results[n]["dead"]) for n in names], color="tab:red"
)
right.bar_label(bars, fmt="%.1f", padding=2)
right.set_xlim(0, 225)
right.set_yticks(positions, [])
right.set_xlabel("dead units in the last epoch (of 200)")
title = "Controls at activation_ratio=0.05 on the digits"
fig.suptitle(f"{title} (reduced run)" if SMALL else title)
plt.show()
