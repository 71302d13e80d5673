"""The speed benchmark's two extra sections, run in this process: the
GridSearchCV timing (one job against two) and numba's first fit in fresh
processes.

They are apart from tests/test_benchmarks.py so that the test runner can
schedule them beside that module's quick run; in this process the grid search
also reuses the worker processes of joblib that other tests started.
"""

from dataclasses import replace
from statistics import median

import pytest

from benchmarks.speed import models
from benchmarks.speed import settings as speed_settings
from benchmarks.speed.first_fit import run_first_fit
from benchmarks.speed.grid_search import run_grid_search
from benchmarks.speed.report import first_fit_report, grid_search_report

# Both backends when numba is installed, as the benchmark's default.
KERNELS = speed_settings.default_kernels()
HAS_NUMBA = "numba" in KERNELS


@pytest.fixture(scope="module")
def quick_settings():
    parser = speed_settings.build_parser()
    return speed_settings.resolve_settings(parser.parse_args(["--quick"]))


def test_grid_search_section_times_both_n_jobs(quick_settings):
    grid_settings = quick_settings.grid
    data_pool = models.make_data(grid_settings.rows, 10, quick_settings.seed)
    grid = run_grid_search(data_pool, quick_settings, log=lambda message: None)
    assert grid["activation_ratios"] == [0.05, 0.1, 0.2]
    assert grid["kernels"] == KERNELS[-1]
    assert grid["train_rows"] == grid_settings.rows
    for n_jobs in ("n_jobs=1", "n_jobs=2"):
        assert len(grid["seconds"][n_jobs]) == grid["repeats"]
        assert grid["median_seconds"][n_jobs] == median(grid["seconds"][n_jobs])
        assert grid["best_activation_ratio"][n_jobs][0] in grid["activation_ratios"]
    # The search is deterministic: both n_jobs find the same ratio.
    assert (
        grid["best_activation_ratio"]["n_jobs=1"]
        == grid["best_activation_ratio"]["n_jobs=2"]
    )
    assert grid["verdict"]["status"] in ("met", "missed")
    report = grid_search_report(grid)
    assert "GridSearchCV n_jobs=2 no slower than n_jobs=1: ratio" in report


@pytest.mark.skipif(not HAS_NUMBA, reason="the first-fit section needs numba")
def test_first_fit_section_compiles_cold_then_loads(quick_settings):
    # A dense fit: the section's fresh processes, cache and columns are the
    # same, and its cold process compiles a few kernels, not every one a
    # sparse fit needs.
    dense_fit = replace(quick_settings.jit_fit, ratio=1.0)
    jit = run_first_fit(
        replace(quick_settings, jit_fit=dense_fit), log=lambda message: None
    )
    assert jit["cache_files_written"] > 0
    for cache in ("cold", "warm"):
        measured = jit[cache]
        assert measured["first_fit_seconds"] > 0
        assert len(measured["repeat_fit_seconds"]) == 3
        assert measured["overhead_seconds"] == pytest.approx(
            measured["first_fit_seconds"] - measured["repeat_fit_median_seconds"]
        )
    report = first_fit_report(jit)
    assert "| cold |" in report and "| warm |" in report
