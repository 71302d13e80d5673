"""Sparse connections of the hidden layers: which incoming weights exist.

With ``weight_density`` below 1, each unit of a hidden layer keeps a fixed
number of its possible inputs, chosen at random when the parameters are
first drawn; the other weights are absent, stay exactly zero, and receive no
gradient. The output layer is always fully connected.

This module owns the per-layer densities (checked), the number of inputs a
unit keeps, the first draw of the parameters with their connection masks,
and zeroing what belongs to absent weights. It needs from the rest of the
package only :func:`._memory.allocation_error`, to name a layer whose weights
cannot be drawn, and the check of per-layer fractions that
``activation_ratio`` shares (:func:`._sparsity.per_hidden_layer`). The
estimator stores the masks (``connection_masks_``), the network
(:class:`~._network.Network`) and L-BFGS's unpacking apply them.
"""

from itertools import pairwise

import numpy as np

from ._memory import allocation_error
from ._sparsity import per_hidden_layer


def layer_weight_densities(weight_density, n_hidden):
    """One weight density per hidden layer, checked.

    Examples
    --------
    >>> from sklearn_sparse_act._connections import layer_weight_densities
    >>> layer_weight_densities(0.3, 2)
    [0.3, 0.3]
    >>> layer_weight_densities([0.3, 1.0], 2)
    [0.3, 1.0]
    """
    return per_hidden_layer(weight_density, n_hidden, "weight_density", "density")


def connected_inputs(density, fan_in):
    """How many of its ``fan_in`` possible inputs each unit of a layer with
    weight density ``density`` keeps: ``max(1, floor(density * fan_in +
    0.5))``.

    Examples
    --------
    >>> from sklearn_sparse_act._connections import connected_inputs
    >>> connected_inputs(0.3, 64), connected_inputs(0.01, 20), connected_inputs(1, 7)
    (19, 1, 7)
    """
    return max(1, int(np.floor(density * fan_in + 0.5)))


def kept_inputs(layer_units, densities):
    """Per hidden layer of a network with ``layer_units`` units per layer,
    how many inputs each of its units keeps at its weight density.

    Examples
    --------
    >>> from sklearn_sparse_act._connections import kept_inputs
    >>> kept_inputs([64, 100, 50, 10], [0.3, 1.0])
    [19, 100]
    """
    return [
        connected_inputs(density, fan_in)
        for fan_in, density in zip(layer_units, densities, strict=False)
    ]


def initial_parameters(layer_units, densities, activation, random_state, dtype):
    """The first weights, biases and connection masks of a network.

    Weights and biases are Glorot-uniform, as scikit-learn's MLP draws them,
    layer by layer, with each unit's fan-in counted as the inputs it keeps
    (so a sparse layer's pre-activations have the scale of a dense one's).
    Then the connections of every sparse hidden layer are drawn: each unit
    keeps ``connected_inputs(density, fan_in)`` inputs chosen uniformly
    without replacement. A hidden layer whose units keep every input, and
    the output layer, get no mask (None) and draw no connections, so a fully
    connected network draws exactly what scikit-learn's does.

    Parameters
    ----------
    layer_units : list of int
        The widths of the input, hidden and output layers.
    densities : list of float
        The weight density of each hidden layer.
    activation : str
        The hidden layers' activation ('logistic' has a smaller bound).
    random_state : numpy.random.RandomState
        Where every number is drawn from.
    dtype : numpy dtype
        The parameters' dtype.

    Returns
    -------
    coefs, intercepts : list of ndarray
        The weights (zero where absent) and the biases.
    masks : list of ndarray of bool or None
        Per hidden layer, the ``(fan_in, width)`` mask of present weights, or
        None for a fully connected layer.
    """
    factor = 2.0 if activation == "logistic" else 6.0
    kept = [
        connected_inputs(density, fan_in)
        for density, fan_in in zip(densities, layer_units, strict=False)
    ]
    coefs, intercepts = [], []
    for layer, (fan_in, fan_out) in enumerate(pairwise(layer_units)):
        inputs = kept[layer] if layer < len(kept) else fan_in
        bound = np.sqrt(factor / (inputs + fan_out))
        try:
            coef = random_state.uniform(-bound, bound, (fan_in, fan_out))
        except MemoryError as error:
            raise allocation_error(error, layer_units, layer) from error
        intercept = random_state.uniform(-bound, bound, fan_out)
        coefs.append(coef.astype(dtype, copy=False))
        intercepts.append(intercept.astype(dtype, copy=False))
    masks = []
    for layer, inputs in enumerate(kept):
        fan_in, width = coefs[layer].shape
        if inputs == fan_in:
            masks.append(None)
            continue
        mask = _draw_mask(fan_in, width, inputs, random_state)
        zero_absent(coefs[layer], mask)
        masks.append(mask)
    return coefs, intercepts, masks


def _draw_mask(fan_in, width, inputs, random_state):
    """A ``(fan_in, width)`` mask with ``inputs`` True entries per column, at
    rows chosen uniformly without replacement (the smallest of a column of
    uniform draws: the chosen set does not depend on how a partition orders
    its first ``inputs`` entries)."""
    scores = random_state.random_sample((width, fan_in))
    chosen = np.argpartition(scores, inputs - 1, axis=1)[:, :inputs]
    mask = np.zeros((fan_in, width), dtype=bool)
    mask[chosen, np.arange(width)[:, np.newaxis]] = True
    return mask


def check_same_connections(fitted_densities, densities, held_sparse=False):
    """Raise if continuing a fit (``warm_start``, ``partial_fit``) would
    change the weight densities the connections were drawn for, or would
    train weights held as sparse matrices (``sparsify_weights()``)."""
    if held_sparse:
        raise ValueError(
            "This model holds its sparse layers as sparse matrices "
            "(sparsify_weights()); call densify_weights() before continuing "
            "to train it with warm_start or partial_fit."
        )
    if fitted_densities != densities:
        raise ValueError(
            "warm_start and partial_fit keep the fitted connections: the model "
            f"was fitted with weight densities {fitted_densities}, but "
            f"weight_density now gives {densities}. Refit from scratch with "
            "warm_start=False to change them."
        )


def zero_absent(array, mask, absent=None):
    """Set the entries of a layer's weights, or of their gradient, where the
    weights are absent to +0.0, in place (``mask`` None: every weight is
    present; ``absent``, if given, is ``~mask``). Not a product with the
    mask, which would leave -0.0 at the negative entries: every absent weight
    has the same bits."""
    if mask is not None:
        np.copyto(array, 0, where=~mask if absent is None else absent)
