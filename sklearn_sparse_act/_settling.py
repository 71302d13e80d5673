"""The passes at the end of a fit that settle the 'dynamic' thresholds on the
training data: the threshold each sparse layer's quota gives on the training
rows (:func:`settling_quota`), and the thresholds lowered for
``inference_ratio_factor`` (:func:`calibrated_thresholds`).

Each pass computes a layer's compared values (its pre-activations, times its
boost factors) chunk by chunk, the layers below it applying the rules
settled so far, and finds the quota with :mod:`._batch_quota`'s streamed
search, so that no pass holds more than a chunk of rows. The chunks run as
prediction's do (several at once, in lanes, where the backend runs them so). It needs a
:class:`~._network.Network`, the hidden layers'
:class:`~._sparsity.InferenceRules`, and optionally a
:class:`~._prediction.WinnersRecord` to take in the last layer's chunks.
"""

import numpy as np

from ._batch_quota import QuotaSearch
from ._prediction import WinnersRecord


def settling_quota(network, rules, layer, X, rows, weights, n_rows, record=None):
    """:func:`~._sparsity.batch_threshold` of what hidden ``layer``'s rule
    compares (its pre-activations, times its boost factors in ``rules``) on
    the rows ``rows`` of X (with their ``weights``), the layers below it
    applying ``rules``, computed in chunks of at most ``n_rows`` rows
    (:meth:`._batch_quota.QuotaSearch.run`; a window guessed from rows
    spread over all of them usually saves its second pass). A
    :class:`~._prediction.WinnersRecord` ``record``, if given, takes in every
    chunk (a chunk taken twice changes nothing)."""
    n_active = rules.active_units[layer]
    if rows.size <= n_rows:
        values, summary = _compared_values(
            network, rules, layer, X[rows], record is not None
        )
        if summary is not None:
            record.take(summary)
        return network.backend.batch_threshold(values, n_active, weights)

    def layer_chunks(reduce):
        def reduced(chunk):
            values, summary = _compared_values(
                network, rules, layer, X[rows[chunk]], record is not None
            )
            return reduce(values, None if weights is None else weights[chunk]), summary

        for found_in_chunk, summary in _streamed(
            network, rules, reduced, rows.size, n_rows
        ):
            if summary is not None:
                record.take(summary)
            yield found_in_chunk

    quota = n_active * (rows.size if weights is None else weights.sum())
    dtype = network.coefs[0].dtype
    search = QuotaSearch(network.backend, quota, dtype, weights is not None)
    spread = rows[:: rows.size // n_rows][:n_rows]
    sample, _ = _compared_values(network, rules, layer, X[spread])
    # The guessed window holds about a fifth of the kept fraction of all
    # entries: its budget is half as much again, or two chunks' entries.
    budget = max(2 * sample.size, int(0.3 * n_active * rows.size))
    search.guess_window(sample, n_active / sample.shape[1], budget)
    # The window is set: the sample's rows are not held through the passes.
    del sample
    return search.run(layer_chunks, guessed=True)


def _streamed(network, rules, function, n_rows, chunk_rows):
    """``function(rows)`` for chunks of ``range(n_rows)`` of at most
    ``chunk_rows`` rows, in order, as prediction runs its chunks (several at
    once, where the backend does), held no longer than the caller takes."""
    return network.backend.stream_row_chunks(
        function,
        n_rows,
        chunk_rows,
        lambda rows: network.work(rules.active_units, rows, False),
    )


def _compared_values(network, rules, layer, inputs, summarised=False):
    """What hidden ``layer``'s rule compares for the network inputs
    ``inputs``, the layers below it applying ``rules``; and, if
    ``summarised``, the chunk's :meth:`~._prediction.WinnersRecord.summary`
    (else None)."""
    below = []
    if layer:
        inputs, below = network.hidden_layers(inputs, rules, layer)
    values = network.pre_activations(layer, inputs)
    scores = rules.scores(layer, values)
    compared = values if scores is None else scores
    if not summarised:
        return compared, None
    return compared, WinnersRecord.summary(below, values, compared)


def calibrated_thresholds(network, X, rules, factor, n_rows):
    """The trained 'dynamic' thresholds of ``rules`` lowered, layer by
    layer, so that ``factor`` times as many of the values each rule compares
    on X (pre-activations, times the boost factors of ``rules``) exceed them
    as exceed the trained ones (halfway between the last of them and the
    next value below), in two passes over chunks of ``n_rows`` rows of X.

    Each layer is fed by the lowered rules of the layers before it, as
    prediction feeds it. Returns a new array of thresholds.
    """
    thresholds = rules.thresholds
    inference_thresholds = thresholds.copy()
    rules = rules._replace(thresholds=inference_thresholds)
    for layer, threshold in enumerate(thresholds):
        if not np.isfinite(threshold):
            continue

        def layer_chunks(reduce, layer=layer):
            def reduced(chunk):
                values, _ = _compared_values(network, rules, layer, X[chunk])
                return reduce(values, None)

            return _streamed(network, rules, reduced, X.shape[0], n_rows)

        def firing_and_values(values, row_weights, threshold=threshold):
            return np.count_nonzero(values > threshold), values

        search = QuotaSearch(
            network.backend, 0, network.coefs[0].dtype, False, ties=False
        )
        n_firing = 0
        for chunk_firing, values in layer_chunks(firing_and_values):
            n_firing += chunk_firing
            search.count(values)
        n_values = X.shape[0] * network.coefs[layer].shape[1]
        search.quota = int(np.floor(n_firing * factor + 0.5))
        if search.quota >= n_values:
            inference_thresholds[layer] = -np.inf
        elif search.quota > 0:
            smallest_kept, largest_dropped = search.gather_window(layer_chunks)
            inference_thresholds[layer] = (smallest_kept + largest_dropped) / 2
    return inference_thresholds
