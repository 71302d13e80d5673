"""Sphinx configuration of the sklearn-sparse-act documentation.

Build with ``sphinx-build -W -b html docs docs/_build/html`` from the
repository root (``pip install -e ".[docs]"`` first). The gallery runs every
script of ``examples/``; set ``SKLEARN_SPARSE_ACT_EXAMPLE_SCALE=small`` to run
them at the small size the CI uses.
"""

import os
import urllib.error
import urllib.request
from datetime import date

from sphinx.util.nodes import get_node_source

import sklearn_sparse_act

project = "sklearn-sparse-act"
author = "The sklearn-sparse-act developers"
copyright = f"{date.today().year}, {author}"
release = sklearn_sparse_act.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

templates_path = ["_templates"]
exclude_patterns = ["_build", "auto_examples/*.ipynb", "auto_examples/*.py"]
default_role = "literal"

# API reference: one generated page per class, with every public method
# documented on it, the ones inherited from scikit-learn included (but not the
# exception machinery of the warning class); numpydoc renders the docstrings.
autosummary_generate = True
autodoc_default_options = {"members": True, "inherited-members": "BaseException"}
autodoc_typehints = "none"
# The page's table of contents lists methods as ``fit()``, not
# ``SparseMLPClassifier.fit()``, so that long names fit the right sidebar.
toc_object_entries_show_parents = "hide"
numpydoc_show_class_members = False

# Links to scikit-learn, NumPy, SciPy, matplotlib and Python. The inventories
# are fetched at build time; a build without network access leaves those names
# as plain text instead of failing, so only reachable inventories are
# configured.
INTERSPHINX_PROJECTS = {
    "python": "https://docs.python.org/3/",
    "numpy": "https://numpy.org/doc/stable/",
    "scipy": "https://docs.scipy.org/doc/scipy/",
    "sklearn": "https://scikit-learn.org/stable/",
    "matplotlib": "https://matplotlib.org/stable/",
}
INTERSPHINX_PROBE_TIMEOUT = 5


def _reachable(url):
    """Whether the server of the intersphinx inventory under ``url`` answers."""
    request = urllib.request.Request(url + "objects.inv", method="HEAD")
    try:
        urllib.request.urlopen(request, timeout=INTERSPHINX_PROBE_TIMEOUT).close()
    except urllib.error.HTTPError:
        # It answered: Sphinx fetches the inventory and reports what is wrong.
        return True
    except OSError as error:
        print(f"intersphinx: no links to {url} ({error})")
        return False
    return True


intersphinx_mapping = {
    name: (url, None) for name, url in INTERSPHINX_PROJECTS.items() if _reachable(url)
}
intersphinx_timeout = 10


def _plain_text_if_sklearn_is_unreachable(app, env, node, contnode):
    """Render scikit-learn's own cross-references as plain text offline.

    The API pages document the methods inherited from scikit-learn
    (``score``, ``get_params``, ``set_fit_request``, ...) with scikit-learn's
    docstrings, whose ``:ref:`` and ``:term:`` roles point into scikit-learn's
    documentation. Without its inventory they cannot resolve; only those
    references, and only then, become plain text instead of warnings.
    """
    if "sklearn" in intersphinx_mapping:
        return None
    if "docstring of sklearn." in (get_node_source(node) or ""):
        return contnode
    return None


def setup(app):
    app.connect("missing-reference", _plain_text_if_sklearn_is_unreachable)


sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "within_subsection_order": "FileNameSortKey",
    "doc_module": ("sklearn_sparse_act",),
    "backreferences_dir": "generated/backreferences",
    "download_all_examples": False,
    "abort_on_example_error": True,
}

html_theme = "pydata_sphinx_theme"
html_title = f"{project} {release}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
}
html_static_path = ["_static"]
html_css_files = ["custom.css"]

# A build with the examples shrunk says so on every page: the outputs and
# figures of the gallery then come from a shortened run, while the text quotes
# the full one.
EXAMPLE_SCALE = os.environ.get("SKLEARN_SPARSE_ACT_EXAMPLE_SCALE")
if EXAMPLE_SCALE == "small":
    html_theme_options["announcement"] = (
        "This build ran the gallery examples at the reduced size "
        "(SKLEARN_SPARSE_ACT_EXAMPLE_SCALE=small): their outputs and figures "
        "come from a shortened run and differ from the figures the text quotes."
    )
html_show_sourcelink = False
