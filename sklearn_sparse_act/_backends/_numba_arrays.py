"""How the numba backend hands arrays to its kernels and sizes its calls.

A kernel takes C-contiguous arrays, and the arrays it only reads as
read-only views (:func:`read_only`); a product's output is allocated in the
dtype of its operands combined (:func:`output_array`); the winners of a
layer are regrouped by unit once per winners structure (:func:`units_of`);
and a call runs the parallel kernel or its serial twin by the work it does
(:func:`runs_parallel`). Needs the cost model (:mod:`.cost_model`) and the
thread assignment (:mod:`._numba_threads`).
"""

import numpy as np

from ._numba_products import by_unit
from ._numba_threads import parallel_pays
from .cost_model import runs_in_parallel


def runs_parallel(n_rows, serial_seconds):
    """Whether work on ``n_rows`` rows, estimated to take ``serial_seconds``
    on one thread, runs the parallel kernels: on enough rows
    (:func:`.cost_model.runs_in_parallel`) when a region pays for its
    wake-up (:func:`._numba_threads.parallel_pays`, never in a lane of
    prediction chunks); otherwise the serial twins run, launching no threads."""
    return runs_in_parallel(n_rows) and parallel_pays(serial_seconds)


def contiguous(values):
    """``values``, or a C-contiguous copy if it is not."""
    return values if values.flags.c_contiguous else np.ascontiguousarray(values)


def read_only(values):
    """``values`` as the kernels take the data and parameters they only
    read: C-contiguous and read-only (a view, copied only if not
    contiguous). numba compiles a kernel again for each writability of its
    arguments; passed read-only, a writable array and a read-only one (a
    memory-mapped input or model, say) share one compilation."""
    view = contiguous(values).view()
    view.flags.writeable = False
    return view


def output_array(out, rows_of, width, weights):
    """``out``, or a new array of ``rows_of``'s rows and ``width`` columns in
    the dtype of ``rows_of`` and ``weights`` combined."""
    if out is not None:
        return out
    dtype = np.result_type(rows_of.dtype, weights.dtype)
    return np.empty((rows_of.shape[0], width), dtype=dtype)


def units_of(winners):
    """The winners by unit (:func:`._numba_products.by_unit`), computed once
    for a winners structure and the copies carrying other values (a layer's
    outputs and its delta share it: three uses per training step)."""
    units = winners.derived.get("numba_units")
    if units is None:
        units = winners.derived["numba_units"] = by_unit(
            winners.indptr, winners.indices, winners.width
        )
    return units
