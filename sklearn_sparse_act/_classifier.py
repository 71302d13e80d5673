"""SparseMLPClassifier: a multilayer perceptron classifier with sparse hidden
activations."""

import numpy as np
from sklearn.base import ClassifierMixin, _fit_context
from sklearn.metrics import accuracy_score
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils import column_or_1d
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.class_weight import compute_sample_weight
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import (
    _check_partial_fit_first_call,
    check_classification_targets,
    type_of_target,
    unique_labels,
)
from sklearn.utils.validation import validate_data

from ._base import BaseSparseMLP
from ._docstrings import fill_shared_docstring


@fill_shared_docstring
class SparseMLPClassifier(ClassifierMixin, BaseSparseMLP):
    """Multilayer perceptron classifier whose hidden layers fire sparsely.

    It optimizes the log-loss with L-BFGS, SGD or Adam like scikit-learn's
    :class:`~sklearn.neural_network.MLPClassifier`, but in every hidden layer
    only ``k`` winners per sample (``activation_ratio`` of the units) pass
    their activation on; all other units output 0 and receive no gradient.

    From ``coefs_``, ``intercepts_``, ``inference_active_units_`` and
    ``inference_thresholds_`` alone (equal to ``active_units_`` and
    ``activation_thresholds_`` unless ``inference_ratio_factor > 1``),
    ``predict_proba`` can be recomputed exactly: for each hidden layer compute
    ``z = a @ W + b``, keep the winners given by ``sparsity_strategy`` (below),
    apply ``activation`` to them and set the rest to 0; the output layer
    applies ``out_activation_``.

    Parameters
    ----------
    {shared_parameters}

    class_weight : dict, 'balanced' or None, default=None
        Weights of the classes, ``{class_label: weight}``; 'balanced' uses
        ``n_samples / (n_classes * np.bincount(y))``. They multiply
        ``sample_weight``, as in scikit-learn's linear classifiers. partial_fit
        accepts a dict but not 'balanced'.

    Attributes
    ----------
    classes_ : ndarray or list of ndarray of shape (n_classes,)
        Class labels for each output.

    {shared_attributes}

    See Also
    --------
    SparseMLPRegressor : The regression counterpart.
    sklearn.neural_network.MLPClassifier : The dense scikit-learn model.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.model_selection import train_test_split
    >>> from sklearn_sparse_act import SparseMLPClassifier
    >>> X, y = load_digits(return_X_y=True)
    >>> X_train, X_test, y_train, y_test = train_test_split(X / 16, y, random_state=0)
    >>> clf = SparseMLPClassifier(hidden_layer_sizes=(128,), activation_ratio=0.1,
    ...                           max_iter=50, random_state=0).fit(X_train, y_train)
    >>> clf.active_units_  # k = round(0.1 * 128) winners per sample
    [13]
    >>> code = clf.hidden_activations(X_test)  # the hidden layer's sparse code
    >>> code.shape, int(code.getnnz(axis=1).max())  # never more than k fire
    ((450, 128), 13)
    >>> clf.active_fraction_.round(2)  # non-zero share in the last epoch
    array([0.1])
    >>> clf.predict(X_test[:5]), y_test[:5]
    (array([2, 8, 2, 6, 6]), array([2, 8, 2, 6, 6]))
    >>> clf.score(X_test, y_test) > 0.9  # held-out accuracy above 90%
    True
    """

    _parameter_constraints: dict = {
        **BaseSparseMLP._parameter_constraints,
        "class_weight": [dict, StrOptions({"balanced"}), None],
    }

    def __init__(
        self,
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
        class_weight=None,
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
        transform_layer=-1,
    ):
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
            loss="log_loss",
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
        self.class_weight = class_weight

    def _validate_input(self, X, y, incremental, reset):
        X, y = validate_data(
            self,
            X,
            y,
            accept_sparse=["csr", "csc"],
            multi_output=True,
            dtype=(np.float64, np.float32),
            reset=reset,
        )
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        check_classification_targets(y)

        if not hasattr(self, "classes_") or (not self.warm_start and not incremental):
            self._label_binarizer = LabelBinarizer()
            self._label_binarizer.fit(y)
            self.classes_ = self._label_binarizer.classes_
        else:
            classes = unique_labels(y)
            if self.warm_start:
                if set(classes) != set(self.classes_):
                    raise ValueError(
                        "warm_start can only be used where `y` has the same "
                        "classes as in the previous call to fit. Previously "
                        f"got {self.classes_}, `y` has {classes}"
                    )
            elif len(np.setdiff1d(classes, self.classes_, assume_unique=True)):
                raise ValueError(
                    "`y` has classes not in `self.classes_`. "
                    f"`self.classes_` has {self.classes_}. 'y' has {classes}."
                )
        # Booleans keep float32 training in float32.
        return X, self._label_binarizer.transform(y).astype(bool)

    def _output_activation(self):
        if self._label_binarizer.y_type_ == "multiclass":
            return "softmax"
        return "logistic"

    _score_function = staticmethod(accuracy_score)

    def predict(self, X):
        """Predict class labels.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_classes)
            The predicted classes.
        """
        self._check_is_fitted()
        return self._predict(X)

    def _decode_output(self, output):
        if self.n_outputs_ == 1:
            output = output.ravel()
        return self._label_binarizer.inverse_transform(output)

    def _target_sample_weight(self, y, incremental):
        """Sample weights from ``class_weight``, as linear classifiers use them."""
        if self.class_weight is None:
            return None
        if incremental and self.class_weight == "balanced":
            raise ValueError(
                "class_weight='balanced' is not supported by partial_fit: one "
                "chunk does not show the class frequencies. Compute them once "
                "with sklearn.utils.class_weight.compute_class_weight on (a "
                "large sample of) all targets and pass the resulting dict."
            )
        labels = self._label_binarizer.inverse_transform(
            y.ravel() if y.shape[1] == 1 else y
        )
        return compute_sample_weight(self.class_weight, labels)

    @available_if(lambda est: est._check_solver())
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None, classes=None):
        """Update the model with one epoch over the given data.

        Only available with the 'sgd' and 'adam' solvers.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.

        y : array-like of shape (n_samples,) or (n_samples, n_classes)
            The target values.

        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.

        classes : array of shape (n_classes,), default=None
            All classes across the calls to partial_fit; required on the first
            call, ignored afterwards.

        Returns
        -------
        self : object
            The updated estimator.
        """
        if _check_partial_fit_first_call(self, classes):
            self._label_binarizer = LabelBinarizer()
            if type_of_target(y).startswith("multilabel"):
                self._label_binarizer.fit(y)
            else:
                self._label_binarizer.fit(classes)
        return self._fit(X, y, sample_weight=sample_weight, incremental=True)

    def predict_log_proba(self, X):
        """Logarithm of the class probabilities.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        log_y_prob : ndarray of shape (n_samples, n_classes)
            ``log(predict_proba(X))``, classes ordered as in ``classes_``.
        """
        y_prob = self.predict_proba(X)
        return np.log(y_prob, out=y_prob)

    def predict_proba(self, X):
        """Class probabilities.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        y_prob : ndarray of shape (n_samples, n_classes)
            Probability of each class, ordered as in ``classes_``. Binary and
            multilabel probabilities are clipped to ``[eps, 1 - eps]`` of
            their dtype, so none is exactly 0 or 1.
        """
        self._check_is_fitted()
        y_pred = self._forward_pass_fast(X)
        if self.out_activation_ == "logistic":
            # A saturated sigmoid rounds to exactly 0 or 1; keep every
            # probability inside (0, 1), as the log-loss sees it.
            eps = np.finfo(y_pred.dtype).eps
            np.clip(y_pred, eps, 1 - eps, out=y_pred)
        if self.n_outputs_ == 1:
            y_pred = y_pred.ravel()
        if y_pred.ndim == 1:
            if len(self.classes_) == 1:
                # Only one class was seen in fit: predict always returns it.
                return np.ones((y_pred.shape[0], 1), dtype=y_pred.dtype)
            return np.vstack([1 - y_pred, y_pred]).T
        return y_pred

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags
