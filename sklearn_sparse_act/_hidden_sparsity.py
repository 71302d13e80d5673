"""The sparsity of the hidden layers over one fit.

:class:`HiddenSparsity` owns everything that decides which hidden units win
while a model trains, and what prediction uses afterwards:

- the number of winners per layer: the target, the one in force in each
  epoch of the sparsity warm-up, and the one at prediction
  (``inference_ratio_factor``);
- boosting (a :class:`~._boosting.Boosting`): the factors a training step
  chooses its winners with, and those prediction chooses them with;
- the 'dynamic' thresholds: running averages of the batches' thresholds
  during training, settled on the training data at the end of the fit (on
  the boosted pre-activations, which prediction compares with them);
- the firing statistics of the last epoch.

The estimator creates one per fit (fresh, or continuing the fitted attributes
of an earlier fit), hands it to the solver, calls :meth:`~HiddenSparsity.settle`
at the end and stores :meth:`~HiddenSparsity.fitted_attributes`. A stochastic
solver drives it with ``plan_warmup``, ``start_epoch``, ``after_step`` and
``end_epoch``, L-BFGS with ``hold_targets`` and ``measure``; the network asks
it for each layer's ``training_rule``. It needs the strategies and rules of
:mod:`._sparsity`, the boosting of :mod:`._boosting`, and a
:class:`~._network.Network` to settle thresholds.
"""

import warnings

import numpy as np

from ._boosting import Boosting
from ._prediction import WinnersRecord, chunk_rows
from ._settling import calibrated_thresholds, settling_quota
from ._sparsity import (
    SPARSITY_STRATEGIES,
    InferenceRules,
    TrainingRule,
    batch_selection,
    n_active_units,
)
from ._winners import FiringCounter

# Weight of the previous value in the running average of a 'dynamic' layer's
# threshold: each training batch moves the threshold 10% of the way towards
# the smallest pre-activation that batch kept.
_THRESHOLD_MOMENTUM = 0.9

# 'dynamic' thresholds are settled at the end of training on at most this
# many training rows (a random subset beyond it): the quantile of 10,000 rows
# is within about 0.3% of the ratio, and the layer's values fit in memory.
_SETTLE_ROWS = 10_000

# Across partial_fit calls the settled thresholds are running averages over
# about this many training samples.
_THRESHOLD_PERIOD = 1000


