"""What a hidden layer's winners and outputs say about its units.

Which units won on some row (:func:`won_any`), the fraction of rows each
won (:func:`win_fraction`, for the duty cycles of boosting), the rows on
which each fired, counted over an epoch (:class:`FiringCounter`), and a
layer's outputs as a CSR matrix (:func:`to_csr`). Each reads a layer's
outputs or winners as :class:`~._network.Network` gives them: a dense array
(a boolean mask for winners), :class:`~._backends.interface.SparseRows`, or
None for a layer in which every unit fires.
"""

import numpy as np
import scipy.sparse as sp

from ._backends.interface import SparseRows


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


class FiringCounter:
    """Counts, per hidden unit, the samples on which its output was non-zero."""

    def __init__(self, hidden_layer_sizes):
        self.counts = [np.zeros(width, dtype=np.int64) for width in hidden_layer_sizes]
        self.n_samples = 0

    def record(self, hidden_outputs):
        self.n_samples += hidden_outputs[0].shape[0]
        for count, output in zip(self.counts, hidden_outputs, strict=True):
            count += firing_counts(output)

    def active_fraction(self):
        return np.array(
            [count.sum() / (self.n_samples * count.size) for count in self.counts]
        )

    def dead_units(self):
        return np.array([np.count_nonzero(count == 0) for count in self.counts])


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
