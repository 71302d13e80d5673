"""The fits of the evidence study, one job per fit, run by joblib.

Every job builds its split and its model from names and a seed, so jobs can
run in any process and order; each runs with single-threaded BLAS so that fit
times do not depend on what runs beside them. The jobs:

- ``trace``: ``partial_fit`` one epoch at a time for ``settings.epochs``
  epochs, recording the cumulative fit time and the held-out accuracy after
  every epoch (the points of the accuracy-for-time front), then the two
  corruption protocols on the final model;
- ``curve``: ``fit`` on a stratified subsample of the training rows;
- ``split_tasks``: digits 0-4, then 5-9, by ``partial_fit``;
- ``permuted``: the same rows under several fixed pixel permutations in turn;
- ``kernels``: one fit with the NumPy kernels and one with numba's.
"""

import json
import time
from dataclasses import replace

import numpy as np
from joblib import Parallel, delayed
from sklearn.model_selection import train_test_split
from threadpoolctl import threadpool_limits

from benchmarks.evidence import datasets, protocols
from benchmarks.evidence.models import (
    MODELS,
    OURS,
    VARIANTS,
    WIDE_INPUT_FEATURES,
    build,
    recommended_recipe,
)
from benchmarks.harness.fitting import convergence_warnings_ignored
from sklearn_sparse_act import config_context
from sklearn_sparse_act._backends import numba_available

CURVE_MODELS = ("sklearn_same_width", "sklearn_same_active", "ours_fixed")
# The unboosted layer's learning curves are those of the study before the
# recipe boosted (the same seeds and code path), so they do not run again.
FIRST_TASK = (0, 1, 2, 3, 4)


def _points(y_true, y_pred):
    return 100.0 * float(np.mean(y_true == y_pred))


def recipe_for(split):
    """The recommended recipe for the training rows of ``split``."""
    return recommended_recipe(split.n_features, len(split.X_train))


def corrupted_test_sets(split, seed):
    """The test rows under every level of both corruptions, drawn once per
    seed so that every model sees the same images."""
    rng = np.random.default_rng(seed)
    value = protocols.salt_value(split.X_train)
    spread = float(split.X_train.std())
    salt = [
        protocols.salt_corruption(split.X_test, level, value, rng)
        for level in protocols.NOISE_LEVELS
    ]
    gaussian = [
        protocols.gaussian_corruption(split.X_test, level, spread, rng)
        for level in protocols.GAUSSIAN_LEVELS
    ]
    return salt, gaussian


