"""Quotations of the contribution: the report's own sentences frame, the contributor's words are quoted.

Every passage the report gives from the contribution is built here, from a row of the data
(its text and its ``source_lines``), as MyST Markdown that carries its lines: a span
``[text]{.wgec-q .wgec-l-103-104}``. The book build reads those spans back
(:mod:`wgec.book.quotations`): it checks each against the source text after the recorded
corrections, in the contribution's order and under the part where the contribution puts it,
and checks that every passage of the contribution is quoted or listed in
``not_reproduced.csv`` (:mod:`wgec.book.concordance`); it gives each quotation an anchor that
annex III links to, and turns the footnote's "lines 103–104" into a link to those lines.

The forms:

- :func:`block` — a block quote of passages (headings in bold, paragraphs, bulleted items),
  each paragraph or list with its footnote to the source lines;
- :func:`inline` — a passage in quotation marks inside one of the report's sentences;
- :func:`cell` — a passage as a table cell (the contribution's own tables).

A quotation of a passage from another part, given where the report needs it (a heading the
contribution gives no text for), is made with ``elsewhere=True``: it is checked word for word
but does not count as the passage's place in the report.

Data is literal: every text goes through :func:`wgec.report.page.md`.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .page import RawMd, footnote, md
from .words import lines as line_words
from .words import span as line_span

# The classes the book build reads (wgec/book/quotations.py).
QUOTE = "wgec-q"
ELSEWHERE = "wgec-elsewhere"
LINES = "wgec-l-"  # + "103-104"
SOURCE_REF = "wgec-src-ref"  # a footnote's "lines 103–104", made a link to annex III
SOURCE_LINE = "wgec-src-line"  # a line number in annex III: the anchor the footnotes link to
WHERE = "wgec-where"  # annex III: where the line is in the report (filled in by the build)
TITLE = "wgec-title"  # ... and the line is a heading: the text is the heading, linked if it is a page's title

_SPEC = re.compile(r"[1-9][0-9]*(-[1-9][0-9]*)?")


@dataclass(frozen=True)
class Passage:
    """A passage of the contribution: its text after the corrections and the lines it stands on.

    ``label`` is printed before the text, as the contribution prints it ("a)", "64."), and is
    quoted too; ``style`` is how a block quote sets it: "heading", "paragraph" or "item"."""

    text: str
    lines: str
    style: str = "paragraph"
    label: str = ""
    mark: str = ""  # Markdown after the text (an uncertain reading's mark and footnote)

    def __post_init__(self):
        if not _SPEC.fullmatch(str(self.lines)):
            raise ValueError(f"a passage needs its source lines as '103' or '103-104', not {self.lines!r}")


def span(text: str, lines: str, elsewhere: bool = False) -> RawMd:
    """The text, literal, marked as a quotation of ``lines``."""
    classes = f".{QUOTE} .{LINES}{lines}" + (f" .{ELSEWHERE}" if elsewhere else "")
    return RawMd(f"[{md(text)}]{{{classes}}}")


def _first(lines: str) -> str:
    return str(lines).split("-")[0]


def _quoted(p: Passage, elsewhere: bool) -> str:
    text = span(p.text, p.lines, elsewhere)
    if p.label:
        text = span(p.label, _first(p.lines), elsewhere) + " " + text
    return text + p.mark


def source_note(specs: Iterable[str]) -> RawMd:
    """A footnote to the source lines (its reference; the definition goes with the block)."""
    spec = line_span(specs)
    link = f"[{line_words(spec)}]{{.{SOURCE_REF} .{LINES}{spec}}}"
    return footnote(f"Contribution, {link} (annex III).", key=f"src-{spec}")


def block(items: Sequence[Passage], elsewhere: bool = False) -> str:
    """The passages as one block quote: headings in bold, paragraphs, and runs of items as a
    bulleted list; a footnote to the source lines closes each paragraph and each list (and
    covers the headings over it)."""
    if not items:
        raise ValueError("a block quote needs at least one passage")
    paragraphs: list[str] = []
    pending: list[Passage] = []  # headings over the next paragraph or list

    def close(text: str, group: list[Passage]) -> str:
        return text + source_note(p.lines for p in group)

    i = 0
    while i < len(items):
        p = items[i]
        if p.style == "heading":
            paragraphs.append(f"**{_quoted(p, elsewhere)}**")
            pending.append(p)
            i += 1
        elif p.style == "item":
            run = list(itertools.takewhile(lambda q: q.style == "item", items[i:]))
            lines = [f"- {_quoted(q, elsewhere)}" for q in run]
            lines[-1] = close(lines[-1], pending + run)
            paragraphs.append("\n".join(lines))
            pending = []
            i += len(run)
        else:
            paragraphs.append(close(_quoted(p, elsewhere), [*pending, p]))
            pending = []
            i += 1
    if pending:  # headings with nothing under them: the last one carries their footnote
        paragraphs[-1] = close(paragraphs[-1], pending)
    return RawMd("\n>\n".join("\n".join(f"> {line}" for line in para.split("\n")) for para in paragraphs))


def inline(p: Passage, elsewhere: bool = False) -> RawMd:
    """The passage in quotation marks, for one of the report's sentences (its footnote is the
    sentence's: see :func:`source_note`)."""
    return RawMd(f"“{_quoted(p, elsewhere)}”")


def cell(p: Passage) -> RawMd:
    """The passage as a cell of a table that reproduces one of the contribution's."""
    return RawMd(_quoted(p, False))


def cells(items: Sequence[Passage], separator: str = ", ") -> RawMd:
    """Several passages in one cell (the names in a cell of the contribution's table)."""
    return RawMd(separator.join(_quoted(p, False) for p in items))


def bullets(items: Sequence[Passage]) -> RawMd:
    """Passages as a bulleted list inside a table cell."""
    return RawMd("\n".join(f"- {_quoted(p, False)}" for p in items))
