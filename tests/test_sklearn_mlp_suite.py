"""scikit-learn's own MLP test suite, run against our estimators at
``activation_ratio=1.0``.

Every test function of ``sklearn/neural_network/tests/test_mlp.py`` is run
with that module's ``MLPClassifier`` and ``MLPRegressor`` replaced by ours
with every hidden unit active, so each behaviour scikit-learn asserts of its
MLP is asserted of ours. The tests listed in ``ON_PRIVATE_INTERNALS`` inspect
scikit-learn's private implementation and are not run.
"""

from functools import partial

import pytest

from sklearn_sparse_act import SparseMLPClassifier, SparseMLPRegressor

sklearn_mlp_tests = pytest.importorskip("sklearn.neural_network.tests.test_mlp")

# Tests of scikit-learn's private internals, with what each one inspects.
ON_PRIVATE_INTERNALS = {
    # Calls the private _forward_pass / _backprop / _init_coef with
    # scikit-learn's buffer layout and compares with finite differences (our
    # own finite-difference check is tests/test_gradients.py).
    "test_gradient": "_backprop/_loss_grad_lbfgs internals",
    # Read the step size from scikit-learn's private optimizer object; the
    # same behaviours are asserted below from our optimizer state.
    "test_learning_rate_warmstart": "_optimizer.learning_rate",
    "test_adaptive_learning_rate": "_optimizer.learning_rate",
}

sklearn_mlp_tests.MLPClassifier = partial(SparseMLPClassifier, activation_ratio=1.0)
sklearn_mlp_tests.MLPRegressor = partial(
    SparseMLPRegressor, activation_ratio=1.0, normalize_y=False
)

for _name, _test in vars(sklearn_mlp_tests).copy().items():
    if _name.startswith("test_") and callable(_test):
        if _name in ON_PRIVATE_INTERNALS:
            continue
        globals()[_name] = _test


@pytest.fixture(params=[0, 42])
def global_random_seed(request):
    """The seed fixture scikit-learn's own conftest provides to its tests."""
    return request.param


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("learning_rate", ["invscaling", "constant"])
def test_learning_rate_warm_start_continues_the_schedule(learning_rate):
    X = [[3, 2], [1, 6], [5, 6], [-2, -4]]
    y = [1, 1, 1, 0]
    model = SparseMLPClassifier(
        activation_ratio=1.0,
        solver="sgd",
        hidden_layer_sizes=4,
        learning_rate=learning_rate,
        max_iter=1,
        power_t=0.25,
        warm_start=True,
    )
    model.fit(X, y)
    first_step = model._optimizer_state["learning_rate"]
    model.fit(X, y)
    second_step = model._optimizer_state["learning_rate"]
    if learning_rate == "constant":
        assert first_step == second_step
    else:
        assert second_step == 0.001 / (8 + 1) ** model.power_t


def test_adaptive_learning_rate_shrinks_until_it_stops():
    model = SparseMLPClassifier(
        activation_ratio=1.0,
        tol=0.5,
        max_iter=3000,
        solver="sgd",
        learning_rate="adaptive",
    )
    model.fit([[3, 2], [1, 6]], [1, 0])
    assert model.max_iter > model.n_iter_
    assert 1e-6 > model._optimizer_state["learning_rate"]
