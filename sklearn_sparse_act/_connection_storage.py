"""How a model with sparse connections is persisted and held: its present
weights only.

Pickle, joblib and skops save an estimator through ``__getstate__`` and
restore it through ``__setstate__``. :class:`CompactConnectionsMixin` stores
the arrays of a sparse hidden layer that are zero wherever its weights are
absent (``coefs_`` and the best epoch's copy) as the 1d array of their
values at the present weights, and the layer's connection mask as packed
bits: a model at weight density ``d`` saves about ``d`` of those bytes (the
optimizer's velocities or moment estimates of the layer are held at its
present weights in memory already, :mod:`._optimizers`, and are stored as
they are). Restoring rebuilds the dense arrays, bit for bit (absent weights
are +0.0, see :func:`._connections.zero_absent`).

In memory ``coefs_`` is a list of dense arrays, as scikit-learn's
``MLPClassifier`` has it, until
:meth:`~CompactConnectionsMixin.sparsify_weights` holds each sparse layer's
weights as a CSR matrix whose stored entries are the present weights (the
mask's pattern, zeros included) and the best epoch's copy as its values at
the present weights, as scikit-learn's linear models' ``sparsify`` holds
``coef_`` (another name, because scikit-learn's checks take an estimator with
a ``sparsify`` method for a linear model);
:meth:`~CompactConnectionsMixin.densify_weights` goes back, bit for bit. A
model persisted while held sparse is restored held sparse.

It needs from the estimator only its attributes ``connection_masks_``,
``coefs_`` and ``_best_coefs``, and its ``_check_is_fitted``.
"""

import numpy as np
import scipy.sparse as sp

# Key of the stored connections in a persisted estimator's state.
STORAGE_KEY = "_stored_connections"
# Key marking the persisted state of a model held sparse (sparsify_weights()).
HELD_SPARSE_KEY = "_connections_held_sparse"


def _present_values(arrays, masks):
    """The list ``arrays`` with each masked layer's array as its values at the
    present weights (a new list; the arrays are not changed)."""
    stored = list(arrays)
    for layer, mask in enumerate(masks):
        if mask is not None:
            stored[layer] = _values_at(arrays[layer], mask)
    return stored


def _values_at(array, mask):
    """A masked layer's array's values at the present weights, in row-major
    order: from a dense array, from the CSR matrix :func:`_as_csr`
    made, or the 1d array of them itself."""
    if sp.issparse(array):
        return array.data
    if array.ndim == 1:
        return array
    return array[mask]


def _dense_arrays(stored, masks):
    """The inverse of :func:`_present_values`: dense arrays, zero where
    absent."""
    arrays = list(stored)
    for layer, mask in enumerate(masks):
        if mask is not None:
            dense = np.zeros(mask.shape, dtype=stored[layer].dtype)
            dense[mask] = _values_at(stored[layer], mask)
            arrays[layer] = dense
    return arrays


def _as_csr(arrays, masks):
    """The list ``arrays`` with each masked layer's array as a CSR matrix
    whose stored entries are the present weights (zeros included)."""
    held = list(arrays)
    for layer, mask in enumerate(masks):
        if mask is not None:
            indptr = np.zeros(mask.shape[0] + 1, dtype=np.int64)
            np.cumsum(np.count_nonzero(mask, axis=1), out=indptr[1:])
            indices = np.nonzero(mask)[1]
            values = _values_at(arrays[layer], mask).copy()
            held[layer] = sp.csr_matrix((values, indices, indptr), shape=mask.shape)
    return held


def any_held_sparse(coefs):
    """Whether some layer's weights in ``coefs`` are a sparse matrix."""
    return any(sp.issparse(coef) for coef in coefs)


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
    held_sparse = any_held_sparse(state["coefs_"])
    state = _with_layer_arrays(state, _present_values, masks)
    state[STORAGE_KEY] = [_packed(mask) for mask in masks]
    del state["connection_masks_"]
    if held_sparse:
        state[HELD_SPARSE_KEY] = True
    return state


