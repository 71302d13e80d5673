"""The arithmetic of the evidence protocols, as functions of plain arrays.

Nothing here fits a model: the corruptions of test rows, the noise score,
the Pareto front of accuracy against fit time with its two summaries
(time-to-accuracy and iso-time gain), and the forgetting of a sequence of
tasks. The runner (:mod:`~benchmarks.evidence.runner`) feeds them the
measurements; the tests check them on hand-made inputs.
"""

import numpy as np

NOISE_LEVELS = np.linspace(0.0, 0.5, 11)
GAUSSIAN_LEVELS = np.linspace(0.0, 1.0, 11)
# Time-to-accuracy asks for scikit-learn's best accuracy minus this, in points.
ACCURACY_SLACK = 0.2


def salt_value(X_train):
    """Numenta's corrupting value: the training pixels' mean + 2 std.

    Examples
    --------
    >>> import numpy as np
    >>> float(salt_value(np.array([[0.0, 2.0], [0.0, 2.0]])))
    3.0
    """
    return float(X_train.mean() + 2 * X_train.std())


def salt_corruption(X, fraction, value, rng):
    """Copy of ``X`` with ``round(fraction * n_features)`` entries of every row,
    drawn without replacement, set to ``value`` (Ahmad and Scheinkman, 2019).

    Examples
    --------
    >>> import numpy as np
    >>> noisy = salt_corruption(np.zeros((2, 10)), 0.3, 5.0, np.random.default_rng(0))
    >>> (noisy == 5.0).sum(axis=1).tolist()
    [3, 3]
    """
    noisy = np.array(X, dtype=float, copy=True)
    n_features = noisy.shape[1]
    n_corrupted = int(round(fraction * n_features))
    if n_corrupted:
        scores = rng.random(noisy.shape)
        columns = np.argpartition(scores, n_corrupted - 1, axis=1)[:, :n_corrupted]
        np.put_along_axis(noisy, columns, value, axis=1)
    return noisy


def gaussian_corruption(X, scale, spread, rng):
    """Copy of ``X`` plus Gaussian noise of standard deviation ``scale * spread``
    (``spread``: the training data's standard deviation)."""
    return X + rng.normal(0.0, scale * spread, size=X.shape)


def quieter_half(X_train):
    """Mask of the features in the lower half by their spread in training
    (standard deviation at or below the median): on images, the pixels that
    are blank in most training images.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[0.0, 0.0, 1.0, 0.0], [0.0, 1.0, 0.0, 0.1]])
    >>> quieter_half(X).tolist()
    [True, False, False, True]
    """
    spread = X_train.std(axis=0)
    return spread <= np.median(spread)


def kept_on(corrupted, clean, columns):
    """``corrupted`` with its corruption kept on ``columns`` only: every other
    entry is put back to its value in ``clean``.

    Examples
    --------
    >>> import numpy as np
    >>> kept_on(np.full((1, 3), 9.0), np.zeros((1, 3)), np.array([True, False, True]))
    array([[9., 0., 9.]])
    """
    kept = np.array(clean, dtype=float, copy=True)
    kept[:, columns] = corrupted[:, columns]
    return kept


def blank_share(X_train, rows_share=0.9):
    """The share of the features at their least training value in at least
    ``rows_share`` of the training rows (on images: the pixels blank in 90%
    of them).

    Examples
    --------
    >>> import numpy as np
    >>> X = np.zeros((10, 4))
    >>> X[0, 0] = X[:5, 1] = X[:, 2] = 1.0
    >>> float(blank_share(X))
    0.75
    """
    at_least = (X_train == X_train.min(axis=0)).mean(axis=0)
    return float(np.mean(at_least >= rows_share))


def ink_on_blank(X, fraction, value, rng):
    """Copy of ``X`` with ``round(fraction * b)`` of each row's ``b`` zero
    entries (an image's own blank pixels), drawn without replacement, set to
    ``value``.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[0.0, 0.0, 0.0, 0.0, 1.0, 1.0]])
    >>> ink_on_blank(X, 0.5, 9.0, np.random.default_rng(0))[0].tolist().count(9.0)
    2
    """
    inked = np.array(X, dtype=float, copy=True)
    for row in inked:
        blank = np.flatnonzero(row == 0)
        row[rng.choice(blank, int(round(fraction * blank.size)), replace=False)] = value
    return inked


def erased_ink(X, fraction, rng):
    """Copy of ``X`` with ``round(fraction * i)`` of each row's ``i`` nonzero
    entries (its ink), drawn without replacement, set to 0.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[0.0, 0.5, 1.0, 1.0, 1.0]])
    >>> int(np.count_nonzero(erased_ink(X, 0.5, np.random.default_rng(0))))
    2
    """
    erased = np.array(X, dtype=float, copy=True)
    for row in erased:
        ink = np.flatnonzero(row)
        row[rng.choice(ink, int(round(fraction * ink.size)), replace=False)] = 0.0
    return erased


