"""The selection of CI's second pass stays complete.

CI runs the whole suite on the configured (compiled) kernels, then only the
backend-sensitive tests with the NumPy kernels forced (the rule is in
``tests/conftest.py``). These tests fail when a test module is in neither of
conftest's tables, so that a new module is classified when it is added, and
when a table names a module or fixture that no longer exists.
"""

import os
import re
from pathlib import Path

import pytest
from conftest import (
    ALL_CORES_MODULES,
    BACKEND_AGNOSTIC_FIXTURES,
    BACKEND_AGNOSTIC_MODULES,
    BACKEND_SENSITIVE_MODULES,
    SHARED_FIXTURE_MODULES,
    is_backend_sensitive,
    pytest_ignore_collect,
    worker_blas_threads,
    xdist_work_unit,
)
from threadpoolctl import threadpool_info

TESTS_DIR = Path(__file__).resolve().parent
TEST_MODULES = sorted(path.name for path in TESTS_DIR.glob("test_*.py"))


def test_every_test_module_is_classified_once():
    sensitive, agnostic = set(BACKEND_SENSITIVE_MODULES), set(BACKEND_AGNOSTIC_MODULES)
    unclassified = set(TEST_MODULES) - sensitive - agnostic
    assert not unclassified, (
        f"{sorted(unclassified)}: add each to BACKEND_SENSITIVE_MODULES or "
        "BACKEND_AGNOSTIC_MODULES in tests/conftest.py (see the rule there)"
    )
    assert not sensitive & agnostic
    assert (sensitive | agnostic) <= set(TEST_MODULES), "a table names no module"
    assert set(SHARED_FIXTURE_MODULES) <= set(TEST_MODULES)
    assert set(ALL_CORES_MODULES) <= set(TEST_MODULES)


@pytest.mark.parametrize("fixture_name", sorted(BACKEND_AGNOSTIC_FIXTURES))
def test_named_fixtures_exist(fixture_name):
    definition = re.compile(rf"@pytest\.fixture[^\n]*\ndef {fixture_name}\(")
    defined_in = [
        name
        for name in [*TEST_MODULES, "conftest.py"]
        if definition.search((TESTS_DIR / name).read_text())
    ]
    assert defined_in, f"no test module defines the fixture {fixture_name}"


@pytest.mark.parametrize(
    "module_name, fixture_names, sensitive",
    [
        ("test_estimators.py", ("digits_split",), True),
        ("test_backends.py", ("classification_data",), False),
        ("test_benchmark_accuracy.py", ("accuracy_quick_run",), False),
        # A sensitive module's test through a fixture that picks its kernels.
        ("test_sparsity.py", ("quick_run",), False),
        ("test_determinism.py", ("numba_kernels_chosen",), False),
        # A module in neither table, and the package's doctests.
        ("test_not_yet_classified.py", (), True),
        ("_classifier.py", (), True),
    ],
)
def test_backend_sensitivity_rule(module_name, fixture_names, sensitive):
    assert is_backend_sensitive(module_name, fixture_names) is sensitive


def test_collected_tests_carry_the_marks_of_the_rule(request):
    items = request.session.items
    assert items
    for item in items:
        fixture_names = getattr(item, "fixturenames", ())
        marked = item.get_closest_marker("backend_sensitive") is not None
        assert marked is is_backend_sensitive(item.path.name, fixture_names), (
            item.nodeid
        )


def test_modules_with_shared_fixtures_are_one_xdist_unit():
    for module in SHARED_FIXTURE_MODULES:
        nodeids = [f"tests/{module}::test_a", f"tests/{module}::test_b[x-1]"]
        assert {xdist_work_unit(nodeid) for nodeid in nodeids} == {f"tests/{module}"}
    for nodeid in ("tests/test_backends.py::test_a", "sklearn_sparse_act/_base.py::x"):
        assert xdist_work_unit(nodeid) == nodeid


@pytest.mark.parametrize(
    "n_workers, n_cores, threads", [(1, 2, None), (2, 2, 1), (2, 8, 4), (4, 2, 1)]
)
def test_an_xdist_worker_gets_its_share_of_the_cores(n_workers, n_cores, threads):
    assert worker_blas_threads(n_workers, n_cores) == threads


def test_this_worker_runs_blas_on_its_share_of_the_cores():
    share = worker_blas_threads(
        int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1")), os.cpu_count() or 1
    )
    if share is None:
        pytest.skip("a run in one process keeps every core")
    blas = [pool for pool in threadpool_info() if pool["user_api"] == "blas"]
    assert blas
    assert {pool["num_threads"] for pool in blas} == {share}


class _Options:
    """A pytest config that knows only its ``-m`` expression."""

    def __init__(self, markexpr):
        self.markexpr = markexpr

    def getoption(self, name, default=None):
        return self.markexpr if name == "markexpr" else default


@pytest.mark.parametrize("markexpr", ["backend_sensitive", "", "not slow"])
def test_only_the_numpy_pass_leaves_the_agnostic_modules_uncollected(markexpr):
    numpy_pass = markexpr == "backend_sensitive"
    for name in TEST_MODULES:
        ignored = pytest_ignore_collect(TESTS_DIR / name, _Options(markexpr))
        expected = True if numpy_pass and name in BACKEND_AGNOSTIC_MODULES else None
        assert ignored is expected, name
