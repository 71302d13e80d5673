"""Winner selection: the strategies on hand-made inputs, and the rules as the
fitted estimators apply them."""

import numpy as np
import pytest
from conftest import reference_hidden_outputs, reference_output

from sklearn_sparse_act import SparseMLPClassifier, SparseMLPRegressor
from sklearn_sparse_act._sparsity import (
    SPARSITY_STRATEGIES,
    batch_threshold,
    n_active_units,
    row_top_k_mask,
    tie_tolerance,
)

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.mark.parametrize(
    "ratio, width, expected",
    [
        (0.1, 100, 10),
        (0.1, 256, 26),
        (0.05, 10, 1),
        (0.15, 10, 2),
        (1.0, 7, 7),
        (0.25, 2, 1),
        (1e-9, 50, 1),
    ],
)
def test_number_of_winners_rounds_half_up_and_keeps_one(ratio, width, expected):
    assert n_active_units(ratio, width) == expected


def _training_mask(strategy, values, n_active, sample_weight=None):
    rule, threshold = SPARSITY_STRATEGIES[strategy].training_selection(
        values, n_active, sample_weight
    )
    return rule.mask(values), threshold


def test_row_top_k_picks_largest_per_row_with_ties():
    values = np.array(
        [
            [0.5, -1.0, 3.0, 2.0, 0.0],
            [1.0, 1.0, 1.0, 1.0, 1.0],  # all tied
            [4.0, 2.0, 2.0, 2.0, -3.0],  # tie at the k-th value
        ]
    )
    mask = row_top_k_mask(values, 2)
    np.testing.assert_array_equal(mask.sum(axis=1), [2, 2, 2])
    np.testing.assert_array_equal(mask[0], [False, False, True, True, False])
    assert mask[2, 0] and mask[2, 1:4].sum() == 1 and not mask[2, 4]


def test_row_top_k_breaks_ties_by_lower_column_index():
    # The rule of ONNX's TopK, so that exported models pick the same winners.
    values = np.array(
        [
            [1.0, 1.0, 1.0, 1.0, 1.0],  # all tied: the first k win
            [0.0, 2.0, 2.0, 5.0, 2.0],  # 5 wins, then the leftmost 2
            [3.0, 3.0, 1.0, 3.0, 0.0],  # three tied above the rest
            [-0.0, 0.0, -1.0, 0.0, -2.0],  # signed zeros compare equal
        ]
    )
    np.testing.assert_array_equal(
        row_top_k_mask(values, 2),
        [
            [True, True, False, False, False],
            [False, True, False, True, False],
            [True, True, False, False, False],
            [True, True, False, False, False],
        ],
    )
    many_ties = np.random.RandomState(0).randint(0, 4, size=(200, 9)).astype(float)
    for n_active in (1, 3, 8):
        order = np.argsort(-many_ties, axis=1, kind="stable")[:, :n_active]
        expected = np.zeros(many_ties.shape, dtype=bool)
        np.put_along_axis(expected, order, True, axis=1)
        np.testing.assert_array_equal(row_top_k_mask(many_ties, n_active), expected)


def test_dynamic_training_keeps_k_times_rows_across_the_batch():
    rng = np.random.RandomState(0)
    values = rng.normal(size=(40, 30))
    values[:5] += 3  # a few "salient" rows should win more than k units
    mask, threshold = _training_mask("dynamic", values, 3)
    assert mask.sum() == 3 * 40
    assert values[~mask].max() < threshold < values[mask].min()
    assert threshold == (values[~mask].max() + values[mask].min()) / 2
    per_row = mask.sum(axis=1)
    assert per_row[:5].min() > 3 and per_row[5:].mean() < 3


def test_weighted_batch_threshold_equals_repeated_rows():
    rng = np.random.RandomState(0)
    values = rng.normal(size=(15, 20))
    weights = rng.randint(0, 4, size=15)
    repeated = values.repeat(weights, axis=0)
    for n_active in (1, 3, 7):
        assert batch_threshold(values, n_active, weights.astype(float)) == (
            batch_threshold(repeated, n_active)
        )


