"""The pieces of the accuracy benchmarks, ``bench_accuracy.py`` and
``bench_accuracy_holdout.py`` (defaults against defaults, held-out scores).

- :mod:`~benchmarks.accuracy.datasets`: the data sets (the main table's and
  the hold-out ones) and the 70/30 split;
- :mod:`~benchmarks.accuracy.settings`: a run's settings (a frozen dataclass)
  and the command line;
- :mod:`~benchmarks.accuracy.cases`: the models and the four cases measured,
  one job per fit;
- :mod:`~benchmarks.accuracy.report`: the targets (tolerances with their
  reasons) and the Markdown tables.
"""
