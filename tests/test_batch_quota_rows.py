"""The 'dynamic' selection of a training batch that collects each row's
candidates on the way: the window pass against its NumPy twin and on any
number of numba threads, the selection against the reference rule, and the
winners selected among the candidates against those selected among every
entry."""

import numpy as np
import pytest

from sklearn_sparse_act._backends import (
    BACKENDS,
    get_backend,
    numba_available,
    numpy_kernels,
)
from sklearn_sparse_act._backends.interface import WINDOW_BLOCK_ROWS
from sklearn_sparse_act._sparsity import Threshold, batch_threshold

needs_numba = pytest.mark.skipif(
    not numba_available(), reason="numba (the fast extra) not installed"
)


def _batches():
    """Batches with ties (values rounded), repeated rows, float32, a width of
    two, rows of one block to several."""
    rng = np.random.RandomState(5)
    for trial in range(30):
        dtype = (np.float64, np.float32)[trial % 2]
        n_rows, width = rng.randint(1, 70), (2, rng.randint(3, 300))[trial % 7 > 0]
        values = rng.normal(size=(n_rows, width)) * rng.uniform(0.1, 10)
        if trial % 3 == 0:
            values = np.round(values, 1)
        if trial % 4 == 1:
            values[: n_rows // 2] = values[n_rows - n_rows // 2 :]
        yield values.astype(dtype), rng.randint(1, width)


def _windows(values):
    """Windows of several widths, and one holding every entry."""
    low, high = np.quantile(values, [0.6, 0.9])
    return [(low, high), (high, high), (-np.inf, np.inf)]


@needs_numba
def test_window_rows_kernel_matches_numpy():
    numba_kernels = get_backend("numba")
    n_overflows = 0
    for values, _ in _batches():
        for low, high in _windows(values):
            # Buffers of a sixteenth of a block's entries: some blocks
            # overflow, and both backends must say so.
            for capacity in (WINDOW_BLOCK_ROWS * values.shape[1], values.shape[1]):
                ours = numba_kernels.quota_window_rows(values, low, high, capacity)
                reference = numpy_kernels.quota_window_rows(values, low, high, capacity)
                assert (ours is None) == (reference is None)
                if reference is None:
                    n_overflows += 1
                    continue
                # The entries, the count above and the largest magnitude.
                for got, expected in zip(ours[:3], reference[:3], strict=True):
                    np.testing.assert_array_equal(got, expected)
                assert ours[0].dtype == values.dtype
                _assert_candidates_are_the_entries_from(values, low, ours[3])
    assert n_overflows > 0


def _assert_windows_equal(got, expected):
    *got_arrays, got_candidates = got
    *expected_arrays, expected_candidates = expected
    for got_array, expected_array in zip(
        [*got_arrays, *got_candidates],
        [*expected_arrays, *expected_candidates],
        strict=True,
    ):
        np.testing.assert_array_equal(got_array, expected_array)


def _assert_candidates_are_the_entries_from(values, low, candidates):
    """Row by row, the candidates are the columns of the entries at or above
    ``low``, in increasing order."""
    rows, columns = np.nonzero(values >= values.dtype.type(low))
    np.testing.assert_array_equal(candidates.columns, columns)
    np.testing.assert_array_equal(
        np.diff(candidates.indptr), np.bincount(rows, minlength=values.shape[0])
    )


@needs_numba
def test_window_rows_kernel_has_the_same_bits_on_any_thread_count():
    """The parallel window pass gives the serial one's entries, counts and
    candidates, laid out alike, on one thread and on two."""
    import numba

    from sklearn_sparse_act._backends import _numba_quota

    if numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("numba has one thread here")
    values = np.random.RandomState(0).normal(size=(200, 300))
    low, high = np.quantile(values, [0.85, 0.9])
    capacity = WINDOW_BLOCK_ROWS * 300 // 4
    serial = _numba_quota.window_rows(
        values,
        low,
        high,
        capacity,
        (_numba_quota.row_counts_serial, _numba_quota.candidate_blocks_serial),
    )
    threads_before = numba.get_num_threads()
    try:
        for n_threads in (1, 2):
            numba.set_num_threads(n_threads)
            parallel = _numba_quota.window_rows(
                values,
                low,
                high,
                capacity,
                (_numba_quota.row_counts, _numba_quota.candidate_blocks),
            )
            _assert_windows_equal(parallel, serial)
    finally:
        numba.set_num_threads(threads_before)


@pytest.mark.parametrize("backend", BACKENDS)
def test_batch_selection_is_the_reference_rule_with_candidates(backend):
    """The two values are exactly the reference's; the rows' candidates,
    when found, hold every entry at or above the first; a 'dynamic'
    selection among the candidates has the winners of the reference's among
    every entry, for the scores the candidates were found on and for values
    they were not (boosting selects on scores, activates values)."""
    if backend == "numba" and not numba_available():
        pytest.skip("numba (the fast extra) not installed")
    kernels = get_backend(backend)
    n_found = 0
    for values, n_active in _batches():
        smallest_kept, largest_dropped, candidates = kernels.batch_selection(
            values, n_active
        )
        assert (smallest_kept, largest_dropped) == batch_threshold(values, n_active)
        if candidates is None:
            continue
        n_found += 1
        rows, columns = np.nonzero(values >= smallest_kept)
        in_candidates = np.isin(
            rows * values.shape[1] + columns,
            np.repeat(np.arange(values.shape[0]), np.diff(candidates.indptr))
            * values.shape[1]
            + candidates.columns,
        )
        assert in_candidates.all()
        outputs = values[::-1] - 1.0  # other values than the scores
        for inclusive in (True, False):
            rule = Threshold(float(smallest_kept), inclusive=inclusive)
            among = Threshold(rule.value, inclusive, candidates=candidates)
            for activated in (values, outputs):
                got = kernels.select(activated, among, "relu", scores=values)
                expected = numpy_kernels.select(activated, rule, "relu", scores=values)
                np.testing.assert_array_equal(got.indptr, expected.indptr)
                np.testing.assert_array_equal(got.indices, expected.indices)
                np.testing.assert_array_equal(got.values, expected.values)
    # The compiled backend finds candidates for most batches (those selected
    # on the guessed window).
    if backend == "numba":
        assert n_found >= 20


@pytest.mark.parametrize("backend", BACKENDS)
def test_batch_selection_does_not_count_weighted_rows(backend):
    if backend == "numba" and not numba_available():
        pytest.skip("numba (the fast extra) not installed")
    values = np.random.RandomState(3).normal(size=(50, 40))
    weights = np.arange(50) % 3 + 0.5
    found = get_backend(backend).batch_selection(values, 4, weights)
    assert found[:2] == batch_threshold(values, 4, weights)
    assert found[2] is None


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_largest_dropped_value_below_a_window_of_kept_entries(backend, dtype):
    """A window whose entries are all kept (its lowest entry is where the
    tied values start): the largest dropped value lies below the window and
    is still exactly the reference's."""
    from sklearn_sparse_act._batch_quota import QuotaSearch, _rows_in_window
    from sklearn_sparse_act._sparsity import tolerance_at

    if backend == "numba" and not numba_available():
        pytest.skip("numba (the fast extra) not installed")
    kernels = get_backend(backend)
    n_active = 3
    values = np.random.RandomState(4).normal(size=(20, 30)).astype(dtype)
    flat = values.ravel()
    edge = np.partition(flat, flat.size - n_active * 20)[flat.size - n_active * 20]
    kept_from = edge - tolerance_at(np.abs(values).max())
    flat[np.argmin(flat)] = kept_from
    search = QuotaSearch(kernels, n_active * 20, dtype, False)
    search.set_window(kept_from, values.max() + 1)
    smallest_kept, largest_dropped, candidates = _rows_in_window(
        search, kernels, values
    )
    assert smallest_kept == kept_from
    assert (smallest_kept, largest_dropped) == batch_threshold(values, n_active)
    if candidates is not None:
        _assert_candidates_are_the_entries_from(values, kept_from, candidates)
    assert (candidates is None) == (backend == "numpy")
