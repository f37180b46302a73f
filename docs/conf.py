"""Sphinx configuration: the user guide, the API reference (autodoc, from the docstrings) and the
design notes (Markdown, read by myst-parser). Built with warnings as errors by tests/test_docs.py:

    python -m sphinx -W --keep-going -b html docs docs/_build/html
"""

project = "velox"
author = "the velox authors"
copyright = "the velox authors"  # noqa: A001 - Sphinx's name for it

extensions = ["sphinx.ext.autodoc", "sphinx.ext.napoleon", "myst_parser"]
source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
root_doc = "index"
exclude_patterns = ["_build"]

# API reference: members in source order, type hints in the description rather than the signature.
autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_default_options = {"members": True, "undoc-members": False, "show-inheritance": True}
napoleon_google_docstring = True
napoleon_numpy_docstring = False

# Markdown: heading anchors so pages can link to sections (#the-trace-table); fenced blocks stay code.
myst_heading_anchors = 3
myst_enable_extensions = ["colon_fence"]

html_theme = "alabaster"
html_title = "velox"
