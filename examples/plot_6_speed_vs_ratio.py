"""
======================
Speed versus the ratio
======================

Does firing fewer units make training or prediction faster? This example
times :class:`~sklearn_sparse_act.SparseMLPClassifier` at several activation
ratios against scikit-learn's :class:`~sklearn.neural_network.MLPClassifier`
of the same shape, in the same process, and reports every time as a ratio to
scikit-learn's. It is a small version of the full study,
``benchmarks/bench_vs_sklearn.py`` in the repository, which covers more
shapes, float32, one-row latency and memory.
"""

# %%
# The timing protocol
# -------------------
# Synthetic 10-class data with 64 features. Every model trains for exactly the
# same number of epochs (``tol=0`` and a patience longer than the run) with the
# same batch size and seed, then predicts a held-out set. The repeats are
# interleaved (each repeat times every model once) and each reported number is
# the median over repeats of ours / scikit-learn's from the same repeat, so a
# slow moment of a shared machine hits both sides of a ratio. Times are the
# CPU time of this process (:func:`time.process_time`), which other programs
# running on the machine disturb far less than wall time.
# ``SKLEARN_SPARSE_ACT_EXAMPLE_SCALE=small`` (used by the tests and the CI
# documentation build) shrinks the run; timings that small mean nothing.
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
if SMALL:
    print(
        "Reduced run (SKLEARN_SPARSE_ACT_EXAMPLE_SCALE=small): fewer epochs, "
        "seeds or rows than the full example; its numbers are not the ones "
        "quoted in the text or in the user guide."
    )


def make_data(n_train, n_test):
    """Standardised synthetic training rows, labels and held-out rows."""
    X, y = make_classification(
        n_samples=n_train + n_test,
        n_features=64,
        n_informative=32,
        n_classes=10,
        random_state=0,
    )
    X = StandardScaler().fit_transform(X)
    return X[:n_train], y[:n_train], X[n_train:]


def seconds(function, *args):
    """CPU seconds this process spends in one call ``function(*args)``."""
    start = time.process_time()
    function(*args)
    return time.process_time() - start


def time_against_sklearn(hidden, configurations, data, epochs, repeats):
    """Fit and predict times of sparse models as ratios to scikit-learn's.

    ``configurations`` lists ``(strategy, ratio)`` pairs; the package's dense
    network is timed too, as ``('dense', 1.0)``. Returns two dicts, fit and
    predict, mapping each pair to the median over ``repeats`` of its time
    divided by scikit-learn's time in the same repeat.
    """
    X_train, y_train, X_test = data
    same_training = dict(
        max_iter=epochs, tol=0.0, n_iter_no_change=epochs + 1, batch_size=200
    )
    models = {"scikit-learn": MLPClassifier(hidden, random_state=0, **same_training)}
    for strategy, ratio in [("dense", 1.0), *configurations]:
        models[strategy, ratio] = SparseMLPClassifier(
            hidden,
            activation_ratio=ratio,
            sparsity_strategy="fixed" if strategy == "dense" else strategy,
            random_state=0,
            **same_training,
        )
    fit_seconds = {name: [] for name in models}
    predict_seconds = {name: [] for name in models}
    for _ in range(repeats):
        for name, model in models.items():
            fit_seconds[name].append(seconds(model.fit, X_train, y_train))
            predict_seconds[name].append(seconds(model.predict, X_test))
    return tuple(
        {
            name: float(np.median(np.divide(times[name], times["scikit-learn"])))
            for name in models
            if name != "scikit-learn"
        }
        for times in (fit_seconds, predict_seconds)
    )


def plot_ratios(fit_ratios, predict_ratios, strategies, ratios, title):
    """Fit and predict time ratios against the activation ratio, with the
    package's dense network (``('dense', 1.0)``) as a horizontal line."""
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.6), sharey=True)
    for axis, measured, panel in (
        (axes[0], fit_ratios, "fit"),
        (axes[1], predict_ratios, "predict"),
    ):
        for strategy, marker in zip(strategies, ("o", "s"), strict=False):
            axis.plot(
                ratios,
                [measured[strategy, ratio] for ratio in ratios],
                marker=marker,
                label=f"'{strategy}'",
            )
        axis.axhline(
            measured["dense", 1.0], color="k", linestyle=":", label="dense (1.0)"
        )
        axis.axhline(1.0, color="0.4", linestyle="--", label="scikit-learn")
        axis.set_xscale("log")
        axis.set_xticks(ratios, [str(ratio) for ratio in ratios])
        axis.minorticks_off()
        axis.set_xlabel("activation_ratio")
        axis.set_title(panel)
    axes[0].set_ylabel("time / scikit-learn's time")
    axes[0].legend()
    if SMALL:
        title += "\nreduced run: one tiny fit per model, the times mean nothing"
    fig.suptitle(title)
    fig.tight_layout()
    for name in fit_ratios:
        strategy, ratio = name
        print(
            f"{strategy:>8} {ratio:<6} fit / sklearn {fit_ratios[name]:5.2f}"
            f"   predict / sklearn {predict_ratios[name]:5.2f}"
        )


# %%
# Two layers of 256 units
# -----------------------
# A common size: 3 epochs on 3000 rows, then predicting 10000 rows, both
# strategies. The dotted line is this package's own dense network (ratio 1.0,
# no unit dropped): compare the sparse points with it to see what sparsity
# itself costs or saves.
RATIOS = [0.1] if SMALL else [0.02, 0.05, 0.1, 0.5]
STRATEGIES = ["fixed", "dynamic"]
EPOCHS, REPEATS = (1, 1) if SMALL else (3, 5)
data = make_data(*((500, 500) if SMALL else (3000, 10000)))
fit_ratios, predict_ratios = time_against_sklearn(
    (256, 256),
    [(strategy, ratio) for strategy in STRATEGIES for ratio in RATIOS],
    data,
    EPOCHS,
    REPEATS,
)
plot_ratios(
    fit_ratios,
    predict_ratios,
    STRATEGIES,
    RATIOS,
    f"hidden layers (256, 256), median of {REPEATS} repeat(s)",
)

# %%
# Two layers of 1024 units
# ------------------------
# When few of a wide layer's units win, the package keeps the layer's output
# as a sparse matrix, so the next layer's product and the weight gradients
# skip the losers; at this width that happens at ratio 0.02 (at most 3% of
# the units winning, see the user guide). 2 epochs on 800 rows, then
# predicting 1000 rows, 'fixed' only.
WIDE_RATIOS = [0.02] if SMALL else [0.02, 0.05, 0.1]
EPOCHS, REPEATS = (1, 1) if SMALL else (2, 3)
data = make_data(*((200, 200) if SMALL else (800, 1000)))
fit_ratios, predict_ratios = time_against_sklearn(
    (1024, 1024),
    [("fixed", ratio) for ratio in WIDE_RATIOS],
    data,
    EPOCHS,
    REPEATS,
)
plot_ratios(
    fit_ratios,
    predict_ratios,
    ["fixed"],
    WIDE_RATIOS,
    f"hidden layers (1024, 1024), median of {REPEATS} repeat(s)",
)
plt.show()
