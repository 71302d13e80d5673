"""Prediction-mode passes: every row decided on its own, in chunks of rows.

Each function takes a :class:`~._network.Network` and the hidden layers'
:class:`~._sparsity.InferenceRules` (the fitted ones, or during a fit the
ones in force, for early stopping's validation score), and computes the
output layer's activations, one hidden layer's sparse codes, or which units
win. Rows go in chunks that bound the memory for any number of rows; the
kernel backend may run several chunks at once. :class:`RowsOf` gives some
rows of a matrix a chunk at a time, and :class:`WinnersRecord` lets the pass
that settles a 'dynamic' threshold at the end of a fit find which units win
on its rows, so that the winners' pass skips them.
"""

import numpy as np
import scipy.sparse as sp
from sklearn.utils.validation import validate_data

from ._winners import to_csr, won_any

# Prediction works on row chunks whose widest layer takes about this many
# bytes: large enough for BLAS to run at full speed, small enough to stay in
# cache-friendly sizes and keep memory bounded for any number of rows.
_PREDICT_CHUNK_BYTES = 4 * 2**20


class RowsOf:
    """The rows ``indices`` of ``X`` (an ndarray or a CSR matrix), gathered a
    chunk at a time when indexed: early stopping's training and validation
    rows, or the training rows a settling pass did not see, without a copy.

    Examples
    --------
    >>> import numpy as np
    >>> rows = RowsOf(np.arange(12.0).reshape(6, 2), np.array([4, 1, 3]))
    >>> rows.shape
    (3, 2)
    >>> rows[1:]
    array([[2., 3.],
           [6., 7.]])
    """

    def __init__(self, X, indices):
        self.X = X
        self.indices = indices

    @property
    def shape(self):
        return (self.indices.shape[0], self.X.shape[1])

    def __getitem__(self, rows):
        return self.X[self.indices[rows]]


def validated_rows(model, X):
    """X validated for prediction by ``model``, cheaply in the common case.

    A float ndarray of the fitted width, from a model fitted without feature
    names, needs no conversion: only its finiteness is checked. Everything
    else (and any non-finite value, for its error message) goes through
    scikit-learn's ``validate_data``.
    """
    if (
        type(X) is np.ndarray
        and X.ndim == 2
        and X.dtype in (np.float64, np.float32)
        and X.shape[1] == model.n_features_in_
        and X.shape[0] > 0
        and not hasattr(model, "feature_names_in_")
        and np.isfinite(X).all()
    ):
        return X
    return validate_data(model, X, accept_sparse=["csr", "csc"], reset=False)


