"""The evidence study: when a sparse network beats a dense one.

Four protocols against scikit-learn's ``MLPClassifier`` on six data sets,
run by ``python benchmarks/bench_evidence.py``:

- :mod:`~benchmarks.evidence.datasets`: the data sets and their splits;
- :mod:`~benchmarks.evidence.models`: the compared models and the rule that
  configures ours from the data's shape;
- :mod:`~benchmarks.evidence.protocols`: the arithmetic (corruptions, noise
  score, Pareto front, time-to-accuracy, iso-time gain, forgetting);
- :mod:`~benchmarks.evidence.runner`: the fits, one joblib job each;
- :mod:`~benchmarks.evidence.settings`: the run's sizes and command line;
- :mod:`~benchmarks.evidence.report`: summaries, targets and the report.
"""
