"""scikit-learn's estimator API checks, on three configurations that between
them take every training path of the estimators.

- The defaults: Adam, 'fixed' winners, one layer at the 'auto' ratio.
- SGD with 'dynamic' winners at ratio 0.2: the momentum optimizer and the
  learned thresholds (weighted by the samples, carried across ``partial_fit``,
  applied at prediction), with few enough winners for the compiled kernels'
  sparse path.
- L-BFGS on two tanh layers with the per-layer ratios ``[0.25, 1.0]``: the
  full-batch optimizer, one ratio per layer, and a layer whose every unit
  fires (the path that ``activation_ratio=1.0`` takes in every layer).

Why these three, measured on the seven configurations run before (the
defaults; 'dynamic' at the 'auto' ratio and at 0.2; two tanh layers at
``[0.25, 0.5]``; L-BFGS; SGD; ratio 1.0), each through the whole check suite
for both estimators:

- Branch coverage of the package, one coverage context per test: the 14 runs
  reached 9 branches that no other test module reaches, and the defaults
  reach all 9. Each other configuration added branches over the defaults
  (its solver, its strategy, its path), all of them reached by other modules
  too. The three configurations here reach all of those but 16, and a few
  that none of the seven reached (L-BFGS holding the winners of a dense
  layer, and of a layer on the sparse path). The 16 are the dense-path masks
  of a two-layer network (reached by tests/test_gradients.py), the
  all-dense shortcuts of ratio 1.0 (tests/test_sklearn_mlp_suite.py) and the
  'dynamic' rule's ties at the 'auto' ratio (tests/test_sparsity.py), each
  reached by other modules as well.
- Bugs made on purpose in one solver or strategy: L-BFGS's loss ignoring the
  sample weights, the 'dynamic' thresholds ignoring them, SGD's velocities
  surviving a refit. Each failed checks of the seven configurations and fails
  checks of the three (sample-weight equivalence, fit idempotence).

The check suite now costs about a quarter of its former CPU time (35 s
against 135 s, one process, compiled kernels).

The checks of input formats (sparse matrices and arrays of every format,
array-likes that are not arrays) run on the defaults alone: the estimators
validate and convert their input before any solver or strategy sees it, so
the other two configurations would repeat them on the same conversion. They
were a third of the time of those two configurations.
"""

import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_sparse_act import SparseMLPClassifier, SparseMLPRegressor

CONFIGURATIONS = [
    {},
    {"solver": "sgd", "sparsity_strategy": "dynamic", "activation_ratio": 0.2},
    {
        "solver": "lbfgs",
        "hidden_layer_sizes": (16, 12),
        "activation": "tanh",
        "activation_ratio": [0.25, 1.0],
    },
]

ESTIMATORS = [
    estimator_class(**params)
    for estimator_class in (SparseMLPClassifier, SparseMLPRegressor)
    for params in CONFIGURATIONS
]
INPUT_FORMAT_CHECKS = {
    "check_estimator_sparse_array",
    "check_estimator_sparse_matrix",
    "check_classifier_data_not_an_array",
    "check_regressor_data_not_an_array",
    "check_transformer_data_not_an_array",
}


def _check_name(check):
    return getattr(check, "func", check).__name__


def _at_defaults(estimator):
    return estimator.get_params() == type(estimator)().get_params()


def _kept(cases):
    """The (estimator, check) cases to run: the input-format checks for the
    estimators at their defaults only."""
    return [
        (estimator, check)
        for estimator, check in cases
        if _at_defaults(estimator) or _check_name(check) not in INPUT_FORMAT_CHECKS
    ]


SCIKIT_LEARN_CHECKS = parametrize_with_checks(ESTIMATORS)


def test_the_defaults_keep_every_check_and_the_others_no_input_format_check():
    _, cases = SCIKIT_LEARN_CHECKS.args
    kept = _kept(cases)
    at_defaults = [case for case in cases if _at_defaults(case[0])]
    assert {type(estimator).__name__ for estimator, _ in at_defaults} == {
        "SparseMLPClassifier",
        "SparseMLPRegressor",
    }
    assert [case for case in kept if _at_defaults(case[0])] == at_defaults
    dropped = [case for case in cases if case not in kept]
    assert {_check_name(check) for _, check in dropped} == INPUT_FORMAT_CHECKS
    assert not any(_at_defaults(estimator) for estimator, _ in dropped)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize(
    SCIKIT_LEARN_CHECKS.args[0],
    _kept(SCIKIT_LEARN_CHECKS.args[1]),
    **SCIKIT_LEARN_CHECKS.kwargs,
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
