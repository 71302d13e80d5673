"""The cost model of the kernel backends: which path each hidden layer takes,
and who gets the cores.

Every decision here is made from shapes and counts alone (widths, numbers of
winners, rows, the :class:`~.interface.Work` of a pass counted by
:meth:`sklearn_sparse_act._network.Network.work`) and never from a clock, so
a fit takes the same paths, and gives the same bits, every time it runs on a
machine.

- **Paths**: a hidden layer hands on only its winners (the *sparse path*)
  when the products over winners cost less than the dense products of BLAS:
  :func:`numpy_sparse_path` and :func:`numpy_gathers_rows` for the NumPy
  backend, :func:`numba_sparse_path` for the numba one.
- **Cores** (numba backend): a pass gives the cores either to the compiled
  kernels (BLAS then runs on one thread) or to BLAS (the kernels then run on
  one thread), whichever finishes the pass first by the estimate of
  :func:`kernels_take_the_cores`; a prediction over many rows runs in lanes
  (:func:`predicts_in_lanes`); few rows run the serial kernels
  (:func:`runs_in_parallel`), and so does a kernel whose work would not pay
  for the wake-up of a parallel region (:func:`region_pays`); NumPy's
  partition is split in blocks of rows
  (:func:`partition_blocks`).

The constants were measured on a 2-core machine with OpenBLAS. Run
``python benchmarks/calibrate_cost_model.py`` to measure every one of them
on another machine: it prints each constant's current value beside what it
measures, in the order of this module. A constant is changed by hand, after
reading that output, because changing one changes the fits of every model
whose layers sit near the crossover.
"""

import numpy as np

# ----------------------------------------------------------------------
# Paths of the NumPy backend
# ----------------------------------------------------------------------
# Largest fraction of winners at which the sparse path (SciPy's CSR products
# over the winners) trains faster than the dense one, by layer width: the
# first row whose width is at least the layer's applies. 0.0: never.
# calibrate_cost_model.py, "numpy: sparse path crossover by width".
NUMPY_SPARSE_CROSSOVER = ((512, 0.0), (np.inf, 0.03))

# Fewest units of the next layer at which its product over a layer's winners
# pays for the sparse path's bookkeeping.
# calibrate_cost_model.py, "numpy: smallest fan-out of the sparse path".
NUMPY_MIN_SPARSE_FAN_OUT = 64

# Up to this many rows, the product over winners multiplies each row's
# gathered weight rows (one small BLAS product per row) instead of SciPy's
# CSR product, and the sparse path is taken while the rows' winners
# together are at most NUMPY_FEW_ROWS_CROSSOVER of the layer's width: a
# dense product over a few rows reads the whole weight matrix, the gathered
# product only the winners' weight rows.
# calibrate_cost_model.py, "numpy: few rows".
NUMPY_FEW_ROWS = 16
NUMPY_FEW_ROWS_CROSSOVER = 0.5


def numpy_sparse_path(n_active, width, fan_out, n_rows):
    """Whether a hidden layer with ``n_active`` winners of ``width`` units,
    feeding a layer of ``fan_out`` units, runs on the NumPy backend's sparse
    path for batches of ``n_rows`` rows.

    Examples
    --------
    >>> from sklearn_sparse_act._backends.cost_model import numpy_sparse_path
    >>> numpy_sparse_path(20, 1024, 1024, n_rows=200)
    True
    >>> numpy_sparse_path(51, 1024, 1024, n_rows=200)  # ratio 0.05
    False
    >>> numpy_sparse_path(51, 1024, 1024, n_rows=1)  # one row
    True
    >>> numpy_sparse_path(102, 1024, 1024, n_rows=16)
    False
    >>> numpy_sparse_path(20, 1024, 10, n_rows=200)  # few outputs
    False
    """
    if n_active >= width or fan_out < NUMPY_MIN_SPARSE_FAN_OUT:
        return False
    if numpy_gathers_rows(n_rows):
        return n_rows * n_active <= NUMPY_FEW_ROWS_CROSSOVER * width
    for max_width, crossover in NUMPY_SPARSE_CROSSOVER:
        if width <= max_width:
            return n_active / width <= crossover
    return False


def numpy_gathers_rows(n_rows):
    """Whether the NumPy backend's product over the winners of ``n_rows``
    rows multiplies each row's gathered weight rows (rather than running
    SciPy's CSR product).

    Examples
    --------
    >>> from sklearn_sparse_act._backends.cost_model import numpy_gathers_rows
    >>> numpy_gathers_rows(1), numpy_gathers_rows(200)
    (True, False)
    """
    return n_rows <= NUMPY_FEW_ROWS


# ----------------------------------------------------------------------
# Paths of the numba backend
# ----------------------------------------------------------------------
# Largest fraction of winners at which the compiled products over winners
# train faster than BLAS's dense products (each on every core).
# calibrate_cost_model.py, "numba: sparse path crossover".
NUMBA_SPARSE_CROSSOVER = 0.25


