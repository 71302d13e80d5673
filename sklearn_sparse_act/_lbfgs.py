"""The quasi-Newton solver ('lbfgs'): SciPy's L-BFGS-B over the packed
parameters, with the winners held within each iteration's line search.

:func:`fit_lbfgs` receives the estimator (its hyperparameters and loss, and
the ``n_iter_`` and ``loss_`` it records), the :class:`~._network.Network`
over the estimator's parameters (which it sets from L-BFGS's vector), the
hidden layers' :class:`~._hidden_sparsity.HiddenSparsity` and the per-layer
records of a pass.
"""

from itertools import pairwise

import numpy as np
import scipy
import scipy.optimize
from sklearn.utils.optimize import _check_optimize_result

from ._connections import zero_absent

_SCIPY_VERSION = tuple(int(part) for part in scipy.__version__.split(".")[:2])


def _pack(coefs, intercepts):
    """Flatten all parameters (or their gradients, a gradient held at the
    present weights made whole) into one vector (for L-BFGS)."""
    return np.hstack([np.asarray(param).ravel() for param in coefs + intercepts])


def _lbfgs_print_option(iprint):
    """L-BFGS-B's ``iprint`` option, which SciPy 1.15 deprecated."""
    return {} if _SCIPY_VERSION >= (1, 15) else {"iprint": iprint}


class _PackedLayout:
    """Where each layer's weights and biases lie in the packed vector, and
    which weights are absent (``network.connection_mask``)."""

    def __init__(self, coefs, connection_mask):
        self.connection_mask = connection_mask
        layer_units = [coefs[0].shape[0]] + [coef.shape[1] for coef in coefs]
        self.coef_slices = []
        self.intercept_slices = []
        start = 0
        for fan_in, fan_out in pairwise(layer_units):
            end = start + fan_in * fan_out
            self.coef_slices.append((start, end, (fan_in, fan_out)))
            start = end
        for fan_out in layer_units[1:]:
            end = start + fan_out
            self.intercept_slices.append((start, end))
            start = end

    def unpack(self, packed, coefs, intercepts):
        """Set the parameters in ``coefs`` and ``intercepts`` from L-BFGS's
        float64 vector, in their dtype; absent weights are exactly zero
        (their gradient is, so L-BFGS leaves them at zero up to the sign)."""
        dtype = coefs[0].dtype
        for layer, (start, end, shape) in enumerate(self.coef_slices):
            coefs[layer] = packed[start:end].reshape(shape).astype(dtype)
            zero_absent(coefs[layer], self.connection_mask(layer))
        for layer, (start, end) in enumerate(self.intercept_slices):
            intercepts[layer] = packed[start:end].astype(dtype)


def fit_lbfgs(model, network, sparsity, forward, gradients, X, y, sample_weight, tasks):
    """Quasi-Newton training with the winners held within each iteration.

    The k-winners objective is only piecewise smooth: where a trial step
    changes the winners, the loss and gradient jump and L-BFGS's line search
    fails ("ABNORMAL") long before ``max_iter``, at a point that moves with
    round-off. So the winners are chosen on the whole training set at each
    iterate and held fixed while the line search tries steps from it (a
    smooth function of the weights); after every accepted step they are
    chosen again at the new iterate.

    Choosing the winners again changes the function SciPy minimises, which
    its convergence test does not know: it may then stop, as converged, at a
    point worse than the one before. So a run that stops before ``max_iter``
    iterations (``max_fun`` evaluations) is started again from where it
    stopped, with a fresh memory, as long as each run lowers the sparse
    loss by more than ``tol``; the fit ends at the lowest sparse loss of
    the points the runs started and ended at (the winners chosen again can
    leave a run's end above its start). A network without sparse layers is
    one run.

    Each iteration is a subtask of ``tasks`` (:class:`~._callbacks.FitTasks`);
    a callback that asks to stop ends the fit at the iterate just reached.
    """
    # L-BFGS needs one fixed objective: no warm-up and no boosting.
    sparsity.hold_targets()
    coefs, intercepts = network.coefs, network.intercepts
    layout = _PackedLayout(coefs, network.connection_mask)
    loss_function = model._loss_function()
    iprint = 1 if model.verbose is True or model.verbose >= 1 else -1

    def loss_and_gradient(packed):
        layout.unpack(packed, coefs, intercepts)
        network.forward_held(X, forward)
        loss = network.backprop(
            forward, y, sample_weight, loss_function, model.alpha, gradients
        )
        return loss, _pack(gradients.coef_grads, gradients.intercept_grads)

    def prediction_attributes():
        return {
            "coefs_": [coef.copy() for coef in coefs],
            "intercepts_": [b.copy() for b in intercepts],
            **sparsity.prediction_attributes(),
        }

    stopped = False

    def choose_winners_at(intermediate_result):
        nonlocal stopped
        layout.unpack(intermediate_result.x, coefs, intercepts)
        if tasks.end(prediction_attributes):
            stopped = True
            raise StopIteration
        network.forward_train(X, sparsity.training_rule, sample_weight, forward)
        tasks.begin(prediction_attributes)

    def sparse_loss():
        """The loss at the parameters, with the winners chosen there (the
        training-mode pass that chooses them stays in ``forward``)."""
        network.forward_train(X, sparsity.training_rule, sample_weight, forward)
        return network.backprop(
            forward, y, sample_weight, loss_function, model.alpha, gradients
        )

    loss = sparse_loss()
    restarts = any(winners is not None for winners in forward.winners)
    tasks.begin(prediction_attributes)
    packed, iterations, evaluations = _pack(coefs, intercepts), 0, 0
    best_loss, best = loss, packed
    while True:
        result = scipy.optimize.minimize(
            loss_and_gradient,
            packed,
            method="L-BFGS-B",
            jac=True,
            callback=choose_winners_at,
            options={
                "maxfun": model.max_fun - evaluations,
                "maxiter": model.max_iter - iterations,
                "gtol": model.tol,
                **_lbfgs_print_option(iprint),
            },
        )
        iterations += result.nit
        evaluations += result.nfev
        packed = result.x
        layout.unpack(packed, coefs, intercepts)
        # The loss of the sparse objective at the run's solution; its
        # training-mode pass gives the duty cycles and firing statistics
        # (the thresholds are settled after the solver).
        previous, loss = loss, sparse_loss()
        if loss < best_loss:
            best_loss, best = loss, packed
        if (
            stopped
            or not restarts
            or iterations >= model.max_iter
            or evaluations >= model.max_fun
            or not loss < previous - model.tol
        ):
            break
    if restarts and not stopped and loss > best_loss:
        layout.unpack(best, coefs, intercepts)
        loss = sparse_loss()
    tasks.close()
    model.n_iter_ = iterations
    if not stopped:
        _check_optimize_result("lbfgs", result, model.max_iter)
    model.loss_ = loss
    sparsity.measure(forward.hidden_outputs, forward.winners, X.shape[0])
