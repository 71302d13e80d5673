"""The passes at the end of a fit that settle the 'dynamic' thresholds on the
training data: the threshold each sparse layer's quota gives on the training
rows (:func:`settling_quota`), and the thresholds lowered for
``inference_ratio_factor`` (:func:`calibrated_thresholds`).

Each pass computes a layer's compared values (its pre-activations, times its
boost factors) chunk by chunk, the layers below it applying the rules
settled so far, and finds the quota with :mod:`._batch_quota`'s streamed
search, so that no pass holds more than a chunk of rows. It needs a
:class:`~._network.Network`, the hidden layers'
:class:`~._sparsity.InferenceRules`, and optionally a
:class:`~._prediction.WinnersRecord` to show the last layer's chunks to.
"""

import numpy as np

from ._backends.interface import row_chunks
from ._batch_quota import QuotaSearch, streamed_quota


def settling_quota(network, rules, layer, X, rows, weights, n_rows, record=None):
    """:func:`~._sparsity.batch_threshold` of what hidden ``layer``'s rule
    compares (its pre-activations, times its boost factors in ``rules``) on
    the rows ``rows`` of X (with their ``weights``), the layers below it
    applying ``rules``, computed in chunks of ``n_rows`` rows
    (:func:`._batch_quota.streamed_quota`; a window guessed from rows spread
    over all of them usually saves its second pass). A
    :class:`~._prediction.WinnersRecord` ``record``, if given, is shown every
    chunk (a chunk seen twice changes nothing)."""
    n_active = rules.active_units[layer]

    def layer_values(row_indices):
        return _compared_values(network, rules, layer, X[row_indices], record)

    chunks = row_chunks(rows.size, n_rows)
    if len(chunks) == 1:
        return network.backend.batch_threshold(layer_values(rows), n_active, weights)

    def layer_chunks():
        for chunk in chunks:
            yield layer_values(rows[chunk]), None if weights is None else weights[chunk]

    spread = rows[:: rows.size // n_rows][:n_rows]
    sample = layer_values(spread)
    width = sample.shape[1]
    quota = n_active * (rows.size if weights is None else weights.sum())
    # The guessed window holds about a fifth of the kept fraction of all
    # entries: its budget is half as much again, or two chunks' entries.
    budget = max(2 * sample.size, int(0.3 * n_active * rows.size))
    guess = (sample, n_active / width, budget)
    return streamed_quota(
        network.backend,
        layer_chunks,
        quota,
        sample.dtype,
        weights is not None,
        guess=guess,
    )


def _compared_values(network, rules, layer, inputs, record=None):
    """What hidden ``layer``'s rule compares for the network inputs
    ``inputs``, the layers below it applying ``rules``; shown to ``record``
    (a :class:`~._prediction.WinnersRecord`) if given."""
    below = []
    if layer:
        inputs, below = network.hidden_layers(inputs, rules, layer)
    values = network.pre_activations(layer, inputs)
    scores = rules.scores(layer, values)
    compared = values if scores is None else scores
    if record is not None:
        record.see(below, values, compared)
    return compared


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
    chunks = row_chunks(X.shape[0], n_rows)
    for layer, threshold in enumerate(thresholds):
        if not np.isfinite(threshold):
            continue

        def layer_chunks(layer=layer):
            for chunk in chunks:
                yield _compared_values(network, rules, layer, X[chunk]), None

        search = QuotaSearch(
            network.backend, 0, network.coefs[0].dtype, False, ties=False
        )
        n_firing = 0
        for values, _ in layer_chunks():
            n_firing += np.count_nonzero(values > threshold)
            search.count(values)
        n_values = X.shape[0] * network.coefs[layer].shape[1]
        search.quota = int(np.floor(n_firing * factor + 0.5))
        if search.quota >= n_values:
            inference_thresholds[layer] = -np.inf
        elif search.quota > 0:
            smallest_kept, largest_dropped = search.gather_window(layer_chunks)
            inference_thresholds[layer] = (smallest_kept + largest_dropped) / 2
    return inference_thresholds
