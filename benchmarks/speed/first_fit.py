"""The first-fit (JIT) section: numba's compilation cost in fresh processes.

Two fresh Python processes each run :mod:`benchmarks.speed.first_fit_child`:
the first with ``NUMBA_CACHE_DIR`` set to a new empty directory (cold cache:
every kernel it needs is compiled and written there), the second with the same
directory (warm cache: loaded). The package's own cache is never touched.
"""

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from statistics import median

from benchmarks.speed.settings import N_CLASSES, N_FEATURES

CHILD_SOURCE = Path(__file__).with_name("first_fit_child.py")


def run_child(cache_dir, settings):
    """One fresh Python process: its first numba fit and the same fit again."""
    jit = settings.jit_fit
    arguments = json.dumps(
        [
            list(jit.hidden),
            jit.ratio,
            jit.rows,
            jit.epochs,
            settings.batch_size,
            settings.seed,
            N_FEATURES,
            N_CLASSES,
        ]
    )
    environment = {**os.environ, "NUMBA_CACHE_DIR": str(cache_dir)}
    completed = subprocess.run(
        [sys.executable, "-c", CHILD_SOURCE.read_text(), arguments],
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"the first-fit process failed:\n{completed.stderr}")
    measured = json.loads(completed.stdout.strip().splitlines()[-1])
    repeat = median(measured["repeat_fit_seconds"])
    measured["repeat_fit_median_seconds"] = repeat
    measured["overhead_seconds"] = measured["first_fit_seconds"] - repeat
    return measured


def run_first_fit(settings, log):
    """numba's first-fit overhead with a cold cache, then a warm one."""
    jit = settings.jit_fit
    with tempfile.TemporaryDirectory(prefix="numba-cache-") as cache_dir:
        cold = run_child(cache_dir, settings)
        log("  JIT, cold cache done")
        cached_files = sum(len(files) for _, _, files in os.walk(cache_dir))
        warm = run_child(cache_dir, settings)
        log("  JIT, warm cache done")
    return {
        "hidden": list(jit.hidden),
        "activation_ratio": jit.ratio,
        "train_rows": jit.rows,
        "epochs": jit.epochs,
        "cache_files_written": cached_files,
        "cold": cold,
        "warm": warm,
    }
