"""The models and data the speed benchmark compares.

A :class:`Method` is scikit-learn's MLP or one of ours (strategy, activation
ratio, kernel backend); :func:`methods_for` lists a run's; :func:`make_data`
draws the synthetic data both libraries train on.
"""

from dataclasses import dataclass

from sklearn.datasets import make_classification
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler

from benchmarks.harness.fitting import fit_quietly
from benchmarks.speed.settings import N_CLASSES, N_FEATURES
from sklearn_sparse_act import SparseMLPClassifier, config_context


@dataclass(frozen=True)
class Method:
    """One model: scikit-learn's MLP, or ours at a ratio on a kernel backend."""

    strategy: str
    ratio: float
    kernels: str | None = None

    @property
    def is_baseline(self):
        return self.strategy == "sklearn"

    @property
    def label(self):
        if self.is_baseline:
            return "sklearn MLP"
        return f"ours {self.kernels} {self.strategy} {self.ratio:g}"

    def build(self, hidden, epochs, batch_size, seed):
        """The unfitted model: exactly ``epochs`` epochs of Adam (``tol=0`` and
        a patience longer than the run), the given batch size and seed."""
        shared = dict(
            hidden_layer_sizes=hidden,
            max_iter=epochs,
            tol=0.0,
            n_iter_no_change=epochs + 1,
            batch_size=batch_size,
            random_state=seed,
        )
        if self.is_baseline:
            return MLPClassifier(**shared)
        return SparseMLPClassifier(
            activation_ratio=self.ratio, sparsity_strategy=self.strategy, **shared
        )

    def context(self):
        """The package settings this model runs under (its kernel backend)."""
        return config_context(kernels=self.kernels)


def methods_for(settings):
    """scikit-learn's MLP first, then ours per backend at every ratio and strategy."""
    methods = [Method("sklearn", 1.0)]
    for kernels in settings.kernels or ("numpy",):
        for ratio in settings.ratios:
            if ratio == 1.0:
                methods.append(Method("fixed", 1.0, kernels))
                continue
            methods.extend(
                Method(strategy, ratio, kernels) for strategy in settings.strategies
            )
        dynamic_ratio = settings.dynamic_ratio
        if dynamic_ratio is not None and dynamic_ratio < 1.0:
            methods.append(Method("dynamic", dynamic_ratio, kernels))
    return list(dict.fromkeys(methods))


def make_data(n_train, n_test, seed):
    """Standardised 10-class synthetic data: a training pool and held-out rows."""
    X, y = make_classification(
        n_samples=n_train + n_test,
        n_features=N_FEATURES,
        n_informative=40,
        n_redundant=8,
        n_classes=N_CLASSES,
        n_clusters_per_class=2,
        class_sep=1.5,
        random_state=seed,
    )
    scaler = StandardScaler().fit(X[:n_train])
    X = scaler.transform(X)
    return X[:n_train], y[:n_train], X[n_train:], y[n_train:]


def warm_up(method, data, settings, hidden):
    """An untimed small fit and predictions, so numba compiles its kernels
    (or loads them from its cache) before anything is measured."""
    X_train, y_train, X_test, _ = data
    n_rows = min(X_train.shape[0], 2 * settings.batch_size)
    with method.context():
        model = method.build(hidden, 1, settings.batch_size, settings.seed)
        fit_quietly(model, X_train[:n_rows], y_train[:n_rows])
        model.predict(X_test[:n_rows])
        model.predict_proba(X_test[:1])
        model.predict(X_test[:1])
