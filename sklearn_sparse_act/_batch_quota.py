"""The batch quota of 'dynamic' selection, found in passes over chunks.

:func:`~._sparsity.batch_threshold` takes a batch's pre-activations whole and
partitions them. :class:`QuotaSearch` finds the same two values (the quota's
smallest kept value and the largest value below it) from passes over the
values in chunks, none of which needs to be kept: what a pass keeps is a
histogram and the entries inside a narrow window of values around the
quota's edge. So the end of a fit settles a threshold on many rows in the
memory of a few, and a compiled backend selects a training batch's quota
without a partition of the whole batch.

Two ways to find the window:

- *exact*: a first pass counts the entries per bucket of their order-preserving
  bit pattern (65,536 buckets: a sixteenth of a power of two per bucket);
  the window is the buckets around the one where the quota ends;
- *guessed*: the caller passes a window (a quantile range of a sample of the
  rows, say); a pass over the rows checks that the quota ends inside it
  and, if not, the exact search runs.

Either way a pass gathers the window's entries, and the result follows from
them; the passes run on the backend's ``quota_histogram`` and
``quota_window`` (:mod:`._backends`), or ``quota_window_rows`` for a
training batch without sample weights (:func:`select_quota`), which also
collects each row's candidates (its entries at or above the window). With
sample weights the sums of weights are taken in another order than the
partition's cumulative sum: the quota's edge is the same unless a
cumulative weight equals the quota to the last bit (as it can only with
integer weights, which are summed exactly). The passes at the end of a fit
that use this search are in :mod:`._settling`.
"""

from math import gcd

import numpy as np

from ._backends.interface import WINDOW_BLOCK_ROWS
from ._sparsity import tolerance_at

# Buckets of the histogram: the top 16 bits of the order-preserving bit
# pattern of a value (sign, exponent and the leading bits of the mantissa).
HISTOGRAM_BITS = 16
N_BUCKETS = 2**HISTOGRAM_BITS

# A training batch's window is guessed from about this many of its entries,
# spread over its rows and columns ...
_GUESS_SAMPLE = 2**14
# ... but never more than every eighth entry: on a small batch the partition
# of the sample would cost as much as the pass it saves.
_MIN_GUESS_STRIDE = 8
# The guessed window runs from the value above which (1 + w) times the target
# fraction of the sample lies to the one above which (1 - w) times does. The
# number of a sample's entries above the batch's edge is about binomial: its
# relative spread is 1 / sqrt(target fraction * sample size) (4% at a ratio
# of 0.1 in a sample of 2**14 entries, 9% at 0.02 in one of 6,400). w is
# this many times that spread, and at least _MIN_WINDOW.
_WINDOW_SPREADS = 3.0
_MIN_WINDOW = 0.1
# The four are checked by ``python benchmarks/check_quota_guess.py``: how
# often the guessed window misses the quota's edge, and what the selection
# of a training batch costs, with other values of them.

# The integer type whose bit pattern a float dtype shares.
_BITS_OF = {np.dtype(np.float64): np.int64, np.dtype(np.float32): np.int32}


def bucket_shift(dtype):
    """Right shift of a value's order-preserving key that leaves its bucket."""
    return np.dtype(dtype).itemsize * 8 - HISTOGRAM_BITS


def _value_of(key, dtype):
    """The scalar of ``dtype`` whose order-preserving key is ``key``."""
    integer = _BITS_OF[np.dtype(dtype)]
    bits = key if key >= 0 else key ^ int(np.iinfo(integer).max)
    return np.array([bits], dtype=integer).view(dtype)[0]


