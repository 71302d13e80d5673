"""Plant deliberate bugs in a copy of the package and check that the tests
catch each one, on every kernel backend it concerns.

The mutations are data, in ``tools/mutations.py``: each names a file, an
exact piece of its source (which must occur exactly once: code that moved
stops the check instead of being skipped), the text that replaces it, the
backends whose code runs it and the tests expected to catch it. The
git-tracked files (as they are on disk; ``git add`` a new test file first)
are copied once into a temporary directory. Every selection first runs
unmutated on each backend, and must pass (a caught mutation would mean
nothing otherwise); then for each mutation and backend the file is changed,
``python -m pytest <selection> -x -q -n 0 -p no:cacheprovider`` runs with
``PYTHONPATH`` on the copy and ``SKLEARN_SPARSE_ACT_KERNELS`` set, and the
file is restored. Exit code 1 (a test failed) counts as caught, 0 as missed,
anything else (collection error, crash, timeout) as an error.

Usage::

    python tools/mutation_check.py                 # all, about 13 min on 2 cores
    python tools/mutation_check.py --list
    python tools/mutation_check.py --only dynamic-thresholds-unsettled
    python tools/mutation_check.py --backend numpy
    python tools/mutation_check.py --only warmup-skipped \\
        --tests tests/test_controls.py::test_sparsity_curve_follows_the_warmup_schedule

It prints a Markdown table and exits non-zero if a mutation was missed or
errored.
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from mutations import BACKENDS, MUTATIONS

ROOT = Path(__file__).resolve().parents[1]

# A pytest run that takes longer than this is stopped and reported as an error
# (a mutation can turn a loop into an endless one).
RUN_TIMEOUT_SECONDS = 900


def _check_unique(mutation, root):
    """Stop unless the mutation's source text occurs exactly once."""
    source = (root / mutation.path).read_text()
    count = source.count(mutation.original)
    if count != 1:
        sys.exit(
            f"Mutation {mutation.name!r}: its source text occurs {count} times in "
            f"{mutation.path} (expected exactly once). Update the mutation to "
            "the current code."
        )


def _copy_tracked_files(root, destination):
    """Copy the git-tracked files of ``root`` (as they are on disk)."""
    listing = subprocess.run(
        ["git", "ls-files", "-z"], cwd=root, capture_output=True, check=True
    )
    for name in listing.stdout.decode().split("\0"):
        source = root / name
        if not name or not source.is_file():
            continue
        target = destination / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)


def _environment(copy, backend, numba_cache=None):
    environment = dict(os.environ)
    environment["PYTHONPATH"] = str(copy)
    environment["SKLEARN_SPARSE_ACT_KERNELS"] = backend
    environment.pop("NUMBA_CACHE_DIR", None)
    if numba_cache is not None:
        environment["NUMBA_CACHE_DIR"] = str(numba_cache)
    return environment


def _check_imported_package(copy):
    """Stop unless the copy's package is the one its runs import."""
    found = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sklearn_sparse_act; print(sklearn_sparse_act.__file__)",
        ],
        cwd=copy,
        env=_environment(copy, "numpy"),
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    expected = (copy / "sklearn_sparse_act" / "__init__.py").resolve()
    if Path(found).resolve() != expected:
        sys.exit(f"The runs import {found}, not the copy's package {expected}.")


def _run_pytest(copy, selection, backend, numba_cache=None):
    """Run the selection; return (pytest's exit code, or None after a
    timeout; the first failure, or the end of the output of an error;
    seconds)."""
    command = [sys.executable, "-m", "pytest", *selection]
    command += ["-x", "-q", "-n", "0", "-p", "no:cacheprovider"]
    start = time.perf_counter()
    try:
        result = subprocess.run(
            command,
            cwd=copy,
            env=_environment(copy, backend, numba_cache),
            capture_output=True,
            text=True,
            timeout=RUN_TIMEOUT_SECONDS,
        )
    except subprocess.TimeoutExpired:
        return None, f"timeout after {RUN_TIMEOUT_SECONDS} s", RUN_TIMEOUT_SECONDS
    seconds = time.perf_counter() - start
    lines = (result.stdout + result.stderr).splitlines()
    if result.returncode == 1:
        failed = [line for line in lines if line.startswith("FAILED")]
        return 1, failed[0] if failed else "", seconds
    if result.returncode == 0:
        return 0, "", seconds
    return result.returncode, "\n".join(lines[-15:]), seconds


def _outcome(exit_code):
    """A mutation is caught when a test failed (exit code 1), missed when
    every test passed (0); anything else is an error."""
    return {0: "missed", 1: "caught"}.get(exit_code, "error")


