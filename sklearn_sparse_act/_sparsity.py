"""Sparsity strategies: given a layer's pre-activations, choose the winners.

A strategy is a small stateless object with two methods:

- ``training_selection(pre_activations, n_active, sample_weight)`` returns the
  rule that picks a training batch's winners and the threshold it observed
  (a float, or None when the strategy has no threshold);
- ``inference_selection(n_active, threshold)`` returns the rule used at
  prediction, where each row must be decided on its own.

A rule is a :class:`TopK` (the ``k`` largest entries of every row) or a
:class:`Threshold` (every entry above a value). ``rule.mask(values)`` is the
NumPy reference; the kernel backends (:mod:`._backends`) apply the same rules
fused with the activation. The network keeps each layer's winners from the
forward pass and multiplies the backward deltas by them, so gradients flow
through winners only. Adding a strategy means adding one class here and one
entry in ``SPARSITY_STRATEGIES``.

Two small records carry rules to the network: a :class:`TrainingRule` (one
hidden layer's rule for a training batch, and what the strategy observed) and
:class:`InferenceRules` (every hidden layer's rule at prediction, with the
boost factors frozen at the end of training). The number of winners of a
layer follows from its activation ratio (:func:`n_active_units`, with
``activation_ratio`` resolved per layer by :func:`layer_activation_ratios`).
"""

from dataclasses import dataclass, field
from itertools import pairwise
from numbers import Real
from typing import NamedTuple

import numpy as np


def n_active_units(activation_ratio, width):
    """Number of winners ``k = max(1, floor(ratio * width + 0.5))``.

    Parameters
    ----------
    activation_ratio : float
        Fraction of the layer's units that fire, in (0, 1].
    width : int
        Number of units in the layer.

    Returns
    -------
    n_active : int

    Examples
    --------
    >>> from sklearn_sparse_act._sparsity import n_active_units
    >>> n_active_units(0.1, 100), n_active_units(0.1, 4), n_active_units(0.05, 50)
    (10, 1, 3)
    """
    return max(1, int(np.floor(activation_ratio * width + 0.5)))


# activation_ratio='auto': a layer lets this fraction of its units win, but
# never fewer than AUTO_MIN_ACTIVE_UNITS of them (all of them when it is
# narrower). 50 is about how many units fire per row in a ReLU layer of
# scikit-learn's default dense network (half of its 100 units): below that
# many winners the accuracy benchmark lost up to 11 points on noisy data sets
# (benchmarks/RESULTS_ACCURACY.md). Wide layers keep the ratio's savings.
AUTO_ACTIVATION_RATIO = 0.1
AUTO_MIN_ACTIVE_UNITS = 50


def auto_activation_ratio(width):
    """Ratio of ``activation_ratio='auto'`` for a layer of ``width`` units:
    ``max(0.1, min(1, 50 / width))``.

    So ``k = n_active_units(ratio, width)`` is ``width`` up to 50 units (a
    dense layer), 50 from 50 to 500 units, and ``round(0.1 * width)`` beyond.

    Examples
    --------
    >>> from sklearn_sparse_act._sparsity import auto_activation_ratio
    >>> [auto_activation_ratio(width) for width in (32, 100, 250, 1000)]
    [1.0, 0.5, 0.2, 0.1]
    >>> [n_active_units(auto_activation_ratio(w), w) for w in (32, 100, 300, 1000)]
    [32, 50, 50, 100]
    """
    return max(AUTO_ACTIVATION_RATIO, min(1.0, AUTO_MIN_ACTIVE_UNITS / width))


def layer_activation_ratios(activation_ratio, hidden_sizes):
    """One activation ratio per hidden layer, checked ('auto' resolved)."""
    if isinstance(activation_ratio, str):  # 'auto'
        return [auto_activation_ratio(width) for width in hidden_sizes]
    return per_hidden_layer(
        activation_ratio, len(hidden_sizes), "activation_ratio", "ratio"
    )


