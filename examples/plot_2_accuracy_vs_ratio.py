"""
====================================
Accuracy versus the activation ratio
====================================

How much accuracy does sparsity cost? On the digits, train one hidden layer of
128 units at several activation ratios with both sparsity strategies, next to
scikit-learn's dense :class:`~sklearn.neural_network.MLPClassifier` of the
same shape, over several seeds (each seed draws its own train/test split and
its own initial weights). Then check ratio 0.1 against dense on the other
classification data sets bundled with scikit-learn.
"""

# %%
# The experiment
# --------------
# Every model gets the same budget of epochs of Adam, each at its default
# step size: scikit-learn's 0.001, and for the sparse models
# ``learning_rate_init='auto'``, ``min(max(0.0005 / ratio, 0.001), 0.01)``.
# The warning that some of them could have trained longer is expected and
# silenced.
# ``SKLEARN_SPARSE_ACT_EXAMPLE_SCALE=small`` (used by the tests and the CI
# documentation build) shrinks the experiment.
import os
import warnings
from collections import defaultdict

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_breast_cancer, load_digits, load_iris, load_wine
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import StratifiedKFold, cross_val_score, train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.parallel import Parallel, delayed

from sklearn_sparse_act import SparseMLPClassifier

warnings.filterwarnings("ignore", category=ConvergenceWarning)

SMALL = os.environ.get("SKLEARN_SPARSE_ACT_EXAMPLE_SCALE") == "small"
if SMALL:
    print(
        "Reduced run (SKLEARN_SPARSE_ACT_EXAMPLE_SCALE=small): fewer epochs, "
        "seeds or rows than the full example; its numbers are not the ones "
        "quoted in the text or in the user guide."
    )
RATIOS = [0.05, 0.25] if SMALL else [0.02, 0.05, 0.1, 0.25, 0.5]
SEEDS = [0] if SMALL else [0, 1, 2]
MAX_ITER = 10 if SMALL else 100
HIDDEN = (128,)

X, y = load_digits(return_X_y=True)
X = X / 16


def make_model(strategy, ratio, seed):
    """scikit-learn's dense MLP for 'dense', else a sparse one."""
    if strategy == "dense":
        return MLPClassifier(HIDDEN, max_iter=MAX_ITER, random_state=seed)
    return SparseMLPClassifier(
        HIDDEN,
        activation_ratio=ratio,
        sparsity_strategy=strategy,
        max_iter=MAX_ITER,
        random_state=seed,
    )


def held_out_accuracy(model, seed):
    """Accuracy on a stratified quarter of the digits held out with ``seed``."""
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, stratify=y, random_state=seed
    )
    return model.fit(X_train, y_train).score(X_test, y_test)


configurations = [("dense", 1.0, seed) for seed in SEEDS] + [
    (strategy, ratio, seed)
    for strategy in ("fixed", "dynamic")
    for ratio in RATIOS
    for seed in SEEDS
]
# The fits are independent: joblib runs them on both cores (scikit-learn's
# Parallel passes the warning filter above on to the workers).
accuracies = Parallel(n_jobs=2)(
    delayed(held_out_accuracy)(make_model(strategy, ratio, seed), seed)
    for strategy, ratio, seed in configurations
)
scores = defaultdict(list)
for (strategy, ratio, _), accuracy in zip(configurations, accuracies, strict=True):
    scores[strategy, ratio].append(accuracy)
dense_scores = np.array(scores["dense", 1.0])

# %%
# Accuracy against the ratio
# --------------------------
# Points are means over the seeds; bars and the grey band are one standard
# deviation. At ratio 1.0 both strategies are the dense network, so the band
# is the reference every sparse model is measured against.
fig, axis = plt.subplots(figsize=(6, 4))
axis.axhspan(
    dense_scores.mean() - dense_scores.std(),
    dense_scores.mean() + dense_scores.std(),
    color="0.85",
)
axis.axhline(dense_scores.mean(), color="0.4", label="scikit-learn MLPClassifier")
for strategy, marker in (("fixed", "o"), ("dynamic", "s")):
    axis.errorbar(
        RATIOS,
        [np.mean(scores[strategy, ratio]) for ratio in RATIOS],
        yerr=[np.std(scores[strategy, ratio]) for ratio in RATIOS],
        marker=marker,
        capsize=3,
        label=f"SparseMLPClassifier, '{strategy}'",
    )
