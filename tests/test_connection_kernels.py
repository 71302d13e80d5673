"""The numba kernels over present weights against the NumPy reference (masked
dense products), and whole fits with sparse connections on both backends."""

import numpy as np
import pytest
from conftest import training_pass
from sklearn.datasets import make_classification

from sklearn_sparse_act import SparseMLPClassifier, config_context
from sklearn_sparse_act._backends import (
    cost_model,
    get_backend,
    numba_available,
    numpy_kernels,
)
from sklearn_sparse_act._backends.interface import Connections, PresentGradient, Work
from sklearn_sparse_act._connections import _draw_mask
from sklearn_sparse_act._network import Network
from sklearn_sparse_act._sparsity import InferenceRules, TopK

pytestmark = [
    pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning"),
    pytest.mark.skipif(not numba_available(), reason="numba not installed"),
]

# Two backends computing the same numbers in a different order: a few hundred
# units of round-off of each dtype (as in test_backends.py).
TOLERANCES = {
    np.float64: dict(rtol=1e-10, atol=1e-12),
    np.float32: dict(rtol=1e-5, atol=1e-6),
}


@pytest.fixture
def on_the_connections_path(monkeypatch):
    """Every sparse layer takes the numba kernels over its present weights."""
    monkeypatch.setattr(cost_model, "NUMBA_CONNECTION_CROSSOVER", 1.0)
    monkeypatch.setattr(cost_model, "NUMBA_DENSE_INPUT_CROSSOVER", 1.0)


def _layer(rng, fan_in, width, inputs, dtype):
    mask = _draw_mask(fan_in, width, inputs, rng)
    weights = (rng.normal(size=(fan_in, width)) * mask).astype(dtype)
    weights[~mask] = 0
    return weights, Connections(mask)


def _numba_present():
    """The numba backend's products over present weights (imported only
    where numba is)."""
    from sklearn_sparse_act._backends import _numba_present

    return _numba_present


def _winners(rng, n_rows, width, n_active, dtype):
    values = rng.normal(size=(n_rows, width)).astype(dtype)
    return numpy_kernels.select(values, TopK(n_active), "relu").with_values(
        rng.uniform(0.1, 1, size=n_rows * n_active).astype(dtype)
    )


@pytest.mark.parametrize("n_rows", [70, 5])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_kernels_over_present_weights_match_numpy(
    dtype, n_rows, on_the_connections_path
):
    """70 rows run the parallel kernels, 5 the serial twins; 45 units make
    one full block of the forward product's 32 units and a partial one, 7
    inputs per unit leave the last group of four inputs partial."""
    numba_kernels = get_backend("numba")
    rng = np.random.RandomState(0)
    weights, connections = _layer(rng, 64, 45, 7, dtype)
    bias = rng.normal(size=45).astype(dtype)
    dense_in = rng.normal(size=(n_rows, 64)).astype(dtype)
    winners_in = _winners(rng, n_rows, 64, 6, dtype)
    delta = _winners(rng, n_rows, 45, 9, dtype)
    tolerance = TOLERANCES[dtype]

    def agree(function, *args):
        ours = getattr(numba_kernels, function)(*args, connections)
        reference = getattr(numpy_kernels, function)(*args, connections)
        whole = np.asarray(ours)
        np.testing.assert_allclose(whole, reference, **tolerance)
        assert whole.dtype == dtype and whole.flags.c_contiguous
        return ours

    for inputs in (dense_in, winners_in):
        values = agree("forward", inputs, weights, bias)
        # The same kernel over the same present weights, gathered beforehand
        # for this product; weights held for the other product are not read.
        for dense_inputs in (True, False):
            held = numba_kernels.hold_weights(weights, connections, dense_inputs)
            np.testing.assert_array_equal(
                numba_kernels.forward(inputs, weights, bias, connections, held=held),
                values,
            )
        grad = agree("weight_gradient", inputs, delta, weights, 1e-3, 37.5)
        # Held at the present weights only, in C order; made whole, +0.0 at
        # the absent ones.
        assert isinstance(grad, PresentGradient)
        np.testing.assert_array_equal(grad.positions, connections.positions)
        assert grad.values.dtype == dtype
        whole = np.asarray(grad)
        assert not np.any(whole[~connections.mask])
        assert not np.signbit(whole[~connections.mask]).any()


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_the_product_from_dense_inputs_is_split_into_rows_and_inputs_exactly(
    dtype,
):
    """The forward product from dense inputs goes over blocks of rows and
    chunks of inputs; each output is still one unit's sum over its inputs in
    their order, so any split gives the same bits as one chunk (equal by
    construction). More rows than a block, and chunks of one input, of
    three (groups of four inputs straddling chunks) and of all inputs."""
    from sklearn_sparse_act._backends import _numba_connections as kernels

    rng = np.random.RandomState(1)
    n_features, width = 50, 45
    n_rows = kernels.ROW_BLOCK + 13
    weights, connections = _layer(rng, n_features, width, 11, dtype)
    present = _numba_present().present_weights_by_unit(weights, connections)
    bias = rng.normal(size=width).astype(dtype)
    inputs = rng.normal(size=(n_rows, n_features)).astype(dtype)
    inputs_t = np.ascontiguousarray(inputs.T)
    reference = numpy_kernels.forward(inputs, weights, bias, connections)
    outputs = {}
    for chunk in (1, 3, n_features):
        for product in (kernels.forward_by_unit, kernels.forward_by_unit_serial):
            out = np.full((n_rows, width), np.nan, dtype=dtype)
            product(inputs_t, *connections.by_unit, present, bias, out, chunk)
            np.testing.assert_allclose(out, reference, **TOLERANCES[dtype])
            outputs[chunk, product] = out
    whole = outputs[n_features, kernels.forward_by_unit]
    for out in outputs.values():
        np.testing.assert_array_equal(out, whole)
    # A block's inputs beyond UNCHUNKED_BYTES go in chunks of CHUNK_BYTES,
    # fewer in one.
    wide = kernels.UNCHUNKED_BYTES // (kernels.ROW_BLOCK * 8) + 1
    assert kernels.chunk_inputs(wide, n_rows, 8) == kernels.CHUNK_BYTES // (
        kernels.ROW_BLOCK * 8
    )
    assert kernels.chunk_inputs(wide - 1, n_rows, 8) == wide - 1
    assert kernels.chunk_inputs(10**6, 10, 4) == kernels.CHUNK_BYTES // 40