def occluded_square(X, side_fraction, rng):
    """Copy of ``X`` (rows of square images) with a blank square of side
    ``round(side_fraction * width)`` at a random place in each image.

    Examples
    --------
    >>> import numpy as np
    >>> occluded = occluded_square(np.ones((1, 16)), 0.5, np.random.default_rng(0))
    >>> int(np.count_nonzero(occluded == 0))
    4
    """
    occluded = np.array(X, dtype=float, copy=True)
    width = int(round(np.sqrt(X.shape[1])))
    side = int(round(side_fraction * width))
    if side:
        for row in occluded:
            top, left = rng.integers(0, width - side + 1, size=2)
            row.reshape(width, width)[top : top + side, left : left + side] = 0.0
    return occluded


def noise_score(correct_per_level):
    """Correct predictions summed over the noise levels (last axis).

    Examples
    --------
    >>> noise_score([[10, 8, 5], [9, 9, 9]]).tolist()
    [23, 27]
    """
    return np.sum(correct_per_level, axis=-1)


def relative_gain(ours, reference):
    """``ours / reference - 1``: +0.15 is 15% above the reference.

    Examples
    --------
    >>> round(relative_gain(115.0, 100.0), 6)
    0.15
    """
    return float(ours) / float(reference) - 1.0


def pareto_front(times, accuracies):
    """Indices of the points no other point beats on both time and accuracy,
    by increasing time.

    A point is kept when every faster-or-as-fast point is less accurate.

    Examples
    --------
    >>> pareto_front([1.0, 2.0, 3.0, 4.0], [0.5, 0.4, 0.7, 0.7]).tolist()
    [0, 2]
    """
    times = np.asarray(times, dtype=float)
    accuracies = np.asarray(accuracies, dtype=float)
    order = np.lexsort((-accuracies, times))
    kept, best = [], -np.inf
    for index in order:
        if accuracies[index] > best:
            kept.append(index)
            best = accuracies[index]
    return np.array(kept, dtype=int)


def fastest_reaching(times, accuracies, level):
    """The smallest time whose accuracy is at least ``level``; inf if none."""
    times = np.asarray(times, dtype=float)
    reached = np.asarray(accuracies, dtype=float) >= level
    return float(times[reached].min()) if reached.any() else np.inf


def time_to_accuracy(ours, theirs, slack=ACCURACY_SLACK):
    """Our fastest time to scikit-learn's best accuracy minus ``slack``, over
    scikit-learn's fastest time to it.

    ``ours`` and ``theirs`` are ``(times, accuracies)`` pairs, accuracies in
    points. Below 1 we get there sooner; ``inf`` when we never do.

    Examples
    --------
    >>> time_to_accuracy(([1.0, 2.0], [90.0, 95.0]), ([2.0, 4.0], [94.0, 95.1]))
    0.5
    """
    level = np.max(theirs[1]) - slack
    return fastest_reaching(*ours, level) / fastest_reaching(*theirs, level)


def best_within(times, accuracies, budget, floor):
    """The best accuracy among points of time at most ``budget``; ``floor``
    (what a model that was not fitted scores) when none is."""
    times = np.asarray(times, dtype=float)
    within = times <= budget
    if not within.any():
        return float(floor)
    return float(np.asarray(accuracies, dtype=float)[within].max())


def iso_time_gain(ours, theirs, floor):
    """Mean over scikit-learn's fit times ``T`` of our best accuracy within
    ``T`` minus scikit-learn's best within ``T``, in points.

    ``ours`` and ``theirs`` are ``(times, accuracies)`` pairs; ``floor`` is
    the accuracy counted for a side with no fit that short (the majority
    class's share of the test rows).

    Examples
    --------
    >>> iso_time_gain(([1.0, 3.0], [80.0, 90.0]), ([2.0, 4.0], [85.0, 88.0]), 10.0)
    -1.5
    """
    budgets = np.asarray(theirs[0], dtype=float)
    gains = [
        best_within(*ours, budget, floor) - best_within(*theirs, budget, floor)
        for budget in budgets
    ]
    return float(np.mean(gains))


def forgetting(accuracy_matrix):
    """Mean forgetting and final average accuracy of a task sequence.

    ``accuracy_matrix[i, j]`` is the accuracy on task ``j`` after training on
    task ``i``. A task's forgetting is its best accuracy before the last task
    minus its accuracy at the end; the mean runs over every task but the
    last. The final average accuracy is the last row's mean.

    Examples
    --------
    >>> forgetting([[90.0, 10.0], [50.0, 95.0]])
    (40.0, 72.5)
    """
    matrix = np.asarray(accuracy_matrix, dtype=float)
    earlier = matrix[:-1, :-1].max(axis=0)
    lost = earlier - matrix[-1, :-1]
    return float(lost.mean()), float(matrix[-1].mean())
