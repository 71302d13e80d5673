"""The records of one training step, and how their arrays are refilled.

A :class:`ForwardPass` holds what a training forward pass computed, a
:class:`Gradients` what the backward pass did; the estimator makes one of
each per fit (:meth:`~._base.BaseSparseMLP._solve`), and every step of the
solver refills them through :class:`~._network.Network`. The arrays the size
of a layer (a dense-path hidden layer's outputs and delta, every weight
gradient) are made by the first step that needs them and written in place by
the later ones (:func:`refillable`, :func:`kept_for_refill`), as
scikit-learn's MLP does with its per-layer arrays: a step holds one of each,
never the last step's beside its own. A stochastic solver also keeps, per
fit, copies of its sparse layers' present weights that its steps read and
update (:class:`KeptWeights`). It needs nothing from the rest of the
package.
"""

from dataclasses import dataclass, field

import numpy as np


@dataclass
class ForwardPass:
    """What a training forward pass computed, layer by layer.

    ``activations[0]`` is the input batch and ``activations[i + 1]`` the
    output of layer ``i``; ``winners[i]`` holds hidden layer ``i``'s winners
    (a boolean mask on the dense path, the
    :class:`~._backends.interface.SparseRows` of its outputs on the sparse
    path, None for a dense layer); ``observed_thresholds[i]`` the threshold
    its strategy saw on the batch ('dynamic'), or None;
    ``dense_outputs[i]`` the array of hidden layer ``i``'s dense outputs
    that a step on the dense path made (None before), refilled with the
    next steps' pre-activations.
    """

    n_layers: int
    activations: list = field(init=False)
    winners: list = field(init=False)
    observed_thresholds: list = field(init=False)
    dense_outputs: list = field(init=False)

    def __post_init__(self):
        self.activations = [None] * self.n_layers
        self.winners = [None] * (self.n_layers - 2)
        self.observed_thresholds = [None] * (self.n_layers - 2)
        self.dense_outputs = [None] * (self.n_layers - 2)

    @property
    def hidden_outputs(self):
        """The outputs of the hidden layers."""
        return self.activations[1:-1]


@dataclass
class Gradients:
    """The backward pass's per-layer arrays: ``deltas[i]`` the loss's
    derivative at layer ``i``'s pre-activations, ``coef_grads[i]`` and
    ``intercept_grads[i]`` the penalised gradients of its parameters (each
    weight gradient refilled in place by the next step, or a sparse layer's
    a :class:`~._backends.interface.PresentGradient`);
    ``dense_deltas[i]`` the array of hidden layer ``i``'s dense delta that a
    step made (None before), refilled by the next steps."""

    n_layers: int
    deltas: list = field(init=False)
    coef_grads: list = field(init=False)
    intercept_grads: list = field(init=False)
    dense_deltas: list = field(init=False)

    def __post_init__(self):
        self.deltas = [None] * (self.n_layers - 1)
        self.coef_grads = [None] * (self.n_layers - 1)
        self.intercept_grads = [None] * (self.n_layers - 1)
        self.dense_deltas = [None] * (self.n_layers - 2)


@dataclass
class KeptWeights:
    """Copies of the sparse hidden layers' present weights that a stochastic
    solver's steps read in place of the weight matrices (a tenth of one at
    weight density 0.1, where gathering them reads all of it), kept equal
    to the weights by its optimizer's steps.

    ``copies[layer]`` is ``(dense_inputs, held)``: the copy a backend's
    ``hold_weights`` made of the layer's weights (None where it makes
    nothing) for its product from dense inputs or from winners. The first
    step that multiplies a layer makes its copy; a later step whose product
    takes the other inputs (a last, smaller batch on the other path, say)
    makes a new one in its place. Only a solver whose every change of the
    weights is an optimizer step given :meth:`per_parameter` may keep one:
    L-BFGS, which sets the weights from its own vector, keeps none.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_sparse_act._step_records import KeptWeights
    >>> kept = KeptWeights(n_layers=3)
    >>> copy = kept.held(0, True, lambda: np.zeros(5))
    >>> kept.held(0, True, lambda: np.ones(5)) is copy  # made once
    True
    >>> [entry is copy for entry in kept.per_layer()]
    [True, False]
    >>> [entry is copy for entry in kept.per_parameter()]
    [True, False, False, False]
    >>> kept.forget()
    >>> kept.per_parameter()
    [None, None, None, None]
    """

    n_layers: int
    copies: dict = field(default_factory=dict)

    def held(self, layer, dense_inputs, hold):
        """Layer ``layer``'s copy for its product from dense inputs (or from
        winners); ``hold()`` makes it if the layer has none for that
        product."""
        kept = self.copies.get(layer)
        if kept is None or kept[0] != dense_inputs:
            kept = (dense_inputs, hold())
            self.copies[layer] = kept
        return kept[1]

    def forget(self):
        """Drop every copy, after the weights changed otherwise than by an
        optimizer's step (the best epoch's weights restored): the next step
        makes its copies anew."""
        self.copies.clear()

    def per_layer(self):
        """Per layer's weights, its copy or None."""
        return [
            self.copies.get(layer, (None, None))[1]
            for layer in range(self.n_layers - 1)
        ]

    def per_parameter(self):
        """Per parameter array (the weights of every layer, then the
        biases), its copy or None: what the optimizer's steps keep equal to
        the weights."""
        return self.per_layer() + [None] * (self.n_layers - 1)


def refillable(array, shape, dtype):
    """The part of ``array`` (an array a step made, or None) that a result
    of ``shape`` and ``dtype`` can be written to: its first ``shape[0]``
    rows, or None when it has fewer, other columns or another dtype (or is
    not an array: a gradient held at the present weights is made anew).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_sparse_act._step_records import refillable
    >>> kept = np.zeros((200, 64))
    >>> refillable(kept, (50, 64), np.float64).shape  # a last, smaller batch
    (50, 64)
    >>> refillable(kept, (300, 64), np.float64) is None
    True
    """
    if not isinstance(array, np.ndarray):
        return None
    if array.dtype != dtype or array.shape[1:] != shape[1:]:
        return None
    if array.shape[0] < shape[0]:
        return None
    return array[: shape[0]]


def kept_for_refill(kept, result):
    """What to keep for the next steps to refill: ``result`` (a dense
    array) unless ``kept`` already holds at least as many rows, else
    ``kept``."""
    if not isinstance(result, np.ndarray):
        return kept
    if kept is not None and kept.shape[0] >= result.shape[0]:
        return kept
    return result
