"""What a notebook puts on the page: Markdown built safely from data, figures and tables.

Data strings are untrusted. Everything taken from a table reaches the page through
:func:`md` (every ASCII punctuation character backslash-escaped, which CommonMark and
MyST read as that literal character), so a focus area called ``<b>x</b>`` or
``{raw}`` shows exactly those characters and is never markup. Figures and tables are
MyST directives whose captions are escaped the same way and whose alt text is a
directive option (plain text, escaped again by the HTML writer).

Each output is a MIME bundle (:func:`_bundle`): the MyST for the book (``text/markdown``) and
its plain rendering for Jupyter (``text/html``, :mod:`wgec.report.jupyter`), so that a
notebook run in JupyterLab shows its section as formatted text, tables and figures.
"""

from __future__ import annotations

import base64
import io
import itertools
import json
import re
import string
from collections.abc import Iterable, Sequence

from IPython.display import display
from myst_nb import glue

from . import jupyter

_ESCAPE = {ch: "\\" + ch for ch in string.punctuation}


def md(value) -> str:
    """A data string as Markdown that renders as exactly that text."""
    return "".join(_ESCAPE.get(ch, ch) for ch in str(value))


_NOTES: list[str] = []  # footnote definitions waiting for the block that references them
_KEYS = {"notebook": -1, "next": itertools.count(1)}  # footnotes numbered from 1 in each notebook


def show(markdown: str) -> None:
    """Put generated Markdown on the page (one paragraph or block per call), followed by the
    definitions of the footnotes made for it (:func:`footnote`), so that each block holds its
    footnotes' references and definitions together."""
    notes = "\n".join(_NOTES)
    _NOTES.clear()
    block = f"{markdown}\n\n{notes}" if notes else markdown
    _bundle(block, jupyter.render(block))


def footnote(note: str, key: str = "fn") -> RawMd:
    """A footnote whose text is ``note`` (Markdown, already safe): returns its reference; the
    definition goes with the next block put on the page. Each reference has a note of its own
    (the print layout moves every note to its reference)."""
    from .. import session

    if _KEYS["notebook"] != session.started():  # a new notebook in this kernel: number from 1 again
        _KEYS.update(notebook=session.started(), next=itertools.count(1))
        _NOTE_TEXT.clear()  # the labels start again: no note of the last notebook is shown for one of this
    label = f"{re.sub(r'[^A-Za-z0-9-]', '-', key)}-{next(_KEYS['next'])}"
    _NOTES.append(f"[^{label}]: {note}")
    _NOTE_TEXT[label] = note
    return RawMd(f"[^{label}]")


_NOTE_TEXT: dict[str, str] = {}  # a footnote's text by its label, for its plain rendering in Jupyter
_NOTE_REF = re.compile(r"\[\^([A-Za-z0-9-]+)\]")


class RawMd(str):
    """Markdown that is already safe (built by this package from escaped data: a quotation, a
    footnote, a mark): :func:`say` and :func:`table` put it on the page as it is.

    As the value of a Markdown cell's ``{eval}`` role in JupyterLab (jupyterlab-myst), it shows
    as its plain text, a footnote as its number and text in brackets ("[4: Contribution, line
    96 (annex III).]"; the notes of outputs are numbered through the notebook too): no MyST syntax."""

    def _repr_pretty_(self, printer, cycle: bool) -> None:  # IPython's text/plain (a str's would be its repr)
        printer.text(_plain_text(self))


def _plain_text(markdown: str) -> str:
    """The package's Markdown as the plain text a reader sees (a footnote as its text in brackets)."""
    return " ".join(jupyter.text(jupyter.render_inline(_notes_inline(markdown))).split())


def _notes_inline(markdown: str) -> str:
    """Each footnote reference replaced by the note's text in brackets (Jupyter shows a value
    or a table cell without the notes that go under its block)."""

    def note(match: re.Match) -> str:
        number = jupyter.note_number(match.group(1))  # as the outputs' notes are numbered
        return f" \\[{'' if number is None else f'{number}: '}{_NOTE_TEXT.get(match.group(1), '')}\\]"

    return _NOTE_REF.sub(note, markdown)


