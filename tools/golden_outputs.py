"""Golden outputs: prove that a change of the code leaves every fit identical.

``python tools/golden_outputs.py write DIR`` fits a fixed list of
configurations (both kernel backends, every solver and strategy, the sparsity
controls, the ways of continuing a fit, sample weights, sparse and float32
input, classifier and regressor) and stores, per configuration, the whole
fitted state of the estimator (every attribute, public and private, with its
type), its predictions on held-out rows, its hidden codes and the result of
``compact()``, and the warnings the fit raised.

``python tools/golden_outputs.py compare DIR`` refits every configuration and
reports, per configuration and array, whether it is bitwise equal to the
stored one or its largest absolute difference; it exits with status 1 on any
difference (``--tolerance`` accepts differences up to a stated bound).

Fits are bitwise reproducible on one machine, not across machines (BLAS and
the number of cores change the round-off): golden files are compared on the
machine that wrote them.
"""

import argparse
import hashlib
import json
import platform
import sys
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import scipy
import scipy.sparse as sp
import sklearn
from sklearn.datasets import (
    load_iris,
    make_classification,
    make_multilabel_classification,
    make_regression,
)

from sklearn_sparse_act import SparseMLPClassifier, SparseMLPRegressor, config_context

GOLDEN_FILE = "golden.npz"

# Rows held out of every training set for the predictions.
N_HELD_OUT = 40
# Predictions are also made on this many rows alone: few-row batches take
# paths of their own in the kernels.
N_FEW_ROWS = 5


# ----------------------------------------------------------------------------
# Data sets (scikit-learn's bundled data and generators only)
# ----------------------------------------------------------------------------
def _multiclass():
    X, y = make_classification(
        n_samples=240,
        n_features=12,
        n_informative=8,
        n_classes=3,
        random_state=0,
    )
    return X, y


def _binary():
    X, y = make_classification(
        n_samples=200, n_features=10, n_informative=5, random_state=1
    )
    return X, y


def _iris():
    X, y = load_iris(return_X_y=True)
    order = np.random.RandomState(0).permutation(X.shape[0])
    return X[order] / 8, y[order]


def _multilabel():
    X, Y = make_multilabel_classification(
        n_samples=200, n_features=10, n_classes=3, random_state=0
    )
    return X / 4, Y


def _regression():
    X, y = make_regression(
        n_samples=240, n_features=10, n_informative=6, noise=5.0, random_state=0
    )
    return X, y


def _multi_output():
    X, Y = make_regression(
        n_samples=240, n_features=8, n_targets=2, noise=1.0, random_state=2
    )
    return X, Y


def _counts():
    rng = np.random.RandomState(3)
    X = rng.normal(size=(240, 8))
    rate = np.exp(X @ rng.uniform(-0.3, 0.3, size=8))
    return X, rng.poisson(rate).astype(float)


def _wide():
    # Wide enough for the NumPy backend's sparse path in training.
    X, y = make_classification(
        n_samples=160, n_features=6, n_informative=4, n_classes=2, random_state=4
    )
    return X, y


DATASETS = {
    "multiclass": _multiclass,
    "binary": _binary,
    "iris": _iris,
    "multilabel": _multilabel,
    "regression": _regression,
    "multi_output": _multi_output,
    "counts": _counts,
    "wide": _wide,
}


def _sparsified(X):
    """CSR input with about half of the entries zero."""
    return sp.csr_matrix(np.where(np.abs(X) < 0.7, 0.0, X))


# ----------------------------------------------------------------------------
# Configurations
# ----------------------------------------------------------------------------
@dataclass
class Configuration:
    """One fit to reproduce.

    ``fit_mode`` is 'fit', 'warm_start' (two calls to ``fit``) or
    'partial_fit' (``n_calls`` calls on consecutive chunks).
    """

    name: str
    kernels: str
    estimator: type
    data: str
    params: dict = field(default_factory=dict)
    fit_mode: str = "fit"
    n_calls: int = 1
    sample_weight: bool = False
    csr: bool = False
    float32: bool = False


BASE = dict(hidden_layer_sizes=(16, 8), activation_ratio=0.25, random_state=0)


def _config(name, kernels, estimator, data, fit_mode="fit", **options):
    input_options = {
        key: options.pop(key)
        for key in ("n_calls", "sample_weight", "csr", "float32")
        if key in options
    }
    params = {**BASE, "max_iter": 20, **options}
    return Configuration(
        name, kernels, estimator, data, params, fit_mode, **input_options
    )


