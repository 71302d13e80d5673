"""The numba backend's layout of a sparse layer's connections: every index
form of :class:`~.interface.Connections` (by unit, by input, the flat
positions in both orders and the maps between the orders) in one compiled
pass over the layer's mask, where NumPy makes each form in passes of its
own. The forms are the same integers either way (a test compares them with
:class:`~.interface.Connections`' NumPy forms). Needs only the mask.
"""

import numpy as np
from numba import njit


@njit(cache=True)
def _count_present(mask, input_ptr, unit_ptr):
    """Present weights per input and per unit, as CSR pointers."""
    fan_in, width = mask.shape
    for source in range(fan_in):
        row = mask[source]
        for unit in range(width):
            if row[unit]:
                input_ptr[source + 1] += 1
                unit_ptr[unit + 1] += 1
    for source in range(fan_in):
        input_ptr[source + 1] += input_ptr[source]
    for unit in range(width):
        unit_ptr[unit + 1] += unit_ptr[unit]


@njit(cache=True)
def _place_present(
    mask,
    unit_ptr,
    input_units,
    positions,
    unit_inputs,
    unit_positions,
    entries_by_unit,
    entries_in_c_order,
):
    """Each present weight, met in C order (input by input, units ascending),
    at its entry in C order and at the next free slot of its unit (so each
    unit's inputs come in ascending order)."""
    width = mask.shape[1]
    slots = unit_ptr[:-1].copy()
    entry = 0
    for source in range(mask.shape[0]):
        row = mask[source]
        for unit in range(width):
            if row[unit]:
                position = source * width + unit
                slot = slots[unit]
                slots[unit] = slot + 1
                input_units[entry] = unit
                positions[entry] = position
                unit_inputs[slot] = source
                unit_positions[slot] = position
                entries_by_unit[slot] = entry
                entries_in_c_order[entry] = slot
                entry += 1


def lay_out_connections(mask, index_dtype):
    """Every index form of the connections of ``mask`` (a boolean
    ``(fan_in, width)`` array), keyed by the name of the
    :class:`~.interface.Connections` attribute it is: pointers int64,
    indices ``index_dtype``."""
    mask = np.ascontiguousarray(mask, dtype=bool)
    fan_in, width = mask.shape
    input_ptr = np.zeros(fan_in + 1, dtype=np.int64)
    unit_ptr = np.zeros(width + 1, dtype=np.int64)
    _count_present(mask, input_ptr, unit_ptr)
    n_present = int(input_ptr[-1])
    (
        input_units,
        positions,
        unit_inputs,
        unit_positions,
        entries_by_unit,
        entries_in_c_order,
    ) = (np.empty(n_present, dtype=index_dtype) for _ in range(6))
    _place_present(
        mask,
        unit_ptr,
        input_units,
        positions,
        unit_inputs,
        unit_positions,
        entries_by_unit,
        entries_in_c_order,
    )
    return {
        "by_unit": (unit_ptr, unit_inputs),
        "by_input": (input_ptr, input_units),
        "positions": positions,
        "unit_positions": unit_positions,
        "entries_by_unit": entries_by_unit,
        "entries_in_c_order": entries_in_c_order,
    }
