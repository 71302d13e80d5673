"""What a measurement depends on besides the code, recorded with every result.

Library versions, the git commit of the checkout, the processor, the BLAS
libraries with the kernel they chose and their threads, the OpenBLAS
variables that steer that choice, and the load average. Also the restart of a
benchmark without those variables: OpenBLAS reads them when it is loaded, so a
process cannot drop them for itself once NumPy is imported.
"""

import os
import platform
import subprocess
import sys
from pathlib import Path

import numpy as np
import sklearn
import threadpoolctl

import sklearn_sparse_act

# Set on some processors, they make a current NumPy's OpenBLAS pick a slower
# kernel than the one it would choose for the processor itself.
OPENBLAS_VARIABLES = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
BENCHMARKS_DIR = Path(__file__).resolve().parents[1]


def git_commit(directory=BENCHMARKS_DIR):
    """Short hash of the checked-out commit, or None outside a git checkout."""
    try:
        completed = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=directory,
            capture_output=True,
            text=True,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError):
        return None
    return completed.stdout.strip() or None


def load_average():
    """The 1, 5 and 15-minute load averages as text, or ``"unknown"``."""
    try:
        return ", ".join(f"{value:.2f}" for value in os.getloadavg())
    except OSError:
        return "unknown"


def describe_environment(argv=None):
    """The environment of this run, as a JSON-ready dict.

    ``argv`` (default ``sys.argv``) is recorded as the command; ``load_start``
    is the load average now. ``threadpools`` is threadpoolctl's description of
    every thread pool (the BLAS libraries, their kernel and threads).
    """
    argv = sys.argv if argv is None else argv
    return {
        "command": " ".join(["python", *argv]),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "sklearn": sklearn.__version__,
        "sklearn_sparse_act": sklearn_sparse_act.__version__,
        "git_commit": git_commit(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "threadpools": threadpoolctl.threadpool_info(),
        "openblas_variables": {
            name: os.environ.get(name) for name in OPENBLAS_VARIABLES
        },
        "load_start": load_average(),
    }


def blas_description(threadpools):
    """One line per BLAS pool of threadpoolctl's ``threadpools``: library,
    version, kernel and threads."""
    pools = [
        f"{pool.get('internal_api')} {pool.get('version')} "
        f"(kernel {pool.get('architecture')}, {pool.get('num_threads')} threads)"
        for pool in threadpools
        if pool.get("user_api") == "blas"
    ]
    return "; ".join(pools) or "no BLAS pool reported"


def openblas_description(openblas_variables):
    """``NAME=value`` of each OpenBLAS variable, ``unset`` for a missing one."""
    return ", ".join(
        f"{name}={value if value is not None else 'unset'}"
        for name, value in openblas_variables.items()
    )


def restart_without_openblas_variables():
    """Re-run this process without ``OPENBLAS_CORETYPE`` and ``OPENBLAS_L2_SIZE``.

    Returns only if neither is set; otherwise the process is replaced by the
    same command (same interpreter and arguments) in an environment without
    both.
    """
    if not any(name in os.environ for name in OPENBLAS_VARIABLES):
        return
    environment = {
        name: value
        for name, value in os.environ.items()
        if name not in OPENBLAS_VARIABLES
    }
    print(
        "restarting without " + " and ".join(OPENBLAS_VARIABLES),
        file=sys.stderr,
        flush=True,
    )
    os.execve(sys.executable, [sys.executable, *sys.argv], environment)
