"""Shared base estimator for the sparse-activation multilayer perceptrons.

A fit reads top to bottom in :meth:`BaseSparseMLP._fit`: validate the data,
initialise the parameters and the hidden layers' sparsity, solve, settle.
The estimator is a composition:

- :class:`~._network.Network` does the arithmetic over the estimator's
  ``coefs_`` and ``intercepts_`` (:mod:`._network`, kernels in
  :mod:`._backends`);
- :class:`~._hidden_sparsity.HiddenSparsity` owns the sparsity of the hidden
  layers during a fit, and gives back the fitted attributes it describes;
- the solvers receive both: :class:`~._stochastic.StochasticSolver` ('sgd',
  'adam'; a chain of small overridable steps, chosen by the class attribute
  ``_stochastic_solver``) and :func:`~._lbfgs.fit_lbfgs`.

Prediction passes are functions of a network and the fitted rules
(:mod:`._prediction`); the hidden codes and compaction are the public methods
of :class:`~._codes.SparseCodesMixin`. The public classifier and regressor
only define how targets are encoded and how outputs are decoded.
"""

from abc import ABC, abstractmethod
from itertools import pairwise
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, _fit_context
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, Options, StrOptions
from sklearn.utils.validation import _check_sample_weight, check_is_fitted

from ._backends import get_backend
from ._codes import SparseCodesMixin
from ._hidden_sparsity import HiddenSparsity, layer_activation_ratios
from ._lbfgs import fit_lbfgs
from ._losses import LOSS_FUNCTIONS
from ._network import ForwardPass, Gradients, Network, as_row_sliceable
from ._persistence import VersionStampMixin
from ._prediction import output_of, training_winners, validated_rows
from ._sparsity import SPARSITY_STRATEGIES, InferenceRules
from ._stochastic import StochasticSolver, batch_rows

_STOCHASTIC_SOLVERS = ("sgd", "adam")


