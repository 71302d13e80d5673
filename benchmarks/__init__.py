"""The benchmarks of sklearn-sparse-act: scripts, their shared harness and pieces.

The scripts (``bench_*.py``, ``profile_targets.py``, ``measure_dense_firing.py``)
are run from the repository root, e.g. ``python benchmarks/bench_vs_sklearn.py``.
They are short: the code they share lives in :mod:`benchmarks.harness` (timing,
memory, environment, reporting, targets), and the speed and accuracy benchmarks
keep their own pieces in :mod:`benchmarks.speed` and :mod:`benchmarks.accuracy`.
This file makes the directory a package, so that the test suite imports all of
it as modules (the repository root is on ``sys.path`` under pytest).
"""
