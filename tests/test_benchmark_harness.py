"""The benchmarks' shared harness (benchmarks/harness): what every benchmark
relies on to time, measure memory, judge and report.

Clocks are scripted (``time.perf_counter`` replaced), so the timing tests
assert exact arithmetic on known durations, never a measured speed.
"""

import doctest
import os

import numpy as np
import pytest

from benchmarks.harness import (
    command_line,
    environment,
    memory,
    reporting,
    targets,
    timing,
)
from benchmarks.harness.reporting import markdown_table
from benchmarks.harness.targets import Target, describe_verdict
from benchmarks.speed import settings as speed_settings


@pytest.mark.parametrize(
    "module", [command_line, reporting, targets, timing, speed_settings]
)
def test_examples_in_docstrings_hold(module):
    # benchmarks/ is outside pytest's doctest paths: its examples run here.
    failed, attempted = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert attempted > 0 and failed == 0


@pytest.fixture
def scripted_clock(monkeypatch):
    """A clock that only moves when a test advances it: ``clock[0]`` seconds."""
    clock = [0.0]
    monkeypatch.setattr(timing.time, "perf_counter", lambda: clock[0])
    return clock


def test_interleaved_repeats_rotate_the_order_and_drop_the_warm_up():
    calls = []
    functions = {
        name: (lambda repeat, name=name: calls.append((repeat, name)) or repeat)
        for name in "abc"
    }

    results = timing.interleaved(functions, repeats=3, warm_up=1)

    assert calls == [
        (0, "a"),
        (0, "b"),
        (0, "c"),
        (1, "b"),
        (1, "c"),
        (1, "a"),
        (2, "c"),
        (2, "a"),
        (2, "b"),
        (3, "a"),
        (3, "b"),
        (3, "c"),
    ]
    # Results are kept per variant, in the order of the repeats after warm-up.
    assert results == {"a": [1, 2, 3], "b": [1, 2, 3], "c": [1, 2, 3]}
    calls.clear()
    timing.interleaved(functions, repeats=2, rotate=False)
    assert calls == [(0, "a"), (0, "b"), (0, "c"), (1, "a"), (1, "b"), (1, "c")]


def test_interleaved_seconds_time_each_call_and_give_medians(scripted_clock):
    durations = {"slow": iter([4.0, 9.0, 5.0]), "fast": iter([1.0, 1.0, 3.0])}

    def call(name):
        def advance(repeat):
            scripted_clock[0] += next(durations[name])

        return advance

    seconds = timing.interleaved_seconds(
        {"slow": call("slow"), "fast": call("fast")}, repeats=3
    )

    assert seconds == {"slow": [4.0, 9.0, 5.0], "fast": [1.0, 1.0, 3.0]}
    ratios = timing.paired_ratios(seconds["slow"], seconds["fast"])
    assert ratios == [4.0, 9.0, 5.0 / 3.0]
    # The median of per-repeat ratios, not the ratio of medians (5 / 1).
    assert timing.median_and_range(ratios) == (4.0, [5.0 / 3.0, 9.0])


def test_paired_ratios_refuse_repeats_that_do_not_pair():
    with pytest.raises(ValueError):
        timing.paired_ratios([1.0, 2.0], [1.0])


def test_timed_returns_the_result_and_collects_garbage_first(monkeypatch):
    collected = []
    monkeypatch.setattr(timing.gc, "collect", lambda: collected.append(True))
    result, seconds = timing.timed(lambda: 42, collect_garbage=True)
    assert result == 42 and seconds >= 0.0
    assert collected == [True]
    timing.seconds_of(lambda: None)
    assert collected == [True]


def test_call_timer_adds_up_time_and_calls_per_name(scripted_clock):
    def work(seconds):
        scripted_clock[0] += seconds
        return seconds

    timer = timing.CallTimer()
    wrapped = timer.wrap("work", work)
    assert [wrapped(0.5), wrapped(1.5)] == [0.5, 1.5]
    assert timer.seconds == {"work": 2.0} and timer.calls == {"work": 2}
    timer.clear()
    assert not timer.seconds and not timer.calls


def test_traced_peak_is_the_peak_of_the_call_alone():
    held_before = np.ones(1_000_000)  # 8 MB allocated before tracing starts
    size = 2_000_000 * 8  # a 16 MB temporary, freed before the call returns
    peak = memory.traced_peak_bytes(lambda: float(np.ones(2_000_000).sum()))
    # The temporary counts although it is gone at the end; the earlier array
    # does not. The margin of 1 MB covers Python's own small allocations.
    assert size <= peak < size + 2**20
    assert held_before.size == 1_000_000