def chunk_rows(network, n_samples, max_rows=None):
    """Rows per prediction chunk: memory stays bounded for any number of
    rows (and the chunks hold at most ``max_rows`` rows, if given)."""
    widest = max(coef.shape[1] for coef in network.coefs)
    row_bytes = widest * network.coefs[0].dtype.itemsize
    rows = min(max(n_samples, 1), max(1, _PREDICT_CHUNK_BYTES // row_bytes))
    return int(rows if max_rows is None else min(rows, max_rows))


def map_prediction_chunks(network, rules, n_samples, function, max_rows=None):
    """``function(rows)`` for chunks of rows covering ``n_samples`` rows, in
    order (at most ``max_rows`` rows each, if given); the backend may run
    several chunks at once."""
    return network.backend.map_row_chunks(
        function,
        n_samples,
        chunk_rows(network, n_samples, max_rows),
        lambda rows: network.work(rules.active_units, rows, False),
    )


def output_of(network, rules, X, max_rows=None):
    """The output layer's activations for the rows of X (an ndarray or a CSR
    matrix, or anything that gives them by slices), in chunks of at most
    ``max_rows`` rows if given."""

    def chunk_output(rows):
        hidden, _ = network.hidden_layers(X[rows], rules)
        return network.output(hidden)

    outputs = map_prediction_chunks(network, rules, X.shape[0], chunk_output, max_rows)
    # A single chunk (every call of up to 512 rows of width 1024) is
    # returned as it is, not copied into a preallocated array: 4 us of a
    # one-row prediction's 170 us, measured in random order with the copy.
    return outputs[0] if len(outputs) == 1 else np.concatenate(outputs)


def hidden_codes(network, rules, X, layer):
    """The outputs of hidden ``layer`` for the rows of X, as a CSR matrix."""

    def chunk_codes(rows):
        codes_of_rows, _ = network.hidden_layers(X[rows], rules, layer + 1)
        return to_csr(codes_of_rows)

    codes = map_prediction_chunks(network, rules, X.shape[0], chunk_codes)
    if not codes:
        width = network.coefs[layer].shape[1]
        return sp.csr_matrix((0, width), dtype=network.coefs[0].dtype)
    codes = sp.vstack(codes, format="csr")
    codes.eliminate_zeros()
    return codes


def winners_on(network, rules, X, max_rows=None):
    """Per hidden layer, which units win on some row of X; and whether every
    output on X is finite. Chunks hold at most ``max_rows`` rows, if given."""

    def chunk_winners(rows):
        hidden, layer_winners = network.hidden_layers(X[rows], rules)
        output = network.output(hidden)
        won = [won_any(winners) for winners in layer_winners]
        return won, bool(np.isfinite(output).all())

    winners = [np.zeros(coef.shape[1], dtype=bool) for coef in network.coefs[:-1]]
    finite = True
    for won, chunk_finite in map_prediction_chunks(
        network, rules, X.shape[0], chunk_winners, max_rows
    ):
        for layer_winners, layer_won in zip(winners, won, strict=True):
            layer_winners |= layer_won
        finite = finite and chunk_finite
    return winners, finite


def training_winners(network, rules, X, max_rows, record=None):
    """Which units win on the training data X (what ``compact()`` keeps);
    raises if an output on X is not finite. The pass goes over chunks of at
    most ``max_rows`` rows, so that it takes no more memory than a training
    step. With a :class:`WinnersRecord` of a pass over some of the rows, only
    the other rows are passed over, unless the record cannot vouch that its
    rows' outputs are finite."""
    widths = [coef.shape[1] for coef in network.coefs[:-1]]
    if network.out_activation != "exp" and rules.active_units == widths:
        # Every unit wins on every row, and only the exponential output can
        # overflow from finite weights: no pass over X is needed.
        return [np.ones(width, dtype=bool) for width in widths]
    if record is not None and record.outputs_finite(network):
        winners, finite = record.winners(rules), True
        unseen = np.ones(X.shape[0], dtype=bool)
        unseen[record.rows] = False
        unseen = np.flatnonzero(unseen)
        if unseen.size:
            unseen_winners, finite = winners_on(
                network, rules, RowsOf(X, unseen), max_rows
            )
            for layer_winners, unseen_won in zip(winners, unseen_winners, strict=True):
                layer_winners |= unseen_won
    else:
        winners, finite = winners_on(network, rules, X, max_rows)
    if not finite:
        raise ValueError(
            "Solver produced non-finite predictions on the training data. "
            "The input data may contain large values and need to be "
            "preprocessed."
        )
    return winners


class WinnersRecord:
    """Which units win on the rows of a pass that settles the last hidden
    layer's 'dynamic' threshold, before that threshold is known.

    The pass shows it, chunk by chunk (:meth:`take`, of a :meth:`summary`),
    the winners of the layers below the last one as their final rules pick
    them, and the last layer's pre-activations with the values its rule
    compares. That rule compares each value with one threshold, so a unit
    wins on some row iff its largest compared value wins: once the threshold
    is settled, :meth:`winners` gives what :func:`winners_on` finds on the
    same rows, without another pass over them. The largest magnitude of the
    pre-activations bounds every output (:meth:`outputs_finite`).

    Parameters
    ----------
    widths : list of int
        The hidden layers' widths.
    rows : ndarray of int
        The rows of the training data the pass goes over, in increasing order.
    """

    def __init__(self, widths, rows):
        self.rows = rows
        self.below = [np.zeros(width, dtype=bool) for width in widths[:-1]]
        self.largest = None
        self.magnitude = 0.0
        self.finite = True

    @staticmethod
    def summary(below_winners, values, compared):
        """What the record keeps of one chunk of rows, for :meth:`take`: the
        winners ``below_winners`` of the layers below the last reduced to the
        units that won, the last layer's pre-activations ``values`` to their
        extremes, and what its rule compares, ``compared``, to each unit's
        largest value. Reads only: chunks may be summarised in threads of
        their own."""
        return (
            [won_any(winners) for winners in below_winners],
            compared.max(axis=0),
            float(values.max()),
            float(values.min()),
        )

    def take(self, summary):
        """Take in one chunk's :meth:`summary` (a chunk taken twice changes
        nothing)."""
        won_below, largest, highest, lowest = summary
        for seen, won in zip(self.below, won_below, strict=True):
            seen |= won
        if self.largest is not None:
            largest = np.maximum(self.largest, largest)
        self.largest = largest
        self.finite = self.finite and np.isfinite(highest) and np.isfinite(lowest)
        self.magnitude = max(self.magnitude, highest, -lowest)

    def winners(self, rules):
        """Per hidden layer, which units won on some row seen: the last
        (sparse) layer's rule in ``rules`` applied to each unit's largest
        value."""
        largest = self.largest[np.newaxis, :]
        won_last = rules.rule(len(self.below), largest).mask(largest)[0]
        return [seen.copy() for seen in self.below] + [won_last]

    def outputs_finite(self, network):
        """Whether every output on the rows seen is finite, for sure (False
        when the bound cannot tell; the exponential output is not bounded).

        Every hidden activation is at most ``max(|value|, 1)`` in magnitude,
        so no output value exceeds that bound on the last layer's values
        times the largest sum of magnitudes of an output unit's weights, plus
        the largest bias. Half the dtype's largest value leaves room for the
        round-off of a sum of far fewer terms than the dtype's precision.
        """
        if not self.finite or network.out_activation == "exp":
            return False
        coef, intercept = network.coefs[-1], network.intercepts[-1]
        weight_sums = np.abs(coef).sum(axis=0, dtype=np.float64)
        with np.errstate(over="ignore"):
            bound = max(self.magnitude, 1.0) * weight_sums.max()
            bound += np.abs(intercept).max()
        return bool(bound < np.finfo(coef.dtype).max / 2)
