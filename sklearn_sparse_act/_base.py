"""Shared base estimator for the sparse-activation multilayer perceptrons.

Training is a chain of small steps, each overridable:
``fit`` -> ``_fit`` -> ``_fit_stochastic`` -> ``_run_epoch`` -> ``_train_step``
-> ``_backprop`` -> ``_forward_pass``; ``_fit_lbfgs`` replaces the epoch loop
for the quasi-Newton solver. The public classifier and regressor only define
how targets are encoded and how outputs are decoded.
"""

import copy
import warnings
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from itertools import chain, pairwise
from numbers import Integral, Real

import numpy as np
import scipy
import scipy.optimize
import scipy.sparse as sp
from sklearn.base import BaseEstimator, _fit_context, is_classifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils import _safe_indexing, check_random_state, gen_batches, shuffle
from sklearn.utils._param_validation import Interval, Options, StrOptions
from sklearn.utils.extmath import safe_sparse_dot
from sklearn.utils.optimize import _check_optimize_result
from sklearn.utils.validation import (
    _check_sample_weight,
    check_is_fitted,
    validate_data,
)

from . import _kernels
from ._activations import ACTIVATIONS, DERIVATIVES, ZERO_OUTPUT_ZERO_DERIVATIVE
from ._losses import LOSS_FUNCTIONS
from ._optimizers import OPTIMIZERS
from ._persistence import VersionStampMixin
from ._sparsity import (
    SPARSITY_STRATEGIES,
    auto_activation_ratio,
    batch_threshold,
    n_active_units,
    quantile_threshold,
)

_STOCHASTIC_SOLVERS = ("sgd", "adam")
_SCIPY_VERSION = tuple(int(part) for part in scipy.__version__.split(".")[:2])

# Weight of the previous value in the running average of a 'dynamic' layer's
# threshold: each training batch moves the threshold 10% of the way towards
# the smallest pre-activation that batch kept.
_THRESHOLD_MOMENTUM = 0.9

# learning_rate_init='auto': scikit-learn's step size, scaled by (h / 2) / k,
# the number of units a dense ReLU layer of width h fires per row (about half)
# over the k winners, within these bounds (see _resolve_learning_rate).
_AUTO_LEARNING_RATE = 0.001
_MAX_AUTO_LEARNING_RATE = 0.01
_DENSE_RELU_FIRING_FRACTION = 0.5

# Duty cycles are running averages over about this many training samples.
_DUTY_CYCLE_PERIOD = 1000

# 'dynamic' thresholds are settled at the end of training on at most this
# many training rows (a random subset beyond it): the quantile of 10,000 rows
# is within about 0.3% of the ratio, and the layer's values fit in memory.
_SETTLE_ROWS = 10_000

# Across partial_fit calls the settled thresholds are running averages over
# about this many training samples.
_THRESHOLD_PERIOD = 1000

# Prediction works on row chunks whose widest layer takes about this many
# bytes: large enough for BLAS to run at full speed, small enough to stay in
# cache-friendly sizes and keep memory bounded for any number of rows.
_PREDICT_CHUNK_BYTES = 4 * 2**20


@dataclass
class _TrainingBuffers:
    """Per-layer arrays reused by every training step.

    ``activations[0]`` is the input batch and ``activations[i + 1]`` the output
    of layer ``i``; ``masks[i]`` holds hidden layer ``i``'s winners (None for a
    dense layer); ``observed_thresholds[i]`` the threshold the last forward pass
    saw in hidden layer ``i`` ('dynamic' only); ``active_units[i]`` the number
    of winners in force (it differs from ``active_units_`` during warm-up).
    """

    n_layers: int
    active_units: list = field(default_factory=list)
    activations: list = field(init=False)
    masks: list = field(init=False)
    observed_thresholds: list = field(init=False)
    deltas: list = field(init=False)
    coef_grads: list = field(init=False)
    intercept_grads: list = field(init=False)

    def __post_init__(self):
        self.activations = [None] * self.n_layers
        self.masks = [None] * (self.n_layers - 2)
        self.observed_thresholds = [None] * (self.n_layers - 2)
        self.deltas = [None] * (self.n_layers - 1)
        self.coef_grads = [None] * (self.n_layers - 1)
        self.intercept_grads = [None] * (self.n_layers - 1)


class _FiringCounter:
    """Counts, per hidden unit, the samples on which its output was non-zero."""

    def __init__(self, hidden_layer_sizes):
        self.counts = [np.zeros(width, dtype=np.int64) for width in hidden_layer_sizes]
        self.n_samples = 0

    def record(self, hidden_outputs):
        self.n_samples += hidden_outputs[0].shape[0]
        for count, output in zip(self.counts, hidden_outputs, strict=True):
            if sp.issparse(output):
                count += np.bincount(
                    output.indices[output.data != 0], minlength=count.size
                )
            else:
                count += np.count_nonzero(output, axis=0)

    def active_fraction(self):
        return np.array(
            [count.sum() / (self.n_samples * count.size) for count in self.counts]
        )

    def dead_units(self):
        return np.array([np.count_nonzero(count == 0) for count in self.counts])


def _apply_winners(values, winners, activation):
    """A hidden layer's outputs from its pre-activations ``values``: the
    activation on the winners, 0 elsewhere.

    ``winners`` is None (dense layer), a boolean mask (dense path: computed in
    place) or a :class:`~._kernels.Winners` (sparse path: a CSR matrix of the
    winners only).
    """
    if isinstance(winners, _kernels.Winners):
        data = winners.gather(values)
        activation(data)
        return winners.to_csr(data)
    activation(values)
    if winners is not None:
        values *= winners
    return values


def _won_any(winners):
    """Per unit, whether it won in any row (``winners`` as in _apply_winners)."""
    if winners is None:
        return True
    if isinstance(winners, _kernels.Winners):
        return winners.counts() > 0
    return winners.any(axis=0)


