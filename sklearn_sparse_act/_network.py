"""The network core: forward and backward passes through the winners.

A :class:`Network` is a view of a model's parameters together with a kernel
backend (:mod:`._backends`); it does the arithmetic and nothing else. Each
layer's rule comes from outside: in training from the hidden layers'
sparsity (:class:`~._hidden_sparsity.HiddenSparsity`, through a function
returning a :class:`~._sparsity.TrainingRule`), at prediction from
:class:`~._sparsity.InferenceRules`.

One training step's data flow is explicit: :meth:`Network.forward_train`
fills and returns a :class:`~._step_records.ForwardPass` (per layer its
outputs, and per hidden layer its winners and the threshold its strategy
observed); :meth:`Network.backprop` takes it and fills
:class:`~._step_records.Gradients`. Both records are allocated once per fit
and refilled by every step, their arrays the size of a layer in place
(:mod:`._step_records`).

A hidden layer runs on one of two paths, decided per layer by the backend's
cost model from its shape, its number of winners and the number of rows:

- dense: its outputs are an ``(n, width)`` array with zeros at the losers,
  and its winners a boolean mask (BLAS does the products);
- sparse: its outputs are :class:`~._backends.interface.SparseRows` holding
  only the winners (a training pass's outputs are its winners too); the
  products that touch it (forward, backward delta, weight gradient) run over them.

Both paths, and both backends, compute the same numbers up to round-off.
Weights held as a sparse matrix (``sparsify_weights()``) are multiplied by
SciPy, at prediction only. What winners say (which units won, how often) is
:mod:`._winners`'s.
"""

import copy
from dataclasses import dataclass, field
from itertools import chain

import numpy as np
import scipy.sparse as sp
from sklearn.utils.extmath import safe_sparse_dot

from ._activations import ACTIVATIONS, DERIVATIVES, ZERO_OUTPUT_ZERO_DERIVATIVE
from ._backends.interface import Connections, SparseRows, Work
from ._step_records import kept_for_refill, refillable


