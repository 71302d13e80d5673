"""numba kernels over a sparse layer's present weights only: the forward
products from dense inputs (by unit) and from inputs at winners (by input),
the weight gradients from a delta at winners, and the Adam and SGD steps at
the present weights.

Each reads the layer's :class:`~.interface.Connections` (the weights
themselves stay a dense array, zero where absent) and computes what the
dense kernel computes, up to the order of the sums. A gradient is held at
the present weights only (:class:`~.interface.PresentGradient`'s values),
as the optimizer's state is, and the steps take both so: the absent
weights are never touched.
"""

import numpy as np
from numba import njit, prange

from ._numba_gradients import add_winner_products
from ._numba_parameters import adam_entry, sgd_entry
from ._numba_twins import parallel_and_serial

# Units per block: of the copies into a row-major output (a block's units
# fill four cache lines of a row, float64, which the copy touches once), and
# of the gradients' parallel loops (one scratch per block).
UNIT_BLOCK = 32

# Where a batch's transposed inputs outgrow a core's second-level cache,
# the forward product from dense inputs goes over the rows in blocks of
# ROW_BLOCK rows (bounding its scratch of units x rows) and over the inputs
# in chunks of about CHUNK_BYTES of a block: every unit adds its inputs of
# one chunk before any unit goes on to the next, so that the chunk stays in
# that cache while the units read it. A block's inputs of at most
# UNCHUNKED_BYTES (about that cache) go in one pass, UNIT_BLOCK units at a
# time. Measured by ``python benchmarks/bench_input_chunks.py`` (the kernel,
# CHUNK_BYTES) and ``python benchmarks/bench_input_chunks.py --fits`` (whole
# fits, UNCHUNKED_BYTES).
ROW_BLOCK = 256
CHUNK_BYTES = 2**19
UNCHUNKED_BYTES = 2**21


