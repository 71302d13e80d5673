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


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@parametrize_with_checks(ESTIMATORS)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
