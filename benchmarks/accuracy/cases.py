"""The models and the four cases of the accuracy benchmarks, one job per fit.

Every model is built with its library's defaults (ours at the default
``activation_ratio``), then the case's parameters, then the user's
(``--ours-params``, ``--sklearn-params``). A job is one fit and its score in
points (accuracy % or R^2 x 100), keyed ``(case, row, model, seed)``:

1. ``main``: a data set, 70/30 split, ``StandardScaler`` pipeline; on the
   regression data sets also scikit-learn's MLP on standardized targets
   (model 'sklearn_scaled_y', a ``TransformedTargetRegressor``), what our
   regressor's default ``normalize_y=True`` does;
2. ``cv``: a small network scored by 3-fold ``cross_validate`` (digits / 16);
3. ``stream``: ``partial_fit`` over 300-row chunks of the digits, 5 passes;
4. ``iso``: dense width ``w`` against ours at width ``w / ratio``.
"""

from itertools import product

import numpy as np
from joblib import Parallel, delayed
from sklearn.compose import TransformedTargetRegressor
from sklearn.datasets import load_digits
from sklearn.model_selection import cross_validate
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from benchmarks.accuracy.datasets import held_out_split, task_of
from benchmarks.harness.fitting import convergence_warnings_ignored
from sklearn_sparse_act import SparseMLPClassifier, SparseMLPRegressor
from sklearn_sparse_act._sparsity import AUTO_ACTIVATION_RATIO

ESTIMATORS = {
    ("sklearn", "classification"): MLPClassifier,
    ("sklearn", "regression"): MLPRegressor,
    ("ours", "classification"): SparseMLPClassifier,
    ("ours", "regression"): SparseMLPRegressor,
}
ISO_WIDTHS = (64, 128)
ISO_DATASETS = ("digits", "friedman1")
CHUNK_ROWS, PASSES = 300, 5


# scikit-learn's MLPRegressor on standardized targets: the fair baseline of
# our regressor, which standardizes them by default (normalize_y=True).
SCALED_Y = "sklearn_scaled_y"


def build_model(model, task, seed, settings, **case_params):
    """``model`` is 'sklearn', 'sklearn_scaled_y' (regression: the MLP inside
    a ``TransformedTargetRegressor`` with a ``StandardScaler``), 'fixed' or
    'dynamic'; user params override the case's."""
    if model == SCALED_Y:
        regressor = build_model("sklearn", task, seed, settings, **case_params)
        return TransformedTargetRegressor(regressor, transformer=StandardScaler())
    family = "sklearn" if model == "sklearn" else "ours"
    estimator = ESTIMATORS[family, task](random_state=seed)
    if family == "ours":
        estimator.set_params(sparsity_strategy=model)
    params = {**case_params, **getattr(settings, f"{family}_params")}
    if settings.max_iter is not None:
        params.setdefault("max_iter", settings.max_iter)
    accepted = estimator.get_params()
    return estimator.set_params(**{k: v for k, v in params.items() if k in accepted})


def default_ratio(task, settings):
    """The activation ratio our estimator uses, after ``--ours-params``
    ('auto': the ratio of a wide layer, 0.1; a layer narrower than 500 units
    keeps more, see ``auto_activation_ratio``)."""
    ratio = build_model("fixed", task, 0, settings).activation_ratio
    if isinstance(ratio, str):
        return AUTO_ACTIVATION_RATIO
    return float(np.ravel(ratio)[0])


def ratio_label(task, settings):
    """Our activation ratio as the report shows it ('auto' or a number)."""
    ratio = build_model("fixed", task, 0, settings).activation_ratio
    return ratio if isinstance(ratio, str) else f"{default_ratio(task, settings):g}"


def main_table_score(dataset, model, seed, settings):
    task = task_of(dataset)
    X_train, X_test, y_train, y_test = held_out_split(dataset, seed)
    estimator = build_model(model, task, seed, settings)
    pipeline = make_pipeline(StandardScaler(), estimator).fit(X_train, y_train)
    fitted = getattr(estimator, "regressor_", estimator)
    return 100 * pipeline.score(X_test, y_test), fitted.n_iter_


