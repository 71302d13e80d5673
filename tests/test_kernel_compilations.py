"""How many times numba compiles a kernel: once per dtype of the values,
not again for the layout of the winners' index arrays or a read-only
input. Each test runs a backend call twice, in two
forms that used to reach a kernel as different argument types, and checks
that the second form compiles nothing new."""

import numpy as np
import pytest

from sklearn_sparse_act._backends import get_backend, numba_available
from sklearn_sparse_act._backends.interface import SparseRows
from sklearn_sparse_act._sparsity import TopK

needs_numba = pytest.mark.skipif(
    not numba_available(), reason="numba (the fast extra) not installed"
)


def _new_signatures(dispatcher, call):
    """The signatures ``dispatcher`` compiles (or loads) during ``call()``."""
    before = set(dispatcher.signatures)
    call()
    return set(dispatcher.signatures) - before


def test_winners_keep_contiguous_int64_indices():
    # np.nonzero's columns are a strided view of one (n, 2) array.
    rows, columns = np.nonzero(np.eye(4, dtype=bool)[:, ::-1])
    indptr = np.arange(5, dtype=np.int32)
    winners = SparseRows(indptr, columns, np.ones(4), 4)
    for index in (winners.indptr, winners.indices):
        assert index.dtype == np.int64
        assert index.flags.c_contiguous
    np.testing.assert_array_equal(winners.indices, columns)
    np.testing.assert_array_equal(winners.indptr, indptr)
    assert winners.with_values(np.zeros(4)).indices is winners.indices


@needs_numba
def test_a_read_only_input_shares_the_gradient_kernel_of_a_writable_one():
    from sklearn_sparse_act._backends import _numba_gradients

    backend = get_backend("numba")
    numpy_backend = get_backend("numpy")
    rng = np.random.RandomState(0)
    inputs = rng.normal(size=(6, 5))
    weights = rng.normal(size=(5, 4))
    scores = rng.normal(size=(6, 4))
    delta = numpy_backend.select(scores, TopK(2), "identity")
    read_only = inputs.copy()
    read_only.flags.writeable = False

    def gradient(values):
        return backend.weight_gradient(values, delta, weights, 0.1, 6.0)

    expected = gradient(inputs)
    added = _new_signatures(
        _numba_gradients.gradient_dense_sparse, lambda: gradient(read_only)
    )
    assert added == set()
    np.testing.assert_array_equal(gradient(read_only), expected)


@needs_numba
def test_kth_largest_scores_are_contiguous():
    from sklearn_sparse_act._backends import _numba_selection

    scores = np.random.RandomState(0).normal(size=(5, 7))
    kth = _numba_selection.kth_largest(scores, 3)
    assert kth.flags.c_contiguous
    np.testing.assert_array_equal(kth, -np.sort(-scores, axis=1)[:, 2])
