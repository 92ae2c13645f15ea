"""The PDF for submission, set by Typst from the same doctrees as the HTML book.

Two halves:

- **The translator** (a Sphinx extension, :func:`setup`): when the singlehtml builder has
  assembled and resolved the whole report (same doctrees, same UN numbering as the HTML),
  :class:`Translator` writes it as Typst markup to ``OUT/.work/typst/body.typ``. Every
  text of the doctree (the data strings among them) becomes a Typst *string literal*
  (``#"..."``): only ``\\`` and ``"`` are special inside one, both are escaped, and a
  string is never evaluated as markup or code, so ``#import``, ``$x$``, ``*emph*``,
  ``<label>``, ``@ref`` or ``\\`` in a cell print as typed. The markup around the strings
  (headings, paragraphs, footnotes, figures, tables) is written by this module alone.
- **The typesetter** (:func:`render_all`): ``un.typ`` (the UN layout, in the repository)
  and the body, compiled by the ``typst`` package (the Typst compiler in a wheel) into the
  PDF/UA-1 edition and the archival PDF/A-3b edition with the data package attached.
  Typst reads only files inside the work folder (its project root), only the fonts
  installed on this machine (not the ones bundled in the wheel), and no package; the
  creation date is pinned to the source date, so the same inputs give the same bytes.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import unicodedata
from pathlib import Path

from docutils import nodes

from ..errors import EditionError

TEMPLATE = Path(__file__).with_name("un.typ")
FOLDER = "typst"  # inside the work folder, the Typst project root
BODY = "body.typ"
VARIANTS = {"pdf/ua-1": ["ua-1"], "pdf/a-3b": ["a-3b", "ua-1"]}
# A run of letters longer than this with no break opportunity (a URL, a checksum, a hostile cell)
# gets break opportunities, so it never runs off the page (in a table cell: what fits the column).
LONG_RUN = 24
TEXT_WIDTH = 595.28 - 2 * 2.2 / 2.54 * 72  # A4 less the margins of un.typ, in points
WIDEST = 0.75  # the widest letter of Liberation Serif, in em: how many letters surely fit in a cell
CODE = 0.7  # a letter of a code (capitals, digits, hyphens), in em, with room to spare: how wide a column of codes is


class TypstBuildError(EditionError):
    """The Typst PDF could not be written (a node it cannot show, a missing image, a Typst error)."""


# --- escaping -------------------------------------------------------------------------


def string(value: str) -> str:
    """``value`` as a Typst string literal: the text exactly, never markup or code."""
    out = ['"']
    for ch in str(value):
        if ch in '\\"':
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif unicodedata.category(ch) in ("Cc", "Cs", "Zl", "Zp"):
            out.append(f"\\u{{{ord(ch):x}}}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def text(value: str, run: int = 0) -> str:
    """Literal text in markup: ``#"..."`` ended by ``;`` (nothing after it can continue the
    expression). A run of more than ``run`` letters with no break opportunity (a URL, a checksum,
    a hostile cell) gets one every ``run`` letters (an empty box: no character), so that it
    never runs off the page or out of its table cell."""
    if not value:
        return ""
    return "".join(f"#{string(part)};" if part else "#box();" for part in breakable(value, run or LONG_RUN))


_BREAKABLE = re.compile(r"[\s\-/\u2010-\u2014]")


def breakable(value: str, run: int) -> list[str]:
    """``value`` in pieces, with an empty piece (a break opportunity) every ``run`` letters of a longer run."""
    if len(value) <= run:
        return [value]
    pieces, current, length = [], [], 0
    for i, ch in enumerate(value):
        current.append(ch)
        length = 0 if _BREAKABLE.match(ch) else length + 1
        # Only between two letters or digits: never inside a grapheme (combining marks, ZWJ sequences).
        nxt = value[i + 1] if i + 1 < len(value) else ""
        if length >= run and _plain(ch) and _plain(nxt):
            pieces += ["".join(current), ""]
            current, length = [], 0
    pieces.append("".join(current))
    return pieces


def _plain(ch: str) -> bool:
    return bool(ch) and unicodedata.category(ch)[0] in "LN" and not unicodedata.combining(ch)


# --- the translator --------------------------------------------------------------------

SKIP = (
    nodes.footnote,
    nodes.target,
    nodes.comment,
    nodes.substitution_definition,
    nodes.system_message,
    nodes.label,
    nodes.colspec,
)
PASS_CLASSES = {"cell", "cell_output", "un-edition", "toctree-wrapper"}
MASTHEAD_PARTS = {
    "un-mh-un": "un",
    "un-mh-symbol": "symbol",
    "un-mh-organ": "organ",
    "un-mh-meta": "meta",
    "un-mh-session": "session",
}
SAFE_SCHEMES = ("http://", "https://", "mailto:")


class Translator:
    """The resolved singlehtml doctree as Typst markup (see the module's docstring)."""

    def __init__(self, doctree: nodes.document, env, root_doc: str, srcdir: Path, root: Path):
        self.env = env
        self.root = root.resolve()
        self.srcdir = srcdir
        self.docname = root_doc
        self.labels: dict[tuple[str, str], str] = {}
        self.footnotes: dict[tuple[str, str], nodes.footnote] = {}
        self.hoist: list[str] | None = None  # anchors met in a table's header (see visit_table)
        self.contents_done = False
        self.run = LONG_RUN  # letters that surely fit a line (less in a table cell)
        self.depth, self.base = 0, None  # sections around the current one in its document; None: the root document
        self._collect(doctree, root_doc)

    def _collect(self, node, docname: str) -> None:
        """Labels for every element that can be linked to, and the footnotes by (document, id)."""
        for child in node.children:
            if not isinstance(child, nodes.Element):
                continue
            doc = child.get("docname", docname) if child.tagname == "start_of_file" else docname
            if isinstance(child, nodes.footnote):
                for ident in child["ids"]:
                    self.footnotes[(doc, ident)] = child
            elif isinstance(child, (nodes.section, nodes.figure, nodes.table)) or (
                isinstance(child, nodes.target) and child["ids"] and not child.get("refuri") and not child.get("refid")
            ):
                # A target: an anchor in running text (a quotation, a line of the source text annex).
                label = f"wgec-{len(set(self.labels.values())) + 1}"
                for ident in child["ids"]:
                    self.labels[(doc, ident)] = label
            self._collect(child, doc)

    def label_for(self, ident: str) -> str | None:
        label = self.labels.get((self.docname, ident))
        if label is None:
            label = next((v for (doc, i), v in self.labels.items() if i == ident), None)
        return label

    def anchor(self, node) -> str:
        for ident in node.get("ids", []):
            label = self.labels.get((self.docname, ident))
            if label:
                return f"<{label}>"
        return ""

    # blocks -------------------------------------------------------------------------
    def translate(self, document: nodes.document) -> str:
        return '#import "un.typ": *\n\n' + self.blocks(document) + "\n"

    def blocks(self, node) -> str:
        parts = [self.block(child) for child in node.children]
        return "\n\n".join(p for p in parts if p)

    def block(self, node) -> str:
        if isinstance(node, nodes.Text):
            return text(_inline_space(node.astext()), self.run).strip()
        if isinstance(node, SKIP) or "un-web-only" in node.get("classes", []):
            return ""
        method = getattr(self, f"visit_{node.tagname}", None)
        if method is None:
            if isinstance(node, nodes.TextElement):
                return self.inline(node)
            raise TypstBuildError(f"the Typst PDF cannot show a {node.tagname!r} element (in {self.docname})")
        return method(node)

    def visit_start_of_file(self, node) -> str:
        outer = self.docname, self.depth, self.base
        self.docname, self.depth, self.base = node["docname"], 0, 1
        try:
            return self.blocks(node)
        finally:
            self.docname, self.depth, self.base = outer

    def visit_compound(self, node) -> str:
        return self.blocks(node)

    def visit_container(self, node) -> str:
        classes = set(node.get("classes", []))
        if "un-masthead" in classes:
            parts = []
            for child in node.children:
                name = next((MASTHEAD_PARTS[c] for c in child.get("classes", []) if c in MASTHEAD_PARTS), None)
                if name:
                    parts.append(f"{name}: [{self.blocks(child)}]")
            return f"#masthead({', '.join(parts)})"
        if "un-subparas" in classes:
            return f"#subparas[{self.blocks(node)}]"
        return self.blocks(node)

    def visit_section(self, node) -> str:
        # Chapters and annexes are level 1, their sections (and section pages) 2, and so on; the
        # report's title (the root document's first heading) is level 0, its sections level 2.
        # (Levels come from the walk: the assembled doctree's parent links are not reliable.)
        classes = set(node.get("classes", []))
        if self.depth == 0 and "un-section" in classes:
            self.base = 2
        level = (self.depth + 1 if self.depth else 0) if self.base is None else self.base + self.depth
        out = []
        if classes & {"un-chapter", "un-annex"}:
            if not self.contents_done:
                out.append("#contents()")
                self.contents_done = True
            out.append("#chapter-break()")
        title = node.next_node(nodes.title)
        heading = self.inline(title) if title is not None else ""
        if level == 0:
            out.append(f"#report-title[{heading}]{self.anchor(node)}")
        else:
            outlined = "false" if self.docname == self.env.config.root_doc else "true"
            out.append(
                f"#heading(level: {level}, outlined: {outlined}, bookmarked: true)[{heading}]{self.anchor(node)}"
            )
        self.depth += 1
        try:
            out.append(self.blocks_after_title(node))
        finally:
            self.depth -= 1
        return "\n\n".join(p for p in out if p)

    def blocks_after_title(self, node) -> str:
        return "\n\n".join(p for p in (self.block(c) for c in node.children if not isinstance(c, nodes.title)) if p)

    def visit_paragraph(self, node) -> str:
        number = None
        children = list(node.children)
        if children and isinstance(children[0], nodes.inline) and "un-para-num" in children[0].get("classes", []):
            number = children[0].astext()
            children = children[1:]
            if children and isinstance(children[0], nodes.Text) and not children[0].astext().strip():
                children = children[1:]
        body = self.inline_children(children).strip()
        if number is not None:
            return f"#para({string(number)})[{body}]"
        return f"#par[{body}]" if body else ""

    def visit_block_quote(self, node) -> str:
        return f"#quote(block: true)[{self.blocks(node)}]"

    def visit_bullet_list(self, node) -> str:
        items = ", ".join(f"[{self.blocks(item)}]" for item in node.children)
        return f"#list({items})"

    def visit_enumerated_list(self, node) -> str:
        items = ", ".join(f"[{self.blocks(item)}]" for item in node.children)
        return f"#enum({items})"

    def visit_definition_list(self, node) -> str:
        items = []
        for item in node.children:
            term = next((self.inline(c) for c in item.children if isinstance(c, nodes.term)), "")
            definition = next((self.blocks(c) for c in item.children if isinstance(c, nodes.definition)), "")
            items.append(f"terms.item([{term}], [{definition}])")
        return f"#terms({', '.join(items)})"

    def visit_literal_block(self, node) -> str:
        return f"#raw(block: true, {string(node.astext())})"

    def visit_transition(self, node) -> str:
        return "" if "footnotes" in node.get("classes", []) else "#line(length: 100%, stroke: 0.5pt)"

    def visit_rubric(self, node) -> str:
        return f"#par[#strong[{self.inline(node)}]]"

    def visit_topic(self, node) -> str:
        return self.blocks(node)

    visit_admonition = visit_note = visit_sidebar = visit_topic

    def visit_title(self, node) -> str:
        return f"#par[#strong[{self.inline(node)}]]"

    def visit_image(self, node) -> str:
        return self.image(node)

    def image(self, node) -> str:
        uri = node["uri"]
        path = (self.srcdir / uri).resolve()
        if not path.is_file() or not path.is_relative_to(self.root):
            raise TypstBuildError(f"the Typst PDF cannot find the image {uri} inside the build folder")
        where = "/" + path.relative_to(self.root).as_posix()
        return f"image({string(where)}, alt: {string(node.get('alt', ''))})"

    def number(self, kind: str, node) -> str:
        numbers = getattr(self.env, "toc_fignumbers", {}).get(self.docname, {}).get(kind, {})
        for ident in node.get("ids", []):
            if ident in numbers:
                return ".".join(str(n) for n in numbers[ident])
        return ""

    def visit_figure(self, node) -> str:
        image = node.next_node(nodes.image)
        caption = node.next_node(nodes.caption)
        number = self.number("figure", node)
        head = text(f"Figure {number}. ") if number else ""
        body = self.inline(caption) if caption is not None else ""
        legend = "".join(self.blocks(c) for c in node.children if isinstance(c, nodes.legend))
        content = self.image(image) if image is not None else "[]"
        if legend:
            content = f"[#{content}\n\n{legend}]"
        return f"#figure({content}, caption: [{head}{body}], numbering: none){self.anchor(node)}"

    def visit_table(self, node) -> str:
        title = node.next_node(nodes.title)
        number = self.number("table", node)
        head = text(f"Table {number}. ") if number else ""
        caption = f"{head}{self.inline(title) if title is not None else ''}"
        group = node.next_node(nodes.tgroup)
        widths = [c.get("colwidth", 1) for c in group.children if isinstance(c, nodes.colspec)]
        size = 7.5 if "un-data" in node.get("classes", []) else 9
        # Columns of codes (wgec.report.narrative.identifier_columns) are as wide as their widest code
        # (or heading word): a code is never broken.
        whole = {int(c.removeprefix("un-nowrap-")) - 1 for c in node.get("classes", []) if c.startswith("un-nowrap-")}
        sizes = {i: f"{self.code_width(group, i) * CODE * size + 8:.1f}pt" for i in whole if i < len(widths)}
        columns = (
            "("
            + ", ".join(sizes.get(i, f"{w}fr") for i, w in enumerate(widths))
            + ("," if len(widths) == 1 else "")
            + ")"
        )
        fits = [
            self.code_width(group, i)
            if i in sizes
            else max(2, int((TEXT_WIDTH * w / sum(widths) - 8) / (WIDEST * size)))
            for i, w in enumerate(widths)
        ]
        parts = []
        hoisted: list[str] = []
        for part in group.children:
            if isinstance(part, (nodes.thead, nodes.tbody)):
                # An anchor in a heading cell (a quotation of the contribution's own table heading) would
                # stand on every page the header is repeated on: it goes just before the table instead.
                self.hoist = hoisted if isinstance(part, nodes.thead) else None
                cells = ", ".join(
                    self.cell(entry, fits[min(i, len(fits) - 1)], whole=i in whole and isinstance(part, nodes.tbody))
                    for row in part.children
                    for i, entry in enumerate(row.children)
                )
                parts.append(f"table.header({cells})" if isinstance(part, nodes.thead) else cells)
        self.hoist = None
        table = f"table(columns: {columns}, {', '.join(p for p in parts if p)})"
        cap = f"caption: [{caption}], " if caption else ""
        inner = f"[#set text(size: {size}pt)\n#{table}]"
        anchors = "".join(f"#metadata(none){label}" for label in hoisted)
        return f"{anchors}#figure({inner}, {cap}kind: table, numbering: none){self.anchor(node)}"

    @staticmethod
    def code_width(group, column: int) -> int:
        """The letters of the longest code in a column, or of the longest word of its heading."""
        longest = 1
        for part in group.children:
            for row in part.children if isinstance(part, (nodes.thead, nodes.tbody)) else ():
                if column < len(row.children):
                    value = row.children[column].astext()
                    pieces = value.split() if isinstance(part, nodes.thead) else [value]
                    longest = max([longest, *(len(p) for p in pieces)])
        return longest

    def cell(self, entry, fits: int, whole: bool = False) -> str:
        span = entry.get("morecols", 0) + 1
        rows = entry.get("morerows", 0) + 1
        paragraphs = [c for c in entry.children if isinstance(c, nodes.Element)]
        whole = whole and len(paragraphs) == 1 and isinstance(paragraphs[0], nodes.paragraph)
        outer, self.run = self.run, 10**6 if whole else fits
        try:
            # A code in a box: a box is not broken across lines.
            body = f"#box[{self.inline(paragraphs[0])}]" if whole else self.blocks(entry)
        finally:
            self.run = outer
        if span > 1 or rows > 1:
            return f"table.cell(colspan: {span}, rowspan: {rows})[{body}]"
        return f"[{body}]"

    def visit_raw(self, node) -> str:
        return self.visit_raw_inline(node)

    # inlines --------------------------------------------------------------------------
    def inline(self, node) -> str:
        return self.inline_children(node.children)

    def inline_children(self, children) -> str:
        return "".join(self.inline_node(child) for child in children)

    def inline_node(self, node) -> str:
        if isinstance(node, nodes.Text):
            return text(_inline_space(node.astext()), self.run)
        if isinstance(node, nodes.target) and self.anchor(node):  # an anchor in running text: links can reach it
            if self.hoist is not None:
                self.hoist.append(self.anchor(node))
                return ""
            return f"#metadata(none){self.anchor(node)}"
        if isinstance(node, SKIP):
            return ""
        name = node.tagname
        if name == "footnote_reference":
            return self.footnote(node)
        if name == "strong":
            return f"#strong[{self.inline(node)}]"
        if name == "emphasis":
            return f"#emph[{self.inline(node)}]"
        if name in ("literal", "math"):
            # Spaces as they are (a line of the source text annex is shown exactly), and in pieces,
            # like text: a word longer than its column gets break opportunities, never runs off the page.
            return "".join(
                f"#raw({string(part)});" if part else "#box();"
                for part in breakable(re.sub(r"[\n\r\t]", " ", node.astext()), self.run or LONG_RUN)
            )
        if name == "subscript":
            return f"#sub[{self.inline(node)}]"
        if name == "superscript":
            return f"#super[{self.inline(node)}]"
        if name in ("reference", "number_reference"):
            return self.reference(node)
        if name == "raw":
            return self.visit_raw_inline(node)
        if name == "image":
            return "#" + self.image(node)
        if isinstance(node, (nodes.inline, nodes.TextElement)) or name in ("pending_xref", "literal_strong"):
            return self.inline(node)
        raise TypstBuildError(f"the Typst PDF cannot show a {name!r} element in running text (in {self.docname})")

    def visit_raw_inline(self, node) -> str:
        # MyST writes a hard line break ("\\" at a line end) as raw <br />: a line break here.
        # No other raw content reaches the PDF (the book refuses raw directives).
        if node.get("format") == "html" and node.astext().strip() in ("<br />", "<br>", "<br/>"):
            return "#linebreak()"
        return ""

    def footnote(self, node) -> str:
        note = self.footnotes.get((node.get("docname", self.docname), node.get("refid", "")))
        if note is None:
            return ""
        paragraphs = [self.inline(p) for p in note.children if isinstance(p, nodes.paragraph)]
        return f"#footnote[{' '.join(paragraphs)}]"

    def reference(self, node) -> str:
        body = self.inline(node)
        target = node.get("refid")
        uri = node.get("refuri", "")
        if not target and "#" in uri and not uri.startswith(SAFE_SCHEMES):
            target = uri.rsplit("#", 1)[1]
        if target:
            label = self.label_for(target)
            return f"#link(<{label}>)[{body}]" if label else body
        if uri.startswith(SAFE_SCHEMES):
            return f"#link({string(uri)})[{body}]"
        return body


def _inline_space(value: str) -> str:
    return re.sub(r"[ \n\r\t]+", " ", value)


# --- the Sphinx extension -----------------------------------------------------------------


def on_doctree_resolved(app, doctree, docname: str) -> None:
    """The singlehtml builder's assembled report, written as Typst markup next to its output."""
    if app.builder.name != "singlehtml" or docname != app.config.root_doc:
        return
    root = Path(app.outdir).parent  # the work folder: the Typst project root
    folder = root / FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    source = Translator(doctree, app.env, docname, Path(app.srcdir), root).translate(doctree)
    tmp = folder / (BODY + ".tmp")
    tmp.write_text(source, encoding="utf-8")
    tmp.replace(folder / BODY)


def on_config_inited(app, config) -> None:
    """``wgec_single_page_html = False``: the singlehtml builder only assembles the report, for
    the Typst markup, and writes no HTML page (a quarter of a second; only the Word edition
    reads that page)."""
    if config.wgec_single_page_html:
        return
    from sphinx.builders.singlehtml import SingleFileHTMLBuilder

    class PrintOnly(SingleFileHTMLBuilder):
        name = "singlehtml"

        def write_doc(self, docname, doctree) -> None:
            pass

        def finish(self) -> None:
            pass

    app.add_builder(PrintOnly, override=True)


def setup(app) -> dict:
    # After wgec.sphinx_ext's handler, which fills in the paragraph numbers.
    app.connect("doctree-resolved", on_doctree_resolved, priority=900)
    app.add_config_value("wgec_single_page_html", True, "", [bool])
    app.connect("config-inited", on_config_inited)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}


