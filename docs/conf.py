"""Sphinx configuration: numpydoc API pages, a sphinx-gallery of examples, MyST markdown.

Build (warnings are errors, as in CI):

    pip install -e ".[docs]"
    sphinx-build -W -b html docs docs/_build/html

``SKVAE_DOCS_QUICK=1`` runs the gallery at reduced size (what ``tests/test_docs.py``
does); the examples read data through ``skvae.datasets`` (``SKVAE_DATA_HOME``).
"""

import os
import sys
import warnings

import skvae

project = "skvae"
author = "the skvae developers"
copyright = "2026, the skvae developers"
release = version = skvae.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "myst_parser",
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build", "examples", "**.ipynb_checkpoints"]
root_doc = "index"

# API reference: one page per object, from the numpydoc docstrings
autosummary_generate = True
autodoc_default_options = {"members": True, "inherited-members": False}
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False

intersphinx_mapping = {}  # no network in CI: cross-links to other projects stay plain

html_theme = "alabaster"
html_theme_options = {"description": "autoencoders and VAEs as scikit-learn transformers"}
html_static_path = []

myst_heading_anchors = 3

QUICK = os.environ.get("SKVAE_DOCS_QUICK") == "1"
sphinx_gallery_conf = {
    "examples_dirs": "examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "abort_on_example_error": True,
    "image_scrapers": ("matplotlib",),
    "within_subsection_order": "FileNameSortKey",
    "remove_config_comments": True,
    "download_all_examples": False,
    "show_memory": False,
    "matplotlib_animations": False,
    "min_reported_time": 1,
}

# examples run headless
os.environ.setdefault("MPLBACKEND", "Agg")
sys.path.insert(0, os.path.abspath(os.path.dirname(__file__)))
warnings.filterwarnings("ignore", category=UserWarning,
                        message="Matplotlib is currently using agg")
