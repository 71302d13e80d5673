"""Shared base estimator for the sparse-activation multilayer perceptrons.

Training is a chain of small steps, each overridable:
``fit`` -> ``_fit`` -> ``_fit_stochastic`` -> ``_run_epoch`` -> ``_train_step``
-> ``_backprop`` -> ``_forward_pass``; ``_fit_lbfgs`` replaces the epoch loop
for the quasi-Newton solver. The public classifier and regressor only define
how targets are encoded and how outputs are decoded.
"""

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
from sklearn.utils._chunking import get_chunk_n_rows
from sklearn.utils._param_validation import Interval, Options, StrOptions
from sklearn.utils.extmath import safe_sparse_dot
from sklearn.utils.optimize import _check_optimize_result
from sklearn.utils.validation import _check_sample_weight, validate_data

from ._activations import ACTIVATIONS, DERIVATIVES
from ._losses import LOSS_FUNCTIONS
from ._optimizers import OPTIMIZERS
from ._persistence import VersionStampMixin
from ._sparsity import SPARSITY_STRATEGIES, n_active_units

_STOCHASTIC_SOLVERS = ("sgd", "adam")
_SCIPY_VERSION = tuple(int(part) for part in scipy.__version__.split(".")[:2])

# Weight of the previous value in the running average of a 'dynamic' layer's
# threshold: each training batch moves the threshold 10% of the way towards
# the smallest pre-activation that batch kept.
_THRESHOLD_MOMENTUM = 0.9


