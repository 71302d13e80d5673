"""The interface a kernel backend implements, and the structure it works on.

The network (:mod:`sklearn_sparse_act._network`) does its arithmetic through a
backend: a module of free functions over arrays. Every backend implements
the functions of :class:`KernelBackend` with the same meaning; they may differ
only by round-off. To add a backend (a GPU one, say), write a module with
these functions and register it in ``_backends/__init__.py``.

A hidden layer on the *sparse path* hands its outputs on as
:class:`SparseRows`: row ``i`` holds ``values[indptr[i]:indptr[i + 1]]`` at
the columns ``indices[indptr[i]:indptr[i + 1]]``, which are its winners (in
ascending order). The same structure with other values carries the backward
delta at the winners. A layer on the *dense path* hands on an ordinary
``(n, width)`` array with zeros at the losers.
"""

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple, Protocol

import numpy as np
import scipy.sparse as sp

# Rows per block of a backend's ``quota_window_rows``: a block whose
# entries in the window overflow its buffer fails the pass, on any backend
# alike.
WINDOW_BLOCK_ROWS = 16


class Candidates(NamedTuple):
    """Per row, the columns among which every winner of a threshold is: row
    ``row``'s are ``columns[indptr[row]:indptr[row + 1]]``, in increasing
    order. A 'dynamic' batch selection finds them on the way to its
    threshold (every entry at or above its window), so that the selection
    of the winners reads these entries only."""

    indptr: np.ndarray
    columns: np.ndarray


@dataclass(frozen=True)
class Work:
    """The arithmetic of one pass over a batch, by where it runs: what a
    backend weighs to assign the cores.

    ``blas_madds`` multiply-adds of dense products (BLAS), ``kernel_madds``
    multiply-adds over winners, ``selected_scores`` scores the winners are
    selected from, ``parameters`` entries of the optimizer step (0 for a
    prediction).
    """

    blas_madds: int = 0
    kernel_madds: int = 0
    selected_scores: int = 0
    parameters: int = 0


@dataclass
class SparseRows:
    """Per row, the winners of a hidden layer and a value at each.

    ``indptr`` and ``indices`` are kept as C-contiguous int64 arrays
    whatever they were given as (the columns of :func:`numpy.nonzero` are
    strided views): a compiled kernel is then compiled once per dtype of
    the values, not again for each layout or integer type of the winners.
    """

    indptr: np.ndarray
    indices: np.ndarray
    values: np.ndarray
    width: int
    # What a backend derives from the winners alone (their transpose, say),
    # kept once for every copy with other values.
    derived: dict = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self):
        self.indptr = np.ascontiguousarray(self.indptr, dtype=np.int64)
        self.indices = np.ascontiguousarray(self.indices, dtype=np.int64)

    @property
    def shape(self):
        return (self.indptr.size - 1, self.width)

    @property
    def dtype(self):
        return self.values.dtype

    def with_values(self, values):
        """The same winners carrying other values (a delta, say)."""
        return SparseRows(self.indptr, self.indices, values, self.width, self.derived)

    def rows(self):
        """The row of every stored entry."""
        return np.repeat(np.arange(self.shape[0]), np.diff(self.indptr))

    def to_csr(self):
        return sp.csr_matrix(
            (self.values, self.indices, self.indptr), shape=self.shape, copy=False
        )

    def to_mask(self):
        """The winners as a dense boolean mask."""
        mask = np.zeros(self.shape, dtype=bool)
        mask[self.rows(), self.indices] = True
        return mask

    def counts(self, nonzero_only=False):
        """Per unit: how many rows it won (or had a non-zero value in)."""
        indices = self.indices[self.values != 0] if nonzero_only else self.indices
        return np.bincount(indices, minlength=self.width)