LAID_OUT_FORMS = (
    "by_unit",
    "by_input",
    "positions",
    "unit_positions",
    "entries_by_unit",
    "entries_in_c_order",
)


def _masks(rng):
    """Masks of every shape a layer's connections take: random densities,
    an input reaching no unit and a unit with no input (as ``compact()`` can
    leave), a single unit, none present, all present, and a transposed
    (Fortran-ordered) view."""
    masks = [
        rng.random(shape) < density
        for shape, density in (
            ((784, 300), 0.1),
            ((64, 100), 0.3),
            ((100, 10), 0.5),
            ((7, 1), 0.5),
        )
    ]
    gaps = rng.random((30, 20)) < 0.4
    gaps[3] = False
    gaps[:, 5] = False
    return [*masks, gaps, np.zeros((5, 4), bool), np.ones((5, 4), bool), masks[1].T]


def test_the_compiled_layout_gives_the_numpy_forms_of_the_connections():
    from sklearn_sparse_act._backends._numba_layout import lay_out_connections

    for mask in _masks(np.random.default_rng(0)):
        reference = Connections(mask)
        laid_out = Connections(mask, lay_out_connections)
        for name in LAID_OUT_FORMS:
            expected = getattr(reference, name)
            got = getattr(laid_out, name)
            expected = expected if isinstance(expected, tuple) else (expected,)
            got = got if isinstance(got, tuple) else (got,)
            for ours, theirs in zip(got, expected, strict=True):
                assert ours.dtype == theirs.dtype, name
                np.testing.assert_array_equal(ours, theirs, err_msg=name)


