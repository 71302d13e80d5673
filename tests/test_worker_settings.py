"""The package's settings reach the workers of scikit-learn's parallel tasks,
as scikit-learn's own configuration does: a search inside
``config_context(kernels=...)`` trains with those kernels in every worker, so
``n_jobs=2`` gives the bits of ``n_jobs=1``."""

import warnings

import numpy as np
import pytest
from sklearn.datasets import load_iris
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV
from sklearn.preprocessing import StandardScaler

from sklearn_sparse_act import SparseMLPClassifier, config_context, get_config
from sklearn_sparse_act._backends import get_backend, numba_available

X, y = load_iris(return_X_y=True)
X = StandardScaler().fit_transform(X)


def kernels_in_force(estimator, X, y):
    """A scorer: 1.0 if the task ran with the NumPy kernels, else 0.0."""
    return float(get_backend().name == "numpy")


@pytest.mark.parametrize(
    "kernels",
    [
        "numpy",
        pytest.param(
            "numba",
            marks=pytest.mark.skipif(not numba_available(), reason="needs numba"),
        ),
    ],
)
def test_grid_search_workers_use_the_callers_kernels(kernels):
    search = GridSearchCV(
        # 'dynamic' on these data: the two backends' log-losses differ in the
        # last bit (1.1e-16 on a split of iris), so other kernels in a worker
        # show in the scores.
        SparseMLPClassifier(
            hidden_layer_sizes=(64,),
            activation_ratio=0.1,
            sparsity_strategy="dynamic",
            max_iter=5,
            random_state=0,
        ),
        {"alpha": [1e-4, 1e-2]},
        cv=2,
        # The log-loss of each split: round-off changes its last bits.
        scoring={"log_loss": "neg_log_loss", "numpy_kernels": kernels_in_force},
        refit="log_loss",
    )
    results = {}
    with config_context(kernels=kernels), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for n_jobs in (1, 2):
            search.set_params(n_jobs=n_jobs).fit(X, y)
            results[n_jobs] = (search.cv_results_, search.best_estimator_.coefs_)
        assert get_config()["kernels"] == kernels
    for n_jobs in (1, 2):
        expected = float(kernels == "numpy")
        scores = results[n_jobs][0]["split0_test_numpy_kernels"]
        assert np.all(scores == expected), f"n_jobs={n_jobs} ran other kernels"
    for split in ("split0_test_log_loss", "split1_test_log_loss"):
        np.testing.assert_array_equal(results[1][0][split], results[2][0][split])
    for coef_1, coef_2 in zip(results[1][1], results[2][1], strict=True):
        np.testing.assert_array_equal(coef_1, coef_2)


def test_a_task_without_the_packages_settings_keeps_the_workers():
    # A task captured before this package was imported carries no settings
    # of it; the worker's own apply.
    from sklearn.utils.parallel import config_context as task_config_context

    with config_context(kernels="numpy"):
        with task_config_context(assume_finite=True):
            assert get_config()["kernels"] == "numpy"
        with task_config_context(sklearn_sparse_act={"kernels": "auto"}):
            assert get_config()["kernels"] == "auto"
        assert get_config()["kernels"] == "numpy"
