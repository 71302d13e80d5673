"""The sparse codes of a fitted model: what its hidden layers output (also
as a transformer's features), and a copy without the units that never win.

:class:`SparseCodesMixin` adds these public methods to the estimators. It
needs from the estimator its prediction-mode network and rules
(``_network``, ``_inference_rules``), ``_check_is_fitted`` and the
``transform_layer`` parameter; the passes themselves are
:mod:`._prediction`'s.
"""

import copy
from numbers import Integral

import numpy as np
from sklearn.base import ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils.validation import validate_data

from ._backends import get_backend
from ._network import as_row_sliceable
from ._prediction import hidden_codes, winners_on


def hidden_layer_index(layer, n_hidden, name="layer"):
    """The hidden layer ``layer`` (negative counts from the last) as an
    index from 0; raises a ValueError naming ``name`` when there is none."""
    if not isinstance(layer, Integral) or not -n_hidden <= layer < n_hidden:
        raise ValueError(
            f"{name} must be an integer in [{-n_hidden}, {n_hidden - 1}] for a "
            f"model with {n_hidden} hidden layer(s); got {layer!r}."
        )
    return int(layer) % n_hidden


class SparseCodesMixin(ClassNamePrefixFeaturesOutMixin, TransformerMixin):
    """Hidden codes and compaction for a fitted sparse MLP, and the code of
    ``transform_layer`` as a transformer's output."""

    def transform(self, X):
        """Sparse code of each row at hidden layer ``transform_layer``.

        The estimator is then also a transformer: as a step of a
        :class:`~sklearn.pipeline.Pipeline` before another estimator (or in a
        :class:`~sklearn.pipeline.FeatureUnion`), ``fit_transform`` trains it
        on the targets and passes on its code, so the features are learned
        under supervision and refitted in every fold of a cross-validation.
        This is :meth:`hidden_activations` at ``layer=transform_layer``.

        The code is a sparse matrix, which pandas and polars output
        (``set_output``) do not take: as for scikit-learn's own sparse
        transformers, ``set_output(transform="pandas")`` makes ``transform``
        raise a ValueError.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        codes : scipy.sparse.csr_matrix of shape (n_samples, layer_width)
            The layer's outputs, named by :meth:`get_feature_names_out`.

        Examples
        --------
        >>> from sklearn.datasets import load_iris
        >>> from sklearn.linear_model import LogisticRegression
        >>> from sklearn.model_selection import cross_val_score
        >>> from sklearn.pipeline import make_pipeline
        >>> from sklearn_sparse_act import SparseMLPClassifier
        >>> X, y = load_iris(return_X_y=True)
        >>> features = SparseMLPClassifier(hidden_layer_sizes=(64,),
        ...                                activation_ratio=0.25, solver="lbfgs",
        ...                                random_state=0)
        >>> codes = features.fit(X, y).transform(X)
        >>> codes.shape, int(codes.getnnz(axis=1).max())
        ((150, 64), 16)
        >>> features.get_feature_names_out()[:3]
        array(['sparsemlpclassifier0', 'sparsemlpclassifier1',
               'sparsemlpclassifier2'], dtype=object)
        >>> model = make_pipeline(features, LogisticRegression())
        >>> bool(cross_val_score(model, X, y, cv=3).mean() > 0.9)
        True
        """
        self._check_is_fitted()
        hidden_layer_index(self.transform_layer, self.n_layers_ - 2, "transform_layer")
        return self.hidden_activations(X, layer=self.transform_layer)

    @property
    def _n_features_out(self):
        """Width of the hidden layer ``transform`` returns."""
        layer = hidden_layer_index(
            self.transform_layer, self.n_layers_ - 2, "transform_layer"
        )
        return self.coefs_[layer].shape[1]

    def hidden_activations(self, X, layer=-1):
        """Sparse code of each row at a hidden layer.

        This is exactly what :meth:`predict` computes internally: for every
        hidden layer up to ``layer``, ``z = a @ W + b``, the prediction-time
        winners keep ``activation(z)`` and every other unit outputs 0.

        The code can feed another estimator: :meth:`transform` returns the
        code of the layer ``transform_layer``, so the estimator can be a
        pipeline step that learns its features from the targets, refitted
        with the pipeline.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.

        layer : int, default=-1
            Index of the hidden layer, counted from 0 (negative values count
            from the last hidden layer).

        Returns
        -------
        codes : scipy.sparse.csr_matrix of shape (n_samples, layer_width)
            The layer's outputs; at most ``inference_active_units_[layer]``
            non-zeros per row with 'fixed'.
        """
        self._check_is_fitted()
        layer = hidden_layer_index(layer, self.n_layers_ - 2)
        X = as_row_sliceable(
            validate_data(self, X, accept_sparse=["csr", "csc"], reset=False)
        )
        return hidden_codes(
            self._network(get_backend()), self._inference_rules(), X, layer
        )

    def compact(self, X=None):
        """A copy of the fitted model without the hidden units that never win.

        Units that never won at prediction time on the training data (or on
        ``X``) are removed and the weights sliced; a unit that won on a single
        row is kept. The copy picks the same winners as this model, and so
        makes the same predictions with smaller ``coefs_``, on every row on
        which only kept units win: every row of the data judged by, and any
        other row whose winners all won somewhere in it. On a row where a
        removed unit would have won, the copy applies the same rule to the
        units left: with 'fixed' another unit takes its place, with 'dynamic'
        the unit is simply missing, so predictions there can differ.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features), \
                default=None
            The data on which winning is judged: the training data, or other
            data such as a held-out set or the rows the model will serve. By
            default, the winners the last call to :meth:`fit` recorded on its
            training data; required after :meth:`partial_fit`.

        Returns
        -------
        compacted : estimator
            A fitted copy with ``hidden_layer_sizes`` and ``activation_ratio``
            set to the new widths and the same number of winners per layer,
            and a ``removed_units_`` attribute (units removed per hidden
            layer). Training statistics (``loss_curve_``, ``active_fraction_``,
            ``dead_units_``) still describe the original training run; the
            optimizer state is dropped, so further training starts afresh.
        """
        self._check_is_fitted()
        if X is None:
            winners = getattr(self, "_training_winners", None)
            if winners is None:
                raise ValueError(
                    "compact() needs the winners recorded by fit, but this model "
                    "was last trained with partial_fit; pass the data to judge "
                    "by: compact(X)."
                )
        else:
            X = as_row_sliceable(
                validate_data(self, X, accept_sparse=["csr", "csc"], reset=False)
            )
            winners, _ = self._winners_on(X)
        kept = [np.flatnonzero(won) for won in winners]

        held_sparse = self._held_sparse()
        compacted = copy.deepcopy(self).densify_weights()
        for layer, units in enumerate(kept):
            compacted.coefs_[layer] = np.ascontiguousarray(
                compacted.coefs_[layer][:, units]
            )
            compacted.intercepts_[layer] = compacted.intercepts_[layer][units]
            compacted.coefs_[layer + 1] = compacted.coefs_[layer + 1][units, :]
            compacted.duty_cycles_[layer] = compacted.duty_cycles_[layer][units]
            _slice_boost_factors(
                getattr(compacted, "boost_factors_", None), layer, units
            )
            _slice_connections(compacted.connection_masks_, layer, units)
        widths = [units.size for units in kept]
        compacted.removed_units_ = [
            won.size - width for won, width in zip(winners, widths, strict=True)
        ]
        compacted.hidden_layer_sizes = tuple(widths)
        compacted.activation_ratio = [
            k / width for k, width in zip(self.active_units_, widths, strict=True)
        ]
        compacted.activation_ratios_ = list(compacted.activation_ratio)
        compacted._training_winners = [np.ones(width, dtype=bool) for width in widths]
        compacted._best_coefs = [coef.copy() for coef in compacted.coefs_]
        compacted._best_intercepts = [b.copy() for b in compacted.intercepts_]
        compacted._optimizer_state = None
        return compacted.sparsify_weights() if held_sparse else compacted

    def _winners_on(self, X):
        """Per hidden layer, which units win at prediction on some row of X;
        and whether every prediction on X is finite."""
        return winners_on(self._network(get_backend()), self._inference_rules(), X)


def _slice_boost_factors(boost_factors, layer, units):
    """Keep only ``units`` of hidden ``layer``'s boost factors, in place."""
    if boost_factors is not None and boost_factors[layer] is not None:
        boost_factors[layer] = boost_factors[layer][units]


def _slice_connections(masks, layer, units):
    """Keep only ``units`` of hidden ``layer`` in the connection masks: its
    own mask's columns, and the rows of the next hidden layer's, in place."""
    if masks[layer] is not None:
        masks[layer] = np.ascontiguousarray(masks[layer][:, units])
    if layer + 1 < len(masks) and masks[layer + 1] is not None:
        masks[layer + 1] = masks[layer + 1][units, :]