C, R = SparseMLPClassifier, SparseMLPRegressor

CONFIGURATIONS = [
    # Solvers and strategies, on both backends.
    _config("clf_adam_fixed_numpy", "numpy", C, "multiclass"),
    _config("clf_adam_fixed_numba", "numba", C, "multiclass"),
    _config(
        "clf_adam_dynamic_numpy", "numpy", C, "multiclass", sparsity_strategy="dynamic"
    ),
    _config(
        "clf_adam_dynamic_numba", "numba", C, "multiclass", sparsity_strategy="dynamic"
    ),
    _config(
        "clf_sgd_fixed_invscaling_numpy",
        "numpy",
        C,
        "iris",
        solver="sgd",
        learning_rate="invscaling",
        learning_rate_init=0.05,
    ),
    _config(
        "clf_sgd_dynamic_adaptive_numba",
        "numba",
        C,
        "iris",
        solver="sgd",
        sparsity_strategy="dynamic",
        learning_rate="adaptive",
        nesterovs_momentum=False,
        tol=0.5,
        n_iter_no_change=2,
        max_iter=15,
    ),
    _config("clf_lbfgs_fixed_numpy", "numpy", C, "multiclass", solver="lbfgs"),
    _config(
        "clf_lbfgs_dynamic_numba",
        "numba",
        C,
        "multiclass",
        solver="lbfgs",
        sparsity_strategy="dynamic",
    ),
    _config(
        "clf_lbfgs_dynamic_weighted_numpy",
        "numpy",
        C,
        "iris",
        solver="lbfgs",
        sparsity_strategy="dynamic",
        sample_weight=True,
        max_iter=20,
    ),
    _config(
        "reg_lbfgs_fixed_multi_output_numba",
        "numba",
        R,
        "multi_output",
        solver="lbfgs",
        max_iter=20,
    ),
    # Per-layer ratios.
    _config(
        "clf_layer_ratios_dynamic_numpy",
        "numpy",
        C,
        "multiclass",
        hidden_layer_sizes=(24, 12),
        activation_ratio=[0.25, 0.5],
        sparsity_strategy="dynamic",
    ),
    _config(
        "reg_layer_ratios_fixed_numba",
        "numba",
        R,
        "regression",
        hidden_layer_sizes=(24, 12),
        activation_ratio=[0.2, 0.5],
    ),
    # Boosting with decay.
    _config(
        "clf_boost_decay_fixed_numpy",
        "numpy",
        C,
        "multiclass",
        boost_strength=2.0,
        boost_decay=0.7,
    ),
    _config(
        "clf_boost_decay_dynamic_numba",
        "numba",
        C,
        "multiclass",
        sparsity_strategy="dynamic",
        boost_strength=1.5,
        boost_decay=0.8,
    ),
    _config(
        "clf_boost_lbfgs_numpy",
        "numpy",
        C,
        "iris",
        solver="lbfgs",
        boost_strength=2.0,
        max_iter=15,
    ),
    # Sparsity warm-up.
    _config("clf_warmup_fixed_numpy", "numpy", C, "multiclass", sparsity_warmup=4),
    _config(
        "clf_warmup_dynamic_early_stopping_numba",
        "numba",
        C,
        "multiclass",
        sparsity_strategy="dynamic",
        sparsity_warmup=3,
        early_stopping=True,
        n_iter_no_change=3,
        max_iter=25,
    ),
    _config(
        "clf_warmup_shortened_numpy",
        "numpy",
        C,
        "iris",
        sparsity_warmup=20,
        max_iter=6,
    ),
    # Inference ratio factor.
    _config(
        "clf_inference_factor_fixed_numba",
        "numba",
        C,
        "multiclass",
        inference_ratio_factor=2.0,
    ),
    _config(
        "clf_inference_factor_dynamic_numpy",
        "numpy",
        C,
        "multiclass",
        sparsity_strategy="dynamic",
        inference_ratio_factor=1.5,
    ),
    # Early stopping.
    _config(
        "clf_early_stopping_fixed_numpy",
        "numpy",
        C,
        "multiclass",
        early_stopping=True,
        n_iter_no_change=3,
        max_iter=40,
    ),
    _config(
        "reg_early_stopping_dynamic_numba",
        "numba",
        R,
        "regression",
        sparsity_strategy="dynamic",
        early_stopping=True,
        n_iter_no_change=3,
        max_iter=40,
        sample_weight=True,
    ),
    # warm_start and partial_fit.
    _config(
        "clf_warm_start_dynamic_numpy",
        "numpy",
        C,
        "multiclass",
        "warm_start",
        warm_start=True,
        sparsity_strategy="dynamic",
        boost_strength=1.0,
        boost_decay=0.9,
        sparsity_warmup=2,
        max_iter=6,
    ),
    _config(
        "reg_warm_start_lbfgs_dynamic_numba",
        "numba",
        R,
        "regression",
        "warm_start",
        warm_start=True,
        solver="lbfgs",
        sparsity_strategy="dynamic",
        max_iter=10,
    ),
    _config(
        "clf_partial_fit_dynamic_numpy",
        "numpy",
        C,
        "multiclass",
        "partial_fit",
        n_calls=4,
        sparsity_strategy="dynamic",
        boost_strength=2.0,
        boost_decay=0.5,
        sparsity_warmup=2,
        inference_ratio_factor=1.5,
    ),
    _config(
        "reg_partial_fit_fixed_weighted_numba",
        "numba",
        R,
        "regression",
        "partial_fit",
        n_calls=4,
        sample_weight=True,
        solver="sgd",
        learning_rate_init=0.01,
    ),
    _config(
        "reg_partial_fit_dynamic_csr_numba",
        "numba",
        R,
        "multi_output",
        "partial_fit",
        n_calls=3,
        csr=True,
        sparsity_strategy="dynamic",
    ),
    # Sample and class weights.
    _config(
        "clf_weighted_dynamic_numba",
        "numba",
        C,
        "multiclass",
        sparsity_strategy="dynamic",
        sample_weight=True,
    ),
    _config(
        "clf_class_weight_numpy",
        "numpy",
        C,
        "multiclass",
        class_weight="balanced",
        sample_weight=True,
    ),
    # Sparse (CSR) input.
    _config(
        "clf_csr_dynamic_numpy",
        "numpy",
        C,
        "multiclass",
        csr=True,
        sparsity_strategy="dynamic",
    ),
    _config(
        "reg_csr_sgd_fixed_numba", "numba", R, "regression", csr=True, solver="sgd"
    ),
    _config(
        "clf_csr_lbfgs_numba",
        "numba",
        C,
        "binary",
        csr=True,
        solver="lbfgs",
        sparsity_strategy="dynamic",
    ),
    # float32.
    _config(
        "clf_float32_dynamic_numba",
        "numba",
        C,
        "multiclass",
        float32=True,
        sparsity_strategy="dynamic",
        boost_strength=1.0,
    ),
    _config(
        "reg_float32_lbfgs_numpy",
        "numpy",
        R,
        "regression",
        float32=True,
        solver="lbfgs",
    ),
    _config(
        "clf_float32_sgd_numpy",
        "numpy",
        C,
        "iris",
        float32=True,
        solver="sgd",
        sparsity_warmup=3,
    ),
    # Other outputs and activations.
    _config("clf_binary_tanh_numpy", "numpy", C, "binary", activation="tanh"),
    _config(
        "clf_multilabel_logistic_numba",
        "numba",
        C,
        "multilabel",
        activation="logistic",
        sparsity_strategy="dynamic",
    ),
    _config("reg_poisson_numpy", "numpy", R, "counts", loss="poisson"),
    _config(
        "reg_identity_unnormalized_numba",
        "numba",
        R,
        "multi_output",
        activation="identity",
        normalize_y=False,
        learning_rate_init=0.01,
    ),
    _config(
        "reg_auto_ratio_numpy",
        "numpy",
        R,
        "regression",
        hidden_layer_sizes=(128,),
        activation_ratio="auto",
        max_iter=6,
    ),
    # Layers wide and sparse enough for each backend's sparse path.
    _config(
        "clf_sparse_path_numpy",
        "numpy",
        C,
        "wide",
        hidden_layer_sizes=(520, 64),
        activation_ratio=[0.02, 0.25],
        solver="lbfgs",
        float32=True,
        max_iter=8,
    ),
    _config(
        "clf_sparse_path_numba",
        "numba",
        C,
        "multiclass",
        hidden_layer_sizes=(48, 32),
        activation_ratio=0.1,
        sparsity_strategy="dynamic",
        boost_strength=1.0,
        max_iter=8,
    ),
    # Sparse connections: on the numba kernels over the present weights
    # (density 0.1; early stopping's validation passes over them too),
    # above their crossover (0.3), and on the NumPy reference with SGD.
    _config(
        "clf_connections_adam_numba",
        "numba",
        C,
        "multiclass",
        hidden_layer_sizes=(48, 32),
        activation_ratio=0.1,
        weight_density=0.1,
        early_stopping=True,
        max_iter=8,
    ),
    _config(
        "clf_connections_dense_path_numba",
        "numba",
        C,
        "multiclass",
        hidden_layer_sizes=(48, 32),
        activation_ratio=0.1,
        weight_density=0.3,
        max_iter=8,
    ),
    _config(
        "clf_connections_sgd_numpy",
        "numpy",
        C,
        "multiclass",
        solver="sgd",
        learning_rate_init=0.05,
        weight_density=[0.3, 0.5],
        max_iter=8,
    ),
]


