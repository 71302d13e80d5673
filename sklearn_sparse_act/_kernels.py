"""Sparse compute kernels for layers whose outputs have few winners per row.

A hidden layer runs on one of two paths:

- dense: its outputs are an ``(n, width)`` array with zeros at the losers and
  its mask a boolean array (BLAS does every product);
- sparse: its outputs are a CSR matrix holding only the winners, and its
  "mask" is a :class:`Winners` structure. The three products that follow are
  then sparse: the next layer's forward ``A @ W`` (CSR times dense), the
  weight gradient ``A.T @ G`` (the same CSR, transposed) and the backward
  delta, needed only at the winners (a gather of ``W`` rows, multiplied in
  row chunks).

:func:`use_sparse_path` picks the path from shapes alone, by a cost model
calibrated with ``benchmarks/bench_kernels.py``; it never times anything, so
a fit is bitwise reproducible. Both paths compute the same numbers up to
round-off.
"""

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

# Largest fraction of winners at which the sparse path is cheaper, by layer
# width (first matching row). SciPy's CSR products run on one core at about a
# twentieth of the speed of 2-thread OpenBLAS, so the sparse path only pays
# off at low ratios. Measured on 2 cores with OpenBLAS by
# ``python benchmarks/bench_kernels.py``: at width 1024 (two layers) the
# sparse path took 0.83x / 0.90x / 1.30x of the dense epoch at ratios 0.01 /
# 0.02 / 0.05; at width 256 it never won by more than noise.
_SPARSE_CROSSOVER = ((512, 0.0), (np.inf, 0.03))

# Below this fan-out the next layer's dense product is too cheap for the
# sparse path's bookkeeping to pay (a (4096,) network's 10 outputs, say).
_MIN_SPARSE_FAN_OUT = 64

# Row chunks of the backward gather are about this many bytes.
_GATHER_CHUNK_BYTES = 4 * 2**20


def use_sparse_path(n_active, width, fan_out):
    """Whether a hidden layer with ``n_active`` winners of ``width`` units,
    feeding a layer of ``fan_out`` units, should run on the sparse path.

    Examples
    --------
    >>> from sklearn_sparse_act._kernels import use_sparse_path
    >>> use_sparse_path(20, 1024, 1024), use_sparse_path(51, 1024, 1024)
    (True, False)
    >>> use_sparse_path(20, 1024, 10), use_sparse_path(5, 256, 256)
    (False, False)
    """
    if n_active >= width or fan_out < _MIN_SPARSE_FAN_OUT:
        return False
    for max_width, crossover in _SPARSE_CROSSOVER:
        if width <= max_width:
            return n_active / width <= crossover
    return False


@dataclass
class Winners:
    """The winners of a batch in CSR structure: row ``i`` won the units
    ``indices[indptr[i]:indptr[i + 1]]`` (sorted); ``rows`` holds the row of
    every winner (kept from the mask, as the forward gather and the backward
    delta both need it)."""

    indptr: np.ndarray
    indices: np.ndarray
    width: int

    rows: np.ndarray

    @classmethod
    def from_mask(cls, mask):
        rows, columns = np.nonzero(mask)
        indptr = np.zeros(mask.shape[0] + 1, dtype=np.int64)
        np.cumsum(np.bincount(rows, minlength=mask.shape[0]), out=indptr[1:])
        return cls(indptr, columns, mask.shape[1], rows)

    @property
    def n_rows(self):
        return self.indptr.size - 1

    def gather(self, values):
        """The entries of a dense ``(n, width)`` array at the winners."""
        return values[self.rows, self.indices]

    def to_csr(self, data):
        return sp.csr_matrix(
            (data, self.indices, self.indptr), shape=(self.n_rows, self.width)
        )

    def counts(self, data=None):
        """Per unit: how many rows it won (or had a non-zero ``data`` in)."""
        indices = self.indices if data is None else self.indices[data != 0]
        return np.bincount(indices, minlength=self.width)


def winners_delta(upstream, weights, winners):
    """Backward delta at the winners only: ``(upstream @ weights.T)`` gathered
    at ``winners``, without forming the dense product.

    A sparse ``upstream`` (the delta of another sparse layer) is cheap to
    multiply densely first; a dense one is combined with the gathered rows of
    ``weights`` in row chunks of about 4 MB.
    """
    if sp.issparse(upstream):
        return winners.gather(upstream @ weights.T)
    delta = np.empty(winners.indices.size, dtype=np.result_type(upstream, weights))
    row_bytes = weights.shape[1] * weights.dtype.itemsize
    chunk = max(1, _GATHER_CHUNK_BYTES // row_bytes)
    rows = winners.rows
    for start in range(0, delta.size, chunk):
        stop = min(start + chunk, delta.size)
        gathered = weights[winners.indices[start:stop]]
        gathered *= upstream[rows[start:stop]]
        gathered.sum(axis=1, out=delta[start:stop])
    return delta


def column_sums(values):
    """Sum over rows of a dense array or a CSR matrix, as a 1d array."""
    if sp.issparse(values):
        sums = np.bincount(
            values.indices, weights=values.data, minlength=values.shape[1]
        )
        return sums.astype(values.dtype, copy=False)
    return values.sum(axis=0)


def dense_product(left, right):
    """``left @ right`` as a C-ordered dense array, whichever operand is
    sparse (a gradient in Fortran order would slow every optimizer step that
    combines it with the C-ordered weights)."""
    product = left @ right
    if sp.issparse(product):
        return product.toarray(order="C")
    return np.ascontiguousarray(product)
