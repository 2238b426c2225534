"""Sphinx configuration of the spikingml documentation site.

Build it with ``make docs`` (warnings are errors); ``make docs-fast`` builds without
running the examples (``-D plot_gallery=0``), for editing text.

Intersphinx: the mappings to Python, NumPy, Brian2, NEO, Elephant and Matplotlib are
configured below, but the extension is only loaded when ``SPIKINGML_DOCS_INTERSPHINX=1``.
Intersphinx downloads each project's ``objects.inv`` at build time; on a machine without
network (CI runners here, the development machines) every download fails with a warning,
which ``-W`` turns into an error. We chose not to ship copies of the inventories (they
go stale, and they are other projects' files), so by default cross-references to those
projects are plain text; set the variable on a machine with network to make them links.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(ROOT))

import spikingml  # noqa: E402

project = "spikingml"
author = "spikingml developers"
copyright = "spikingml developers"  # noqa: A001
release = spikingml.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

INTERSPHINX = os.environ.get("SPIKINGML_DOCS_INTERSPHINX", "0") == "1"
if INTERSPHINX:
    extensions.append("sphinx.ext.intersphinx")
intersphinx_mapping = {
    "python": ("https://docs.python.org/3", None),
    "numpy": ("https://numpy.org/doc/stable", None),
    "brian2": ("https://brian2.readthedocs.io/en/stable", None),
    "neo": ("https://neo.readthedocs.io/en/latest", None),
    "elephant": ("https://elephant.readthedocs.io/en/latest", None),
    "matplotlib": ("https://matplotlib.org/stable", None),
}

templates_path = ["_templates"]
exclude_patterns = ["_build", "auto_examples/*.ipynb", "auto_examples/*.py"]
root_doc = "index"
# The gallery configuration holds a scraper object, which Sphinx cannot pickle (harmless).
suppress_warnings = ["config.cache"]

# -- API reference ---------------------------------------------------------------------
autosummary_generate = True
autosummary_imported_members = False
autodoc_default_options = {"members": True, "show-inheritance": True}
autodoc_member_order = "bysource"
autodoc_typehints = "none"  # numpydoc's Parameters sections give the types
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_validation_checks: set[str] = set()

# -- Gallery ---------------------------------------------------------------------------
OUTPUT = ROOT / "examples" / "output"


class OutputFigureScraper:
    """Collect the PNG figures an example block wrote to ``examples/output``.

    The examples save their figures with :func:`spikingml.plotting.save_figure`, which
    closes them, so matplotlib's scraper sees none. This one picks up every PNG written
    (or rewritten) under ``examples/output`` while the block ran, in the order they were
    written, and shows each full width (sphinx-gallery would put several images of one
    block side by side as thumbnails, too small to read a raster).
    """

    def __init__(self) -> None:
        self.seen: dict[Path, float] = {}

    def __repr__(self) -> str:  # sphinx-gallery caches the configuration by repr
        return "OutputFigureScraper"

    def __call__(self, block, block_vars, gallery_conf):
        from sphinx_gallery.scrapers import figure_rst

        if not OUTPUT.exists():
            return ""
        new = []
        for path in OUTPUT.rglob("*.png"):
            mtime = path.stat().st_mtime
            if self.seen.get(path) != mtime:
                self.seen[path] = mtime
                if mtime >= self.started:
                    new.append((mtime, path))
        rst = ""
        targets = iter(block_vars["image_path_iterator"])
        for _, path in sorted(new):
            target = next(targets)
            shutil.copyfile(path, target)
            rst += figure_rst([target], gallery_conf["src_dir"])
        return rst

    started = time.time()


def _reset_example(gallery_conf, fname):
    """Before each example: matplotlib's Agg backend, and ``__file__``.

    sphinx-gallery runs an example with ``exec`` in fresh globals that hold no
    ``__file__``; the scripts locate ``examples/output`` from it (so that they write
    there whatever the working directory). A name missing from the globals is looked up
    in :mod:`builtins`, so setting it there gives each script its own path without
    changing the scripts.
    """
    import builtins

    import matplotlib

    matplotlib.use("Agg")
    builtins.__file__ = str(ROOT / "examples" / Path(fname).name)


sphinx_gallery_conf = {
    "examples_dirs": str(ROOT / "examples"),
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"\.py$",  # execute every example (each runs its quick preset)
    "ignore_pattern": r"__init__\.py|/output/",
    "image_scrapers": ("matplotlib", OutputFigureScraper()),
    "reset_modules": ("matplotlib", _reset_example),
    "download_all_examples": False,
    "remove_config_comments": True,
    "within_subsection_order": "FileNameSortKey",
    "abort_on_example_error": False,
    "only_warn_on_example_error": False,
    "show_memory": False,
    "min_reported_time": 1,
}

# -- HTML ------------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"spikingml {release}"
html_static_path = ["_static"]
html_css_files = ["custom.css"]
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc", "sourcelink"],
    "icon_links": [],
}
# A mode set explicitly: without it the theme's script logs "invalid theme mode" as a
# console error on a reader's first visit (tests/test_docs_site.py checks the console).
html_context = {"default_mode": "light"}
html_favicon = "_static/favicon.svg"
html_show_sourcelink = True
html_last_updated_fmt = None


def setup(app):
    # Without the executed gallery (-D plot_gallery=0) the lessons' figures do not exist:
    # that build is for editing text, so missing images are not errors there.
    def _quiet_missing_images(app, config):
        if str(config.plot_gallery) in ("0", "False"):
            config.suppress_warnings = [*config.suppress_warnings, "image.not_readable"]

    app.connect("config-inited", _quiet_missing_images, priority=900)