# --- the typesetter --------------------------------------------------------------------------


def main_source(settings: dict, title: str, attachments: list[str], author: str = "") -> str:
    """The document: the template with the report's settings, the body, and the attachments."""
    symbol = settings["symbol"] or "DRAFT"
    keywords = ", ".join(string(k) for k in ("WGEC", "enhanced cooperation", "CSTD", symbol))
    description = string(settings["organ"] + " — " + settings["body"])
    show = (
        f"#show: report.with(title: {string(title)}, author: {string(author)}, symbol: {string(symbol)}, "
        f"description: {description}, keywords: ({keywords},))"
    )
    lines = [f'#import "{FOLDER}/{TEMPLATE.name}": report', show]
    for name in attachments:  # named as in the data package; read from the copy in the work folder
        data = f"read({string(f'{FOLDER}/attachments/{name}')}, encoding: none)"
        about = string("Data behind the report: " + name)
        lines.append(
            f'#pdf.attach({string(name)}, {data}, relationship: "source", mime-type: {string(_mime(name))}, '
            f"description: {about})"
        )
    lines.append(f'#include "{FOLDER}/{BODY}"')
    return "\n".join(lines) + "\n"


def _mime(name: str) -> str:
    return {
        ".csv": "text/csv",
        ".json": "application/json",
        ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    }.get(Path(name).suffix, "text/plain")


