"""Shared library of *Geometry and Generalization*, in wings (see DESIGN.md); imports go only downwards:

``experiments`` (one module per chapter) -> ``measures`` (one module per measured quantity) -> ``training`` ->
``nets`` -> ``pipeline`` (command line, profiles, results store, figures) -> ``data`` (datasets).
``python -m lib`` is the book's command line.
"""

__version__ = "0.1.0"
