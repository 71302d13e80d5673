"""The GridSearchCV section: a search over activation ratios, one job against two.

The search runs with the package's default ``kernels='auto'`` (numba when
installed), which is also what joblib's worker processes use: the
``config_context`` setting of this process does not travel to them.
"""

from statistics import median

from sklearn.model_selection import GridSearchCV

from benchmarks.harness.fitting import convergence_warnings_ignored
from benchmarks.harness.timing import paired_ratios, rotated, timed
from benchmarks.speed.settings import GRID_N_JOBS, GRID_RATIOS
from benchmarks.speed.targets import GRID_SEARCH_TARGET
from sklearn_sparse_act import SparseMLPClassifier, config_context
from sklearn_sparse_act._backends import get_backend

CV_FOLDS = 3


def run_grid_search(data_pool, settings, log):
    """GridSearchCV over activation ratios, n_jobs=1 against n_jobs=2.

    One untimed search with each n_jobs first starts joblib's workers and
    compiles or loads the kernels; then the timed repeats alternate which
    n_jobs goes first. The verdict is the median of the per-repeat ratios
    n_jobs=2 / n_jobs=1.
    """
    grid = settings.grid
    X_pool, y_pool, _, _ = data_pool
    n_rows = min(grid.rows, X_pool.shape[0])
    X, y = X_pool[:n_rows], y_pool[:n_rows]

    def search(n_jobs):
        estimator = SparseMLPClassifier(
            hidden_layer_sizes=grid.hidden,
            max_iter=grid.epochs,
            batch_size=settings.batch_size,
            random_state=settings.seed,
        )
        searcher = GridSearchCV(
            estimator,
            {"activation_ratio": list(GRID_RATIOS)},
            cv=CV_FOLDS,
            n_jobs=n_jobs,
        )
        with convergence_warnings_ignored():
            _, seconds = timed(lambda: searcher.fit(X, y), collect_garbage=True)
        return seconds, searcher.best_params_["activation_ratio"]

    with config_context(kernels="auto"):
        backend = get_backend().name
        for n_jobs in GRID_N_JOBS:
            search(n_jobs)
        seconds = {n_jobs: [] for n_jobs in GRID_N_JOBS}
        best = {n_jobs: [] for n_jobs in GRID_N_JOBS}
        for repeat in range(grid.repeats):
            for n_jobs in rotated(GRID_N_JOBS, repeat):
                elapsed, best_ratio = search(n_jobs)
                seconds[n_jobs].append(elapsed)
                best[n_jobs].append(best_ratio)
            log(f"  grid search repeat {repeat + 1}/{grid.repeats} done")
    ratios = paired_ratios(seconds[2], seconds[1])
    return {
        "hidden": list(grid.hidden),
        "train_rows": n_rows,
        "epochs": grid.epochs,
        "repeats": grid.repeats,
        "activation_ratios": list(GRID_RATIOS),
        "cv": CV_FOLDS,
        "kernels": backend,
        "seconds": {f"n_jobs={n}": seconds[n] for n in GRID_N_JOBS},
        "median_seconds": {f"n_jobs={n}": median(seconds[n]) for n in GRID_N_JOBS},
        "best_activation_ratio": {f"n_jobs={n}": best[n] for n in GRID_N_JOBS},
        "verdict": GRID_SEARCH_TARGET.verdict(
            median(ratios), repeat_range=[min(ratios), max(ratios)]
        ),
    }