@dataclass
class _TrainingBuffers:
    """Per-layer arrays reused by every training step.

    ``activations[0]`` is the input batch and ``activations[i + 1]`` the output
    of layer ``i``; ``masks[i]`` holds hidden layer ``i``'s winners (None for a
    dense layer); ``observed_thresholds[i]`` the threshold the last forward pass
    saw in hidden layer ``i`` ('dynamic' only).
    """

    n_layers: int
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
            count += np.count_nonzero(output, axis=0)

    def active_fraction(self):
        return np.array(
            [count.sum() / (self.n_samples * count.size) for count in self.counts]
        )

    def dead_units(self):
        return np.array([np.count_nonzero(count == 0) for count in self.counts])


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
        "activation_ratio": [Interval(Real, 0, 1, closed="right"), "array-like"],
        "sparsity_strategy": [StrOptions(set(SPARSITY_STRATEGIES))],
        "solver": [StrOptions({"lbfgs", "sgd", "adam"})],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "batch_size": [
            StrOptions({"auto"}),
            Interval(Integral, 1, None, closed="left"),
        ],
        "learning_rate": [StrOptions({"constant", "invscaling", "adaptive"})],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
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
    def _score(self, X, y, sample_weight=None):
        """Score used for early stopping, without input validation."""

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

    def _layer_activation_ratios(self, n_hidden):
        """One activation ratio per hidden layer, checked."""
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
        """Set ``active_units_`` and the threshold state for this fit."""
        ratios = self._layer_activation_ratios(len(hidden_sizes))
        self.active_units_ = [
            n_active_units(ratio, width)
            for ratio, width in zip(ratios, hidden_sizes, strict=True)
        ]
        self._strategy_name = self.sparsity_strategy
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
                    n_active = self.active_units_[layer]
                    if n_active == values.shape[1]:
                        buffers.masks[layer] = None
                    else:
                        mask, threshold = strategy.training_mask(
                            values, n_active, sample_weight
                        )
                        buffers.masks[layer] = mask
                        buffers.observed_thresholds[layer] = threshold
                hidden_activation(values)
                if buffers.masks[layer] is not None:
                    values *= buffers.masks[layer]
            activations[layer + 1] = values
        return activations

    def _loss(self, y, y_pred, sample_weight):
        loss_name = self.loss
        if loss_name == "log_loss" and self.out_activation_ == "logistic":
            loss_name = "binary_log_loss"
        return LOSS_FUNCTIONS[loss_name](y, y_pred, sample_weight)

    def _layer_gradient(self, layer, weight_sum, buffers):
        """Gradient of the penalised loss for one layer's weights and biases."""
        grad = safe_sparse_dot(buffers.activations[layer].T, buffers.deltas[layer])
        grad += self.alpha * self.coefs_[layer]
        grad /= weight_sum
        buffers.coef_grads[layer] = grad
        buffers.intercept_grads[layer] = buffers.deltas[layer].sum(axis=0) / weight_sum

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
        for layer in range(last, 0, -1):
            deltas[layer - 1] = safe_sparse_dot(deltas[layer], self.coefs_[layer].T)
            if buffers.masks[layer - 1] is not None:
                deltas[layer - 1] *= buffers.masks[layer - 1]
            derivative(activations[layer], deltas[layer - 1])
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
            X = validate_data(self, X, accept_sparse=["csr", "csc"], reset=False)
        X = _as_row_sliceable(X)
        n_samples = X.shape[0]
        dtype = self.coefs_[0].dtype
        widest = max(coef.shape[1] for coef in self.coefs_)
        chunk_rows = get_chunk_n_rows(
            row_bytes=3 * widest * dtype.itemsize, max_n_rows=max(n_samples, 1)
        )
        output = np.empty((n_samples, self.n_outputs_), dtype=np.result_type(X, dtype))
        for rows in gen_batches(n_samples, chunk_rows):
            output[rows] = self._forward_rows(X[rows])
        return output

    def _forward_rows(self, X):
        """Prediction-mode forward pass for one chunk of rows."""
        strategy = SPARSITY_STRATEGIES[self._strategy_name]
        hidden_activation = ACTIVATIONS[self.activation]
        thresholds = self.activation_thresholds_
        values = X
        last = self.n_layers_ - 2
        for layer in range(self.n_layers_ - 1):
            values = safe_sparse_dot(values, self.coefs_[layer])
            values += self.intercepts_[layer]
            if layer == last:
                break
            n_active = self.active_units_[layer]
            mask = None
            if n_active < values.shape[1]:
                threshold = None if thresholds is None else thresholds[layer]
                mask = strategy.inference_mask(values, n_active, threshold)
            hidden_activation(values)
            if mask is not None:
                values *= mask
        ACTIVATIONS[self.out_activation_](values)
        return values

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
                self.best_validation_score_ = -np.inf
                self.best_loss_ = None
            else:
                self.best_loss_ = np.inf
                self.validation_scores_ = None
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
        X = _as_row_sliceable(X)

        layer_units = [X.shape[1], *hidden_sizes, y.shape[1]]
        if not first_pass:
            self._check_architecture(layer_units)
        self._random_state = check_random_state(self.random_state)
        if first_pass:
            self._initialize(y, layer_units, X.dtype)
        self._prepare_sparsity(hidden_sizes, first_pass)

        buffers = _TrainingBuffers(len(layer_units))
        if self.solver in _STOCHASTIC_SOLVERS:
            self._fit_stochastic(X, y, sample_weight, buffers, incremental)
        else:
            self._fit_lbfgs(X, y, sample_weight, buffers, layer_units)

        if not all(np.isfinite(w).all() for w in chain(self.coefs_, self.intercepts_)):
            raise ValueError(
                "Solver produced non-finite parameter weights. The input data may"
                " contain large values and need to be preprocessed."
            )
        return self

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

    def _track_thresholds(self, observed, smoothing):
        """Fold the thresholds seen by the last training forward pass into
        ``activation_thresholds_`` (running average; ``smoothing=0`` replaces)."""
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
                    smoothing * current + (1 - smoothing) * value
                )

    def _fit_lbfgs(self, X, y, sample_weight, buffers, layer_units):
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
        result = scipy.optimize.minimize(
            self._loss_grad_lbfgs,
            _pack(self.coefs_, self.intercepts_),
            method="L-BFGS-B",
            jac=True,
            options={
                "maxfun": self.max_fun,
                "maxiter": self.max_iter,
                "gtol": self.tol,
                **_lbfgs_print_option(iprint),
            },
            args=(X, y, sample_weight, buffers),
        )
        self.n_iter_ = _check_optimize_result("lbfgs", result, self.max_iter)
        self.loss_ = result.fun
        self._unpack(result.x)
        del self._coef_slices, self._intercept_slices
        if not np.isfinite(self.loss_):
            raise ValueError(
                "Solver produced a non-finite training loss. The input data may"
                " contain large values and need to be preprocessed."
            )

        # One more training-mode pass at the solution settles the thresholds
        # and the firing statistics.
        buffers.activations[0] = X
        self._forward_pass(buffers, sample_weight)
        self._track_thresholds(buffers.observed_thresholds, smoothing=0.0)
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
        self._unpack(packed)
        loss = self._backprop(X, y, sample_weight, buffers)
        return loss, _pack(buffers.coef_grads, buffers.intercept_grads)

    def _make_optimizer(self, incremental):
        """The solver's optimizer around the stored (or a fresh) state."""
        params = self.coefs_ + self.intercepts_
        optimizer_class = OPTIMIZERS[self.solver]
        if not incremental or getattr(self, "_optimizer_state", None) is None:
            self._optimizer_state = optimizer_class.initial_state(
                params, self.learning_rate_init
            )
        if self.solver == "sgd":
            return optimizer_class(
                self._optimizer_state,
                self.learning_rate_init,
                self.learning_rate,
                self.momentum,
                self.nesterovs_momentum,
                self.power_t,
            )
        return optimizer_class(
            self._optimizer_state,
            self.learning_rate_init,
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
        if is_classifier(self):
            y_val = self._label_binarizer.inverse_transform(y_val)
        return (X_train, y_train, sw_train), (X_val, y_val, sw_val)

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
        try:
            self.n_iter_ = 0
            for _ in range(self.max_iter):
                if self.shuffle:
                    sample_idx = shuffle(sample_idx, random_state=self._random_state)
                self.loss_ = self._run_epoch(
                    train, sample_idx, batch_size, buffers, optimizer
                )
                self.n_iter_ += 1
                self.t_ += n_samples
                self.loss_curve_.append(self.loss_)
                if self.verbose:
                    print(f"Iteration {self.n_iter_}, loss = {self.loss_:.8f}")
                if self._end_epoch(validation, optimizer) or incremental:
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
            self.coefs_ = self._best_coefs
            self.intercepts_ = self._best_intercepts
            if self.activation_thresholds_ is not None:
                self.activation_thresholds_ = self._best_thresholds

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
        self._track_thresholds(buffers.observed_thresholds, _THRESHOLD_MOMENTUM)
        optimizer.update_params(
            self.coefs_ + self.intercepts_, buffers.coef_grads + buffers.intercept_grads
        )
        return batch_loss

    def _end_epoch(self, validation, optimizer):
        """Update the stopping state after an epoch; True means stop now."""
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
        if validation is not None:
            X_val, y_val, sw_val = validation
            score = self._score(X_val, y_val, sample_weight=sw_val)
            self.validation_scores_.append(score)
            if self.verbose:
                print(f"Validation score: {score:f}")
            if score < self.best_validation_score_ + self.tol:
                self._no_improvement_count += 1
            else:
                self._no_improvement_count = 0
            if score > self.best_validation_score_:
                self.best_validation_score_ = score
                self._best_coefs = [coef.copy() for coef in self.coefs_]
                self._best_intercepts = [b.copy() for b in self.intercepts_]
                if self.activation_thresholds_ is not None:
                    self._best_thresholds = self.activation_thresholds_.copy()
        else:
            if self.loss_curve_[-1] > self.best_loss_ - self.tol:
                self._no_improvement_count += 1
            else:
                self._no_improvement_count = 0
            self.best_loss_ = min(self.best_loss_, self.loss_curve_[-1])

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

    def _score_with_function(self, X, y, sample_weight, score_function):
        """Score without input validation (keeps feature names intact)."""
        y_pred = self._predict(X, check_input=False)
        if np.issubdtype(y_pred.dtype, np.floating) and not np.isfinite(y_pred).all():
            return np.nan
        return score_function(y, y_pred, sample_weight=sample_weight)

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
