"""scikit-learn's callback API (scikit-learn >= 1.9): the task tree a fit
reports, scikit-learn's own callbacks on the estimators and inside
meta-estimators, a callback that stops training, and the estimators without
the callback API (scikit-learn < 1.9, simulated)."""

import re
import warnings

import numpy as np
import pytest
from sklearn.datasets import load_iris
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_sparse_act import SparseMLPClassifier, SparseMLPRegressor, _callbacks

callback = pytest.importorskip("sklearn.callback")

X, y = load_iris(return_X_y=True)
X = StandardScaler().fit_transform(X)


class RecordingCallback:
    """Records every hook call: (hook, task name, task id, depth), and at the
    end of each subtask the fitted estimator's weights; asks to stop at the
    end of subtask ``stop_at`` (counted from 0)."""

    def __init__(self, stop_at=None):
        self.stop_at = stop_at
        self.calls = []
        self.fitted_coefs = []

    def setup(self, estimator, context):
        self.calls.append(("setup", context.task_name, context.task_id, 0))

    def teardown(self, estimator, context):
        self.calls.append(("teardown", context.task_name, context.task_id, 0))

    def on_fit_task_begin(self, estimator, context, *, fitted_estimator=None):
        self.calls.append(
            ("begin", context.task_name, context.task_id, _depth(context))
        )

    def on_fit_task_end(self, estimator, context, *, fitted_estimator=None):
        depth = _depth(context)
        self.calls.append(("end", context.task_name, context.task_id, depth))
        if depth == 1 and fitted_estimator is not None:
            self.fitted_coefs.append([coef.copy() for coef in fitted_estimator.coefs_])
            fitted_estimator.predict(X[:3])  # ready to predict
        return depth == 1 and context.task_id == self.stop_at


def _depth(context):
    return 0 if context.parent is None else 1 + _depth(context.parent)


def _small(estimator_class=SparseMLPClassifier, **params):
    params = {"hidden_layer_sizes": (8,), "random_state": 0, **params}
    return estimator_class(**params)


@pytest.mark.parametrize("estimator_class", [SparseMLPClassifier, SparseMLPRegressor])
def test_fit_reports_each_epoch(estimator_class):
    recorder = RecordingCallback()
    target = y if estimator_class is SparseMLPClassifier else X[:, 0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = _small(estimator_class, max_iter=4).set_callbacks(recorder)
        model.fit(X, target)
    epochs = [
        call
        for n in range(4)
        for call in (("begin", "epoch", n, 1), ("end", "epoch", n, 1))
    ]
    assert recorder.calls == [
        ("setup", "fit", 0, 0),
        ("begin", "fit", 0, 0),
        *epochs,
        ("end", "fit", 0, 0),
        ("teardown", "fit", 0, 0),
    ]


def test_partial_fit_reports_its_epoch():
    recorder = RecordingCallback()
    model = _small(max_iter=4).set_callbacks(recorder)
    model.partial_fit(X, y, classes=np.unique(y))
    model.partial_fit(X, y)
    one_call = [
        ("setup", "fit", 0, 0),
        ("begin", "fit", 0, 0),
        ("begin", "epoch", 0, 1),
        ("end", "epoch", 0, 1),
        ("end", "fit", 0, 0),
        ("teardown", "fit", 0, 0),
    ]
    assert recorder.calls == one_call * 2


def test_lbfgs_reports_each_iteration():
    recorder = RecordingCallback()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = _small(solver="lbfgs", max_iter=3).set_callbacks(recorder).fit(X, y)
    subtasks = [call for call in recorder.calls if call[3] == 1]
    # One subtask per iteration, and the one that begins but never runs
    # (ended without a fitted estimator).
    n_subtasks = model.n_iter_ + 1
    assert subtasks == [
        call
        for n in range(n_subtasks)
        for call in (("begin", "iteration", n, 1), ("end", "iteration", n, 1))
    ]
    assert len(recorder.fitted_coefs) == model.n_iter_


def test_stopping_callback_keeps_the_best_epoch():
    # SGD with a large step: the third epoch's loss jumps above the second's
    # (1.24 then 1.93 on these data), so the best epoch is not the last.
    recorder = RecordingCallback(stop_at=2)
    model = _small(solver="sgd", learning_rate_init=2.0, max_iter=20)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        model.set_callbacks(recorder).fit(X, y)
    assert model.n_iter_ == 3
    assert model.loss_curve_[2] > model.loss_curve_[1]
    assert model.loss_ == model.loss_curve_[1]
    for coef, best in zip(model.coefs_, recorder.fitted_coefs[1], strict=True):
        np.testing.assert_array_equal(coef, best)
    assert model.predict(X).shape == y.shape


def test_stopping_callback_ends_lbfgs():
    recorder = RecordingCallback(stop_at=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        model = _small(solver="lbfgs", max_iter=50).set_callbacks(recorder).fit(X, y)
    assert model.n_iter_ == 2
    for coef, last in zip(model.coefs_, recorder.fitted_coefs[-1], strict=True):
        np.testing.assert_array_equal(coef, last)
    assert model.score(X, y) > 0.5


def test_scoring_monitor_logs_one_row_per_epoch():
    monitor = callback.ScoringMonitor(scoring="accuracy")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = _small(max_iter=5).set_callbacks(monitor).fit(X, y)
    rows = [row for row in monitor.get_logs().data if row["task_name"] == "epoch"]
    assert [row["task_id"] for row in rows] == list(range(model.n_iter_))
    # With 'fixed' winners the last epoch's model is the fitted model.
    assert rows[-1]["accuracy"] == model.score(X, y)


def test_progress_bars_nest_inside_grid_search_and_pipeline(capsys):
    pytest.importorskip("rich")
    search = GridSearchCV(
        make_pipeline(StandardScaler(), _small(max_iter=2)),
        {"sparsemlpclassifier__alpha": [1e-4, 1e-3]},
        cv=2,
        n_jobs=1,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        search.set_callbacks(callback.ProgressBar(max_propagation_depth=None))
        search.fit(X, y)
    out = capsys.readouterr().out
    assert re.search(r"GridSearchCV - fit", out)
    assert re.search(r"\| Pipeline - fit", out)
    assert re.search(r"fit-final-estimator \| SparseMLPClassifier - fit", out)
    assert "100%" in out


def test_without_the_callback_api(monkeypatch):
    # scikit-learn < 1.9: the guarded import found no callback API.
    monkeypatch.setattr(_callbacks, "CallbackSupportMixin", None)
    model = _small(max_iter=3)
    with pytest.raises(ImportError, match="scikit-learn 1.9"):
        model.set_callbacks(RecordingCallback())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        search = GridSearchCV(model, {"alpha": [1e-4, 1e-3]}, cv=2).fit(X, y)
        model.partial_fit(X, y, classes=np.unique(y))
    assert search.predict(X).shape == y.shape


class FailingCallback(RecordingCallback):
    """Raises when the second epoch begins."""

    def on_fit_task_begin(self, estimator, context, *, fitted_estimator=None):
        super().on_fit_task_begin(estimator, context)
        if context.task_name == "epoch" and context.task_id == 1:
            raise RuntimeError("callback failed")


def test_a_failed_first_fit_still_tears_the_callbacks_down():
    # A first fit that raises removes what it set on the estimator, but not
    # the callback state that scikit-learn's teardown needs (a ProgressBar's
    # display thread would otherwise never end).
    recorder = FailingCallback()
    model = _small(max_iter=4).set_callbacks(recorder)
    with pytest.raises(RuntimeError, match="callback failed"):
        model.fit(X, y)
    assert recorder.calls[-1] == ("teardown", "fit", 0, 0)
    assert not hasattr(model, "coefs_")
    assert not hasattr(model, "_callback_fit_ctx")


def test_a_failed_continued_fit_keeps_the_callbacks_it_was_given():
    # A warm-started fit that raises is rolled back to the previous fit's
    # model; the callbacks are a setting, not fitted state: the same objects
    # stay set (not copies taken before the fit), and they were torn down.
    model = _small(max_iter=3, warm_start=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
    coefs_before = [coef.copy() for coef in model.coefs_]
    recorder = FailingCallback()
    model.set_callbacks(recorder)
    with pytest.raises(RuntimeError, match="callback failed"):
        model.fit(X, y)
    assert model._skl_callbacks[0] is recorder
    assert recorder.calls[-1] == ("teardown", "fit", 0, 0)
    assert not hasattr(model, "_callback_fit_ctx")
    for before, after in zip(coefs_before, model.coefs_, strict=True):
        np.testing.assert_array_equal(before, after)