def markdown(text: str, line: int = 0) -> None:
    """Put a Markdown cell of the notebook on the page with its values: each ``{eval}`expr```
    evaluated in the notebook's namespace, as jupyterlab-myst evaluates it in JupyterLab, and
    inserted as :func:`say` inserts a value (escaped, unless it is :class:`RawMd`). The book's
    reader (:mod:`wgec.book.read`) calls this in place of such a cell; ``line`` is where the cell's
    text begins in its .md file. Footnotes its values made go with it, as with :func:`show`."""
    from IPython import get_ipython

    from ..errors import NotebookError
    from .words import fill_values

    namespace = get_ipython().user_ns

    def value(expression: str) -> str:
        try:
            result = eval(expression, namespace)  # the notebook's own code, as Jupyter runs it
        except Exception as exc:
            raise NotebookError(f"{{eval}}`{expression}`: {type(exc).__name__}: {exc}") from None
        return escape("" if result is None else result)

    filled = fill_values(text, value)
    waiting = {note.split("]:", 1)[0][2:] for note in _NOTES}
    for label in _NOTE_REF.findall(filled):
        if label not in waiting and f"[^{label}]:" not in filled:
            raise NotebookError(
                f"the footnote [^{label}] of this Markdown cell went with an earlier output: make it "
                "in the code cell just before the cell that uses it"
            )
    show(filled)


def raw_md(markdown: str) -> RawMd:
    return RawMd(markdown)


def escape(value) -> str:
    """A value for a sentence or a cell: :class:`RawMd` as it is, anything else as literal text."""
    return value if isinstance(value, RawMd) else md(value)


def phrase(template: str, **values) -> RawMd:
    """A part of a sentence, made as :func:`say` makes one, to pass to :func:`say` as a value."""
    from .words import fill

    return RawMd(fill(template, escape, **values))


def ref(name: str) -> RawMd:
    """A cross-reference to a numbered figure or table ("Figure 2", "Table 3"), for a sentence:
    ``page.say("… ({table}).", table=page.ref("tab-focus-areas"))``."""
    return RawMd(f"{{numref}}`{name}`")


def block(markdown: str, classes: str, name: str = "") -> RawMd:
    """Markdown set apart as a block with classes (a table's notes, the edition line, a part for
    the web only), and an anchor ``name`` if given."""
    fence = "::::" if ":::" in markdown else ":::"
    anchor = f":name: {name}\n" if name else ""
    return RawMd(f"{fence}{{container}} {classes}\n{anchor}\n{markdown}\n{fence}")


def say(template: str, **values) -> None:
    """A sentence of the report with values from the data: ``template`` is the writer's own
    Markdown (MyST roles such as ``{numref}`fig-x``` included) and stays as written; each
    ``{name}`` is replaced by its value, escaped (data is literal text) unless it is
    :class:`RawMd`. ``page.say("The contribution lists {areas}.", areas=words.count(21, "area"))``."""
    from .words import fill

    show(fill(template, escape, **values))


def _bundle(markdown: str, rendered: str) -> None:
    """One output: the MyST the book reads, and the HTML (and plain text) Jupyter shows.
    The book build never uses the HTML (``nb_mime_priority_overrides`` in _config.yml)."""
    display({"text/markdown": markdown, "text/html": rendered, "text/plain": jupyter.text(rendered)}, raw=True)


class SvgImage:
    """A figure with a deterministic rendering: SVG for the web and the Typst PDF, and the
    same figure as PDF for the LaTeX edition (LaTeX cannot include SVG); each builder picks its
    format from the bundle (myst-nb's render priority)."""

    def __init__(self, svg: str, pdf: bytes = b""):
        self.svg = svg
        self.pdf = pdf

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict:
        bundle = {"image/svg+xml": self.svg}
        if self.pdf:
            bundle["application/pdf"] = base64.b64encode(self.pdf).decode("ascii")
        return bundle

    def __repr__(self) -> str:
        return "<figure>"


def svg(fig) -> SvgImage:
    """Render a matplotlib Figure to SVG (and PDF) with no date and stable ids."""
    import matplotlib.pyplot as plt

    buffer = io.StringIO()
    printed = io.BytesIO()
    # The salt makes matplotlib's clip-path and glyph ids a function of the content, not random.
    # The PDF (the LaTeX edition's) embeds its glyphs as Type 3 fonts, with their Unicode map:
    # TrueType (Type 42) subsetting with fontTools took 0.4-0.7 s a chart, most of a chart
    # notebook's run, for the same text (the SVG draws its letters as paths).
    with plt.rc_context({"svg.hashsalt": "wgec-report", "pdf.fonttype": 3}):
        fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": "WGEC Report"})
        fig.savefig(printed, format="pdf", metadata={"CreationDate": None, "Creator": "WGEC Report"})
    plt.close(fig)
    text = buffer.getvalue()
    # Drop the XML prolog and doctype so the SVG can also be inlined.
    return SvgImage(text[text.index("<svg") :], printed.getvalue())


