"""The deliberate bugs of :mod:`mutation_check`, as data.

Each :class:`Mutation` replaces one exact piece of a file's source (it must
occur exactly once) and names the kernel backends whose code runs it and the
tests expected to catch it: a bug in a shared module runs under both
backends; a bug in one backend's kernel is planted once per twin
(``numpy_kernels.py`` and the ``_numba_*.py`` kernel modules), each run with
its backend.
"""

from dataclasses import dataclass

BACKENDS = ("numpy", "numba")
NUMPY_ONLY = ("numpy",)
NUMBA_ONLY = ("numba",)

# Test files, by the concern they cover.
SPARSITY = "tests/test_sparsity.py"
TRAINING = "tests/test_training_semantics.py"
CONTROLS = "tests/test_controls.py"
GRADIENTS = "tests/test_gradients.py"
KERNELS = "tests/test_backends.py"
ESTIMATORS = "tests/test_estimators.py"
CODES = "tests/test_codes.py"
ONNX = "tests/test_onnx.py"
OUT_OF_CORE = "tests/test_out_of_core.py"
CONNECTIONS = "tests/test_connections.py"
CONNECTION_KERNELS = "tests/test_connection_kernels.py"
BOOST_PREDICTION = "tests/test_boost_prediction.py"
QUOTA_ROWS = "tests/test_batch_quota_rows.py"
FILTERED_TOP_K = "tests/test_filtered_top_k.py"
EXTREMES = "tests/test_extremes.py"


@dataclass(frozen=True)
class Mutation:
    """A deliberate bug: ``original`` replaced by ``replacement`` in ``path``."""

    name: str
    description: str
    path: str
    original: str
    replacement: str
    backends: tuple
    selection: tuple


