"""The speed benchmark's memory measurements: targets, verdicts, the table,
the settings and the fresh process that measures peak resident memory.

The quick run of ``bench_vs_sklearn.py`` in tests/test_benchmarks.py checks
the traced columns at both training sizes; these tests need no benchmark run.
"""

import doctest
import math
import sys
from dataclasses import replace

import numpy as np
import pytest

from benchmarks.speed import measure
from benchmarks.speed import settings as speed_settings
from benchmarks.speed.measure import MEMORY_METRICS, memory_ratio
from benchmarks.speed.models import Method
from benchmarks.speed.report import memory_table
from benchmarks.speed.resident import measure_resident, write_data
from benchmarks.speed.targets import MEMORY_TARGETS
from benchmarks.speed.verdicts import describe_verdict, memory_verdicts

WIDE = ((1024, 1024), (4096,))


def memory_row(hidden, ratio, strategy="fixed", kernels="numba", **ratios):
    """A row of a run with every memory ratio 1.0 but those given."""
    row = {
        "hidden": list(hidden),
        "dtype": "float64",
        "method": f"ours {kernels} {strategy} {ratio:g}",
        "kernels": kernels,
        "strategy": strategy,
        "ratio": ratio,
    }
    row.update({f"{metric}_ratio": 1.0 for metric in MEMORY_METRICS})
    row.update({f"{metric}_ratio": value for metric, value in ratios.items()})
    return row


def verdict_of(verdicts, metric, bound):
    [target] = [t for t in MEMORY_TARGETS if (t.metric, t.bound) == (metric, bound)]
    [verdict] = [v for v in verdicts if v["target"].startswith(target.description)]
    return verdict


def test_memory_targets_bound_fit_at_both_sizes_and_predict():
    bounds = {
        (target.metric, target.hidden, target.max_ratio): target.bound
        for target in MEMORY_TARGETS
    }
    expected = {}
    for kind in ("", "_rss"):
        for size in ("", "scaled_"):
            expected[f"{size}fit_peak{kind}_bytes", None, 1.0] = 1.25
            expected[f"{size}fit_peak{kind}_bytes", WIDE, 0.1] = 1.0
        expected[f"predict_peak{kind}_bytes", WIDE, 0.1] = 0.5
    assert bounds == expected
    assert {target.metric for target in MEMORY_TARGETS} == set(MEMORY_METRICS)


def test_memory_verdicts_judge_the_largest_ratio_of_the_rows_selected():
    rows = [
        # scikit-learn's own row and NaN ratios (a baseline that did not
        # grow) are never judged
        memory_row((64,), 1.0, "sklearn", "", fit_peak_rss_bytes=math.nan),
        memory_row((64,), 1.0, scaled_fit_peak_bytes=1.3, fit_peak_bytes=1.2),
        memory_row((64,), 0.1, "dynamic", "numpy", scaled_fit_peak_bytes=1.1),
        # ratio 0.2 is above the sparse targets' 0.1; (64,) is not wide
        memory_row((4096,), 0.2, fit_peak_bytes=1.2, predict_peak_bytes=0.9),
        memory_row((64,), 0.05, fit_peak_bytes=1.24, predict_peak_bytes=0.9),
        memory_row((4096,), 0.1, fit_peak_bytes=0.8, predict_peak_bytes=0.4),
        memory_row(
            (1024, 1024),
            0.05,
            fit_peak_bytes=0.9,
            predict_peak_bytes=0.45,
            predict_peak_rss_bytes=0.6,
        ),
    ]
    verdicts = memory_verdicts(rows)
    assert len(verdicts) == len(MEMORY_TARGETS)

    scaled = verdict_of(verdicts, "scaled_fit_peak_bytes", 1.25)
    assert (scaled["status"], scaled["measured"]) == ("missed", 1.3)
    assert "(largest: ours numba fixed 1, hidden (64,) [float64])" in scaled["target"]
    assert "0.050 over" in describe_verdict(scaled)
    every_row = verdict_of(verdicts, "fit_peak_bytes", 1.25)
    assert (every_row["status"], every_row["measured"]) == ("met", 1.24)
    rss = verdict_of(verdicts, "fit_peak_rss_bytes", 1.25)
    assert (rss["status"], rss["measured"]) == ("met", 1.0)

    sparse_fit = verdict_of(verdicts, "fit_peak_bytes", 1.0)
    assert (sparse_fit["status"], sparse_fit["measured"]) == ("met", 0.9)
    predict = verdict_of(verdicts, "predict_peak_bytes", 0.5)
    assert (predict["status"], predict["measured"]) == ("met", 0.45)
    predict_rss = verdict_of(verdicts, "predict_peak_rss_bytes", 0.5)
    assert (predict_rss["status"], predict_rss["measured"]) == ("missed", 1.0)
    assert "hidden (4096,)" in predict_rss["target"]

    unmeasured = memory_verdicts([memory_row((64,), 0.1, fit_peak_bytes=0.5)])
    assert verdict_of(unmeasured, "fit_peak_bytes", 1.0)["status"] == "not measured"