def trace_epochs(n_train, settings):
    """Epochs of a traced fit on ``n_train`` rows: ``settings.epochs``, or
    more on small data, enough to pass ``settings.trace_row_passes`` rows.

    Examples
    --------
    >>> from benchmarks.evidence.settings import FULL
    >>> [trace_epochs(rows, FULL) for rows in (3500, 1257, 398)]
    [15, 40, 126]
    """
    return max(settings.epochs, -(-settings.trace_row_passes // n_train))


def trace_job(dataset, model, seed, settings):
    split = datasets.split(dataset, seed, settings.max_rows)
    return trace(split, build(model, recipe_for(split), seed), seed, settings)


def trace(split, estimator, seed, settings):
    """The trace of ``estimator`` on ``split``: the cumulative fit time and
    held-out accuracy after every epoch, then the correct predictions at
    every level of both corruptions of the test rows (drawn with ``seed``)."""
    classes = np.unique(split.y_train)
    times, accuracies, elapsed = [], [], 0.0
    for _ in range(trace_epochs(len(split.y_train), settings)):
        start = time.perf_counter()
        estimator.partial_fit(split.X_train, split.y_train, classes=classes)
        elapsed += time.perf_counter() - start
        times.append(elapsed)
        accuracies.append(_points(split.y_test, estimator.predict(split.X_test)))
    salt, gaussian = corrupted_test_sets(split, seed)
    return {
        "times": times,
        "accuracies": accuracies,
        "salt": [int(np.sum(estimator.predict(X) == split.y_test)) for X in salt],
        "gaussian": [
            int(np.sum(estimator.predict(X) == split.y_test)) for X in gaussian
        ],
        "n_test": len(split.y_test),
        "majority": split.majority_accuracy,
    }


def curve_max_iter(rows, settings):
    """``max_iter`` of a learning-curve fit on ``rows`` rows: scikit-learn's
    default 200, or fewer epochs when they would pass more than
    ``settings.curve_row_passes`` rows in all (at least 20).

    Examples
    --------
    >>> from benchmarks.evidence.settings import FULL
    >>> [curve_max_iter(rows, FULL) for rows in (100, 200, 500, 1000)]
    [200, 200, 80, 40]
    """
    return min(200, max(20, -(-settings.curve_row_passes // rows)))


def curve_rows_of(split, rows, seed):
    """The ``rows`` training rows of a learning-curve fit: a stratified
    subsample of ``split``'s training rows drawn with ``seed``."""
    X, _, y, _ = train_test_split(
        split.X_train,
        split.y_train,
        train_size=rows,
        stratify=split.y_train,
        random_state=seed,
    )
    return X, y


def curve_points(split, estimator, rows, seed):
    """Held-out accuracy (points) of ``estimator`` fitted on ``rows`` rows of
    ``split`` (:func:`curve_rows_of`)."""
    estimator.fit(*curve_rows_of(split, rows, seed))
    return _points(split.y_test, estimator.predict(split.X_test))


def curve_job(dataset, model, seed, rows, settings):
    split = datasets.split(dataset, seed, settings.max_rows)
    estimator = build(
        model, recipe_for(split), seed, max_iter=curve_max_iter(rows, settings)
    )
    return curve_points(split, estimator, rows, seed)


def _restricted_accuracy(estimator, X, y, task_classes):
    """Accuracy when the prediction is restricted to ``task_classes``."""
    columns = np.searchsorted(estimator.classes_, task_classes)
    proba = estimator.predict_proba(X)[:, columns]
    return _points(y, np.asarray(task_classes)[np.argmax(proba, axis=1)])


def continual_split(dataset, seed, settings):
    """The split of ``seed`` with at most ``settings.continual_rows`` training
    rows (stratified)."""
    split = datasets.split(dataset, seed, settings.max_rows)
    if len(split.y_train) <= settings.continual_rows:
        return split
    X_train, _, y_train, _ = train_test_split(
        split.X_train,
        split.y_train,
        train_size=settings.continual_rows,
        stratify=split.y_train,
        random_state=seed,
    )
    return replace(split, X_train=X_train, y_train=y_train)


def split_tasks_job(dataset, model, seed, settings):
    split = continual_split(dataset, seed, settings)
    estimator = build(model, recipe_for(split), seed)
    classes = np.unique(split.y_train)
    tasks = [np.array(FIRST_TASK), np.setdiff1d(classes, FIRST_TASK)]
    matrix = []
    for task in tasks:
        rows = np.isin(split.y_train, task)
        for _ in range(settings.continual_epochs):
            estimator.partial_fit(
                split.X_train[rows], split.y_train[rows], classes=classes
            )
        matrix.append(
            [
                _restricted_accuracy(
                    estimator,
                    split.X_test[np.isin(split.y_test, seen)],
                    split.y_test[np.isin(split.y_test, seen)],
                    seen,
                )
                for seen in tasks
            ]
        )
    return matrix


def permuted_job(dataset, model, seed, settings):
    split = continual_split(dataset, seed, settings)
    estimator = build(model, recipe_for(split), seed)
    classes = np.unique(split.y_train)
    rng = np.random.default_rng(seed)
    n_features = split.n_features
    permutations = [np.arange(n_features)] + [
        rng.permutation(n_features) for _ in range(settings.permuted_tasks - 1)
    ]
    matrix = []
    for permutation in permutations:
        for _ in range(settings.continual_epochs):
            estimator.partial_fit(
                split.X_train[:, permutation], split.y_train, classes=classes
            )
        matrix.append(
            [
                _points(split.y_test, estimator.predict(split.X_test[:, seen]))
                for seen in permutations
            ]
        )
    return matrix


def kernels_job(dataset, model, seed, settings):
    split = datasets.split(dataset, seed, settings.max_rows)
    outputs = {}
    for kernels in ("numpy", "numba"):
        estimator = build(model, recipe_for(split), seed, max_iter=settings.epochs)
        with config_context(kernels=kernels):
            estimator.fit(split.X_train, split.y_train)
            outputs[kernels] = estimator.predict_proba(split.X_test)
    numpy_proba, numba_proba = outputs["numpy"], outputs["numba"]
    return {
        "max_abs_difference": float(np.max(np.abs(numpy_proba - numba_proba))),
        "same_predictions": bool(
            np.array_equal(numpy_proba.argmax(axis=1), numba_proba.argmax(axis=1))
        ),
        "accuracy_numpy": _points(split.y_test, numpy_proba.argmax(axis=1)),
    }


JOBS = {
    "trace": trace_job,
    "curve": curve_job,
    "split_tasks": split_tasks_job,
    "permuted": permuted_job,
    "kernels": kernels_job,
}


_warmed_up = []


def warm_up():
    """Compile (or load from numba's cache) our kernels in this process with
    an untimed small fit of each model of ours, on a narrow and on a wide
    input, so no timed fit pays for it: the recipe's two widths choose their
    winners on different paths (few winners of many units take the filtered
    selection)."""
    if _warmed_up:
        return
    rng = np.random.default_rng(0)
    for n_features in (8, WIDE_INPUT_FEATURES):
        X = rng.random((60, n_features))
        recipe = recommended_recipe(n_features, 60)
        for n_classes in (2, 3):
            y = np.arange(60) % n_classes
            for model in (*OURS, *VARIANTS):
                build(model, recipe, 0, max_iter=2).fit(X, y)
                build(model, recipe, 0).partial_fit(X, y, classes=np.unique(y))
    _warmed_up.append(True)


def _run(key, settings):
    kind, dataset, model, seed, *extra = key
    with threadpool_limits(limits=1), convergence_warnings_ignored():
        warm_up()
        return key, JOBS[kind](dataset, model, seed, *extra, settings)


def _n_classes(dataset, settings):
    return len(np.unique(datasets.load(dataset, settings.max_rows)[1]))


def _traces_and_curves(dataset, seed, trace_models, curve_models, curve_rows):
    """The trace job of each of ``trace_models``, then the learning-curve job
    of each of ``curve_models`` at each of ``curve_rows``."""
    return [("trace", dataset, model, seed) for model in trace_models] + [
        ("curve", dataset, model, seed, rows)
        for rows in curve_rows
        for model in curve_models
    ]


def plan_jobs(settings):
    """The keys ``(kind, dataset, model, seed, *extra)`` of every job, the
    traces first (the longest jobs start early).

    The traces of :data:`~benchmarks.evidence.models.MODELS` always run (the
    noise and fit-time protocols read them); ``settings.protocols`` chooses
    the rest (the variants of :data:`~benchmarks.evidence.models.VARIANTS`
    are traced, and fitted on the learning curves when ``'curves'`` is chosen
    too, on ``settings.ablation_datasets``); the kernel check needs numba.
    """
    keys = []
    chosen = set(settings.protocols)
    for dataset in settings.datasets:
        n_train = int(len(datasets.load(dataset, settings.max_rows)[1]) * 0.7)
        image_set = datasets.DATASETS[dataset][0] == "image"
        continual = image_set and _n_classes(dataset, settings) == 10
        curve_rows = [rows for rows in settings.curve_rows if rows < n_train]
        if "curves" not in chosen:
            curve_rows = []
        for seed in settings.seeds:
            keys += _traces_and_curves(dataset, seed, MODELS, CURVE_MODELS, curve_rows)
            if "continual" in chosen and continual:
                keys += [("split_tasks", dataset, m, seed) for m in MODELS]
                keys += [("permuted", dataset, m, seed) for m in MODELS]
        if "ablation" in chosen and dataset in settings.ablation_datasets:
            for seed in settings.seeds:
                keys += _traces_and_curves(
                    dataset, seed, VARIANTS, VARIANTS, curve_rows
                )
        kernels = "kernels" in chosen and numba_available()
        if kernels and dataset in settings.kernel_datasets:
            keys += [
                ("kernels", dataset, model, settings.seeds[0])
                for model in ("ours_fixed", "ours_dynamic")
            ]
    return sorted(keys, key=lambda key: key[0] != "trace")


def _encode(key, result):
    return json.dumps({"key": list(key), "result": result}) + "\n"


def finished_jobs(journal):
    """``{key: result}`` of the jobs recorded in the file ``journal`` (one
    JSON line per finished job), empty when there is none."""
    if journal is None or not journal.exists():
        return {}
    lines = (json.loads(line) for line in journal.read_text().splitlines() if line)
    return {tuple(line["key"]): line["result"] for line in lines}


def run_all(keys, settings, journal=None):
    """``{key: result}`` of every job, ``settings.n_jobs`` at a time.

    With a ``journal`` path, every job's result is appended to it as soon as
    the job finishes, and the jobs already recorded there are not run again:
    an interrupted run resumes where it stopped, and a long run's results can
    be read while it goes on.
    """
    results = finished_jobs(journal)
    pending = [key for key in keys if key not in results]
    outputs = Parallel(
        n_jobs=settings.n_jobs, verbose=settings.verbose, return_as="generator"
    )(delayed(_run)(key, settings) for key in pending)
    for key, result in outputs:
        results[key] = result
        if journal is not None:
            with journal.open("a") as stream:
                stream.write(_encode(key, result))
    return {key: results[key] for key in keys}