def chunk_inputs(n_inputs, n_rows, itemsize):
    """Inputs per chunk of the forward product from ``n_inputs`` dense
    inputs, for ``n_rows`` rows of ``itemsize`` bytes: all of them where a
    block's inputs take at most ``UNCHUNKED_BYTES``."""
    row_bytes = max(1, min(n_rows, ROW_BLOCK)) * itemsize
    if n_inputs * row_bytes <= UNCHUNKED_BYTES:
        return n_inputs
    return max(1, CHUNK_BYTES // row_bytes)


def _forward_by_unit(
    inputs_t, unit_ptr, unit_inputs, present_weights, bias, out, chunk
):
    """``inputs @ weights + bias`` from the transposed dense inputs
    ``inputs_t`` (features x rows): each unit adds its weight times each of
    its inputs (a run of the input's row of ``inputs_t``) to the unit's
    column of a scratch of (units, rows), copied to the output row by row.
    Where ``chunk`` inputs are fewer than all of them, the rows go in blocks
    of ``ROW_BLOCK`` and the inputs in chunks of ``chunk``, every unit adding
    its inputs of a chunk before any unit goes on to the next (the scratch
    then holds every unit's column); otherwise the units go in blocks of
    ``UNIT_BLOCK``, each unit adding all its inputs at once into a small
    scratch of the block's own. ``present_weights`` holds
    the present weights unit by unit (the order of ``unit_inputs``): a unit
    reads its weights as one contiguous run. Each output is one unit's sum
    over its inputs in their order, four at a time and then one at a time,
    however the rows and inputs are split and whatever thread runs it."""
    n_features, n_rows = inputs_t.shape
    width = out.shape[1]
    if chunk >= n_features:
        for block in prange((width + UNIT_BLOCK - 1) // UNIT_BLOCK):
            first = block * UNIT_BLOCK
            units = min(width, first + UNIT_BLOCK) - first
            columns = np.empty((units, n_rows), dtype=out.dtype)
            for offset in range(units):
                unit = first + offset
                columns[offset] = bias[unit]
                add_inputs_below(
                    n_features,
                    columns[offset],
                    inputs_t,
                    0,
                    n_rows,
                    unit_ptr[unit],
                    unit_ptr[unit + 1],
                    unit_inputs,
                    present_weights,
                )
            copy_to_rows(columns, out, 0, first)
        return
    columns = np.empty((width, min(n_rows, ROW_BLOCK)), dtype=out.dtype)
    cursor = np.empty(width, dtype=np.int64)
    for first_row in range(0, n_rows, ROW_BLOCK):
        rows = min(n_rows, first_row + ROW_BLOCK) - first_row
        for unit in prange(width):
            columns[unit, :rows] = bias[unit]
            cursor[unit] = unit_ptr[unit]
        for end in range(chunk, n_features + chunk, chunk):
            for unit in prange(width):
                cursor[unit] = add_inputs_below(
                    end,
                    columns[unit],
                    inputs_t,
                    first_row,
                    rows,
                    cursor[unit],
                    unit_ptr[unit + 1],
                    unit_inputs,
                    present_weights,
                )
        for block in prange((width + UNIT_BLOCK - 1) // UNIT_BLOCK):
            first = block * UNIT_BLOCK
            last = min(width, first + UNIT_BLOCK)
            copy_to_rows(columns[first:last, :rows], out, first_row, first)


forward_by_unit, forward_by_unit_serial = parallel_and_serial(_forward_by_unit)


@njit(cache=True, inline="always")
def copy_to_rows(columns, out, first_row, first):
    """Copy a scratch of (units, rows) to the output rows from ``first_row``
    on, at the units from ``first`` on: row by row, where a block's units
    fill a few cache lines of a row."""
    units = columns.shape[0]
    for row in range(columns.shape[1]):
        output = out[first_row + row, first : first + units]
        for offset in range(units):
            output[offset] = columns[offset, row]


@njit(cache=True, inline="always")
def add_inputs_below(
    end, column, inputs_t, first_row, rows, entry, stop, unit_inputs, weights
):
    """Add to ``column`` a unit's inputs from ``entry`` on (of its entries
    up to ``stop``) whose groups start below input ``end``: four per pass
    over the column (read and written a quarter as often as with one), then
    the last one to three one at a time. Returns the first entry not added."""
    last_row = first_row + rows
    while entry + 4 <= stop and unit_inputs[entry] < end:
        weight_0 = weights[entry]
        weight_1 = weights[entry + 1]
        weight_2 = weights[entry + 2]
        weight_3 = weights[entry + 3]
        values_0 = inputs_t[unit_inputs[entry]][first_row:last_row]
        values_1 = inputs_t[unit_inputs[entry + 1]][first_row:last_row]
        values_2 = inputs_t[unit_inputs[entry + 2]][first_row:last_row]
        values_3 = inputs_t[unit_inputs[entry + 3]][first_row:last_row]
        for row in range(rows):
            column[row] += (weight_0 * values_0[row] + weight_1 * values_1[row]) + (
                weight_2 * values_2[row] + weight_3 * values_3[row]
            )
        entry += 4
    while entry < stop and unit_inputs[entry] < end:
        weight = weights[entry]
        values = inputs_t[unit_inputs[entry]][first_row:last_row]
        for row in range(rows):
            column[row] += weight * values[row]
        entry += 1
    return entry


def _sparse_forward_by_input(
    indptr, indices, data, input_ptr, input_units, present_weights, bias, out
):
    """``inputs @ weights + bias`` for inputs stored at winners: each winner
    adds its value times its present weights to the units they reach.
    ``present_weights`` holds the present weights input by input (the
    order of ``input_units``, ``present_weights``): a winner's weights
    are one contiguous run, not scattered over a row of the dense matrix."""
    for row in prange(out.shape[0]):
        output = out[row]
        for unit in range(output.size):
            output[unit] = bias[unit]
        for position in range(indptr[row], indptr[row + 1]):
            value = data[position]
            source = indices[position]
            for entry in range(input_ptr[source], input_ptr[source + 1]):
                output[input_units[entry]] += value * present_weights[entry]


sparse_forward_by_input, sparse_forward_by_input_serial = parallel_and_serial(
    _sparse_forward_by_input
)


@njit(parallel=True, cache=True)
def gather_in_c_order(flat_weights, positions, present_weights):
    """The present weights in C order: ``present_weights[e]`` is
    ``flat_weights[positions[e]]`` (NumPy's ``take``, on every thread)."""
    for entry in prange(positions.size):
        present_weights[entry] = flat_weights[positions[entry]]


@njit(parallel=True, cache=True)
def gather_by_unit(flat_weights, positions, entries_in_c_order, present_weights):
    """The present weights unit by unit, read in C order: entry ``e`` of
    ``positions`` goes to ``present_weights[entries_in_c_order[e]]``. The
    reads stream through the weight matrix, where reading it unit by unit
    would take a cache line per weight; the writes land in an array a tenth
    of its size."""
    for entry in prange(positions.size):
        present_weights[entries_in_c_order[entry]] = flat_weights[positions[entry]]


@njit(parallel=True, cache=True)
def gradient_dense_sparse_at(
    inputs,
    delta_ptr,
    delta_rows,
    delta_positions,
    delta,
    unit_ptr,
    unit_inputs,
    entries_by_unit,
    present_weights,
    alpha,
    weight_sum,
    values,
):
    """Weight gradient from dense inputs and a delta at winners (by unit),
    at the present weights only, into ``values`` in C order (the order of
    the connections' ``positions``, which the optimizer's step streams
    through). Each present weight sums, over the rows its unit won (in
    their order), the unit's delta times the weight's input there, in a
    scratch run of the unit's inputs, takes the penalty (its weight read
    from ``present_weights``, unit by unit, as the sums are) and goes to its
    place in C order (``entries_by_unit``); the units go in blocks of
    ``UNIT_BLOCK``, one scratch per block."""
    width = unit_ptr.size - 1
    for block in prange((width + UNIT_BLOCK - 1) // UNIT_BLOCK):
        sums = np.empty(inputs.shape[1], dtype=values.dtype)
        for unit in range(block * UNIT_BLOCK, min(width, (block + 1) * UNIT_BLOCK)):
            first, last = unit_ptr[unit], unit_ptr[unit + 1]
            sums[: last - first] = 0
            for won in range(delta_ptr[unit], delta_ptr[unit + 1]):
                value = delta[delta_positions[won]]
                row = inputs[delta_rows[won]]
                for entry in range(first, last):
                    sums[entry - first] += value * row[unit_inputs[entry]]
            for entry in range(first, last):
                penalised = sums[entry - first] + alpha * present_weights[entry]
                values[entries_by_unit[entry]] = penalised / weight_sum


@njit(parallel=True, cache=True)
def gradient_sparse_sparse_at(
    unit_ptr,
    unit_rows,
    unit_positions,
    data,
    delta_indptr,
    delta_indices,
    delta_data,
    input_ptr,
    input_units,
    present_weights,
    width,
    alpha,
    weight_sum,
    values,
):
    """Weight gradient as a sum of winners x winners outer products, at the
    present weights only, into ``values`` input by input (the order of
    ``input_units`` and of ``present_weights``, the weights in C order).
    Each input's products are summed into a scratch row of the layer's
    ``width`` without a look at the connections (a branch on a random
    tenth of the products would be mispredicted often); its present weights
    then read their sums from it and take the penalty. The inputs go in
    blocks of ``UNIT_BLOCK``, one scratch row per block."""
    n_inputs = input_ptr.size - 1
    for block in prange((n_inputs + UNIT_BLOCK - 1) // UNIT_BLOCK):
        sums = np.empty(width, dtype=values.dtype)
        for source in range(
            block * UNIT_BLOCK, min(n_inputs, (block + 1) * UNIT_BLOCK)
        ):
            sums[:] = 0
            add_winner_products(
                sums,
                unit_ptr[source],
                unit_ptr[source + 1],
                unit_positions,
                data,
                unit_rows,
                delta_indptr,
                delta_indices,
                delta_data,
            )
            for entry in range(input_ptr[source], input_ptr[source + 1]):
                values[entry] = (
                    sums[input_units[entry]] + alpha * present_weights[entry]
                ) / weight_sum


@njit(parallel=True, cache=True)
def adam_step_at(
    param,
    values,
    first,
    second,
    positions,
    kept,
    kept_entries,
    learning_rate,
    beta_1,
    beta_2,
    epsilon,
):
    """One Adam step at the flat ``positions`` of the present weights, whose
    gradients are ``values`` and whose moment estimates are ``first`` and
    ``second`` (one entry per position each), in place (the arithmetic of
    :func:`._numba_parameters.adam_step`); each new weight is also written
    to ``kept`` (unless empty; see :func:`keep_entry`)."""
    keeps, by_unit = kept.size > 0, kept_entries.size > 0
    for entry in prange(positions.size):
        index = positions[entry]
        adam_entry(
            param,
            index,
            values[entry],
            first,
            second,
            entry,
            learning_rate,
            beta_1,
            beta_2,
            epsilon,
        )
        if keeps:
            keep_entry(kept, kept_entries, by_unit, entry, param[index])


@njit(parallel=True, cache=True)
def sgd_step_at(
    param,
    values,
    velocity,
    positions,
    kept,
    kept_entries,
    learning_rate,
    momentum,
    nesterov,
):
    """One (Nesterov) momentum SGD step at the present weights, whose
    gradients are ``values`` and velocities ``velocity`` (one entry per
    position each), in place; each new weight is also written to ``kept``
    (unless empty; see :func:`keep_entry`)."""
    keeps, by_unit = kept.size > 0, kept_entries.size > 0
    for entry in prange(positions.size):
        index = positions[entry]
        sgd_entry(
            param,
            index,
            values[entry],
            velocity,
            entry,
            learning_rate,
            momentum,
            nesterov,
        )
        if keeps:
            keep_entry(kept, kept_entries, by_unit, entry, param[index])


@njit(cache=True, inline="always")
def keep_entry(kept, kept_entries, by_unit, entry, weight):
    """Write the new value of the present weight ``entry`` (in C order) to
    a copy of the present weights: to ``kept[kept_entries[entry]]`` when the
    copy is unit by unit (``kept_entries`` the connections'
    ``entries_in_c_order``), else to ``kept[entry]`` (a copy in C order)."""
    if by_unit:
        kept[kept_entries[entry]] = weight
    else:
        kept[entry] = weight
