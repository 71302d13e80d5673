"""The memory a fit needs, checked before any of it is allocated.

A network too large for the machine should fail at once with a clear
``MemoryError``, not after minutes of allocating and swapping. Before the
first fit draws its weights, :func:`check_fit_memory` adds up what training
holds per layer (the weights and biases, their gradients, the optimizer's
state, the best epoch's copy and one batch's values) and compares the sum
with the machine's physical memory. The estimate counts only arrays every fit
allocates, so a fit it lets through may still run out of memory, but one it
stops could never have run. Where the physical memory cannot be read, the
fit goes on, and a ``MemoryError`` while drawing the weights names the layer
(:func:`allocation_error`).

It needs nothing from the rest of the package.
"""

import os
from itertools import pairwise

# Arrays as large as a layer's parameters that a fit holds at once, by
# solver: the parameters and the best epoch's copy (L-BFGS: the parameters,
# their gradients and its packed parameters and gradient; its history is not
# counted) whole at any weight density, ...
_WHOLE_COPIES = {"adam": 2, "sgd": 2, "lbfgs": 4}
# ... and the gradients with Adam's two moment estimates or SGD's velocities,
# which a layer with sparse connections holds at its present weights only
# (the optimizer's state always, the gradients on the numba kernels).
_PRESENT_COPIES = {"adam": 3, "sgd": 2, "lbfgs": 0}

# Arrays of a batch's rows by a layer's width: the pre-activations (which
# become the outputs) and the backward pass's deltas.
_BATCH_COPIES = 2


def physical_memory():
    """The machine's physical memory in bytes, or None where it is unknown."""
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return None


def format_bytes(n_bytes):
    """``n_bytes`` in binary units, e.g. ``'1.5 GiB'``.

    Examples
    --------
    >>> from sklearn_sparse_act._memory import format_bytes
    >>> format_bytes(512), format_bytes(3 * 2**29), format_bytes(2**50)
    ('512 B', '1.5 GiB', '1.0 PiB')
    """
    value = float(n_bytes)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024:
            return f"{n_bytes} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} PiB"


def layer_fit_bytes(layer_units, batch_rows, itemsize, solver, kept_inputs=None):
    """Bytes each layer's arrays take during a fit, per layer of weights
    (``kept_inputs``: how many inputs each unit of a hidden layer keeps,
    default all).

    Examples
    --------
    >>> from sklearn_sparse_act._memory import layer_fit_bytes
    >>> layer_fit_bytes([4, 10, 3], batch_rows=100, itemsize=8, solver="adam")
    [18000, 6120]
    """
    kept = list(kept_inputs or []) + layer_units[len(kept_inputs or []) : -1]
    whole, present = _WHOLE_COPIES[solver], _PRESENT_COPIES[solver]
    return [
        itemsize
        * (
            whole * fan_in * fan_out
            + present * inputs * fan_out
            + (whole + present) * fan_out
            + _BATCH_COPIES * batch_rows * fan_out
        )
        for (fan_in, fan_out), inputs in zip(pairwise(layer_units), kept, strict=True)
    ]


def check_fit_memory(layer_units, batch_rows, itemsize, solver, kept_inputs=None):
    """Raise ``MemoryError`` if the fit's arrays exceed the physical memory.

    Parameters
    ----------
    layer_units : list of int
        Units per layer, inputs and outputs included.
    batch_rows : int
        Rows per training batch (all rows for L-BFGS).
    itemsize : int
        Bytes per value of the training dtype.
    solver : {'adam', 'sgd', 'lbfgs'}
    kept_inputs : list of int, default=None
        How many inputs each unit of a hidden layer keeps (None: all of
        them, every layer fully connected).

    Examples
    --------
    >>> from sklearn_sparse_act._memory import check_fit_memory
    >>> check_fit_memory([4, 10, 3], 100, 8, "adam")  # a small network fits
    """
    available = physical_memory()
    if available is None:
        return
    per_layer = layer_fit_bytes(layer_units, batch_rows, itemsize, solver, kept_inputs)
    total = sum(per_layer)
    if total <= available:
        return
    largest = max(range(len(per_layer)), key=per_layer.__getitem__)
    layer_name = _layer_name(largest, len(per_layer))
    raise MemoryError(
        f"The network cannot fit in memory: training it needs at least "
        f"{format_bytes(total)} ({total} bytes), this machine has "
        f"{format_bytes(available)}. The largest part is {layer_name} "
        f"({layer_units[largest]} x {layer_units[largest + 1]} weights), "
        f"{format_bytes(per_layer[largest])} ({per_layer[largest]} bytes) with "
        "its gradients, the optimizer's state and a batch's values. Reduce "
        "hidden_layer_sizes."
    )


def allocation_error(error, layer_units, layer):
    """A ``MemoryError`` naming ``layer``, whose weights (drawn in float64)
    could not be allocated."""
    fan_in, fan_out = layer_units[layer], layer_units[layer + 1]
    n_bytes = 8 * fan_in * fan_out
    return MemoryError(
        f"The network cannot fit in memory: the weights of "
        f"{_layer_name(layer, len(layer_units) - 1)} ({fan_in} x {fan_out}) "
        f"need {format_bytes(n_bytes)} ({n_bytes} bytes) ({error}). Reduce "
        "hidden_layer_sizes."
    )


def _layer_name(layer, n_weight_layers):
    """'hidden layer i' (from 1) for the weights into a hidden layer, else
    'the output layer'."""
    if layer + 1 < n_weight_layers:
        return f"hidden layer {layer + 1}"
    return "the output layer"
