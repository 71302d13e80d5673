"""scikit-learn's callback API for the estimators' fits (scikit-learn >= 1.9).

:class:`FitCallbacksMixin` gives the estimators ``set_callbacks`` (which
raises a clear error before scikit-learn 1.9) and starts the callback task
tree of one fit: :class:`FitTasks` reports the fit as the root task and each
epoch (stochastic solvers) or L-BFGS iteration as a subtask, and tells the
solver when a callback asks to stop. The solvers (:mod:`._stochastic`,
:mod:`._lbfgs`) call it; it needs from the estimator only what scikit-learn's
:class:`~sklearn.callback.CallbackSupportMixin` needs, and a callable giving
the attributes that make a copy of the estimator predict as the model stands.
"""

import sklearn

try:
    from sklearn.callback import CallbackSupportMixin
except ImportError:  # scikit-learn < 1.9 has no callback API.
    CallbackSupportMixin = None

# What scikit-learn's callback machinery sets on the estimator during a fit
# and removes in its teardown, after the fit (which needs them to end the
# callbacks, even when the fit raised).
CALLBACK_FIT_STATE = frozenset({"_callback_fit_ctx", "_skl_callbacks_to_teardown"})
# Everything scikit-learn's callback API keeps on the estimator: the
# callbacks set by ``set_callbacks`` (a setting, not fitted state) and the
# state of the fit in progress. A fit that raises leaves them to the API.
CALLBACK_ATTRIBUTES = CALLBACK_FIT_STATE | {"_skl_callbacks"}


class FitCallbacksMixin:
    """``set_callbacks`` and the callback task tree of a fit."""

    def set_callbacks(self, *callbacks):
        """Set callbacks that follow the fit (scikit-learn >= 1.9).

        A fit is reported as a task with one subtask per epoch ('sgd' and
        'adam'; one for each call to ``partial_fit``) or per iteration
        ('lbfgs'). A callback that asks to stop at the end of an epoch ends
        training there with the best epoch's parameters so far (the best
        validation score with ``early_stopping``, otherwise the lowest
        training loss), as early stopping keeps them; L-BFGS stops at its
        last iterate. Callbacks set on a meta-estimator such as
        :class:`~sklearn.model_selection.GridSearchCV` or
        :class:`~sklearn.pipeline.Pipeline` reach this estimator too.

        Before scikit-learn 1.9, which has no callback API, this raises an
        ImportError; fitting works as usual.

        Parameters
        ----------
        *callbacks : callback instances
            Callbacks following scikit-learn's ``FitCallback`` protocol, such
            as :class:`sklearn.callback.ProgressBar` or
            :class:`sklearn.callback.ScoringMonitor`.

        Returns
        -------
        self : object
            The estimator.

        Examples
        --------
        >>> from sklearn.callback import ScoringMonitor
        >>> from sklearn.datasets import load_iris
        >>> from sklearn_sparse_act import SparseMLPClassifier
        >>> X, y = load_iris(return_X_y=True)
        >>> monitor = ScoringMonitor(scoring="accuracy")
        >>> clf = SparseMLPClassifier(max_iter=3, random_state=0)
        >>> clf = clf.set_callbacks(monitor).fit(X, y)
        >>> epochs = [row for row in monitor.get_logs().data
        ...           if row["task_name"] == "epoch"]
        >>> len(epochs)
        3
        """
        if CallbackSupportMixin is None:
            raise ImportError(
                "set_callbacks needs scikit-learn's callback API, new in "
                f"scikit-learn 1.9; this is scikit-learn {sklearn.__version__}. "
                "Upgrade scikit-learn to use callbacks; everything else works "
                "without them."
            )
        return CallbackSupportMixin.set_callbacks(self, *callbacks)

    def _fit_tasks(self, X, y, sample_weight, incremental):
        """The callback tasks of the fit that starts now on ``X`` and ``y``
        (the fit's root task begins here): at most ``max_iter`` epochs (one
        with ``incremental``), or ``max_iter`` L-BFGS iterations and the one
        that begins but never runs."""
        if CallbackSupportMixin is None:
            return NO_TASKS
        if self.solver == "lbfgs":
            max_subtasks, subtask_name = self.max_iter + 1, "iteration"
        else:
            max_subtasks, subtask_name = (1 if incremental else self.max_iter), "epoch"
        context = CallbackSupportMixin._init_callback_context(
            self, max_subtasks=max_subtasks
        )
        return FitTasks(self, context, X, y, sample_weight, subtask_name)


class FitTasks:
    """The root task of one fit and its subtasks, reported to the callbacks.

    Parameters
    ----------
    model : estimator
        The estimator being fitted.
    context : sklearn.callback.CallbackContext
        The fit's root context.
    X, y, sample_weight
        The training data, as the callbacks receive it.
    subtask_name : str
        The name of a subtask: 'epoch' or 'iteration'.
    """

    def __init__(self, model, context, X, y, sample_weight, subtask_name):
        self.model = model
        self.context = context
        self.X, self.y = X, y
        self.metadata = (
            None if sample_weight is None else {"sample_weight": sample_weight}
        )
        self.subtask_name = subtask_name
        # Without callbacks (on this estimator or from a meta-estimator),
        # no subtasks are made.
        self.active = bool(getattr(model, "_skl_callbacks", None))
        self.subtask = None
        context.call_on_fit_task_begin(
            estimator=model, X=X, y=y, metadata=self.metadata
        )

    def begin(self, prediction_attributes):
        """Begin a subtask; ``prediction_attributes()`` gives the attributes
        that make a copy of the estimator predict as the model stands."""
        if not self.active:
            return
        self.subtask = self.context.subcontext(task_name=self.subtask_name)
        self.subtask.call_on_fit_task_begin(
            estimator=self.model,
            X=self.X,
            y=self.y,
            metadata=self.metadata,
            reconstruction_attributes=prediction_attributes,
        )

    def end(self, prediction_attributes):
        """End the current subtask; True when a callback asks to stop."""
        if not self.active:
            return False
        subtask, self.subtask = self.subtask, None
        return subtask.call_on_fit_task_end(
            estimator=self.model,
            X=self.X,
            y=self.y,
            metadata=self.metadata,
            reconstruction_attributes=prediction_attributes,
        )

    def close(self):
        """End a subtask that began but never ran (L-BFGS's last one), with
        nothing to report."""
        if self.subtask is not None:
            subtask, self.subtask = self.subtask, None
            subtask.call_on_fit_task_end(estimator=self.model)

    def finish(self):
        """End the fit's root task; the estimator is fitted."""
        self.context.call_on_fit_task_end(
            estimator=self.model,
            X=self.X,
            y=self.y,
            metadata=self.metadata,
            reconstruction_attributes={},
        )


class _NoTasks:
    """The fit tasks before scikit-learn 1.9: nothing to report, no stop."""

    def begin(self, prediction_attributes):
        pass

    def end(self, prediction_attributes):
        return False

    def close(self):
        pass

    def finish(self):
        pass


NO_TASKS = _NoTasks()