def test_memory_table_shows_what_was_measured_and_dashes_the_rest():
    row = {
        "hidden": [16],
        "dtype": "float32",
        "method": "ours numpy fixed 0.5",
        "train_rows": 300,
        "fit_peak_bytes": 3 * 1024**2,
        "fit_peak_bytes_ratio": 0.75,
    }
    table = memory_table([row], 10)
    header, _, line = table.splitlines()
    assert "fit traced MiB, 10× rows" in header and "predict RSS MiB" in header
    cells = [cell.strip() for cell in line.strip("|").split("|")]
    assert cells[:6] == [
        "(16,)",
        "float32",
        "ours numpy fixed 0.5",
        "300",
        "3.0",
        "0.75",
    ]
    assert cells[6:] == ["-"] * 2 * (len(MEMORY_METRICS) - 1)
    assert math.isnan(memory_ratio(0, 0)) and memory_ratio(5, 4) == 1.25
    # benchmarks/ is outside pytest's doctest paths: the examples run here.
    failed, attempted = doctest.testmod(measure)
    assert attempted > 0 and failed == 0


def test_memory_settings_and_options():
    parser = speed_settings.build_parser()
    full = speed_settings.resolve_settings(parser.parse_args([]))
    quick = speed_settings.resolve_settings(parser.parse_args(["--quick"]))
    assert (full.memory_scale, full.rss) == (10, True)
    assert (quick.memory_scale, quick.rss) == (10, False)
    given = speed_settings.resolve_settings(
        parser.parse_args(["--quick", "--memory-scale", "none", "--rss"])
    )
    assert (given.memory_scale, given.rss) == (None, True)
    with pytest.raises(SystemExit, match="--memory-scale must be >= 2"):
        speed_settings.resolve_settings(parser.parse_args(["--memory-scale", "1"]))


@pytest.mark.skipif(sys.platform != "linux", reason="the RSS reset is Linux's")
def test_fresh_process_measures_the_growth_of_peak_rss(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((1000, 20))
    y = (X[:, 0] > 0).astype(int)
    path = write_data(tmp_path / "data.npz", X, y, X)
    settings = replace(speed_settings.QUICK_SETTINGS, batch_size=500)
    # Each mini-batch's (500, 256) float64 activations take 1 MB: a child that
    # measured nothing, or the peak before the fit, would report less.
    measured = measure_resident(
        Method("fixed", 0.5, "numpy"), (256,), settings, path, predict=True
    )
    assert measured["exact"] is True
    assert measured["fit_peak_rss_bytes"] >= 1_000_000
    assert measured["predict_peak_rss_bytes"] > 0
    without_predict = measure_resident(
        Method("sklearn", 1.0), (256,), settings, path, predict=False
    )
    assert without_predict["predict_peak_rss_bytes"] is None
    assert without_predict["fit_peak_rss_bytes"] >= 1_000_000
