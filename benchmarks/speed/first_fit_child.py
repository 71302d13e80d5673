"""numba's first fit in a fresh process: the child of :mod:`benchmarks.speed.first_fit`.

Its source is run with ``python -c`` (as a fresh interpreter that has
imported nothing), with one argument: the JSON list ``[hidden, ratio, rows,
epochs, batch_size, seed, n_features, n_classes]``. It times the import of
the package, a first fit with ``kernels='numba'`` (which compiles the kernels
it needs, or loads them from ``NUMBA_CACHE_DIR``) and 3 more identical fits,
and prints one line of JSON: ``import_seconds``, ``first_fit_seconds`` and
``repeat_fit_seconds``.
"""

import json
import sys
import time
import warnings

start = time.perf_counter()
from sklearn.datasets import make_classification  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402

from sklearn_sparse_act import SparseMLPClassifier, config_context  # noqa: E402

import_seconds = time.perf_counter() - start
hidden, ratio, rows, epochs, batch_size, seed, n_features, n_classes = json.loads(
    sys.argv[1]
)
X, y = make_classification(
    n_samples=rows,
    n_features=n_features,
    n_informative=40,
    n_classes=n_classes,
    random_state=seed,
)
warnings.simplefilter("ignore", ConvergenceWarning)


def fit_seconds():
    model = SparseMLPClassifier(
        hidden_layer_sizes=tuple(hidden),
        activation_ratio=ratio,
        max_iter=epochs,
        batch_size=batch_size,
        random_state=seed,
    )
    start = time.perf_counter()
    model.fit(X, y)
    return time.perf_counter() - start


with config_context(kernels="numba"):
    first = fit_seconds()
    repeats = [fit_seconds() for _ in range(3)]
print(
    json.dumps(
        {
            "import_seconds": import_seconds,
            "first_fit_seconds": first,
            "repeat_fit_seconds": repeats,
        }
    )
)