def _forget_bytecode(path):
    """Delete the cached bytecode of a changed module, so that the next run
    compiles the text on disk whatever its timestamp."""
    for cached in (path.parent / "__pycache__").glob(f"{path.stem}.*.pyc"):
        cached.unlink()


class _Planted:
    """Context manager: the mutation applied to the copy, then undone (with
    the original timestamps, so numba's cache of the file stays valid)."""

    def __init__(self, copy, mutation):
        self.path = copy / mutation.path
        self.mutation = mutation

    def __enter__(self):
        self.original_text = self.path.read_text()
        self.original_stat = self.path.stat()
        self.path.write_text(
            self.original_text.replace(
                self.mutation.original, self.mutation.replacement
            )
        )
        _forget_bytecode(self.path)
        return self

    def __exit__(self, *exc_info):
        self.path.write_text(self.original_text)
        os.utime(
            self.path,
            ns=(self.original_stat.st_atime_ns, self.original_stat.st_mtime_ns),
        )
        _forget_bytecode(self.path)


def _selected(arguments):
    by_name = {mutation.name: mutation for mutation in MUTATIONS}
    unknown = sorted(set(arguments.only or ()) - set(by_name))
    if unknown:
        sys.exit(f"Unknown mutation(s): {', '.join(unknown)}. See --list.")
    mutations = [by_name[name] for name in arguments.only] if arguments.only else []
    mutations = mutations or list(MUTATIONS)
    backends = (arguments.backend,) if arguments.backend else BACKENDS
    return [
        (mutation, [backend for backend in mutation.backends if backend in backends])
        for mutation in mutations
        if any(backend in backends for backend in mutation.backends)
    ]


def _print_list():
    for mutation in MUTATIONS:
        print(f"{mutation.name}: {mutation.description}")
        print(f"    {mutation.path}; backends: {', '.join(mutation.backends)}")
        print(f"    caught by: {' '.join(mutation.selection)}")


def _baseline(copy, plan):
    """Run every selection unmutated on each backend; stop if one fails."""
    for backend in BACKENDS:
        tests = []
        for mutation, backends in plan:
            if backend in backends:
                tests += [test for test in mutation.selection if test not in tests]
        if not tests:
            continue
        exit_code, detail, seconds = _run_pytest(copy, tests, backend)
        print(f"unmutated, {backend}: {seconds:.0f} s", file=sys.stderr)
        if exit_code != 0:
            sys.exit(
                f"The selections do not pass unmutated on {backend} (pytest exit "
                f"code {exit_code}):\n{detail}"
            )


def _markdown_table(plan, results):
    lines = [
        "| mutation | description | numpy | numba |",
        "| --- | --- | --- | --- |",
    ]
    for mutation, _ in plan:
        cells = [results.get((mutation.name, backend), "-") for backend in BACKENDS]
        lines.append(
            f"| `{mutation.name}` | {mutation.description} | {' | '.join(cells)} |"
        )
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--only",
        action="append",
        metavar="NAME",
        help="run this mutation only (repeatable)",
    )
    parser.add_argument("--backend", choices=BACKENDS, help="run on one backend")
    parser.add_argument(
        "--tests",
        action="append",
        metavar="NODEID",
        help="run these tests (files or node ids; repeatable) instead of each "
        "mutation's selection, e.g. to see whether one test alone catches it",
    )
    parser.add_argument(
        "--list", action="store_true", help="list the mutations and exit"
    )
    arguments = parser.parse_args(argv)
    if arguments.list:
        _print_list()
        return 0
    plan = _selected(arguments)
    for mutation, _ in plan:
        _check_unique(mutation, ROOT)
    if arguments.tests:
        plan = [
            (replace(mutation, selection=tuple(arguments.tests)), backends)
            for mutation, backends in plan
        ]

    results = {}
    with tempfile.TemporaryDirectory(prefix="mutation-check-") as directory:
        copy = Path(directory) / "repository"
        _copy_tracked_files(ROOT, copy)
        _check_imported_package(copy)
        _baseline(copy, plan)
        for mutation, backends in plan:
            # A changed numba module compiles into a cache of its own, so the
            # copy's cache of the unchanged kernels stays valid.
            isolated_cache = "@njit" in (copy / mutation.path).read_text()
            for backend in backends:
                numba_cache = (
                    Path(directory) / "numba-cache" / mutation.name
                    if isolated_cache
                    else None
                )
                with _Planted(copy, mutation):
                    exit_code, detail, seconds = _run_pytest(
                        copy, mutation.selection, backend, numba_cache
                    )
                outcome = _outcome(exit_code)
                results[mutation.name, backend] = outcome
                print(
                    f"{mutation.name}, {backend}: {outcome} ({seconds:.0f} s) {detail}",
                    file=sys.stderr,
                )
    print(_markdown_table(plan, results))
    failures = [outcome for outcome in results.values() if outcome != "caught"]
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
