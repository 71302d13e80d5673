"""
======================
Speed versus the ratio
======================

Does firing fewer units make training or prediction faster? This example
times :class:`~sklearn_sparse_act.SparseMLPClassifier` at several activation
ratios against scikit-learn's :class:`~sklearn.neural_network.MLPClassifier`
of the same shape, in the same process, and reports every time as a ratio to
scikit-learn's. It is a small version of the full study,
``benchmarks/bench_vs_sklearn.py`` in the repository, which covers wider
networks, float32 and memory.
"""

# %%
# The timing protocol
# -------------------
# Synthetic 10-class data with 64 features; two hidden layers of 256 units, so
# the second layer's input is the first layer's sparse code. Every model trains
# for exactly the same number of epochs (``tol=0`` and a patience longer than
# the run) with the same batch size and seed, then predicts a held-out set.
# The repeats are interleaved (each repeat times every model once) and each
# reported number is the median over repeats of ours / scikit-learn's from
# the same repeat, so a slow moment of a shared machine hits both sides of a
# ratio. Times are the CPU time of this process (:func:`time.process_time`),
# which other programs running on the machine disturb far less than wall
# time. ``SKLEARN_SPARSE_ACT_EXAMPLE_SCALE=small`` (used by the tests and the
# CI documentation build) shrinks the run; timings that small mean nothing.
import os
import time
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler

from sklearn_sparse_act import SparseMLPClassifier

warnings.filterwarnings("ignore", category=ConvergenceWarning)

SMALL = os.environ.get("SKLEARN_SPARSE_ACT_EXAMPLE_SCALE") == "small"
RATIOS = [0.1, 1.0] if SMALL else [0.02, 0.05, 0.1, 0.25, 0.5, 1.0]
STRATEGIES = ["fixed", "dynamic"]
REPEATS = 1 if SMALL else 5
EPOCHS = 1 if SMALL else 3
N_TRAIN, N_TEST = (500, 500) if SMALL else (3000, 10000)
HIDDEN = (256, 256)

X, y = make_classification(
    n_samples=N_TRAIN + N_TEST,
    n_features=64,
    n_informative=32,
    n_classes=10,
    random_state=0,
)
X = StandardScaler().fit_transform(X)
X_train, X_test, y_train = X[:N_TRAIN], X[N_TRAIN:], y[:N_TRAIN]

same_training = dict(
    max_iter=EPOCHS, tol=0.0, n_iter_no_change=EPOCHS + 1, batch_size=200
)
models = {"scikit-learn": MLPClassifier(HIDDEN, random_state=0, **same_training)}
for strategy in STRATEGIES:
    for ratio in RATIOS:
        models[strategy, ratio] = SparseMLPClassifier(
            HIDDEN,
            activation_ratio=ratio,
            sparsity_strategy=strategy,
            random_state=0,
            **same_training,
        )


def seconds(function, *args):
    """CPU seconds this process spends in one call ``function(*args)``."""
    start = time.process_time()
    function(*args)
    return time.process_time() - start


fit_seconds = {name: [] for name in models}
predict_seconds = {name: [] for name in models}
for _ in range(REPEATS):
    for name, model in models.items():
        fit_seconds[name].append(seconds(model.fit, X_train, y_train))
        predict_seconds[name].append(seconds(model.predict, X_test))


def median_ratio(measurements, name):
    """Median over repeats of ``name``'s time / scikit-learn's time."""
    return float(np.median(np.divide(measurements[name], measurements["scikit-learn"])))


# %%
# Time relative to scikit-learn
# -----------------------------
# Below 1 is faster than scikit-learn's dense MLP, above 1 slower. At ratio
# 1.0 both strategies are dense networks: that point measures the cost of the
# implementation itself, the others add the cost (or saving) of selecting the
# winners.
fig, axes = plt.subplots(1, 2, figsize=(9, 3.6), sharey=True)
for axis, measurements, title in (
    (axes[0], fit_seconds, f"fit ({EPOCHS} epochs, {N_TRAIN} rows)"),
    (axes[1], predict_seconds, f"predict ({N_TEST} rows)"),
):
    for strategy, marker in zip(STRATEGIES, ("o", "s"), strict=True):
        axis.plot(
            RATIOS,
            [median_ratio(measurements, (strategy, ratio)) for ratio in RATIOS],
            marker=marker,
            label=f"'{strategy}'",
        )
    axis.axhline(1.0, color="0.4", linestyle="--", label="scikit-learn")
    axis.set_xscale("log")
    axis.set_xticks(RATIOS, [str(ratio) for ratio in RATIOS])
    axis.minorticks_off()
    axis.set_xlabel("activation_ratio")
    axis.set_title(title)
axes[0].set_ylabel("time / scikit-learn's time")
axes[0].legend()
fig.suptitle(f"hidden layers {HIDDEN}, median of {REPEATS} repeat(s)")
fig.tight_layout()

print(f"{'model':<18}{'fit / sklearn':>15}{'predict / sklearn':>19}")
for name in models:
    if name == "scikit-learn":
        continue
    strategy, ratio = name
    print(
        f"{strategy:>8} {ratio:<9}{median_ratio(fit_seconds, name):>15.2f}"
        f"{median_ratio(predict_seconds, name):>19.2f}"
    )
print(
    f"scikit-learn medians: fit {np.median(fit_seconds['scikit-learn']):.3f} s, "
    f"predict {np.median(predict_seconds['scikit-learn']):.3f} s"
)
plt.show()