# ----------------------------------------------------------------------------
# Fitting and recording
# ----------------------------------------------------------------------------
def _data(configuration):
    X, y = DATASETS[configuration.data]()
    if configuration.float32:
        X = X.astype(np.float32)
    rows = X.shape[0] - N_HELD_OUT
    X_train, y_train, X_test = X[:rows], y[:rows], X[rows:]
    weights = None
    if configuration.sample_weight:
        weights = np.random.RandomState(5).uniform(0.0, 2.0, size=rows)
        weights[::7] = 0.0
    if configuration.csr:
        X_train, X_test = _sparsified(X_train), _sparsified(X_test)
    return X_train, y_train, weights, X_test


def _fit(configuration, X, y, sample_weight):
    model = configuration.estimator(**configuration.params)
    if configuration.fit_mode == "fit":
        return model.fit(X, y, sample_weight=sample_weight)
    if configuration.fit_mode == "warm_start":
        model.fit(X, y, sample_weight=sample_weight)
        return model.fit(X, y, sample_weight=sample_weight)
    extra = {}
    if configuration.estimator is SparseMLPClassifier:
        extra["classes"] = np.unique(y)
    chunks = np.array_split(np.arange(X.shape[0]), configuration.n_calls)
    for rows in chunks:
        weights = None if sample_weight is None else sample_weight[rows]
        model.partial_fit(X[rows], y[rows], sample_weight=weights, **extra)
    return model