class HiddenSparsity:
    """The sparsity of the hidden layers during one fit.

    Parameters
    ----------
    strategy_name : {'fixed', 'dynamic'}
        The sparsity strategy.
    widths : list of int
        Units per hidden layer.
    ratios : list of float
        Target activation ratio per hidden layer.
    inference_ratio_factor, boost_strength, boost_decay, sparsity_warmup
        The estimator's parameters of the same names.
    fitted : dict, default=None
        The attributes of a model fitted before, to continue from (duty
        cycles, boosting and warm-up progress, 'dynamic' thresholds), named
        as :meth:`fitted_attributes` names them; None starts afresh.
    backend : module, default=None
        The kernel backend whose ``batch_selection`` selects a 'dynamic'
        training batch's quota (default: the reference's).
    """

    def __init__(
        self,
        strategy_name,
        widths,
        ratios,
        inference_ratio_factor,
        boost_strength,
        boost_decay,
        sparsity_warmup,
        fitted=None,
        backend=None,
    ):
        fitted = {} if fitted is None else fitted
        self._batch_selection = (
            batch_selection if backend is None else backend.batch_selection
        )
        self.strategy_name = strategy_name
        self.widths = widths
        self.ratios = ratios
        self.active_units = self._units_for(ratios)
        self.inference_active_units = [
            min(width, n_active_units(k * inference_ratio_factor / width, width))
            for k, width in zip(self.active_units, widths, strict=True)
        ]
        # Winners per row in force (fewer than the target during warm-up).
        self.epoch_active_units = list(self.active_units)
        self._inference_ratio_factor = inference_ratio_factor
        self._sparsity_warmup = sparsity_warmup
        self._warmup_epochs = None
        self.boosting = Boosting(
            widths, self.active_units, boost_strength, boost_decay, fitted
        )
        if "sparsity_curve_" in fitted:
            self.sparsity_curve = fitted["sparsity_curve_"]
        else:
            self.sparsity_curve = np.empty((0, len(widths)))
        self.thresholds = None
        if strategy_name == "dynamic":
            self.thresholds = fitted.get("activation_thresholds_")
            if self.thresholds is None:
                self.thresholds = np.array(
                    [
                        -np.inf if k == width else np.nan
                        for k, width in zip(self.active_units, widths, strict=True)
                    ]
                )
        self._thresholds_at_start = (
            None if self.thresholds is None else self.thresholds.copy()
        )
        self._threshold_samples = fitted.get("_threshold_samples")
        # Until the thresholds are settled, prediction (early stopping's
        # validation score) uses the running ones.
        self.inference_thresholds = self.thresholds
        self._firing = None
        self.active_fraction = self.dead_units = None

    def _units_for(self, ratios):
        return [
            n_active_units(ratio, width)
            for ratio, width in zip(ratios, self.widths, strict=True)
        ]

    # ------------------------------------------------------------------
    # Stochastic solvers: epochs and steps
    # ------------------------------------------------------------------
    def plan_warmup(self, max_iter, incremental):
        """Fix the epoch from which training runs at the target ratios.

        A warm-up that a previous fit finished is not restarted. A call to
        ``fit`` always trains its last epoch at the target ratios (the ones
        prediction uses): a warm-up longer than ``max_iter`` allows is
        shortened, with a warning. Each ``partial_fit`` call is one epoch.
        """
        epochs_done = len(self.sparsity_curve)
        final = np.asarray(self.ratios)
        if epochs_done and np.array_equal(self.sparsity_curve[-1], final):
            self._warmup_epochs = min(self._sparsity_warmup, epochs_done)
            return
        self._warmup_epochs = self._sparsity_warmup
        last_epoch = epochs_done + max_iter - 1
        if not incremental and self._sparsity_warmup > last_epoch:
            self._warmup_epochs = last_epoch
            warnings.warn(
                f"sparsity_warmup={self._sparsity_warmup} epochs do not fit in "
                f"max_iter={max_iter}: the warm-up was shortened to "
                f"{last_epoch} epoch(s) so that training ends at "
                "activation_ratio, the ratio used for prediction.",
                UserWarning,
                stacklevel=3,
            )

    def _epoch_ratios(self, epoch):
        """Ratios in force in training epoch ``epoch`` (counted from 0 over
        the model's training history): linear from 1.0 (dense) down to the
        target ratios until the warm-up's last epoch, then constant."""
        final = np.asarray(self.ratios)
        if epoch >= self._warmup_epochs:
            return final
        return 1.0 + (final - 1.0) * (epoch / self._warmup_epochs)

    def start_epoch(self):
        """Set the epoch's winner counts (sparsity warm-up) and record them."""
        ratios = self._epoch_ratios(len(self.sparsity_curve))
        self.epoch_active_units = self._units_for(ratios)
        self.sparsity_curve = np.vstack([self.sparsity_curve, ratios])
        self._firing = FiringCounter(self.widths)

    def warming_up(self):
        """Whether the epoch just trained had more winners than the target
        ratios give (a warm-up epoch)."""
        return len(self.sparsity_curve) <= self._warmup_epochs

    def training_rule(self, layer, values, sample_weight):
        """The :class:`~._sparsity.TrainingRule` of hidden ``layer`` for a
        training batch with pre-activations ``values``.

        With boosting, winners are chosen on the boosted pre-activations
        (the scores) while the values passed on stay unboosted; a 'dynamic'
        threshold is observed on the scores, which prediction compares with
        it. Nothing is changed: what the strategy observed is returned and
        folded in by :meth:`after_step`.
        """
        n_active = self.epoch_active_units[layer]
        width = values.shape[1]
        if n_active == width:
            return TrainingRule(None, None, n_active, None)
        strategy = SPARSITY_STRATEGIES[self.strategy_name]
        boost = self.boosting.factors(layer, n_active)
        scores = None if boost is None else values * boost
        select = self._batch_selection
        rule, threshold = strategy.training_selection(
            values if scores is None else scores, n_active, sample_weight, select
        )
        return TrainingRule(rule, scores, n_active, threshold)

    def after_step(self, hidden_outputs, winners, observed_thresholds, n_rows):
        """Fold a training step over ``n_rows`` rows into the running state:
        the thresholds the strategy observed, each unit's duty cycle, and the
        epoch's firing counts."""
        self._track_thresholds(observed_thresholds)
        self.boosting.fold(winners, n_rows)
        self._firing.record(hidden_outputs)

    def end_epoch(self):
        """Record the epoch's firing statistics and decay the boosting."""
        self.active_fraction = self._firing.active_fraction()
        self.dead_units = self._firing.dead_units()
        self.boosting.end_epoch()

    def epoch_report(self):
        """One line on the epoch's sparsity, per hidden layer: the share of
        units that fired on its training rows, the units that never fired,
        and the running 'dynamic' threshold."""
        layers = []
        for layer, (fired, dead) in enumerate(
            zip(self.active_fraction, self.dead_units, strict=True)
        ):
            text = f"fired {fired:.2%}, {dead} dead of {self.widths[layer]}"
            if self.thresholds is not None:
                text += f", threshold {self.thresholds[layer]:.6g}"
            layers.append(text if len(self.widths) == 1 else f"layer {layer}: {text}")
        return "Sparsity: " + "; ".join(layers)

    def _track_thresholds(self, observed):
        """Running average of the observed thresholds (the first one
        replaces the NaN a fresh layer starts with)."""
        if self.thresholds is None:
            return
        for layer, value in enumerate(observed):
            if value is None:
                continue
            current = self.thresholds[layer]
            if np.isnan(current):
                self.thresholds[layer] = value
            else:
                self.thresholds[layer] = (
                    _THRESHOLD_MOMENTUM * current + (1 - _THRESHOLD_MOMENTUM) * value
                )

    # ------------------------------------------------------------------
    # L-BFGS
    # ------------------------------------------------------------------
    def hold_targets(self):
        """One fixed objective for L-BFGS: the target winner counts from the
        start, no warm-up and no boosting."""
        self.epoch_active_units = list(self.active_units)
        self.boosting.hold()
        self.sparsity_curve = np.asarray([self.ratios])

    def measure(self, hidden_outputs, winners, n_rows):
        """Duty cycles and firing statistics from one pass over the training
        data (after L-BFGS)."""
        self.boosting.measure(winners, n_rows)
        firing = FiringCounter(self.widths)
        firing.record(hidden_outputs)
        self.active_fraction = firing.active_fraction()
        self.dead_units = firing.dead_units()

    # ------------------------------------------------------------------
    # Thresholds: restoring, settling and prediction
    # ------------------------------------------------------------------
    def restore_thresholds(self, thresholds):
        """Go back to earlier 'dynamic' thresholds (a copy of them)."""
        self.thresholds = thresholds.copy()

    def settle(
        self, network, X, sample_weight, incremental, random_state, max_rows=None
    ):
        """After training on ``X``: the 'dynamic' thresholds settled from the
        final weights of ``network``, then the inference thresholds.

        The passes over ``X`` go in chunks of at most ``max_rows`` rows
        (default: prediction's chunks), so that they take no more memory than
        a training step, whatever the number of rows. Returns the fitted
        attributes they give, by name (none with 'fixed'), for
        :meth:`fitted_attributes`; and, when a first fit's rules at
        prediction are the settled ones and its last hidden layer is sparse,
        the :class:`~._prediction.WinnersRecord` of the pass that settled
        that layer (which spares :func:`~._prediction.training_winners` a
        pass over its rows), else None. Nothing is changed, so an
        interrupted settling leaves nothing half done.
        """
        if self.thresholds is None:
            return {}, None
        boost_factors = self.boosting.frozen_factors()
        thresholds, threshold_samples, record = self._settle_thresholds(
            network,
            X,
            sample_weight,
            incremental,
            random_state,
            boost_factors,
            max_rows,
        )
        inference_thresholds = thresholds.copy()
        if self._inference_ratio_factor != 1:
            rows = chunk_rows(network, X.shape[0], max_rows)
            inference_thresholds = calibrated_thresholds(
                network,
                X,
                InferenceRules(
                    self.strategy_name,
                    self.inference_active_units,
                    thresholds,
                    boost_factors,
                ),
                self._inference_ratio_factor,
                rows,
            )
        attributes = {
            "activation_thresholds_": thresholds,
            "inference_thresholds_": inference_thresholds,
            "_threshold_samples": threshold_samples,
        }
        return attributes, record

    def _settle_thresholds(
        self,
        network,
        X,
        sample_weight,
        incremental,
        random_state,
        boost_factors,
        max_rows,
    ):
        """The 'dynamic' thresholds settled from the final weights, the
        number of samples their running average now spans, and the
        :class:`~._prediction.WinnersRecord` of the last layer's pass (see
        :meth:`settle`) or None.

        During training the thresholds are running averages of batch
        thresholds, which lag behind the moving weights. At the end of
        ``fit`` each layer's threshold is recomputed on the training data
        (layer by layer, each layer fed by the settled rule of the one before)
        so that exactly the target fraction of its scores (pre-activations
        times ``boost_factors``, as prediction compares them) exceeds it,
        counted with the sample weights: the threshold a batch of all those
        rows would observe (:func:`~._sparsity.batch_threshold`), found in
        passes over chunks of rows (:mod:`._batch_quota`). Each
        ``partial_fit`` call does the same on its data and folds the result
        into the thresholds the call started with, as a running average over
        about the last 1000 samples, so the estimate converges to the ratio
        as the weights settle.
        """
        if incremental and self._threshold_samples is not None:
            previous = self._thresholds_at_start
            threshold_samples = min(
                self._threshold_samples + X.shape[0], _THRESHOLD_PERIOD
            )
            step = min(1.0, X.shape[0] / threshold_samples)
        else:
            previous = None
            threshold_samples = min(X.shape[0], _THRESHOLD_PERIOD)
            step = 1.0
        rows = np.arange(X.shape[0])
        if X.shape[0] > _SETTLE_ROWS:
            rows = np.sort(random_state.choice(X.shape[0], _SETTLE_ROWS, replace=False))
        weights = None if sample_weight is None else sample_weight[rows]
        settled = self.thresholds.copy()
        rules = InferenceRules(
            self.strategy_name, self.active_units, settled, boost_factors
        )
        n_rows = chunk_rows(network, rows.size, max_rows)
        last = len(self.widths) - 1
        recorded = not incremental and self._inference_ratio_factor == 1
        recorded = recorded and self.active_units[last] < self.widths[last]
        record = WinnersRecord(self.widths, rows) if recorded else None
        for layer, n_active in enumerate(self.active_units):
            if n_active == self.widths[layer]:
                continue
            layer_record = record if layer == last else None
            smallest_kept, largest_dropped = settling_quota(
                network, rules, layer, X, rows, weights, n_rows, layer_record
            )
            threshold = (float(smallest_kept) + float(largest_dropped)) / 2
            if previous is not None and np.isfinite(previous[layer]):
                threshold = previous[layer] + step * (threshold - previous[layer])
            settled[layer] = threshold
        return settled, threshold_samples, record

    def inference_rules(self):
        """The rules prediction uses (:class:`~._sparsity.InferenceRules`)."""
        return InferenceRules(
            self.strategy_name,
            self.inference_active_units,
            self.inference_thresholds,
            self.boosting.frozen_factors(),
        )

    def prediction_attributes(self):
        """The attributes with which a copy of the estimator predicts as the
        model stands during training (what the callbacks score): the
        running 'dynamic' thresholds, or top-k winners while a layer has no
        threshold yet (L-BFGS learns none before it settles); the boost
        factors in force."""
        thresholds = self.inference_thresholds
        boost_factors = {"boost_factors_": self.boosting.frozen_factors()}
        if thresholds is not None and np.isnan(thresholds).any():
            return {
                "_strategy_name": "fixed",
                "inference_active_units_": list(self.active_units),
                "inference_thresholds_": None,
                **boost_factors,
            }
        return {
            "_strategy_name": self.strategy_name,
            "inference_active_units_": list(self.inference_active_units),
            "inference_thresholds_": None if thresholds is None else thresholds.copy(),
            **boost_factors,
        }

    def fitted_attributes(self, settled):
        """The state to keep on the estimator, by attribute name (what the
        ``fitted`` parameter of a later fit continues from), with the
        attributes ``settled`` that :meth:`settle` returned."""
        attributes = {
            "activation_ratios_": list(self.ratios),
            "_strategy_name": self.strategy_name,
            "active_units_": self.active_units,
            "inference_active_units_": self.inference_active_units,
            **self.boosting.fitted_attributes(),
            "sparsity_curve_": self.sparsity_curve,
            "activation_thresholds_": self.thresholds,
            "inference_thresholds_": self.inference_thresholds,
        }
        if self._warmup_epochs is not None:
            attributes["_warmup_epochs"] = self._warmup_epochs
        if self._threshold_samples is not None:
            attributes["_threshold_samples"] = self._threshold_samples
        if self.active_fraction is not None:
            attributes["active_fraction_"] = self.active_fraction
            attributes["dead_units_"] = self.dead_units
        attributes.update(settled)
        return attributes