def _option(text: str) -> str:
    """Plain text as a directive option value: one line, single-quoted, since MyST reads the
    options as YAML (unquoted, a " #" would start a comment and a ": " a mapping)."""
    line = re.sub(r"\s+", " ", str(text)).strip()
    return "'" + line.replace("'", "''") + "'"


def figure(fig, name: str, caption: str, alt: str) -> None:
    """A numbered, captioned figure with alt text; ``caption`` is Markdown, ``alt`` plain text."""
    image = svg(fig)
    glue(name, image, display=False)  # the book draws the figure from the glued SVG
    _bundle(
        f"::::{{glue:figure}} {name}\n:name: {name}\n:alt: {_option(alt)}\n:figclass: un-figure\n\n{caption}\n::::",
        jupyter.figure(image.svg, caption, alt, name),
    )


def table(
    rows: Sequence[Sequence],
    header: Sequence[str],
    name: str,
    caption: str,
    widths: Iterable[int] | None = None,
    classes: str = "un-table",
) -> None:
    """A numbered, captioned table; every cell is data, literal text (:class:`RawMd` cells are the
    package's Markdown); ``caption`` is Markdown. The book reads it as ``{data-table}``
    (wgec.book.tables): rows as JSON, a cell a string or ``{"md": …}``."""
    widths = list(widths or auto_widths(rows, header))
    lines = [
        f"::::{{data-table}} {caption}",
        ":header-rows: 1",
        f":name: {name}",
        f":class: {classes}",
        ":widths: " + " ".join(str(w) for w in widths),
        "",
    ]
    for row in [header, *rows]:
        lines.append(json.dumps([_cell(value) for value in row], ensure_ascii=False))
    lines.append("::::")
    shown = [[_shown(value) for value in row] for row in rows]
    _bundle("\n".join(lines), jupyter.table(shown, [_shown(h) for h in header], caption, name))


def _shown(value):
    """A table cell as Jupyter shows it: data as its text, the package's Markdown rendered (a
    footnote as its text in brackets: the table is shown without the notes under it)."""
    if isinstance(value, RawMd):
        return jupyter.cell(_notes_inline(value))
    return _plain(value)


def auto_widths(rows: Sequence[Sequence], header: Sequence[str]) -> list[int]:
    """Column widths in proportion to what the columns hold (a fixed table layout needs them):
    never narrower than the longest word of the heading, nor than a short code in the column
    (an identifier is not broken in the middle)."""
    widths = []
    for i, title in enumerate(header):
        texts = [_plain(row[i]) for row in rows if row[i] is not None]
        cells = [len(t) for t in texts] or [0]
        typical = max(sum(cells) / len(cells), min(max(cells), 14))  # short codes keep their width
        longest_word = max((len(w) for w in _plain(title).split()), default=0)
        longest_code = max((len(w) for t in texts for w in t.split() if len(w) <= 16), default=0)
        # A heading is bold, and a cell has padding: a word needs a little more than its letters.
        widths.append(int(max(longest_word * 1.6 + 2, longest_code * 1.2 + 2, 4, min(typical, 60))))
    return widths


def _plain(value) -> str:
    """A cell as text: a quotation without its markup (``[text]{.class}``) or escapes, a missing
    value as a dash (what widths are measured on, and what Jupyter shows)."""
    if isinstance(value, RawMd):
        text = re.sub(r"\]\{[^}]*\}", "", str(value))
        return re.sub(r"\\(.)", r"\1", text.replace("[", ""))
    if value is None or (isinstance(value, float) and value != value):
        return "—"
    text = str(value)
    if text in ("", "<NA>", "NaT", "nan"):
        return "—"
    return text


def _cell(value) -> str | dict:
    """A cell of a ``{data-table}``: its text, or the package's Markdown as ``{"md": …}``."""
    return {"md": str(value)} if isinstance(value, RawMd) else _plain(value)


class _Plain:
    def __init__(self, text: str):
        self.text = text

    def __repr__(self) -> str:
        return self.text


def literal(text: str) -> None:
    """Text shown exactly as it is, in a literal block (no markup of any kind)."""
    display(_Plain(text))