def numba_sparse_path(n_active, width, fan_out, n_rows):
    """Whether a hidden layer with ``n_active`` winners of ``width`` units
    hands on its winners only on the numba backend.

    Examples
    --------
    >>> from sklearn_sparse_act._backends.cost_model import numba_sparse_path
    >>> numba_sparse_path(26, 256, 10, n_rows=200)
    True
    >>> numba_sparse_path(128, 256, 10, n_rows=200)
    False
    """
    return n_active < width and n_active <= NUMBA_SPARSE_CROSSOVER * width


def numpy_connection_path(density, dense_inputs=False):
    """The NumPy backend, the reference, multiplies the whole weight matrix of
    a sparse layer (zero where absent) at every density.

    Examples
    --------
    >>> from sklearn_sparse_act._backends.cost_model import numpy_connection_path
    >>> numpy_connection_path(0.01)
    False
    """
    return False


# Largest weight density (present weights over all of a layer's weights) at
# which the numba kernels over the present weights train clearly faster
# (median fit-time ratio below 0.95; the machine's noise moves a ratio near
# 1 either way) than the dense products over the whole, zero-filled weight
# matrix, for a layer whose inputs are winners: the
# layer from winners alone on the kernels or not, on 100 and on 784 features
# (2 epochs, activation ratio 0.05):
# python benchmarks/bench_weight_density.py --crossover --winners-only \
#     --hidden 1024,1024 --densities 0.3 0.2 0.1 (and with --features 784)
NUMBA_CONNECTION_CROSSOVER = 0.1
# The same for a layer whose inputs are dense (the first hidden layer, or one
# above a layer on the dense path), for the one-layer network on 100 and on
# 784 features:
# python benchmarks/bench_weight_density.py --crossover --hidden 4096 \
#     --densities 0.6 0.5 0.4 (and the same with --features 784)
NUMBA_DENSE_INPUT_CROSSOVER = 0.5


def numba_connection_path(density, dense_inputs=False):
    """Whether a sparse layer of weight density ``density`` trains on the
    numba kernels over its present weights (forward products, weight
    gradients) rather than on the dense ones; a layer whose inputs are
    dense gains up to a higher density than one whose inputs are winners.

    Examples
    --------
    >>> from sklearn_sparse_act._backends.cost_model import numba_connection_path
    >>> numba_connection_path(0.1), numba_connection_path(0.2)
    (True, False)
    >>> numba_connection_path(0.3, dense_inputs=True)
    True
    """
    if dense_inputs:
        return density <= NUMBA_DENSE_INPUT_CROSSOVER
    return density <= NUMBA_CONNECTION_CROSSOVER


# ----------------------------------------------------------------------
# Who gets the cores (numba backend)
# ----------------------------------------------------------------------
# Single-threaded seconds per unit of Work (float64, batches of 200 rows): a
# multiply-add of BLAS's dense products, a multiply-add of the compiled
# products over winners, a score the winners are selected from (NumPy's
# partition and the winners pass), a parameter of the Adam step.
# calibrate_cost_model.py, "numba: seconds per unit of work".
BLAS_MADD_SECONDS = 0.06e-9
KERNEL_MADD_SECONDS = 0.55e-9
SELECTED_SCORE_SECONDS = 8e-9
PARAMETER_SECONDS = 3e-9
# Single-threaded seconds per entry of the L2 penalty's sum of squares.
# calibrate_cost_model.py, "numba: seconds per unit of work".
SQUARED_ENTRY_SECONDS = 0.3e-9

# With the cores, on n threads, the kernels save (1 - 1/n) of their time and
# BLAS loses as much of its own, so the kernels get the cores when their
# estimated time exceeds BLAS's by more than this: n / (n - 1) times the
# cost of waking the threads for each parallel region of a training step
# (the threads sleep between regions: passive waiting).
# calibrate_cost_model.py, "numba: margin of the parallel regions".
PARALLEL_MARGIN_SECONDS = 1e-3

# What a parallel region of a training step costs beyond its share of the
# work: waking numba's sleeping threads while this thread keeps working
# between the regions (on a virtual machine, waking the idle processor they
# run on as well). A region over less work than this saves is slower than the
# serial twin.
# calibrate_cost_model.py, "numba: wake-up of a parallel region".
REGION_WAKE_SECONDS = 60e-6

# Fewest rows on which a kernel runs in a parallel region (fewer rows run
# the serial kernels, which launch no threads); a lane of a prediction gets
# at least this many rows.
# calibrate_cost_model.py, "numba: fewest rows of a parallel region".
MIN_PARALLEL_ROWS = 32

# Fewest scores per block of rows that NumPy's partition handles in a thread
# of its own (below, the thread costs what it saves).
# calibrate_cost_model.py, "numba: fewest scores per partition block".
MIN_PARTITION_BLOCK = 204800


