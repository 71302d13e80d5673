"""The estimators as transformers: ``transform`` returns a hidden layer's
sparse code, named by ``get_feature_names_out``, so that a pipeline learns
supervised sparse features inside cross-validation."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import load_iris
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_score, cross_validate
from sklearn.pipeline import FeatureUnion, make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_sparse_act import SparseMLPClassifier, SparseMLPRegressor

X, y = load_iris(return_X_y=True)
X = StandardScaler().fit_transform(X)


@pytest.fixture(autouse=True)
def _short_fits():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


def _two_layers(estimator_class=SparseMLPClassifier, **params):
    return estimator_class(
        hidden_layer_sizes=(12, 8),
        activation_ratio=0.25,
        max_iter=20,
        random_state=0,
        **params,
    )


@pytest.mark.parametrize("transform_layer, width", [(-1, 8), (1, 8), (0, 12), (-2, 12)])
def test_transform_is_the_code_of_transform_layer(transform_layer, width):
    model = _two_layers(transform_layer=transform_layer)
    codes = model.fit_transform(X, y)
    assert sp.issparse(codes) and codes.format == "csr"
    assert codes.shape == (X.shape[0], width)
    expected = model.hidden_activations(X, layer=transform_layer)
    np.testing.assert_array_equal(codes.toarray(), expected.toarray())
    # fit_transform fits, then transforms the same rows.
    np.testing.assert_array_equal(model.transform(X).toarray(), codes.toarray())
    assert codes.getnnz(axis=1).max() <= model.inference_active_units_[transform_layer]


@pytest.mark.parametrize(
    "estimator_class, target",
    [(SparseMLPClassifier, y), (SparseMLPRegressor, X[:, 0])],
)
def test_feature_names_follow_scikit_learns_convention(estimator_class, target):
    model = _two_layers(estimator_class, transform_layer=0).fit(X, target)
    prefix = estimator_class.__name__.lower()
    names = model.get_feature_names_out()
    assert names.dtype == object
    assert list(names) == [f"{prefix}{unit}" for unit in range(12)]


def test_pipeline_refits_the_code_in_every_fold():
    pipeline = make_pipeline(_two_layers(), LogisticRegression())
    scores = cross_val_score(pipeline, X, y, cv=3)
    assert scores.shape == (3,) and np.all(scores > 0.5)

    folds = cross_validate(pipeline, X, y, cv=3, return_estimator=True)
    codes = [fold.steps[0][1] for fold in folds["estimator"]]
    whole = _two_layers().fit(X, y)
    for first, second in [(0, 1), (0, 2), (1, 2)]:
        assert not np.array_equal(codes[first].coefs_[0], codes[second].coefs_[0])
    for code in codes:
        assert not np.array_equal(code.coefs_[0], whole.coefs_[0])
        # Each fold's code was trained on the fold's 100 training rows.
        assert code.t_ == 100 * code.n_iter_


def test_feature_union_concatenates_the_code():
    union = FeatureUnion([("code", _two_layers()), ("pca", PCA(n_components=2))])
    features = union.fit_transform(X, y)
    assert features.shape == (X.shape[0], 8 + 2)
    names = union.get_feature_names_out()
    assert list(names[:2]) == [
        "code__sparsemlpclassifier0",
        "code__sparsemlpclassifier1",
    ]
    assert list(names[-2:]) == ["pca__pca0", "pca__pca1"]


def test_pandas_output_refuses_the_sparse_code():
    model = _two_layers().fit(X, y)
    model.set_output(transform="pandas")
    with pytest.raises(ValueError, match="sparse"):
        model.transform(X)
    # Prediction is not a transform: its output is unaffected.
    assert model.predict(X).shape == y.shape


def test_bad_transform_layer_is_refused_before_training():
    with pytest.raises(ValueError, match=r"transform_layer must be .* \[-2, 1\]"):
        _two_layers(transform_layer=2).fit(X, y)
    with pytest.raises(NotFittedError):
        _two_layers().transform(X)
