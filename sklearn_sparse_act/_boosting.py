"""Homeostatic boosting of the hidden layers over one fit.

:class:`Boosting` owns each hidden unit's duty cycle (its running win
fraction over about the last 1000 training samples), the boost strength in
force with its decay per epoch, and the factors that favour the units that
win too rarely: those a training step chooses its winners with, and those
frozen at the end of a fit, with which prediction chooses them.
:class:`~._hidden_sparsity.HiddenSparsity` holds one per fit; it needs the
win fractions of :mod:`._winners`.
"""

import numpy as np

from ._winners import win_fraction

# Duty cycles are running averages over about this many training samples.
_DUTY_CYCLE_PERIOD = 1000


class Boosting:
    """Duty cycles and boost strength of the hidden layers over one fit.

    Parameters
    ----------
    widths : list of int
        Units per hidden layer.
    active_units : list of int
        Target winners per row of each hidden layer.
    strength, decay : float
        The estimator's ``boost_strength`` and ``boost_decay``.
    fitted : dict
        The attributes of a model fitted before, named as
        :meth:`fitted_attributes` names them, or empty (start afresh). The
        duty cycles go on from the fitted ones; so does the strength in
        force, unless ``strength`` or ``decay`` differ from the values its
        schedule started from (set anew between fits: the schedule then
        starts again from ``strength``).
    """

    def __init__(self, widths, active_units, strength, decay, fitted):
        self.widths = widths
        self.active_units = active_units
        self.decay = decay
        self.schedule = (float(strength), float(decay))
        self.strength = float(strength)
        if "duty_cycles_" in fitted:
            self.duty_cycles = fitted["duty_cycles_"]
            self.samples = fitted["_duty_cycle_samples"]
            # A model stored before the schedule was recorded goes on too.
            if fitted.get("_boost_schedule", self.schedule) == self.schedule:
                self.strength = fitted["_boost_strength_now"]
        else:
            self.duty_cycles = [
                np.full(width, k / width)
                for k, width in zip(active_units, widths, strict=True)
            ]
            self.samples = 0

    def factors(self, layer, n_active):
        """Multipliers of hidden ``layer``'s pre-activations that choose its
        ``n_active`` winners, or None (no boost in force, or every unit wins).

        A unit that won less often than the layer's target ratio gets a factor
        above 1, one that won more often a factor below 1.
        """
        width = self.widths[layer]
        if self.strength == 0 or n_active == width:
            return None
        return np.exp(-self.strength * (self.duty_cycles[layer] - n_active / width))

    def frozen_factors(self):
        """The boost factors prediction uses: per hidden layer, those a
        training step at the target winner counts would use now (None for a
        layer every unit wins), or None when no boost is in force."""
        factors = [
            self.factors(layer, n_active)
            for layer, n_active in enumerate(self.active_units)
        ]
        return None if all(factor is None for factor in factors) else factors

    def fold(self, winners, n_rows):
        """Fold a batch's winners (per hidden layer, over ``n_rows`` rows)
        into each unit's running win fraction."""
        self.samples = min(self.samples + n_rows, _DUTY_CYCLE_PERIOD)
        step = min(1.0, n_rows / self.samples)
        for duty_cycle, layer_winners in zip(self.duty_cycles, winners, strict=True):
            duty_cycle += step * (win_fraction(layer_winners, n_rows) - duty_cycle)

    def measure(self, winners, n_rows):
        """The duty cycles of one pass over the training data (after L-BFGS)."""
        self.samples = 0
        self.fold(winners, n_rows)

    def end_epoch(self):
        """Decay the strength in force."""
        self.strength *= self.decay

    def hold(self):
        """No boosting (L-BFGS's fixed objective)."""
        self.strength = 0.0

    def fitted_attributes(self):
        """The state to keep on the estimator, by attribute name."""
        return {
            "duty_cycles_": self.duty_cycles,
            "_duty_cycle_samples": self.samples,
            "_boost_strength_now": self.strength,
            "_boost_schedule": self.schedule,
            "boost_factors_": self.frozen_factors(),
        }