class BaseSparseMLP(SparseCodesMixin, VersionStampMixin, BaseEstimator, ABC):
    """Base class for sparse-activation MLP classification and regression.

    Do not use it directly; use :class:`SparseMLPClassifier` or
    :class:`SparseMLPRegressor`.
    """

    # The stochastic solvers' training loop; a subclass of it can replace any
    # of its steps.
    _stochastic_solver = StochasticSolver

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

    def _loss_function(self):
        """The training loss, paired with the output activation."""
        loss_name = self.loss
        if loss_name == "log_loss" and self.out_activation_ == "logistic":
            loss_name = "binary_log_loss"
        return LOSS_FUNCTIONS[loss_name]

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
    # Fitting: validate, initialise, solve, settle
    # ------------------------------------------------------------------

    def _fit(self, X, y, sample_weight=None, incremental=False):
        """Train on X and y. A first fit that raises (a diverging solver, an
        interrupt while settling) leaves the estimator as unfitted as it found
        it."""
        if hasattr(self, "coefs_"):
            return self._fit_steps(X, y, sample_weight, incremental)
        attributes_before = set(vars(self))
        try:
            return self._fit_steps(X, y, sample_weight, incremental)
        except BaseException:
            for name in set(vars(self)) - attributes_before:
                delattr(self, name)
            raise

    def _fit_steps(self, X, y, sample_weight, incremental):
        # Validate.
        hidden_sizes = self._hidden_layer_sizes()
        first_pass = not hasattr(self, "coefs_") or (
            not self.warm_start and not incremental
        )
        X, y, sample_weight = self._validate_training_data(
            X, y, sample_weight, incremental, first_pass
        )
        layer_units = [X.shape[1], *hidden_sizes, y.shape[1]]
        if not first_pass:
            self._check_architecture(layer_units)

        # Initialise: the parameters (first pass), this fit's sparsity, one
        # network, and the per-layer records that every step refills.
        self._random_state = check_random_state(self.random_state)
        if first_pass:
            self._initialize(y, layer_units, X.dtype)
        sparsity = self._start_sparsity(hidden_sizes, first_pass)
        network = self._network(get_backend())
        forward, gradients = ForwardPass(self.n_layers_), Gradients(self.n_layers_)

        # Solve.
        with self._training_threads(network, sparsity, X.shape[0]):
            if self.solver in _STOCHASTIC_SOLVERS:
                solver = self._stochastic_solver(
                    self, network, sparsity, forward, gradients
                )
                solver.fit(X, y, sample_weight, incremental)
            else:
                fit_lbfgs(
                    self, network, sparsity, forward, gradients, X, y, sample_weight
                )
        self._check_solution(network)

        # Settle the thresholds on the final weights; keep the sparsity's state.
        with self._training_threads(network, sparsity, X.shape[0]):
            sparsity.settle(
                network,
                X,
                sample_weight,
                incremental,
                self._random_state,
                self._pass_rows(X.shape[0]),
            )
        for name, value in sparsity.fitted_attributes().items():
            setattr(self, name, value)
        # The units compact() keeps. A prediction pass assigns its own
        # threads, so this runs outside the training's.
        self._training_winners = None
        if not incremental:
            self._training_winners = training_winners(
                network, self._inference_rules(), X, self._pass_rows(X.shape[0])
            )
        return self

    def _pass_rows(self, n_samples):
        """Rows per chunk of the end of fit's passes over the training data:
        a stochastic batch (a step's memory); None: prediction's chunks."""
        if self.solver in _STOCHASTIC_SOLVERS:
            return batch_rows(self.batch_size, n_samples)
        return None

    def _validate_training_data(self, X, y, sample_weight, incremental, first_pass):
        """X, y (2d, scaled as the network learns it) and the sample weights
        (with the targets' own weights folded in)."""
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
        return as_row_sliceable(X), y, sample_weight

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

    def _start_sparsity(self, hidden_sizes, first_pass):
        """The hidden layers' sparsity for this fit: fresh on a first pass,
        otherwise continuing this model's fitted state."""
        sparsity = HiddenSparsity(
            self.sparsity_strategy,
            hidden_sizes,
            layer_activation_ratios(self.activation_ratio, hidden_sizes),
            inference_ratio_factor=self.inference_ratio_factor,
            boost_strength=self.boost_strength,
            boost_decay=self.boost_decay,
            sparsity_warmup=self.sparsity_warmup,
            fitted=None if first_pass else vars(self),
            backend=get_backend(),
        )
        # The best epoch's thresholds start as the starting ones (early
        # stopping restores them with the best epoch's weights).
        if sparsity.thresholds is not None and (
            getattr(self, "_best_thresholds", None) is None
        ):
            self._best_thresholds = sparsity.thresholds.copy()
        return sparsity

    def _network(self, backend):
        """The network core over this model's parameters."""
        return Network(
            self.coefs_,
            self.intercepts_,
            self.activation,
            self.out_activation_,
            backend,
        )

    def _training_threads(self, network, sparsity, n_samples):
        """The backend's thread assignment for training batches."""
        rows = (
            batch_rows(self.batch_size, n_samples)
            if self.solver in _STOCHASTIC_SOLVERS
            else n_samples
        )
        return network.backend.threads(
            rows, lambda: network.work(sparsity.active_units, rows, training=True)
        )

    def _check_solution(self, network):
        """Raise if the solver left non-finite weights (or, for L-BFGS, a
        non-finite loss)."""
        if not network.parameters_finite():
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
            X = validated_rows(self, X)
        return output_of(
            self._network(get_backend()), self._inference_rules(), as_row_sliceable(X)
        )

    def __sklearn_is_fitted__(self):
        # The sparsity's attributes are set when a fit has settled: a first
        # fit that raised before leaves weights behind, but no fitted model.
        return hasattr(self, "inference_active_units_")

    def _check_is_fitted(self):
        """``check_is_fitted``, skipping its estimator-tags lookup for a fitted
        model (a tenth of a one-row prediction)."""
        if not self.__sklearn_is_fitted__():
            check_is_fitted(self)

    def _predict(self, X, check_input=True):
        return self._decode_output(self._forward_pass_fast(X, check_input))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags
