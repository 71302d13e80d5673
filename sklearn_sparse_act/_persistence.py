"""Version stamps for persisted estimators.

Pickle, joblib and skops all save an estimator through ``__getstate__`` and
restore it through ``__setstate__``. :class:`VersionStampMixin` adds the
version of this package to the saved state and, when the state is restored
under another version, warns with :class:`SparseActVersionWarning`, as
scikit-learn does for its own estimators with ``InconsistentVersionWarning``.
"""

import warnings

# Key of the package version in a persisted estimator's state.
VERSION_KEY = "_sklearn_sparse_act_version"

# Recorded as the original version of a state saved without a stamp.
UNSTAMPED_VERSION = "unknown (saved without a version stamp)"


def _package_version():
    # Imported here: the package's ``__init__`` imports the estimators, which
    # import this module.
    from . import __version__

    return __version__


class SparseActVersionWarning(UserWarning):
    """Warning raised when an estimator is unpickled under another version.

    Parameters
    ----------
    estimator_name : str
        Class name of the restored estimator.
    current_version : str
        Version of sklearn-sparse-act that restores the estimator.
    original_version : str
        Version of sklearn-sparse-act that saved it.

    Examples
    --------
    >>> from sklearn_sparse_act import SparseActVersionWarning
    >>> print(SparseActVersionWarning("SparseMLPClassifier", "0.2.0", "0.1.0"))
    Trying to unpickle estimator SparseMLPClassifier from sklearn-sparse-act
    version 0.1.0 when using version 0.2.0. ...
    """

    def __init__(self, estimator_name, current_version, original_version):
        # Passed on so that the warning itself pickles (``args`` rebuild it).
        super().__init__(estimator_name, current_version, original_version)
        self.estimator_name = estimator_name
        self.current_version = current_version
        self.original_version = original_version

    def __str__(self):
        return (
            f"Trying to unpickle estimator {self.estimator_name} from "
            f"sklearn-sparse-act version {self.original_version} when using "
            f"version {self.current_version}. This might lead to breaking code "
            "or invalid results. Use at your own risk, or refit the model "
            "with the current version."
        )


class VersionStampMixin:
    """Stamp the package version on an estimator's persisted state.

    Put it before :class:`~sklearn.base.BaseEstimator` among the bases: it
    chains to scikit-learn's own ``__getstate__`` and ``__setstate__``.
    """

    def __getstate__(self):
        state = super().__getstate__()
        return {**state, VERSION_KEY: _package_version()}

    def __setstate__(self, state):
        state = dict(state)
        original_version = state.pop(VERSION_KEY, UNSTAMPED_VERSION)
        current_version = _package_version()
        if original_version != current_version:
            warnings.warn(
                SparseActVersionWarning(
                    type(self).__name__, current_version, original_version
                ),
                stacklevel=2,
            )
        super().__setstate__(state)