def _all_floats(values):
    return all(type(value) is type(values[0]) for value in values) and isinstance(
        values[0], float | np.floating
    )


def _flatten(value, path, arrays, manifest):
    """Record ``value`` under ``path``: arrays in ``arrays``, and in
    ``manifest`` every path with its type (and the value of what is not an
    array)."""
    kind = type(value).__name__
    if isinstance(value, np.ndarray):
        manifest[path] = f"ndarray[{value.dtype}]"
        arrays[path] = value
    elif sp.issparse(value):
        manifest[path] = f"{kind}{value.shape}"
        csr = value.tocsr()
        for part in ("data", "indices", "indptr"):
            arrays[f"{path}.{part}"] = getattr(csr, part)
    elif isinstance(value, np.random.RandomState):
        # The generator's state by its digest: it must match, not be near.
        algorithm, keys, position, has_gauss, gauss = value.get_state()
        digest = hashlib.sha256(keys.tobytes()).hexdigest()[:16]
        manifest[path] = f"{kind}({algorithm}, {digest}, {position}, {has_gauss})"
        manifest[path + ".gauss"] = f"float={float(gauss).hex()}"
    elif isinstance(value, dict):
        manifest[path] = f"dict{sorted(map(str, value))}"
        for key, item in value.items():
            _flatten(item, f"{path}[{key!r}]", arrays, manifest)
    elif isinstance(value, list | tuple) and value and _all_floats(value):
        # A curve (loss_curve_, say): one array, converted exactly.
        manifest[path] = f"{kind}[{len(value)}] of {type(value[0]).__name__}"
        arrays[path] = np.array(value)
    elif isinstance(value, list | tuple):
        manifest[path] = f"{kind}[{len(value)}]"
        for index, item in enumerate(value):
            _flatten(item, f"{path}[{index}]", arrays, manifest)
    elif isinstance(value, float | np.floating):
        # The exact bits, in hexadecimal.
        manifest[path] = f"{kind}={float(value).hex()}"
    elif value is None or isinstance(value, bool | int | str | np.integer | np.bool_):
        manifest[path] = f"{kind}={value!r}"
    elif isinstance(value, type):
        manifest[path] = f"type={value.__module__}.{value.__qualname__}"
    elif hasattr(value, "__dict__"):
        manifest[path] = kind
        _flatten(vars(value), path, arrays, manifest)
    else:
        manifest[path] = f"{kind}={value!r}"


