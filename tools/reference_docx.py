"""Make ``wgec/editions/reference.docx``: the Word styles of the DOCX edition (pandoc's --reference-doc).

It starts from the reference.docx of the pinned pandoc, and sets what a UN document needs:
A4 pages with the margins of the PDF, Times New Roman 10 pt throughout (no theme fonts or
colours), headings in black bold, captions, footnotes, the masthead's styles and the
numbered paragraph (the number hangs 1 cm, as in the PDF). The zip is written with fixed
timestamps, so the same pandoc and python-docx give the same bytes; tests/test_docx.py
checks that the committed file is what this script makes. Run it after a change here or an
upgrade of pandoc:  .venv/bin/python tools/reference_docx.py
"""

from __future__ import annotations

import io
import sys
import zipfile
from pathlib import Path

import pypandoc
from docx import Document
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Mm, Pt, RGBColor

TARGET = Path(__file__).resolve().parent.parent / "wgec" / "editions" / "reference.docx"
FONT = "Times New Roman"  # Liberation Serif stands in for it where it is not installed (same metrics)


def _pandoc_reference() -> bytes:
    import subprocess

    return subprocess.run(
        [pypandoc.get_pandoc_path(), "--print-default-data-file", "reference.docx"], capture_output=True, check=True
    ).stdout


def _plain_fonts(styles_element) -> None:
    """Theme fonts and colours off: every style names Times New Roman and is black."""
    for fonts in styles_element.iter(qn("w:rFonts")):
        for key in list(fonts.attrib):
            del fonts.attrib[key]
        for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
            fonts.set(qn(attr), FONT)
    for colour in list(styles_element.iter(qn("w:color"))):
        colour.getparent().remove(colour)


def _border(style, side: str, size_pt: float, space_pt: int = 2) -> None:
    ppr = style.element.get_or_add_pPr()
    borders = ppr.find(qn("w:pBdr"))
    if borders is None:
        borders = OxmlElement("w:pBdr")
        ppr.append(borders)
    edge = OxmlElement(f"w:{side}")
    edge.set(qn("w:val"), "single")
    edge.set(qn("w:sz"), str(int(size_pt * 8)))  # eighths of a point
    edge.set(qn("w:space"), str(space_pt))
    edge.set(qn("w:color"), "000000")
    borders.append(edge)


def _style(
    doc,
    name: str,
    base: str | None = None,
    size: float | None = None,
    bold: bool | None = None,
    italic: bool | None = False,
    align=None,
    before: float | None = None,
    after: float | None = None,
    keep_next: bool | None = None,
):
    styles = doc.styles
    # By name as the file spells it (python-docx's lookup would translate "Caption" to "caption").
    style = next((s for s in styles if s.name == name), None) or styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
    if base:
        style.base_style = next(s for s in styles if s.name == base)
    font = style.font
    font.name = FONT
    font.color.rgb = RGBColor(0, 0, 0)
    if size is not None:
        font.size = Pt(size)
    if bold is not None:
        font.bold = bold
    if italic is not None:
        font.italic = italic
    fmt = style.paragraph_format
    if align is not None:
        fmt.alignment = align
    if before is not None:
        fmt.space_before = Pt(before)
    if after is not None:
        fmt.space_after = Pt(after)
    if keep_next is not None:
        fmt.keep_with_next = keep_next
    return style


