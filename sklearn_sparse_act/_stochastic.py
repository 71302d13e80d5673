"""The stochastic solvers' training loop ('sgd' and 'adam'): epochs of
mini-batch steps, early stopping, the best epoch, and recovery from a
diverging fit.

Training is a chain of small overridable steps: ``_fit_stochastic`` ->
``_run_epoch`` -> ``_train_step`` -> ``_backprop``, then ``_end_epoch``.
"""

import warnings

import numpy as np
from sklearn.base import is_classifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils import gen_batches, shuffle

from ._optimizers import OPTIMIZERS
from ._sparse_layers import FiringCounter

# learning_rate_init='auto': scikit-learn's step size, scaled by (h / 2) / k,
# the number of units a dense ReLU layer of width h fires per row (about half)
# over the k winners, within these bounds (see _resolve_learning_rate).
_AUTO_LEARNING_RATE = 0.001
_MAX_AUTO_LEARNING_RATE = 0.01
_DENSE_RELU_FIRING_FRACTION = 0.5


class StochasticSolverMixin:
    """Epoch loop of the stochastic solvers."""

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

    def _make_optimizer(self, incremental, backend):
        """The solver's optimizer around the stored (or a fresh) state, doing
        its arithmetic with ``backend``."""
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
                backend,
            )
        return optimizer_class(
            self._optimizer_state,
            self._learning_rate_init,
            self.beta_1,
            self.beta_2,
            self.epsilon,
            backend,
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
        optimizer = self._make_optimizer(incremental, buffers.backend)
        if self.early_stopping and incremental:
            raise ValueError("partial_fit does not support early_stopping=True")
        if self.early_stopping:
            train, validation = self._split_validation(X, y, sample_weight)
        else:
            train, validation = (X, y, sample_weight), None

        n_samples = train[0].shape[0]
        if self.batch_size != "auto" and self.batch_size > n_samples:
            warnings.warn(
                "Got `batch_size` less than 1 or larger than "
                "sample size. It is going to be clipped",
                stacklevel=2,
            )
        batch_size = self._batch_rows(n_samples)

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

    def _batch_rows(self, n_samples):
        """Rows per mini-batch for ``n_samples`` training rows."""
        if self.batch_size == "auto":
            return min(200, n_samples)
        return int(np.clip(self.batch_size, 1, n_samples))

    def _run_epoch(self, train, sample_idx, batch_size, buffers, optimizer):
        """One pass over the training data; returns the mean batch loss."""
        X, y, sample_weight = train
        counter = FiringCounter([coef.shape[1] for coef in self.coefs_[:-1]])
        accumulated_loss = 0.0
        for batch_slice in gen_batches(X.shape[0], batch_size):
            batch_idx = sample_idx[batch_slice] if self.shuffle else batch_slice
            # X is an ndarray or a CSR matrix here (validated): plain row
            # indexing, without _safe_indexing's per-call type dispatch (half
            # of a small network's step).
            X_batch = X[batch_idx]
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
