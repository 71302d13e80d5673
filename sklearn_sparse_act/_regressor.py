"""SparseMLPRegressor: a multilayer perceptron regressor with sparse hidden
activations."""

import numpy as np
from sklearn.base import RegressorMixin, _fit_context
from sklearn.metrics import r2_score
from sklearn.utils import column_or_1d
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import validate_data

from ._base import BaseSparseMLP
from ._docstrings import fill_shared_docstring


@fill_shared_docstring
class SparseMLPRegressor(RegressorMixin, BaseSparseMLP):
    """Multilayer perceptron regressor whose hidden layers fire sparsely.

    It optimizes the squared error (or the Poisson deviance) with L-BFGS, SGD
    or Adam like scikit-learn's :class:`~sklearn.neural_network.MLPRegressor`,
    but in every hidden layer only ``k`` winners per sample
    (``activation_ratio`` of the units) pass their activation on; all other
    units output 0 and receive no gradient.

    From ``coefs_``, ``intercepts_``, ``inference_active_units_`` and
    ``inference_thresholds_`` alone (equal to ``active_units_`` and
    ``activation_thresholds_`` unless ``inference_ratio_factor > 1``),
    ``predict`` can be recomputed exactly: for each hidden layer compute ``z =
    a @ W + b``, keep the winners given by ``sparsity_strategy`` (below), apply
    ``activation`` to them and set the rest to 0; the output layer applies
    ``out_activation_``.

    Parameters
    ----------
    loss : {'squared_error', 'poisson'}, default='squared_error'
        Half the squared error, or half the Poisson deviance (with an
        exponential output so predictions stay positive), averaged over
        samples and summed over outputs.

    {shared_parameters}

    normalize_y : bool, default=True
        Train on standardized targets, as ``GaussianProcessRegressor`` does
        with ``normalize_y``: each output minus its mean, divided by its
        standard deviation (both weighted by ``sample_weight``; the Poisson
        loss divides by the mean only, so targets stay counts). Predictions
        are mapped back to the original units. The statistics come from the
        first call to ``fit`` or ``partial_fit`` and stay fixed while
        training continues. ``loss_``, ``loss_curve_``, ``best_loss_`` and
        ``validation_loss_curve_`` are in the standardized units; the
        early-stopping ``validation_scores_`` (R^2) are unit-free. With
        ``normalize_y=False`` and ``activation_ratio=1.0`` the model trains
        exactly like :class:`~sklearn.neural_network.MLPRegressor`.

    Attributes
    ----------
    {shared_attributes}

    See Also
    --------
    SparseMLPClassifier : The classification counterpart.
    sklearn.neural_network.MLPRegressor : The dense scikit-learn model.

    Examples
    --------
    >>> from sklearn.datasets import make_regression
    >>> from sklearn.model_selection import train_test_split
    >>> from sklearn_sparse_act import SparseMLPRegressor
    >>> X, y = make_regression(n_samples=300, n_features=10, noise=1.0,
    ...                        random_state=0)
    >>> X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    >>> reg = SparseMLPRegressor(hidden_layer_sizes=(64, 64), activation="tanh",
    ...                          activation_ratio=[0.25, 0.5], solver="lbfgs",
    ...                          random_state=0).fit(X_train, y_train)
    >>> reg.active_units_  # round(0.25 * 64) and round(0.5 * 64)
    [16, 32]
    >>> reg.score(X_test, y_test) > 0.9  # held-out R^2 above 0.9
    True
    """

    _parameter_constraints: dict = {
        **BaseSparseMLP._parameter_constraints,
        "loss": [StrOptions({"squared_error", "poisson"})],
        "normalize_y": ["boolean"],
    }

    def __init__(
        self,
        loss="squared_error",
        hidden_layer_sizes=(100,),
        activation="relu",
        *,
        activation_ratio="auto",
        weight_density=1.0,
        sparsity_strategy="fixed",
        boost_strength=0.0,
        boost_decay=1.0,
        inference_ratio_factor=1.0,
        sparsity_warmup=0,
        solver="adam",
        alpha=0.0001,
        batch_size="auto",
        learning_rate="constant",
        learning_rate_init="auto",
        power_t=0.5,
        max_iter=200,
        shuffle=True,
        random_state=None,
        tol=1e-4,
        verbose=False,
        warm_start=False,
        momentum=0.9,
        nesterovs_momentum=True,
        early_stopping=False,
        validation_fraction=0.1,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        n_iter_no_change=10,
        max_fun=15000,
        normalize_y=True,
        transform_layer=-1,
    ):
        self.normalize_y = normalize_y
        super().__init__(
            hidden_layer_sizes=hidden_layer_sizes,
            activation=activation,
            activation_ratio=activation_ratio,
            weight_density=weight_density,
            sparsity_strategy=sparsity_strategy,
            boost_strength=boost_strength,
            boost_decay=boost_decay,
            inference_ratio_factor=inference_ratio_factor,
            sparsity_warmup=sparsity_warmup,
            solver=solver,
            alpha=alpha,
            batch_size=batch_size,
            learning_rate=learning_rate,
            learning_rate_init=learning_rate_init,
            power_t=power_t,
            max_iter=max_iter,
            loss=loss,
            shuffle=shuffle,
            random_state=random_state,
            tol=tol,
            verbose=verbose,
            warm_start=warm_start,
            momentum=momentum,
            nesterovs_momentum=nesterovs_momentum,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            beta_1=beta_1,
            beta_2=beta_2,
            epsilon=epsilon,
            n_iter_no_change=n_iter_no_change,
            max_fun=max_fun,
            transform_layer=transform_layer,
        )

    def _validate_input(self, X, y, incremental, reset):
        X, y = validate_data(
            self,
            X,
            y,
            accept_sparse=["csr", "csc"],
            multi_output=True,
            y_numeric=True,
            dtype=(np.float64, np.float32),
            reset=reset,
        )
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        if self.loss == "poisson" and np.any(y < 0):
            raise ValueError(
                "Some value(s) of y are negative which is not allowed for "
                "Poisson regression."
            )
        return X, y

    def _scale_targets(self, y, sample_weight, first_pass):
        """Standardize the targets with ``normalize_y`` (statistics from the
        first fit or partial_fit call, weighted by ``sample_weight``)."""
        if first_pass:
            self._y_train_mean, self._y_train_std = self._target_statistics(
                y, sample_weight
            )
        if self._y_train_mean is None:
            return y
        return (y - self._y_train_mean) / self._y_train_std

    def _target_statistics(self, y, sample_weight):
        """(shift, scale) per output that normalize_y applies, or (None, None).

        Squared error: the weighted mean and standard deviation (a constant
        output keeps scale 1). Poisson: no shift and the weighted mean as the
        scale, so the targets stay non-negative counts of unit mean.
        """
        if not self.normalize_y:
            return None, None
        if not np.issubdtype(y.dtype, np.floating):
            y = y.astype(np.float64)
        mean = np.average(y, axis=0, weights=sample_weight)
        if self.loss == "poisson":
            scale = np.where(mean > 0, mean, 1.0)
            return np.zeros_like(mean), scale.astype(y.dtype)
        with np.errstate(over="ignore"):  # an overflow is handled below
            variance = np.average((y - mean) ** 2, axis=0, weights=sample_weight)
        if not (np.isfinite(mean).all() and np.isfinite(variance).all()):
            # Finite targets whose squares (or sum) overflow: the statistics
            # of the targets over their largest magnitude, scaled back.
            magnitude = np.max(np.abs(y), axis=0)
            magnitude = np.where(magnitude > 0, magnitude, 1.0)
            mean, scale = self._target_statistics(y / magnitude, sample_weight)
            return mean * magnitude, scale * magnitude
        scale = np.sqrt(variance)
        scale = np.where(scale > np.finfo(y.dtype).eps * np.abs(mean), scale, 1.0)
        return mean.astype(y.dtype), scale.astype(y.dtype)

    def _output_activation(self):
        return "exp" if self.loss == "poisson" else "identity"

    _score_function = staticmethod(r2_score)

    def predict(self, X):
        """Predict using the sparse multilayer perceptron.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            The predicted values.
        """
        self._check_is_fitted()
        return self._predict(X)

    def _decode_output(self, output):
        if getattr(self, "_y_train_mean", None) is not None:
            scaled = output * self._y_train_std + self._y_train_mean
            output = scaled.astype(output.dtype, copy=False)
        return output.ravel() if output.shape[1] == 1 else output

    @available_if(lambda est: est._check_solver())
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None):
        """Update the model with one epoch over the given data.

        Only available with the 'sgd' and 'adam' solvers.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.

        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            The target values.

        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.

        Returns
        -------
        self : object
            The updated estimator.
        """
        return self._fit(X, y, sample_weight=sample_weight, incremental=True)