# Largest share of a row's units that win for which the filtered top-k
# selection (a compiled pass per row through about four candidates per
# winner) is faster than NumPy's partition followed by the winners pass: it
# costs less per score and more per winner. Measured on 200 rows of 1024
# scores, in parallel (a training step) and on one thread (a lane of a
# prediction): the larger quotient decides.
# calibrate_cost_model.py, "numba: filtered top-k selection".
FILTERED_TOP_K_MAX_RATIO = 0.05


def kernel_seconds(work):
    """Estimated single-threaded seconds of the compiled kernels' part of
    ``work`` (a :class:`~.interface.Work`)."""
    return (
        work.kernel_madds * KERNEL_MADD_SECONDS
        + work.selected_scores * SELECTED_SCORE_SECONDS
        + work.parameters * PARAMETER_SECONDS
    )


def blas_seconds(work):
    """Estimated single-threaded seconds of BLAS's part of ``work``."""
    return work.blas_madds * BLAS_MADD_SECONDS


def kernels_take_the_cores(work):
    """Whether ``work`` runs faster with the kernels on every core and BLAS
    on one than the other way round.

    Examples
    --------
    >>> from sklearn_sparse_act._backends.cost_model import kernels_take_the_cores
    >>> from sklearn_sparse_act._backends.interface import Work
    >>> kernels_take_the_cores(Work(blas_madds=10**9, kernel_madds=10**6))
    False
    >>> kernels_take_the_cores(Work(blas_madds=10**6, kernel_madds=10**9))
    True
    """
    return kernel_seconds(work) - blas_seconds(work) > PARALLEL_MARGIN_SECONDS


def region_pays(serial_seconds, n_threads):
    """Whether a kernel estimated to take ``serial_seconds`` on one thread
    finishes sooner in a parallel region, whose ``n`` threads save
    ``(1 - 1/n)`` of it against the region's wake-up, than on one thread;
    ``n_threads()`` gives ``n``, called only when the work could pay.

    Examples
    --------
    >>> from sklearn_sparse_act._backends.cost_model import region_pays
    >>> region_pays(1e-3, lambda: 2), region_pays(50e-6, lambda: 2)
    (True, False)
    >>> region_pays(1e-3, lambda: 1)
    False
    """
    if serial_seconds <= REGION_WAKE_SECONDS:
        return False
    n = n_threads()
    return n > 1 and serial_seconds * (1 - 1 / n) > REGION_WAKE_SECONDS


def runs_in_parallel(n_rows):
    """Whether a kernel over ``n_rows`` rows runs in a parallel region (the
    serial kernels run otherwise, and a pass over so few rows leaves the
    thread settings alone)."""
    return n_rows >= MIN_PARALLEL_ROWS


def predicts_in_lanes(n_rows, work_in_flight):
    """Whether a prediction over ``n_rows`` rows runs its chunks in lanes
    (each on one core, everything in it serial); ``work_in_flight()`` gives
    the :class:`~.interface.Work` of the rows in flight at once, called only
    when there are rows enough for two lanes.

    Weighed on the rows in flight at once: the lanes pay no wake-up per
    chunk, only one hand-off per call.
    """
    return n_rows >= 2 * MIN_PARALLEL_ROWS and kernels_take_the_cores(work_in_flight())


def lane_rows(rows_in_flight, n_cores):
    """Rows per chunk of a prediction in lanes: the rows in flight shared by
    the machine's ``n_cores`` cores, at least ``MIN_PARALLEL_ROWS``.

    Examples
    --------
    >>> from sklearn_sparse_act._backends.cost_model import lane_rows
    >>> lane_rows(1000, 2), lane_rows(40, 2)
    (500, 32)
    """
    return max(MIN_PARALLEL_ROWS, rows_in_flight // n_cores)


def partition_blocks(n_scores, n_threads):
    """In how many blocks of rows NumPy's partition runs over ``n_scores``
    scores (1: all at once); ``n_threads()`` gives the threads that can run
    blocks, called only when more than one block could pay.

    Examples
    --------
    >>> from sklearn_sparse_act._backends.cost_model import partition_blocks
    >>> partition_blocks(200 * 256, lambda: 2), partition_blocks(200 * 4096, lambda: 2)
    (1, 2)
    """
    n_blocks = n_scores // MIN_PARTITION_BLOCK
    if n_blocks < 2:
        return 1
    return min(n_threads(), n_blocks)


def filtered_top_k_pays(n_active, width):
    """Whether the filtered top-k selection picks the ``n_active`` winners
    of rows of ``width`` scores (else NumPy's partition and the winners
    pass).

    Examples
    --------
    >>> from sklearn_sparse_act._backends.cost_model import filtered_top_k_pays
    >>> filtered_top_k_pays(20, 1024), filtered_top_k_pays(102, 1024)
    (True, False)
    """
    return n_active <= FILTERED_TOP_K_MAX_RATIO * width
