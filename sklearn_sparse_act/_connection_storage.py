"""How a model with sparse connections is persisted: its present weights only.

Pickle, joblib and skops save an estimator through ``__getstate__`` and
restore it through ``__setstate__``. :class:`CompactConnectionsMixin` stores
every array of a sparse hidden layer that is zero wherever its weights are
absent (``coefs_``, the best epoch's copy, the optimizer's velocities or
moment estimates) as the 1d array of its values at the present weights, and
the layer's connection mask as packed bits: a model at weight density ``d``
saves about ``d`` of those bytes. Restoring rebuilds the dense arrays, bit
for bit (absent weights are +0.0, see :func:`._connections.zero_absent`).
In memory ``coefs_`` stays a list of dense arrays, as scikit-learn's
``MLPClassifier`` has it.

It needs from the estimator only its attributes ``connection_masks_``,
``coefs_``, ``_best_coefs`` and ``_optimizer_state``.
"""

import numpy as np

# Key of the stored connections in a persisted estimator's state.
STORAGE_KEY = "_stored_connections"

# The optimizer state's lists of arrays, one per parameter array (the
# weights' first): each follows its weights' zeros.
_OPTIMIZER_ARRAYS = ("velocities", "first_moments", "second_moments")


def _present_values(arrays, masks):
    """The list ``arrays`` with each masked layer's array as its values at the
    present weights (a new list; the arrays are not changed)."""
    stored = list(arrays)
    for layer, mask in enumerate(masks):
        if mask is not None:
            stored[layer] = arrays[layer][mask]
    return stored


def _dense_arrays(stored, masks):
    """The inverse of :func:`_present_values`: dense arrays, zero where
    absent."""
    arrays = list(stored)
    for layer, mask in enumerate(masks):
        if mask is not None:
            dense = np.zeros(mask.shape, dtype=stored[layer].dtype)
            dense[mask] = stored[layer]
            arrays[layer] = dense
    return arrays


def _packed(mask):
    return None if mask is None else (mask.shape, np.packbits(mask))


def _unpacked(packed):
    if packed is None:
        return None
    shape, bits = packed
    size = int(np.prod(shape))
    return np.unpackbits(bits, count=size).reshape(shape).astype(bool)


def compact_state(state):
    """``state`` (an estimator's ``__dict__``, or a copy) with the arrays of
    its sparse layers stored at the present weights only; a new dict."""
    masks = state.get("connection_masks_")
    if masks is None or all(mask is None for mask in masks):
        return state
    state = _with_layer_arrays(state, _present_values, masks)
    state[STORAGE_KEY] = [_packed(mask) for mask in masks]
    del state["connection_masks_"]
    return state


def expand_state(state):
    """The inverse of :func:`compact_state`; a new dict, or ``state`` itself
    when it stores no connections."""
    if STORAGE_KEY not in state:
        return state
    state = dict(state)
    masks = [_unpacked(packed) for packed in state.pop(STORAGE_KEY)]
    state["connection_masks_"] = masks
    return _with_layer_arrays(state, _dense_arrays, masks)


def _with_layer_arrays(state, convert, masks):
    """A copy of ``state`` whose per-layer weight arrays (the weights, the
    best epoch's and the optimizer's) are ``convert(arrays, masks)``."""
    state = dict(state)
    for name in ("coefs_", "_best_coefs"):
        if name in state:
            state[name] = convert(state[name], masks)
    optimizer_state = state.get("_optimizer_state")
    if optimizer_state is not None:
        optimizer_state = dict(optimizer_state)
        for name in _OPTIMIZER_ARRAYS:
            if name in optimizer_state:
                optimizer_state[name] = convert(optimizer_state[name], masks)
        state["_optimizer_state"] = optimizer_state
    return state


class CompactConnectionsMixin:
    """Persist the sparse layers of an estimator at their present weights.

    Put it before :class:`~sklearn.base.BaseEstimator` among the bases: it
    chains to the ``__getstate__`` and ``__setstate__`` after it.
    """

    def __getstate__(self):
        return compact_state(super().__getstate__())

    def __setstate__(self, state):
        super().__setstate__(expand_state(state))