def per_hidden_layer(fraction, n_hidden, name, noun):
    """One fraction in (0, 1] per hidden layer from the parameter ``name``:
    a number for every layer, or a sequence of one per layer, checked.

    Examples
    --------
    >>> from sklearn_sparse_act._sparsity import per_hidden_layer
    >>> per_hidden_layer(0.3, 2, "weight_density", "density")
    [0.3, 0.3]
    >>> per_hidden_layer([0.1, 1], 2, "activation_ratio", "ratio")
    [0.1, 1.0]
    """
    if isinstance(fraction, Real):
        return [float(fraction)] * n_hidden
    fractions = np.asarray(fraction, dtype=float)
    if fractions.ndim != 1 or fractions.size != n_hidden:
        raise ValueError(
            f"{name} must be a float or a sequence with one {noun} "
            f"per hidden layer ({n_hidden}); got {fraction!r}."
        )
    if not np.all((fractions > 0) & (fractions <= 1)):
        raise ValueError(
            f"Every entry of {name} must be in the range (0, 1]; got {fraction!r}."
        )
    return fractions.tolist()


# Rows are partitioned in chunks of about this many bytes, so the copy a
# partition makes stays small whatever the batch (and a small batch is
# partitioned at once).
_PARTITION_CHUNK_BYTES = 2**19


