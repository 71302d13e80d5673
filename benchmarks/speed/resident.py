"""Peak resident memory of each model, one fresh Python process per model and
training size (the child is :mod:`benchmarks.speed.memory_child`).

``tracemalloc`` sees the buffers NumPy allocates, but not what numba's
compiled kernels allocate, nor BLAS's work buffers or what the allocator
keeps: the growth of the process's peak resident set size (RSS) sees all of
it. A fresh process per measurement keeps one model's pages from hiding
another's. The data is written once per training size to a ``.npz`` file the
children load before anything is measured, so the figure excludes the data.

The children run with glibc's ``MALLOC_MMAP_THRESHOLD_`` fixed at 128 KiB
(glibc's starting value, which it otherwise raises as large blocks are freed):
every large buffer then goes back to the system when freed, so the predict
measured after the fit counts its own buffers instead of reusing the fit's.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

REPOSITORY = Path(__file__).resolve().parents[2]
CHILD_MODULE = "benchmarks.speed.memory_child"
CHILD_ENVIRONMENT = {"MALLOC_MMAP_THRESHOLD_": str(128 * 1024)}


def write_data(path, X_train, y_train, X_test):
    """The data of the children, as one ``.npz`` file at ``path``."""
    np.savez(path, X_train=X_train, y_train=y_train, X_test=X_test)
    return path


def child_arguments(method, hidden, settings, data_path, predict):
    """The JSON command-line argument of one child."""
    return json.dumps(
        {
            "method": [method.strategy, method.ratio, method.kernels],
            "hidden": list(hidden),
            "batch_size": settings.batch_size,
            "seed": settings.seed,
            "data": str(data_path),
            "predict": predict,
        }
    )


def measure_resident(method, hidden, settings, data_path, predict):
    """Growth of the peak RSS of one model's one-epoch fit (and of its
    held-out predict when ``predict``) in a fresh Python process, in bytes.

    Returns the child's JSON: ``fit_peak_rss_bytes``,
    ``predict_peak_rss_bytes`` (None unless ``predict``) and ``exact``
    (whether the kernel's high-water mark was reset: otherwise the growth is
    an upper bound).
    """
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            CHILD_MODULE,
            child_arguments(method, hidden, settings, data_path, predict),
        ],
        cwd=REPOSITORY,
        env={**os.environ, **CHILD_ENVIRONMENT},
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"the peak-RSS process failed:\n{completed.stderr}")
    return json.loads(completed.stdout.strip().splitlines()[-1])
