"""Figure numbers from the pages' outlines (wgec.book.figures) are Sphinx's own, built anew and
after edits; and the book's collector numbers from outlines."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from sphinx.application import Sphinx
from sphinx.environment.collectors.toctree import TocTreeCollector
from sphinx.util.docutils import docutils_namespace

from wgec.book import figures

PAGES = {
    "index.rst": """
Book
====

.. toctree::
   :numbered:

   a
   b

.. toctree::

   c
""",
    "a.rst": """
Part A
======

.. figure:: pic.svg
   :name: fig-first

   First figure

.. figure:: pic.svg

Section one
-----------

.. table:: Numbers

   = =
   1 2
   = =

.. code-block:: python
   :caption: A code block

   x = 1

.. code-block:: python

   y = 2

Section two
-----------

.. list-table:: A list table

   * - a
     - b

.. container:: box

   .. figure:: pic.svg
      :name: fig-boxed

      A figure in a container
""",
    "b.rst": """
Part B
======

.. figure:: pic.svg
   :name: fig-before

   Before the toctree

.. toctree::

   d

Inner
-----

.. figure:: pic.svg
   :name: fig-after

   After the toctree
""",
    "c.rst": """
Unnumbered
==========

.. figure:: pic.svg

   In an unnumbered part

.. table:: Another table

   = =
   3 4
   = =
""",
    "d.rst": """
Nested
======

.. figure:: pic.svg
   :name: fig-nested

   In a nested page
""",
}
SVG = '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>'


def project(root: Path, ours: bool) -> Path:
    root.mkdir(parents=True)
    extensions = ["wgec.book.figures"] if ours else []
    (root / "conf.py").write_text(f"extensions = {extensions!r}\nnumfig = True\nnumfig_secnum_depth = 1\n")
    (root / "pic.svg").write_text(SVG)
    for name, text in PAGES.items():
        (root / name).write_text(text)
    return root


def build(root: Path) -> tuple[dict, dict[str, str], list[type]]:
    """The figure numbers, the pages as written, and the toctree collectors in use."""
    with docutils_namespace():
        app = Sphinx(root, root, root / "_build", root / "_doctrees", "html", status=None, warning=io.StringIO())
        app.build()
        collectors = [
            type(owner)
            for listeners in app.events.listeners.values()
            for listener in listeners
            if isinstance(owner := getattr(listener.handler, "__self__", None), TocTreeCollector)
        ]
        numbers = app.env.toc_fignumbers
    pages = {p.name: p.read_text(encoding="utf-8") for p in sorted((root / "_build").glob("*.html"))}
    return numbers, pages, collectors


@pytest.fixture
def both(tmp_path):
    return project(tmp_path / "ours", True), project(tmp_path / "sphinx", False)


def edit_both(both, name: str, old: str, new: str) -> None:
    for root in both:
        path = root / name
        text = path.read_text()
        assert old in text
        path.write_text(text.replace(old, new, 1))


def test_numbers_are_sphinxs_when_built_anew(both):
    (numbers, pages, collectors), (expected, expected_pages, _) = build(both[0]), build(both[1])
    assert numbers == expected
    # Section-numbered (numfig_secnum_depth 1), uncaptioned ones skipped, a nested page in order.
    assert expected["a"]["figure"] == {"fig-first": (1, 1), "fig-boxed": (1, 2)}
    assert expected["b"]["figure"] == {"fig-before": (2, 1), "fig-after": (2, 3)}
    assert expected["d"]["figure"] == {"fig-nested": (2, 2)}
    assert pages == expected_pages
    assert collectors and all(issubclass(c, figures.FromOutlines) for c in collectors)


def test_numbers_are_sphinxs_after_edits(both):
    for root in both:
        build(root)
    # A figure added before the others of its part: the later numbers move, in pages not read again.
    edit_both(
        both, "a.rst", "Section one\n-----------\n", "Section one\n-----------\n\n.. figure:: pic.svg\n\n   New\n"
    )
    (numbers, pages, _), (expected, expected_pages, _) = build(both[0]), build(both[1])
    assert numbers == expected and pages == expected_pages
    assert expected["a"]["figure"]["fig-boxed"] == (1, 3)
    # A page edited that moves nothing; then a page removed from the toctree.
    edit_both(both, "c.rst", "In an unnumbered part", "In an unnumbered part, edited")
    assert build(both[0])[:2] == build(both[1])[:2]
    edit_both(both, "b.rst", "   d\n", "\n")
    (numbers, pages, _), (expected, expected_pages, _) = build(both[0]), build(both[1])
    assert numbers == expected and pages == expected_pages and "d" not in expected


def test_a_page_without_an_outline_is_numbered_from_its_doctree(both):
    """A page whose outline is missing (its environment from another version) is walked as Sphinx walks it."""
    ours, sphinx = both
    forget = "\ndef setup(app):\n    app.connect('env-get-updated', lambda app, env: env.wgec_outlines.pop('d') and [], priority=100)\n"
    (ours / "conf.py").write_text((ours / "conf.py").read_text() + forget)
    (numbers, pages, _), (expected, expected_pages, _) = build(ours), build(sphinx)
    assert numbers == expected and pages == expected_pages and expected["d"]
