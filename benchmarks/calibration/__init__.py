"""The pieces of ``calibrate_cost_model.py``: ``measure`` (timing, crossovers,
epochs on a forced path), ``paths`` (the path decisions) and ``cores`` (who
gets the cores on the numba backend)."""