def record(configuration):
    """The arrays and the manifest of one configuration's fit."""
    X, y, sample_weight, X_test = _data(configuration)
    arrays, manifest = {}, {}
    with config_context(kernels=configuration.kernels):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            model = _fit(configuration, X, y, sample_weight)
        _flatten(vars(model), "fitted", arrays, manifest)
        outputs = {
            "predict": model.predict(X_test),
            "predict_few": model.predict(X_test[:N_FEW_ROWS]),
            "predict_one": model.predict(X_test[:1]),
            "hidden_first": model.hidden_activations(X_test, layer=0),
            "hidden_last": model.hidden_activations(X_test[:N_FEW_ROWS]),
        }
        if hasattr(model, "predict_proba"):
            outputs["predict_proba"] = model.predict_proba(X_test)
            outputs["predict_proba_few"] = model.predict_proba(X_test[:N_FEW_ROWS])
        compacted = model.compact(
            X if configuration.fit_mode == "partial_fit" else None
        )
        outputs["compact.removed_units_"] = compacted.removed_units_
        outputs["compact.hidden_layer_sizes"] = compacted.hidden_layer_sizes
        outputs["compact.predict"] = compacted.predict(X_test)
        if hasattr(compacted, "predict_proba"):
            outputs["compact.predict_proba"] = compacted.predict_proba(X_test)
        _flatten(outputs, "outputs", arrays, manifest)
    manifest["warnings"] = [
        f"{warning.category.__name__}: {warning.message}" for warning in caught
    ]
    return arrays, manifest


def _environment():
    environment = {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "scikit-learn": sklearn.__version__,
    }
    try:
        import numba

        environment["numba"] = numba.__version__
    except ImportError:
        environment["numba"] = None
    return environment


def _selected(names):
    if not names:
        return CONFIGURATIONS
    known = {configuration.name: configuration for configuration in CONFIGURATIONS}
    unknown = sorted(set(names) - set(known))
    if unknown:
        raise SystemExit(f"Unknown configuration(s): {', '.join(unknown)}")
    return [known[name] for name in names]


def _packed(arrays):
    """All arrays as one byte string, and where each one lies in it: an array
    equal to one packed before (the best epoch's weights, say) is stored
    once."""
    layout, chunks, offset, first_of = {}, [], 0, {}
    for key, array in arrays.items():
        array = np.ascontiguousarray(array)
        content = array.tobytes()
        where = (array.dtype.str, array.shape, content)
        if where not in first_of:
            first_of[where] = offset
            chunks.append(content)
            offset += len(content)
        layout[key] = [first_of[where], array.dtype.str, list(array.shape)]
    return layout, b"".join(chunks)


def _unpacked(layout, blob):
    arrays = {}
    for key, (offset, dtype, shape) in layout.items():
        dtype = np.dtype(dtype)
        count = int(np.prod(shape, dtype=np.int64))
        flat = np.frombuffer(blob, dtype=dtype, count=count, offset=offset)
        arrays[key] = flat.reshape(shape)
    return arrays


def write(directory, names):
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    arrays, manifests = {}, {}
    for configuration in _selected(names):
        start = time.perf_counter()
        recorded, manifest = record(configuration)
        manifests[configuration.name] = manifest
        for path, array in recorded.items():
            arrays[f"{configuration.name}/{path}"] = array
        seconds = time.perf_counter() - start
        print(f"{configuration.name}: {len(recorded)} arrays ({seconds:.2f} s)")
    layout, blob = _packed(arrays)
    header = {
        "environment": _environment(),
        "configurations": manifests,
        "layout": layout,
    }
    path = directory / GOLDEN_FILE
    np.savez_compressed(
        path,
        header=np.frombuffer(json.dumps(header).encode(), np.uint8),
        arrays=np.frombuffer(blob, np.uint8),
    )
    print(f"Wrote {path} ({path.stat().st_size / 1024:.0f} KiB)")