@dataclass
class Network:
    """The arithmetic of a multilayer perceptron with sparse hidden layers.

    Parameters
    ----------
    coefs, intercepts : list of ndarray
        The layers' weights and biases: the estimator's own lists, so an
        array a solver replaces in them, or updates in place, is the
        estimator's too.
    activation : str
        The hidden layers' activation.
    out_activation : str
        The output layer's activation.
    backend : module
        A kernel backend (see :mod:`._backends.interface`).
    connection_masks : list of (ndarray of bool or None), default=None
        Per hidden layer, the mask of its present weights (None: fully
        connected); None: every layer is. The weights are zero where absent,
        so the products need no mask; a weight gradient is zero there, or
        held at the present weights only
        (:class:`~._backends.interface.PresentGradient`).
    predicts_over_connections : bool, default=False
        Whether the passes at prediction, like the training steps, let the
        backend skip the absent weights. A network that trains lays out its
        connections for the kernels once (:class:`Connections`), and its
        passes at prediction (the validation score, the passes over the
        training data at the end of ``fit``) reuse that layout; a network
        made for one prediction call multiplies the dense weights, which
        needs no layout (laying out a pattern costs about as much as a
        dense product over a hundred rows or more). The layout is the
        backend's (``lay_out_connections``) if it has one.
    """

    coefs: list
    intercepts: list
    activation: str
    out_activation: str
    backend: object
    connection_masks: list | None = None
    predicts_over_connections: bool = False
    _connections: dict = field(default_factory=dict, init=False, repr=False)
    _held: dict = field(default_factory=dict, init=False, repr=False)

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
        over_connections = training or self.predicts_over_connections
        densities = []
        for layer, coef in enumerate(self.coefs):
            fan_in, fan_out = coef.shape
            outputs_winners = winners[layer] if layer < self.n_hidden else None
            if outputs_winners is not None:
                selected += fan_out
            # Training adds the weight gradient and (above the first layer)
            # the delta of the layer below to the forward product. The
            # kernels over present weights do a density's share of the
            # forward product and of the gradient at the winners.
            backward = 0 if not training else (2 if layer > 0 else 1)
            dense_inputs = inputs_winners is None
            density = (
                self._kernel_density(layer, dense_inputs) if over_connections else None
            )
            densities.append(density)
            if inputs_winners is not None:
                # Each winner's weight row in the forward product; its
                # entries at the outputs' winners (all outputs of a dense
                # layer) in the backward products.
                kernel += inputs_winners * fan_out * (density or 1)
                kernel += backward * inputs_winners * (outputs_winners or fan_out)
            elif density is not None:
                kernel += density * fan_in * fan_out
                if outputs_winners is not None:
                    kernel += backward * density * fan_in * outputs_winners
                else:
                    blas += backward * fan_in * fan_out
            elif outputs_winners is not None:
                blas += fan_in * fan_out
                kernel += backward * fan_in * outputs_winners
            else:
                blas += (1 + backward) * fan_in * fan_out
            inputs_winners = outputs_winners
        parameters = 0
        if training:
            parameters = sum(
                coef.size * (density or 1)
                for coef, density in zip(self.coefs, densities, strict=True)
            )
            parameters += sum(bias.size for bias in self.intercepts)
        return Work(
            blas * n_rows, int(kernel * n_rows), selected * n_rows, int(parameters)
        )

    def _kernel_density(self, layer, dense_inputs):
        """Layer ``layer``'s weight density when the backend's kernels over
        its present weights run its products (from dense inputs, or from
        winners), else None."""
        connections = self.connections(layer)
        if connections is None:
            return None
        if not self.backend.use_connection_path(connections.density, dense_inputs):
            return None
        return connections.density

    def pre_activations(self, layer, inputs, training=False, out=None, held=None):
        """``inputs @ W + b`` of one layer, as a dense array (into ``out`` if
        given); in ``training``, or at prediction in a network that
        ``predicts_over_connections``, the backend may skip the absent
        weights, reading them from ``held`` (a training step's copy) or what
        :meth:`holding_weights` held. SciPy multiplies weights held as a
        sparse matrix (``sparsify_weights()``, prediction only)."""
        if sp.issparse(self.coefs[layer]):
            if isinstance(inputs, SparseRows):
                inputs = inputs.to_csr()
            values = safe_sparse_dot(inputs, self.coefs[layer], dense_output=True)
            values += self.intercepts[layer]
            return values
        over_connections = training or self.predicts_over_connections
        connections = self.connections(layer) if over_connections else None
        if held is None and not training:
            held = self._held.get(layer)
        return self.backend.forward(
            inputs,
            self.coefs[layer],
            self.intercepts[layer],
            connections,
            out=out,
            held=held,
        )

    def holding_weights(self, active_units, n_rows):
        """This network for a pass of predictions in which its weights do not
        change (over many chunks of rows): each sparse layer's present
        weights prepared once for the backend's product that takes them
        (:meth:`~._backends.interface.KernelBackend.hold_weights`), not in
        every chunk; ``active_units`` (winners per row of each hidden layer
        under the pass's rules) and ``n_rows`` (rows per chunk) say whether
        a layer's inputs are dense or the winners of the layer below. A
        network that does not ``predicts_over_connections`` is returned as
        it is. The weights must not change while the network returned
        predicts; its training steps read them as they are."""
        if not self.predicts_over_connections:
            return self
        network = copy.copy(self)
        network._held = {}
        for layer in range(self.n_hidden):
            connections = self.connections(layer)
            if connections is None or sp.issparse(self.coefs[layer]):
                continue
            dense_inputs = layer == 0 or not self.sparse_path(
                layer - 1, active_units[layer - 1], n_rows
            )
            network._held[layer] = self.backend.hold_weights(
                self.coefs[layer], connections, dense_inputs
            )
        return network

    def _outputs_shape(self, layer, inputs):
        """Shape and dtype of layer ``layer``'s pre-activations of ``inputs``."""
        coef = self.coefs[layer]
        return (inputs.shape[0], coef.shape[1]), np.result_type(inputs.dtype, coef)

    def connection_mask(self, layer):
        """Layer ``layer``'s mask of present weights, or None (every weight
        present: a fully connected hidden layer, or the output layer)."""
        if self.connection_masks is None or layer >= len(self.connection_masks):
            return None
        return self.connection_masks[layer]

    def connections(self, layer):
        """Layer ``layer``'s :class:`~._backends.interface.Connections`, made
        once per network, or None for a fully connected layer."""
        mask = self.connection_mask(layer)
        if mask is None:
            return None
        if layer not in self._connections:
            self._connections[layer] = Connections(
                mask, self.backend.lay_out_connections
            )
        return self._connections[layer]

    def parameter_connections(self):
        """Per parameter array (the weights, then the biases), its
        connections or None: what the optimizer steps may skip."""
        return [self.connections(layer) for layer in range(len(self.coefs))] + [
            None
        ] * len(self.intercepts)

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

    def parameters_finite(self):
        """Whether every weight and bias is finite."""
        return all(np.isfinite(p).all() for p in chain(self.coefs, self.intercepts))

    def check_solution(self, loss, full_batch):
        """Raise if a solver left non-finite weights, or a full-batch solver
        (L-BFGS) a non-finite loss."""
        if not self.parameters_finite():
            raise ValueError(
                "Solver produced non-finite parameter weights. The input data may"
                " contain large values and need to be preprocessed."
            )
        if full_batch and not np.isfinite(loss):
            # Finite weights can still give a non-finite loss (the Poisson
            # model's exp link, or L-BFGS stopping at its starting point).
            raise ValueError(
                "Solver produced a non-finite training loss. The input data may"
                " contain large values and need to be preprocessed."
            )

    # ------------------------------------------------------------------
    # Training
    # ------------------------------------------------------------------
    def forward_train(self, X, training_rule, sample_weight, forward, kept=None):
        """Training-mode forward pass over the batch ``X``, into ``forward``.

        ``training_rule(layer, values, sample_weight)`` returns hidden
        ``layer``'s :class:`~._sparsity.TrainingRule` for its pre-activations
        ``values``: the batch's winners are chosen by it, and what it observed
        is kept. The sparse layers' products read their present weights from
        ``kept`` (:class:`~._step_records.KeptWeights`), if given. Returns
        ``forward``, a :class:`ForwardPass`.
        """
        activations = forward.activations
        activations[0] = X
        for layer in range(self.n_hidden):
            out = refillable(
                forward.dense_outputs[layer],
                *self._outputs_shape(layer, activations[layer]),
            )
            values = self.pre_activations(
                layer,
                activations[layer],
                training=True,
                out=out,
                held=self._kept_copy(kept, layer, activations[layer]),
            )
            rule, scores, n_active, observed = training_rule(
                layer, values, sample_weight
            )
            activations[layer + 1], forward.winners[layer] = self.hidden_output(
                layer, values, rule, n_active, scores
            )
            forward.dense_outputs[layer] = kept_for_refill(
                forward.dense_outputs[layer], activations[layer + 1]
            )
            forward.observed_thresholds[layer] = observed
        activations[-1] = self.output(activations[-2])
        return forward

    def _kept_copy(self, kept, layer, inputs):
        """Sparse ``layer``'s copy in ``kept`` for its product from
        ``inputs`` (made now if it has none for such inputs), or None."""
        connections = self.connections(layer)
        if kept is None or connections is None or sp.issparse(inputs):
            return None
        dense_inputs = not isinstance(inputs, SparseRows)
        return kept.held(
            layer,
            dense_inputs,
            lambda: self.backend.hold_weights(
                self.coefs[layer], connections, dense_inputs
            ),
        )

    def forward_held(self, X, forward):
        """Training-mode forward pass over ``X`` with the winners that
        ``forward`` holds from an earlier pass over the same rows (L-BFGS's
        line search). Returns ``forward``."""
        activations = forward.activations
        activations[0] = X
        for layer in range(self.n_hidden):
            out = refillable(
                forward.dense_outputs[layer],
                *self._outputs_shape(layer, activations[layer]),
            )
            values = self.pre_activations(
                layer, activations[layer], training=True, out=out
            )
            activations[layer + 1] = self.held_output(values, forward.winners[layer])
            forward.dense_outputs[layer] = kept_for_refill(
                forward.dense_outputs[layer], activations[layer + 1]
            )
        activations[-1] = self.output(activations[-2])
        return forward

    def backprop(
        self, forward, y, sample_weight, loss_function, alpha, gradients, kept=None
    ):
        """The penalised loss of a forward pass, and its gradients.

        ``loss_function(y, y_pred, sample_weight)`` is the data term; the L2
        penalty ``alpha / 2 * ||W||^2`` is divided by the batch's total sample
        weight, as the gradients are (a sparse layer's norm is its copy's in
        ``kept``, if it has one: the same squares without the absent zeros).
        Fills ``gradients`` (a :class:`Gradients`) and returns the loss.
        """
        X = forward.activations[0]
        weight_sum = X.shape[0] if sample_weight is None else sample_weight.sum()
        loss = loss_function(y, forward.activations[-1], sample_weight)
        copies = [None] * len(self.coefs) if kept is None else kept.per_layer()
        penalised = [
            coef if copy is None else copy.values
            for coef, copy in zip(self.coefs, copies, strict=True)
        ]
        loss += (0.5 * alpha) * self.backend.squared_norm(penalised) / weight_sum
        self.backward(forward, y, sample_weight, alpha, weight_sum, gradients, copies)
        return loss

    def backward(self, forward, y, sample_weight, alpha, weight_sum, gradients, copies):
        """Deltas and penalised gradients of every layer, into ``gradients``.

        Every output activation is paired with its canonical loss, so the
        output delta is simply prediction - target; below it, gradients flow
        through the winners of ``forward`` only. A layer's penalty may read
        its weights from its copy in ``copies`` (per layer, or None).
        """
        backend = self.backend
        activations, deltas = forward.activations, gradients.deltas
        last = self.n_hidden
        deltas[last] = activations[-1] - y
        if sample_weight is not None:
            deltas[last] *= sample_weight.reshape(-1, 1)
        self._gradients(last, activations, alpha, weight_sum, gradients, copies)
        silences_losers = self.activation in ZERO_OUTPUT_ZERO_DERIVATIVE
        for layer in range(last, 0, -1):
            winners = forward.winners[layer - 1]
            if isinstance(winners, SparseRows):
                # Derivatives at this pass's outputs (a held pass's are new).
                outputs = activations[layer]
                deltas[layer - 1] = backend.delta_at_winners(
                    deltas[layer], self.coefs[layer], outputs, self.activation
                )
            else:
                coef = self.coefs[layer]
                shape = (deltas[layer].shape[0], coef.shape[0])
                out = refillable(
                    gradients.dense_deltas[layer - 1],
                    shape,
                    np.result_type(deltas[layer].dtype, coef),
                )
                delta = backend.backward_product(deltas[layer], coef, out=out)
                gradients.dense_deltas[layer - 1] = kept_for_refill(
                    gradients.dense_deltas[layer - 1], delta
                )
                if winners is not None and not silences_losers:
                    delta *= winners
                DERIVATIVES[self.activation](activations[layer], delta)
                deltas[layer - 1] = delta
            self._gradients(
                layer - 1, activations, alpha, weight_sum, gradients, copies
            )

    def _gradients(self, layer, activations, alpha, weight_sum, gradients, copies):
        delta = gradients.deltas[layer]
        coef = self.coefs[layer]
        dtype = np.result_type(activations[layer].dtype, delta.dtype, coef)
        gradients.coef_grads[layer] = self.backend.weight_gradient(
            activations[layer],
            delta,
            coef,
            alpha,
            weight_sum,
            self.connections(layer),
            out=refillable(gradients.coef_grads[layer], coef.shape, dtype),
            held=copies[layer],
        )
        gradients.intercept_grads[layer] = self.backend.bias_gradient(delta, weight_sum)

    # ------------------------------------------------------------------
    # Prediction
    # ------------------------------------------------------------------
    def hidden_layers(self, X, rules, n_layers=None):
        """Prediction-mode pass over the first ``n_layers`` hidden layers
        (default: all) of some rows.

        ``rules`` are :class:`~._sparsity.InferenceRules`: every row is
        decided on its own, its winners chosen on the boosted pre-activations
        when the rules have boost factors. Returns the last layer's outputs
        and the list of every layer's winners.
        """
        n_layers = self.n_hidden if n_layers is None else n_layers
        outputs = X
        winners = []
        for layer in range(n_layers):
            values = self.pre_activations(layer, outputs)
            rule = rules.rule(layer, values)
            scores = None if rule is None else rules.scores(layer, values)
            outputs, layer_winners = self.hidden_output(
                layer, values, rule, rules.active_units[layer], scores
            )
            winners.append(layer_winners)
        return outputs, winners


def as_row_sliceable(X):
    """CSC input is converted once to CSR so that row batches are cheap."""
    return X.tocsr() if sp.issparse(X) and X.format == "csc" else X
