"""The benchmarks: a quick run of each script, their bookkeeping and harness.

No timing is asserted here: speed targets are judged by the benchmark itself,
as ratios measured in the same run.
"""

import argparse
import csv
import importlib.util
import json
import math
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from statistics import median

import numpy as np
import pytest

from benchmarks.harness import timing
from benchmarks.harness.command_line import (
    parse_hidden,
    parse_optional_ratio,
    parse_ratio,
)
from benchmarks.speed import models
from benchmarks.speed import settings as speed_settings
from benchmarks.speed.measure import interleaved_dtype_ratios, measure_once
from benchmarks.speed.targets import TARGETS
from benchmarks.speed.verdicts import (
    accuracy_verdicts,
    describe_verdict,
    dynamic_checks,
    evaluate_targets,
    float32_checks,
    float32_table,
)
from sklearn_sparse_act._backends import numba_available

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_vs_sklearn.py"
REPEATS = 2
EPOCHS = 2
HIDDEN = [(16,), (8, 8)]
DTYPES = ["float64", "float32"]
TIME_METRICS = ["fit_seconds_per_epoch", "predict_seconds", "one_row_proba_seconds"]
# The memory the quick run measures (it leaves out the peak RSS, whose fresh
# processes take seconds each: tests/test_benchmark_memory.py runs one).
MEMORY_METRICS = ["fit_peak_bytes", "scaled_fit_peak_bytes", "predict_peak_bytes"]