def test_a_network_lays_out_its_connections_with_its_backend():
    mask = np.random.default_rng(0).random((6, 5)) < 0.5
    coefs = [np.zeros((6, 5)), np.zeros((5, 2))]
    intercepts = [np.zeros(5), np.zeros(2)]
    for backend in (numpy_kernels, get_backend("numba")):
        network = Network(coefs, intercepts, "relu", "softmax", backend, [mask])
        connections = network.connections(0)
        assert connections._lay_out is backend.lay_out_connections
        np.testing.assert_array_equal(connections.positions, np.flatnonzero(mask))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_present_weights_follow_the_connections_by_input_and_by_unit(dtype):
    """The packed weights the products read: entry ``e`` of input ``i``'s
    run is the weight from ``i`` to unit ``input_units[e]``; entry ``e`` of
    unit ``u``'s run the weight from input ``unit_inputs[e]`` to ``u``."""
    rng = np.random.RandomState(2)
    weights, connections = _layer(rng, 23, 17, 5, dtype)
    # The kernels' indices are unsigned 32-bit, their pointers int64.
    indices = [
        connections.by_unit[1],
        connections.by_input[1],
        connections.positions,
        connections.unit_positions,
        connections.entries_by_unit,
        connections.entries_in_c_order,
    ]
    assert {index.dtype for index in indices} == {np.dtype(np.uint32)}
    assert connections.by_unit[0].dtype == connections.by_input[0].dtype == np.int64
    by_input = _numba_present().present_weights(weights, connections.positions)
    input_ptr, input_units = connections.by_input
    assert by_input.dtype == dtype and by_input.shape == (17 * 5,)
    for source in range(23):
        run = slice(input_ptr[source], input_ptr[source + 1])
        np.testing.assert_array_equal(by_input[run], weights[source, input_units[run]])
    # Unit by unit, gathered in C order (the kernel) as read unit by unit.
    by_unit = _numba_present().present_weights_by_unit(weights, connections)
    np.testing.assert_array_equal(
        by_unit, np.take(weights.reshape(-1), connections.unit_positions)
    )
    np.testing.assert_array_equal(
        connections.positions[connections.entries_by_unit], connections.unit_positions
    )
    unit_ptr, unit_inputs = connections.by_unit
    for unit in range(17):
        run = slice(unit_ptr[unit], unit_ptr[unit + 1])
        np.testing.assert_array_equal(by_unit[run], weights[unit_inputs[run], unit])
    # A weight array that is not C-contiguous packs the same values.
    np.testing.assert_array_equal(
        _numba_present().present_weights(
            np.asfortranarray(weights), connections.positions
        ),
        by_input,
    )


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_optimizer_steps_over_present_weights_match_numpy(
    dtype, on_the_connections_path
):
    """The steps at the present weights, whose state holds those only, are
    the steps over the whole arrays with a state zero at the absent weights:
    NumPy's with the same bits, numba's up to round-off, and the absent
    weights stay +0.0."""
    numba_kernels = get_backend("numba")
    rng = np.random.RandomState(1)
    weights, connections = _layer(rng, 30, 20, 9, dtype)
    bias = rng.normal(size=20).astype(dtype)

    def masked(array):
        array = array.astype(dtype)
        array[~connections.mask] = 0
        return array

    def present(arrays):
        """The weights' array at the present weights (C order), the bias's
        whole."""
        return [arrays[0][connections.mask], arrays[1].copy()]

    grads = [masked(rng.normal(size=(30, 20))), rng.normal(size=20).astype(dtype)]
    firsts = [masked(rng.normal(size=(30, 20))), np.zeros(20, dtype)]
    seconds = [masked(np.abs(rng.normal(size=(30, 20)))), np.ones(20, dtype)]
    # The weights' gradient held at the present weights, as the kernels from
    # winners give it.
    held = PresentGradient(
        grads[0][connections.mask], connections.positions, grads[0].shape
    )

    def steps(backend, given, state, velocities, connected):
        params = [weights.copy(), bias.copy()]
        backend.adam_update(
            params,
            given,
            state[:2],
            state[2:],
            1e-3,
            (0.9, 0.999),
            1e-8,
            {},
            connected,
        )
        for nesterov in (False, True):
            backend.sgd_update(params, given, velocities, 0.1, 0.9, nesterov, connected)
        return params + state + velocities

    whole = steps(
        numpy_kernels,
        grads,
        [a.copy() for a in firsts + seconds],
        [a.copy() for a in firsts],
        None,
    )
    # The state of the whole arrays, at the present weights: the first and
    # second moments, then the velocities (each the weights', the bias's).
    reference = whole[:2]
    for layer_state in (whole[2:4], whole[4:6], whole[6:8]):
        reference += present(layer_state)
    results = {}
    for name, backend, given in (
        ("numpy", numpy_kernels, grads),
        ("numba", numba_kernels, grads),
        ("held", numba_kernels, [held, grads[1]]),
    ):
        results[name] = steps(
            backend,
            given,
            present(firsts) + present(seconds),
            present(firsts),
            [connections, None],
        )
    for ours, expected in zip(results["numpy"], reference, strict=True):
        np.testing.assert_array_equal(ours, expected)
    for ours, expected in zip(results["numba"], reference, strict=True):
        np.testing.assert_allclose(ours, expected, **TOLERANCES[dtype])
    for held_step, whole_step in zip(results["held"], results["numba"], strict=True):
        np.testing.assert_array_equal(held_step, whole_step)
    assert not np.any(results["numba"][0][~connections.mask])
    assert not np.signbit(results["numba"][0][~connections.mask]).any()