_FONTS = None


def fonts():
    """The fonts installed on this machine (not those bundled in the wheel), found once a process."""
    global _FONTS
    if _FONTS is None:
        import typst

        _FONTS = typst.Fonts(include_system_fonts=True, include_embedded_fonts=False)
    return _FONTS


def forget(work: Path) -> None:
    """Remove the last Typst source, so that a PDF is only ever set from this build's singlehtml."""
    (work / FOLDER / BODY).unlink(missing_ok=True)


def render_all(
    work: Path, targets: list[tuple[Path, str, list[tuple[Path, str]]]], settings: dict, title: str, date: dt.date
) -> None:
    """Write one PDF per (target, variant, attachments) from ``work/typst/body.typ``."""
    import typst

    folder = work / FOLDER
    if not (folder / BODY).is_file():
        raise TypstBuildError(f"{folder / BODY} is missing: the singlehtml build did not write the report")
    from .. import settings as config

    author = config.book_config().get("author", "")  # the book's author, as in the HTML
    shutil.copyfile(TEMPLATE, folder / TEMPLATE.name)
    when = dt.datetime.combine(date, dt.time(12, 0), tzinfo=dt.UTC)
    for target, variant, attachments in targets:
        if variant not in VARIANTS:
            raise ValueError(f"unknown PDF variant {variant!r}; expected one of {', '.join(VARIANTS)}")
        inside = folder / "attachments"
        if attachments:
            shutil.rmtree(inside, ignore_errors=True)
            inside.mkdir()
            for path, name in attachments:
                shutil.copyfile(path, inside / name)
        # At the project root: Typst names an attachment by its path from the main file.
        main = work / f"{FOLDER}-{variant.replace('/', '-')}.typ"
        main.write_text(main_source(settings, title, [name for _, name in attachments], author), encoding="utf-8")
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            pdf = typst.compile(
                main,
                root=work,
                font_paths=fonts(),
                ignore_system_fonts=True,
                format="pdf",
                pdf_standards=VARIANTS[variant],
                timestamp=when,
                package_path=folder / "no-packages",
                package_cache_path=folder / "no-packages",
            )
        except typst.TypstError as error:
            raise TypstBuildError(f"Typst could not set the PDF: {error}") from None
        target.write_bytes(pdf)