axis.set_xscale("log")
axis.set_xticks(RATIOS, [str(ratio) for ratio in RATIOS])
axis.minorticks_off()
axis.set_xlabel("activation_ratio (fraction of the 128 hidden units that fire)")
axis.set_ylabel("held-out accuracy")
axis.set_title(f"digits, hidden layer {HIDDEN}, {len(SEEDS)} seed(s)")
axis.legend(loc="lower right")
fig.tight_layout()

print(f"dense MLPClassifier: {dense_scores.mean():.4f} +- {dense_scores.std():.4f}")
for strategy in ("fixed", "dynamic"):
    for ratio in RATIOS:
        row = np.array(scores[strategy, ratio])
        print(
            f"{strategy:>8} ratio {ratio:<5} {row.mean():.4f} +- {row.std():.4f}"
            f"  (dense minus sparse: {dense_scores.mean() - row.mean():+.4f})"
        )

# %%
# Ratio 0.1 on the other bundled data sets
# ----------------------------------------
# The same comparison with 5-fold stratified cross-validation on the breast
# cancer, wine and iris data sets, features standardised inside a Pipeline.
# These data sets are small and easy; the question is whether letting only a
# tenth of the units fire loses anything on them.
datasets = {
    "breast_cancer": load_breast_cancer(return_X_y=True),
    "wine": load_wine(return_X_y=True),
    "iris": load_iris(return_X_y=True),
}
CV_MAX_ITER = 20 if SMALL else 200
cv = StratifiedKFold(n_splits=3 if SMALL else 5, shuffle=True, random_state=0)
models = {
    "dense": MLPClassifier(HIDDEN, max_iter=CV_MAX_ITER, random_state=0),
    "fixed 0.1": SparseMLPClassifier(
        HIDDEN, activation_ratio=0.1, max_iter=CV_MAX_ITER, random_state=0
    ),
    "dynamic 0.1": SparseMLPClassifier(
        HIDDEN,
        activation_ratio=0.1,
        sparsity_strategy="dynamic",
        max_iter=CV_MAX_ITER,
        random_state=0,
    ),
}
cv_scores = {
    (dataset_name, model_name): cross_val_score(
        make_pipeline(StandardScaler(), model), X_data, y_data, cv=cv, n_jobs=2
    )
    for dataset_name, (X_data, y_data) in datasets.items()
    for model_name, model in models.items()
}

print(f"{'data set':<14}" + "".join(f"{name:>20}" for name in models))
for dataset_name in datasets:
    cells = [cv_scores[dataset_name, model_name] for model_name in models]
    print(
        f"{dataset_name:<14}"
        + "".join(f"{cell.mean():>12.4f} +- {cell.std():.3f}" for cell in cells)
    )

# %%
# The bars show each model's mean cross-validated accuracy with one standard
# deviation over the folds.
fig, axis = plt.subplots(figsize=(6, 3.6))
bar_width = 0.27
positions = np.arange(len(datasets))
for offset, model_name in enumerate(models):
    cells = [cv_scores[dataset_name, model_name] for dataset_name in datasets]
    axis.bar(
        positions + (offset - 1) * bar_width,
        [cell.mean() for cell in cells],
        bar_width,
        yerr=[cell.std() for cell in cells],
        capsize=3,
        label=model_name,
    )
axis.set_xticks(positions, list(datasets))
# Zoom on the top of the scale, but never so far that a bar is cut off.
lowest = min(cell.mean() - cell.std() for cell in cv_scores.values())
axis.set_ylim(min(0.8, lowest - 0.02), 1.0)
axis.set_ylabel("cross-validated accuracy")
axis.legend(loc="lower right")
fig.tight_layout()
plt.show()
