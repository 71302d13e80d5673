"""Sparse codes and compaction on sparse input and on data other than the
training set.

The models here have their weights and biases rounded to multiples of 1/64,
none above 4 in magnitude, and read digits scaled to multiples of 1/16 in
[0, 1]. Every pre-activation of the (64, 60, 30, 10) network is then a
multiple of 2**-10 below 2**9 in magnitude (2**-16 and 2**16 in the second
layer, 2**-22 and 2**23 in the output layer): at most 45 significant bits,
exact in float64 whatever the order of the sum. Dense and sparse input, the
dense and the sparse compute path, and a model and its compacted copy compute
the same numbers bit for bit, so winners and outputs are compared exactly.
"""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning

from sklearn_sparse_act import SparseMLPClassifier

WIDTHS = (60, 30)
RATIOS = [0.1, 0.2]
STEPS_PER_UNIT = 64
MAX_WEIGHT = 4
SPARSE_FORMATS = {"csr": sp.csr_matrix, "csc": sp.csc_matrix}


@pytest.fixture(scope="module", params=["fixed", "dynamic"])
def exact_model(request, digits_split):
    """A model fitted on digits, its weights and biases then rounded to
    multiples of 1/64 (the 'dynamic' thresholds stay as fitted)."""
    X_train, _, y_train, _ = digits_split
    model = SparseMLPClassifier(
        hidden_layer_sizes=WIDTHS,
        activation_ratio=RATIOS,
        sparsity_strategy=request.param,
        max_iter=10,
        random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X_train, y_train)
    model.coefs_ = [
        np.round(coef * STEPS_PER_UNIT) / STEPS_PER_UNIT for coef in model.coefs_
    ]
    model.intercepts_ = [
        np.round(bias * STEPS_PER_UNIT) / STEPS_PER_UNIT for bias in model.intercepts_
    ]
    for param in model.coefs_ + model.intercepts_:
        assert np.abs(param).max() <= MAX_WEIGHT
    return model


def reference_layers(model, X):
    """Per hidden layer, the prediction-time winners (a boolean mask) and
    outputs, recomputed from the documented rules: the k largest
    pre-activations of the row with ties to the lower column ('fixed'), or
    every pre-activation above the layer's threshold ('dynamic')."""
    layers = []
    values = X
    for layer, n_active in enumerate(model.inference_active_units_):
        z = values @ model.coefs_[layer] + model.intercepts_[layer]
        if model.inference_thresholds_ is None:
            winners = np.zeros(z.shape, dtype=bool)
            descending = np.argsort(-z, axis=1, kind="stable")
            np.put_along_axis(winners, descending[:, :n_active], True, axis=1)
        else:
            winners = z > model.inference_thresholds_[layer]
        values = np.where(winners, np.maximum(z, 0), 0)
        layers.append((winners, values))
    return layers


# ----------------------------------------------------------------------
# Sparse input
# ----------------------------------------------------------------------
@pytest.mark.parametrize("sparse_format", sorted(SPARSE_FORMATS))
def test_hidden_activations_of_sparse_input_equal_those_of_dense_input(
    exact_model, digits_split, sparse_format, compute_path
):
    _, X_test, _, _ = digits_split
    X_sparse = SPARSE_FORMATS[sparse_format](X_test)
    assert X_sparse.nnz < 0.6 * X_test.size
    for layer in (0, 1, -1):
        dense_codes = exact_model.hidden_activations(X_test, layer=layer)
        codes = exact_model.hidden_activations(X_sparse, layer=layer)
        assert codes.format == "csr"
        assert codes.shape == dense_codes.shape
        np.testing.assert_array_equal(codes.toarray(), dense_codes.toarray())
        # Against the rules themselves, so that a fault shared by both
        # inputs shows too.
        _, expected = reference_layers(exact_model, X_test)[layer]
        np.testing.assert_array_equal(codes.toarray(), expected)


