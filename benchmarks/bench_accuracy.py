"""Held-out accuracy of SparseMLP* against scikit-learn's MLP, defaults vs defaults.

Every model is built with its library's default parameters (ours at the
default ``activation_ratio``), fitted in ``make_pipeline(StandardScaler(), model)``
on 70% of a data set split with ``random_state=seed`` and scored on the other
30%. Four cases are measured, each against scikit-learn in the same run:

1. the main table: bundled and generated classification/regression data sets;
2. a small network scored by 3-fold ``cross_validate`` (digits / 16, no scaler);
3. streaming: ``partial_fit`` over 300-row chunks of the digits, 5 passes;
4. iso-active units: dense width ``w`` against ours at width ``w / ratio``.

Targets: classification, ours >= scikit-learn - 1 accuracy point; regression,
ours >= scikit-learn - 2 R^2 points (R^2 x 100); cases 2 and 3, ours >=
scikit-learn - 2 points. Usage: ``python benchmarks/bench_accuracy.py --help``.
"""

import argparse
import json
import shlex
import sys
import time
import warnings
from itertools import product
from pathlib import Path

import numpy as np
import sklearn
from joblib import Parallel, delayed
from sklearn.datasets import (
    load_breast_cancer,
    load_diabetes,
    load_digits,
    load_iris,
    load_wine,
    make_circles,
    make_classification,
    make_friedman1,
    make_friedman2,
    make_friedman3,
    make_moons,
    make_regression,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import cross_validate, train_test_split
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from sklearn_sparse_act import SparseMLPClassifier, SparseMLPRegressor
from sklearn_sparse_act._sparsity import AUTO_ACTIVATION_RATIO

DEFAULT_OUTPUT = Path(__file__).resolve().parent / "results" / "accuracy.md"
TOLERANCE = {"classification": 1.0, "regression": 2.0}  # points below sklearn
SMALL_CASE_TOLERANCE = 2.0  # cross-validated and streaming cases
METRIC = {"classification": "accuracy %", "regression": "R^2 x 100"}
ESTIMATORS = {
    ("sklearn", "classification"): MLPClassifier,
    ("sklearn", "regression"): MLPRegressor,
    ("ours", "classification"): SparseMLPClassifier,
    ("ours", "regression"): SparseMLPRegressor,
}
QUICK_DATASETS = ["digits", "diabetes"]
QUICK_MAX_ITER = 20
ISO_WIDTHS = (64, 128)
CHUNK_ROWS, PASSES = 300, 5


# -- data sets ------------------------------------------------------------------
def make_regression_with_offset(offset, **params):
    """``make_regression`` with ``offset`` added to the target (far from 0 mean)."""
    X, y = make_regression(**params)
    return X, y + offset


CLASSIFICATION_20 = dict(n_features=20, n_informative=10)
DATASETS = {  # name: (task, bundled loader or generator, generator parameters)
    "digits": ("classification", load_digits, {}),
    "wine": ("classification", load_wine, {}),
    "iris": ("classification", load_iris, {}),
    "breast_cancer": ("classification", load_breast_cancer, {}),
    "clf_3class": (
        "classification",
        make_classification,
        dict(**CLASSIFICATION_20, n_classes=3),
    ),
    "clf_5class_sep0.5": (
        "classification",
        make_classification,
        dict(**CLASSIFICATION_20, n_classes=5, class_sep=0.5),
    ),
    "clf_redundant_flip": (
        "classification",
        make_classification,
        dict(n_features=40, n_informative=5, n_redundant=30, flip_y=0.05),
    ),
    "moons_noise0.3": ("classification", make_moons, dict(noise=0.3)),
    "circles_noise0.1": ("classification", make_circles, dict(noise=0.1, factor=0.5)),
    "diabetes": ("regression", load_diabetes, {}),
    "friedman1": ("regression", make_friedman1, dict(noise=1.0)),
    # Friedman #2 and #3: noise std about a third of the noiseless target's std
    "friedman2": ("regression", make_friedman2, dict(noise=125.0)),  # target std ~380
    "friedman3": ("regression", make_friedman3, dict(noise=0.1)),  # target std ~0.34
    "linear_offset1000": (
        "regression",
        make_regression_with_offset,
        dict(offset=1000.0, n_features=20, n_informative=5, noise=10.0),
    ),
    "linear_3targets": (
        "regression",
        make_regression,
        dict(n_features=20, n_informative=10, n_targets=3, noise=10.0),
    ),
}


def load_dataset(name):
    """X, y of a bundled data set, or 1000 generated rows fixed by random_state=0."""
    _, function, params = DATASETS[name]
    if function.__name__.startswith("load_"):
        return function(return_X_y=True)
    return function(n_samples=1000, random_state=0, **params)


def held_out_split(dataset, seed):
    X, y = load_dataset(dataset)
    return train_test_split(X, y, test_size=0.3, random_state=seed)


# -- models --------------------------------------------------------------------
def build_model(model, task, seed, settings, **case_params):
    """``model`` is 'sklearn', 'fixed' or 'dynamic'; user params override the case's."""
    family = "sklearn" if model == "sklearn" else "ours"
    estimator = ESTIMATORS[family, task](random_state=seed)
    if family == "ours":
        estimator.set_params(sparsity_strategy=model)
    params = {**case_params, **settings[f"{family}_params"]}
    if settings["quick"]:
        params.setdefault("max_iter", QUICK_MAX_ITER)
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
    ratio = build_model("fixed", task, 0, settings).activation_ratio
    return ratio if isinstance(ratio, str) else f"{default_ratio(task, settings):g}"


# -- one job per (case, data set, model, seed); each returns a score in points --
def main_table_score(dataset, model, seed, settings):
    task = DATASETS[dataset][0]
    X_train, X_test, y_train, y_test = held_out_split(dataset, seed)
    estimator = build_model(model, task, seed, settings)
    pipeline = make_pipeline(StandardScaler(), estimator).fit(X_train, y_train)
    return 100 * pipeline.score(X_test, y_test), estimator.n_iter_


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
    task = DATASETS[dataset][0]
    if model != "sklearn":
        width = round(width / default_ratio(task, settings))
    X_train, X_test, y_train, y_test = held_out_split(dataset, seed)
    estimator = build_model(model, task, seed, settings, hidden_layer_sizes=(width,))
    pipeline = make_pipeline(StandardScaler(), estimator).fit(X_train, y_train)
    return 100 * pipeline.score(X_test, y_test), estimator.n_iter_


def run_job(function, args, settings, single_thread):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        if not single_thread:
            return function(*args, settings)
        with threadpool_limits(limits=1):
            return function(*args, settings)


def plan_jobs(settings):
    """{(case, row, model, seed): (function, args)} for every fit of the run."""
    models, seeds, jobs = ["sklearn", *settings["strategies"]], settings["seeds"], {}
    for dataset, model, seed in product(settings["datasets"], models, seeds):
        jobs["main", dataset, model, seed] = (main_table_score, (dataset, model, seed))
    for model, seed in product(models, seeds):
        jobs["cv", "digits", model, seed] = (small_network_cv_score, (model, seed))
        jobs["stream", "digits", model, seed] = (streaming_score, (model, seed))
    for dataset, width, model, seed in product(
        ("digits", "friedman1"), ISO_WIDTHS, models, seeds
    ):
        key = ("iso", f"{dataset} w={width}", model, seed)
        jobs[key] = (iso_active_score, (dataset, width, model, seed))
    return jobs


def run_all(settings):
    jobs = plan_jobs(settings)
    n_jobs = settings["n_jobs"]
    outputs = Parallel(n_jobs=n_jobs, verbose=5 if n_jobs != 1 else 0)(
        delayed(run_job)(function, args, settings, n_jobs != 1)
        for function, args in jobs.values()
    )
    return dict(zip(jobs, outputs, strict=True))


# -- report --------------------------------------------------------------------
def collect(results, case, row, model, seeds):
    return np.array([results[case, row, model, seed][0] for seed in seeds])


def cell(scores):
    return f"{scores.mean():.2f} ± {scores.std():.2f}"


def delta_cell(ours, reference, tolerance):
    delta = ours.mean() - reference.mean()
    if tolerance is None:
        return f"{delta:+.2f}"
    return f"{delta:+.2f} {'PASS' if delta >= -tolerance else 'MISS'}"


def comparison_table(results, case, rows, settings, header):
    """Markdown lines, one per ``(key, leading cells, tolerance)`` in ``rows``:
    scikit-learn, then each strategy with its difference; and the PASS counts."""
    models, seeds = settings["strategies"], settings["seeds"]
    header = [*header, "scikit-learn"]
    for model in models:
        header += [f"ours {model}", f"{model} − sklearn"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    passed = dict.fromkeys(models, 0)
    for key, leading, tolerance in rows:
        reference = collect(results, case, key, "sklearn", seeds)
        cells = [*leading, cell(reference)]
        for model in models:
            ours = collect(results, case, key, model, seeds)
            cells += [cell(ours), delta_cell(ours, reference, tolerance)]
            if tolerance is not None:
                passed[model] += bool(ours.mean() - reference.mean() >= -tolerance)
        lines.append("| " + " | ".join(cells) + " |")
    return lines, passed


def epochs_line(results, settings):
    """Mean epochs per fit of each model over the main table (a convergence hint)."""
    parts = []
    for model in ["sklearn", *settings["strategies"]]:
        iterations = [
            results["main", dataset, model, seed][1]
            for dataset in settings["datasets"]
            for seed in settings["seeds"]
        ]
        parts.append(f"{model} {np.mean(iterations):.0f}")
    return "Mean epochs per main-table fit: " + ", ".join(parts) + "."


def render_markdown(results, settings, elapsed, command):
    strategies = settings["strategies"]
    lines = [
        "# Held-out scores: scikit-learn's MLP against sklearn-sparse-act",
        "",
        f"Command: `{command}`",
        "",
        f"Elapsed: {elapsed:.1f} s with n_jobs={settings['n_jobs']}; "
        f"scikit-learn {sklearn.__version__}, seeds {settings['seeds']}, "
        f"ours at activation_ratio={ratio_label('classification', settings)} "
        f"(classifier) / {ratio_label('regression', settings)} (regressor); "
        f"ours params {json.dumps(settings['ours_params'])}, "
        f"sklearn params {json.dumps(settings['sklearn_params'])}"
        + (f", quick (max_iter={QUICK_MAX_ITER})" if settings["quick"] else "")
        + ".",
        "",
        "Cells: mean ± std over seeds, in points (accuracy % or R^2 x 100). "
        "PASS when ours >= scikit-learn - tolerance.",
        "",
        "## Main table (defaults; 70/30 split; StandardScaler pipeline)",
        "",
        f"Tolerance: {TOLERANCE['classification']:g} point (classification), "
        f"{TOLERANCE['regression']:g} R^2 points (regression).",
        "",
    ]
    datasets = settings["datasets"]
    rows = [
        (name, (name, METRIC[DATASETS[name][0]]), TOLERANCE[DATASETS[name][0]])
        for name in datasets
    ]
    table, passed = comparison_table(
        results, "main", rows, settings, ["data set", "metric"]
    )
    counts = ", ".join(f"{m} {passed[m]}/{len(datasets)}" for m in strategies)
    lines += [*table, "", f"PASS count: {counts}. {epochs_line(results, settings)}"]
    small_cases = {
        "cv": "Small network, 3-fold cross_validate (digits / 16, no scaler, "
        "hidden (32,), max_iter=30; mean fold accuracy %)",
        "stream": f"Streaming: partial_fit over {CHUNK_ROWS}-row chunks, {PASSES} "
        "passes (digits, hidden (64,); held-out accuracy %)",
    }
    for case, title in small_cases.items():
        rows = [("digits", ("digits",), SMALL_CASE_TOLERANCE)]
        table, _ = comparison_table(results, case, rows, settings, ["data set"])
        tolerance = f"Tolerance: {SMALL_CASE_TOLERANCE:g} points."
        lines += ["", f"## {title}", "", tolerance, "", *table]
    rows = [
        (f"{name} w={width}", (f"{name} w={width}",), None)
        for name in ("digits", "friedman1")
        for width in ISO_WIDTHS
    ]
    table, _ = comparison_table(results, "iso", rows, settings, ["dense width"])
    lines += [
        "",
        "## Iso-active units: dense width w against ours at width w / ratio",
        "",
        "Same number of active units per row; held-out accuracy % (digits) or "
        "R^2 x 100 (friedman1). No target: for information.",
        "",
        *table,
        "",
    ]
    return "\n".join(lines)


# -- command line --------------------------------------------------------------
def parse_params(text):
    params = json.loads(text)
    if not isinstance(params, dict):
        raise argparse.ArgumentTypeError(f"expected a JSON object, got {text!r}")
    return params


def check_params(params, family):
    accepted = set()
    for task in ("classification", "regression"):
        accepted |= set(ESTIMATORS[family, task]().get_params())
    unknown = sorted(set(params) - accepted)
    if unknown:
        raise SystemExit(f"--{family}-params: no {family} estimator accepts {unknown}")


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", nargs="+", choices=list(DATASETS))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument(
        "--strategies", nargs="+", choices=["fixed", "dynamic"], default=None
    )
    parser.add_argument("--ours-params", type=parse_params, default={})
    parser.add_argument("--sklearn-params", type=parse_params, default={})
    parser.add_argument("--n-jobs", type=int, default=1)
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"smoke test: {QUICK_DATASETS}, first seed, max_iter={QUICK_MAX_ITER}",
    )
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    args = parser.parse_args(argv)
    check_params(args.ours_params, "ours")
    check_params(args.sklearn_params, "sklearn")
    datasets = args.datasets or (QUICK_DATASETS if args.quick else list(DATASETS))
    return args, {
        "datasets": datasets,
        "seeds": args.seeds[:1] if args.quick else args.seeds,
        "strategies": list(dict.fromkeys(args.strategies or ["fixed", "dynamic"])),
        "ours_params": args.ours_params,
        "sklearn_params": args.sklearn_params,
        "n_jobs": args.n_jobs,
        "quick": args.quick,
    }


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    args, settings = parse_args(argv)
    command = shlex.join(["python", "benchmarks/bench_accuracy.py", *argv])
    start = time.perf_counter()
    results = run_all(settings)
    elapsed = time.perf_counter() - start
    markdown = render_markdown(results, settings, elapsed, command)
    print(markdown)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(markdown)
    print(f"elapsed {elapsed:.1f} s; wrote {args.output}", file=sys.stderr)
    return results


if __name__ == "__main__":
    main()
