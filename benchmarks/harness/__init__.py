"""What every benchmark of this directory shares, one concern per module.

- :mod:`~benchmarks.harness.timing`: wall-clock time of a call, repeats
  interleaved between the compared variants, medians, paired ratios, and
  timers that add up the time of wrapped functions;
- :mod:`~benchmarks.harness.memory`: peak memory traced by ``tracemalloc``
  and the growth of the process's peak resident set size;
- :mod:`~benchmarks.harness.environment`: what a result depends on (library
  versions, git commit, processor, BLAS and its threads, load average) and the
  restart without the OpenBLAS variables;
- :mod:`~benchmarks.harness.reporting`: Markdown tables, CSV and JSON files,
  and matplotlib for plots;
- :mod:`~benchmarks.harness.targets`: a target (a bound on a measured value
  and the reason for it) and its verdict;
- :mod:`~benchmarks.harness.fitting`: fitting without the convergence
  warning;
- :mod:`~benchmarks.harness.command_line`: parsers of the values several
  benchmarks take on their command line (hidden-layer sizes, ratios).
"""
