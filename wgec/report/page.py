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


def show(markdown: str) -> None:
    """Put generated Markdown on the page (one paragraph or block per call)."""
    _bundle(markdown, jupyter.render(markdown))


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
    with plt.rc_context({"svg.hashsalt": "wgec-report", "pdf.fonttype": 42}):
        fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": "WGEC Report"})
        fig.savefig(printed, format="pdf", metadata={"CreationDate": None, "Creator": "WGEC Report"})
    plt.close(fig)
    text = buffer.getvalue()
    # Drop the XML prolog and doctype so the SVG can also be inlined.
    return SvgImage(text[text.index("<svg"):], printed.getvalue())


def _option(text: str) -> str:
    """Plain text as a directive option value: one line, single-quoted, since MyST reads the
    options as YAML (unquoted, a " #" would start a comment and a ": " a mapping)."""
    line = re.sub(r"\s+", " ", str(text)).strip()
    return "'" + line.replace("'", "''") + "'"


def figure(fig, name: str, caption: str, alt: str) -> None:
    """A numbered, captioned figure with alt text; ``caption`` is Markdown, ``alt`` plain text."""
    image = svg(fig)
    glue(name, image, display=False)  # the book draws the figure from the glued SVG
    _bundle(f"::::{{glue:figure}} {name}\n:name: {name}\n:alt: {_option(alt)}\n:figclass: un-figure\n\n"
            f"{caption}\n::::", jupyter.figure(image.svg, caption, alt, name))


def table(rows: Sequence[Sequence], header: Sequence[str], name: str, caption: str,
          widths: Iterable[int] | None = None, classes: str = "un-table") -> None:
    """A numbered, captioned table; every cell is data and is escaped; ``caption`` is Markdown."""
    lines = [f"::::{{list-table}} {caption}", ":header-rows: 1", f":name: {name}", f":class: {classes}"]
    widths = list(widths or auto_widths(rows, header))
    lines.append(":widths: " + " ".join(str(w) for w in widths))
    lines.append("")
    for row in [header, *rows]:
        cells = [_cell(value) for value in row]
        lines.append(f"*   - {cells[0]}")
        lines.extend(f"    - {cell}" for cell in cells[1:])
    lines.append("::::")
    plain = [[_plain(value) for value in row] for row in rows]
    _bundle("\n".join(lines), jupyter.table(plain, header, caption, name))


def auto_widths(rows: Sequence[Sequence], header: Sequence[str]) -> list[int]:
    """Column widths in proportion to what the columns hold (a fixed table layout needs them)."""
    widths = []
    for i, title in enumerate(header):
        cells = [len(str(row[i])) if row[i] is not None else 1 for row in rows] or [0]
        typical = max(sum(cells) / len(cells), min(max(cells), 14))  # short codes keep their width
        widths.append(int(max(len(str(title)) * 0.8, 4, min(typical, 60))))
    return widths


def _cell(value) -> str:
    return md(_plain(value))


def _plain(value) -> str:
    """A cell as text: a missing value as a dash."""
    if value is None or (isinstance(value, float) and value != value):
        return "—"
    text = str(value)
    if text in ("", "<NA>", "NaT", "nan"):
        return "—"
    return text


class _Plain:
    def __init__(self, text: str):
        self.text = text

    def __repr__(self) -> str:
        return self.text


def literal(text: str) -> None:
    """Text shown exactly as it is, in a literal block (no markup of any kind)."""
    display(_Plain(text))