def small_network_cv_score(model, seed, settings):
    X, y = load_digits(return_X_y=True)
    params = dict(hidden_layer_sizes=(32,), max_iter=30)
    estimator = build_model(model, "classification", seed, settings, **params)
    scores = cross_validate(estimator, X / 16, y, cv=3)["test_score"]
    return 100 * scores.mean(), None


def streaming_score(model, seed, settings):
    X_train, X_test, y_train, y_test = held_out_split("digits", seed)
    scaler = StandardScaler().fit(X_train)
    X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
    params = dict(hidden_layer_sizes=(64,))
    estimator = build_model(model, "classification", seed, settings, **params)
    order = np.random.RandomState(seed).permutation(len(X_train))  # same every pass
    chunks = [order[i : i + CHUNK_ROWS] for i in range(0, len(order), CHUNK_ROWS)]
    for _ in range(PASSES):
        for rows in chunks:
            classes = np.unique(y_train) if not hasattr(estimator, "classes_") else None
            estimator.partial_fit(X_train[rows], y_train[rows], classes=classes)
    return 100 * estimator.score(X_test, y_test), None


def iso_active_score(dataset, width, model, seed, settings):
    task = task_of(dataset)
    if model != "sklearn":
        width = round(width / default_ratio(task, settings))
    X_train, X_test, y_train, y_test = held_out_split(dataset, seed)
    estimator = build_model(model, task, seed, settings, hidden_layer_sizes=(width,))
    pipeline = make_pipeline(StandardScaler(), estimator).fit(X_train, y_train)
    return 100 * pipeline.score(X_test, y_test), estimator.n_iter_


def run_job(function, args, settings, single_thread):
    """One job, without the convergence warning; with one BLAS thread when
    jobs run in parallel."""
    with convergence_warnings_ignored():
        if not single_thread:
            return function(*args, settings)
        with threadpool_limits(limits=1):
            return function(*args, settings)


def plan_main_table(settings):
    """{(case, row, model, seed): (function, args)} of the main table alone."""
    models = ["sklearn", *settings.strategies]
    return {
        ("main", dataset, model, seed): (main_table_score, (dataset, model, seed))
        for dataset, model, seed in product(settings.datasets, models, settings.seeds)
    }


def plan_jobs(settings):
    """{(case, row, model, seed): (function, args)} for every fit of the run."""
    models, seeds = ["sklearn", *settings.strategies], settings.seeds
    jobs = plan_main_table(settings)
    regression = [name for name in settings.datasets if task_of(name) == "regression"]
    for dataset, seed in product(regression, seeds):
        jobs["main", dataset, SCALED_Y, seed] = (
            main_table_score,
            (dataset, SCALED_Y, seed),
        )
    if settings.main_only:
        return jobs
    for model, seed in product(models, seeds):
        jobs["cv", "digits", model, seed] = (small_network_cv_score, (model, seed))
        jobs["stream", "digits", model, seed] = (streaming_score, (model, seed))
    for dataset, width, model, seed in product(ISO_DATASETS, ISO_WIDTHS, models, seeds):
        key = ("iso", f"{dataset} w={width}", model, seed)
        jobs[key] = (iso_active_score, (dataset, width, model, seed))
    return jobs


def run_all(jobs, settings, single_thread=None):
    """{key: (score, epochs)} of every job, with ``settings.n_jobs`` workers.

    Each job gets one BLAS thread when ``single_thread`` (default: when the
    jobs run in parallel).
    """
    n_jobs = settings.n_jobs
    if single_thread is None:
        single_thread = n_jobs != 1
    outputs = Parallel(n_jobs=n_jobs, verbose=5 if n_jobs != 1 else 0)(
        delayed(run_job)(function, args, settings, single_thread)
        for function, args in jobs.values()
    )
    return dict(zip(jobs, outputs, strict=True))
