"""The README's example runs as written, and CI runs the README's commands."""

import re
import runpy
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
CI_SCRIPT = ROOT / ".ci" / "run"


def test_readme_example_runs(tmp_path, monkeypatch, capsys):
    text = README.read_text()
    start = text.index("```python\n") + len("```python\n")
    snippet = text[start : text.index("```", start)]
    script = tmp_path / "readme_snippet.py"
    script.write_text(snippet)
    monkeypatch.chdir(tmp_path)
    namespace = runpy.run_path(str(script))
    model = namespace["model"]
    # What the example's comment says: 26 of the 256 units fire.
    assert model.active_units_ == [26]
    assert "# 26 of 256 units fire" in snippet
    score, printed_units = capsys.readouterr().out.split(" ", 1)
    assert float(score) > 0.9
    assert printed_units.strip() == "[26]"


def test_readme_says_what_and_when_within_40_lines():
    """What it is, how to install it, a runnable example and when to prefer
    it over scikit-learn's MLP, before a reader has to scroll far."""
    first_lines = "\n".join(README.read_text().splitlines()[:40])
    for part in ("k-winners-take-all", "pip install", "```python", "Pick the"):
        assert part in first_lines, part


def _bash_blocks(text):
    return re.findall(r"```bash\n(.*?)```", text, flags=re.DOTALL)


def test_ci_runs_the_readme_commands_as_written():
    ci_lines = CI_SCRIPT.read_text().splitlines()
    blocks = _bash_blocks(README.read_text())
    (install_and_demo,) = [
        block for block in blocks if "-m sklearn_sparse_act" in block
    ]
    (tests,) = [block for block in blocks if "python -m pytest" in block]
    assert install_and_demo.strip() == (
        'pip install -e ".[fast,test]" && python -m sklearn_sparse_act'
    )
    assert install_and_demo.strip() in ci_lines
    test_commands = tests.strip().splitlines()
    assert [line for line in ci_lines if "python -m pytest" in line] == test_commands
    # The whole suite on the default kernels, then the backend-sensitive tests
    # with the NumPy kernels forced.
    assert "backend_sensitive" not in test_commands[0]
    assert test_commands[1].startswith("SKLEARN_SPARSE_ACT_KERNELS=numpy ")
    assert test_commands[1].split()[-2:] == ["-m", "backend_sensitive"]
