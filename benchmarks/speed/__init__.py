"""The pieces of the speed benchmark, ``bench_vs_sklearn.py``.

- :mod:`~benchmarks.speed.settings`: the run's settings (frozen dataclasses),
  the full and quick presets and the command line;
- :mod:`~benchmarks.speed.targets`: the targets, as data with their reasons;
- :mod:`~benchmarks.speed.models`: the compared models and the data;
- :mod:`~benchmarks.speed.measure`: one architecture's memory and timed,
  interleaved repeats, summarised per model;
- :mod:`~benchmarks.speed.resident` (with its child process,
  :mod:`~benchmarks.speed.memory_child`): peak resident memory of each model
  and training size in a fresh process;
- :mod:`~benchmarks.speed.verdicts`: the run judged against the targets;
- :mod:`~benchmarks.speed.grid_search` and :mod:`~benchmarks.speed.first_fit`
  (with its child process, :mod:`~benchmarks.speed.first_fit_child`): the
  GridSearchCV and first-fit (JIT) sections;
- :mod:`~benchmarks.speed.report`: ``results.md``, ``results.csv`` and the
  plot.
"""