def _win_fraction(winners, n_rows):
    """Per unit, the fraction of rows it won."""
    if winners is None:
        return 1.0
    if isinstance(winners, _kernels.Winners):
        return winners.counts() / n_rows
    return np.count_nonzero(winners, axis=0) / n_rows


def _pack(coefs, intercepts):
    """Flatten all parameters into one vector (for L-BFGS)."""
    return np.hstack([param.ravel() for param in coefs + intercepts])


class BaseSparseMLP(VersionStampMixin, BaseEstimator, ABC):
    """Base class for sparse-activation MLP classification and regression.

    Do not use it directly; use :class:`SparseMLPClassifier` or
    :class:`SparseMLPRegressor`.
    """

    _parameter_constraints: dict = {
        "hidden_layer_sizes": [
            "array-like",
            Interval(Integral, 1, None, closed="left"),
        ],
        "activation": [StrOptions({"identity", "logistic", "tanh", "relu"})],
        "activation_ratio": [
            Interval(Real, 0, 1, closed="right"),
            "array-like",
            StrOptions({"auto"}),
        ],
        "sparsity_strategy": [StrOptions(set(SPARSITY_STRATEGIES))],
        "boost_strength": [Interval(Real, 0, None, closed="left")],
        "boost_decay": [Interval(Real, 0, 1, closed="both")],
        "inference_ratio_factor": [Interval(Real, 1, None, closed="left")],
        "sparsity_warmup": [Interval(Integral, 0, None, closed="left")],
        "solver": [StrOptions({"lbfgs", "sgd", "adam"})],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "batch_size": [
            StrOptions({"auto"}),
            Interval(Integral, 1, None, closed="left"),
        ],
        "learning_rate": [StrOptions({"constant", "invscaling", "adaptive"})],
        "learning_rate_init": [
            StrOptions({"auto"}),
            Interval(Real, 0, None, closed="neither"),
        ],
        "power_t": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "shuffle": ["boolean"],
        "random_state": ["random_state"],
        "tol": [Interval(Real, 0, None, closed="left")],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
        "momentum": [Interval(Real, 0, 1, closed="both")],
        "nesterovs_momentum": ["boolean"],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="left")],
        "beta_1": [Interval(Real, 0, 1, closed="left")],
        "beta_2": [Interval(Real, 0, 1, closed="left")],
        "epsilon": [Interval(Real, 0, None, closed="neither")],
        "n_iter_no_change": [
            Interval(Integral, 1, None, closed="left"),
            Options(Real, {np.inf}),
        ],
        "max_fun": [Interval(Integral, 1, None, closed="left")],
    }

    @abstractmethod
    def __init__(
        self,
        hidden_layer_sizes,
        activation,
        activation_ratio,
        sparsity_strategy,
        boost_strength,
        boost_decay,
        inference_ratio_factor,
        sparsity_warmup,
        solver,
        alpha,
        batch_size,
        learning_rate,
        learning_rate_init,
        power_t,
        max_iter,
        loss,
        shuffle,
        random_state,
        tol,
        verbose,
        warm_start,
        momentum,
        nesterovs_momentum,
        early_stopping,
        validation_fraction,
        beta_1,
        beta_2,
        epsilon,
        n_iter_no_change,
        max_fun,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.activation_ratio = activation_ratio
        self.sparsity_strategy = sparsity_strategy
        self.boost_strength = boost_strength
        self.boost_decay = boost_decay
        self.inference_ratio_factor = inference_ratio_factor
        self.sparsity_warmup = sparsity_warmup
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.loss = loss
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.max_fun = max_fun

    # ------------------------------------------------------------------
    # Hooks for the public classes
    # ------------------------------------------------------------------
    @abstractmethod
    def _validate_input(self, X, y, incremental, reset):
        """Validate X and encode y as a 1d or 2d float/bool array."""

    @abstractmethod
    def _output_activation(self):
        """Name of the output layer's activation for the current targets."""

    @abstractmethod
    def _decode_output(self, output):
        """Turn output-layer activations into predictions."""

    def _target_sample_weight(self, y, incremental):
        """Per-sample weights implied by the targets (e.g. class weights)."""
        return None

    def _scale_targets(self, y, sample_weight, first_pass):
        """The training targets in the units the network learns (as given)."""
        return y

    # ------------------------------------------------------------------
    # Architecture and sparsity settings
    # ------------------------------------------------------------------
    def _hidden_layer_sizes(self):
        sizes = self.hidden_layer_sizes
        if not hasattr(sizes, "__iter__"):
            sizes = [sizes]
        sizes = list(sizes)
        if np.any(np.array(sizes) <= 0):
            raise ValueError(f"hidden_layer_sizes must be > 0, got {sizes}.")
        return sizes

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

    # ------------------------------------------------------------------
    # Forward and backward passes
    # ------------------------------------------------------------------
    def _forward_pass(self, buffers, sample_weight=None, reuse_masks=False):
        """Training-mode forward pass, filling ``buffers.activations``.

        Each hidden layer's winners are chosen by the sparsity strategy on the
        whole batch and kept in ``buffers.masks``; with ``reuse_masks`` the
        masks already there are applied instead (for gradient checks).
        """
        activations = buffers.activations
        hidden_activation = ACTIVATIONS[self.activation]
        strategy = SPARSITY_STRATEGIES[self._strategy_name]
        last = self.n_layers_ - 2
        for layer in range(self.n_layers_ - 1):
            values = safe_sparse_dot(activations[layer], self.coefs_[layer])
            values += self.intercepts_[layer]
            if layer == last:
                ACTIVATIONS[self.out_activation_](values)
            else:
                if not reuse_masks:
                    self._select_training_winners(
                        strategy, layer, values, buffers, sample_weight
                    )
                values = _apply_winners(values, buffers.masks[layer], hidden_activation)
            activations[layer + 1] = values
        return activations

    def _select_training_winners(self, strategy, layer, values, buffers, sample_weight):
        """Choose a hidden layer's winners for a training batch.

        With boosting, winners are chosen on the boosted pre-activations while
        the values passed on (and the tracked threshold) stay unboosted.
        """
        n_active = buffers.active_units[layer]
        width = values.shape[1]
        if n_active == width:
            buffers.masks[layer] = None
            buffers.observed_thresholds[layer] = None
            return
        boost = self._boost_factors(layer, n_active, width)
        if boost is None:
            mask, threshold = strategy.training_mask(values, n_active, sample_weight)
        else:
            mask, threshold = strategy.training_mask(
                values * boost, n_active, sample_weight
            )
            if threshold is not None:
                _, threshold = strategy.training_mask(values, n_active, sample_weight)
        if _kernels.use_sparse_path(n_active, width, self.coefs_[layer + 1].shape[1]):
            mask = _kernels.Winners.from_mask(mask)
        buffers.masks[layer] = mask
        buffers.observed_thresholds[layer] = threshold

    def _loss(self, y, y_pred, sample_weight):
        loss_name = self.loss
        if loss_name == "log_loss" and self.out_activation_ == "logistic":
            loss_name = "binary_log_loss"
        return LOSS_FUNCTIONS[loss_name](y, y_pred, sample_weight)

    def _layer_gradient(self, layer, weight_sum, buffers):
        """Gradient of the penalised loss for one layer's weights and biases.

        Sparse inputs (a sparse-path layer's outputs) or sparse deltas (at a
        sparse-path layer's winners) make the product sparse.
        """
        delta = buffers.deltas[layer]
        grad = _kernels.dense_product(buffers.activations[layer].T, delta)
        grad += self.alpha * self.coefs_[layer]
        grad /= weight_sum
        buffers.coef_grads[layer] = grad
        buffers.intercept_grads[layer] = _kernels.column_sums(delta) / weight_sum

    def _backprop(self, X, y, sample_weight, buffers, reuse_masks=False):
        """Loss and gradients for one batch; gradients flow through winners only."""
        buffers.activations[0] = X
        self._forward_pass(buffers, sample_weight, reuse_masks=reuse_masks)
        activations, deltas = buffers.activations, buffers.deltas

        weight_sum = X.shape[0] if sample_weight is None else sample_weight.sum()
        loss = self._loss(y, activations[-1], sample_weight)
        squared_norm = sum(np.dot(coef.ravel(), coef.ravel()) for coef in self.coefs_)
        loss += (0.5 * self.alpha) * squared_norm / weight_sum

        # Every output activation is paired with its canonical loss, so the
        # derivative of the loss with respect to the output pre-activation is
        # simply prediction - target.
        last = self.n_layers_ - 2
        deltas[last] = activations[-1] - y
        if sample_weight is not None:
            deltas[last] *= sample_weight.reshape(-1, 1)
        self._layer_gradient(last, weight_sum, buffers)

        derivative = DERIVATIVES[self.activation]
        silences_losers = self.activation in ZERO_OUTPUT_ZERO_DERIVATIVE
        for layer in range(last, 0, -1):
            winners = buffers.masks[layer - 1]
            if isinstance(winners, _kernels.Winners):
                delta = _kernels.winners_delta(
                    deltas[layer], self.coefs_[layer], winners
                )
                derivative(activations[layer].data, delta)
                deltas[layer - 1] = winners.to_csr(delta)
            else:
                delta = safe_sparse_dot(deltas[layer], self.coefs_[layer].T)
                if winners is not None and not silences_losers:
                    delta *= winners
                derivative(activations[layer], delta)
                deltas[layer - 1] = delta
            self._layer_gradient(layer - 1, weight_sum, buffers)
        return loss

    # ------------------------------------------------------------------
    # Prediction
    # ------------------------------------------------------------------
    def _forward_pass_fast(self, X, check_input=True):
        """Output-layer activations for X, computed in row chunks.

        Every row is computed on its own: 'fixed' keeps each row's top-k and
        'dynamic' compares each pre-activation with the fitted threshold.
        """
        if check_input:
            X = self._validate_prediction_input(X)
        X = _as_row_sliceable(X)
        n_samples = X.shape[0]
        dtype = np.result_type(X.dtype, self.coefs_[0].dtype)
        output = np.empty((n_samples, self.n_outputs_), dtype=dtype)
        for rows in gen_batches(n_samples, self._chunk_rows(n_samples)):
            output[rows] = self._forward_rows(X[rows])
        return output

    def _validate_prediction_input(self, X):
        """Validate X for prediction, cheaply in the common case.

        A float ndarray of the fitted width, from a model fitted without
        feature names, needs no conversion: only its finiteness is checked.
        Everything else (and any non-finite value, for its error message) goes
        through scikit-learn's ``validate_data``.
        """
        if (
            type(X) is np.ndarray
            and X.ndim == 2
            and X.dtype in (np.float64, np.float32)
            and X.shape[1] == self.n_features_in_
            and X.shape[0] > 0
            and not hasattr(self, "feature_names_in_")
            and np.isfinite(X).all()
        ):
            return X
        return validate_data(self, X, accept_sparse=["csr", "csc"], reset=False)

    def __sklearn_is_fitted__(self):
        return hasattr(self, "coefs_")

    def _chunk_rows(self, n_samples):
        """Rows per prediction chunk: memory stays bounded for any number of
        rows."""
        widest = max(coef.shape[1] for coef in self.coefs_)
        row_bytes = widest * self.coefs_[0].dtype.itemsize
        return int(min(max(n_samples, 1), max(1, _PREDICT_CHUNK_BYTES // row_bytes)))

    def _forward_rows(self, X):
        """Prediction-mode forward pass for one chunk of rows."""
        values = self._hidden_rows(X, self.n_layers_ - 3)
        values = safe_sparse_dot(values, self.coefs_[-1])
        values += self.intercepts_[-1]
        ACTIVATIONS[self.out_activation_](values)
        return values

    def _hidden_rows(self, X, last_layer):
        """Prediction-mode outputs of hidden layer ``last_layer`` for some rows
        (a CSR matrix for a sparse-path layer)."""
        values = X
        for layer in range(last_layer + 1):
            values = safe_sparse_dot(values, self.coefs_[layer])
            values += self.intercepts_[layer]
            values, _ = self._apply_inference_rule(layer, values)
        return values

    def _apply_inference_rule(self, layer, values):
        """A hidden layer's outputs from its pre-activations with the
        prediction-time rule (computed in place where dense), and its mask."""
        n_active = self.inference_active_units_[layer]
        width = values.shape[1]
        mask = None
        if n_active < width:
            thresholds = self.inference_thresholds_
            mask = SPARSITY_STRATEGIES[self._strategy_name].inference_mask(
                values, n_active, None if thresholds is None else thresholds[layer]
            )
            fan_out = self.coefs_[layer + 1].shape[1]
            if _kernels.use_sparse_path(n_active, width, fan_out):
                mask = _kernels.Winners.from_mask(mask)
        return _apply_winners(values, mask, ACTIVATIONS[self.activation]), mask

    def _settle_inference(self, X, record_winners):
        """After training: set ``inference_thresholds_`` and, with
        ``record_winners``, note which units win on X (for :meth:`compact`)."""
        thresholds = self.activation_thresholds_
        self.inference_thresholds_ = None if thresholds is None else thresholds.copy()
        if thresholds is not None and self.inference_ratio_factor != 1:
            self._calibrate_inference_thresholds(X)
        self._training_winners = None
        if not record_winners:
            return
        widths = [coef.shape[1] for coef in self.coefs_[:-1]]
        if self.out_activation_ != "exp" and self.inference_active_units_ == widths:
            # Every unit wins on every row, and only the exponential output
            # can overflow from finite weights: no pass over X is needed.
            self._training_winners = [np.ones(width, dtype=bool) for width in widths]
        else:
            self._training_winners, finite = self._winners_on(X)
            if not finite:
                raise ValueError(
                    "Solver produced non-finite predictions on the training data. "
                    "The input data may contain large values and need to be "
                    "preprocessed."
                )

    def _calibrate_inference_thresholds(self, X):
        """Lower each 'dynamic' threshold, layer by layer, so that
        ``inference_ratio_factor`` times as many pre-activations of X exceed it
        as exceed the trained threshold."""
        values = X
        for layer, threshold in enumerate(self.activation_thresholds_):
            values = safe_sparse_dot(values, self.coefs_[layer])
            values += self.intercepts_[layer]
            if np.isfinite(threshold):
                n_firing = np.count_nonzero(values > threshold)
                self.inference_thresholds_[layer] = quantile_threshold(
                    values, n_firing * self.inference_ratio_factor
                )
            values, _ = self._apply_inference_rule(layer, values)

    def hidden_activations(self, X, layer=-1):
        """Sparse code of each row at a hidden layer.

        This is exactly what :meth:`predict` computes internally: for every
        hidden layer up to ``layer``, ``z = a @ W + b``, the prediction-time
        winners keep ``activation(z)`` and every other unit outputs 0.

        The code can feed another estimator: with a fitted model ``mlp``,
        ``make_pipeline(FunctionTransformer(mlp.hidden_activations,
        accept_sparse=True), LogisticRegression())`` trains a linear model on
        the sparse features (the pipeline does not refit ``mlp``).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.

        layer : int, default=-1
            Index of the hidden layer, counted from 0 (negative values count
            from the last hidden layer).

        Returns
        -------
        codes : scipy.sparse.csr_matrix of shape (n_samples, layer_width)
            The layer's outputs; at most ``inference_active_units_[layer]``
            non-zeros per row with 'fixed'.
        """
        check_is_fitted(self)
        n_hidden = self.n_layers_ - 2
        if not isinstance(layer, Integral) or not -n_hidden <= layer < n_hidden:
            raise ValueError(
                f"layer must be an integer in [{-n_hidden}, {n_hidden - 1}] for a "
                f"model with {n_hidden} hidden layer(s); got {layer!r}."
            )
        layer = int(layer) % n_hidden
        X = _as_row_sliceable(
            validate_data(self, X, accept_sparse=["csr", "csc"], reset=False)
        )
        chunk_rows = self._chunk_rows(X.shape[0])
        codes = [
            sp.csr_matrix(self._hidden_rows(X[rows], layer))
            for rows in gen_batches(X.shape[0], chunk_rows)
        ]
        if not codes:
            width = self.coefs_[layer].shape[1]
            return sp.csr_matrix((0, width), dtype=self.coefs_[0].dtype)
        codes = sp.vstack(codes, format="csr")
        codes.eliminate_zeros()
        return codes

    def compact(self, X=None):
        """A copy of the fitted model without the hidden units that never win.

        Units that never won at prediction time on the training data (or on
        ``X``) are removed and the weights sliced, so the copy predicts exactly
        as this model does on that data with smaller ``coefs_``. On other data
        a removed unit might have won: with 'fixed', another unit then takes
        its place, so predictions there can differ slightly; with 'dynamic'
        they differ only where a removed unit would have crossed its threshold.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features), \
                default=None
            The data on which winning is judged. By default, the data of the
            last call to :meth:`fit` (recorded at the end of fit); required
            after :meth:`partial_fit`.

        Returns
        -------
        compacted : estimator
            A fitted copy with ``hidden_layer_sizes`` and ``activation_ratio``
            set to the new widths and the same number of winners per layer,
            and a ``removed_units_`` attribute (units removed per hidden
            layer). Training statistics (``loss_curve_``, ``active_fraction_``,
            ``dead_units_``) still describe the original training run; the
            optimizer state is dropped, so further training starts afresh.
        """
        check_is_fitted(self)
        if X is None:
            winners = getattr(self, "_training_winners", None)
            if winners is None:
                raise ValueError(
                    "compact() needs the winners recorded by fit, but this model "
                    "was last trained with partial_fit; pass the data to judge "
                    "by: compact(X)."
                )
        else:
            X = _as_row_sliceable(
                validate_data(self, X, accept_sparse=["csr", "csc"], reset=False)
            )
            winners, _ = self._winners_on(X)
        kept = [np.flatnonzero(won) for won in winners]

        compacted = copy.deepcopy(self)
        for layer, units in enumerate(kept):
            compacted.coefs_[layer] = compacted.coefs_[layer][:, units]
            compacted.intercepts_[layer] = compacted.intercepts_[layer][units]
            compacted.coefs_[layer + 1] = compacted.coefs_[layer + 1][units, :]
            compacted.duty_cycles_[layer] = compacted.duty_cycles_[layer][units]
        widths = [units.size for units in kept]
        compacted.removed_units_ = [
            won.size - width for won, width in zip(winners, widths, strict=True)
        ]
        compacted.hidden_layer_sizes = tuple(widths)
        compacted.activation_ratio = [
            k / width for k, width in zip(self.active_units_, widths, strict=True)
        ]
        compacted._training_winners = [np.ones(width, dtype=bool) for width in widths]
        compacted._best_coefs = [coef.copy() for coef in compacted.coefs_]
        compacted._best_intercepts = [b.copy() for b in compacted.intercepts_]
        compacted._optimizer_state = None
        return compacted

    def _winners_on(self, X):
        """Per hidden layer, which units win at prediction on some row of X;
        and whether every prediction on X is finite."""
        winners = [np.zeros(coef.shape[1], dtype=bool) for coef in self.coefs_[:-1]]
        finite = True
        for rows in gen_batches(X.shape[0], self._chunk_rows(X.shape[0])):
            values = X[rows]
            for layer, won in enumerate(winners):
                values = safe_sparse_dot(values, self.coefs_[layer])
                values += self.intercepts_[layer]
                values, mask = self._apply_inference_rule(layer, values)
                won |= _won_any(mask)
            output = safe_sparse_dot(values, self.coefs_[-1])
            output += self.intercepts_[-1]
            ACTIVATIONS[self.out_activation_](output)
            finite = finite and bool(np.isfinite(output).all())
        return winners, finite

    # ------------------------------------------------------------------
    # Initialisation
    # ------------------------------------------------------------------
    def _initialize(self, y, layer_units, dtype):
        """Set every fitted attribute for a first fit and draw the weights."""
        self.n_iter_ = 0
        self.t_ = 0
        self.n_outputs_ = y.shape[1]
        self.n_layers_ = len(layer_units)
        self.out_activation_ = self._output_activation()

        self.coefs_ = []
        self.intercepts_ = []
        for fan_in, fan_out in pairwise(layer_units):
            coef, intercept = self._init_coef(fan_in, fan_out, dtype)
            self.coefs_.append(coef)
            self.intercepts_.append(intercept)
        self._best_coefs = [coef.copy() for coef in self.coefs_]
        self._best_intercepts = [intercept.copy() for intercept in self.intercepts_]

        if self.solver in _STOCHASTIC_SOLVERS:
            self.loss_curve_ = []
            self._no_improvement_count = 0
            if self.early_stopping:
                self.validation_scores_ = []
                self.validation_loss_curve_ = []
                self.best_validation_score_ = -np.inf
                self.best_loss_ = None
            else:
                self.best_loss_ = np.inf
                self.validation_scores_ = None
                self.validation_loss_curve_ = None
                self.best_validation_score_ = None

    def _init_coef(self, fan_in, fan_out, dtype):
        """Glorot-uniform weights and biases, as scikit-learn's MLP draws them."""
        factor = 2.0 if self.activation == "logistic" else 6.0
        bound = np.sqrt(factor / (fan_in + fan_out))
        coef = self._random_state.uniform(-bound, bound, (fan_in, fan_out))
        intercept = self._random_state.uniform(-bound, bound, fan_out)
        return coef.astype(dtype, copy=False), intercept.astype(dtype, copy=False)

    # ------------------------------------------------------------------
    # Fitting
    # ------------------------------------------------------------------
    def _fit(self, X, y, sample_weight=None, incremental=False):
        hidden_sizes = self._hidden_layer_sizes()
        first_pass = not hasattr(self, "coefs_") or (
            not self.warm_start and not incremental
        )
        X, y = self._validate_input(X, y, incremental, reset=first_pass)
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, X)
        if y.ndim == 1:
            y = y.reshape((-1, 1))
        target_weight = self._target_sample_weight(y, incremental)
        if target_weight is not None:
            if sample_weight is None:
                sample_weight = target_weight.astype(X.dtype)
            else:
                sample_weight = (sample_weight * target_weight).astype(X.dtype)
        y = self._scale_targets(y, sample_weight, first_pass)
        X = _as_row_sliceable(X)

        layer_units = [X.shape[1], *hidden_sizes, y.shape[1]]
        if not first_pass:
            self._check_architecture(layer_units)
        self._random_state = check_random_state(self.random_state)
        if first_pass:
            self._initialize(y, layer_units, X.dtype)
        self._prepare_sparsity(hidden_sizes, first_pass)
        settled_before = (
            None
            if self.activation_thresholds_ is None
            else self.activation_thresholds_.copy()
        )

        buffers = self._training_buffers()
        if self.solver in _STOCHASTIC_SOLVERS:
            self._fit_stochastic(X, y, sample_weight, buffers, incremental)
        else:
            self._fit_lbfgs(X, y, sample_weight, buffers, layer_units)

        if not self._parameters_finite():
            raise ValueError(
                "Solver produced non-finite parameter weights. The input data may"
                " contain large values and need to be preprocessed."
            )
        if not np.isfinite(self.loss_) and self.solver == "lbfgs":
            # Finite weights can still give a non-finite loss (the Poisson
            # model's exp link, or L-BFGS stopping at its starting point).
            raise ValueError(
                "Solver produced a non-finite training loss. The input data may"
                " contain large values and need to be preprocessed."
            )
        self._settle_thresholds(X, sample_weight, incremental, settled_before)
        self._settle_inference(X, record_winners=not incremental)
        return self

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
        values, weights = X, sample_weight
        if X.shape[0] > _SETTLE_ROWS:
            rows = np.sort(
                self._random_state.choice(X.shape[0], _SETTLE_ROWS, replace=False)
            )
            values = X[rows]
            weights = None if sample_weight is None else sample_weight[rows]
        settled = self.activation_thresholds_.copy()
        hidden_activation = ACTIVATIONS[self.activation]
        for layer, n_active in enumerate(self.active_units_):
            values = safe_sparse_dot(values, self.coefs_[layer])
            values += self.intercepts_[layer]
            if n_active < values.shape[1]:
                smallest_kept, largest_dropped = batch_threshold(
                    values, n_active, weights
                )
                threshold = (float(smallest_kept) + float(largest_dropped)) / 2
                if previous is not None and np.isfinite(previous[layer]):
                    threshold = previous[layer] + step * (threshold - previous[layer])
                settled[layer] = threshold
            mask = values > settled[layer]
            values = _apply_winners(values, mask, hidden_activation)
        self.activation_thresholds_ = settled

    def _training_buffers(self):
        """Fresh per-layer buffers, with the fitted number of winners."""
        return _TrainingBuffers(self.n_layers_, list(self.active_units_))

    def _check_architecture(self, layer_units):
        fitted_units = [self.coefs_[0].shape[0]] + [
            coef.shape[1] for coef in self.coefs_
        ]
        if fitted_units != layer_units:
            raise ValueError(
                "warm_start and partial_fit keep the fitted architecture: the "
                f"model has layer sizes {fitted_units}, but hidden_layer_sizes "
                f"and the data now give {layer_units}. Refit from scratch with "
                "warm_start=False to change it."
            )

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

    def _fit_lbfgs(self, X, y, sample_weight, buffers, layer_units):
        """Quasi-Newton training with the winners held within each iteration.

        The k-winners objective is only piecewise smooth: where a trial step
        changes the winners, the loss and gradient jump and L-BFGS's line
        search fails ("ABNORMAL") long before ``max_iter``, at a point that
        moves with round-off. So the winners are chosen on the whole training
        set at each iterate and held fixed while the line search tries steps
        from it (a smooth function of the weights); after every accepted step
        they are chosen again at the new iterate.
        """
        # L-BFGS needs one fixed objective: no warm-up and no boosting.
        buffers.active_units = list(self.active_units_)
        self._boost_strength_now = 0.0
        self.sparsity_curve_ = np.asarray([self._activation_ratios])
        self._coef_slices = []
        self._intercept_slices = []
        start = 0
        for fan_in, fan_out in pairwise(layer_units):
            end = start + fan_in * fan_out
            self._coef_slices.append((start, end, (fan_in, fan_out)))
            start = end
        for fan_out in layer_units[1:]:
            end = start + fan_out
            self._intercept_slices.append((start, end))
            start = end

        iprint = 1 if self.verbose is True or self.verbose >= 1 else -1
        self._hold_batch_winners(X, sample_weight, buffers)

        def choose_winners_at(intermediate_result):
            self._unpack(intermediate_result.x)
            self._hold_batch_winners(X, sample_weight, buffers)

        result = scipy.optimize.minimize(
            self._loss_grad_lbfgs,
            _pack(self.coefs_, self.intercepts_),
            method="L-BFGS-B",
            jac=True,
            callback=choose_winners_at,
            options={
                "maxfun": self.max_fun,
                "maxiter": self.max_iter,
                "gtol": self.tol,
                **_lbfgs_print_option(iprint),
            },
            args=(X, y, sample_weight, buffers),
        )
        self.n_iter_ = result.nit
        self._unpack(result.x)
        _check_optimize_result("lbfgs", result, self.max_iter)
        del self._coef_slices, self._intercept_slices
        # The loss of the sparse objective at the solution; its training-mode
        # pass gives the duty cycles and firing statistics (the thresholds are
        # settled at the end of _fit).
        self.loss_ = self._backprop(X, y, sample_weight, buffers)
        self._duty_cycle_samples = 0
        self._update_duty_cycles(buffers)
        counter = _FiringCounter(layer_units[1:-1])
        counter.record(buffers.activations[1:-1])
        self._record_epoch_statistics(counter)

    def _unpack(self, packed):
        """Set the parameters from L-BFGS's float64 vector, in the model's dtype."""
        dtype = self.coefs_[0].dtype
        for layer, (start, end, shape) in enumerate(self._coef_slices):
            self.coefs_[layer] = packed[start:end].reshape(shape).astype(dtype)
        for layer, (start, end) in enumerate(self._intercept_slices):
            self.intercepts_[layer] = packed[start:end].astype(dtype)

    def _loss_grad_lbfgs(self, packed, X, y, sample_weight, buffers):
        """Loss and gradient with the winners held in ``buffers.masks``."""
        self._unpack(packed)
        loss = self._backprop(X, y, sample_weight, buffers, reuse_masks=True)
        return loss, _pack(buffers.coef_grads, buffers.intercept_grads)

    def _hold_batch_winners(self, X, sample_weight, buffers):
        """Choose the whole training set's winners at the current parameters
        and hold them in ``buffers.masks``."""
        buffers.activations[0] = X
        self._forward_pass(buffers, sample_weight)

    def _resolve_learning_rate(self):
        """The step size in force: ``learning_rate_init``, or with 'auto'
        ``0.0005 / r`` for the last hidden layer's ratio ``r``, kept within
        [0.001, 0.01].

        Only the ``k`` winners of the last hidden layer carry the output and
        receive gradient, and Adam moves each weight by about the step size,
        so the output builds up in proportion to the number of units that
        fire. A dense ReLU layer of width ``h`` fires about ``h / 2`` units
        per row, so the step is scikit-learn's 0.001 times ``(h / 2) / k``:
        exactly 0.001 from ratio 0.5 up to 1.0 (never smaller, so a dense
        layer trains as scikit-learn's MLP does), 0.005 at ratio 0.1. The cap
        keeps the steps of very sparse layers stable.
        """
        if self.learning_rate_init != "auto":
            return float(self.learning_rate_init)
        ratio = self._activation_ratios[-1]
        step = _AUTO_LEARNING_RATE * _DENSE_RELU_FIRING_FRACTION / ratio
        return min(max(step, _AUTO_LEARNING_RATE), _MAX_AUTO_LEARNING_RATE)

    def _make_optimizer(self, incremental):
        """The solver's optimizer around the stored (or a fresh) state."""
        self._learning_rate_init = self._resolve_learning_rate()
        params = self.coefs_ + self.intercepts_
        optimizer_class = OPTIMIZERS[self.solver]
        if not incremental or getattr(self, "_optimizer_state", None) is None:
            self._optimizer_state = optimizer_class.initial_state(
                params, self._learning_rate_init
            )
        if self.solver == "sgd":
            return optimizer_class(
                self._optimizer_state,
                self._learning_rate_init,
                self.learning_rate,
                self.momentum,
                self.nesterovs_momentum,
                self.power_t,
            )
        return optimizer_class(
            self._optimizer_state,
            self._learning_rate_init,
            self.beta_1,
            self.beta_2,
            self.epsilon,
        )

    def _split_validation(self, X, y, sample_weight):
        """Hold out ``validation_fraction`` of the data for early stopping."""
        stratify = y if is_classifier(self) and self.n_outputs_ == 1 else None
        arrays = (X, y) if sample_weight is None else (X, y, sample_weight)
        split = train_test_split(
            *arrays,
            random_state=self._random_state,
            test_size=self.validation_fraction,
            stratify=stratify,
        )
        X_train, X_val, y_train, y_val = split[:4]
        sw_train, sw_val = split[4:] if sample_weight is not None else (None, None)
        if X_val.shape[0] < 2:
            raise ValueError(
                "The validation set is too small. Increase 'validation_fraction' "
                "or the size of your dataset."
            )
        # The targets are decoded once, for the score of every epoch.
        y_val_decoded = self._decode_output(y_val.astype(np.float64))
        return (X_train, y_train, sw_train), (X_val, y_val, y_val_decoded, sw_val)

    def _fit_stochastic(self, X, y, sample_weight, buffers, incremental):
        optimizer = self._make_optimizer(incremental)
        if self.early_stopping and incremental:
            raise ValueError("partial_fit does not support early_stopping=True")
        if self.early_stopping:
            train, validation = self._split_validation(X, y, sample_weight)
        else:
            train, validation = (X, y, sample_weight), None

        n_samples = train[0].shape[0]
        if self.batch_size == "auto":
            batch_size = min(200, n_samples)
        else:
            if self.batch_size > n_samples:
                warnings.warn(
                    "Got `batch_size` less than 1 or larger than "
                    "sample size. It is going to be clipped",
                    stacklevel=2,
                )
            batch_size = int(np.clip(self.batch_size, 1, n_samples))

        sample_idx = np.arange(n_samples, dtype=int)
        self._plan_warmup(incremental)
        try:
            self.n_iter_ = 0
            for _ in range(self.max_iter):
                if self.shuffle:
                    sample_idx = shuffle(sample_idx, random_state=self._random_state)
                self._start_epoch(buffers)
                self.loss_ = self._run_epoch(
                    train, sample_idx, batch_size, buffers, optimizer
                )
                self.n_iter_ += 1
                self.t_ += n_samples
                self.loss_curve_.append(self.loss_)
                if self.verbose:
                    print(f"Iteration {self.n_iter_}, loss = {self.loss_:.8f}")
                stop = self._end_epoch(validation, optimizer)
                if self._diverged():
                    self._recover_from_divergence()
                    break
                if stop or incremental:
                    break
                if self.n_iter_ == self.max_iter:
                    warnings.warn(
                        f"Stochastic Optimizer: Maximum iterations ({self.max_iter}) "
                        "reached and the optimization hasn't converged yet.",
                        ConvergenceWarning,
                        stacklevel=2,
                    )
        except KeyboardInterrupt:
            warnings.warn("Training interrupted by user.", stacklevel=2)

        if self.early_stopping:
            self._restore_best_parameters()

    def _parameters_finite(self):
        return all(np.isfinite(p).all() for p in chain(self.coefs_, self.intercepts_))

    def _diverged(self):
        """Whether the last epoch left a non-finite loss or parameters."""
        return not (np.isfinite(self.loss_) and self._parameters_finite())

    def _recover_from_divergence(self):
        """Stop a diverged stochastic fit with the best parameters so far.

        A step size too large for the data's scale makes the loss explode.
        A dense relu network often survives this by accident, when one huge
        step silences every unit at once and leaves a constant predictor; with
        k-winners-take-all the winners of the next batch are units that lost
        before and are still alive, so the explosion goes on from unit to
        unit until it overflows. Instead of raising, the parameters of the
        best epoch (lowest training loss, or best validation score with
        early stopping) are restored, as scikit-learn does for a diverging
        fit with early stopping.
        """
        warnings.warn(
            f"Training diverged in epoch {self.n_iter_} (the loss or the "
            "weights overflowed); the parameters of the best epoch were "
            "restored. Scale the inputs (and targets), or lower "
            "learning_rate_init.",
            ConvergenceWarning,
            stacklevel=3,
        )
        best = self.best_validation_score_ if self.early_stopping else -self.best_loss_
        if not np.isfinite(best):
            what = (
                "a non-finite training loss"
                if self._parameters_finite()
                else "non-finite parameter weights"
            )
            raise ValueError(
                f"Solver produced {what}. The input data may contain large "
                "values and need to be preprocessed."
            )
        self._restore_best_parameters()
        if not self.early_stopping:
            self.loss_ = self.best_loss_

    def _snapshot_best_parameters(self):
        self._best_coefs = [coef.copy() for coef in self.coefs_]
        self._best_intercepts = [b.copy() for b in self.intercepts_]
        if self.activation_thresholds_ is not None:
            self._best_thresholds = self.activation_thresholds_.copy()

    def _restore_best_parameters(self):
        self.coefs_ = [coef.copy() for coef in self._best_coefs]
        self.intercepts_ = [b.copy() for b in self._best_intercepts]
        if self.activation_thresholds_ is not None:
            self.activation_thresholds_ = self._best_thresholds.copy()

    def _start_epoch(self, buffers):
        """Set the epoch's winner counts (sparsity warm-up) and record them."""
        ratios = self._epoch_activation_ratios(len(self.sparsity_curve_))
        buffers.active_units = self._units_for_ratios(ratios)
        self.sparsity_curve_ = np.vstack([self.sparsity_curve_, ratios])

    def _run_epoch(self, train, sample_idx, batch_size, buffers, optimizer):
        """One pass over the training data; returns the mean batch loss."""
        X, y, sample_weight = train
        counter = _FiringCounter([coef.shape[1] for coef in self.coefs_[:-1]])
        accumulated_loss = 0.0
        for batch_slice in gen_batches(X.shape[0], batch_size):
            batch_idx = sample_idx[batch_slice] if self.shuffle else batch_slice
            X_batch = _safe_indexing(X, batch_idx) if self.shuffle else X[batch_idx]
            weights = None if sample_weight is None else sample_weight[batch_idx]
            batch_loss = self._train_step(
                X_batch, y[batch_idx], weights, buffers, optimizer
            )
            accumulated_loss += batch_loss * (batch_slice.stop - batch_slice.start)
            counter.record(buffers.activations[1:-1])
        self._record_epoch_statistics(counter)
        return accumulated_loss / X.shape[0]

    def _train_step(self, X, y, sample_weight, buffers, optimizer):
        """Forward, backward and one optimizer update on a mini-batch."""
        batch_loss = self._backprop(X, y, sample_weight, buffers)
        self._track_thresholds(buffers.observed_thresholds)
        self._update_duty_cycles(buffers)
        optimizer.update_params(
            self.coefs_ + self.intercepts_, buffers.coef_grads + buffers.intercept_grads
        )
        return batch_loss

    def _update_duty_cycles(self, buffers):
        """Fold the batch's winners into each unit's running win fraction."""
        n_rows = buffers.activations[0].shape[0]
        self._duty_cycle_samples = min(
            self._duty_cycle_samples + n_rows, _DUTY_CYCLE_PERIOD
        )
        step = min(1.0, n_rows / self._duty_cycle_samples)
        for duty_cycle, mask in zip(self.duty_cycles_, buffers.masks, strict=True):
            duty_cycle += step * (_win_fraction(mask, n_rows) - duty_cycle)

    def _end_epoch(self, validation, optimizer):
        """Update the stopping state after an epoch; True means stop now."""
        self._boost_strength_now *= self.boost_decay
        self._update_no_improvement_count(validation)
        optimizer.iteration_ends(self.t_)
        if self._no_improvement_count <= self.n_iter_no_change:
            return False
        if validation is not None:
            message = (
                f"Validation score did not improve more than tol={self.tol:f} for "
                f"{self.n_iter_no_change} consecutive epochs."
            )
        else:
            message = (
                f"Training loss did not improve more than tol={self.tol:f} for "
                f"{self.n_iter_no_change} consecutive epochs."
            )
        if optimizer.trigger_stopping(message, self.verbose):
            return True
        self._no_improvement_count = 0
        return False

    def _update_no_improvement_count(self, validation):
        """Count epochs without improvement and keep the best parameters.

        Epochs of the sparsity warm-up are scored but neither counted nor
        kept: while k shrinks the loss rises by design, and parameters
        trained with more winners than prediction uses are not a candidate.
        """
        if validation is not None:
            X_val, y_val, y_val_decoded, sw_val = validation
            output = self._forward_pass_fast(X_val, check_input=False)
            self.validation_loss_curve_.append(self._loss(y_val, output, sw_val))
            score = self._score_output(output, y_val_decoded, sw_val)
            self.validation_scores_.append(score)
            if self.verbose:
                print(f"Validation score: {score:f}")
            if self._warming_up():
                return
            if score < self.best_validation_score_ + self.tol:
                self._no_improvement_count += 1
            else:
                self._no_improvement_count = 0
            if score > self.best_validation_score_:
                self.best_validation_score_ = score
                self._snapshot_best_parameters()
        else:
            if self._warming_up():
                return
            loss = self.loss_curve_[-1]
            if loss > self.best_loss_ - self.tol:
                self._no_improvement_count += 1
            else:
                self._no_improvement_count = 0
            if loss < self.best_loss_:
                self.best_loss_ = loss
                self._snapshot_best_parameters()

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the model to data matrix X and target(s) y.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.

        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            The target values (class labels in classification, real numbers in
            regression).

        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        return self._fit(X, y, sample_weight=sample_weight, incremental=False)

    def _check_solver(self):
        if self.solver not in _STOCHASTIC_SOLVERS:
            raise AttributeError(
                "partial_fit is only available for stochastic optimizers. "
                f"{self.solver} is not stochastic."
            )
        return True

    def _predict(self, X, check_input=True):
        return self._decode_output(self._forward_pass_fast(X, check_input))

    def _score_output(self, output, y_true, sample_weight):
        """Early-stopping score of output activations against decoded targets."""
        y_pred = self._decode_output(output)
        if np.issubdtype(y_pred.dtype, np.floating) and not np.isfinite(y_pred).all():
            return np.nan
        return self._score_function(y_true, y_pred, sample_weight=sample_weight)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags


def _lbfgs_print_option(iprint):
    """L-BFGS-B's ``iprint`` option, which SciPy 1.15 deprecated."""
    return {} if _SCIPY_VERSION >= (1, 15) else {"iprint": iprint}


def _as_row_sliceable(X):
    """CSC input is converted once to CSR so that row batches are cheap."""
    return X.tocsr() if sp.issparse(X) and X.format == "csc" else X
