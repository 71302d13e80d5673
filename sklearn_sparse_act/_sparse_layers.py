"""Sparsity bookkeeping of the estimators: how many units win in each layer
and by which rule, the sparsity warm-up, boosting by duty cycles, the
'dynamic' thresholds (tracked during training, settled at its end), and the
firing statistics of an epoch.

:class:`SparseLayersMixin` holds these steps for
:class:`~sklearn_sparse_act._base.BaseSparseMLP`; the network core
(:mod:`._network`) applies the rules they return.
"""

import warnings
from numbers import Real

import numpy as np

from ._backends import get_backend
from ._network import firing_counts, win_fraction
from ._prediction import training_winners
from ._sparsity import (
    SPARSITY_STRATEGIES,
    Threshold,
    auto_activation_ratio,
    batch_threshold,
    n_active_units,
    quantile_threshold,
)

# Weight of the previous value in the running average of a 'dynamic' layer's
# threshold: each training batch moves the threshold 10% of the way towards
# the smallest pre-activation that batch kept.
_THRESHOLD_MOMENTUM = 0.9

# Duty cycles are running averages over about this many training samples.
_DUTY_CYCLE_PERIOD = 1000

# 'dynamic' thresholds are settled at the end of training on at most this
# many training rows (a random subset beyond it): the quantile of 10,000 rows
# is within about 0.3% of the ratio, and the layer's values fit in memory.
_SETTLE_ROWS = 10_000

# Across partial_fit calls the settled thresholds are running averages over
# about this many training samples.
_THRESHOLD_PERIOD = 1000


class FiringCounter:
    """Counts, per hidden unit, the samples on which its output was non-zero."""

    def __init__(self, hidden_layer_sizes):
        self.counts = [np.zeros(width, dtype=np.int64) for width in hidden_layer_sizes]
        self.n_samples = 0

    def record(self, hidden_outputs):
        self.n_samples += hidden_outputs[0].shape[0]
        for count, output in zip(self.counts, hidden_outputs, strict=True):
            count += firing_counts(output)

    def active_fraction(self):
        return np.array(
            [count.sum() / (self.n_samples * count.size) for count in self.counts]
        )

    def dead_units(self):
        return np.array([np.count_nonzero(count == 0) for count in self.counts])


