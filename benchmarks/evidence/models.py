"""The models the evidence study compares, and the rule that configures ours.

Our configuration is chosen by a rule from the shape of the training data,
never tuned per data set (:func:`recommended_recipe`). Against it stand
scikit-learn's ``MLPClassifier`` at the same width and at the width of our
number of active units. Every model keeps its library's defaults otherwise.
"""

from dataclasses import dataclass

from sklearn.neural_network import MLPClassifier

from sklearn_sparse_act import SparseMLPClassifier

# The rule: a wide layer with a fixed number of winners when the input is
# high-dimensional; otherwise the library's defaults at a moderate width.
WIDE_INPUT_FEATURES = 256
WIDE_WIDTH = 1024
WINNERS = 51
NARROW_WIDTH = 256

MODELS = ("sklearn_same_width", "sklearn_same_active", "ours_fixed", "ours_dynamic")
OURS = ("ours_fixed", "ours_dynamic")
SKLEARN = ("sklearn_same_width", "sklearn_same_active")
LABELS = {
    "sklearn_same_width": "scikit-learn, same width",
    "sklearn_same_active": "scikit-learn, width = our active units",
    "ours_fixed": "ours 'fixed'",
    "ours_dynamic": "ours 'dynamic'",
}


@dataclass(frozen=True)
class Recipe:
    """One hidden layer of ``width`` units of which ``active`` fire per row."""

    width: int
    activation_ratio: float

    @property
    def active(self):
        """Winners per row, as the estimator counts them."""
        return max(1, int(self.activation_ratio * self.width + 0.5))


def recommended_recipe(n_features, n_samples):
    """Our configuration for data of ``n_features`` columns and ``n_samples``
    training rows.

    High-dimensional inputs (at least 256 features, such as images) get
    1024 hidden units of which 51 win (ratio 0.05); narrower inputs get 256
    units at ratio 0.2 (51 winners), the library's ``'auto'`` rule.

    Examples
    --------
    >>> recommended_recipe(784, 3500)
    Recipe(width=1024, activation_ratio=0.0498046875)
    >>> recommended_recipe(64, 1257).active
    51
    """
    del n_samples  # the rule needs no row count: see the study's results
    width = WIDE_WIDTH if n_features >= WIDE_INPUT_FEATURES else NARROW_WIDTH
    return Recipe(width=width, activation_ratio=WINNERS / width)


def build(model, recipe, seed, max_iter=None):
    """A fresh estimator of ``model`` (a name of :data:`MODELS`) for ``recipe``."""
    params = {"random_state": seed}
    if max_iter is not None:
        params["max_iter"] = max_iter
    if model == "sklearn_same_width":
        return MLPClassifier((recipe.width,), **params)
    if model == "sklearn_same_active":
        return MLPClassifier((recipe.active,), **params)
    strategy = {"ours_fixed": "fixed", "ours_dynamic": "dynamic"}[model]
    return SparseMLPClassifier(
        (recipe.width,),
        activation_ratio=recipe.activation_ratio,
        sparsity_strategy=strategy,
        **params,
    )
