"""The figures the documentation quotes: the quickstart's results against a
run of its own code, and figures quoted in several files against their source
and each other.

A figure that a benchmark produces is read from the benchmark's recorded
results (``benchmarks/RESULTS.md``, ``benchmarks/RESULTS_ACCURACY.md``), never
rerun here; every other file that quotes it must say the same.
"""

import ast
import re
import warnings
from pathlib import Path

import numpy as np
from sklearn.exceptions import ConvergenceWarning

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
RESULTS = ROOT / "benchmarks" / "RESULTS.md"
RESULTS_ACCURACY = ROOT / "benchmarks" / "RESULTS_ACCURACY.md"

# A line of a code block whose comment quotes the result of its expression,
# e.g. ``model.score(X_test, y_test)  # 0.971`` or
# ``model.dead_units_  # array([185]): units that never fired in it``.
QUOTED_RESULT = re.compile(
    r"^\s*(?P<expression>[\w.\[\]()\-, ]+?)\s+#\s*"
    r"(?P<value>array\(\[[^\]]*\]\)|\[[^\]]*\]|-?\d+\.\d+)"
)

# How far a run may stray from a quoted result. The fits are deterministic for
# one machine, but another BLAS or kernel backend sums in another order, which
# can flip a near-tie between winners and with it a borderline sample.
TOLERANCES = {
    # Two of the 450 test digits (0.0044): the quote has 3 decimals.
    "score": 2 / 450,
    # Two of the 256 units.
    "dead_units_": 2,
    # 26/256 = 0.1016 when every winner fires: the quote has 4 decimals.
    "active_fraction_": 5e-5,
    # Winner counts follow from the ratio and the widths alone: exact.
    "active_units_": 0,
}


def code_blocks(path):
    """The ``.. code-block:: python`` blocks of a reStructuredText file."""
    blocks = re.findall(
        r"\.\. code-block:: python\n\n((?:   .*\n|\n)+)", path.read_text()
    )
    return [
        "\n".join(line[3:] for line in block.splitlines()).strip() + "\n"
        for block in blocks
    ]


def quoted_results(code):
    """``(expression, quoted value)`` for every line whose comment quotes it."""
    quoted = []
    for line in code.splitlines():
        match = QUOTED_RESULT.match(line)
        if match:
            literal = match["value"].removeprefix("array(").removesuffix(")")
            quoted.append((match["expression"], np.array(ast.literal_eval(literal))))
    return quoted


def tolerance_for(expression):
    (name,) = [name for name in TOLERANCES if name in expression]
    return TOLERANCES[name]


def test_the_quickstart_quotes_the_results_of_its_code():
    # The fit, inspection and regression blocks, run as written (the grid
    # search, which quotes no result, is left out): one fit of the digits.
    fit, inspect, _, regression = code_blocks(DOCS / "quickstart.rst")
    namespace = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        exec(fit + inspect, namespace)
        exec(regression, namespace)
    quoted = quoted_results(fit + inspect + regression)
    assert [expression for expression, _ in quoted] == [
        "model.score(X_test, y_test)",
        "model.active_units_",
        "model.active_fraction_",
        "model.dead_units_",
        "regressor[-1].active_units_",
    ]
    for expression, value in quoted:
        result = np.asarray(eval(expression, namespace))
        np.testing.assert_allclose(
            result, value, rtol=0, atol=tolerance_for(expression), err_msg=expression
        )
    # The prose below the block repeats the count of dead units.
    text = (DOCS / "quickstart.rst").read_text()
    (in_prose,) = re.findall(r"in this model (\d+) of the 256", text)
    dead_units = namespace["model"].dead_units_[0]
    assert abs(int(in_prose) - dead_units) <= TOLERANCES["dead_units_"]


def figures(path, pattern):
    """Every match of ``pattern`` (its first group) in a file, in order."""
    return re.findall(pattern, path.read_text(), flags=re.DOTALL)


def test_one_duration_for_the_full_speed_benchmark():
    (elapsed,) = figures(RESULTS, r"Run took (\d+(?:\.\d+)?) min\.")
    quotes = figures(
        ROOT / "benchmarks" / "README.md",
        r"runs the full grid.*?(\d+(?:\.\d+)?) minutes",
    ) + figures(
        ROOT / "CONTRIBUTING.md",
        r"bench_vs_sklearn\.py +# ~?(\d+(?:\.\d+)?) minutes",
    )
    assert quotes == [elapsed, elapsed]


def test_one_compilation_time():
    (cold_overhead,) = figures(RESULTS, r"\n\| cold \|[^\n]*\| (\d+\.\d+) \|\n")
    quotes = figures(
        DOCS / "index.rst", r"compiles (?:the kernels|them)\s+\(([^)]*)\)"
    ) + figures(DOCS / "user_guide.rst", r"compiles (?:the kernels|them)\s+\(([^)]*)\)")
    assert len(quotes) == 3, quotes
    for quote in quotes:
        assert quote.startswith(f"{round(float(cold_overhead))} s"), quote


def test_one_figure_for_the_run_to_run_noise():
    pattern = r"noise\s+moves\s+these\s+ratios\s+by\s+about\s+(\d+(?:\.\d+)?)\s"
    quotes = figures(DOCS / "index.rst", pattern) + figures(
        DOCS / "user_guide.rst", pattern
    )
    assert len(quotes) == 2 and len(set(quotes)) == 1, quotes


def classification_sets():
    """The classification data sets of the accuracy benchmark's tables."""
    return set(figures(RESULTS_ACCURACY, r"\n\| ([\w.]+) \| accuracy % \|"))


def test_one_figure_for_the_accuracy_lost_at_ratio_0_1():
    section = RESULTS_ACCURACY.read_text().split("### `activation_ratio`")[1]
    section = section.split("\n### ")[0]
    rows = re.findall(r"\n\| ([\w.]+) \| [^|]+ \| ([^|]+) \|", section)
    losses = [
        float(value)
        for name, cell in rows
        if name in classification_sets()
        for value in re.findall(r"[-+]\d+\.\d+", cell)
    ]
    worst = round(-min(losses))
    quotes = (
        figures(DOCS / "index.rst", r"falls\s+up\s+to\s+(\d+)\s+points")
        + figures(DOCS / "user_guide.rst", r"loses\s+up\s+to\s+(\d+)\s+points")
        + figures(DOCS / "changes.rst", r"lost\s+up\s+to\s+(\d+)\s+points")
    )
    assert quotes == [str(worst)] * 3


def test_the_dense_accuracy_quoted_is_the_benchmarks():
    dense_rows = figures(
        RESULTS,
        r"\n\| [^|]+ \| (float\d\d) \| ours \w+ fixed 1 \|[^\n]* ([-+]\d\.\d+) \|",
    )
    worst = {
        dtype: max(
            abs(float(delta)) for row_dtype, delta in dense_rows if row_dtype == dtype
        )
        for dtype in ("float64", "float32")
    }
    assert worst["float64"] == 0
    (quoted,) = figures(DOCS / "index.rst", r"within\s+(\d\.\d+)\s+in\s+float32")
    assert float(quoted) == worst["float32"]


def test_the_documentation_links_its_published_address():
    # tomllib needs Python 3.11; the package supports 3.10.
    (address,) = figures(ROOT / "pyproject.toml", r'\nDocumentation = "([^"]+)"')
    assert address in (DOCS / "index.rst").read_text()
