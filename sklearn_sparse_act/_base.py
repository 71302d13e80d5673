"""Shared base estimator for the sparse-activation multilayer perceptrons.

Training is a chain of small steps, each overridable:
``fit`` -> ``_fit`` -> ``_fit_stochastic`` -> ``_run_epoch`` -> ``_train_step``
-> ``_backprop`` -> ``_forward_pass``; ``_fit_lbfgs`` replaces the epoch loop
for the quasi-Newton solver. The public classifier and regressor only define
how targets are encoded and how outputs are decoded.

The base class keeps validation, the architecture, initialisation and the
prediction entry points; the steps of each concern live in mixins of their
own modules: the sparsity bookkeeping (:mod:`._sparse_layers`), the
stochastic solvers' epochs (:mod:`._stochastic`), L-BFGS (:mod:`._lbfgs`) and
the hidden codes (:mod:`._codes`). The arithmetic is the network core's
(:mod:`._network`); prediction passes are functions of a network and the
fitted rules (:mod:`._prediction`).
"""

from abc import ABC, abstractmethod
from itertools import chain, pairwise
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, _fit_context
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, Options, StrOptions
from sklearn.utils.validation import (
    _check_sample_weight,
    check_is_fitted,
    validate_data,
)

from ._backends import get_backend
from ._codes import SparseCodesMixin
from ._lbfgs import LBFGSSolverMixin
from ._losses import LOSS_FUNCTIONS
from ._network import Network, TrainingBuffers, as_row_sliceable
from ._persistence import VersionStampMixin
from ._prediction import output_of
from ._sparse_layers import SparseLayersMixin
from ._sparsity import SPARSITY_STRATEGIES, InferenceRules
from ._stochastic import StochasticSolverMixin

_STOCHASTIC_SOLVERS = ("sgd", "adam")


class BaseSparseMLP(
    SparseLayersMixin,
    SparseCodesMixin,
    StochasticSolverMixin,
    LBFGSSolverMixin,
    VersionStampMixin,
    BaseEstimator,
    ABC,
):
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
    # Architecture
    # ------------------------------------------------------------------

    def _hidden_layer_sizes(self):
        sizes = self.hidden_layer_sizes
        if not hasattr(sizes, "__iter__"):
            sizes = [sizes]
        sizes = list(sizes)
        if not sizes:
            raise ValueError(
                "hidden_layer_sizes must hold at least one hidden layer, got "
                f"{self.hidden_layer_sizes!r}: without one there are no units to "
                "make sparse (use a linear model instead)."
            )
        if np.any(np.array(sizes) <= 0):
            raise ValueError(f"hidden_layer_sizes must be > 0, got {sizes}.")
        return sizes

    # ------------------------------------------------------------------
    # Forward and backward passes
    # ------------------------------------------------------------------

    def _network(self, backend):
        """The network core over this model's parameters."""
        return Network(
            self.coefs_,
            self.intercepts_,
            self.activation,
            self.out_activation_,
            backend,
        )

    def _forward_pass(self, buffers, sample_weight=None, reuse_masks=False):
        """Training-mode forward pass, filling ``buffers.activations``.

        Each hidden layer's winners are chosen by the sparsity strategy on the
        whole batch and kept in ``buffers.masks``; with ``reuse_masks`` the
        winners already there are applied instead (held winners).
        """
        network = self._network(buffers.backend)
        if reuse_masks:
            return network.forward_train(buffers)

        def choose_rule(layer, values):
            return self._training_rule(layer, values, buffers, sample_weight)

        return network.forward_train(buffers, choose_rule)

    def _loss(self, y, y_pred, sample_weight):
        loss_name = self.loss
        if loss_name == "log_loss" and self.out_activation_ == "logistic":
            loss_name = "binary_log_loss"
        return LOSS_FUNCTIONS[loss_name](y, y_pred, sample_weight)

    def _backprop(self, X, y, sample_weight, buffers, reuse_masks=False):
        """Loss and gradients for one batch; gradients flow through winners only."""
        buffers.activations[0] = X
        self._forward_pass(buffers, sample_weight, reuse_masks=reuse_masks)
        weight_sum = X.shape[0] if sample_weight is None else sample_weight.sum()
        loss = self._loss(y, buffers.activations[-1], sample_weight)
        squared_norm = buffers.backend.squared_norm(self.coefs_)
        loss += (0.5 * self.alpha) * squared_norm / weight_sum
        self._network(buffers.backend).backward(
            y, sample_weight, self.alpha, weight_sum, buffers
        )
        return loss

    # ------------------------------------------------------------------
    # Prediction
    # ------------------------------------------------------------------

    def _inference_rules(self):
        """The fitted prediction-time rules of the hidden layers."""
        return InferenceRules(
            self._strategy_name,
            self.inference_active_units_,
            self.inference_thresholds_,
        )

    def _forward_pass_fast(self, X, check_input=True):
        """Output-layer activations for X, computed in row chunks.

        Every row is computed on its own: 'fixed' keeps each row's top-k and
        'dynamic' compares each pre-activation with the fitted threshold.
        """
        if check_input:
            X = self._validate_prediction_input(X)
        return output_of(
            self._network(get_backend()), self._inference_rules(), as_row_sliceable(X)
        )

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

    def _check_is_fitted(self):
        """``check_is_fitted``, skipping its estimator-tags lookup for a fitted
        model (a tenth of a one-row prediction)."""
        if not self.__sklearn_is_fitted__():
            check_is_fitted(self)

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
        X = as_row_sliceable(X)

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
        with self._training_threads(buffers, X.shape[0]):
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
        with self._training_threads(buffers, X.shape[0]):
            self._settle_thresholds(X, sample_weight, incremental, settled_before)
            self._settle_inference(X)
        self._record_training_winners(X, record_winners=not incremental)
        return self

    def _training_threads(self, buffers, n_samples):
        """The backend's thread assignment for training batches."""
        rows = (
            self._batch_rows(n_samples)
            if self.solver in _STOCHASTIC_SOLVERS
            else n_samples
        )
        network = self._network(buffers.backend)
        return buffers.backend.threads(
            rows, lambda: network.work(self.active_units_, rows, training=True)
        )

    def _training_buffers(self):
        """Fresh per-layer buffers, with the fitted number of winners."""
        return TrainingBuffers(self.n_layers_, get_backend(), list(self.active_units_))

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

    def _parameters_finite(self):
        return all(np.isfinite(p).all() for p in chain(self.coefs_, self.intercepts_))

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
