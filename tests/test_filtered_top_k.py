"""The filtered top-k selection of the numba backend: the same winners as
NumPy's partition followed by the winners pass, on any scores, and the
cost model's choice between the two."""

import numpy as np
import pytest

from sklearn_sparse_act._backends import cost_model, get_backend, numpy_kernels
from sklearn_sparse_act._sparsity import TopK

pytest.importorskip("numba")

from sklearn_sparse_act._backends import _numba_selection  # noqa: E402
from sklearn_sparse_act._backends._numba_activations import (  # noqa: E402
    activation_code,
)

SPECIAL_VALUES = [np.nan, np.inf, -np.inf, 0.0, -0.0, 1.0, -1.0, 1e300, -1e300, 5e-324]


def _scores(rng, kind, n_rows, width):
    """Rows of scores of one ``kind``: the partition's edge cases."""
    if kind == "normal":
        return rng.standard_normal((n_rows, width))
    if kind == "ties":
        return rng.integers(-3, 3, (n_rows, width)).astype(float)
    if kind == "special":
        return rng.choice(SPECIAL_VALUES, (n_rows, width))
    if kind == "some nan":
        scores = rng.standard_normal((n_rows, width))
        scores[rng.random((n_rows, width)) < 0.2] = np.nan
        return scores
    if kind == "equal":
        return np.full((n_rows, width), rng.standard_normal())
    if kind == "subnormal":
        return rng.standard_normal((n_rows, width)) * 1e-310
    raise ValueError(kind)


def _partition_winners(values, scores, n_active, code):
    size = scores.shape[0] * n_active
    indices, data = np.empty(size, dtype=np.int64), np.empty(size, values.dtype)
    kth = _numba_selection.kth_largest(scores, n_active)
    _numba_selection.top_k_rows_serial(
        values, scores, kth, n_active, code, indices, data
    )
    return indices, data


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("twin", ["filtered_top_k", "filtered_top_k_serial"])
@pytest.mark.parametrize(
    "kind", ["normal", "ties", "special", "some nan", "equal", "subnormal"]
)
def test_filtered_top_k_picks_what_the_partition_picks(dtype, twin, kind):
    """Same columns and the same activated values, bit for bit: both take the
    row's exact k-th largest score (NaN above every number) and break ties
    to the left, whatever the scores."""
    filtered = getattr(_numba_selection, twin)
    code = activation_code("tanh")
    rng = np.random.default_rng(0)
    shapes = [(40, 1024, n_active) for n_active in (1, 20, 51, 300, 1024)]
    shapes += [
        (7, width, n_active)
        for width in (1, 2, 9, 64)
        for n_active in {1, 3, width}
        if n_active <= width
    ]
    for n_rows, width, n_active in shapes:
        with np.errstate(over="ignore"):
            scores = _scores(rng, kind, n_rows, width).astype(dtype)
        values = rng.standard_normal((n_rows, width)).astype(dtype)
        expected_indices, expected_data = _partition_winners(
            values, scores, n_active, code
        )
        indices = np.full(n_rows * n_active, -1, dtype=np.int64)
        data = np.full(n_rows * n_active, np.nan, dtype=dtype)
        filtered(values, scores, n_active, code, indices, data)
        np.testing.assert_array_equal(indices, expected_indices)
        np.testing.assert_array_equal(data, expected_data)


def test_filtered_top_k_keeps_every_winner_of_a_row_of_nan_and_numbers():
    # Two NaN (above every number) and the largest number win; of the tied
    # ones below, none.
    scores = np.array([[0.5, np.nan, 2.0, 2.0, np.nan, -1.0, 3.0, 1.0]])
    indices = np.empty(3, dtype=np.int64)
    data = np.empty(3)
    _numba_selection.filtered_top_k_serial(
        scores, scores, 3, activation_code("identity"), indices, data
    )
    np.testing.assert_array_equal(indices, [1, 4, 6])
    np.testing.assert_array_equal(data, [np.nan, np.nan, 3.0])


def test_selection_takes_the_filtered_pass_for_few_winners(monkeypatch):
    """Up to the cost model's share of winners the filtered pass selects;
    above it, NumPy's partition and the winners pass. Both give NumPy's
    winners."""
    numba_kernels = get_backend("numba")
    calls = []

    def recorded(name):
        kernel = getattr(numba_kernels, name)

        def run(*args):
            calls.append(name.removesuffix("_serial"))
            return kernel(*args)

        return run

    for name in (
        "filtered_top_k",
        "filtered_top_k_serial",
        "top_k_rows",
        "top_k_rows_serial",
    ):
        monkeypatch.setattr(numba_kernels, name, recorded(name))
    width = 1024
    most_filtered = int(cost_model.FILTERED_TOP_K_MAX_RATIO * width)
    values = np.random.default_rng(1).standard_normal((300, width))
    for n_active, expected in (
        (most_filtered, "filtered_top_k"),
        (most_filtered + 1, "top_k_rows"),
    ):
        for rows in (slice(0, 1), slice(None)):
            calls.clear()
            ours = numba_kernels.select(values[rows], TopK(n_active), "relu")
            assert calls == [expected]
            reference = numpy_kernels.select(values[rows], TopK(n_active), "relu")
            np.testing.assert_array_equal(ours.indices, reference.indices)
            np.testing.assert_array_equal(ours.values, reference.values)
