"""Docstring fragments shared by the classifier and the regressor."""

_SHARED_PARAMETERS = """\
hidden_layer_sizes : array-like of shape (n_layers - 2,), default=(100,)
        The ith element is the number of units in the ith hidden layer.

    activation : {'identity', 'logistic', 'tanh', 'relu'}, default='relu'
        Activation function of the hidden layers, applied to the winners only
        (losers output exactly 0).

    activation_ratio : float, array-like of floats or 'auto', default='auto'
        Fraction of each hidden layer's units that fire, in (0, 1]; a sequence
        gives one ratio per hidden layer. A layer of width ``h`` lets
        ``k = max(1, floor(ratio * h + 0.5))`` units win (see ``active_units_``).
        ``1.0`` makes the layer dense: the estimator is then a plain MLP.
        'auto' is ``max(0.1, min(1, 50 / h))`` per layer: 10% of the units,
        but never fewer than 50 winners (a layer of at most 50 units is
        dense). So the default ``hidden_layer_sizes=(100,)`` has ``k = 50``,
        about as many units as fire per row in scikit-learn's default ReLU
        network, and layers wider than 500 units run at ratio 0.1. Fewer than
        about 50 winners cost accuracy on several benchmark data sets; to
        train sparser, widen the layer (see the user guide, "Choosing
        activation_ratio and sparsity_strategy"). The ratios in force are
        ``activation_ratios_``. With ``learning_rate_init='auto'`` the step
        size follows the last layer's ratio: a grid over ``activation_ratio``
        changes the step too (see ``learning_rate_init``).

    weight_density : float or array-like of floats, default=1.0
        Fraction of each hidden layer's possible incoming weights that exist,
        in (0, 1]; a sequence gives one density per hidden layer. Every unit
        of a layer with ``fan_in`` inputs keeps the same number of them,
        ``max(1, floor(density * fan_in + 0.5))``, chosen at random (from
        ``random_state``) when the weights are first drawn, and fixed from
        then on (``connection_masks_``): the other weights are exactly zero
        after every update of every solver, whose state holds the present
        weights only. The weights are drawn Glorot-uniform with the kept inputs as
        the fan-in. The output layer is always fully connected. ``1.0``
        connects every input, as scikit-learn's MLP does. Sparse activity
        with sparse connections is what Ahmad and Scheinkman (2019) found
        robust to noise (see the user guide, "Sparse connections").

    sparsity_strategy : {'fixed', 'dynamic'}, default='fixed'
        How the winners of a hidden layer are chosen from its pre-activations
        ``z = a @ W + b``:

        - 'fixed': in every row, the ``k`` units with the largest ``z`` win
          (ties at the k-th value go to the lower column index), in
          training and prediction alike. With 'tanh' exactly ``k`` outputs per
          row are non-zero; with 'relu' at most ``k``.
        - 'dynamic': the number of winners adapts to the input. A training
          batch of ``n`` rows keeps its ``k * n`` largest ``z`` across the
          whole batch (weighted by ``sample_weight``; values tied with the
          smallest kept one up to round-off are kept too), so a row may get
          more or fewer than ``k`` winners. Each batch moves the layer's
          running threshold 10% of the way towards the midpoint between the
          smallest kept and the largest dropped ``z``. At the end of ``fit``
          the thresholds are settled from the final weights: recomputed on the
          training data (at most 10,000 rows) so that exactly the target
          fraction of each layer's ``z`` exceeds them; each ``partial_fit``
          call settles them on its data and folds the result into a running
          average over about the last 1000 samples. At prediction a unit
          fires iff its ``z`` is strictly greater than
          ``activation_thresholds_[layer]``, so a row's output never depends
          on the other rows.

        With boosting, both strategies compare the boosted ``z`` (see
        ``boost_strength``) instead of ``z``. Gradients flow through the
        winners only.

    boost_strength : float, default=0.0
        Homeostatic boosting (stochastic solvers only; 0 turns it off). Each
        hidden unit keeps a duty cycle, the fraction of training samples it
        won over about the last 1000 samples (``duty_cycles_``). In training,
        winners are chosen by ``z * exp(-strength * (duty_cycle - k / width))``
        with the strength in force (see ``boost_decay``), so units that win
        too rarely are favoured and dead units come back; the values passed
        on stay unboosted. Prediction chooses its winners as the last
        training step did: on ``z`` times the boost factors frozen at the
        end of the fit, from the final duty cycles and strength
        (``boost_factors_``); the 'dynamic' thresholds are settled on the
        same boosted ``z``, and ``compact()`` keeps the units that win so. A
        strength still in force at the end of training therefore costs no
        accuracy with 'fixed' (held at 1.5 on the digits scaled to [0, 1],
        0.973 against 0.961 without boosting; 'dynamic' 0.946 against
        0.959). A strength decayed to 0 keeps no factors.

    boost_decay : float, default=1.0
        Factor in [0, 1] by which the boost strength is multiplied at the end
        of every epoch (every ``partial_fit`` call); 1.0 keeps it constant.
        A ``warm_start`` fit or a ``partial_fit`` goes on with the strength
        in force, unless ``boost_strength`` or ``boost_decay`` was set anew
        since the last fit: then it starts again from ``boost_strength``.
        The decay counts epochs, not samples, so how many samples boosting
        acts on grows with the data: at strength 1.5 and decay 0.85 it falls
        below 0.01 after 31 epochs, about 42,000 samples on 1,347 training
        rows and 1.9 million on 60,000.

    inference_ratio_factor : float, default=1.0
        Let more units fire at prediction than in training (>= 1). 'fixed'
        keeps ``min(width, floor(k * factor + 0.5))`` winners per row
        (``inference_active_units_``); 'dynamic' lowers each threshold so that,
        on the training data, ``factor`` times as many pre-activations exceed
        it (``inference_thresholds_``). The extra winners' outgoing weights
        never learned from the rows on which they now fire, so this can cost
        clean accuracy, above all on inputs that are not centred: on the
        digits (256 units, ratio 0.1) scaled to [0, 1], where every unit in
        use responds strongly to every image, 1.5 cost 8.7 points (4.7 with
        boosting); standardized, it cost 0.1. Scale the inputs, and leave it
        at 1.0 unless a validation score says otherwise.

    sparsity_warmup : int, default=0
        Number of epochs over which the activation ratio anneals linearly from
        1.0 (dense) to ``activation_ratio``: epoch ``e`` (from 0) trains with
        ratio ``1 + (activation_ratio - 1) * min(e / sparsity_warmup, 1)``. The
        ratios used are recorded in ``sparsity_curve_``. Stochastic solvers
        only. Warm-up epochs are scored but never stop training
        (``n_iter_no_change``) nor count as the best epoch of early stopping:
        both start at the first epoch at ``activation_ratio``. ``fit`` always
        ends at ``activation_ratio``, the ratio prediction uses: a warm-up
        longer than ``max_iter - 1`` epochs is shortened, with a warning. One
        ``partial_fit`` call counts as one epoch, for the warm-up as for
        ``boost_decay`` and ``n_iter_``: when streaming chunks, give the
        warm-up in calls.

    solver : {'lbfgs', 'sgd', 'adam'}, default='adam'
        The weight optimizer: quasi-Newton L-BFGS, stochastic gradient descent,
        or Adam. L-BFGS chooses the winners on the whole training set at each
        iterate and holds them while its line search tries steps (the
        k-winners loss jumps where the winners change, which made the search
        fail after a few iterations); where SciPy stops it before ``max_iter``
        it starts again from there, as long as each run lowers the loss by
        more than ``tol``, and the fit ends at the lowest loss its runs
        reached. A stochastic fit whose loss or weights overflow stops with
        a ``ConvergenceWarning`` and keeps its best epoch. ``partial_fit``
        may change between 'adam' and 'sgd': the new one starts afresh.

    alpha : float, default=0.0001
        Strength of the L2 penalty, divided by the sample size (or the sum of
        sample weights) when added to the loss.

    batch_size : int, default='auto'
        Size of minibatches for the stochastic solvers; 'auto' means
        ``min(200, n_samples)``. Unused by 'lbfgs'.

    learning_rate : {'constant', 'invscaling', 'adaptive'}, default='constant'
        Step size schedule of the 'sgd' solver: 'constant' keeps
        ``learning_rate_init``; 'invscaling' divides it by ``(t + 1) ** power_t``
        after each epoch (``t`` counts samples seen); 'adaptive' divides it by 5
        whenever the loss stalls for ``n_iter_no_change`` epochs.

    learning_rate_init : float or 'auto', default='auto'
        Initial step size of the 'sgd' and 'adam' solvers. 'auto' is
        ``min(max(0.0005 / r, 0.001), 0.01)`` for the last hidden layer's
        activation ratio ``r``: scikit-learn's 0.001 at every ratio from 0.5
        to 1.0 (so at the default 'auto' ratio of a 100-unit layer), 0.005 at
        ratio 0.1, 0.01 from ratio 0.05 down. Only the winners carry the
        output and receive gradient; a dense ReLU layer fires about half its
        units, so a layer with ``k`` winners learns about ``(h / 2) / k`` times
        more slowly at a fixed step, and the step is scaled up to match.
        The step in force is ``learning_rate_init_``. With 'auto', a grid
        search over ``activation_ratio`` also changes the step, on purpose:
        each ratio trains at the step that suits it. To compare ratios at one
        step, set ``learning_rate_init`` to a number (or put it in the grid).

    power_t : float, default=0.5
        Exponent of the 'invscaling' schedule.

    max_iter : int, default=200
        Maximum number of epochs for the stochastic solvers, of iterations for
        'lbfgs'.

    shuffle : bool, default=True
        Whether to shuffle the samples before each epoch ('sgd', 'adam').

    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, shuffling and the early-stopping split.
        Pass an int for reproducible output across calls.

    tol : float, default=1e-4
        Improvement of loss or validation score below which an epoch counts
        as no improvement.

    verbose : bool, default=False
        Whether to print progress after each epoch ('sgd', 'adam'): the loss,
        then per hidden layer the share of units that fired on the epoch's
        training rows, the units that never fired (dead) and, with
        'dynamic', the running threshold; with ``early_stopping``, the
        validation score. 'lbfgs' prints SciPy's iteration report.

    warm_start : bool, default=False
        Reuse the previous solution as initialisation when fitting again.

    momentum : float, default=0.9
        Momentum of the 'sgd' solver, in [0, 1].

    nesterovs_momentum : bool, default=True
        Whether 'sgd' uses Nesterov's momentum.

    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the training data and stop when its
        score stops improving; the best weights (and thresholds) are restored.
        Only for the stochastic solvers.

    validation_fraction : float, default=0.1
        Fraction of training data held out for early stopping, in [0, 1).

    beta_1 : float, default=0.9
        Decay rate of Adam's first moment estimates, in [0, 1).

    beta_2 : float, default=0.999
        Decay rate of Adam's second moment estimates, in [0, 1).

    epsilon : float, default=1e-8
        Numerical stabiliser of Adam.

    n_iter_no_change : int, default=10
        Number of epochs without improvement by ``tol`` before stopping (or
        before the 'adaptive' schedule lowers the step size).

    max_fun : int, default=15000
        Maximum number of loss evaluations of 'lbfgs'.

    transform_layer : int, default=-1
        The hidden layer whose sparse code :meth:`transform` returns (and
        ``fit_transform``, when the estimator is a step of a pipeline),
        counted from 0; negative values count from the last hidden layer."""