class Connections:
    """Which weights of a sparse layer exist, in the forms kernels read.

    ``mask`` is the ``(fan_in, width)`` boolean array of present weights;
    the other forms are derived from it on first use and kept: ``absent``
    (its complement), by unit (for each unit, its inputs in ascending order:
    ``unit_ptr``, ``unit_inputs``), by input (for each input, the units it
    reaches in ascending order: ``input_ptr``, ``input_units``), the flat
    positions of the present weights in C order (``positions``, which is
    also the order by input) and unit by unit (``unit_positions``), and the
    maps between the two orders; ``lay_out`` (a backend's
    ``lay_out_connections``), if not None, makes all of them at once, else
    each is made with NumPy on first use. The pointers are int64; the
    indices are uint32 (``index_dtype``) where the mask has fewer than 2**32
    entries, as every layer that fits in memory does: half the bytes to
    read, and unsigned, so that a kernel indexing with them needs no test
    for a negative index (the product from winners runs about 1.5 times as
    fast).
    """

    def __init__(self, mask, lay_out=None):
        self.mask = mask
        self.density = np.count_nonzero(mask) / mask.size
        self.index_dtype = np.uint32 if mask.size < 2**32 else np.int64
        self._lay_out = lay_out

    @functools.cached_property
    def _laid_out(self):
        """Every form at once, from ``lay_out``."""
        return self._lay_out(self.mask, self.index_dtype)

    @functools.cached_property
    def absent(self):
        """The complement of ``mask``: where the weights are absent."""
        return ~self.mask

    @functools.cached_property
    def by_unit(self):
        """``(unit_ptr, unit_inputs)``."""
        if self._lay_out is not None:
            return self._laid_out["by_unit"]
        units, inputs = np.nonzero(self.mask.T)
        return _pointers(units, self.mask.shape[1]), self._indices(inputs)

    @functools.cached_property
    def by_input(self):
        """``(input_ptr, input_units)``."""
        if self._lay_out is not None:
            return self._laid_out["by_input"]
        inputs, units = np.nonzero(self.mask)
        return _pointers(inputs, self.mask.shape[0]), self._indices(units)

    @functools.cached_property
    def positions(self):
        if self._lay_out is not None:
            return self._laid_out["positions"]
        return self._indices(np.flatnonzero(self.mask))

    @functools.cached_property
    def unit_positions(self):
        """The flat C-order positions of the present weights unit by unit
        (the order of ``by_unit``'s ``unit_inputs``)."""
        if self._lay_out is not None:
            return self._laid_out["unit_positions"]
        unit_ptr, unit_inputs = self.by_unit
        units = np.repeat(np.arange(self.mask.shape[1]), np.diff(unit_ptr))
        positions = unit_inputs.astype(np.int64) * self.mask.shape[1] + units
        return self._indices(positions)

    @functools.cached_property
    def entries_by_unit(self):
        """For each present weight unit by unit, its index in C order
        (``positions[entries_by_unit[e]] == unit_positions[e]``)."""
        if self._lay_out is not None:
            return self._laid_out["entries_by_unit"]
        entries = np.cumsum(self.mask.reshape(-1)) - 1
        return self._indices(entries[self.unit_positions])

    @functools.cached_property
    def entries_in_c_order(self):
        """For each present weight in C order, its index unit by unit (the
        inverse of ``entries_by_unit``)."""
        if self._lay_out is not None:
            return self._laid_out["entries_in_c_order"]
        entries = np.empty_like(self.entries_by_unit)
        entries[self.entries_by_unit] = np.arange(entries.size)
        return entries

    def _indices(self, values):
        """``values`` (non-negative, below ``mask.size``) as ``index_dtype``."""
        return values.astype(self.index_dtype, copy=False)


@dataclass(frozen=True)
class HeldWeights:
    """A sparse layer's present weights copied out of its weight matrix,
    every one once, for a backend's product over them: unit by unit (the
    order of :class:`Connections`' ``by_unit``) for the product from dense
    inputs (``dense_inputs``), else in C order (``positions``) for the
    product from winners. A backend's :meth:`KernelBackend.hold_weights`
    makes one; its optimizer steps, given one, write every weight they
    update into it as well, so that a copy a training step reads stays
    equal to the weights."""

    values: np.ndarray
    dense_inputs: bool


@dataclass(frozen=True)
class PresentGradient:
    """A sparse layer's weight gradient held at its present weights only:
    ``values[e]`` is the gradient of the weight at the flat C-order position
    ``positions[e]`` of the ``shape``-d weight matrix (the layer's
    :class:`Connections`' ``positions``: the order of the optimizer's state
    of the layer), and the gradient of every absent weight is zero. A
    backend's :meth:`KernelBackend.weight_gradient` may return one for a
    layer whose delta is held at the winners, and its optimizer steps take
    it; ``numpy.asarray`` gives the whole array (+0.0 at the absent
    weights).
    """

    values: np.ndarray
    positions: np.ndarray
    shape: tuple

    def __array__(self, dtype=None, copy=None):
        dense = np.zeros(self.shape, dtype=self.values.dtype)
        dense.reshape(-1)[self.positions] = self.values
        return dense if dtype is None else dense.astype(dtype, copy=False)


