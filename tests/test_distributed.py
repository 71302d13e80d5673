"""Hyperparameter search on a dask.distributed cluster through joblib.

Needs the ``distributed`` extra (``pip install -e ".[distributed]"``); skipped
without it. The cluster listens on 127.0.0.1 only.
"""

import joblib
import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV

from sklearn_sparse_act import SparseMLPClassifier

distributed = pytest.importorskip("distributed")

PARAM_GRID = {
    "activation_ratio": [0.1, 0.5],
    "sparsity_strategy": ["fixed", "dynamic"],
}


@pytest.fixture(scope="module")
def dask_client():
    """Two single-threaded worker processes on the loopback interface."""
    cluster = distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
    )
    try:
        client = distributed.Client(cluster)
        try:
            yield client
        finally:
            client.close()
    finally:
        cluster.close()


def grid_search(backend):
    X, y = load_digits(return_X_y=True)
    search = GridSearchCV(
        SparseMLPClassifier(
            hidden_layer_sizes=(32,),
            max_iter=15,
            learning_rate_init=0.01,
            random_state=0,
        ),
        PARAM_GRID,
        cv=2,
    )
    with joblib.parallel_config(backend=backend, n_jobs=2):
        return search.fit(X[:600] / 16, y[:600])


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_grid_search_on_dask_matches_loky(dask_client):
    worker_addresses = set(dask_client.scheduler_info()["workers"])
    assert len(worker_addresses) == 2
    assert all(address.startswith("tcp://127.0.0.1:") for address in worker_addresses)

    with distributed.get_task_stream(dask_client) as task_stream:
        on_dask = grid_search("dask")
    on_loky = grid_search("loky")

    # The fits ran as tasks on the cluster's workers, not in this process.
    fit_workers = {task["worker"] for task in task_stream.data}
    assert fit_workers and fit_workers <= worker_addresses

    assert on_dask.best_params_ == on_loky.best_params_
    assert on_dask.cv_results_["params"] == on_loky.cv_results_["params"]
    for key in ("split0_test_score", "split1_test_score", "mean_test_score"):
        np.testing.assert_array_equal(
            on_dask.cv_results_[key], on_loky.cv_results_[key]
        )
    np.testing.assert_array_equal(
        on_dask.cv_results_["rank_test_score"], on_loky.cv_results_["rank_test_score"]
    )
    # The grid matters: its candidates do not all score alike.
    assert len(np.unique(on_dask.cv_results_["mean_test_score"])) > 1
    for param, reference in zip(
        on_dask.best_estimator_.coefs_, on_loky.best_estimator_.coefs_, strict=True
    ):
        np.testing.assert_array_equal(param, reference)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_predict_on_the_cluster_matches_local_predict(dask_client):
    """A fitted model shipped to the workers predicts a dask array's blocks
    exactly as it predicts in this process."""
    da = pytest.importorskip("dask.array")
    X, y = load_digits(return_X_y=True)
    X = X / 16
    model = SparseMLPClassifier(
        hidden_layer_sizes=(32,),
        activation_ratio=0.25,
        sparsity_strategy="dynamic",
        max_iter=30,
        learning_rate_init=0.01,
        random_state=0,
    ).fit(X[:1000], y[:1000])
    X_dask = da.from_array(X[1000:], chunks=(200, -1))

    with distributed.get_task_stream(dask_client) as task_stream:
        labels = X_dask.map_blocks(
            model.predict, dtype=model.classes_.dtype, drop_axis=1
        ).compute()
        probabilities = dask_client.submit(model.predict_proba, X[1000:]).result()

    assert {task["worker"] for task in task_stream.data} <= set(
        dask_client.scheduler_info()["workers"]
    )
    assert len(task_stream.data) >= X_dask.numblocks[0]
    np.testing.assert_array_equal(labels, model.predict(X[1000:]))
    np.testing.assert_array_equal(probabilities, model.predict_proba(X[1000:]))
    assert model.score(X[1000:], y[1000:]) > 0.7