@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("backend_name", ["numpy", "numba"])
def test_optimizer_steps_keep_copies_of_present_weights(
    backend_name, order, on_the_connections_path
):
    """A copy of the present weights given to the steps (unit by unit, as
    the product from dense inputs reads them, or in C order, as the one from
    winners does) takes every new weight: after Adam and SGD steps it holds
    exactly the weights' present entries in its order. A weight array that
    is not C-contiguous takes NumPy's step on either backend, and its copy
    the same weights."""
    backend = get_backend(backend_name)
    rng = np.random.RandomState(3)
    weights, connections = _layer(rng, 30, 20, 9, np.float64)
    weights = np.asarray(weights, order=order)
    bias = rng.normal(size=20)
    grads = [rng.normal(size=(30, 20)), rng.normal(size=20)]
    grads[0][~connections.mask] = 0
    n_present = connections.positions.size
    for dense_inputs in (True, False):
        params = [weights.copy(order="K"), bias.copy()]
        held = _numba_present().hold_weights(params[0], connections, dense_inputs)
        assert held.dense_inputs == dense_inputs
        kept = [held, None]
        backend.adam_update(
            params,
            grads,
            [np.zeros(n_present), np.zeros(20)],
            [np.zeros(n_present), np.zeros(20)],
            1e-2,
            (0.9, 0.999),
            1e-8,
            {},
            [connections, None],
            kept,
        )
        backend.sgd_update(
            params,
            grads,
            [np.zeros(n_present), np.zeros(20)],
            0.1,
            0.9,
            True,
            [connections, None],
            kept,
        )
        assert not np.array_equal(params[0], weights)
        order_of_copy = (
            connections.unit_positions if dense_inputs else connections.positions
        )
        np.testing.assert_array_equal(
            held.values, np.take(params[0].reshape(-1, order="C"), order_of_copy)
        )


@pytest.mark.parametrize("solver", ["adam", "sgd"])
def test_fits_reading_kept_copies_match_fits_gathering_the_weights(
    solver, on_the_connections_path, monkeypatch
):
    """A stochastic fit's products read copies of the sparse layers' present
    weights that its optimizer's steps keep equal to them; a fit whose
    backend holds no copy gathers the weights at every product. Both read
    the same numbers: the weights have the same bits, and the losses differ
    by round-off only (a copy's squared norm sums the same squares in
    another grouping, without the absent weights' zeros: a relative 1e-12
    is thousands of times the float64 round-off of these sums). The first
    layer's copy is unit by unit, the second's in C order; early stopping
    restores the best epoch's weights."""
    numba_kernels = get_backend("numba")
    X, y = make_classification(
        n_samples=300, n_features=20, n_informative=10, n_classes=3, random_state=0
    )
    params = dict(
        hidden_layer_sizes=(32, 24),
        activation_ratio=0.25,
        weight_density=0.3,
        solver=solver,
        batch_size=64,
        max_iter=6,
        early_stopping=True,
        validation_fraction=0.2,
        random_state=0,
    )
    hold_weights = numba_kernels.hold_weights
    copies = []

    def recording_hold_weights(weights, connections, dense_inputs):
        copies.append(dense_inputs)
        return hold_weights(weights, connections, dense_inputs)

    with config_context(kernels="numba"):
        monkeypatch.setattr(numba_kernels, "hold_weights", recording_hold_weights)
        kept = SparseMLPClassifier(**params).fit(X, y)
        made = list(copies)
        monkeypatch.setattr(numba_kernels, "hold_weights", lambda *args: None)
        gathered = SparseMLPClassifier(**params).fit(X, y)
    # The first step made one copy per layer, of each order.
    assert made[:2] == [True, False]
    for ours, expected in zip(kept.coefs_, gathered.coefs_, strict=True):
        np.testing.assert_array_equal(ours, expected)
    np.testing.assert_allclose(kept.loss_curve_, gathered.loss_curve_, rtol=1e-12)
    assert kept.validation_scores_ == gathered.validation_scores_


