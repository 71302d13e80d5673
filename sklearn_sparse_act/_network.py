"""The network core: forward and backward passes through the winners.

A :class:`Network` is a view of a fitted model's parameters together with a
kernel backend (:mod:`._backends`); it does the arithmetic and nothing else.
The estimator keeps everything around it: validation, solvers, epochs, early
stopping, and the sparsity bookkeeping that decides each layer's rule (the
strategy, the number of winners, boosting, thresholds).

A hidden layer runs on one of two paths, decided per layer by the backend's
cost model from its shape, its number of winners and the number of rows:

- dense: its outputs are an ``(n, width)`` array with zeros at the losers,
  and its winners a boolean mask (BLAS does the products);
- sparse: its outputs are :class:`~._backends.interface.SparseRows` holding
  only the winners, which are also its winners structure; the products that
  touch it (forward, backward delta, weight gradient) run over the winners.

Both paths, and both backends, compute the same numbers up to round-off.
"""

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from ._activations import ACTIVATIONS, DERIVATIVES, ZERO_OUTPUT_ZERO_DERIVATIVE
from ._backends.interface import SparseRows, Work


@dataclass
class TrainingBuffers:
    """Per-layer arrays of the current training batch.

    ``activations[0]`` is the input batch and ``activations[i + 1]`` the output
    of layer ``i``; ``masks[i]`` holds hidden layer ``i``'s winners (None for a
    dense layer); ``observed_thresholds[i]`` the threshold the last forward pass
    saw in hidden layer ``i`` ('dynamic' only); ``active_units[i]`` the number
    of winners in force (it differs from ``active_units_`` during warm-up);
    ``backend`` the kernel backend of the whole fit.
    """

    n_layers: int
    backend: object
    active_units: list = field(default_factory=list)
    activations: list = field(init=False)
    masks: list = field(init=False)
    observed_thresholds: list = field(init=False)
    deltas: list = field(init=False)
    coef_grads: list = field(init=False)
    intercept_grads: list = field(init=False)

    def __post_init__(self):
        self.activations = [None] * self.n_layers
        self.masks = [None] * (self.n_layers - 2)
        self.observed_thresholds = [None] * (self.n_layers - 2)
        self.deltas = [None] * (self.n_layers - 1)
        self.coef_grads = [None] * (self.n_layers - 1)
        self.intercept_grads = [None] * (self.n_layers - 1)


def firing_counts(outputs):
    """Per unit of a hidden layer's outputs: the rows where it is non-zero."""
    if isinstance(outputs, SparseRows):
        return outputs.counts(nonzero_only=True)
    return np.count_nonzero(outputs, axis=0)


def won_any(winners):
    """Per unit, whether it won in any row (True for a dense layer)."""
    if winners is None:
        return True
    if isinstance(winners, SparseRows):
        return winners.counts() > 0
    return winners.any(axis=0)


def win_fraction(winners, n_rows):
    """Per unit, the fraction of rows it won."""
    if winners is None:
        return 1.0
    if isinstance(winners, SparseRows):
        return winners.counts() / n_rows
    return np.count_nonzero(winners, axis=0) / n_rows


def to_csr(outputs):
    """A hidden layer's outputs as a CSR matrix."""
    if isinstance(outputs, SparseRows):
        return outputs.to_csr()
    return sp.csr_matrix(outputs)