@pytest.mark.parametrize("sparse_format", sorted(SPARSE_FORMATS))
def test_compact_on_sparse_input_equals_compact_on_dense_input(
    exact_model, digits_split, sparse_format, compute_path
):
    _, X_test, _, _ = digits_split
    from_dense = exact_model.compact(X_test)
    from_sparse = exact_model.compact(SPARSE_FORMATS[sparse_format](X_test))
    assert from_sparse.removed_units_ == from_dense.removed_units_
    assert sum(from_dense.removed_units_) > 0
    assert from_sparse.hidden_layer_sizes == from_dense.hidden_layer_sizes
    for ours, expected in zip(
        from_sparse.coefs_ + from_sparse.intercepts_,
        from_dense.coefs_ + from_dense.intercepts_,
        strict=True,
    ):
        np.testing.assert_array_equal(ours, expected)
    np.testing.assert_array_equal(
        from_sparse.predict_proba(X_test), exact_model.predict_proba(X_test)
    )


# ----------------------------------------------------------------------
# compact(X) on data other than the training set
# ----------------------------------------------------------------------
def test_compact_on_held_out_rows_keeps_every_unit_that_wins_there(
    exact_model, digits_split, compute_path
):
    """``compact(X)`` keeps exactly the units that win on some row of ``X``
    (even a single one), and the copy predicts those rows, and every other row
    whose winners were all kept, exactly as the model."""
    X_train, X_test, _, _ = digits_split
    test_wins = reference_layers(exact_model, X_test)[0][0]
    train_layers = reference_layers(exact_model, X_train)
    # A few held-out rows on which one unit of the first layer (``once``)
    # wins exactly once and another (``never``), which wins on training
    # rows, does not win: 30 rows where neither wins, and one where ``once``
    # wins without ``never``.
    live = np.flatnonzero(test_wins.any(axis=0) & train_layers[0][0].any(axis=0))
    never = live[np.argmin(test_wins[:, live].sum(axis=0))]
    once = next(
        unit for unit in live if np.any(test_wins[:, unit] & ~test_wins[:, never])
    )
    neither = ~test_wins[:, once] & ~test_wins[:, never]
    only_once = test_wins[:, once] & ~test_wins[:, never]
    judged = np.concatenate(
        [np.flatnonzero(neither)[:30], np.flatnonzero(only_once)[:1]]
    )
    X_judged = X_test[judged]
    judged_winners = [winners for winners, _ in reference_layers(exact_model, X_judged)]
    assert judged_winners[0][:, once].sum() == 1
    assert not judged_winners[0][:, never].any()
    kept = [np.flatnonzero(winners.any(axis=0)) for winners in judged_winners]

    compacted = exact_model.compact(X_judged)
    assert compacted.removed_units_ == [
        width - units.size for width, units in zip(WIDTHS, kept, strict=True)
    ]
    assert compacted.hidden_layer_sizes == tuple(units.size for units in kept)
    np.testing.assert_array_equal(
        compacted.coefs_[0], exact_model.coefs_[0][:, kept[0]]
    )
    np.testing.assert_array_equal(
        compacted.coefs_[1], exact_model.coefs_[1][np.ix_(kept[0], kept[1])]
    )
    np.testing.assert_array_equal(compacted.coefs_[2], exact_model.coefs_[2][kept[1]])
    np.testing.assert_array_equal(
        compacted.predict_proba(X_judged), exact_model.predict_proba(X_judged)
    )

    # The training rows were not judged. A row on which only kept units win
    # is predicted exactly as before. On a row where a removed unit (such as
    # ``never``) wins, the copy applies the same rule to the kept units:
    # with 'fixed' another unit takes its place, with 'dynamic' the unit is
    # just missing.
    all_kept = np.ones(X_train.shape[0], dtype=bool)
    for (winners, _), units in zip(train_layers, kept, strict=True):
        removed = np.ones(winners.shape[1], dtype=bool)
        removed[units] = False
        all_kept &= ~winners[:, removed].any(axis=1)
    assert not all_kept[train_layers[0][0][:, never]].any()
    assert all_kept.any()
    np.testing.assert_array_equal(
        compacted.predict_proba(X_train[all_kept]),
        exact_model.predict_proba(X_train[all_kept]),
    )
    X_changed = X_train[~all_kept]
    codes = compacted.hidden_activations(X_changed, layer=0).toarray()
    _, expected = reference_layers(compacted, X_changed)[0]
    np.testing.assert_array_equal(codes, expected)
    if exact_model.sparsity_strategy == "dynamic":
        original = exact_model.hidden_activations(X_changed, layer=0).toarray()
        np.testing.assert_array_equal(codes, original[:, kept[0]])
