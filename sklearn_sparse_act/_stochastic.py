"""The stochastic solvers ('sgd' and 'adam'): epochs of mini-batch steps,
early stopping, the best epoch, and recovery from a diverging fit.

A :class:`StochasticSolver` trains one fit. It receives what it works with:
the estimator (its hyperparameters, its hooks for validation scores, and its
training record, which the solver keeps up to date: ``n_iter_``, ``t_``,
``loss_``, ``loss_curve_``, the early-stopping state and the best epoch's
parameters), the :class:`~._network.Network` over the estimator's parameters,
the hidden layers' :class:`~._hidden_sparsity.HiddenSparsity` and the
per-layer records of a step. It builds its optimizer (:mod:`._optimizers`)
around the estimator's stored optimizer state.

Training is a chain of small overridable steps: :meth:`StochasticSolver.fit`
-> ``run_epoch`` -> ``train_step``, then ``end_epoch`` ->
``update_no_improvement_count``.
"""

import warnings

import numpy as np
from sklearn.base import is_classifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils import gen_batches, shuffle

from ._optimizers import OPTIMIZERS
from ._prediction import RowsOf, output_of
from ._step_records import KeptWeights

# learning_rate_init='auto': scikit-learn's step size, scaled by (h / 2) / k,
# the number of units a dense ReLU layer of width h fires per row (about half)
# over the k winners, within these bounds (see resolve_learning_rate).
_AUTO_LEARNING_RATE = 0.001
_MAX_AUTO_LEARNING_RATE = 0.01
_DENSE_RELU_FIRING_FRACTION = 0.5


def copied_into(kept, arrays):
    """Copies of ``arrays``: written into the arrays of ``kept`` (a list of
    writeable arrays of the same shapes and dtypes), so that no second copy
    is held while the new one is made; new copies otherwise (also when
    ``kept`` is None: a model whose parameters were set by hand has none)."""
    if (
        kept is not None
        and len(kept) == len(arrays)
        and all(
            isinstance(old, np.ndarray)
            and old.flags.writeable
            and old.shape == new.shape
            and old.dtype == new.dtype
            for old, new in zip(kept, arrays, strict=True)
        )
    ):
        for old, new in zip(kept, arrays, strict=True):
            np.copyto(old, new)
        return kept
    return [array.copy() for array in arrays]


def start_training_record(model, fresh):
    """Start the loss curve and the early-stopping record of ``model``'s
    stochastic fit: anew for a ``fresh`` fit; for a continued one, those its
    settings need that the fit before did not keep (after an L-BFGS fit, or
    with ``early_stopping`` set anew: the record of the other setting is
    dropped)."""
    if fresh or getattr(model, "loss_curve_", None) is None:
        model.loss_curve_ = []
        model._no_improvement_count = 0
    if model.early_stopping:
        if fresh or getattr(model, "validation_scores_", None) is None:
            model.validation_scores_ = []
            model.validation_loss_curve_ = []
            model.best_validation_score_ = -np.inf
            model.best_loss_ = None
    elif fresh or getattr(model, "best_loss_", None) is None:
        model.best_loss_ = np.inf
        model.validation_scores_ = None
        model.validation_loss_curve_ = None
        model.best_validation_score_ = None


def batch_rows(batch_size, n_samples):
    """Rows per mini-batch for ``n_samples`` training rows."""
    if batch_size == "auto":
        return min(200, n_samples)
    return int(np.clip(batch_size, 1, n_samples))


def resolve_learning_rate(learning_rate_init, last_ratio):
    """The step size in force: ``learning_rate_init``, or with 'auto'
    ``0.0005 / r`` for the last hidden layer's ratio ``r``, kept within
    [0.001, 0.01].

    Only the ``k`` winners of the last hidden layer carry the output and
    receive gradient, and Adam moves each weight by about the step size, so
    the output builds up in proportion to the number of units that fire. A
    dense ReLU layer of width ``h`` fires about ``h / 2`` units per row, so
    the step is scikit-learn's 0.001 times ``(h / 2) / k``: exactly 0.001
    from ratio 0.5 up to 1.0 (never smaller, so a dense layer trains as
    scikit-learn's MLP does), 0.005 at ratio 0.1. The cap keeps the steps of
    very sparse layers stable.
    """
    if learning_rate_init != "auto":
        return float(learning_rate_init)
    step = _AUTO_LEARNING_RATE * _DENSE_RELU_FIRING_FRACTION / last_ratio
    return min(max(step, _AUTO_LEARNING_RATE), _MAX_AUTO_LEARNING_RATE)


