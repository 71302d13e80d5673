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
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, _fit_context
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, Options, StrOptions
from sklearn.utils.validation import _check_sample_weight, check_is_fitted

from ._backends import get_backend
from ._callbacks import CALLBACK_ATTRIBUTES, FitCallbacksMixin
from ._codes import SparseCodesMixin, hidden_layer_index
from ._connection_storage import CompactConnectionsMixin
from ._connections import (
    check_same_connections,
    initial_parameters,
    kept_inputs,
    layer_weight_densities,
)
from ._fitted_state import FittedState
from ._hidden_sparsity import HiddenSparsity
from ._lbfgs import fit_lbfgs
from ._losses import LOSS_FUNCTIONS
from ._memory import check_fit_memory
from ._network import Network, as_row_sliceable
from ._persistence import VersionStampMixin
from ._prediction import output_of, training_winners, validated_rows
from ._sparsity import SPARSITY_STRATEGIES, InferenceRules, layer_activation_ratios
from ._step_records import ForwardPass, Gradients
from ._stochastic import StochasticSolver, batch_rows, start_training_record

_STOCHASTIC_SOLVERS = ("sgd", "adam")


class BaseSparseMLP(
    SparseCodesMixin,
    CompactConnectionsMixin,
    VersionStampMixin,
    FitCallbacksMixin,
    BaseEstimator,
    ABC,
):
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
        "weight_density": [Interval(Real, 0, 1, closed="right"), "array-like"],
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
        "transform_layer": [Interval(Integral, None, None, closed="neither")],
    }

    @abstractmethod
    def __init__(
        self,
        hidden_layer_sizes,
        activation,
        activation_ratio,
        weight_density,
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
        transform_layer,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.activation_ratio = activation_ratio
        self.weight_density = weight_density
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
        self.transform_layer = transform_layer

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
        if not all(isinstance(size, Integral) for size in sizes):
            raise ValueError(f"hidden_layer_sizes must be integers, got {sizes}.")
        if np.any(np.array(sizes) <= 0):
            raise ValueError(f"hidden_layer_sizes must be > 0, got {sizes}.")
        hidden_layer_index(self.transform_layer, len(sizes), "transform_layer")
        return sizes

    # ------------------------------------------------------------------
    # Fitting: validate, initialise, solve, settle
    # ------------------------------------------------------------------

    def _fit(self, X, y, sample_weight=None, incremental=False):
        """Train on X and y. A fit that raises (a diverging solver, an
        interrupt while settling) leaves the estimator as it found it:
        unfitted, or as its previous fit left it."""
        continuing = hasattr(self, "coefs_") and (self.warm_start or incremental)
        state_before = FittedState(self, continuing, CALLBACK_ATTRIBUTES)
        try:
            return self._fit_steps(X, y, sample_weight, incremental)
        except BaseException:
            state_before.restore(self)
            raise

    def _fit_steps(self, X, y, sample_weight, incremental):
        # Validate.
        hidden_sizes = self._hidden_layer_sizes()
        first_pass = not hasattr(self, "coefs_") or (
            not self.warm_start and not incremental
        )
        y_given, sample_weight_given = y, sample_weight
        X, y, sample_weight = self._validate_training_data(
            X, y, sample_weight, incremental, first_pass
        )
        layer_units = [X.shape[1], *hidden_sizes, y.shape[1]]
        densities = layer_weight_densities(self.weight_density, len(hidden_sizes))
        if not first_pass:
            self._check_architecture(layer_units)
            # A model fitted without the record is fully connected.
            fitted = getattr(self, "_weight_densities", [1.0] * len(hidden_sizes))
            check_same_connections(fitted, densities, self._held_sparse())

        # Initialise: the parameters (first pass), this fit's sparsity, one
        # network, and the per-layer records that every step refills.
        self._random_state = check_random_state(self.random_state)
        if first_pass:
            self._initialize(y, layer_units, densities, X.dtype)
        if self.solver in _STOCHASTIC_SOLVERS:
            start_training_record(self, fresh=first_pass)
        sparsity = self._start_sparsity(hidden_sizes, first_pass)
        network = self._network(get_backend(), training=True)

        # Solve, reporting to the callbacks (an epoch or iteration a subtask).
        tasks = self._fit_tasks(X, y_given, sample_weight_given, incremental)
        with self._training_threads(network, sparsity, X.shape[0]):
            self._solve(network, sparsity, (X, y, sample_weight), incremental, tasks)
        network.check_solution(self.loss_, full_batch=self.solver == "lbfgs")

        # Settle the thresholds on the final weights (held for the passes), find
        # the units compact() keeps (a pass over the rows the settling did not
        # record), publish the state.
        pass_rows = self._pass_rows(X.shape[0])
        held_rows = pass_rows or X.shape[0]
        network = network.holding_weights(sparsity.inference_active_units, held_rows)
        with self._training_threads(network, sparsity, X.shape[0]):
            settled, record = sparsity.settle(
                network, X, sample_weight, incremental, self._random_state, pass_rows
            )
        attributes = sparsity.fitted_attributes(settled)
        rules = self._inference_rules(attributes)
        if not incremental:
            winners = training_winners(network, rules, X, pass_rows, record)
        attributes["_training_winners"] = None if incremental else winners
        vars(self).update(attributes)
        tasks.finish()
        return self

    def _solve(self, network, sparsity, data, incremental, tasks):
        """Solve on ``data`` (X, y, sample_weight); step records freed on return."""
        forward, gradients = ForwardPass(self.n_layers_), Gradients(self.n_layers_)
        parts = (self, network, sparsity, forward, gradients)
        if self.solver in _STOCHASTIC_SOLVERS:
            self._stochastic_solver(*parts).fit(*data, incremental, tasks)
        else:
            fit_lbfgs(*parts, *data, tasks)

    def _pass_rows(self, n_samples):
        """Rows per chunk of the end of fit's passes: a batch; None: prediction's."""
        stochastic = self.solver in _STOCHASTIC_SOLVERS
        return batch_rows(self.batch_size, n_samples) if stochastic else None

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
        fitted_units = [self.coefs_[0].shape[0], *(c.shape[1] for c in self.coefs_)]
        if fitted_units != layer_units:
            raise ValueError(
                "warm_start and partial_fit keep the fitted architecture: the "
                f"model has layer sizes {fitted_units}, but hidden_layer_sizes "
                f"and the data now give {layer_units}. Refit from scratch with "
                "warm_start=False to change it."
            )

    def _initialize(self, y, layer_units, densities, dtype):
        """Set every fitted attribute for a first fit and draw the weights
        (and the hidden layers' connections), if the fit fits in memory."""
        rows, kept = self._step_rows(y.shape[0]), kept_inputs(layer_units, densities)
        check_fit_memory(layer_units, rows, dtype.itemsize, self.solver, kept)
        self.n_iter_ = 0
        self.t_ = 0
        self.n_outputs_ = y.shape[1]
        self.n_layers_ = len(layer_units)
        self.out_activation_ = self._output_activation()
        self.coefs_, self.intercepts_, self.connection_masks_ = initial_parameters(
            layer_units, densities, self.activation, self._random_state, dtype
        )
        self._weight_densities = densities
        self._best_coefs = [coef.copy() for coef in self.coefs_]
        self._best_intercepts = [intercept.copy() for intercept in self.intercepts_]

    def _start_sparsity(self, hidden_sizes, first_pass):
        """This fit's hidden-layer sparsity: fresh, or continuing the fitted one."""
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

    def _network(self, backend, training=False):
        """The network core over this model's parameters (to train them)."""
        return Network(
            self.coefs_,
            self.intercepts_,
            self.activation,
            self.out_activation_,
            backend,
            getattr(self, "connection_masks_", None),
            predicts_over_connections=training,
        )

    def _step_rows(self, n_samples):
        """Rows in one training step: a mini-batch, or all rows (L-BFGS)."""
        stochastic = self.solver in _STOCHASTIC_SOLVERS
        return batch_rows(self.batch_size, n_samples) if stochastic else n_samples

    def _training_threads(self, network, sparsity, n_samples):
        """The backend's thread assignment for training batches."""
        rows = self._step_rows(n_samples)
        return network.backend.threads(
            rows, lambda: network.work(sparsity.active_units, rows, training=True)
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
    def _inference_rules(self, fitted=None):
        """The prediction-time rules of the hidden layers: this model's, or
        those of the ``fitted`` attributes about to be published."""
        fitted = vars(self) if fitted is None else fitted
        names = ("_strategy_name", "inference_active_units_", "inference_thresholds_")
        # A model saved before boost factors were kept predicts without them.
        boost_factors = fitted.get("boost_factors_")
        return InferenceRules(*(fitted[name] for name in names), boost_factors)

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