@pytest.mark.parametrize("solver", ["adam", "sgd"])
def test_backends_agree_on_fits_with_sparse_connections(
    solver, on_the_connections_path
):
    """(32, 24) with density 0.3 and ratio 0.25: the first layer takes the
    kernels from dense inputs, the second from winners."""
    X, y = make_classification(n_samples=150, n_features=20, random_state=0)
    params = dict(
        hidden_layer_sizes=(32, 24),
        activation_ratio=0.25,
        weight_density=0.3,
        solver=solver,
        max_iter=5,
        random_state=0,
    )
    fitted = {}
    for backend in ("numpy", "numba"):
        with config_context(kernels=backend):
            fitted[backend] = SparseMLPClassifier(**params).fit(X, y)
    numba_model, numpy_model = fitted["numba"], fitted["numpy"]
    # The tolerance of test_backends.py's whole fits.
    for ours, reference in zip(numba_model.coefs_, numpy_model.coefs_, strict=True):
        np.testing.assert_allclose(ours, reference, **TOLERANCES[np.float64])
    for mask, coef in zip(
        numba_model.connection_masks_, numba_model.coefs_, strict=False
    ):
        assert not np.any(coef[~mask])
    Y = numpy_model._label_binarizer.transform(y).astype(float)
    grads = {}
    for backend in ("numpy", "numba"):
        with config_context(kernels=backend):
            loss, _, gradients = training_pass(numpy_model, X, Y)
        grads[backend] = [loss, *gradients.coef_grads]
    for ours, reference in zip(grads["numba"], grads["numpy"], strict=True):
        np.testing.assert_allclose(ours, reference, rtol=1e-10, atol=1e-13)


def test_work_counts_the_present_weights_on_the_connections_path(
    on_the_connections_path,
):
    """10 inputs -> 64 units (6 winners, 2 inputs each) -> 3 outputs: the
    first layer's forward product and its gradient at the winners move from
    BLAS to the kernels, at the layer's density (0.2); so does its share of
    the optimizer step."""
    rng = np.random.RandomState(0)
    mask = _draw_mask(10, 64, 2, rng)
    coefs = [rng.normal(size=(10, 64)) * mask, rng.normal(size=(64, 3))]
    intercepts = [np.zeros(64), np.zeros(3)]
    network = Network(
        coefs, intercepts, "relu", "softmax", get_backend("numba"), [mask]
    )
    step = network.work([6], n_rows=5, training=True)
    assert step == Work(
        blas_madds=0,
        kernel_madds=int(5 * (0.2 * 10 * 64 + 0.2 * 10 * 6 + 3 * 6 * 3)),
        selected_scores=5 * 64,
        parameters=int(0.2 * 10 * 64) + 64 * 3 + 64 + 3,
    )
    # Prediction multiplies the whole matrix, on BLAS...
    assert network.work([6], n_rows=5, training=False).blas_madds == 5 * 10 * 64
    # ... unless the network is one that trains: then its passes at
    # prediction skip the absent weights as well (and take no optimizer step).
    training_network = Network(
        coefs,
        intercepts,
        "relu",
        "softmax",
        get_backend("numba"),
        [mask],
        predicts_over_connections=True,
    )
    assert training_network.work([6], n_rows=5, training=False) == Work(
        blas_madds=0,
        kernel_madds=int(5 * (0.2 * 10 * 64 + 6 * 3)),
        selected_scores=5 * 64,
        parameters=0,
    )