def test_peak_rss_growth_sees_memory_touched_since_creation():
    peak = memory.PeakRss()
    if not peak.exact:
        pytest.skip("the RSS high-water mark cannot be reset here")
    assert peak.growth_bytes() < 32 * 2**20
    touched = np.ones(64 * 2**20 // 8)  # 64 MiB, every page written
    del touched
    # Freed or not, the pages were resident once: the peak keeps them (minus
    # 8 MiB for pages the allocator may have held already).
    assert peak.growth_bytes() >= 56 * 2**20


def test_target_bound_is_inclusive_and_margin_signed():
    upper = Target(metric="t", bound=0.5, description="fast", reason="why")
    assert upper.verdict(0.5) == {
        "target": "fast",
        "status": "met",
        "bound": 0.5,
        "measured": 0.5,
        "margin": 0.0,
    }
    missed = upper.verdict(0.75, name="fast [numba]", repeat_range=[0.7, 0.8])
    assert list(missed) == [
        "target",
        "status",
        "bound",
        "measured",
        "repeat_range",
        "margin",
    ]
    assert missed["status"] == "missed" and missed["margin"] == -0.25
    assert missed["target"] == "fast [numba]"
    assert upper.not_measured() == {
        "target": "fast",
        "status": "not measured",
        "bound": 0.5,
    }

    lower = Target(
        metric="agreement",
        bound=1.0,
        description="agree",
        reason="why",
        higher_is_better=True,
    )
    assert lower.verdict(1.0)["status"] == "met"
    assert lower.verdict(0.95)["status"] == "missed"
    assert lower.verdict(0.95)["margin"] == pytest.approx(-0.05)


def test_targets_are_frozen_data():
    target = Target(metric="t", bound=0.5, description="fast", reason="why")
    with pytest.raises(AttributeError):
        target.bound = 1.0


def test_verdict_description_gives_ratio_spread_and_distance():
    target = Target(metric="t", bound=0.25, description="fit", reason="why")
    text = describe_verdict(target.verdict(0.3125, repeat_range=[0.3, 0.4]))
    assert text == (
        "- MISSED: fit: ratio 0.312 (repeats 0.300 to 0.400), target <= 0.25: "
        "0.062 over (25% of the target)"
    )
    assert describe_verdict(target.verdict(0.125), "as said") == "- MET: fit: as said"


def test_markdown_table_aligns_each_column():
    lines = markdown_table(["a", "b", "c"], [["1", "2", "3"]], "lrl")
    assert lines == ["| a | b | c |", "|---|---:|---|", "| 1 | 2 | 3 |"]
    assert markdown_table(["a"], [])[1] == "|---|"
    with pytest.raises(ValueError, match="one 'l' or 'r' per column"):
        markdown_table(["a", "b"], [], "l")


def test_environment_describes_blas_and_openblas_variables():
    pools = [
        {"user_api": "openmp", "internal_api": "openmp", "num_threads": 2},
        {
            "user_api": "blas",
            "internal_api": "openblas",
            "version": "0.3.30",
            "architecture": "Haswell",
            "num_threads": 2,
        },
    ]
    assert environment.blas_description(pools) == (
        "openblas 0.3.30 (kernel Haswell, 2 threads)"
    )
    assert environment.blas_description(pools[:1]) == "no BLAS pool reported"
    assert environment.openblas_description(
        {"OPENBLAS_CORETYPE": "Haswell", "OPENBLAS_L2_SIZE": None}
    ) == ("OPENBLAS_CORETYPE=Haswell, OPENBLAS_L2_SIZE=unset")
    described = environment.describe_environment(["bench.py", "--quick"])
    assert described["command"] == "python bench.py --quick"
    assert set(described["openblas_variables"]) == set(environment.OPENBLAS_VARIABLES)


def test_restart_drops_both_openblas_variables_and_keeps_the_rest(monkeypatch):
    restarts = []
    monkeypatch.setattr(
        environment.os,
        "execve",
        lambda path, argv, env: restarts.append((path, argv, env)),
    )
    for name in environment.OPENBLAS_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    environment.restart_without_openblas_variables()
    assert restarts == []  # neither is set: nothing to do

    monkeypatch.setenv("OPENBLAS_L2_SIZE", "1048576")
    monkeypatch.setenv("BENCHMARK_HARNESS_TEST", "kept")
    environment.restart_without_openblas_variables()
    [(path, argv, env)] = restarts
    assert path == environment.sys.executable
    assert argv[1:] == environment.sys.argv
    assert "OPENBLAS_L2_SIZE" not in env and "OPENBLAS_CORETYPE" not in env
    assert env["BENCHMARK_HARNESS_TEST"] == "kept"
    assert os.environ["OPENBLAS_L2_SIZE"] == "1048576"  # this process unchanged