class StochasticSolver:
    """Mini-batch training of one fit with 'sgd' or 'adam'.

    Parameters
    ----------
    model : BaseSparseMLP
        The estimator: its hyperparameters, ``_loss_function``, its
        ``_decode_output`` and ``_score_function`` (for the validation
        score), and its training record, updated in place.
    network : Network
        The network over ``model.coefs_`` and ``model.intercepts_``.
    sparsity : HiddenSparsity
        The hidden layers' sparsity of this fit.
    forward, gradients : ForwardPass, Gradients
        The per-layer records every step refills.

    Its steps also read the sparse layers' present weights from copies that
    its optimizer's steps keep equal to them (``kept``, a
    :class:`~._step_records.KeptWeights`, made for this fit).
    """

    def __init__(self, model, network, sparsity, forward, gradients):
        self.model = model
        self.network = network
        self.sparsity = sparsity
        self.forward = forward
        self.gradients = gradients
        self.kept = KeptWeights(len(network.coefs) + 1)
        self.loss_function = model._loss_function()

    def make_optimizer(self, incremental):
        """The solver's optimizer around the model's stored (or a fresh)
        state."""
        model = self.model
        model.learning_rate_init_ = resolve_learning_rate(
            model.learning_rate_init, self.sparsity.ratios[-1]
        )
        params = model.coefs_ + model.intercepts_
        optimizer_class = OPTIMIZERS[model.solver]
        state = getattr(model, "_optimizer_state", None)
        if not incremental or state is None or not optimizer_class.holds(state):
            model._optimizer_state = optimizer_class.initial_state(
                params, model.learning_rate_init_, self.network.parameter_connections()
            )
        if model.solver == "sgd":
            return optimizer_class(
                model._optimizer_state,
                model.learning_rate_init_,
                model.learning_rate,
                model.momentum,
                model.nesterovs_momentum,
                model.power_t,
                self.network.backend,
                self.network.parameter_connections(),
            )
        return optimizer_class(
            model._optimizer_state,
            model.learning_rate_init_,
            model.beta_1,
            model.beta_2,
            model.epsilon,
            self.network.backend,
            self.network.parameter_connections(),
        )

    def split_validation(self, X, y, sample_weight):
        """Hold out ``validation_fraction`` of the data for early stopping.

        The rows of X are not copied (:class:`RowsOf`): the split is drawn on
        their indices, with the same random draws as a split of X itself.
        """
        model = self.model
        stratify = y if is_classifier(model) and model.n_outputs_ == 1 else None
        rows = np.arange(X.shape[0])
        arrays = (rows, y) if sample_weight is None else (rows, y, sample_weight)
        split = train_test_split(
            *arrays,
            random_state=model._random_state,
            test_size=model.validation_fraction,
            stratify=stratify,
        )
        X_train, X_val = RowsOf(X, split[0]), RowsOf(X, split[1])
        y_train, y_val = split[2:4]
        sw_train, sw_val = split[4:] if sample_weight is not None else (None, None)
        if X_val.shape[0] < 2:
            raise ValueError(
                "The validation set is too small. Increase 'validation_fraction' "
                "or the size of your dataset."
            )
        # The targets are decoded once, for the score of every epoch.
        y_val_decoded = model._decode_output(y_val.astype(np.float64))
        return (X_train, y_train, sw_train), (X_val, y_val, y_val_decoded, sw_val)

    def fit(self, X, y, sample_weight, incremental, tasks):
        """Train for ``max_iter`` epochs (one with ``incremental``), or until
        the loss or validation score stops improving or a callback asks to
        stop; ``tasks`` (:class:`~._callbacks.FitTasks`) reports each epoch
        to the callbacks."""
        model = self.model
        optimizer = self.make_optimizer(incremental)
        if model.early_stopping and incremental:
            raise ValueError("partial_fit does not support early_stopping=True")
        if model.early_stopping:
            train, validation = self.split_validation(X, y, sample_weight)
        else:
            train, validation = (X, y, sample_weight), None

        n_samples = train[0].shape[0]
        if model.batch_size != "auto" and model.batch_size > n_samples:
            warnings.warn(
                "Got `batch_size` less than 1 or larger than "
                "sample size. It is going to be clipped",
                stacklevel=2,
            )
        batch_size = batch_rows(model.batch_size, n_samples)

        sample_idx = np.arange(n_samples, dtype=int)
        self.sparsity.plan_warmup(model.max_iter, incremental)
        try:
            model.n_iter_ = 0
            for _ in range(model.max_iter):
                if model.shuffle:
                    sample_idx = shuffle(sample_idx, random_state=model._random_state)
                tasks.begin(self.prediction_attributes)
                self.sparsity.start_epoch()
                model.loss_ = self.run_epoch(train, sample_idx, batch_size, optimizer)
                model.n_iter_ += 1
                model.t_ += n_samples
                model.loss_curve_.append(model.loss_)
                if model.verbose:
                    print(f"Iteration {model.n_iter_}, loss = {model.loss_:.8f}")
                stop = self.end_epoch(validation, optimizer)
                diverged = self.diverged()
                if diverged:
                    self.recover_from_divergence()
                stop_asked = tasks.end(self.prediction_attributes)
                if diverged or incremental:
                    break
                if stop_asked:
                    self.stop_at_best_epoch()
                    break
                if stop:
                    break
                if model.n_iter_ == model.max_iter:
                    warnings.warn(
                        f"Stochastic Optimizer: Maximum iterations ({model.max_iter}) "
                        "reached and the optimization hasn't converged yet.",
                        ConvergenceWarning,
                        stacklevel=2,
                    )
        except KeyboardInterrupt:
            warnings.warn("Training interrupted by user.", stacklevel=2)

        if model.early_stopping:
            self.restore_best_parameters()

    def run_epoch(self, train, sample_idx, batch_size, optimizer):
        """One pass over the training data; returns the mean batch loss."""
        X, y, sample_weight = train
        accumulated_loss = 0.0
        for batch_slice in gen_batches(X.shape[0], batch_size):
            batch_idx = sample_idx[batch_slice] if self.model.shuffle else batch_slice
            # X is an ndarray, a CSR matrix (validated) or RowsOf one: plain
            # row indexing, without _safe_indexing's per-call type dispatch
            # (half of a small network's step).
            X_batch = X[batch_idx]
            weights = None if sample_weight is None else sample_weight[batch_idx]
            batch_loss = self.train_step(X_batch, y[batch_idx], weights, optimizer)
            accumulated_loss += batch_loss * (batch_slice.stop - batch_slice.start)
        return accumulated_loss / X.shape[0]

    def train_step(self, X, y, sample_weight, optimizer):
        """Forward, backward and one optimizer update on a mini-batch; the
        sparse layers' products read their present weights from the fit's
        copies (``kept``), and the update keeps them equal to the weights."""
        network, sparsity, kept = self.network, self.sparsity, self.kept
        forward = network.forward_train(
            X, sparsity.training_rule, sample_weight, self.forward, kept
        )
        gradients = self.gradients
        batch_loss = network.backprop(
            forward,
            y,
            sample_weight,
            self.loss_function,
            self.model.alpha,
            gradients,
            kept,
        )
        sparsity.after_step(
            forward.hidden_outputs,
            forward.winners,
            forward.observed_thresholds,
            X.shape[0],
        )
        optimizer.update_params(
            network.coefs + network.intercepts,
            gradients.coef_grads + gradients.intercept_grads,
            kept.per_parameter(),
        )
        return batch_loss

    def end_epoch(self, validation, optimizer):
        """Update the sparsity and the stopping state after an epoch; True
        means stop now."""
        model = self.model
        self.sparsity.end_epoch()
        if model.verbose:
            print(self.sparsity.epoch_report())
        self.update_no_improvement_count(validation)
        optimizer.iteration_ends(model.t_)
        if model._no_improvement_count <= model.n_iter_no_change:
            return False
        if validation is not None:
            message = (
                f"Validation score did not improve more than tol={model.tol:f} for "
                f"{model.n_iter_no_change} consecutive epochs."
            )
        else:
            message = (
                f"Training loss did not improve more than tol={model.tol:f} for "
                f"{model.n_iter_no_change} consecutive epochs."
            )
        if optimizer.trigger_stopping(message, model.verbose):
            return True
        model._no_improvement_count = 0
        return False

    def update_no_improvement_count(self, validation):
        """Count epochs without improvement and keep the best parameters.

        Epochs of the sparsity warm-up are scored but neither counted nor
        kept: while k shrinks the loss rises by design, and parameters
        trained with more winners than prediction uses are not a candidate.
        """
        model = self.model
        if validation is not None:
            X_val, y_val, y_val_decoded, sw_val = validation
            # Chunks of a batch's rows: the validation rows are gathered
            # from X a chunk at a time (RowsOf), never all at once.
            rules = self.sparsity.inference_rules()
            rows = batch_rows(model.batch_size, X_val.shape[0])
            network = self.network.holding_weights(rules.active_units, rows)
            output = output_of(network, rules, X_val, rows)
            model.validation_loss_curve_.append(
                self.loss_function(y_val, output, sw_val)
            )
            score = self.score(output, y_val_decoded, sw_val)
            model.validation_scores_.append(score)
            if model.verbose:
                print(f"Validation score: {score:f}")
            if self.sparsity.warming_up():
                return
            if score < model.best_validation_score_ + model.tol:
                model._no_improvement_count += 1
            else:
                model._no_improvement_count = 0
            if score > model.best_validation_score_:
                model.best_validation_score_ = score
                self.snapshot_best_parameters()
        else:
            if self.sparsity.warming_up():
                return
            loss = model.loss_curve_[-1]
            if loss > model.best_loss_ - model.tol:
                model._no_improvement_count += 1
            else:
                model._no_improvement_count = 0
            if loss < model.best_loss_:
                model.best_loss_ = loss
                self.snapshot_best_parameters()

    def score(self, output, y_true, sample_weight):
        """Early-stopping score of output activations against decoded
        targets (NaN for non-finite predictions)."""
        y_pred = self.model._decode_output(output)
        if np.issubdtype(y_pred.dtype, np.floating) and not np.isfinite(y_pred).all():
            return np.nan
        return self.model._score_function(y_true, y_pred, sample_weight=sample_weight)

    def diverged(self):
        """Whether the last epoch left a non-finite loss or parameters."""
        return not (np.isfinite(self.model.loss_) and self.network.parameters_finite())

    def recover_from_divergence(self):
        """Stop a diverged fit with the best parameters so far.

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
        model = self.model
        warnings.warn(
            f"Training diverged in epoch {model.n_iter_} (the loss or the "
            "weights overflowed); the parameters of the best epoch were "
            "restored. Scale the inputs (and targets), or lower "
            "learning_rate_init.",
            ConvergenceWarning,
            stacklevel=3,
        )
        if model.early_stopping:
            best = model.best_validation_score_
        else:
            best = -model.best_loss_
        if not np.isfinite(best):
            what = (
                "a non-finite training loss"
                if self.network.parameters_finite()
                else "non-finite parameter weights"
            )
            raise ValueError(
                f"Solver produced {what}. The input data may contain large "
                "values and need to be preprocessed."
            )
        self.restore_best_parameters()
        if not model.early_stopping:
            model.loss_ = model.best_loss_

    def prediction_attributes(self):
        """The attributes with which a copy of the estimator predicts as the
        model stands (for the callbacks)."""
        return {
            "coefs_": [coef.copy() for coef in self.network.coefs],
            "intercepts_": [b.copy() for b in self.network.intercepts],
            "n_iter_": self.model.n_iter_,
            **self.sparsity.prediction_attributes(),
        }

    def stop_at_best_epoch(self):
        """End training where a callback asked to, with the best epoch's
        parameters: early stopping restores them after the loop; otherwise
        those of the lowest training loss, once an epoch after the warm-up
        has been kept."""
        model = self.model
        if model.early_stopping or not np.isfinite(model.best_loss_):
            return
        self.restore_best_parameters()
        model.loss_ = model.best_loss_

    def snapshot_best_parameters(self):
        model = self.model
        model._best_coefs = copied_into(
            getattr(model, "_best_coefs", None), model.coefs_
        )
        model._best_intercepts = copied_into(
            getattr(model, "_best_intercepts", None), model.intercepts_
        )
        if self.sparsity.thresholds is not None:
            model._best_thresholds = self.sparsity.thresholds.copy()

    def restore_best_parameters(self):
        """Go back to the best epoch's parameters, in the lists the network
        reads."""
        model = self.model
        model.coefs_[:] = [coef.copy() for coef in model._best_coefs]
        model.intercepts_[:] = [b.copy() for b in model._best_intercepts]
        self.kept.forget()
        if self.sparsity.thresholds is not None:
            self.sparsity.restore_thresholds(model._best_thresholds)