# Both backends when numba is installed, as the benchmark's default.
KERNELS = speed_settings.default_kernels()
HAS_NUMBA = "numba" in KERNELS
METHODS = ["sklearn MLP"] + [
    f"ours {kernels} {method}"
    for kernels in KERNELS
    for method in ("fixed 1", "fixed 0.5", "dynamic 0.5")
]


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
        "--kernels",
        *KERNELS,
        # The two extra sections are tested on their own below, in this
        # process: the grid search then reuses the worker processes of joblib
        # that other tests started, and the test runner can run the first
        # fit's fresh processes beside the rest of this module.
        "--no-grid-search",
        "--no-jit",
        "--output-dir",
        str(output_dir),
    ]
    completed = subprocess.run(
        command, capture_output=True, text=True, timeout=600, check=False
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
        assert row["scaled_train_rows"] == 10 * row["train_rows"]
        assert "fit_peak_rss_bytes" not in row
        assert 0.0 <= row["accuracy"] <= 1.0
        assert row["row_path_agreement"] == 1.0
        assert row["raw"]["n_iter"] == [EPOCHS] * REPEATS
        for metric in TIME_METRICS:
            assert len(row["raw"][metric]) == REPEATS
        paired = row.get("dtype_ratios")
        if row["dtype"] == "float64" or row["strategy"] == "sklearn":
            assert paired is None
            continue
        settings = results["settings"]
        assert len(paired["predict_seconds"]) == settings["predict_calls"]
        assert len(paired["one_row_proba_seconds"]) == settings["one_row_calls"]
        for ratio in paired["predict_seconds"] + paired["one_row_proba_seconds"]:
            assert math.isfinite(ratio) and ratio > 0


def test_quick_run_json_has_the_extra_sections(quick_run):
    _, results, _ = quick_run
    assert results["settings"]["kernels"] == KERNELS
    assert [row["kernels"] for row in results["rows"]][: len(METHODS)] == [""] + [
        kernels for kernels in KERNELS for _ in range(3)
    ]
    checks = results["float32_checks"]
    assert len(checks) == len(HIDDEN) * (len(METHODS) - 1) * len(TIME_METRICS)
    for check in checks:
        assert check["status"] in ("met", "missed")
        assert math.isfinite(check["measured"]) and check["measured"] > 0
        assert check["bound"] == 1.0

    dynamic = results["dynamic_checks"]
    assert len(dynamic) == len(HIDDEN) * len(DTYPES) * len(KERNELS)
    for check in dynamic:
        assert check["status"] in ("met", "missed")
        assert math.isfinite(check["measured"]) and check["measured"] > 0
        assert check["bound"] == (1.1 if "[numba]" in check["target"] else 1.2)

    assert results["grid_search"] is None
    assert results["jit"] is None


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
    main_table, memory = table.split("## Targets")[0].split("## Memory")
    memory_header = memory.splitlines()[4]
    assert "| fit traced MiB | × | fit traced MiB, 10× rows | × |" in memory_header
    for part in (main_table, memory):
        table_lines = [line for line in part.splitlines() if line.startswith("| (")]
        assert len(table_lines) == len(results["rows"])
        for line, row in zip(table_lines, results["rows"], strict=True):
            start = f"| {tuple(row['hidden'])} | {row['dtype']} | {row['method']} |"
            assert line.startswith(start)
    assert "## Targets" in table
    assert "one-row predictions equal batched ones, every model" in table
    for target in TARGETS:
        # the quick run has none of the issue's architectures
        assert f"not measured: {target.description} [{target.kernels}," in table
    dynamic_section = table.split("## 'dynamic' against 'fixed'")[1].split("## ")[0]
    dynamic_lines = [line for line in dynamic_section.splitlines() if line]
    assert len(dynamic_lines) == 1 + len(results["dynamic_checks"])
    for line in dynamic_lines[1:]:
        assert line.startswith(("- MET: 'dynamic' fit", "- MISSED: 'dynamic' fit"))
    assert "## float32 against float64" in table
    float32_lines = [
        line
        for line in table.split("## float32 against float64")[1].splitlines()
        if line.startswith("| (")
    ]
    assert len(float32_lines) == len(HIDDEN) * (len(METHODS) - 1)
    for line in float32_lines:
        assert line.split("|")[-2].strip().startswith(("MET", "MISSED: ")), line
    assert "float32 no slower than float64 in every row" in table
    assert "## GridSearchCV, n_jobs=2 against n_jobs=1" in table
    assert "Not run (`--grid-search` to run it)." in table
    assert "## numba's first fit (JIT) in a fresh process" in table
    assert "Not run (`--jit`" in table

    with open(output_dir / "results.csv", newline="") as handle:
        csv_rows = list(csv.DictReader(handle))
    assert [row["method"] for row in csv_rows] == [
        row["method"] for row in results["rows"]
    ]
    assert [row["kernels"] for row in csv_rows] == [
        row["kernels"] for row in results["rows"]
    ]
    assert all(float(row["fit_seconds_per_epoch"]) > 0 for row in csv_rows)
    assert all(float(row["scaled_fit_peak_bytes_ratio"]) > 0 for row in csv_rows)

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


def make_row(
    hidden, ratio, strategy="fixed", dtype="float64", kernels="numba", **values
):
    row = {
        "hidden": list(hidden),
        "dtype": dtype,
        "method": f"ours {kernels} {strategy} {ratio:g}",
        "kernels": kernels,
        "strategy": strategy,
        "ratio": ratio,
        "accuracy_delta": 0.0,
        "row_path_agreement": 1.0,
        "fit_seconds_per_epoch_ratio": 1.0,
        "predict_seconds_ratio": 1.0,
        "one_row_proba_seconds_ratio": 1.0,
    }
    row.update(values)
    return row


def verdict_for(verdicts, prefix):
    return next(verdict for verdict in verdicts if verdict["target"].startswith(prefix))


def test_targets_are_the_issues_and_name_their_backend():
    bounds = {
        (target.metric, target.hidden, target.ratio, target.kernels): target.bound
        for target in TARGETS
    }
    assert bounds == {
        ("fit_seconds_per_epoch", (1024, 1024), 1.0, "numba"): 1.0,
        ("fit_seconds_per_epoch", (1024, 1024), 0.05, "numba"): 0.35,
        ("fit_seconds_per_epoch", (1024, 1024), 0.02, "numba"): 0.25,
        ("fit_seconds_per_epoch", (256,), 0.1, "numba"): 1.0,
        ("one_row_proba_seconds", (1024, 1024), 0.1, "numba"): 0.3,
        ("one_row_proba_seconds", (1024, 1024), 0.1, "numpy"): 0.5,
        ("predict_seconds", (1024, 1024), 0.05, "numba"): 0.5,
    }
    assert {target.dtype for target in TARGETS} == {"float64"}


def test_targets_are_met_missed_or_not_measured():
    rows = [
        make_row(
            (256,),
            0.1,
            fit_seconds_per_epoch_ratio=1.25,
            fit_seconds_per_epoch_ratio_range=[1.2, 1.4],
        ),
        # the numpy backend and float32 are not what the fit targets judge
        make_row((256,), 0.1, kernels="numpy", fit_seconds_per_epoch_ratio=0.1),
        make_row((1024, 1024), 0.05, dtype="float32", fit_seconds_per_epoch_ratio=9),
        make_row((1024, 1024), 0.05, fit_seconds_per_epoch_ratio=0.25),
        make_row((1024, 1024), 0.05, "dynamic", fit_seconds_per_epoch_ratio=9.0),
        make_row((1024, 1024), 0.1, kernels="numpy", one_row_proba_seconds_ratio=0.4),
    ]
    verdicts = evaluate_targets(rows)

    missed = verdict_for(verdicts, "fit at 0.1, (256,)")
    assert missed["target"].endswith("[numba, float64]")
    assert missed["status"] == "missed"
    assert missed["margin"] == pytest.approx(1.0 - 1.25)
    assert "ratio 1.250 (repeats 1.200 to 1.400)" in describe_verdict(missed)
    assert "0.250 over" in describe_verdict(missed)

    met = verdict_for(verdicts, "fit at 0.05, (1024, 1024)")
    assert met["status"] == "met"
    assert met["measured"] == 0.25
    assert "0.100 under" in describe_verdict(met)

    one_row = [v for v in verdicts if v["target"].startswith("one-row predict_proba")]
    assert [(v["target"][-16:], v["status"]) for v in one_row] == [
        ("[numba, float64]", "not measured"),
        ("[numpy, float64]", "met"),
    ]
    assert verdict_for(verdicts, "fit at 0.02")["status"] == "not measured"
    assert verdict_for(verdicts, "one-row predictions")["status"] == "met"


def test_float32_is_checked_against_float64_per_model_and_metric():
    def timed(dtype, kernels, fit, predict, one_row):
        row = make_row((64,), 0.1, dtype=dtype, kernels=kernels)
        row["raw"] = {
            "fit_seconds_per_epoch": fit,
            "predict_seconds": predict,
            "one_row_proba_seconds": one_row,
        }
        return row

    # The numpy row's predictions were also timed in pairs of calls: those
    # ratios decide, not the repeats'.
    paired_numpy = timed(
        "float32", "numpy", [0.5, 0.5, 0.5], [2.0, 2.0, 2.0], [0.5, 0.5, 0.5]
    )
    paired_numpy["dtype_ratios"] = {
        "predict_seconds": [0.4, 0.6, 0.5],
        "one_row_proba_seconds": [0.9, 1.2, 0.8, 0.7, 0.95],
    }
    rows = [
        {**make_row((64,), 1.0, "sklearn", kernels=""), "method": "sklearn MLP"},
        timed("float64", "numba", [2.0, 2.0, 2.0], [1.0, 1.0, 1.0], [1.0, 1, 1]),
        timed("float64", "numpy", [1.0, 1.0, 1.0], [1.0, 1.0, 1.0], [1.0, 1, 1]),
        timed("float32", "numba", [1.0, 3.0, 1.0], [1.1, 1.2, 0.9], [1.0, 1, 1]),
        paired_numpy,
    ]
    checks = float32_checks(rows)
    found = {(c["method"], c["metric"]): (c["measured"], c["status"]) for c in checks}
    assert found == {
        ("ours numba fixed 0.1", "fit_seconds_per_epoch"): (0.5, "met"),
        ("ours numba fixed 0.1", "predict_seconds"): (pytest.approx(1.1), "missed"),
        ("ours numba fixed 0.1", "one_row_proba_seconds"): (1.0, "met"),
        ("ours numpy fixed 0.1", "fit_seconds_per_epoch"): (0.5, "met"),
        ("ours numpy fixed 0.1", "predict_seconds"): (0.5, "met"),
        ("ours numpy fixed 0.1", "one_row_proba_seconds"): (0.9, "met"),
    }
    table = float32_table(checks)
    assert (
        "| (64,) | ours numba fixed 0.1 | 0.50 | 1.10 | 1.00 | MISSED: predict |"
        in (table)
    )
    assert "| (64,) | ours numpy fixed 0.1 | 0.50 | 0.50 | 0.90 | MET |" in table
    assert "- MISSED: float32 no slower than float64 in every row" in table
    assert "5 of 6 model-metric pairs" in table


def test_dynamic_fit_is_judged_against_fixed_at_its_ratio_in_the_same_repeats():
    def fitted(strategy, ratio, kernels, fit_seconds, dtype="float64"):
        row = make_row((64,), ratio, strategy, dtype=dtype, kernels=kernels)
        row["raw"] = {"fit_seconds_per_epoch": fit_seconds}
        return row

    rows = [
        {**make_row((64,), 1.0, "sklearn", kernels=""), "method": "sklearn MLP"},
        fitted("fixed", 0.1, "numba", [1.0, 2.0, 1.0]),
        fitted("fixed", 0.05, "numba", [9.0, 9.0, 9.0]),
        # Paired with the repeat it ran in: 1.2, 1.05, 1.0 (unpaired, the
        # medians would give 1.05 / 1.0).
        fitted("dynamic", 0.1, "numba", [1.2, 2.1, 1.0]),
        fitted("fixed", 0.1, "numpy", [1.0, 1.0, 1.0]),
        fitted("dynamic", 0.1, "numpy", [1.15, 1.3, 1.1]),
        fitted("dynamic", 0.1, "numpy", [5.0, 5.0, 5.0], dtype="float32"),
    ]
    checks = dynamic_checks(rows)
    assert [(c["measured"], c["bound"], c["status"]) for c in checks] == [
        (pytest.approx(1.05), 1.1, "met"),
        (pytest.approx(1.15), 1.2, "met"),
    ]
    assert checks[0]["repeat_range"] == pytest.approx([1.0, 1.2])
    assert "(64,) at 0.1 [float64]" in checks[0]["target"]
    assert "[numpy]" in checks[1]["target"]
    rows[3]["raw"]["fit_seconds_per_epoch"] = [1.2, 2.4, 1.2]
    assert dynamic_checks(rows)[0]["status"] == "missed"


def test_path_disagreement_and_dense_accuracy_gap_are_reported():
    rows = [
        make_row((64,), 1.0, accuracy_delta=-0.02),
        make_row((64,), 0.1, row_path_agreement=0.95),
    ]
    verdicts = accuracy_verdicts(rows)
    assert [verdict["status"] for verdict in verdicts] == ["missed", "missed"]
    assert verdicts[0]["target"].startswith("dense accuracy equals")
    assert verdicts[0]["measured"] == pytest.approx(0.02)
    assert verdicts[1]["target"].startswith("one-row predictions equal")
    assert verdicts[1]["measured"] == 0.95


def test_methods_start_with_sklearn_and_have_no_duplicates():
    settings = replace(
        speed_settings.QUICK_SETTINGS,
        ratios=(1.0, 0.1, 0.05),
        strategies=("fixed", "dynamic"),
        dynamic_ratio=0.1,
        kernels=("numpy", "numba"),
    )
    labels = [method.label for method in models.methods_for(settings)]
    assert labels == [
        "sklearn MLP",
        *[
            f"ours {kernels} {method}"
            for kernels in ("numpy", "numba")
            for method in (
                "fixed 1",
                "fixed 0.1",
                "dynamic 0.1",
                "fixed 0.05",
                "dynamic 0.05",
            )
        ],
    ]
    settings = replace(
        settings, strategies=("fixed",), dynamic_ratio=None, kernels=("numba",)
    )
    assert [method.label for method in models.methods_for(settings)] == [
        "sklearn MLP",
        "ours numba fixed 1",
        "ours numba fixed 0.1",
        "ours numba fixed 0.05",
    ]


def test_each_model_runs_under_its_backend():
    from sklearn_sparse_act import get_config

    with models.Method("fixed", 0.1, "numpy").context():
        assert get_config()["kernels"] == "numpy"
    before = get_config()["kernels"]
    with models.Method("sklearn", 1.0).context():
        assert get_config()["kernels"] == before


@pytest.mark.skipif(not numba_available(), reason="needs numba")
def test_profiler_times_functions_the_numba_backend_has():
    """``profile_targets.py`` wraps these names: a renamed kernel breaks it."""
    from benchmarks import profile_targets

    for name in profile_targets.TIMED:
        assert callable(getattr(profile_targets.KERNELS, name)), name


def test_default_kernels_follow_numba_availability():
    expected = ["numpy", "numba"] if numba_available() else ["numpy"]
    assert speed_settings.default_kernels() == expected
    parser = speed_settings.build_parser()
    settings = speed_settings.resolve_settings(parser.parse_args(["--quick"]))
    assert list(settings.kernels) == expected
    assert not settings.grid_search and not settings.jit
    settings = speed_settings.resolve_settings(
        parser.parse_args(["--kernels", "numpy", "--grid-search"])
    )
    assert list(settings.kernels) == ["numpy"]
    assert settings.grid_search
    assert settings.jit == numba_available()
    assert settings.grid.hidden == (256,)


def test_options_given_override_the_preset_even_with_none():
    parser = speed_settings.build_parser()
    settings = speed_settings.resolve_settings(
        parser.parse_args(["--quick", "--dynamic-ratio", "none", "--repeats", "3"])
    )
    assert settings.dynamic_ratio is None
    assert settings.repeats == 3
    assert [method.strategy for method in models.methods_for(settings)] == [
        "sklearn",
        *["fixed"] * (2 * len(settings.kernels)),
    ]
    preset = speed_settings.resolve_settings(parser.parse_args(["--quick"]))
    assert preset.dynamic_ratio == speed_settings.QUICK_SETTINGS.dynamic_ratio
    assert preset.repeats == speed_settings.QUICK_SETTINGS.repeats


def test_models_share_architecture_epochs_batch_size_and_seed():
    for method in (
        models.Method("sklearn", 1.0),
        models.Method("dynamic", 0.05, "numba"),
    ):
        params = method.build((32, 16), epochs=3, batch_size=64, seed=7).get_params()
        assert params["hidden_layer_sizes"] == (32, 16)
        assert params["max_iter"] == 3
        assert params["tol"] == 0.0
        assert params["n_iter_no_change"] > 3
        assert params["batch_size"] == 64
        assert params["random_state"] == 7
    ours = models.Method("dynamic", 0.05, "numpy").build((8,), 1, 10, 0).get_params()
    assert ours["activation_ratio"] == 0.05
    assert ours["sparsity_strategy"] == "dynamic"


def test_held_out_predict_time_is_the_median_of_consecutive_calls(monkeypatch):
    clock = [0.0]
    batch_call_seconds = iter([5.0, 1.0, 3.0])

    class ScriptedModel:
        n_iter_ = 1

        def fit(self, X, y):
            return self

        def predict(self, X):
            if len(X) > 1:
                clock[0] += next(batch_call_seconds)
            return np.zeros(len(X), dtype=int)

        def predict_proba(self, X):
            return np.full((len(X), 2), 0.5)

    monkeypatch.setattr(timing.time, "perf_counter", lambda: clock[0])
    monkeypatch.setattr(models.Method, "build", lambda *args: ScriptedModel())
    X, y = np.zeros((4, 3)), np.zeros(4, dtype=int)
    settings = replace(
        speed_settings.QUICK_SETTINGS,
        epochs=1,
        batch_size=2,
        seed=0,
        predict_calls=3,
        one_row_calls=2,
    )

    measured, model = measure_once(
        models.Method("sklearn", 1.0), (X, y, X, y), settings, (4,)
    )

    assert measured["predict_seconds"] == 3.0
    assert next(batch_call_seconds, None) is None
    assert isinstance(model, ScriptedModel)


def test_dtypes_are_compared_in_pairs_of_calls_each_first_in_turn(monkeypatch):
    clock = [0.0]
    calls = []

    class ScriptedModel:
        def __init__(self, name, seconds):
            self.name, self.seconds = name, seconds

        def _call(self, what):
            calls.append((what, self.name))
            clock[0] += self.seconds

        def predict(self, X):
            self._call("predict")

        def predict_proba(self, X):
            assert len(X) == 1
            self._call("row")

    monkeypatch.setattr(timing.time, "perf_counter", lambda: clock[0])
    X = np.zeros((5, 3))
    settings = replace(speed_settings.QUICK_SETTINGS, predict_calls=3, one_row_calls=4)

    ratios = interleaved_dtype_ratios(
        models.Method("fixed", 0.1, "numpy"),
        ScriptedModel("single", 1.0),
        ScriptedModel("double", 4.0),
        X,
        X,
        settings,
    )

    assert ratios == {
        "predict_seconds": [0.25] * 3,
        "one_row_proba_seconds": [0.25] * 4,
    }
    order = ["single", "double", "double", "single"]
    assert calls == [("predict", name) for name in (order * 2)[:6]] + [
        ("row", name) for name in order * 2
    ]


def test_training_rows_are_the_issues_then_shrink_with_the_network_cost():
    assert speed_settings.N_FEATURES == 100
    assert speed_settings.training_rows((256,)) == 20_000
    assert speed_settings.training_rows((1024, 1024)) == 8_000
    assert speed_settings.training_rows((4096,)) == 5_000
    assert speed_settings.training_rows((8,)) == 20_000
    assert speed_settings.training_rows((8192, 8192)) == 2_000


@pytest.mark.parametrize("text", ["0", "16,-1", "a,b", ""])
def test_invalid_hidden_sizes_are_rejected(text):
    with pytest.raises(argparse.ArgumentTypeError):
        parse_hidden(text)


def test_hidden_sizes_and_ratios_are_parsed():
    assert parse_hidden("1024,1024") == (1024, 1024)
    assert parse_optional_ratio("none") is None
    assert parse_optional_ratio("0.05") == 0.05
    with pytest.raises(argparse.ArgumentTypeError):
        parse_ratio("1.5")


# -- the accuracy benchmark (bench_accuracy.py) ---------------------------------


def test_every_constant_of_the_cost_model_has_its_measurement():
    """Each constant of ``cost_model.py`` is measured by
    ``calibrate_cost_model.py`` (the connections' crossovers by the command
    each one's comment names): a constant added without its measurement fails."""
    import re

    from benchmarks.calibrate_cost_model import CONSTANTS
    from sklearn_sparse_act._backends import cost_model

    source = Path(cost_model.__file__).read_text()
    constants = set(re.findall(r"^([A-Z][A-Z0-9_]+) = ", source, flags=re.M))
    assert set(CONSTANTS) <= constants
    crossovers = {"NUMBA_CONNECTION_CROSSOVER", "NUMBA_DENSE_INPUT_CROSSOVER"}
    assert constants - set(CONSTANTS) == crossovers
    for name in crossovers:
        start = source.index(name + " = ")
        previous = max(source.rfind(" = ", 0, start), 0)
        comment = source[previous:start]
        assert "python benchmarks/bench_weight_density.py --crossover" in comment


@pytest.mark.skipif(not numba_available(), reason="numba not installed")
def test_input_chunk_run_times_each_chunk_size_against_one_chunk(monkeypatch, capsys):
    """One row per layer shape and one column per chunk size, each call of
    the kernel with the inputs per chunk that size in bytes gives for the
    batch (and one chunk of every input as the reference); the constant's
    comment names the command that measures it."""
    from benchmarks import bench_input_chunks

    kernels = bench_input_chunks._numba_connections
    chunks = []

    def recorded(*args):
        chunks.append(args[-1])
        return forward_by_unit(*args)

    forward_by_unit = kernels.forward_by_unit
    monkeypatch.setattr(kernels, "forward_by_unit", recorded)
    bench_input_chunks.main(
        "--features 40 --units 8 --rows 10 --chunk-kib 1 2 --repeats 2 "
        "--calls 1".split()
    )
    out = capsys.readouterr().out
    # 1 KiB of 10 rows of float64 is 12 inputs, 2 KiB 25; a warm-up repeat
    # and two timed ones.
    assert sorted(chunks) == [12] * 3 + [25] * 3 + [40] * 3
    rows = [line for line in out.splitlines() if line.startswith("| 40 ")]
    assert len(rows) == 1 and len(rows[0].split("|")) == 7
    source = Path(kernels.__file__).read_text()
    start = source.index("CHUNK_BYTES = ")
    assert "python benchmarks/bench_input_chunks.py" in source[:start].split("\n\n")[-1]


@pytest.mark.skipif(not numba_available(), reason="numba not installed")
def test_input_chunk_fits_compare_the_rule_with_chunks_everywhere(monkeypatch, capsys):
    """``--fits``: each repeat fits once with the kernel's ``UNCHUNKED_BYTES``
    and once with 0 (every block of inputs in chunks), on data of each width
    asked; the constant is the kernel's again afterwards."""
    from benchmarks import bench_input_chunks

    kernels = bench_input_chunks._numba_connections
    rule = kernels.UNCHUNKED_BYTES
    seen = []

    class Recorded(bench_input_chunks.SparseMLPClassifier):
        def fit(self, X, y):
            seen.append((X.shape[1], kernels.UNCHUNKED_BYTES))
            return self

    monkeypatch.setattr(bench_input_chunks, "SparseMLPClassifier", Recorded)
    bench_input_chunks.main("--fits --features 12 20 --repeats 2".split())
    out = capsys.readouterr().out
    # A warm-up repeat and two timed ones, two fits each, per width.
    assert sorted(seen) == sorted([(12, rule), (12, 0), (20, rule), (20, 0)] * 3)
    assert kernels.UNCHUNKED_BYTES == rule
    table = [line for line in out.splitlines() if line.startswith("| ")]
    assert [line.split("|")[1].strip() for line in table[-2:]] == ["12", "20"]


def test_weight_density_run_fits_the_features_asked_at_every_density(
    monkeypatch, capsys
):
    """One row per density, fully connected first, on data of the width
    ``--features`` gives."""
    from benchmarks import bench_weight_density

    widths = []

    def recorded(**options):
        widths.append(options["n_features"])
        return make_classification(**options)

    make_classification = bench_weight_density.make_classification
    monkeypatch.setattr(bench_weight_density, "make_classification", recorded)
    bench_weight_density.main(
        "--hidden 16 --densities 0.5 --repeats 1 --epochs 1 --features 12 "
        "--kernels numpy".split()
    )
    out = capsys.readouterr().out
    rows = [line for line in out.splitlines() if line.startswith("| (16,)")]
    assert [row.split("|")[2].strip() for row in rows] == ["1", "0.5"]
    assert widths == [12] and "12 features" in out


def test_weight_density_partial_fit_run_times_calls_on_new_rows(monkeypatch, capsys):
    """``--partial-fit``: a model per density started on the first 200 rows,
    then one timed call per repeat (and one warm-up) on the next 200 rows,
    never the first ones again; one row of the table per density."""
    from benchmarks import bench_weight_density

    calls = []

    class Recorded(bench_weight_density.SparseMLPClassifier):
        def partial_fit(self, X, y, classes=None, **params):
            calls.append((self.weight_density, X[0, 0], X.shape[0], classes))
            return super().partial_fit(X, y, classes=classes, **params)

    monkeypatch.setattr(bench_weight_density, "SparseMLPClassifier", Recorded)
    bench_weight_density.main(
        "--partial-fit --hidden 16 --densities 0.5 --repeats 3 --features 12 "
        "--kernels numpy".split()
    )
    out = capsys.readouterr().out
    rows = [line for line in out.splitlines() if line.startswith("| (16,)")]
    assert [row.split("|")[2].strip() for row in rows] == ["1", "0.5"]
    X, _ = bench_weight_density._data((16,), 12)
    for density in (1.0, 0.5):
        made = [call for call in calls if call[0] == density]
        assert [call[2] for call in made] == [200] * 5
        assert made[0][1] == X[0, 0] and made[0][3] is not None
        assert all(call[3] is None for call in made[1:])
        assert X[0, 0] not in [call[1] for call in made[1:]]
        assert len({call[1] for call in made[1:]}) == 4


@pytest.mark.skipif(not numba_available(), reason="numba not installed")
@pytest.mark.parametrize("winners_only", [False, True])
def test_weight_density_crossover_switches_the_paths_it_names(
    monkeypatch, capsys, winners_only
):
    """``--crossover`` times each fit with the kernels over present weights
    (both crossovers at 1) against the dense products (at 0); with
    ``--winners-only`` the layers from dense inputs stay on the kernels in
    both. The constants are restored after the run."""
    from benchmarks import bench_weight_density
    from sklearn_sparse_act._backends import cost_model

    before = (
        cost_model.NUMBA_CONNECTION_CROSSOVER,
        cost_model.NUMBA_DENSE_INPUT_CROSSOVER,
    )
    constants = set()

    def recorded(model, X, y):
        constants.add(
            (
                cost_model.NUMBA_CONNECTION_CROSSOVER,
                cost_model.NUMBA_DENSE_INPUT_CROSSOVER,
            )
        )
        return model

    monkeypatch.setattr(bench_weight_density, "fit_quietly", recorded)
    command = "--crossover --hidden 16 --densities 0.5 --repeats 1 --features 12"
    if winners_only:
        command += " --winners-only"
    bench_weight_density.main(command.split())
    dense = (0.0, 1.0) if winners_only else (0.0, 0.0)
    assert constants == {(1.0, 1.0), dense}
    assert (
        cost_model.NUMBA_CONNECTION_CROSSOVER,
        cost_model.NUMBA_DENSE_INPUT_CROSSOVER,
    ) == before
    assert ("only the layers from winners" in capsys.readouterr().out) is winners_only