def expand_state(state):
    """The inverse of :func:`compact_state`; a new dict, or ``state`` itself
    when it stores no connections."""
    if STORAGE_KEY not in state:
        return state
    state = dict(state)
    state.pop(HELD_SPARSE_KEY, None)
    masks = [_unpacked(packed) for packed in state.pop(STORAGE_KEY)]
    state["connection_masks_"] = masks
    return _with_layer_arrays(state, _dense_arrays, masks)


def _with_layer_arrays(state, convert, masks):
    """A copy of ``state`` whose per-layer weight arrays (the weights and the
    best epoch's) are ``convert(arrays, masks)``."""
    state = dict(state)
    for name in ("coefs_", "_best_coefs"):
        if name in state:
            state[name] = convert(state[name], masks)
    return state


class CompactConnectionsMixin:
    """Persist the sparse layers of an estimator at their present weights,
    and hold them so in memory on request (:meth:`sparsify_weights`).

    Put it before :class:`~sklearn.base.BaseEstimator` among the bases: it
    chains to the ``__getstate__`` and ``__setstate__`` after it.
    """

    def __getstate__(self):
        return compact_state(super().__getstate__())

    def __setstate__(self, state):
        super().__setstate__(expand_state(state))
        if state.get(HELD_SPARSE_KEY):
            self.sparsify_weights()

    def _held_sparse(self):
        """Whether :meth:`sparsify_weights` holds the sparse layers' weights."""
        return any_held_sparse(self.coefs_)

    def sparsify_weights(self):
        """Hold the weights of each hidden layer with sparse connections as a
        sparse matrix.

        A model fitted with ``weight_density`` below 1 keeps its weights in
        dense arrays, zero at the absent connections, as scikit-learn's MLPs
        do. After ``sparsify_weights()``, ``coefs_[i]`` of each such layer is
        a :class:`scipy.sparse.csr_matrix` that stores its present weights
        only (those that are zero included), and the best epoch's weights
        of the layer keep their present values only, as the optimizer's
        state of the layer always does: at density ``d`` the layer's weights
        take about ``1.5 * d`` of their dense memory in float64 and ``2 * d``
        in float32 (values and 32-bit column indices), each array beside
        them ``d``, plus the connection mask. The
        fully connected layers stay dense.

        Prediction, :meth:`hidden_activations`, ``compact()``, persistence
        and the ONNX export work as before and give the same numbers up to
        round-off (the products run in SciPy's sparse routines). Continuing
        to train (``warm_start`` or ``partial_fit``) needs
        :meth:`densify_weights` first; a new ``fit`` starts afresh with dense
        arrays.

        Returns
        -------
        self : object
            The estimator, holding its sparse layers as sparse matrices.

        Examples
        --------
        >>> from sklearn.datasets import load_digits
        >>> from sklearn_sparse_act import SparseMLPClassifier
        >>> X, y = load_digits(return_X_y=True)
        >>> clf = SparseMLPClassifier(
        ...     hidden_layer_sizes=(100,), weight_density=0.1, max_iter=10,
        ...     random_state=0,
        ... ).fit(X / 16, y)
        >>> clf.sparsify_weights().coefs_[0].format, clf.coefs_[0].nnz
        ('csr', 600)
        >>> clf.densify_weights().coefs_[0].shape
        (64, 100)
        """
        self._check_is_fitted()
        masks = self.connection_masks_
        if self._held_sparse() or all(mask is None for mask in masks):
            return self
        state = _with_layer_arrays(vars(self), _present_values, masks)
        state["coefs_"] = _as_csr(self.coefs_, masks)
        vars(self).update(state)
        return self

    def densify_weights(self):
        """Hold every layer's weights in dense arrays again (undo
        :meth:`sparsify_weights`), bit for bit.

        Returns
        -------
        self : object
            The estimator, with dense ``coefs_``.
        """
        self._check_is_fitted()
        if self._held_sparse():
            masks = self.connection_masks_
            vars(self).update(_with_layer_arrays(vars(self), _dense_arrays, masks))
        return self