_SHARED_ATTRIBUTES = """\
loss_ : float
        The loss at the end of training.

    best_loss_ : float or None
        The minimum training loss reached by the stochastic solvers; None with
        ``early_stopping=True``.

    loss_curve_ : list of float
        The training loss after each epoch (stochastic solvers only).

    validation_scores_ : list of float or None
        The validation score after each epoch with ``early_stopping=True``.

    best_validation_score_ : float or None
        The best validation score with ``early_stopping=True``.

    t_ : int
        Number of training samples seen by the stochastic solvers.

    coefs_ : list of ndarray of shape (n_fan_in, n_fan_out)
        Weight matrix of each layer. After :meth:`sparsify_weights`, that of each
        hidden layer with sparse connections is a
        :class:`scipy.sparse.csr_matrix` storing its present weights.

    intercepts_ : list of ndarray of shape (n_fan_out,)
        Bias vector of each layer.

    connection_masks_ : list of (ndarray of bool or None)
        Per hidden layer, which weights exist (True), as an array of the shape
        of its ``coefs_`` entry, ``(n_fan_in, n_fan_out)``, with
        ``weight_density`` below 1; None for a fully connected layer.
        ``coefs_[i]`` is zero wherever ``connection_masks_[i]`` is False.

    n_features_in_ : int
        Number of features seen during fit.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when X has string feature names.

    n_iter_ : int
        Number of epochs (or L-BFGS iterations) run.

    n_layers_ : int
        Number of layers, input and output included.

    n_outputs_ : int
        Number of outputs.

    out_activation_ : str
        Name of the output activation function.

    activation_ratios_ : list of float
        The activation ratio of each hidden layer, as ``activation_ratio``
        resolved ('auto', or one ratio for every layer).

    active_units_ : list of int
        Number of winners ``k`` of each hidden layer.

    learning_rate_init_ : float
        The initial step size of the stochastic solvers, as
        ``learning_rate_init`` resolved ('auto': from the last hidden layer's
        ratio). Not set by 'lbfgs'.

    activation_thresholds_ : ndarray of shape (n_layers - 2,) or None
        The per-layer firing threshold of 'dynamic' (``-inf`` for a dense
        layer); None for 'fixed'.

    active_fraction_ : ndarray of shape (n_layers - 2,)
        Mean fraction of non-zero hidden outputs per layer over the last
        training epoch, over its rows (not weighted by ``sample_weight``).

    inference_active_units_ : list of int
        Number of winners per row at prediction with 'fixed':
        ``min(width, floor(k * inference_ratio_factor + 0.5))``.

    inference_thresholds_ : ndarray of shape (n_layers - 2,) or None
        The thresholds used at prediction with 'dynamic' (equal to
        ``activation_thresholds_`` when ``inference_ratio_factor=1``); None for
        'fixed'.

    duty_cycles_ : list of ndarray of shape (width,)
        Per hidden layer, each unit's running fraction of training samples
        won (over about the last 1000 samples).

    boost_factors_ : list of (ndarray of shape (width,) or None) or None
        The boost factors frozen at the end of the last fit, by which
        prediction multiplies each hidden layer's pre-activations before it
        chooses the winners: ``exp(-strength * (duty_cycles_[layer] - k /
        width))`` with the strength left at the end of the fit. None for a
        layer in which every unit wins, and None altogether when no boost
        is in force (``boost_strength=0``, a strength decayed to 0, or
        'lbfgs'), so that prediction compares ``z`` itself.

    sparsity_curve_ : ndarray of shape (n_epochs, n_layers - 2)
        The activation ratio of every hidden layer in each training epoch
        (one row for 'lbfgs').

    validation_loss_curve_ : list of float or None
        With ``early_stopping=True``, the loss on the validation split after
        each epoch (without the L2 penalty), beside ``validation_scores_``;
        None without early stopping. Only set by the stochastic solvers
        ('sgd', 'adam').

    dead_units_ : ndarray of shape (n_layers - 2,)
        Number of units per hidden layer that never had a non-zero output in
        the last training epoch."""


def fill_shared_docstring(cls):
    """Substitute the shared fragments into a class docstring."""
    cls.__doc__ = cls.__doc__.replace(
        "{shared_parameters}", _SHARED_PARAMETERS
    ).replace("{shared_attributes}", _SHARED_ATTRIBUTES)
    return cls