def test_layers_from_dense_inputs_take_the_kernels_to_their_own_crossover(
    monkeypatch,
):
    """At a density between the two crossovers the product from dense inputs
    runs over the present weights and the one from winners on the dense
    weights, and the network's work counts them so."""
    monkeypatch.setattr(cost_model, "NUMBA_CONNECTION_CROSSOVER", 0.1)
    monkeypatch.setattr(cost_model, "NUMBA_DENSE_INPUT_CROSSOVER", 0.3)
    numba_kernels = get_backend("numba")
    forward_at = numba_kernels.forward_at
    over_present = []

    def recording_forward_at(inputs, *args, **kwargs):
        over_present.append(type(inputs).__name__)
        return forward_at(inputs, *args, **kwargs)

    monkeypatch.setattr(numba_kernels, "forward_at", recording_forward_at)
    rng = np.random.RandomState(0)
    weights, connections = _layer(rng, 20, 30, 6, np.float64)
    bias = np.zeros(30)
    numba_kernels.forward(rng.normal(size=(5, 20)), weights, bias, connections)
    numba_kernels.forward(
        _winners(rng, 5, 20, 4, np.float64), weights, bias, connections
    )
    assert over_present == ["ndarray"]
    masks = [_draw_mask(20, 64, 6, rng), _draw_mask(64, 32, 19, rng)]
    coefs = [rng.normal(size=mask.shape) * mask for mask in masks]
    network = Network(
        [*coefs, rng.normal(size=(32, 3))],
        [np.zeros(64), np.zeros(32), np.zeros(3)],
        "relu",
        "softmax",
        numba_kernels,
        masks,
    )
    assert network._kernel_density(0, dense_inputs=True) == 0.3
    assert network._kernel_density(1, dense_inputs=False) is None
    assert network._kernel_density(1, dense_inputs=True) == 19 / 64


def test_the_fitting_network_predicts_over_its_connections(
    monkeypatch, on_the_connections_path
):
    """Every product of the sparse layer in ``fit`` (the steps, the
    validation score of early stopping, the pass over the training data at
    the end) is given its connections and a copy of its present weights as
    they are now (the steps' copy, kept by the optimizer's steps; the
    passes of predictions', gathered for the pass); ``predict`` multiplies
    the dense weights."""
    backend = get_backend("numba")
    forward = backend.forward
    over_connections = []

    def recording_forward(inputs, weights, bias, connections=None, out=None, held=None):
        if weights.shape == (20, 32):
            over_connections.append((connections is not None, held is not None))
            if held is not None:
                # Held for the product from dense inputs, at the weights as
                # they are now, not as they were.
                now = _numba_present().present_weights_by_unit(weights, connections)
                assert held.dense_inputs
                np.testing.assert_array_equal(held.values, now)
        return forward(inputs, weights, bias, connections, out=out, held=held)

    monkeypatch.setattr(backend, "forward", recording_forward)
    X, y = make_classification(n_samples=150, n_features=20, random_state=0)
    model = SparseMLPClassifier(
        hidden_layer_sizes=(32,),
        activation_ratio=0.25,
        weight_density=0.3,
        early_stopping=True,
        max_iter=3,
        random_state=0,
    )
    with config_context(kernels="numba"):
        model.fit(X, y)
        # One batch of 135 training rows per epoch, a validation score of 15
        # rows after each, and the pass over the training data at the end.
        assert over_connections == [(True, True)] * 7
        over_connections.clear()
        model.predict(X)
    assert over_connections == [(False, False)]


def test_a_network_holds_each_layers_weights_for_the_product_it_takes(
    on_the_connections_path,
):
    """The first layer's present weights are held for the product from
    dense inputs, the second's for the product from the first layer's
    winners (or from its dense outputs, when every unit fires); the held
    network predicts the very numbers of the one that gathers per call."""
    numba_kernels = get_backend("numba")
    rng = np.random.RandomState(4)
    masks = [_draw_mask(12, 40, 5, rng), _draw_mask(40, 30, 9, rng)]
    coefs = [rng.normal(size=mask.shape) * mask for mask in masks]
    network = Network(
        [*coefs, rng.normal(size=(30, 3))],
        [rng.normal(size=40), rng.normal(size=30), np.zeros(3)],
        "relu",
        "softmax",
        numba_kernels,
        masks,
        predicts_over_connections=True,
    )
    X = rng.normal(size=(25, 12))
    for active_units, second_from_dense in (([6, 5], False), ([40, 30], True)):
        held = network.holding_weights(active_units, n_rows=25)
        assert [held._held[layer].dense_inputs for layer in (0, 1)] == [
            True,
            second_from_dense,
        ]
        rules = InferenceRules("fixed", active_units, None)
        hidden, _ = held.hidden_layers(X, rules)
        expected, _ = network.hidden_layers(X, rules)
        np.testing.assert_array_equal(held.output(hidden), network.output(expected))
    # A network made for one prediction call holds nothing.
    network.predicts_over_connections = False
    assert network.holding_weights([6, 5], n_rows=25) is network
