"""
=============================================
Tuning the ratio and the strategy in a search
=============================================

``activation_ratio`` and ``sparsity_strategy`` are ordinary hyper-parameters:
a :class:`~sklearn.model_selection.GridSearchCV` over a
:class:`~sklearn.pipeline.Pipeline` tunes them like any other, and its
``cv_results_`` show how much each choice matters.
"""

# %%
# The search
# ----------
# The pipeline scales the pixels to [0, 1] and fits a sparse MLP; the grid
# crosses four ratios with both strategies, each scored by 3-fold
# cross-validation on the training part of the digits, two fits at a time.
# ``SKLEARN_SPARSE_ACT_EXAMPLE_SCALE=small`` (used by the tests and the CI
# documentation build) shrinks the search.
import os
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler

from sklearn_sparse_act import SparseMLPClassifier

warnings.filterwarnings("ignore", category=ConvergenceWarning)

SMALL = os.environ.get("SKLEARN_SPARSE_ACT_EXAMPLE_SCALE") == "small"
if SMALL:
    print(
        "Reduced run (SKLEARN_SPARSE_ACT_EXAMPLE_SCALE=small): fewer epochs, "
        "seeds or rows than the full example; its numbers are not the ones "
        "quoted in the text or in the user guide."
    )
RATIOS = [0.05, 0.25] if SMALL else [0.05, 0.1, 0.25, 0.5]
STRATEGIES = ["fixed", "dynamic"]
MAX_ITER = 10 if SMALL else 80

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.25, stratify=y, random_state=0
)

pipeline = make_pipeline(
    MinMaxScaler(),
    SparseMLPClassifier(hidden_layer_sizes=(128,), max_iter=MAX_ITER, random_state=0),
)
search = GridSearchCV(
    pipeline,
    {
        "sparsemlpclassifier__activation_ratio": RATIOS,
        "sparsemlpclassifier__sparsity_strategy": STRATEGIES,
    },
    cv=3,
    n_jobs=2,
)
search.fit(X_train, y_train)
print(f"best parameters: {search.best_params_}")
print(f"best mean CV accuracy: {search.best_score_:.4f}")
print(f"held-out accuracy of the refitted pipeline: {search.score(X_test, y_test):.4f}")

# %%
# The refitted best model is an ordinary fitted estimator: its sparsity
# attributes are there to inspect.
best_model = search.best_estimator_[-1]
print(f"winners per hidden layer: {best_model.active_units_}")
print(f"dead units per hidden layer: {best_model.dead_units_}")

# %%
# Heatmap of the cross-validated scores
# -------------------------------------
# ``cv_results_`` lists the candidates in the order of the grid: the last
# parameter (the strategy) varies fastest, so the mean scores reshape into a
# ratio-by-strategy table.
mean_scores = search.cv_results_["mean_test_score"].reshape(
    len(RATIOS), len(STRATEGIES)
)
std_scores = search.cv_results_["std_test_score"].reshape(len(RATIOS), len(STRATEGIES))

fig, axis = plt.subplots(figsize=(4.6, 4))
image = axis.imshow(mean_scores, cmap="viridis", aspect="auto")
for row, col in np.ndindex(mean_scores.shape):
    axis.text(
        col,
        row,
        f"{mean_scores[row, col]:.3f}\n+- {std_scores[row, col]:.3f}",
        ha="center",
        va="center",
        color="white" if mean_scores[row, col] < mean_scores.mean() else "black",
    )
axis.set_xticks(range(len(STRATEGIES)), STRATEGIES)
axis.set_yticks(range(len(RATIOS)), [str(ratio) for ratio in RATIOS])
axis.set_xlabel("sparsity_strategy")
axis.set_ylabel("activation_ratio")
axis.set_title("mean 3-fold CV accuracy")
fig.colorbar(image, ax=axis)
fig.tight_layout()
plt.show()
