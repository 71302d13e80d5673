"""A fit either completes or leaves the estimator as it found it.

A fit changes the estimator's attributes as it goes: the training loop
updates the weights, the optimizer state, the duty cycles and the running
'dynamic' thresholds in place, and the end of the fit publishes the settled
sparsity. An exception that escapes a fit (a diverging solver, bad data
found late, or a Ctrl-C while the end-of-fit passes run) must not leave a
model that mixes the old state with the new. :class:`FittedState` records
the estimator's attributes before the fit and puts them back when the fit
raises: a first fit leaves the estimator unfitted, a later ``fit``,
``warm_start`` or ``partial_fit`` leaves it exactly as the previous fit left
it. A Ctrl-C inside the stochastic solvers' training loop is not an escaping
exception: the solver stops and the fit completes with the weights trained
so far, as in scikit-learn.

It needs only the estimator's ``get_params``, and the names of attributes
that belong to someone else (scikit-learn's callback API), which it neither
records nor restores.
"""

import copy


class FittedState:
    """The estimator's attributes before a fit, to restore if the fit raises.

    Parameters
    ----------
    estimator : BaseSparseMLP
        The estimator about to be fitted.
    continuing : bool
        Whether the fit continues the estimator's fitted state
        (``warm_start`` or ``partial_fit`` of a fitted model). Such a fit
        updates the fitted arrays in place, so they are copied; a fit that
        starts afresh replaces them, so they are kept by reference.
    untouched : frozenset of str, default=frozenset()
        Attributes that are not the estimator's fitted state (the callbacks
        set on it, the state of a fit's callbacks): left as they are.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn_sparse_act import SparseMLPClassifier
    >>> from sklearn_sparse_act._fitted_state import FittedState
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = SparseMLPClassifier(hidden_layer_sizes=(8,), max_iter=5,
    ...                           random_state=0).fit(X, y)
    >>> before = FittedState(clf, continuing=True)
    >>> clf.coefs_[0][0, 0] = 100.0
    >>> clf.extra_ = 1
    >>> before.restore(clf)
    >>> float(clf.coefs_[0][0, 0]) != 100.0, hasattr(clf, "extra_")
    (True, False)
    """

    def __init__(self, estimator, continuing, untouched=frozenset()):
        self._untouched = untouched
        left_alone = self._left_alone(estimator)
        attributes = {
            name: value
            for name, value in vars(estimator).items()
            if name not in left_alone
        }
        self._attributes = copy.deepcopy(attributes) if continuing else attributes

    def _left_alone(self, estimator):
        """The parameters and the untouched attributes."""
        return self._untouched | set(estimator.get_params(deep=False))

    def restore(self, estimator):
        """Put the recorded attributes back and remove any the fit added, in
        one assignment (so a second Ctrl-C cannot leave it half done)."""
        left_alone = self._left_alone(estimator)
        kept = {
            name: value for name, value in vars(estimator).items() if name in left_alone
        }
        estimator.__dict__ = {**kept, **self._attributes}
