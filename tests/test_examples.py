"""Every gallery example runs to the end and draws its figures.

The examples run in this process at their small size
(``SKLEARN_SPARSE_ACT_EXAMPLE_SCALE=small``), with matplotlib's non-interactive
Agg backend and single-threaded BLAS, so that an API change that breaks an
example fails the test suite instead of the next documentation build.
"""

import runpy
import warnings
from pathlib import Path

import matplotlib.pyplot as plt
import pytest
from sklearn.exceptions import ConvergenceWarning
from threadpoolctl import threadpool_limits

EXAMPLES_DIR = Path(__file__).resolve().parents[1] / "examples"
EXAMPLES = sorted(EXAMPLES_DIR.glob("plot_*.py"))


def test_the_gallery_examples_are_collected():
    names = [example.name for example in EXAMPLES]
    assert len(names) >= 6, names


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda path: path.stem)
def test_example_runs_and_draws(example, monkeypatch):
    monkeypatch.setenv("SKLEARN_SPARSE_ACT_EXAMPLE_SCALE", "small")
    plt.switch_backend("Agg")
    plt.close("all")
    # The examples install warning filters of their own; restore ours after.
    # At the small size no model has time to converge: that warning is expected.
    with warnings.catch_warnings(), threadpool_limits(limits=1):
        warnings.simplefilter("ignore", ConvergenceWarning)
        namespace = runpy.run_path(str(example), run_name="__main__")
    try:
        assert namespace["SMALL"], "the example ignored the small-size variable"
        figure_numbers = plt.get_fignums()
        assert figure_numbers, f"{example.name} drew no figure"
        for number in figure_numbers:
            axes = plt.figure(number).axes
            assert any(axis.has_data() for axis in axes), (
                f"figure {number} of {example.name} is empty"
            )
    finally:
        plt.close("all")
