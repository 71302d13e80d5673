"""The accuracy benchmarks: a quick run of bench_accuracy.py, its options and
data sets, and the held-out script.

No accuracy is asserted beyond range checks: the benchmark judges its own
targets.
"""

import math
from dataclasses import replace

import numpy as np
import pytest

from benchmarks import bench_accuracy, bench_accuracy_holdout
from benchmarks.accuracy import cases as accuracy_cases
from benchmarks.accuracy import datasets as accuracy_datasets
from benchmarks.accuracy.settings import parse_args as parse_accuracy_args
from sklearn_sparse_act import SparseMLPClassifier


@pytest.fixture(scope="module")
def accuracy_quick_run(tmp_path_factory):
    output = tmp_path_factory.mktemp("accuracy") / "accuracy.md"
    results = bench_accuracy.main(["--quick", "--output", str(output)])
    return output.read_text(), results


def table_rows(markdown, heading):
    """The data rows of the first table under the heading that starts so."""
    section = markdown.split(f"## {heading}", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| ")]
    return [[cell.strip() for cell in row.strip("|").split("|")] for row in rows[1:]]


def test_accuracy_quick_run_has_the_expected_rows_and_columns(accuracy_quick_run):
    markdown, _ = accuracy_quick_run
    assert "Command: `python benchmarks/bench_accuracy.py --quick --output" in markdown
    assert "Elapsed: " in markdown
    main_rows = table_rows(markdown, "Main table")
    assert [row[:2] for row in main_rows] == [
        ["digits", "accuracy %"],
        ["diabetes", "R^2 x 100"],
    ]
    scaled_y_rows = table_rows(markdown, "Regression against scikit-learn's MLP on")
    assert [row[:2] for row in scaled_y_rows] == [["diabetes", "R^2 x 100"]]
    assert scaled_y_rows[0][4].endswith(("PASS", "MISS"))
    assert [row[0] for row in table_rows(markdown, "Small network")] == ["digits"]
    assert [row[0] for row in table_rows(markdown, "Streaming")] == ["digits"]
    assert [row[0] for row in table_rows(markdown, "Iso-active")] == [
        "digits w=64",
        "digits w=128",
        "friedman1 w=64",
        "friedman1 w=128",
    ]
    for row in main_rows:
        # scikit-learn, then score and difference with a verdict per strategy
        assert len(row) == 2 + 1 + 2 * 2
        assert row[4].endswith(("PASS", "MISS")) and row[6].endswith(("PASS", "MISS"))


def test_accuracy_quick_run_scores_are_finite_and_in_range(accuracy_quick_run):
    markdown, results = accuracy_quick_run
    assert {key[2] for key in results} == {
        "sklearn",
        "sklearn_scaled_y",
        "fixed",
        "dynamic",
    }
    # scikit-learn on standardized targets: the regression rows only.
    assert {key[1] for key in results if key[2] == "sklearn_scaled_y"} == {"diabetes"}
    assert {key[3] for key in results} == {0}
    for (case, row, _, _), (score, _) in results.items():
        assert math.isfinite(score)
        assert score <= 100.0
        if case in ("cv", "stream") or row.startswith("digits"):
            assert score >= 0.0  # an accuracy in percent
    headings = ("Main table", "Regression against", "Small network", "Streaming")
    for heading in (*headings, "Iso-active"):
        for row in table_rows(markdown, heading):
            for text in row:
                if "±" in text:
                    mean, std = (float(part) for part in text.split("±"))
                    assert math.isfinite(mean) and mean <= 100.0 and std >= 0.0


def test_accuracy_user_params_go_only_where_accepted():
    settings = replace(
        parse_accuracy_args([])[1],
        ours_params={"loss": "squared_error", "learning_rate_init": 0.01},
        sklearn_params={"alpha": 0.5},
        quick=False,
    )
    regressor = accuracy_cases.build_model("dynamic", "regression", 3, settings)
    classifier = accuracy_cases.build_model("fixed", "classification", 3, settings)
    assert regressor.get_params()["loss"] == "squared_error"
    assert "loss" not in classifier.get_params()
    for model, strategy in ((regressor, "dynamic"), (classifier, "fixed")):
        assert model.learning_rate_init == 0.01
        assert model.sparsity_strategy == strategy
        assert model.random_state == 3
        assert model.alpha == SparseMLPClassifier().alpha
    reference = accuracy_cases.build_model("sklearn", "classification", 3, settings)
    assert type(reference).__name__ == "MLPClassifier"
    assert reference.alpha == 0.5 and reference.learning_rate_init == 0.001
    with pytest.raises(SystemExit, match="no_such_parameter"):
        parse_accuracy_args(["--ours-params", '{"no_such_parameter": 1}'])


def test_accuracy_options_select_datasets_seeds_and_strategies():
    _, settings = parse_accuracy_args(
        [
            "--datasets",
            "iris",
            "friedman2",
            "--seeds",
            "4",
            "5",
            "--strategies",
            "fixed",
        ]
    )
    assert settings.datasets == ("iris", "friedman2")
    assert settings.seeds == (4, 5)
    assert settings.strategies == ("fixed",)
    jobs = accuracy_cases.plan_jobs(settings)
    # friedman2 is a regression: scikit-learn also runs on standardized targets.
    assert {key[2] for key in jobs} == {"sklearn", "sklearn_scaled_y", "fixed"}
    assert {key[1] for key in jobs if key[0] == "main"} == {"iris", "friedman2"}
    _, settings = parse_accuracy_args([])
    assert len(settings.datasets) >= 14 and settings.seeds == (0, 1, 2)


def test_accuracy_scaled_target_baseline_and_main_only():
    _, settings = parse_accuracy_args(
        ["--datasets", "iris", "diabetes", "--seeds", "0", "--main-only"]
    )
    baseline = accuracy_cases.build_model("sklearn_scaled_y", "regression", 3, settings)
    assert type(baseline).__name__ == "TransformedTargetRegressor"
    assert type(baseline.regressor).__name__ == "MLPRegressor"
    assert baseline.regressor.random_state == 3
    assert type(baseline.transformer).__name__ == "StandardScaler"
    jobs = accuracy_cases.plan_jobs(settings)
    assert {key[0] for key in jobs} == {"main"}
    assert {key[1] for key in jobs if key[2] == "sklearn_scaled_y"} == {"diabetes"}


def test_accuracy_iso_active_widths_follow_the_nominal_ratio():
    _, settings = parse_accuracy_args([])
    assert accuracy_cases.default_ratio("classification", settings) == 0.1  # 'auto'
    assert accuracy_cases.ratio_label("regression", settings) == "auto"
    _, settings = parse_accuracy_args(["--ours-params", '{"activation_ratio": 0.25}'])
    assert accuracy_cases.default_ratio("regression", settings) == 0.25


def test_accuracy_holdout_data_sets_are_new_and_load():
    holdout_datasets = accuracy_datasets.HOLDOUT_DATASETS
    assert not set(holdout_datasets) & set(accuracy_datasets.DATASETS)
    for name, (task, _, _) in holdout_datasets.items():
        X, y = accuracy_datasets.load_dataset(name)
        assert X.shape[0] == len(y) == 1000 and np.isfinite(X).all()
        if task == "classification":
            assert 2 <= len(np.unique(y)) <= 6


def test_accuracy_holdout_script_runs_on_its_own_data_sets(tmp_path):
    output = tmp_path / "holdout.md"
    results = bench_accuracy_holdout.main(
        ["--quick", "--datasets", "hastie_10_2", "--output", str(output)]
    )
    assert set(results) == {
        ("main", "hastie_10_2", model, 0) for model in ("sklearn", "fixed", "dynamic")
    }
    markdown = output.read_text()
    assert "Command: `python benchmarks/bench_accuracy_holdout.py --quick" in markdown
    [row] = [line for line in markdown.splitlines() if line.startswith("| hastie")]
    assert row.startswith("| hastie_10_2 | accuracy % |")
    assert row.rstrip(" |").endswith(("PASS", "MISS"))
    assert "PASS count: fixed " in markdown


@pytest.mark.parametrize("name", sorted(accuracy_datasets.DATASETS))
def test_accuracy_datasets_load_with_matching_rows(name):
    X, y = accuracy_datasets.load_dataset(name)
    assert X.ndim == 2 and len(X) == len(y) >= 150