def _bucket_floor(bucket, dtype):
    """The smallest value of ``dtype`` in ``bucket`` (-inf below bucket 0)."""
    if bucket <= 0:
        return np.dtype(dtype).type(-np.inf)
    if bucket >= N_BUCKETS:
        return np.dtype(dtype).type(np.inf)
    return _value_of((bucket - N_BUCKETS // 2) << bucket_shift(dtype), dtype)


class QuotaSearch:
    """The ``n_active * n_rows`` largest values of a stream of chunks
    (weighted: until their rows' weights reach ``n_active * weights.sum()``):
    what :func:`~._sparsity.batch_threshold` returns, found chunk by chunk.

    Parameters
    ----------
    backend : module
        A kernel backend (its ``quota_histogram`` and ``quota_window``).
    quota : float
        ``n_active`` times the number of rows, or times the sum of their
        weights.
    dtype : dtype
        The values' dtype (float32 or float64).
    weighted : bool
        Whether the chunks come with row weights.
    ties : bool, default=True
        Whether values within :func:`~._sparsity.tie_tolerance` below the
        quota's edge are kept with it (as :func:`~._sparsity.batch_threshold`
        keeps them); without, the edge is the quota's last value exactly.
    """

    def __init__(self, backend, quota, dtype, weighted, ties=True):
        self.backend = backend
        self.ties = ties
        self.quota = quota
        self.dtype = np.dtype(dtype)
        self.weighted = weighted
        self._counts = self._weights = None
        self._max_abs = 0.0
        self._reset_window(None, None)

    def _reset_window(self, low, high, inside_fraction=None):
        self.low, self.high = low, high
        self._capacity = None
        # About what fraction of the entries the window holds (None: unknown).
        self._inside_fraction = inside_fraction
        self._entries, self._entry_weights = [], []
        self._above = 0.0
        self._max_below = self.dtype.type(-np.inf)

    # Exact search: a histogram pass, then a window pass.
    def count(self, values, row_weights=None):
        """First pass of the exact search: histogram a chunk's values."""
        if self._counts is None:
            self._counts = np.zeros(N_BUCKETS, dtype=np.int32)
            self._weights = np.zeros(N_BUCKETS if self.weighted else 0)
        self._max_abs = max(
            self._max_abs,
            self.backend.quota_histogram(
                values, _rows(row_weights), self._counts, self._weights
            ),
        )

    def window_from_histogram(self):
        """Set the window from the histogram: the bucket where the quota
        ends, widened downwards by the tie tolerance."""
        per_bucket = self._weights if self.weighted else self._counts
        from_top = np.cumsum(per_bucket[::-1])
        edge_bucket = N_BUCKETS - 1 - int(np.searchsorted(from_top, self.quota))
        edge_bucket = max(edge_bucket, 0)
        # The window is about the edge's bucket (and the one below it, where
        # the tolerance may reach): buffers of that share of a chunk's
        # entries, grown if needed.
        inside = self._counts[max(edge_bucket - 1, 0) : edge_bucket + 1].sum()
        self._reset_window(
            _bucket_floor(edge_bucket, self.dtype) - self._tolerance(),
            _bucket_floor(edge_bucket + 1, self.dtype),
            inside / max(self._counts.sum(), 1),
        )

    # Both searches: the window pass.
    def set_window(self, low, high):
        """Gather the entries in ``[low, high)`` in the next pass (a guess
        that :meth:`found` checks)."""
        self._reset_window(self.dtype.type(low), self.dtype.type(high))

    def gather(self, values, row_weights=None):
        """Window pass of a guessed window over one chunk: keep its entries
        inside the window, unless they overflow what is left of the window's
        budget (then nothing is kept, and False is returned)."""
        return self.take_window(
            self.window_of(values, row_weights, self._capacity, grow=False),
            budgeted=True,
        )

    def window_of(self, values, row_weights=None, capacity=None, grow=True):
        """What a window pass finds in a chunk's values, for
        :meth:`take_window`: its entries inside the window (with their rows'
        weights), the weight of those at or above it, the largest below it
        and the largest magnitude. The entries' buffer holds ``capacity``
        entries (default: twice the share of the entries the window is
        expected to hold), grown as needed; with ``grow=False`` None when
        they do not fit. Reads only: chunks may be passed over in threads of
        their own."""
        if capacity is None and self._inside_fraction is not None:
            capacity = 2 * int(np.ceil(self._inside_fraction * values.size)) + 64
        capacity = values.size if capacity is None else min(capacity, values.size)
        while True:
            entries = np.empty(capacity, dtype=self.dtype)
            entry_weights = np.empty(capacity if self.weighted else 0)
            n_entries, above, max_below, max_abs = self.backend.quota_window(
                values,
                _rows(row_weights),
                self.low,
                self.high,
                entries,
                entry_weights,
            )
            if n_entries <= capacity:
                break
            if not grow:
                return None
            capacity = n_entries
        return (
            entries[:n_entries].copy(),
            entry_weights[:n_entries].copy() if self.weighted else None,
            above,
            max_below,
            max_abs,
        )

    def take_window(self, found_in_chunk, budgeted=False):
        """Keep what :meth:`window_of` found in a chunk; with ``budgeted``
        (a guessed window), only if its entries fit in what is left of the
        window's budget. Returns whether they were kept."""
        if found_in_chunk is None:
            return False
        if budgeted:
            n_entries = found_in_chunk[0].size
            if n_entries > self._capacity:
                return False
            self._capacity -= n_entries
        self.add_window(*found_in_chunk)
        return True

    def add_window(self, entries, entry_weights, above, max_below, max_abs):
        """Keep what a window pass over some values found: their entries
        inside the window (with their rows' weights), the weight of those
        at or above it, the largest below it and the largest magnitude."""
        self._entries.append(entries)
        if self.weighted:
            self._entry_weights.append(entry_weights)
        self._above += above
        self._max_below = max(self._max_below, max_below)
        self._max_abs = max(self._max_abs, max_abs)

    def guess_window(self, sample, kept_fraction, budget):
        """Set a window from a sample of the values: from the value above
        which ``1 + w`` times ``kept_fraction`` of its entries lie to the one
        above which ``1 - w`` times do (w: :func:`window_width`), with a
        budget of ``budget`` entries."""
        flat = sample.ravel()
        last = flat.size - 1
        width = window_width(kept_fraction, flat.size)
        low_rank = min(last, int(np.ceil((1 + width) * kept_fraction * flat.size)))
        high_rank = max(0, int((1 - width) * kept_fraction * flat.size))
        # Two partitions at one index each, the second of the entries above
        # the first's: NumPy's partition at several indices is several
        # times slower.
        low_at = last - low_rank
        ordered = np.partition(flat, low_at)
        high_at = low_rank - high_rank
        high = np.partition(ordered[low_at:], high_at)[high_at]
        self._reset_window(
            self.dtype.type(ordered[low_at]),
            self.dtype.type(high),
            (low_rank - high_rank + 1) / flat.size,
        )
        self._capacity = budget

    def _tolerance(self):
        if not self.ties:
            return 0.0
        return tolerance_at(self.dtype.type(self._max_abs))

    def _window(self):
        """The entries gathered (and their weights), each joined in one array
        that replaces the chunks' arrays, so that they are freed before
        :meth:`found` partitions a copy: the window is held twice at most."""
        if len(self._entries) != 1:
            self._entries = [_joined(self._entries, self.dtype)]
            if self.weighted:
                self._entry_weights = [_joined(self._entry_weights, np.float64)]
        return self._entries[0], self._entry_weights[0] if self.weighted else None

    def run(self, chunks, guessed=False):
        """The search over the values that ``chunks`` gives: a histogram
        pass, then a window pass. With ``guessed``, a first pass gathers the
        window :meth:`guess_window` set; when the quota ends inside it, that
        pass is the only one.

        ``chunks(reduce)`` runs a pass: it yields ``reduce(values,
        row_weights)`` for every chunk, in order, and must give the same
        values at every call. ``reduce`` only reads, so the chunks may be
        computed and reduced several at once, in threads of their own; none
        of them is kept.
        """
        if guessed:
            if all(
                self.take_window(found_in_chunk, budgeted=True)
                for found_in_chunk in chunks(self.window_of)
            ):
                found = self.found()
                if found is not None:
                    return found
        for values, row_weights in chunks(_as_given):
            self.count(values, row_weights)
        return self.gather_window(chunks)

    def gather_window(self, chunks):
        """After the histogram pass: the window pass over ``chunks`` (see
        :meth:`run`), and the result."""
        self.window_from_histogram()
        self._gather_all(chunks)
        found = self.found()
        if found is None:  # a sum of weights rounded across the window's edge
            self.set_window(-np.inf, np.inf)
            self._gather_all(chunks)
            found = self.found()
        return found

    def _gather_all(self, chunks):
        for found_in_chunk in chunks(self.window_of):
            self.take_window(found_in_chunk)

    def found(self):
        """The quota's smallest kept value and the largest value below it,
        or None if they are not both inside the window gathered."""
        entries, weights = self._window()
        if self._above >= self.quota:
            return None
        if self.weighted:
            descending = np.argsort(entries, kind="stable")[::-1]
            cumulative = self._above + np.cumsum(weights[descending])
            position = int(np.searchsorted(cumulative, self.quota))
            if position >= entries.size:
                return None
            kept_from = self._kept_from(entries[descending[position]])
            if kept_from is None:
                return None
            candidates = entries[weights > 0]
            kept = candidates >= kept_from
            return self._edges(
                candidates.min(where=kept, initial=np.inf),
                candidates.max(where=~kept, initial=-np.inf),
            )
        # The quota ends on the window's (quota - above)-th largest entry:
        # the entries from its place on in the partition are kept, and
        # before it those within the tolerance below it.
        position = entries.size - int(np.ceil(self.quota - self._above))
        if position < 0:
            return None
        ordered = np.partition(entries, position)
        kept_from = self._kept_from(ordered[position])
        if kept_from is None:
            return None
        below_edge = ordered[:position]
        kept = below_edge >= kept_from
        return self._edges(
            below_edge.min(where=kept, initial=ordered[position]),
            below_edge.max(where=~kept, initial=-np.inf),
        )

    def _kept_from(self, edge):
        """The smallest value kept with the quota's last entry ``edge``, or
        None if it may lie below the window."""
        kept_from = edge - self._tolerance()
        return None if kept_from < self.low else kept_from

    def _edges(self, smallest_kept, largest_dropped_inside):
        """:meth:`found`'s two values, given the largest value dropped inside
        the window (-inf if none)."""
        largest_dropped = max(largest_dropped_inside, self._max_below)
        if not np.isfinite(largest_dropped):
            largest_dropped = smallest_kept
        return smallest_kept, largest_dropped


def window_width(kept_fraction, sample_size):
    """The relative half-width of a window guessed from ``sample_size``
    entries for ``kept_fraction`` of them: ``_WINDOW_SPREADS`` times the
    relative spread of the count above the edge, at least ``_MIN_WINDOW``."""
    expected = max(kept_fraction * sample_size, 1.0)
    return max(_MIN_WINDOW, _WINDOW_SPREADS / np.sqrt(expected))


def _rows(row_weights):
    """Row weights as the kernels take them (an empty array: unweighted)."""
    return np.empty(0) if row_weights is None else row_weights


def _sample_stride(values):
    """A stride through the flattened values that samples about
    ``_GUESS_SAMPLE`` entries (at most an eighth of them) from every row and
    column (it shares no factor with the width)."""
    stride = max(_MIN_GUESS_STRIDE, values.size // _GUESS_SAMPLE) | 1
    while gcd(stride, values.shape[1]) != 1:
        stride += 2
    return stride


def select_quota(backend, values, n_active, sample_weight=None):
    """:func:`~._sparsity.batch_threshold` of an in-memory batch without a
    partition of the whole batch, and the rows'
    :class:`~._backends.interface.Candidates` (None if not found).

    One pass gathers the entries in a window guessed from a sample of
    entries (:meth:`QuotaSearch.guess_window`); without sample weights, the
    backend's ``quota_window_rows`` also collects each row's entries at or
    above the window: the candidates, among which are the entries the
    quota keeps. When the quota's edge is not inside the window, the exact
    search runs (a histogram pass and a window pass) and no candidates are
    found.
    """
    weighted = sample_weight is not None
    quota = n_active * (values.shape[0] if not weighted else sample_weight.sum())
    search = QuotaSearch(backend, quota, values.dtype, weighted)
    sample = np.ascontiguousarray(values).ravel()[:: _sample_stride(values)]
    search.guess_window(sample, n_active / values.shape[1], values.size // 4)
    if not weighted:
        found = _rows_in_window(search, backend, values)
        if found is not None:
            return found
    elif search.gather(values, sample_weight):
        found = search.found()
        if found is not None:
            return (*found, None)
    return (*search.run(lambda reduce: [reduce(values, sample_weight)]), None)


def _rows_in_window(search, backend, values):
    """The quota and the candidates (:func:`select_quota`) from one
    ``quota_window_rows`` pass over the guessed window of ``search``, or
    None if the quota's edge is not inside it (or more than a quarter of a
    block's entries are in the window).

    The pass does not look for the largest entry below the window: it is
    the largest dropped value only when no entry of the window is dropped,
    and is then found by another pass.
    """
    capacity = WINDOW_BLOCK_ROWS * values.shape[1] // 4
    window = backend.quota_window_rows(values, search.low, search.high, capacity)
    if window is None:
        return None
    entries, n_above, max_abs, candidates = window
    search.add_window(entries, None, float(n_above), -np.inf, max_abs)
    found = search.found()
    if found is None:
        return None
    smallest_kept, largest_dropped = found
    if not largest_dropped >= search.low or largest_dropped == smallest_kept:
        below = values < search.low
        search.add_window(
            entries[:0], None, 0.0, values.max(where=below, initial=-np.inf), max_abs
        )
        smallest_kept, largest_dropped = search.found()
    return smallest_kept, largest_dropped, candidates


def _joined(arrays, dtype):
    """The arrays one after the other, in one array of ``dtype``."""
    if not arrays:
        return np.empty(0, dtype=dtype)
    return np.concatenate(arrays).astype(dtype, copy=False)


def _as_given(values, row_weights):
    return values, row_weights
