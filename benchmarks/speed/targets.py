"""The speed benchmark's targets, as data: each bound with the reason for it.

:data:`TARGETS` are ratios of our time to scikit-learn's at one architecture,
activation ratio and kernel backend ('fixed' strategy, float64).
:data:`MEMORY_TARGETS` bound the ratios of our peak memory to scikit-learn's
in every row they select (every dtype, backend and strategy). The other
targets apply to every model of a run (float32 against float64, the two
prediction paths, the dense path's accuracy) or to a section of it
(GridSearchCV); :data:`DYNAMIC_TARGETS` bound 'dynamic' training against
'fixed' at the same ratio, per backend. How a run is judged against them is in
:mod:`benchmarks.speed.verdicts`.
"""

import math
from dataclasses import dataclass

from benchmarks.harness.targets import Target


@dataclass(frozen=True, kw_only=True)
class RatioTarget(Target):
    """Ours / scikit-learn's ``metric`` <= ``bound``, judged on the row of our
    ``'fixed'`` model at ``ratio`` on backend ``kernels`` in ``dtype``."""

    hidden: tuple
    ratio: float
    kernels: str
    dtype: str = "float64"

    def selects(self, row):
        """Whether ``row`` (one model of a run) is the row this target judges."""
        return (
            tuple(row["hidden"]) == self.hidden
            and row["dtype"] == self.dtype
            and row["strategy"] == "fixed"
            and row.get("kernels") == self.kernels
            and math.isclose(row["ratio"], self.ratio)
        )

    @property
    def name(self):
        """The target as the report names it: description, backend, dtype."""
        return f"{self.description} [{self.kernels}, {self.dtype}]"


TARGETS = (
    RatioTarget(
        metric="fit_seconds_per_epoch",
        hidden=(1024, 1024),
        ratio=1.0,
        bound=1.0,
        kernels="numba",
        description="fit at ratio 1.0 (dense), (1024, 1024), 8000x100, batch 200",
        reason="At ratio 1.0 every unit fires and our model does the arithmetic "
        "of scikit-learn's from the same weights and batches: choosing this "
        "package must not cost training time when sparsity is off.",
    ),
    RatioTarget(
        metric="fit_seconds_per_epoch",
        hidden=(1024, 1024),
        ratio=0.05,
        bound=0.35,
        kernels="numba",
        description="fit at 0.05, (1024, 1024), 8000x100, batch 200",
        reason="With 5% of each layer firing, the products of the second and "
        "output layers read a twentieth of their weights; what stays dense "
        "(the first layer's product, the selection, the optimizer's step over "
        "every weight) must leave training at about a third of the dense time.",
    ),
    RatioTarget(
        metric="fit_seconds_per_epoch",
        hidden=(1024, 1024),
        ratio=0.02,
        bound=0.25,
        kernels="numba",
        description="fit at 0.02, (1024, 1024), 8000x100, batch 200",
        reason="At 2% the sparse products cost little; the bound is about what "
        "the dense parts of a step (first layer, selection, optimizer over "
        "every weight) leave, so sparsity must pay off to that floor.",
    ),
    RatioTarget(
        metric="fit_seconds_per_epoch",
        hidden=(256,),
        ratio=0.1,
        bound=1.0,
        kernels="numba",
        description="fit at 0.1, (256,), 20000x100",
        reason="A narrow layer feeding 10 outputs has little arithmetic to "
        "skip; sparse training must at least not be slower than scikit-learn's "
        "dense training of the same network.",
    ),
    RatioTarget(
        metric="one_row_proba_seconds",
        hidden=(1024, 1024),
        ratio=0.1,
        bound=0.3,
        kernels="numba",
        description="one-row predict_proba at 0.1, (1024, 1024)",
        reason="One row reads only its winners' weight rows, a tenth of the "
        "second and output layers: serving single requests must show that "
        "saving, beyond the fixed cost of a call.",
    ),
    RatioTarget(
        metric="one_row_proba_seconds",
        hidden=(1024, 1024),
        ratio=0.1,
        bound=0.5,
        kernels="numpy",
        description="one-row predict_proba at 0.1, (1024, 1024)",
        reason="The NumPy reference, without compiled kernels, gathers the "
        "winners' weight rows for one BLAS product; it must still halve the "
        "latency of a single row.",
    ),
    RatioTarget(
        metric="predict_seconds",
        hidden=(1024, 1024),
        ratio=0.05,
        bound=0.5,
        kernels="numba",
        description="predict on 10,000 rows at 0.05, (1024, 1024)",
        reason="Predicting many rows at 5% firing skips most of the second "
        "layer's product; it must take at most half of scikit-learn's time.",
    ),
)