@dataclass
class Network:
    """The arithmetic of a multilayer perceptron with sparse hidden layers.

    Parameters
    ----------
    coefs, intercepts : list of ndarray
        The layers' weights and biases (the estimator's own arrays: updates
        in place are seen by both).
    activation : str
        The hidden layers' activation.
    out_activation : str
        The output layer's activation.
    backend : module
        A kernel backend (see :mod:`._backends.interface`).
    """

    coefs: list
    intercepts: list
    activation: str
    out_activation: str
    backend: object

    @property
    def n_hidden(self):
        return len(self.coefs) - 1

    def sparse_path(self, layer, n_active, n_rows):
        """Whether hidden ``layer`` with ``n_active`` winners, on batches of
        ``n_rows`` rows, runs on the sparse path."""
        width = self.coefs[layer].shape[1]
        fan_out = self.coefs[layer + 1].shape[1]
        return n_active < width and self.backend.use_sparse_path(
            n_active, width, fan_out, n_rows
        )

    def work(self, active_units, n_rows, training):
        """The :class:`~._backends.interface.Work` of one pass over a batch of
        ``n_rows`` rows: a prediction, or with ``training`` a training step
        (forward, backward and the optimizer step)."""
        winners = [
            active_units[layer]
            if self.sparse_path(layer, active_units[layer], n_rows)
            else None
            for layer in range(self.n_hidden)
        ]
        blas = kernel = selected = 0
        inputs_winners = None
        for layer, coef in enumerate(self.coefs):
            fan_in, fan_out = coef.shape
            outputs_winners = winners[layer] if layer < self.n_hidden else None
            if outputs_winners is not None:
                selected += fan_out
            # Training adds the weight gradient and (above the first layer)
            # the delta of the layer below to the forward product.
            backward = 0 if not training else (2 if layer > 0 else 1)
            if inputs_winners is not None:
                # Each winner's weight row in the forward product; its
                # entries at the outputs' winners (all outputs of a dense
                # layer) in the backward products.
                kernel += inputs_winners * fan_out
                kernel += backward * inputs_winners * (outputs_winners or fan_out)
            elif outputs_winners is not None:
                blas += fan_in * fan_out
                kernel += backward * fan_in * outputs_winners
            else:
                blas += (1 + backward) * fan_in * fan_out
            inputs_winners = outputs_winners
        parameters = 0
        if training:
            parameters = sum(coef.size for coef in self.coefs)
            parameters += sum(bias.size for bias in self.intercepts)
        return Work(blas * n_rows, kernel * n_rows, selected * n_rows, parameters)

    def pre_activations(self, layer, inputs):
        """``inputs @ W + b`` of one layer, as a dense array."""
        return self.backend.forward(inputs, self.coefs[layer], self.intercepts[layer])

    def hidden_output(self, layer, values, rule, n_active, scores=None):
        """Hidden ``layer``'s outputs and winners from its pre-activations.

        ``rule`` (None: every unit fires) picks the winners on ``scores``
        (default: the pre-activations); the winners output
        ``activation(values)``, every other unit 0. The compute path follows
        from the layer's shape, its ``n_active`` winners per row and the
        number of rows. Dense values are overwritten.
        """
        if rule is None:
            ACTIVATIONS[self.activation](values)
            return values, None
        if self.sparse_path(layer, n_active, values.shape[0]):
            winners = self.backend.select(values, rule, self.activation, scores)
            return winners, winners
        mask = rule.mask(values if scores is None else scores)
        ACTIVATIONS[self.activation](values)
        values *= mask
        return values, mask

    def held_output(self, values, winners):
        """A hidden layer's outputs with the winners of an earlier pass."""
        if winners is None:
            ACTIVATIONS[self.activation](values)
            return values
        if isinstance(winners, SparseRows):
            return self.backend.gather(values, winners, self.activation)
        ACTIVATIONS[self.activation](values)
        values *= winners
        return values

    def output(self, inputs):
        """The output layer's activations."""
        values = self.pre_activations(len(self.coefs) - 1, inputs)
        ACTIVATIONS[self.out_activation](values)
        return values

    # ------------------------------------------------------------------
    # Training
    # ------------------------------------------------------------------
    def forward_train(self, buffers, choose_rule=None):
        """Training-mode forward pass over ``buffers.activations[0]``.

        ``choose_rule(layer, values)`` returns hidden ``layer``'s rule and the
        scores it is applied to (None: the pre-activations); the winners are
        kept in ``buffers.masks``. Without ``choose_rule`` the winners already
        in ``buffers.masks`` are applied again (held winners).
        """
        activations = buffers.activations
        for layer in range(self.n_hidden):
            values = self.pre_activations(layer, activations[layer])
            if choose_rule is None:
                activations[layer + 1] = self.held_output(values, buffers.masks[layer])
                continue
            rule, scores = choose_rule(layer, values)
            activations[layer + 1], buffers.masks[layer] = self.hidden_output(
                layer, values, rule, buffers.active_units[layer], scores
            )
        activations[-1] = self.output(activations[-2])
        return activations

    def backward(self, y, sample_weight, alpha, weight_sum, buffers):
        """Deltas and penalised gradients of every layer, in ``buffers``.

        Every output activation is paired with its canonical loss, so the
        output delta is simply prediction - target; below it, gradients flow
        through the winners only.
        """
        backend = self.backend
        activations, deltas = buffers.activations, buffers.deltas
        last = self.n_hidden
        deltas[last] = activations[-1] - y
        if sample_weight is not None:
            deltas[last] *= sample_weight.reshape(-1, 1)
        self._gradients(last, alpha, weight_sum, buffers)
        silences_losers = self.activation in ZERO_OUTPUT_ZERO_DERIVATIVE
        for layer in range(last, 0, -1):
            winners = buffers.masks[layer - 1]
            if isinstance(winners, SparseRows):
                deltas[layer - 1] = backend.delta_at_winners(
                    deltas[layer], self.coefs[layer], winners, self.activation
                )
            else:
                delta = backend.backward_product(deltas[layer], self.coefs[layer])
                if winners is not None and not silences_losers:
                    delta *= winners
                DERIVATIVES[self.activation](activations[layer], delta)
                deltas[layer - 1] = delta
            self._gradients(layer - 1, alpha, weight_sum, buffers)

    def _gradients(self, layer, alpha, weight_sum, buffers):
        delta = buffers.deltas[layer]
        buffers.coef_grads[layer] = self.backend.weight_gradient(
            buffers.activations[layer], delta, self.coefs[layer], alpha, weight_sum
        )
        buffers.intercept_grads[layer] = self.backend.bias_gradient(delta, weight_sum)

    # ------------------------------------------------------------------
    # Prediction
    # ------------------------------------------------------------------
    def hidden_layers(self, X, rules, n_layers=None):
        """Prediction-mode pass over the first ``n_layers`` hidden layers
        (default: all) of some rows.

        ``rules`` are :class:`~._sparsity.InferenceRules`: every row is
        decided on its own. Returns the last layer's outputs and the list of
        every layer's winners.
        """
        n_layers = self.n_hidden if n_layers is None else n_layers
        outputs = X
        winners = []
        for layer in range(n_layers):
            values = self.pre_activations(layer, outputs)
            outputs, layer_winners = self.hidden_output(
                layer, values, rules.rule(layer, values), rules.active_units[layer]
            )
            winners.append(layer_winners)
        return outputs, winners


def as_row_sliceable(X):
    """CSC input is converted once to CSR so that row batches are cheap."""
    return X.tocsr() if sp.issparse(X) and X.format == "csc" else X
