"""Sphinx configuration of the heavytail-poc documentation site.

Built offline: MathJax is served from the site itself (the
``sphinx-mathjax-offline`` package ships it), the theme loads no web fonts and no
analytics, and the gallery's figures are PNGs and GIFs inside the site.
"""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))  # _gallery_scrapers
os.environ.setdefault("MPLBACKEND", "Agg")

import poc  # noqa: E402

project = "heavytail-poc"
author = "heavytail-poc contributors"
copyright = author
version = release = poc.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx-mathjax-offline",  # copies MathJax 3 into _static/mathjax and points mathjax_path at it
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

# -- math: MathJax from the site itself, never a CDN -------------------------
# sphinx-mathjax-offline sets mathjax_path = "mathjax/tex-chtml.js" (relative to _static).
mathjax3_config = {
    "tex": {"inlineMath": [["\\(", "\\)"]], "displayMath": [["\\[", "\\]"]]},
    # the context menu would offer speech/braille modules that are not shipped
    "options": {"enableMenu": False},
}

# -- API reference ------------------------------------------------------------
autosummary_generate = True
autosummary_imported_members = False
autodoc_default_options = {"members": True, "inherited-members": False}
autodoc_typehints = "none"  # numpydoc renders the types from the docstrings
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
numpydoc_validation_checks = set()


# -- gallery ------------------------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": str(ROOT / "examples"),
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    # only plot_*.py are gallery examples; the model files for `poc study` live in
    # examples/models/, a folder without a GALLERY_HEADER/README, which sphinx-gallery skips:
    # they are data for the command line, not pages
    "ignore_pattern": r"__init__\.py|(^|/)_|(^|/)(?!plot_)[^/]+\.py$",
    "within_subsection_order": "FileNameSortKey",
    "download_all_examples": True,
    "remove_config_comments": True,
    "matplotlib_animations": False,  # the animation example writes its own GIF
    "image_scrapers": ("_gallery_scrapers.gif_animation_scraper", "matplotlib"),
    "reset_modules": ("matplotlib",),
    "show_memory": False,
    # the computation-times pages load jQuery and DataTables from a CDN: not written
    "write_computation_times": False,
    "min_reported_time": 1,
    "capture_repr": (),
    "plot_gallery": os.environ.get("POC_DOCS_GALLERY", "True"),
    "abort_on_example_error": True,
    "only_warn_on_example_error": False,
}

# -- HTML ---------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = "heavytail-poc"
html_static_path = ["_static"]
html_css_files = ["poc.css"]
html_show_sourcelink = False
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "navbar_align": "left",
    "header_links_before_dropdown": 6,
    "icon_links": [],  # icon links would point to external hosts
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
    "secondary_sidebar_items": ["page-toc"],
    "use_edit_page_button": False,
    "analytics": {},
}
html_context = {"default_mode": "light"}

exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]
templates_path = ["_templates"]
nitpicky = False
suppress_warnings = []
