"""The benchmark script against scikit-learn: a quick run and its bookkeeping.

No timing is asserted here: speed targets are judged by the benchmark itself,
as ratios measured in the same run.
"""

import csv
import importlib.util
import json
import math
import subprocess
import sys
from pathlib import Path
from statistics import median

import numpy as np
import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_vs_sklearn.py"
REPEATS = 2
EPOCHS = 2
HIDDEN = [(16,), (8, 8)]
DTYPES = ["float64", "float32"]
METHODS = ["sklearn MLP", "ours fixed 1", "ours fixed 0.5", "ours dynamic 0.5"]
TIME_METRICS = ["fit_seconds_per_epoch", "predict_seconds", "one_row_seconds"]
MEMORY_METRICS = ["fit_peak_bytes", "predict_peak_bytes"]


def load_benchmark_module():
    spec = importlib.util.spec_from_file_location("bench_vs_sklearn", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


bench = load_benchmark_module()


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    output_dir = tmp_path_factory.mktemp("benchmark")
    command = [
        sys.executable,
        str(SCRIPT),
        "--quick",
        "--hidden",
        *[",".join(map(str, sizes)) for sizes in HIDDEN],
        "--ratios",
        "1.0",
        "0.5",
        "--dynamic-ratio",
        "0.5",
        "--dtypes",
        *DTYPES,
        "--repeats",
        str(REPEATS),
        "--epochs",
        str(EPOCHS),
        "--output-dir",
        str(output_dir),
    ]
    completed = subprocess.run(
        command, capture_output=True, text=True, timeout=300, check=False
    )
    assert completed.returncode == 0, completed.stderr
    results = json.loads((output_dir / "results.json").read_text())
    return output_dir, results, completed.stdout


def test_quick_run_has_one_row_per_model(quick_run):
    _, results, _ = quick_run
    found = [
        (tuple(row["hidden"]), row["dtype"], row["method"]) for row in results["rows"]
    ]
    expected = [
        (hidden, dtype, method)
        for hidden in HIDDEN
        for dtype in DTYPES
        for method in METHODS
    ]
    assert found == expected


def test_quick_run_numbers_are_finite_and_positive(quick_run):
    _, results, _ = quick_run
    for row in results["rows"]:
        for metric in TIME_METRICS + MEMORY_METRICS:
            for name in (metric, f"{metric}_ratio"):
                assert math.isfinite(row[name]) and row[name] > 0, (row, name)
        assert 0.0 <= row["accuracy"] <= 1.0
        assert row["row_path_agreement"] == 1.0
        assert row["raw"]["n_iter"] == [EPOCHS] * REPEATS
        for metric in TIME_METRICS:
            assert len(row["raw"][metric]) == REPEATS


def test_ratios_are_medians_of_paired_repeats(quick_run):
    _, results, _ = quick_run
    rows = results["rows"]
    for row in rows:
        baseline = next(
            other
            for other in rows
            if other["hidden"] == row["hidden"]
            and other["dtype"] == row["dtype"]
            and other["strategy"] == "sklearn"
        )
        for metric in TIME_METRICS:
            paired = [
                ours / reference
                for ours, reference in zip(
                    row["raw"][metric], baseline["raw"][metric], strict=True
                )
            ]
            assert row[f"{metric}_ratio"] == pytest.approx(median(paired))
            assert row[f"{metric}_ratio_range"] == pytest.approx(
                [min(paired), max(paired)]
            )
            assert row[metric] == pytest.approx(median(row["raw"][metric]))
        for metric in MEMORY_METRICS:
            assert row[f"{metric}_ratio"] == pytest.approx(
                row[metric] / baseline[metric]
            )
        assert row["accuracy_delta"] == pytest.approx(
            row["accuracy"] - baseline["accuracy"]
        )


def test_quick_run_writes_table_csv_and_plot(quick_run):
    output_dir, results, stdout = quick_run
    table = (output_dir / "results.md").read_text()
    assert table in stdout
    table_lines = [line for line in table.splitlines() if line.startswith("| (")]
    assert len(table_lines) == len(results["rows"])
    for line, row in zip(table_lines, results["rows"], strict=True):
        assert f"| {tuple(row['hidden'])} | {row['dtype']} | {row['method']} |" in line
    assert "## Targets" in table
    assert "one-row predictions equal batched ones, every model" in table

    with open(output_dir / "results.csv", newline="") as handle:
        csv_rows = list(csv.DictReader(handle))
    assert [row["method"] for row in csv_rows] == [
        row["method"] for row in results["rows"]
    ]
    assert all(float(row["fit_seconds_per_epoch"]) > 0 for row in csv_rows)

    plot = output_dir / "speedup_vs_ratio.png"
    if importlib.util.find_spec("matplotlib") is None:
        assert not plot.exists()
    else:
        assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_environment_records_blas_kernel_and_openblas_variables(quick_run):
    _, results, _ = quick_run
    environment = results["environment"]
    assert set(environment["openblas_variables"]) == {
        "OPENBLAS_CORETYPE",
        "OPENBLAS_L2_SIZE",
    }
    assert any(pool["user_api"] == "blas" for pool in environment["threadpools"])


def make_row(hidden, ratio, strategy="fixed", dtype="float64", **values):
    row = {
        "hidden": list(hidden),
        "dtype": dtype,
        "method": f"ours {strategy} {ratio:g}",
        "strategy": strategy,
        "ratio": ratio,
        "accuracy_delta": 0.0,
        "row_path_agreement": 1.0,
        "fit_seconds_per_epoch_ratio": 1.0,
        "predict_seconds_ratio": 1.0,
        "one_row_seconds_ratio": 1.0,
    }
    row.update(values)
    return row


def verdict_for(verdicts, prefix):
    return next(verdict for verdict in verdicts if verdict["target"].startswith(prefix))


def test_targets_are_met_missed_or_not_measured():
    rows = [
        make_row(
            (256,),
            0.1,
            fit_seconds_per_epoch_ratio=1.25,
            fit_seconds_per_epoch_ratio_range=[1.2, 1.4],
        ),
        make_row((1024, 1024), 0.05, fit_seconds_per_epoch_ratio=0.5),
        make_row((1024, 1024), 0.05, "dynamic", fit_seconds_per_epoch_ratio=9.0),
    ]
    verdicts = bench.evaluate_targets(rows)

    missed = verdict_for(verdicts, "fit at ratio 0.1, hidden (256,)")
    assert missed["status"] == "missed"
    assert missed["margin"] == pytest.approx(1.10 - 1.25)
    assert "ratio 1.250 (repeats 1.200 to 1.400)" in bench.describe_verdict(missed)
    assert "0.150 over" in bench.describe_verdict(missed)

    met = verdict_for(verdicts, "fit at 0.05, (1024, 1024)")
    assert met["status"] == "met"
    assert met["measured"] == 0.5
    assert "0.100 under" in bench.describe_verdict(met)

    assert verdict_for(verdicts, "fit at 0.02")["status"] == "not measured"
    assert verdict_for(verdicts, "one-row predictions")["status"] == "met"


def test_path_disagreement_and_dense_accuracy_gap_are_reported():
    rows = [
        make_row((64,), 1.0, accuracy_delta=-0.02),
        make_row((64,), 0.1, row_path_agreement=0.95),
    ]
    verdicts = bench.accuracy_verdicts(rows)
    assert [verdict["status"] for verdict in verdicts] == ["missed", "missed"]
    assert verdicts[0]["target"].startswith("dense accuracy equals")
    assert verdicts[0]["measured"] == pytest.approx(0.02)
    assert verdicts[1]["target"].startswith("one-row predictions equal")
    assert verdicts[1]["measured"] == 0.95


def test_methods_start_with_sklearn_and_have_no_duplicates():
    settings = {
        "ratios": [1.0, 0.1, 0.05],
        "strategies": ["fixed", "dynamic"],
        "dynamic_ratio": 0.1,
    }
    labels = [method.label for method in bench.methods_for(settings)]
    assert labels == [
        "sklearn MLP",
        "ours fixed 1",
        "ours fixed 0.1",
        "ours dynamic 0.1",
        "ours fixed 0.05",
        "ours dynamic 0.05",
    ]
    settings.update(strategies=["fixed"], dynamic_ratio=None)
    assert [method.label for method in bench.methods_for(settings)] == [
        "sklearn MLP",
        "ours fixed 1",
        "ours fixed 0.1",
        "ours fixed 0.05",
    ]


def test_models_share_architecture_epochs_batch_size_and_seed():
    for method in (bench.Method("sklearn", 1.0), bench.Method("dynamic", 0.05)):
        params = method.build((32, 16), epochs=3, batch_size=64, seed=7).get_params()
        assert params["hidden_layer_sizes"] == (32, 16)
        assert params["max_iter"] == 3
        assert params["tol"] == 0.0
        assert params["n_iter_no_change"] > 3
        assert params["batch_size"] == 64
        assert params["random_state"] == 7
    ours = bench.Method("dynamic", 0.05).build((8,), 1, 10, 0).get_params()
    assert ours["activation_ratio"] == 0.05
    assert ours["sparsity_strategy"] == "dynamic"


def test_training_rows_shrink_with_the_network_cost():
    assert bench.training_rows((256,)) == 20_000
    assert bench.training_rows((1024, 1024)) == 2_600
    assert bench.training_rows((4096,)) == 5_000
    assert bench.training_rows((8,)) == 20_000
    assert bench.training_rows((8192, 8192)) == 2_000


@pytest.mark.parametrize("text", ["0", "16,-1", "a,b", ""])
def test_invalid_hidden_sizes_are_rejected(text):
    with pytest.raises(bench.argparse.ArgumentTypeError):
        bench.parse_hidden(text)


def test_hidden_sizes_and_ratios_are_parsed():
    assert bench.parse_hidden("1024,1024") == (1024, 1024)
    assert bench.parse_optional_ratio("none") is None
    assert bench.parse_optional_ratio("0.05") == 0.05
    with pytest.raises(bench.argparse.ArgumentTypeError):
        bench.parse_ratio("1.5")


# -- the accuracy benchmark (bench_accuracy.py) ---------------------------------
ACCURACY_SCRIPT = SCRIPT.with_name("bench_accuracy.py")


def load_accuracy_module():
    spec = importlib.util.spec_from_file_location("bench_accuracy", ACCURACY_SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


accuracy = load_accuracy_module()


@pytest.fixture(scope="module")
def accuracy_quick_run(tmp_path_factory):
    output = tmp_path_factory.mktemp("accuracy") / "accuracy.md"
    results = accuracy.main(["--quick", "--output", str(output)])
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
    assert {key[2] for key in results} == {"sklearn", "fixed", "dynamic"}
    assert {key[3] for key in results} == {0}
    for (case, row, _, _), (score, _) in results.items():
        assert math.isfinite(score)
        assert score <= 100.0
        if case in ("cv", "stream") or row.startswith("digits"):
            assert score >= 0.0  # an accuracy in percent
    for heading in ("Main table", "Small network", "Streaming", "Iso-active"):
        for row in table_rows(markdown, heading):
            for text in row:
                if "±" in text:
                    mean, std = (float(part) for part in text.split("±"))
                    assert math.isfinite(mean) and mean <= 100.0 and std >= 0.0


def test_accuracy_user_params_go_only_where_accepted():
    settings = {
        "ours_params": {"loss": "squared_error", "learning_rate_init": 0.01},
        "sklearn_params": {"alpha": 0.5},
        "quick": False,
    }
    regressor = accuracy.build_model("dynamic", "regression", 3, settings)
    classifier = accuracy.build_model("fixed", "classification", 3, settings)
    assert regressor.get_params()["loss"] == "squared_error"
    assert "loss" not in classifier.get_params()
    for model, strategy in ((regressor, "dynamic"), (classifier, "fixed")):
        assert model.learning_rate_init == 0.01
        assert model.sparsity_strategy == strategy
        assert model.random_state == 3
        assert model.alpha == accuracy.SparseMLPClassifier().alpha
    reference = accuracy.build_model("sklearn", "classification", 3, settings)
    assert type(reference).__name__ == "MLPClassifier"
    assert reference.alpha == 0.5 and reference.learning_rate_init == 0.001
    with pytest.raises(SystemExit, match="no_such_parameter"):
        accuracy.parse_args(["--ours-params", '{"no_such_parameter": 1}'])


def test_accuracy_options_select_datasets_seeds_and_strategies():
    _, settings = accuracy.parse_args(
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
    assert settings["datasets"] == ["iris", "friedman2"]
    assert settings["seeds"] == [4, 5]
    assert settings["strategies"] == ["fixed"]
    jobs = accuracy.plan_jobs(settings)
    assert {key[2] for key in jobs} == {"sklearn", "fixed"}
    assert {key[1] for key in jobs if key[0] == "main"} == {"iris", "friedman2"}
    _, settings = accuracy.parse_args([])
    assert len(settings["datasets"]) >= 14 and settings["seeds"] == [0, 1, 2]


def test_accuracy_iso_active_widths_follow_the_nominal_ratio():
    _, settings = accuracy.parse_args([])
    assert accuracy.default_ratio("classification", settings) == 0.1  # 'auto'
    assert accuracy.ratio_label("regression", settings) == "auto"
    _, settings = accuracy.parse_args(["--ours-params", '{"activation_ratio": 0.25}'])
    assert accuracy.default_ratio("regression", settings) == 0.25


def test_accuracy_holdout_data_sets_are_new_and_load():
    spec = importlib.util.spec_from_file_location(
        "bench_accuracy_holdout", SCRIPT.with_name("bench_accuracy_holdout.py")
    )
    holdout = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(holdout)
    assert not set(holdout.HOLDOUT_DATASETS) & set(accuracy.DATASETS)
    for name, (task, _, _) in holdout.HOLDOUT_DATASETS.items():
        holdout.bench.DATASETS[name] = holdout.HOLDOUT_DATASETS[name]
        try:
            X, y = holdout.bench.load_dataset(name)
        finally:
            del holdout.bench.DATASETS[name]
        assert X.shape[0] == len(y) == 1000 and np.isfinite(X).all()
        if task == "classification":
            assert 2 <= len(np.unique(y)) <= 6


@pytest.mark.parametrize("name", sorted(accuracy.DATASETS))
def test_accuracy_datasets_load_with_matching_rows(name):
    X, y = accuracy.load_dataset(name)
    assert X.ndim == 2 and len(X) == len(y) >= 150