# ----------------------------------------------------------------------------
# Comparison
# ----------------------------------------------------------------------------
def _difference(actual, expected, tolerance):
    """None when the arrays agree (bitwise, or within ``tolerance``);
    otherwise a description of how they differ."""
    if actual.dtype != expected.dtype or actual.shape != expected.shape:
        return (
            f"{actual.dtype}{actual.shape} instead of {expected.dtype}{expected.shape}"
        )
    if actual.tobytes() == expected.tobytes():
        return None
    if not np.issubdtype(expected.dtype, np.number):
        return "differs"
    if np.issubdtype(expected.dtype, np.inexact):
        nan_actual, nan_expected = np.isnan(actual), np.isnan(expected)
        if not np.array_equal(nan_actual, nan_expected):
            return "NaN at other positions"
        finite = ~nan_expected
        gap = np.abs(actual[finite].astype(float) - expected[finite].astype(float))
    else:
        gap = np.abs(actual.astype(float) - expected.astype(float))
    largest = float(gap.max()) if gap.size else 0.0
    if tolerance > 0 and largest <= tolerance:
        return None
    return f"max abs difference {largest:.3g}"


def _scalar_gap(actual, expected):
    """The absolute difference of two floats recorded as 'type=hex', or None
    when they are not two floats of the same type."""
    if not (isinstance(actual, str) and isinstance(expected, str)):
        return None
    actual_type, _, actual_bits = actual.partition("=")
    expected_type, _, expected_bits = expected.partition("=")
    if actual_type != expected_type or not actual_bits.startswith(("0x", "-0x")):
        return None
    try:
        return abs(float.fromhex(actual_bits) - float.fromhex(expected_bits))
    except ValueError:
        return None


def compare(directory, names, tolerance):
    path = Path(directory) / GOLDEN_FILE
    with np.load(path, allow_pickle=False) as golden:
        header = json.loads(golden["header"].tobytes().decode())
        stored = _unpacked(header["layout"], golden["arrays"].tobytes())
    if header["environment"] != _environment():
        print(f"Note: written under {header['environment']}, now {_environment()}")
    failures = 0
    for configuration in _selected(names):
        expected_manifest = header["configurations"].get(configuration.name)
        if expected_manifest is None:
            print(f"{configuration.name}: not in {path}")
            failures += 1
            continue
        arrays, manifest = record(configuration)
        problems = []
        for key in sorted(set(manifest) | set(expected_manifest)):
            actual, expected = manifest.get(key), expected_manifest.get(key)
            if actual != expected:
                gap = _scalar_gap(actual, expected)
                if gap is None:
                    problems.append(f"  {key}: {actual!r} instead of {expected!r}")
                elif not (tolerance > 0 and gap <= tolerance):
                    problems.append(f"  {key}: max abs difference {gap:.3g}")
        prefix = configuration.name + "/"
        expected_arrays = {
            key[len(prefix) :]: array
            for key, array in stored.items()
            if key.startswith(prefix)
        }
        for key in sorted(set(arrays) | set(expected_arrays)):
            if key not in arrays or key not in expected_arrays:
                where = "stored only" if key in expected_arrays else "new"
                problems.append(f"  {key}: {where}")
                continue
            difference = _difference(
                np.asarray(arrays[key]), expected_arrays[key], tolerance
            )
            if difference is not None:
                problems.append(f"  {key}: {difference}")
        if problems:
            failures += 1
            print(f"{configuration.name}: DIFFERS")
            print("\n".join(problems))
        else:
            exact = sum(
                np.asarray(arrays[key]).tobytes() == expected_arrays[key].tobytes()
                for key in arrays
            )
            what = "bitwise identical" if exact == len(arrays) else "within tolerance"
            print(f"{configuration.name}: {what} ({len(arrays)} arrays)")
    total = len(_selected(names))
    print(f"{total - failures} of {total} configurations agree")
    return 1 if failures else 0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["write", "compare", "list"])
    parser.add_argument("directory", nargs="?", default="tools/golden")
    parser.add_argument(
        "--only", nargs="+", metavar="NAME", help="only these configurations"
    )
    parser.add_argument(
        "--tolerance",
        type=float,
        default=0.0,
        help="largest absolute difference accepted (default 0: bitwise)",
    )
    args = parser.parse_args(argv)
    if args.command == "list":
        for configuration in CONFIGURATIONS:
            print(configuration.name)
        return 0
    if args.command == "write":
        write(args.directory, args.only)
        return 0
    return compare(args.directory, args.only, args.tolerance)


if __name__ == "__main__":
    sys.exit(main())