def make() -> bytes:
    doc = Document(io.BytesIO(_pandoc_reference()))
    _plain_fonts(doc.styles.element)

    section = doc.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin = section.bottom_margin = Cm(2.4)
    section.left_margin = section.right_margin = Cm(2.2)
    section.header_distance = section.footer_distance = Cm(1.25)

    # Page numbers at the top right from page 2 on, as in the PDF (page 1 carries the masthead).
    section.different_first_page_header_footer = True
    number = section.header.paragraphs[0]
    number.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    field = OxmlElement("w:fldSimple")
    field.set(qn("w:instr"), "PAGE")
    run = OxmlElement("w:r")
    text = OxmlElement("w:t")
    text.text = "2"
    run.append(text)
    field.append(run)
    number._p.append(field)

    J, L, C, R = (
        WD_ALIGN_PARAGRAPH.JUSTIFY,
        WD_ALIGN_PARAGRAPH.LEFT,
        WD_ALIGN_PARAGRAPH.CENTER,
        WD_ALIGN_PARAGRAPH.RIGHT,
    )
    _style(doc, "Normal", size=10)
    for name in ("Body Text", "First Paragraph"):
        _style(doc, name, size=10, align=J, before=0, after=6)
    _style(doc, "Compact", size=10, align=L, before=0, after=2)
    _style(doc, "Title", size=17, bold=True, align=L, before=6, after=12)
    for level, size in ((1, 14), (2, 12), (3, 10), (4, 10), (5, 10)):
        _style(
            doc,
            f"Heading {level}",
            size=size,
            bold=True,
            italic=level >= 4,
            align=L,
            before=12,
            after=6,
            keep_next=True,
        )
    _style(doc, "Caption", size=9, bold=True, align=L, before=4, after=8)
    _style(doc, "Image Caption", size=9, bold=True, align=C, before=4, after=10)
    _style(doc, "Table Caption", size=9, bold=True, align=L, before=6, after=4, keep_next=True)
    _style(doc, "Captioned Figure", align=C, before=8, after=0, keep_next=True)
    _style(doc, "Figure", align=C, keep_next=True)
    _style(doc, "Footnote Text", size=8.5, align=L, before=0, after=0)
    _style(doc, "Block Text", size=9.5, align=L, before=0, after=6)
    _style(doc, "TOC Heading", size=14, bold=True, align=L, before=12, after=6, keep_next=True)

    # The numbered paragraph: "12.<tab>text", the number hanging in a 1 cm column.
    para = _style(doc, "Numbered Paragraph", base="Body Text", size=10, align=J, before=0, after=6)
    para.paragraph_format.left_indent = Cm(1)
    para.paragraph_format.first_line_indent = Cm(-1)
    para.paragraph_format.tab_stops.add_tab_stop(Cm(1))

    # The contents: one line per heading, level 2 indented.
    _style(doc, "toc 1", base="Normal", size=10, bold=True, align=L, before=4, after=0)
    toc2 = _style(doc, "toc 2", base="Normal", size=10, bold=False, align=L, before=0, after=0)
    toc2.paragraph_format.left_indent = Cm(1)

    # The masthead of page 1 (as in the PDF): rules under "United Nations" and the symbol,
    # a heavy rule above and below the session block.
    _style(doc, "Masthead", base="Normal", size=10, align=L, before=0, after=0)
    _style(doc, "Masthead United Nations", base="Masthead", size=12, bold=True)
    _style(doc, "Masthead Symbol", base="Masthead", size=14, bold=True, align=R)
    _border(doc.styles["Masthead Symbol"], "bottom", 0.75)
    _style(doc, "Masthead Organ", base="Masthead", size=18, bold=True, before=6)
    _style(doc, "Masthead Details", base="Masthead", align=R, before=0, after=6)
    session = _style(doc, "Masthead Session", base="Masthead", bold=True, before=4, after=14)
    _border(session, "top", 2.5, 4)
    _border(session, "bottom", 2.5, 4)

    buffer = io.BytesIO()
    doc.save(buffer)
    return _fixed_zip(buffer.getvalue())


def _fixed_zip(data: bytes) -> bytes:
    """The same zip with fixed entry times and order, so the bytes depend on the content only."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for name in sorted(src.namelist(), key=lambda n: (n != "[Content_Types].xml", n)):
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(info, src.read(name))
    return out.getvalue()


def main() -> int:
    TARGET.write_bytes(make())
    print(f"wrote {TARGET}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