def _pointers(rows, n_rows):
    """CSR row pointers of entries whose (sorted) rows are ``rows``."""
    pointers = np.zeros(n_rows + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n_rows), out=pointers[1:])
    return pointers


def row_chunks(n_rows, chunk_rows):
    """Consecutive slices of equal length (give or take one row) covering
    ``range(n_rows)``, none longer than ``chunk_rows``.

    Examples
    --------
    >>> from sklearn_sparse_act._backends.interface import row_chunks
    >>> row_chunks(10, 4)
    [slice(0, 3, None), slice(3, 6, None), slice(6, 10, None)]
    """
    if n_rows <= chunk_rows:
        return [slice(0, n_rows)] if n_rows else []
    n_chunks = -(-n_rows // chunk_rows)
    edges = [n_rows * chunk // n_chunks for chunk in range(n_chunks + 1)]
    return [slice(edges[chunk], edges[chunk + 1]) for chunk in range(n_chunks)]


class KernelBackend(Protocol):
    """The functions of a kernel backend module.

    ``inputs`` below is a dense array, a SciPy sparse matrix (the user's X)
    or :class:`SparseRows`; ``delta`` a dense array or :class:`SparseRows`;
    ``activation`` a name from :data:`sklearn_sparse_act._activations.ACTIVATIONS`;
    ``rule`` a :class:`~sklearn_sparse_act._sparsity.TopK` or
    :class:`~sklearn_sparse_act._sparsity.Threshold`.
    """

    name: str
    # lay_out_connections(mask, index_dtype): every index form of a sparse
    # layer's Connections at once, keyed by attribute name; or None, and
    # Connections makes each form with NumPy on first use.
    lay_out_connections: Callable | None

    def use_sparse_path(self, n_active, width, fan_out, n_rows):
        """Whether a hidden layer with ``n_active`` winners of ``width`` units,
        feeding ``fan_out`` units, should hand on :class:`SparseRows` for
        batches of ``n_rows`` rows."""

    def use_connection_path(self, density, dense_inputs=False):
        """Whether a sparse layer of weight density ``density`` (a
        :class:`Connections`'s), whose inputs are dense arrays or winners,
        trains on kernels that skip its absent weights."""

    def select(self, values, rule, activation, scores=None):
        """The winners of ``rule`` applied to ``scores`` (default: ``values``)
        with ``activation(values)`` at each, as :class:`SparseRows`. A
        threshold's :class:`Candidates`, when it has them, hold every
        winner: a backend may read only those entries."""

    def batch_threshold(self, values, n_active, sample_weight=None):
        """:func:`~sklearn_sparse_act._sparsity.batch_threshold`: the smallest
        value of a 'dynamic' batch's quota and the largest one below it."""

    def batch_selection(self, values, n_active, sample_weight=None):
        """:meth:`batch_threshold`'s two values, then the rows'
        :class:`Candidates` for the first (None if not found on the way)."""

    def quota_window_rows(self, values, low, high, capacity):
        """The entries in ``[low, high)`` in row-major order, how many
        entries are at or above ``high``, the largest magnitude, and the
        rows' :class:`Candidates` (the columns of the entries at or above
        ``low``, or None if the backend does not collect them); None if a
        block of :data:`WINDOW_BLOCK_ROWS` rows has more than ``capacity``
        entries in the window (see :mod:`sklearn_sparse_act._batch_quota`)."""

    def quota_histogram(self, values, row_weights, counts, weights):
        """Add the entries' buckets to ``counts`` (their rows' weights to
        ``weights``) and return their largest magnitude (see
        :mod:`sklearn_sparse_act._batch_quota`)."""

    def quota_window(self, values, row_weights, low, high, entries, entry_weights):
        """Copy the entries in ``[low, high)`` to ``entries`` (as many as
        fit); return how many there are, the weight above ``high``, the
        largest entry below ``low`` and the largest magnitude."""

    def gather(self, values, winners, activation):
        """``activation(values)`` at the winners of a :class:`SparseRows`."""

    def hold_weights(self, weights, connections, dense_inputs):
        """What :meth:`forward` reads of a sparse layer's ``weights`` (with
        these ``connections``) over its present weights, for its product
        from dense inputs or from winners (``dense_inputs``), prepared once
        for a pass of many products in which the weights do not change (a
        prediction over chunks of rows, or the training steps of a
        stochastic solver, whose optimizer steps keep it equal to the
        weights); a :class:`HeldWeights`, or None if the backend prepares
        nothing."""

    def forward(self, inputs, weights, bias, connections=None, out=None, held=None):
        """``inputs @ weights + bias`` as a dense array, written to ``out``
        (a C-ordered array of the result's shape and dtype) if given;
        ``connections`` (a :class:`Connections`, or None) says which weights
        exist (the others are zero), so the product may skip them, reading
        them from ``held`` (what :meth:`hold_weights` returned for these
        weights, unchanged since or kept equal to them) if given."""

    def backward_product(self, delta, weights, out=None):
        """``delta @ weights.T`` as a dense array (written to ``out`` if
        given, as for :meth:`forward`)."""

    def delta_at_winners(self, upstream, weights, winners, activation):
        """``(upstream @ weights.T) * activation'`` at the winners only;
        ``winners`` carries the layer's activated outputs."""

    def weight_gradient(
        self,
        inputs,
        delta,
        weights,
        alpha,
        weight_sum,
        connections=None,
        out=None,
        held=None,
    ):
        """``(inputs.T @ delta + alpha * weights) / weight_sum``, dense (written
        to ``out`` if given, as for :meth:`forward`); +0.0 at the weights that
        ``connections`` (if not None) says are absent. With ``connections``
        and ``delta`` held at the winners, a backend may return a
        :class:`PresentGradient` instead (and ignore ``out``), its penalty
        reading the present weights from ``held`` (what :meth:`hold_weights`
        returned for these weights, equal to them) if given."""

    def bias_gradient(self, delta, weight_sum):
        """Column sums of ``delta`` divided by ``weight_sum``."""

    def squared_norm(self, arrays):
        """The sum of the squares of every entry of every array (the L2
        penalty's norm)."""

    def adam_update(
        self,
        params,
        grads,
        firsts,
        seconds,
        learning_rate,
        betas,
        epsilon,
        workspace,
        connections=None,
        kept=None,
    ):
        """One Adam step on every array of ``params``, in place.
        ``connections`` (None, or per array a :class:`Connections` or None)
        says which entries exist: an array with connections has its moment
        estimates in ``firsts`` and ``seconds`` at its present weights only
        (1d, the order of ``positions``), and only those entries are
        stepped. ``grads`` are what :meth:`weight_gradient` and
        :meth:`bias_gradient` returned (a :class:`PresentGradient`, in the
        order of ``positions``, or a whole array). ``kept`` (None, or per
        array a :class:`HeldWeights` or None) holds copies of arrays'
        present weights: each takes the new weights of its array."""

    def sgd_update(
        self,
        params,
        grads,
        velocities,
        learning_rate,
        momentum,
        nesterov,
        connections=None,
        kept=None,
    ):
        """One (Nesterov) momentum SGD step on every array, in place
        (``connections`` and ``kept`` as for :meth:`adam_update`: an array
        with connections has its ``velocities`` at its present weights
        only)."""

    def threads(self, n_rows, work):
        """A context manager that assigns the cores for passes over batches
        of ``n_rows`` rows, each doing the :class:`Work` ``work()`` (a
        function, called only if the backend needs it)."""

    def map_row_chunks(self, function, n_rows, chunk_rows, work):
        """``[function(rows) for rows in row_chunks(n_rows, chunk_rows)]``,
        or the same over smaller chunks: prediction-mode passes over
        independent rows, with the cores assigned by ``work(rows)``, the
        :class:`Work` of a pass over ``rows`` rows. Chunks may run at once,
        in threads of their own."""

    def stream_row_chunks(self, function, n_rows, chunk_rows, work):
        """A generator of what :meth:`map_row_chunks` returns, in the same
        order, for a pass that reduces each chunk as it comes: at most
        ``chunk_rows`` rows' results are held at once. Runs in the cores'
        assignment of the caller (:meth:`threads`), unless its chunks run
        at once in threads of their own."""
