"""The book's table of contents: reading order, UN numbering, and the notebooks it lists.

Chapters of the first part of ``_toc.yml`` are numbered I., II., ...; their section pages
A., B., ...; chapters of the second part are Annex I, Annex II, ...; later parts are not
numbered.
"""

from __future__ import annotations

import functools
from pathlib import Path

import yaml

from .. import paths
from ..errors import NotebookError
from ..settings import yaml_problem

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def roman(n: int) -> str:
    out = ""
    for value, numeral in (
        (1000, "M"),
        (900, "CM"),
        (500, "D"),
        (400, "CD"),
        (100, "C"),
        (90, "XC"),
        (50, "L"),
        (40, "XL"),
        (10, "X"),
        (9, "IX"),
        (5, "V"),
        (4, "IV"),
        (1, "I"),
    ):
        while n >= value:
            out += numeral
            n -= value
    return out


def label(style: str, n: int) -> str:
    return {
        "I": f"{roman(n)}.",
        "A": f"{LETTERS[(n - 1) % 26]}.",
        "1": f"{n}.",
        "a": f"({LETTERS[(n - 1) % 26].lower()})",
        "annex": f"Annex {roman(n)}.",
    }[style]


NEXT_STYLE = {"I": "A", "A": "1", "1": "a", "a": "a", "annex": "A", "web": "web"}


def toc_plan(toc_file: Path) -> tuple[list[str], dict[str, tuple[str, str]]]:
    """Reading order of the documents, and each numbered document's (label, style)."""
    order, plan = _plan(toc_file.read_text(encoding="utf-8"))
    return list(order), dict(plan)


@functools.lru_cache(maxsize=8)
def _plan(text: str) -> tuple[list[str], dict[str, tuple[str, str]]]:
    """:func:`toc_plan` of a table of contents' text (each build asks several times for it, and
    the preview at each rebuild: a text is parsed once)."""
    toc = yaml.safe_load(text)
    order = [toc["root"]]
    plan: dict[str, tuple[str, str]] = {}
    for p, part in enumerate(toc.get("parts", [])):
        for c, chapter in enumerate(part.get("chapters", []), start=1):
            order.append(chapter["file"])
            if p == 0:
                plan[chapter["file"]] = (label("I", c), "I")
            elif p == 1:
                plan[chapter["file"]] = (label("annex", c), "annex")
            else:
                plan[chapter["file"]] = ("", "web")
            for s, section in enumerate(chapter.get("sections", []), start=1):
                order.append(section["file"])
                if p == 0:
                    plan[section["file"]] = (label("A", s), "A")
    return order, plan


def notebooks(toc_file: Path | None = None) -> list[Path]:
    """The notebooks of the book, in reading order (MyST Markdown files under notebooks/).

    Every document the table of contents lists must exist: a missing one stops the build
    here, before anything runs, rather than as a warning deep in the Sphinx build.
    """
    toc_file = toc_file or paths.TOC_FILE
    try:
        order, _ = toc_plan(toc_file)
    except yaml.YAMLError as exc:
        raise NotebookError(yaml_problem(toc_file.name, exc)) from None
    except (OSError, KeyError, TypeError, AttributeError) as exc:
        raise NotebookError(
            f"{toc_file.name}: not a Jupyter Book table of contents with a root and parts "
            f"of chapters ({type(exc).__name__}: {exc})"
        ) from None
    found = []
    for doc in order:
        path = paths.ROOT / f"{doc}.md"
        if not any(p.is_file() for p in (path, paths.ROOT / doc, paths.ROOT / f"{doc}.ipynb")):
            raise NotebookError(
                f"{toc_file.name} lists {doc!r}, but there is no file {doc}.md "
                "(restore it, or remove it from the table of contents)"
            )
        if path.is_file() and path.parent == paths.NOTEBOOKS_DIR:
            found.append(path)
    return found


def other_pages(toc_file: Path | None = None) -> list[str]:
    """The pages of the table of contents that are not notebooks (``book/about.md``), as paths
    from the project folder: the book build must not execute them (myst-nb, reading the
    execution cache, would start a kernel for a page it finds no run of, and write that run
    into the cache while the refresh writes its own)."""
    order, _ = toc_plan(toc_file or paths.TOC_FILE)
    pages = [paths.ROOT / f"{doc}.md" for doc in order]
    # A notebook is a page under notebooks/ (as :func:`notebooks` finds them).
    return [p.relative_to(paths.ROOT).as_posix() for p in pages if p.is_file() and p.parent != paths.NOTEBOOKS_DIR]
