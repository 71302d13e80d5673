"""The README's usage snippet runs as written."""

import runpy
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_readme_usage_snippet_runs(tmp_path, monkeypatch):
    text = README.read_text()
    start = text.index("```python\n") + len("```python\n")
    snippet = text[start : text.index("```", start)]
    script = tmp_path / "readme_snippet.py"
    script.write_text(snippet)
    monkeypatch.chdir(tmp_path)
    namespace = runpy.run_path(str(script))
    assert namespace["search"].best_score_ > 0.9
    assert (tmp_path / "sparse_mlp.joblib").exists()