def row_kth_largest(values, n_active):
    """Each row's ``n_active``-th largest entry, as an ``(n_rows, 1)`` array,
    partitioning copies of row chunks of about 512 KiB (not of the whole
    array).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_sparse_act._sparsity import row_kth_largest
    >>> row_kth_largest(np.array([[0.1, 3.0, -1.0, 2.0], [4.0, 5.0, 6.0, 7.0]]), 2)
    array([[2.],
           [6.]])
    """
    n_rows, width = values.shape
    cut = width - n_active
    kth_largest = np.empty((n_rows, 1), dtype=values.dtype)
    chunk_rows = max(1, _PARTITION_CHUNK_BYTES // max(1, values[:1].nbytes))
    for start in range(0, n_rows, chunk_rows):
        rows = slice(start, start + chunk_rows)
        kth_largest[rows] = np.partition(values[rows], cut, axis=1)[:, cut : cut + 1]
    return kth_largest


def row_top_k_mask(pre_activations, n_active):
    """Mask of the ``n_active`` largest entries of every row.

    Exactly ``n_active`` entries per row are True. A per-row threshold from
    ``np.partition`` settles almost every row; in a row with ties at the k-th
    largest value, the tied entries with the lowest column indices win. That
    rule is deterministic, and it is the one ONNX's ``TopK`` follows, so an
    exported model picks the same winners.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_sparse_act._sparsity import row_top_k_mask
    >>> row_top_k_mask(np.array([[0.1, 3.0, -1.0, 2.0]]), 2)
    array([[False,  True, False,  True]])
    >>> row_top_k_mask(np.array([[1.0, 2.0, 1.0, 1.0]]), 2)
    array([[ True,  True, False, False]])
    """
    kth_largest = row_kth_largest(pre_activations, n_active)
    mask = pre_activations >= kth_largest
    tied_rows = np.flatnonzero(np.count_nonzero(mask, axis=1) != n_active)
    if tied_rows.size:
        values = pre_activations[tied_rows]
        kth = kth_largest[tied_rows]
        above = values > kth
        at_kth = values == kth
        # Of the entries equal to the k-th value, the leftmost ones fill the
        # places the strictly larger entries leave.
        places = n_active - np.count_nonzero(above, axis=1, keepdims=True)
        mask[tied_rows] = above | (at_kth & (np.cumsum(at_kth, axis=1) <= places))
    return mask


# Two computations of the same pre-activation can differ in the last bits:
# BLAS rounds a row differently depending on where it sits in the matrix, so
# the two copies of a repeated row may differ by an ulp. Entries within this
# many units of roundoff (relative to the batch's largest magnitude) of the
# batch's smallest kept value count as ties with it and are kept too.
_TIE_ROUNDOFF_UNITS = 1024


def tie_tolerance(pre_activations):
    """Distance below the smallest kept value within which an entry still
    counts as tied with it: ``1024 * eps * max|pre_activations|``.

    It is far above the rounding differences of two BLAS computations of the
    same row, and far below any real difference between two trained units.
    """
    if pre_activations.size == 0:
        return 0.0
    # max(max, -min) is the largest magnitude, without an array of them.
    return tolerance_at(np.maximum(pre_activations.max(), -pre_activations.min()))


def tolerance_at(max_abs):
    """:func:`tie_tolerance` of values whose largest magnitude is ``max_abs``
    (a NumPy scalar of their dtype, in whose precision it is computed)."""
    eps = np.finfo(max_abs.dtype).eps
    return float(_TIE_ROUNDOFF_UNITS * eps * max_abs)


def largest_of(values, quota):
    """The ``quota``-th largest entry of the 2-D ``values``.

    The ``quota`` largest entries of each of ``c`` chunks of rows are
    gathered, then partitioned: each chunk's share of the array's ``quota``
    largest entries is among its own ``quota`` largest, so the ``quota``-th
    largest gathered entry is the array's. With ``c`` about
    ``sqrt(values.size / quota)`` the copies (a chunk partitioned, and the
    gathered entries) take about ``2 * sqrt(quota / values.size)`` of the
    array (0.63 at a quota of a tenth) instead of a copy of all of it.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_sparse_act._sparsity import largest_of
    >>> values = np.arange(40.0).reshape(8, 5)[::-1]
    >>> float(largest_of(values, 4)), float(largest_of(values, 40))
    (36.0, 0.0)
    """
    n_chunks = min(values.shape[0], int(np.sqrt(values.size / quota)))
    if n_chunks < 2:
        flat = values.ravel()
        return np.partition(flat, flat.size - quota)[flat.size - quota]
    edges = [values.shape[0] * chunk // n_chunks for chunk in range(n_chunks + 1)]
    chunks = [values[start:stop].ravel() for start, stop in pairwise(edges)]
    gathered = np.empty(sum(min(quota, chunk.size) for chunk in chunks), values.dtype)
    position = 0
    for chunk in chunks:
        n_kept = min(quota, chunk.size)
        cut = chunk.size - n_kept
        gathered[position : position + n_kept] = np.partition(chunk, cut)[cut:]
        position += n_kept
    gathered.partition(gathered.size - quota)
    return gathered[gathered.size - quota]


def batch_threshold(pre_activations, n_active, sample_weight=None):
    """The batch's quota of largest pre-activations: the smallest kept value
    and the largest value below it.

    The quota is the ``n_active * n_rows`` largest entries. With sample weights
    every entry counts with its row's weight, so the quota is ``n_active *
    sample_weight.sum()``: a row of weight 2 is selected like two copies of
    that row (and a row of weight 0 like no row). Entries within
    :func:`tie_tolerance` below the quota's smallest value are ties and kept:
    so two copies of a row that BLAS rounded differently are both kept or both
    dropped, whichever copy lands on the quota's edge. Needs ``n_active``
    below the layer's width.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_sparse_act._sparsity import batch_threshold
    >>> values = np.array([[3.0, 1.0, 0.5], [2.0, 1.0 - 1e-16, 0.0]])
    >>> smallest_kept, largest_dropped = batch_threshold(values, 2)
    >>> float(smallest_kept), float(largest_dropped)  # 1.0 and its copy kept
    (0.9999999999999999, 0.5)
    """
    values = pre_activations.ravel()
    if sample_weight is None:
        quota_edge = largest_of(pre_activations, n_active * pre_activations.shape[0])
        candidates = values
    else:
        width = pre_activations.shape[1]
        descending = np.argsort(values, kind="stable")[::-1]
        entry_weight = sample_weight[descending // width]
        cumulative_weight = np.cumsum(entry_weight)
        quota = n_active * sample_weight.sum()
        position = min(np.searchsorted(cumulative_weight, quota), values.size - 1)
        quota_edge = values[descending[position]]
        candidates = values[descending[entry_weight > 0]]
    kept_from = quota_edge - tie_tolerance(pre_activations)
    smallest_kept = candidates[candidates >= kept_from].min()
    below = candidates < kept_from
    if not below.any():
        return smallest_kept, smallest_kept
    return smallest_kept, np.max(candidates, where=below, initial=-np.inf)


def batch_selection(pre_activations, n_active, sample_weight=None):
    """:func:`batch_threshold`'s two values, and None: the reference finds
    no candidates of the winners on the way (a backend may, see
    :class:`Threshold`)."""
    return (*batch_threshold(pre_activations, n_active, sample_weight), None)


@dataclass(frozen=True)
class TopK:
    """Rule: in every row, the ``n_active`` largest entries win (ties at the
    ``k``-th value go to the lowest column indices)."""

    n_active: int

    def mask(self, values):
        return row_top_k_mask(values, self.n_active)


@dataclass(frozen=True)
class Threshold:
    """Rule: an entry wins iff it is above ``value`` (or equal to it, with
    ``inclusive``). ``candidates``: per row, the columns among which its
    winners are (:class:`~._backends.interface.Candidates`), when the
    selection of ``value`` found them on the way (a backend's ``select``
    then reads only those entries), else None."""

    value: float
    inclusive: bool = False
    candidates: object = field(default=None, compare=False, repr=False)

    def mask(self, values):
        if self.inclusive:
            return values >= self.value
        return values > self.value


class FixedTopK:
    """'fixed': in every row, the ``k`` largest pre-activations win.

    The same rule holds in training and at prediction.
    """

    def training_selection(
        self, pre_activations, n_active, sample_weight=None, select=None
    ):
        return TopK(n_active), None

    def inference_selection(self, n_active, threshold):
        return TopK(n_active)


class DynamicThreshold:
    """'dynamic': the number of winners adapts to the input.

    In training a batch keeps its ``k * n_rows`` largest pre-activations
    across the whole batch (entries tied with the smallest kept value, up to
    round-off, are kept too: see :func:`batch_threshold`), so a row may get
    more or fewer than ``k`` winners while the layer's average stays at the
    ratio. The midpoint between the smallest kept value and the largest
    dropped one is reported so the estimator can track a running threshold.
    At prediction a unit fires iff its pre-activation is strictly greater than
    that threshold, so a row's output never depends on the other rows.
    ``select`` computes :func:`batch_selection` (a kernel backend's, say).
    """

    def training_selection(
        self, pre_activations, n_active, sample_weight=None, select=None
    ):
        select = batch_selection if select is None else select
        smallest_kept, largest_dropped, candidates = select(
            pre_activations, n_active, sample_weight
        )
        # The reported threshold lies halfway to the largest dropped value, so
        # that no training pre-activation sits on it: round-off cannot then
        # flip a unit of a training row at prediction.
        threshold = (float(smallest_kept) + float(largest_dropped)) / 2
        rule = Threshold(float(smallest_kept), inclusive=True, candidates=candidates)
        return rule, threshold

    def inference_selection(self, n_active, threshold):
        return Threshold(threshold)


SPARSITY_STRATEGIES = {"fixed": FixedTopK(), "dynamic": DynamicThreshold()}


class TrainingRule(NamedTuple):
    """How one hidden layer chooses its winners on a training batch.

    ``rule`` is None for a dense layer (every unit wins); ``scores`` are what
    the rule is applied to (None: the pre-activations themselves);
    ``n_active`` is the number of winners in force (it sets the layer's
    compute path); ``observed_threshold`` is the threshold the strategy saw
    on the batch ('dynamic'), or None.
    """

    rule: object
    scores: object
    n_active: int
    observed_threshold: object


class InferenceRules(NamedTuple):
    """The prediction-time rules of a model's hidden layers.

    ``strategy_name`` is a key of ``SPARSITY_STRATEGIES``, ``active_units``
    the winners per row of each layer, ``thresholds`` the 'dynamic'
    thresholds per layer (None with 'fixed'), ``boost_factors`` per layer the
    multipliers of the pre-activations that the rule compares (the boost
    factors frozen at the end of training; None for a layer, or for all of
    them, without boosting).
    """

    strategy_name: str
    active_units: list
    thresholds: object
    boost_factors: object = None

    def scores(self, layer, values):
        """What hidden ``layer``'s rule compares: its pre-activations
        ``values`` times its boost factors (a new array), or None when it
        has none (the rule compares ``values`` themselves)."""
        if self.boost_factors is None or self.boost_factors[layer] is None:
            return None
        return values * self.boost_factors[layer]

    def rule(self, layer, values):
        """The rule of hidden ``layer`` for its pre-activations ``values``
        (None: every unit wins)."""
        n_active = self.active_units[layer]
        if n_active >= values.shape[1]:
            return None
        thresholds = self.thresholds
        return SPARSITY_STRATEGIES[self.strategy_name].inference_selection(
            n_active, None if thresholds is None else thresholds[layer]
        )