MUTATIONS = (
    # ------------------------------------------------------------------
    # Winner selection and prediction
    # ------------------------------------------------------------------
    Mutation(
        name="fixed-predicts-k-plus-one",
        description="'fixed' keeps k + 1 winners per row at prediction",
        path="sklearn_sparse_act/_sparsity.py",
        original="""\
    def inference_selection(self, n_active, threshold):
        return TopK(n_active)
""",
        replacement="""\
    def inference_selection(self, n_active, threshold):
        return TopK(n_active + 1)
""",
        backends=BACKENDS,
        selection=(SPARSITY, CONTROLS),
    ),
    Mutation(
        name="ties-go-right",
        description="ties at the k-th value go to the highest columns (NumPy rule)",
        path="sklearn_sparse_act/_sparsity.py",
        original="mask[tied_rows] = above | (at_kth & (np.cumsum(at_kth, axis=1) "
        "<= places))",
        replacement="mask[tied_rows] = above | (at_kth & (np.cumsum(at_kth[:, ::-1]"
        ", axis=1)[:, ::-1] <= places))",
        backends=BACKENDS,
        selection=(SPARSITY, KERNELS),
    ),
    Mutation(
        name="ties-go-right-numba",
        description="ties at the k-th value go to the highest columns (numba "
        "top-k kernel)",
        path="sklearn_sparse_act/_backends/_numba_selection.py",
        original="""\
    ties_left = n_active - n_above
    for candidate in range(n_candidates):
        column = candidates[candidate]
        score = row_scores[column]
        if _above(score, kth):
            pass
        elif ties_left > 0 and _tied(score, kth):
            ties_left -= 1
""",
        replacement="""\
    ties_left = n_active - n_above
    ties_skipped = -ties_left
    for candidate in range(n_candidates):
        ties_skipped += _tied(row_scores[candidates[candidate]], kth)
    for candidate in range(n_candidates):
        column = candidates[candidate]
        score = row_scores[column]
        if _above(score, kth):
            pass
        elif _tied(score, kth) and ties_skipped > 0:
            ties_skipped -= 1
            continue
        elif _tied(score, kth):
            pass
""",
        backends=NUMBA_ONLY,
        selection=(KERNELS, SPARSITY),
    ),
    Mutation(
        name="filtered-top-k-wraps-the-top-bucket",
        description="the filtered top-k selection counts the largest "
        "candidate in the lowest bucket",
        path="sklearn_sparse_act/_backends/_numba_selection.py",
        original="    return bucket if bucket < last else last\n",
        replacement="    return bucket if bucket < last else 0\n",
        backends=NUMBA_ONLY,
        selection=(FILTERED_TOP_K, KERNELS),
    ),
    Mutation(
        name="few-winners-skip-the-filtered-pass",
        description="the cost model never chooses the filtered top-k selection",
        path="sklearn_sparse_act/_backends/cost_model.py",
        original="    return n_active <= FILTERED_TOP_K_MAX_RATIO * width\n",
        replacement="    return False\n",
        backends=NUMBA_ONLY,
        selection=(FILTERED_TOP_K,),
    ),
    # ------------------------------------------------------------------
    # 'dynamic' thresholds
    # ------------------------------------------------------------------
    Mutation(
        name="dynamic-thresholds-unsettled",
        description="the 'dynamic' thresholds are not settled at the end of fit",
        path="sklearn_sparse_act/_hidden_sparsity.py",
        original="""\
        if self.thresholds is None:
            return {}, None
        boost_factors = self.boosting.frozen_factors()
""",
        replacement="""\
        if True:
            return {}, None
        boost_factors = self.boosting.frozen_factors()
""",
        backends=BACKENDS,
        selection=(SPARSITY, TRAINING),
    ),
    Mutation(
        name="settling-record-skips-unseen-rows",
        description="the training winners recorded while settling leave out "
        "the rows settling did not see",
        path="sklearn_sparse_act/_prediction.py",
        original="        if unseen.size:\n",
        replacement="        if False:\n",
        backends=BACKENDS,
        selection=(TRAINING,),
    ),
    Mutation(
        name="settling-record-drops-lower-layers",
        description="the training winners recorded while settling miss the "
        "layers below the last",
        path="sklearn_sparse_act/_prediction.py",
        original="            seen |= won\n",
        replacement="            pass\n",
        backends=BACKENDS,
        selection=(TRAINING,),
    ),
    Mutation(
        name="settling-lanes-drop-a-chunk",
        description="the settling pass in lanes passes over one chunk of each "
        "group of lanes only",
        path="sklearn_sparse_act/_backends/_numba_threads.py",
        original="        yield from results\n",
        replacement="        yield from results[:1]\n",
        backends=NUMBA_ONLY,
        selection=(KERNELS,),
    ),
    Mutation(
        name="dynamic-candidates-miss-the-window",
        description="a 'dynamic' training batch's candidates are only the "
        "entries above its window, so winners inside the window are lost",
        path="sklearn_sparse_act/_backends/_numba_quota.py",
        original="                n_candidates += values[row, column] >= low\n",
        replacement="                n_candidates += values[row, column] >= high\n",
        backends=NUMBA_ONLY,
        selection=(QUOTA_ROWS,),
    ),
    Mutation(
        name="settling-ignores-sample-weight",
        description="settling the 'dynamic' thresholds ignores sample_weight",
        path="sklearn_sparse_act/_hidden_sparsity.py",
        original="weights = None if sample_weight is None else sample_weight[rows]",
        replacement="weights = None",
        backends=BACKENDS,
        selection=(TRAINING, SPARSITY),
    ),
    # ------------------------------------------------------------------
    # Sparsity controls
    # ------------------------------------------------------------------
    Mutation(
        name="boost-reaches-passed-values",
        description="boosting scales the values passed on, not only the scores "
        "that choose the winners",
        path="sklearn_sparse_act/_hidden_sparsity.py",
        original="scores = None if boost is None else values * boost",
        replacement="scores = None if boost is None else np.multiply("
        "values, boost, out=values)",
        backends=BACKENDS,
        selection=(CONTROLS, GRADIENTS),
    ),
    Mutation(
        name="prediction-ignores-boost-factors",
        description="prediction chooses winners on the pre-activations, not on "
        "the boost factors frozen at the end of the fit",
        path="sklearn_sparse_act/_network.py",
        original="scores = None if rule is None else rules.scores(layer, values)",
        replacement="scores = None",
        backends=BACKENDS,
        selection=(BOOST_PREDICTION,),
    ),
    Mutation(
        name="dynamic-settled-unboosted",
        description="'dynamic' thresholds are settled on the unboosted "
        "pre-activations, while prediction compares boosted scores with them",
        path="sklearn_sparse_act/_settling.py",
        original="compared = values if scores is None else scores",
        replacement="compared = values",
        backends=BACKENDS,
        selection=(BOOST_PREDICTION,),
    ),
    Mutation(
        name="duty-cycle-step-ignored",
        description="a duty cycle becomes the last batch's win fraction (no "
        "running average)",
        path="sklearn_sparse_act/_boosting.py",
        original="duty_cycle += step * (win_fraction(layer_winners, n_rows) - "
        "duty_cycle)",
        replacement="duty_cycle += win_fraction(layer_winners, n_rows) - duty_cycle",
        backends=BACKENDS,
        selection=(CONTROLS,),
    ),
    Mutation(
        name="warmup-skipped",
        description="training starts at the target ratio whatever sparsity_warmup",
        path="sklearn_sparse_act/_hidden_sparsity.py",
        original="        if epoch >= self._warmup_epochs:\n",
        replacement="        if True:\n",
        backends=BACKENDS,
        selection=(CONTROLS, TRAINING),
    ),
    Mutation(
        name="inference-factor-ignored",
        description="'fixed' prediction ignores inference_ratio_factor",
        path="sklearn_sparse_act/_hidden_sparsity.py",
        original="n_active_units(k * inference_ratio_factor / width, width)",
        replacement="n_active_units(k / width, width)",
        backends=BACKENDS,
        selection=(CONTROLS,),
    ),
    Mutation(
        name="dead-units-miss-single-firers",
        description="a unit that fired on one row only counts as dead",
        path="sklearn_sparse_act/_winners.py",
        original="np.count_nonzero(count == 0) for count in self.counts",
        replacement="np.count_nonzero(count <= 1) for count in self.counts",
        backends=BACKENDS,
        selection=(SPARSITY, CONTROLS),
    ),
    # ------------------------------------------------------------------
    # Loss and gradients
    # ------------------------------------------------------------------
    Mutation(
        name="gradient-through-losers",
        description="on the dense path the backward delta reaches the losers",
        path="sklearn_sparse_act/_network.py",
        original="""\
                if winners is not None and not silences_losers:
                    delta *= winners
""",
        replacement="""\
                if winners is not None and not silences_losers:
                    pass
""",
        backends=BACKENDS,
        selection=(GRADIENTS, CONTROLS),
    ),
    Mutation(
        name="loss-ignores-sample-weight",
        description="the reported loss ignores sample_weight",
        path="sklearn_sparse_act/_network.py",
        original="loss = loss_function(y, forward.activations[-1], sample_weight)",
        replacement="loss = loss_function(y, forward.activations[-1], None)",
        backends=BACKENDS,
        selection=(GRADIENTS, ESTIMATORS),
    ),
    Mutation(
        name="partial-fit-ignores-sample-weight",
        description="the classifier's partial_fit drops sample_weight",
        path="sklearn_sparse_act/_classifier.py",
        original="return self._fit(X, y, sample_weight=sample_weight, "
        "incremental=True)",
        replacement="return self._fit(X, y, sample_weight=None, incremental=True)",
        backends=BACKENDS,
        selection=(ESTIMATORS, TRAINING),
    ),
    Mutation(
        name="l2-missing-numpy",
        description="the weight gradient lacks the L2 term (NumPy kernels)",
        path="sklearn_sparse_act/_backends/numpy_kernels.py",
        original="    add_multiple(grad, alpha, weights)\n",
        replacement="",
        backends=NUMPY_ONLY,
        selection=(GRADIENTS, KERNELS),
    ),
    Mutation(
        name="l2-missing-numba",
        description="the weight gradient lacks the L2 term (numba kernels)",
        path="sklearn_sparse_act/_backends/_numba_gradients.py",
        original="    return (grad + alpha * weight) / weight_sum\n",
        replacement="    return grad / weight_sum\n",
        backends=NUMBA_ONLY,
        selection=(GRADIENTS, KERNELS),
    ),
    Mutation(
        name="absent-weights-get-gradient-numpy",
        description="absent weights receive their gradient (NumPy kernels)",
        path="sklearn_sparse_act/_backends/numpy_kernels.py",
        original="""\
    if connections is not None:
        zero_absent(grad, connections.mask, connections.absent)
""",
        replacement="",
        backends=NUMPY_ONLY,
        selection=(GRADIENTS, CONNECTIONS),
    ),
    Mutation(
        name="forward-by-unit-keeps-its-place-across-row-blocks",
        description="the forward product from dense inputs does not start "
        "each block of rows at every unit's first input (numba kernels over "
        "present weights)",
        path="sklearn_sparse_act/_backends/_numba_connections.py",
        original="""\
            columns[unit, :rows] = bias[unit]
            cursor[unit] = unit_ptr[unit]
""",
        replacement="""\
            columns[unit, :rows] = bias[unit]
            if first_row == 0:
                cursor[unit] = unit_ptr[unit]
""",
        backends=NUMBA_ONLY,
        selection=(CONNECTION_KERNELS,),
    ),
    Mutation(
        name="forward-by-unit-drops-the-last-chunk",
        description="the forward product from dense inputs stops before the "
        "chunk that ends past the last input (numba kernels over present "
        "weights)",
        path="sklearn_sparse_act/_backends/_numba_connections.py",
        original="""\
        for end in range(chunk, n_features + chunk, chunk):
""",
        replacement="""\
        for end in range(chunk, n_features, chunk):
""",
        backends=NUMBA_ONLY,
        selection=(CONNECTION_KERNELS,),
    ),
    Mutation(
        name="gradient-by-unit-written-in-unit-order",
        description="the gradient from dense inputs at present weights is "
        "written unit by unit where it is read in C order (numba kernels over "
        "present weights)",
        path="sklearn_sparse_act/_backends/_numba_connections.py",
        original="""\
                values[entries_by_unit[entry]] = penalised / weight_sum
""",
        replacement="""\
                values[entry] = penalised / weight_sum
""",
        backends=NUMBA_ONLY,
        selection=(CONNECTION_KERNELS,),
    ),
    Mutation(
        name="compiled-step-writes-a-copy-unit-by-unit-in-c-order",
        description="the numba step at present weights writes each new weight "
        "to a copy of them at its C-order place, also where the copy is unit "
        "by unit (numba step)",
        path="sklearn_sparse_act/_backends/_numba_connections.py",
        original="""\
    if by_unit:
        kept[kept_entries[entry]] = weight
""",
        replacement="""\
    if by_unit:
        kept[entry] = weight
""",
        backends=NUMBA_ONLY,
        selection=(CONNECTION_KERNELS,),
    ),
    Mutation(
        name="numpy-step-writes-a-copy-unit-by-unit-in-c-order",
        description="NumPy's step at present weights writes the new weights "
        "to a copy of them in C order, also where the copy is unit by unit",
        path="sklearn_sparse_act/_backends/numpy_kernels.py",
        original="""\
        held.values[connections[index].entries_in_c_order] = weights
""",
        replacement="""\
        held.values[...] = weights
""",
        backends=NUMPY_ONLY,
        selection=(CONNECTION_KERNELS,),
    ),
    Mutation(
        name="training-steps-leave-the-kept-copies-stale",
        description="the stochastic solver's optimizer steps are not given "
        "the copies of the present weights that its products read, which keep "
        "the first step's weights",
        path="sklearn_sparse_act/_stochastic.py",
        original="""\
            kept.per_parameter(),
""",
        replacement="""\
            None,
""",
        backends=NUMBA_ONLY,
        selection=(CONNECTION_KERNELS,),
    ),
    Mutation(
        name="compiled-layout-keeps-every-input-in-one-slot",
        description="the compiled layout of the connections does not move a "
        "unit's next free slot on, so each unit's inputs overwrite each other "
        "(numba layout)",
        path="sklearn_sparse_act/_backends/_numba_layout.py",
        original="""\
                slots[unit] = slot + 1
""",
        replacement="""\
                slots[unit] = slot
""",
        backends=NUMBA_ONLY,
        selection=(CONNECTION_KERNELS,),
    ),
    Mutation(
        name="gradient-by-unit-penalty-reads-the-wrong-weight",
        description="the gradient from dense inputs at present weights takes "
        "its penalty from the weight at the entry's place in C order, where "
        "the present weights it reads are unit by unit (numba kernels over "
        "present weights)",
        path="sklearn_sparse_act/_backends/_numba_connections.py",
        original="""\
                penalised = sums[entry - first] + alpha * present_weights[entry]
""",
        replacement="""\
                penalised = sums[entry - first] + alpha * present_weights[
                    entries_by_unit[entry]
                ]
""",
        backends=NUMBA_ONLY,
        selection=(CONNECTION_KERNELS,),
    ),
    Mutation(
        name="prediction-passes-hold-stale-weights",
        description="early stopping's validation score reads present weights "
        "held once, at the first epoch, where it needs the weights of each "
        "epoch",
        path="sklearn_sparse_act/_stochastic.py",
        original="""\
            network = self.network.holding_weights(rules.active_units, rows)
""",
        replacement="""\
            network = self.__dict__.setdefault(
                "held", self.network.holding_weights(rules.active_units, rows)
            )
""",
        backends=NUMBA_ONLY,
        selection=(CONNECTION_KERNELS,),
    ),
    Mutation(
        name="held-weights-all-for-dense-inputs",
        description="a prediction pass holds every sparse layer's present "
        "weights for the product from dense inputs, a layer from winners "
        "included",
        path="sklearn_sparse_act/_network.py",
        original="""\
            dense_inputs = layer == 0 or not self.sparse_path(
""",
        replacement="""\
            dense_inputs = layer == 0 or self.sparse_path(
""",
        backends=NUMBA_ONLY,
        selection=(CONNECTION_KERNELS,),
    ),
    Mutation(
        name="gradient-by-unit-drops-a-units-last-input",
        description="the gradient from dense inputs at present weights leaves "
        "out each unit's last input's products (numba kernels over present "
        "weights)",
        path="sklearn_sparse_act/_backends/_numba_connections.py",
        original="""\
                for entry in range(first, last):
                    sums[entry - first] += value * row[unit_inputs[entry]]
""",
        replacement="""\
                for entry in range(first, last - 1):
                    sums[entry - first] += value * row[unit_inputs[entry]]
""",
        backends=NUMBA_ONLY,
        selection=(CONNECTION_KERNELS,),
    ),
    Mutation(
        name="winners-gradient-scratch-not-cleared",
        description="the gradient from winners at present weights carries one "
        "input's sums into the next input's (numba kernels over present "
        "weights)",
        path="sklearn_sparse_act/_backends/_numba_connections.py",
        original="""\
            sums[:] = 0
""",
        replacement="",
        backends=NUMBA_ONLY,
        selection=(CONNECTION_KERNELS,),
    ),
    Mutation(
        name="dense-inputs-take-the-winners-crossover",
        description="a layer from dense inputs takes the kernels over present "
        "weights only up to the crossover of a layer from winners",
        path="sklearn_sparse_act/_backends/numba_kernels.py",
        original="""\
        if numba_connection_path(connections.density, dense_inputs):
""",
        replacement="""\
        if numba_connection_path(connections.density):
""",
        backends=NUMBA_ONLY,
        selection=(CONNECTION_KERNELS,),
    ),
    Mutation(
        name="forward-by-unit-gathers-with-the-inverse-map",
        description="the forward product from dense inputs gathers the present "
        "weights with the map from unit order to C order where it needs the "
        "map from C order to unit order (numba kernels over present weights)",
        path="sklearn_sparse_act/_backends/_numba_present.py",
        original="""\
        connections.entries_in_c_order,
""",
        replacement="""\
        connections.entries_by_unit,
""",
        backends=NUMBA_ONLY,
        selection=(CONNECTION_KERNELS,),
    ),
    Mutation(
        name="sparse-delta-no-derivative-numpy",
        description="the delta at the winners lacks the activation's derivative "
        "(NumPy kernels)",
        path="sklearn_sparse_act/_backends/numpy_kernels.py",
        original="    DERIVATIVES[activation](winners.values, delta)\n",
        replacement="",
        backends=NUMPY_ONLY,
        selection=(GRADIENTS, KERNELS),
    ),
    Mutation(
        name="sparse-delta-no-derivative-numba",
        description="the delta at the winners lacks the activation's derivative "
        "(numba kernels)",
        path="sklearn_sparse_act/_backends/_numba_products.py",
        original="""\
@njit(cache=True, inline="always")
def _derivative(activated, code):
""",
        replacement="""\
@njit(cache=True, inline="always")
def _derivative(activated, code):
    return 1
""",
        backends=NUMBA_ONLY,
        selection=(GRADIENTS, KERNELS),
    ),
    # ------------------------------------------------------------------
    # Loops over winners and chunks
    # ------------------------------------------------------------------
    Mutation(
        name="last-chunk-dropped-numpy",
        description="the delta at the winners skips the last, partial row chunk "
        "(NumPy kernels)",
        path="sklearn_sparse_act/_backends/numpy_kernels.py",
        original="""\
        delta = np.empty(winners.indices.size, dtype=np.result_type(upstream, weights))
        row_bytes = weights.shape[1] * weights.dtype.itemsize
        chunk = max(1, _GATHER_CHUNK_BYTES // row_bytes)
        rows = winners.rows()
        for start in range(0, delta.size, chunk):
""",
        replacement="""\
        delta = np.zeros(winners.indices.size, dtype=np.result_type(upstream, weights))
        row_bytes = weights.shape[1] * weights.dtype.itemsize
        chunk = max(1, _GATHER_CHUNK_BYTES // row_bytes)
        rows = winners.rows()
        for start in range(0, delta.size - delta.size % chunk, chunk):
""",
        backends=NUMPY_ONLY,
        selection=(KERNELS, GRADIENTS),
    ),
    Mutation(
        name="remainder-dropped-numba",
        description="the forward product over winners skips the winners left "
        "after the groups of four (numba kernels)",
        path="sklearn_sparse_act/_backends/_numba_products.py",
        original="    for remaining in range(position, stop):\n",
        replacement="    for remaining in range(position, position):\n",
        backends=NUMBA_ONLY,
        selection=(KERNELS,),
    ),
    # ------------------------------------------------------------------
    # ONNX export, compaction, settings and memory
    # ------------------------------------------------------------------
    Mutation(
        name="onnx-exports-training-count",
        description="the ONNX graph keeps the training number of winners, not "
        "the inference one",
        path="sklearn_sparse_act/onnx.py",
        original="    n_active = model.inference_active_units_[layer]\n",
        replacement="    n_active = model.active_units_[layer]\n",
        backends=BACKENDS,
        selection=(ONNX,),
    ),
    Mutation(
        name="compact-drops-single-winners",
        description="compact() removes the units that won on one row only",
        path="sklearn_sparse_act/_winners.py",
        original="""\
    if isinstance(winners, SparseRows):
        return winners.counts() > 0
    return winners.any(axis=0)
""",
        replacement="""\
    if isinstance(winners, SparseRows):
        return winners.counts() > 1
    return np.count_nonzero(winners, axis=0) > 1
""",
        backends=BACKENDS,
        selection=(CODES, CONTROLS),
    ),
    Mutation(
        name="compact-ignores-its-data",
        description="compact(X) keeps the units that won on the training data, "
        "not on X",
        path="sklearn_sparse_act/_codes.py",
        original="            winners, _ = self._winners_on(X)\n",
        replacement="            winners = self._training_winners\n",
        backends=BACKENDS,
        selection=(CODES,),
    ),
    Mutation(
        name="settings-not-per-thread",
        description="config_context changes the setting of every thread",
        path="sklearn_sparse_act/_config.py",
        original="""\
def _local_config():
    if not hasattr(_thread_local, "config"):
        _thread_local.config = _global_config.copy()
    return _thread_local.config
""",
        replacement="""\
def _local_config():
    return _global_config
""",
        backends=BACKENDS,
        selection=(KERNELS,),
    ),
    Mutation(
        name="small-steps-wake-every-thread",
        description="the optimizer's steps over small arrays wake numba's "
        "threads for a parallel region that costs more than it saves",
        path="sklearn_sparse_act/_backends/_numba_threads.py",
        original="    if n_threads == 1 or parallel_pays(serial_seconds):\n",
        replacement="    if True:\n",
        backends=NUMBA_ONLY,
        selection=(KERNELS,),
    ),
    Mutation(
        name="small-products-take-a-region",
        description="a product over winners too small to pay for a parallel "
        "region runs the parallel kernel (rows alone decide)",
        path="sklearn_sparse_act/_backends/_numba_arrays.py",
        original="    return runs_in_parallel(n_rows) and "
        "parallel_pays(serial_seconds)\n",
        replacement="    return runs_in_parallel(n_rows) and parallel_pays(1.0)\n",
        backends=NUMBA_ONLY,
        selection=(KERNELS,),
    ),
    Mutation(
        name="held-winners-keep-chosen-derivatives",
        description="the backward pass of a held pass (L-BFGS's line search) "
        "takes the winners' derivatives at the values they were chosen with",
        path="sklearn_sparse_act/_network.py",
        original="                outputs = activations[layer]\n",
        replacement="                outputs = winners\n",
        backends=BACKENDS,
        selection=(GRADIENTS,),
    ),
    Mutation(
        name="lbfgs-ends-where-scipy-stops",
        description="a sparse L-BFGS fit ends after one run of SciPy's, which "
        "may stop early when the winners change",
        path="sklearn_sparse_act/_lbfgs.py",
        original="            or not restarts\n",
        replacement="            or True\n",
        backends=BACKENDS,
        selection=(TRAINING,),
    ),
    Mutation(
        name="lbfgs-keeps-a-worse-last-run",
        description="a sparse L-BFGS fit ends where its last run ended, even "
        "above an earlier run's end",
        path="sklearn_sparse_act/_lbfgs.py",
        original="    if restarts and not stopped and loss > best_loss:\n",
        replacement="    if False:\n",
        backends=BACKENDS,
        selection=(TRAINING,),
    ),
    Mutation(
        name="partial-fit-keeps-the-other-solvers-state",
        description="partial_fit after the solver changed builds the new "
        "optimizer around the old one's state",
        path="sklearn_sparse_act/_stochastic.py",
        original="        if not incremental or state is None or not "
        "optimizer_class.holds(state):\n",
        replacement="        if not incremental or state is None:\n",
        backends=BACKENDS,
        selection=(ESTIMATORS,),
    ),
    Mutation(
        name="boost-schedule-never-restarts",
        description="a boost strength set anew between fits is ignored by a "
        "continued fit",
        path="sklearn_sparse_act/_boosting.py",
        original='            if fitted.get("_boost_schedule", self.schedule) == '
        "self.schedule:\n",
        replacement="            if True:\n",
        backends=BACKENDS,
        selection=(CONTROLS,),
    ),
    Mutation(
        name="warm-start-keeps-the-stopping-record",
        description="a warm start that turns early stopping on keeps the "
        "record of a fit without it",
        path="sklearn_sparse_act/_stochastic.py",
        original="        if fresh or getattr(model, "
        '"validation_scores_", None) is None:\n',
        replacement="        if fresh:\n",
        backends=BACKENDS,
        selection=(ESTIMATORS,),
    ),
    Mutation(
        name="huge-targets-square-overflow",
        description="normalize_y squares targets beyond 1e154 into an infinite scale",
        path="sklearn_sparse_act/_regressor.py",
        original="        if not (np.isfinite(mean).all() and "
        "np.isfinite(variance).all()):\n",
        replacement="        if False:\n",
        backends=BACKENDS,
        selection=(EXTREMES,),
    ),
    Mutation(
        name="out-of-core-reads-the-whole-file",
        description="the out-of-core reader loads the whole file instead of mapping it",
        path="benchmarks/bench_out_of_core.py",
        original="""\
    X_disk = np.load(x_path, mmap_mode="r")
    n_rows = X_disk.shape[0]
""",
        replacement="""\
    X_disk = np.load(x_path)
    n_rows = X_disk.shape[0]
""",
        backends=BACKENDS,
        selection=(OUT_OF_CORE,),
    ),
)
