"""The quasi-Newton solver ('lbfgs'): SciPy's L-BFGS-B over the packed
parameters, with the winners held within each iteration's line search.
"""

from itertools import pairwise

import numpy as np
import scipy
import scipy.optimize
from sklearn.utils.optimize import _check_optimize_result

from ._sparse_layers import FiringCounter

_SCIPY_VERSION = tuple(int(part) for part in scipy.__version__.split(".")[:2])


def _pack(coefs, intercepts):
    """Flatten all parameters into one vector (for L-BFGS)."""
    return np.hstack([param.ravel() for param in coefs + intercepts])


def _lbfgs_print_option(iprint):
    """L-BFGS-B's ``iprint`` option, which SciPy 1.15 deprecated."""
    return {} if _SCIPY_VERSION >= (1, 15) else {"iprint": iprint}


class LBFGSSolverMixin:
    """L-BFGS training of the sparse MLP estimators."""

    def _fit_lbfgs(self, X, y, sample_weight, buffers, layer_units):
        """Quasi-Newton training with the winners held within each iteration.

        The k-winners objective is only piecewise smooth: where a trial step
        changes the winners, the loss and gradient jump and L-BFGS's line
        search fails ("ABNORMAL") long before ``max_iter``, at a point that
        moves with round-off. So the winners are chosen on the whole training
        set at each iterate and held fixed while the line search tries steps
        from it (a smooth function of the weights); after every accepted step
        they are chosen again at the new iterate.
        """
        # L-BFGS needs one fixed objective: no warm-up and no boosting.
        buffers.active_units = list(self.active_units_)
        self._boost_strength_now = 0.0
        self.sparsity_curve_ = np.asarray([self._activation_ratios])
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
        self._hold_batch_winners(X, sample_weight, buffers)

        def choose_winners_at(intermediate_result):
            self._unpack(intermediate_result.x)
            self._hold_batch_winners(X, sample_weight, buffers)

        result = scipy.optimize.minimize(
            self._loss_grad_lbfgs,
            _pack(self.coefs_, self.intercepts_),
            method="L-BFGS-B",
            jac=True,
            callback=choose_winners_at,
            options={
                "maxfun": self.max_fun,
                "maxiter": self.max_iter,
                "gtol": self.tol,
                **_lbfgs_print_option(iprint),
            },
            args=(X, y, sample_weight, buffers),
        )
        self.n_iter_ = result.nit
        self._unpack(result.x)
        _check_optimize_result("lbfgs", result, self.max_iter)
        del self._coef_slices, self._intercept_slices
        # The loss of the sparse objective at the solution; its training-mode
        # pass gives the duty cycles and firing statistics (the thresholds are
        # settled at the end of _fit).
        self.loss_ = self._backprop(X, y, sample_weight, buffers)
        self._duty_cycle_samples = 0
        self._update_duty_cycles(buffers)
        counter = FiringCounter(layer_units[1:-1])
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
        """Loss and gradient with the winners held in ``buffers.masks``."""
        self._unpack(packed)
        loss = self._backprop(X, y, sample_weight, buffers, reuse_masks=True)
        return loss, _pack(buffers.coef_grads, buffers.intercept_grads)

    def _hold_batch_winners(self, X, sample_weight, buffers):
        """Choose the whole training set's winners at the current parameters
        and hold them in ``buffers.masks``."""
        buffers.activations[0] = X
        self._forward_pass(buffers, sample_weight)
