"""One model's peak resident memory in a fresh process: the child of
:mod:`benchmarks.speed.resident`.

Run as ``python -m benchmarks.speed.memory_child ARGUMENTS`` from the
repository's root, ``ARGUMENTS`` being the JSON object
:func:`benchmarks.speed.resident.child_arguments` makes (the model, its
network, batch size and seed, the ``.npz`` file of the data, whether to
measure the predict too). After importing and loading the data it fits the
model on two mini-batches and predicts a few rows, untimed and unmeasured, so
that numba's kernels (compiled or loaded from the cache) and BLAS's buffers
are in place; then it measures the growth of the peak resident set size
(:class:`~benchmarks.harness.memory.PeakRss`) during a one-epoch fit, and
during the held-out predict when asked. It prints one line of JSON:
``fit_peak_rss_bytes``, ``predict_peak_rss_bytes`` (or None) and ``exact``.
"""

import gc
import json
import sys

import numpy as np

from benchmarks.harness.fitting import fit_quietly
from benchmarks.harness.memory import PeakRss
from benchmarks.speed.models import Method


def peak_rss_growth(function):
    """Growth of the peak RSS while ``function()`` runs, in bytes, and whether
    the kernel's high-water mark could be reset first."""
    gc.collect()
    peak = PeakRss()
    function()
    return peak.growth_bytes(), peak.exact


def main(arguments):
    method = Method(*arguments["method"])
    hidden = tuple(arguments["hidden"])
    with np.load(arguments["data"]) as data:
        X_train, y_train, X_test = data["X_train"], data["y_train"], data["X_test"]
    batch_size, seed = arguments["batch_size"], arguments["seed"]
    warm_rows = min(X_train.shape[0], 2 * batch_size)
    with method.context():
        warm = method.build(hidden, 1, batch_size, seed)
        fit_quietly(warm, X_train[:warm_rows], y_train[:warm_rows])
        warm.predict(X_test[:warm_rows])
        del warm
        model = method.build(hidden, 1, batch_size, seed)
        fit_bytes, exact = peak_rss_growth(lambda: fit_quietly(model, X_train, y_train))
        predict_bytes = None
        if arguments["predict"]:
            predict_bytes, predict_exact = peak_rss_growth(
                lambda: model.predict(X_test)
            )
            exact = exact and predict_exact
    return {
        "fit_peak_rss_bytes": fit_bytes,
        "predict_peak_rss_bytes": predict_bytes,
        "exact": exact,
    }


if __name__ == "__main__":
    print(json.dumps(main(json.loads(sys.argv[1]))))