class SparseLayersMixin:
    """Sparsity bookkeeping steps of the sparse MLP estimators."""

    def _layer_activation_ratios(self, hidden_sizes):
        """One activation ratio per hidden layer, checked ('auto' resolved)."""
        n_hidden = len(hidden_sizes)
        if isinstance(self.activation_ratio, str):  # 'auto'
            return [auto_activation_ratio(width) for width in hidden_sizes]
        if isinstance(self.activation_ratio, Real):
            return [float(self.activation_ratio)] * n_hidden
        ratios = np.asarray(self.activation_ratio, dtype=float)
        if ratios.ndim != 1 or ratios.size != n_hidden:
            raise ValueError(
                "activation_ratio must be a float or a sequence with one ratio "
                f"per hidden layer ({n_hidden}); got {self.activation_ratio!r}."
            )
        if not np.all((ratios > 0) & (ratios <= 1)):
            raise ValueError(
                "Every entry of activation_ratio must be in the range (0, 1]; "
                f"got {self.activation_ratio!r}."
            )
        return ratios.tolist()

    def _prepare_sparsity(self, hidden_sizes, first_pass):
        """Set the winner counts, thresholds and homeostasis state for a fit."""
        self._activation_ratios = self._layer_activation_ratios(hidden_sizes)
        self.active_units_ = self._units_for_ratios(self._activation_ratios)
        self.inference_active_units_ = [
            min(width, n_active_units(k * self.inference_ratio_factor / width, width))
            for k, width in zip(self.active_units_, hidden_sizes, strict=True)
        ]
        self._strategy_name = self.sparsity_strategy
        if first_pass or not hasattr(self, "duty_cycles_"):
            self.duty_cycles_ = [
                np.full(width, k / width)
                for k, width in zip(self.active_units_, hidden_sizes, strict=True)
            ]
            self._duty_cycle_samples = 0
            self._boost_strength_now = float(self.boost_strength)
            self.sparsity_curve_ = np.empty((0, len(hidden_sizes)))
        keeps_thresholds = (
            not first_pass
            and self.sparsity_strategy == "dynamic"
            and getattr(self, "activation_thresholds_", None) is not None
        )
        if self.sparsity_strategy == "dynamic" and not keeps_thresholds:
            self.activation_thresholds_ = np.array(
                [
                    -np.inf if k == width else np.nan
                    for k, width in zip(self.active_units_, hidden_sizes, strict=True)
                ]
            )
        elif self.sparsity_strategy != "dynamic":
            self.activation_thresholds_ = None
        if self.activation_thresholds_ is not None and (
            getattr(self, "_best_thresholds", None) is None
        ):
            self._best_thresholds = self.activation_thresholds_.copy()
        # Until training ends (and the thresholds are calibrated), prediction,
        # e.g. early stopping's validation score, uses the running thresholds.
        self.inference_thresholds_ = self.activation_thresholds_

    def _units_for_ratios(self, ratios):
        widths = [coef.shape[1] for coef in self.coefs_[:-1]]
        return [
            n_active_units(ratio, width)
            for ratio, width in zip(ratios, widths, strict=True)
        ]

    def _epoch_activation_ratios(self, epoch):
        """Ratios in force in training epoch ``epoch`` (counted from 0 over
        the model's training history): linear from 1.0 (dense) down to
        ``activation_ratio`` until the warm-up's last epoch, then constant."""
        final = np.asarray(self._activation_ratios)
        if epoch >= self._warmup_epochs:
            return final
        return 1.0 + (final - 1.0) * (epoch / self._warmup_epochs)

    def _plan_warmup(self, incremental):
        """Set ``_warmup_epochs``, the epoch from which training runs at the
        target ratios.

        A warm-up that a previous fit finished is not restarted. A call to
        ``fit`` always trains its last epoch at the target ratios (the ones
        prediction uses): a warm-up longer than ``max_iter`` allows is
        shortened, with a warning. Each ``partial_fit`` call is one epoch.
        """
        epochs_done = len(self.sparsity_curve_)
        final = np.asarray(self._activation_ratios)
        if epochs_done and np.array_equal(self.sparsity_curve_[-1], final):
            self._warmup_epochs = min(self.sparsity_warmup, epochs_done)
            return
        self._warmup_epochs = self.sparsity_warmup
        last_epoch = epochs_done + self.max_iter - 1
        if not incremental and self.sparsity_warmup > last_epoch:
            self._warmup_epochs = last_epoch
            warnings.warn(
                f"sparsity_warmup={self.sparsity_warmup} epochs do not fit in "
                f"max_iter={self.max_iter}: the warm-up was shortened to "
                f"{last_epoch} epoch(s) so that training ends at "
                "activation_ratio, the ratio used for prediction.",
                UserWarning,
                stacklevel=3,
            )

    def _warming_up(self):
        """Whether the epoch just trained had more winners than the target
        ratios give (a warm-up epoch)."""
        return len(self.sparsity_curve_) <= self._warmup_epochs

    def _boost_factors(self, layer, n_active, width):
        """Multipliers of the pre-activations used to choose winners, or None.

        A unit that won less often than the layer's target ratio gets a factor
        above 1, one that won more often a factor below 1.
        """
        if self._boost_strength_now == 0 or n_active == width:
            return None
        return np.exp(
            -self._boost_strength_now * (self.duty_cycles_[layer] - n_active / width)
        )

    def _training_rule(self, layer, values, buffers, sample_weight):
        """The rule choosing a hidden layer's winners for a training batch,
        and the scores it is applied to (None: the pre-activations).

        With boosting, winners are chosen on the boosted pre-activations while
        the values passed on (and the tracked threshold) stay unboosted.
        """
        n_active = buffers.active_units[layer]
        width = values.shape[1]
        buffers.observed_thresholds[layer] = None
        if n_active == width:
            return None, None
        strategy = SPARSITY_STRATEGIES[self._strategy_name]
        boost = self._boost_factors(layer, n_active, width)
        scores = None if boost is None else values * boost
        rule, threshold = strategy.training_selection(
            values if scores is None else scores, n_active, sample_weight
        )
        if scores is not None and threshold is not None:
            _, threshold = strategy.training_selection(values, n_active, sample_weight)
        buffers.observed_thresholds[layer] = threshold
        return rule, scores

    def _settle_inference(self, X):
        """After training: set ``inference_thresholds_``."""
        thresholds = self.activation_thresholds_
        self.inference_thresholds_ = None if thresholds is None else thresholds.copy()
        if thresholds is not None and self.inference_ratio_factor != 1:
            self._calibrate_inference_thresholds(X)

    def _record_training_winners(self, X, record_winners):
        """After training, with ``record_winners``: note which units win on X
        at prediction (for :meth:`compact`). A prediction pass assigns its own
        threads, so this runs outside the training's."""
        self._training_winners = None
        if record_winners:
            self._training_winners = training_winners(
                self._network(get_backend()), self._inference_rules(), X
            )

    def _calibrate_inference_thresholds(self, X):
        """Lower each 'dynamic' threshold, layer by layer, so that
        ``inference_ratio_factor`` times as many pre-activations of X exceed it
        as exceed the trained threshold."""

        network = self._network(get_backend())
        rules = self._inference_rules()
        n_hidden = len(self.inference_active_units_)
        inputs = X
        for layer in range(n_hidden):
            values = network.pre_activations(layer, inputs)
            threshold = self.activation_thresholds_[layer]
            if np.isfinite(threshold):
                n_firing = np.count_nonzero(values > threshold)
                self.inference_thresholds_[layer] = quantile_threshold(
                    values, n_firing * self.inference_ratio_factor
                )
            if layer + 1 < n_hidden:
                inputs, _ = network.hidden_output(
                    layer,
                    values,
                    rules.rule(layer, values),
                    self.inference_active_units_[layer],
                )

    def _settle_thresholds(self, X, sample_weight, incremental, settled_before):
        """Set the 'dynamic' thresholds from the final weights.

        During training the thresholds are running averages of batch
        thresholds, which lag behind the moving weights. At the end of
        ``fit`` each layer's threshold is recomputed on the training data
        (layer by layer, each layer fed by the settled rule of the one before)
        so that exactly the target fraction of its pre-activations exceeds
        it, counted with the sample weights. Each ``partial_fit`` call does
        the same on its data and folds the result into ``settled_before`` (the
        thresholds the call started with) as a running average over about the
        last 1000 samples, so the estimate converges to the ratio as the
        weights settle.
        """
        if self.activation_thresholds_ is None:
            return
        if incremental and hasattr(self, "_threshold_samples"):
            previous = settled_before
            self._threshold_samples = min(
                self._threshold_samples + X.shape[0], _THRESHOLD_PERIOD
            )
            step = min(1.0, X.shape[0] / self._threshold_samples)
        else:
            previous = None
            self._threshold_samples = min(X.shape[0], _THRESHOLD_PERIOD)
            step = 1.0
        inputs, weights = X, sample_weight
        if X.shape[0] > _SETTLE_ROWS:
            rows = np.sort(
                self._random_state.choice(X.shape[0], _SETTLE_ROWS, replace=False)
            )
            inputs = X[rows]
            weights = None if sample_weight is None else sample_weight[rows]
        settled = self.activation_thresholds_.copy()
        network = self._network(get_backend())
        for layer, n_active in enumerate(self.active_units_):
            values = network.pre_activations(layer, inputs)
            if n_active < values.shape[1]:
                smallest_kept, largest_dropped = batch_threshold(
                    values, n_active, weights
                )
                threshold = (float(smallest_kept) + float(largest_dropped)) / 2
                if previous is not None and np.isfinite(previous[layer]):
                    threshold = previous[layer] + step * (threshold - previous[layer])
                settled[layer] = threshold
            if layer + 1 < len(self.active_units_):
                inputs, _ = network.hidden_output(
                    layer, values, Threshold(settled[layer]), n_active
                )
        self.activation_thresholds_ = settled

    def _record_epoch_statistics(self, counter):
        self.active_fraction_ = counter.active_fraction()
        self.dead_units_ = counter.dead_units()

    def _track_thresholds(self, observed):
        """Fold the thresholds seen by the last training forward pass into
        ``activation_thresholds_`` (a running average; the first one
        replaces the NaN a fresh layer starts with)."""
        if self.activation_thresholds_ is None:
            return
        for layer, value in enumerate(observed):
            if value is None:
                continue
            current = self.activation_thresholds_[layer]
            if np.isnan(current):
                self.activation_thresholds_[layer] = value
            else:
                self.activation_thresholds_[layer] = (
                    _THRESHOLD_MOMENTUM * current + (1 - _THRESHOLD_MOMENTUM) * value
                )

    def _start_epoch(self, buffers):
        """Set the epoch's winner counts (sparsity warm-up) and record them."""
        ratios = self._epoch_activation_ratios(len(self.sparsity_curve_))
        buffers.active_units = self._units_for_ratios(ratios)
        self.sparsity_curve_ = np.vstack([self.sparsity_curve_, ratios])

    def _update_duty_cycles(self, buffers):
        """Fold the batch's winners into each unit's running win fraction."""
        n_rows = buffers.activations[0].shape[0]
        self._duty_cycle_samples = min(
            self._duty_cycle_samples + n_rows, _DUTY_CYCLE_PERIOD
        )
        step = min(1.0, n_rows / self._duty_cycle_samples)
        for duty_cycle, mask in zip(self.duty_cycles_, buffers.masks, strict=True):
            duty_cycle += step * (win_fraction(mask, n_rows) - duty_cycle)
