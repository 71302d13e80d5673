"""``python -m sklearn_sparse_act`` reports as it goes, not only at the end."""

import pytest

from sklearn_sparse_act import __main__ as demo


def test_demo_announces_its_duration_and_reports_each_fit(monkeypatch, capsys):
    # A few epochs, and a progress line as often as possible.
    monkeypatch.setattr(demo, "MAX_ITER", 3)
    monkeypatch.setattr(demo, "PROGRESS_EVERY", 1e-3)
    demo.main([])
    lines = capsys.readouterr().out.splitlines()
    assert "minutes" in lines[1], "the demo must say up front how long it takes"
    started = [i for i, line in enumerate(lines) if line.startswith("[")]
    finished = [i for i, line in enumerate(lines) if "done in" in line]
    assert len(started) == len(finished) == len(demo.CONFIGURATIONS)
    # Each model's result comes before the next model starts.
    assert all(s < f for s, f in zip(started, finished, strict=True))
    assert all(f < s for f, s in zip(finished, started[1:], strict=False))
    assert any("epoch" in line and "of at most 3" in line for line in lines)


def test_demo_help_describes_it_without_running_it(capsys):
    with pytest.raises(SystemExit) as stop:
        demo.main(["--help"])
    assert stop.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: python -m sklearn_sparse_act")
    assert "Training" not in out