def test_weighted_rows_and_rounded_copies_choose_the_same_winners():
    # BLAS may round the copies of a repeated row differently (by an ulp).
    # When the batch quota ends inside such a row, the copies must be kept or
    # dropped together, as the single weighted row is. The exact property:
    # whenever no entry lies within a margin of the tie band's lower edge
    # (smallest kept value minus the tie tolerance), weighted and repeated
    # rows choose identical winners, whatever their last bits.
    rng = np.random.RandomState(0)
    n_active, width = 3, 20
    n_checked = 0
    for _ in range(200):
        values = rng.normal(size=(15, width))
        weights = rng.randint(1, 4, size=15)
        # Put the quota's edge inside a row of weight 2: the weighted batch's
        # smallest kept entry is that row's, and the quota ends between the
        # row's two copies in the repeated batch.
        order = np.argsort(values, axis=None)[::-1]
        quota = n_active * weights.sum()
        cumulative = np.cumsum(weights[order // width])
        edge_row = order[np.searchsorted(cumulative, quota)] // width
        if (
            weights[edge_row] != 2
            or cumulative[np.searchsorted(cumulative, quota)] != quota + 1
        ):
            continue
        repeated = values.repeat(weights, axis=0)
        copies = np.flatnonzero(np.repeat(np.arange(15), weights) == edge_row)
        # The first copy is rounded one ulp up: it alone would fill the quota.
        repeated[copies[0]] = np.nextafter(repeated[copies[0]], np.inf)
        edge, _ = batch_threshold(values, n_active, weights.astype(float))
        band_edge = edge - tie_tolerance(values)
        margin = 64 * np.finfo(values.dtype).eps  # far above the one-ulp rounding
        if np.any(np.abs(values - band_edge) < margin):
            continue
        weighted_mask, _ = _training_mask(
            "dynamic", values, n_active, weights.astype(float)
        )
        repeated_mask, _ = _training_mask("dynamic", repeated, n_active)
        np.testing.assert_array_equal(
            weighted_mask.repeat(weights, axis=0), repeated_mask
        )
        n_checked += 1
    assert n_checked >= 10


def test_dynamic_inference_is_a_strict_per_row_threshold():
    values = np.array([[0.1, 0.5, 0.7], [0.5, 0.2, 0.9]])
    mask = SPARSITY_STRATEGIES["dynamic"].inference_selection(1, 0.5).mask(values)
    np.testing.assert_array_equal(mask, [[False, False, True], [False, False, True]])


@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_fixed_tanh_fires_exactly_k_units_per_row(digits_split, solver):
    X_train, X_test, y_train, _ = digits_split
    model = SparseMLPClassifier(
        hidden_layer_sizes=(60, 40),
        activation="tanh",
        activation_ratio=[0.1, 0.2],
        solver=solver,
        max_iter=20,
        random_state=0,
    ).fit(X_train, y_train)
    assert model.active_units_ == [6, 8]
    # The model's own prediction-time outputs (tanh: a winner's output is 0
    # only where its pre-activation is exactly 0, which digits never give).
    for layer, k in enumerate([6, 8]):
        codes = model.hidden_activations(X_test, layer=layer)
        np.testing.assert_array_equal(np.diff(codes.indptr), k)
    np.testing.assert_allclose(model.active_fraction_, [0.1, 0.2])


def test_fixed_relu_fires_at_most_k_units_per_row(digits_split):
    X_train, X_test, y_train, _ = digits_split
    model = SparseMLPClassifier(
        hidden_layer_sizes=(50,), activation_ratio=0.1, max_iter=20, random_state=0
    ).fit(X_train, y_train)
    counts = np.diff(model.hidden_activations(X_test).indptr)
    assert counts.max() <= 5 and counts.mean() > 1
    assert model.active_fraction_[0] <= 0.1


@pytest.mark.parametrize("strategy", ["fixed", "dynamic"])
@pytest.mark.parametrize("activation", ["relu", "tanh", "logistic", "identity"])
def test_outputs_follow_the_documented_contract(digits_split, strategy, activation):
    X_train, X_test, y_train, _ = digits_split
    model = SparseMLPClassifier(
        hidden_layer_sizes=(40, 30),
        activation=activation,
        sparsity_strategy=strategy,
        activation_ratio=[0.1, 0.3],
        max_iter=15,
        random_state=0,
    ).fit(X_train, y_train)
    np.testing.assert_allclose(
        model.predict_proba(X_test), reference_output(model, X_test), rtol=1e-10
    )


def test_fitted_model_gives_ties_to_the_lowest_columns(digits_split, compute_path):
    # Units 15 to 29 are copies of units 0 to 14. The inputs (sixteenths),
    # weights (quarters) and biases (odd 128ths) are dyadic numbers whose
    # products and sums are exact in float64, so a unit and its copy have
    # equal pre-activations whatever the order of summation, and none is 0.
    # With k = 3 every row has a tie at its k-th largest value, which the
    # unit of the lower column must win (the documented rule).
    X_train, X_test, y_train, _ = digits_split
    model = SparseMLPClassifier(
        hidden_layer_sizes=(30,),
        activation="tanh",
        activation_ratio=0.1,
        max_iter=1,
        random_state=0,
    ).fit(X_train, y_train)
    assert model.inference_active_units_ == [3]
    rng = np.random.RandomState(0)
    half_weights = rng.randint(-2, 3, size=(64, 15)) / 4
    half_biases = (2 * rng.randint(-8, 8, size=15) + 1) / 128
    model.coefs_[0] = np.hstack([half_weights, half_weights])
    model.intercepts_[0] = np.concatenate([half_biases, half_biases])
    ordered = np.sort(X_test @ model.coefs_[0] + model.intercepts_[0], axis=1)
    assert np.all(ordered[:, -3] == ordered[:, -4]) and np.all(ordered != 0)

    codes = model.hidden_activations(X_test).toarray()
    expected = reference_hidden_outputs(model, X_test)[0]
    np.testing.assert_array_equal(codes != 0, expected != 0)
    np.testing.assert_array_equal(np.count_nonzero(codes, axis=1), 3)
    np.testing.assert_allclose(codes, expected, rtol=1e-12)


def test_dynamic_predictions_do_not_depend_on_other_rows(digits_split):
    X_train, X_test, y_train, _ = digits_split
    model = SparseMLPClassifier(
        activation_ratio=0.1,
        hidden_layer_sizes=(64, 32),
        sparsity_strategy="dynamic",
        max_iter=30,
        random_state=0,
    ).fit(X_train, y_train)
    assert np.all(np.isfinite(model.activation_thresholds_))
    one_by_one = np.vstack([model.predict_proba(row[None, :]) for row in X_test])
    np.testing.assert_allclose(model.predict_proba(X_test), one_by_one, rtol=1e-12)
    np.testing.assert_array_equal(
        model.predict(X_test),
        np.concatenate([model.predict(row[None]) for row in X_test]),
    )


def test_dynamic_training_fraction_matches_ratio_and_thresholds_track_it(
    digits_split,
):
    X_train, X_test, y_train, _ = digits_split
    model = SparseMLPClassifier(
        hidden_layer_sizes=(100,),
        sparsity_strategy="dynamic",
        activation="tanh",
        activation_ratio=0.2,
        max_iter=40,
        random_state=0,
    ).fit(X_train, y_train)
    # In training exactly k * n units win over each batch (tanh: non-zero).
    assert model.active_fraction_[0] == pytest.approx(0.2, abs=1e-3)
    # At prediction on the training data, the threshold settled at the end of
    # fit lets exactly k * n pre-activations through: it lies halfway between
    # two of them, far above their round-off, and continuous data has no
    # exact ties.
    assert model.active_units_ == [20]
    firing = model.hidden_activations(X_train).nnz
    assert firing == 20 * X_train.shape[0]


def test_dense_ratio_has_no_selection():
    rng = np.random.RandomState(0)
    X, y = rng.normal(size=(60, 4)), rng.normal(size=60)
    model = SparseMLPRegressor(
        hidden_layer_sizes=(9,),
        activation_ratio=1.0,
        sparsity_strategy="dynamic",
        activation="tanh",
        solver="lbfgs",
        max_iter=50,
        random_state=0,
    ).fit(X, y)
    assert model.active_units_ == [9]
    np.testing.assert_array_equal(model.activation_thresholds_, [-np.inf])
    assert model.active_fraction_[0] == 1.0 and model.dead_units_[0] == 0


def test_dead_units_count_units_that_never_fire(digits_split):
    # 100 rows of 4 winners among 200 units: many units win on a row or two.
    X_train, _, y_train, _ = digits_split
    X, y = X_train[:100], y_train[:100]
    model = SparseMLPClassifier(
        hidden_layer_sizes=(200,),
        activation="tanh",
        activation_ratio=0.02,
        solver="lbfgs",
        max_iter=10,
        random_state=0,
    ).fit(X, y)
    # L-BFGS counts in one training-mode pass over the training data with the
    # final weights, under the rule prediction uses ('fixed': each row's top
    # k), so the count is exact: the units whose output is 0 on every row.
    hidden = model.hidden_activations(X).toarray()
    never = np.count_nonzero(np.count_nonzero(hidden, axis=0) == 0)
    assert 0 < never < 200
    assert model.dead_units_[0] == never
