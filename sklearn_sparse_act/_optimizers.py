"""Stochastic optimizers: plain SGD with momentum, and Adam.

An optimizer is a thin object over a *state* dictionary holding only numbers
and lists of arrays, one per parameter array: the parameter's shape, or for
the weights of a layer with sparse connections its present weights only (a
1d array in the C order of its mask, the order of the connections'
``positions``). The estimator keeps the state, not the object, so a
fitted model stays plain data (easy to persist and inspect), and the
optimizer is rebuilt around the stored state whenever training resumes.
Updates are applied in place to the parameter arrays, by the kernel
backend's fused step (:mod:`._backends`): the NumPy backend runs the
arithmetic array by array in a scratch buffer, the numba backend in one
compiled pass per parameter array.
"""

import numpy as np


class SGDOptimizer:
    """Stochastic gradient descent with (Nesterov) momentum.

    Parameters
    ----------
    state : dict
        Mutable optimizer state from :meth:`initial_state`.
    learning_rate_init : float
        Initial step size.
    learning_rate : {'constant', 'invscaling', 'adaptive'}
        Step size schedule, as in scikit-learn's ``MLPClassifier``.
    momentum : float
        Momentum factor in [0, 1].
    nesterovs_momentum : bool
        Whether to use Nesterov's momentum.
    power_t : float
        Exponent of the 'invscaling' schedule.
    backend : module
        The kernel backend that applies the steps.
    connections : list, default=None
        Per parameter array, its :class:`~._backends.interface.Connections`
        or None: the entries that exist, the only ones its state holds and
        its steps touch.
    """

    def __init__(
        self,
        state,
        learning_rate_init,
        learning_rate,
        momentum,
        nesterovs_momentum,
        power_t,
        backend,
        connections=None,
    ):
        self.state = state
        self.backend = backend
        self.connections = connections
        self.learning_rate_init = learning_rate_init
        self.schedule = learning_rate
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.power_t = power_t

    @staticmethod
    def holds(state):
        """Whether ``state`` is an SGD state (a model's solver may change
        between ``partial_fit`` calls)."""
        return "velocities" in state

    @staticmethod
    def initial_state(params, learning_rate_init, connections=None):
        """Zero velocities (at the present weights only where ``connections``,
        per parameter array, say which exist) and the initial step size."""
        return {
            "learning_rate": float(learning_rate_init),
            "velocities": _zero_state(params, connections),
        }

    def update_params(self, params, grads, kept=None):
        """Take one step on every parameter array, in place; ``kept`` (per
        array, a copy of its present weights or None) as for the backend's
        ``sgd_update``."""
        self.backend.sgd_update(
            params,
            grads,
            self.state["velocities"],
            self.state["learning_rate"],
            self.momentum,
            self.nesterovs_momentum,
            self.connections,
            kept,
        )

    def iteration_ends(self, time_step):
        """Update the step size after an epoch; ``time_step`` counts samples."""
        if self.schedule == "invscaling":
            self.state["learning_rate"] = (
                float(self.learning_rate_init) / (time_step + 1) ** self.power_t
            )

    def trigger_stopping(self, message, verbose):
        """Decide whether to stop when the loss stalls; 'adaptive' divides the
        step size by 5 instead until it falls below 1e-6."""
        if self.schedule != "adaptive":
            if verbose:
                print(message + " Stopping.")
            return True
        if self.state["learning_rate"] <= 1e-6:
            if verbose:
                print(message + " Learning rate too small. Stopping.")
            return True
        self.state["learning_rate"] /= 5.0
        if verbose:
            print(
                message + f" Setting learning rate to {self.state['learning_rate']:f}"
            )
        return False


class AdamOptimizer:
    """Adam (Kingma and Ba, 2014) with bias-corrected moment estimates.

    Parameters
    ----------
    state : dict
        Mutable optimizer state from :meth:`initial_state`.
    learning_rate_init : float
        Step size.
    beta_1, beta_2 : float
        Decay rates of the first and second moment estimates, in [0, 1).
    epsilon : float
        Added to the denominator for numerical stability.
    backend : module
        The kernel backend that applies the steps.
    connections : list, default=None
        Per parameter array, its :class:`~._backends.interface.Connections`
        or None: the entries that exist, the only ones its state holds and
        its steps touch.
    """

    def __init__(
        self,
        state,
        learning_rate_init,
        beta_1,
        beta_2,
        epsilon,
        backend,
        connections=None,
    ):
        self.state = state
        self.connections = connections
        self.learning_rate_init = learning_rate_init
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.backend = backend
        self._workspace = {}

    @staticmethod
    def holds(state):
        """Whether ``state`` is an Adam state."""
        return "first_moments" in state

    @staticmethod
    def initial_state(params, learning_rate_init, connections=None):
        """Zero moment estimates (at the present weights only where
        ``connections``, per parameter array, say which exist) and a zero
        step counter."""
        return {
            "learning_rate": float(learning_rate_init),
            "step": 0,
            "first_moments": _zero_state(params, connections),
            "second_moments": _zero_state(params, connections),
        }

    def update_params(self, params, grads, kept=None):
        """Take one step on every parameter array, in place; ``kept`` (per
        array, a copy of its present weights or None) as for the backend's
        ``adam_update``."""
        state = self.state
        state["step"] += 1
        step = state["step"]
        state["learning_rate"] = (
            self.learning_rate_init
            * np.sqrt(1 - self.beta_2**step)
            / (1 - self.beta_1**step)
        )
        self.backend.adam_update(
            params,
            grads,
            state["first_moments"],
            state["second_moments"],
            state["learning_rate"],
            (self.beta_1, self.beta_2),
            self.epsilon,
            self._workspace,
            self.connections,
            kept,
        )

    def iteration_ends(self, time_step):
        """Adam keeps its step size between epochs."""

    def trigger_stopping(self, message, verbose):
        """Stop as soon as the loss stalls."""
        if verbose:
            print(message + " Stopping.")
        return True


def _zero_state(params, connections):
    """Per parameter array, a zero array of its shape, or of its present
    weights' number where its :class:`~._backends.interface.Connections`
    are given."""
    connections = connections or [None] * len(params)
    return [
        np.zeros_like(param)
        if present is None
        else np.zeros(present.positions.size, dtype=param.dtype)
        for param, present in zip(params, connections, strict=True)
    ]


OPTIMIZERS = {"sgd": SGDOptimizer, "adam": AdamOptimizer}