@dataclass(frozen=True, kw_only=True)
class MemoryTarget(Target):
    """Ours / scikit-learn's ``metric`` <= ``bound`` in every row of our
    models it selects: those at an activation ratio of at most
    ``max_ratio``, of the architectures ``hidden`` (None: all), that have the
    ratio (not NaN)."""

    hidden: tuple | None = None
    max_ratio: float = 1.0

    def selects(self, row):
        """Whether ``row`` (one model of a run) is one this target judges."""
        return (
            row["strategy"] != "sklearn"
            and not math.isnan(row.get(f"{self.metric}_ratio", math.nan))
            and row["ratio"] <= self.max_ratio
            and (self.hidden is None or tuple(row["hidden"]) in self.hidden)
        )


FIT_MEMORY_REASON = (
    "Training must not need much more memory than the scikit-learn model it "
    "replaces, at either training size: no state of the fit may grow with the "
    "rows beyond the data itself."
)
SPARSE_FIT_MEMORY_REASON = (
    "With 10% or less of a wide layer firing, most of a mini-batch's hidden "
    "activations and their gradients are zeros: the sparse model must train "
    "within the memory of the dense one it replaces."
)
PREDICT_MEMORY_REASON = (
    "With 10% or less of a wide layer firing, most hidden activations of the "
    "predicted rows are zeros: predicting must need at most half the memory "
    "of scikit-learn's dense activations."
)
WIDE_NETWORKS = ((1024, 1024), (4096,))
# The fit bounds apply to traced bytes and to the growth of the peak RSS, at
# the training size and at memory_scale times it; the predict bound to both
# kinds at the training size.
MEMORY_TARGETS = tuple(
    MemoryTarget(
        metric=f"{size}fit_peak{kind}_bytes",
        bound=bound,
        hidden=hidden,
        max_ratio=max_ratio,
        description=f"fit {measure} at {rows}, {scope}",
        reason=reason,
    )
    for bound, hidden, max_ratio, scope, reason in (
        (1.25, None, 1.0, "every row", FIT_MEMORY_REASON),
        (
            1.0,
            WIDE_NETWORKS,
            0.1,
            "ratio <= 0.1 on (1024, 1024) and (4096,)",
            SPARSE_FIT_MEMORY_REASON,
        ),
    )
    for kind, measure in (("", "traced memory"), ("_rss", "peak RSS growth"))
    for size, rows in (("", "the training rows"), ("scaled_", "the scaled rows"))
) + tuple(
    MemoryTarget(
        metric=f"predict_peak{kind}_bytes",
        bound=0.5,
        hidden=WIDE_NETWORKS,
        max_ratio=0.1,
        description=f"predict {measure}, ratio <= 0.1 on (1024, 1024) and (4096,)",
        reason=PREDICT_MEMORY_REASON,
    )
    for kind, measure in (("", "traced memory"), ("_rss", "peak RSS growth"))
)
# 'dynamic' against 'fixed' at the same ratio, per kernel backend.
DYNAMIC_REASON = (
    "'dynamic' differs from 'fixed' only in how a batch's winners are chosen "
    "(one threshold for the whole batch instead of k per row) and in the "
    "thresholds it settles at the end of fit: choosing it must not make "
    "training noticeably slower than 'fixed'. The NumPy reference, without "
    "compiled passes over the batch, gets a wider bound."
)
DYNAMIC_TARGETS = {
    kernels: Target(
        metric="'dynamic' fit time / 'fixed' fit time at the same ratio",
        bound=bound,
        description=f"'dynamic' fit no slower than {bound:g} x 'fixed' [{kernels}]",
        reason=DYNAMIC_REASON,
    )
    for kernels, bound in (("numba", 1.1), ("numpy", 1.2))
}
FLOAT32_TARGET = Target(
    metric="float32 time / float64 time of the same model",
    bound=1.0,
    description="float32 no slower than float64 in every row",
    reason="float32 halves the bytes every product and update reads: asking "
    "for it must never make a model slower, in any metric.",
)
GRID_SEARCH_TARGET = Target(
    metric="GridSearchCV seconds with n_jobs=2 / with n_jobs=1",
    bound=1.0,
    description="GridSearchCV n_jobs=2 no slower than n_jobs=1",
    reason="Two joblib workers on two cores must not lose to one: the "
    "threads each worker starts (BLAS, numba) must not take back what running "
    "the fits in parallel gains.",
)
DENSE_ACCURACY_TARGET = Target(
    metric="|held-out accuracy difference| of our dense path and scikit-learn's",
    bound=0.005,
    description="dense accuracy equals scikit-learn's",
    reason="At ratio 1.0 both draw the same weights and batches, so only the "
    "floating-point summation order may separate their predictions.",
)
ROW_PATH_TARGET = Target(
    metric="share of single-row predictions equal to the batched ones",
    bound=1.0,
    higher_is_better=True,
    description="one-row predictions equal batched ones",
    reason="A row's prediction must not depend on the rows predicted with it: "
    "the single-row path and the batched path must give the same labels.",
)
