"""The planted bugs of ``tools/mutations.py`` still fit the code: each one's
source text occurs exactly once in its file, so that ``tools/mutation_check.py``
(too slow for every run of the tests) can apply it. A refactor that moves or
rewrites the code a mutation names fails here, not at the next mutation run."""

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

from mutations import MUTATIONS  # noqa: E402


@pytest.mark.parametrize("mutation", MUTATIONS, ids=lambda mutation: mutation.name)
def test_each_mutation_names_code_that_occurs_once(mutation):
    source = (ROOT / mutation.path).read_text()
    assert source.count(mutation.original) == 1
    assert mutation.replacement != mutation.original
