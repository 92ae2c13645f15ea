"""The Word edition: the print HTML of the PDF (:func:`wgec.editions.pdf.assemble`), converted by pandoc.

Same content, same numbering as the PDF. This module only says, in the HTML, what Word
should make of it: the masthead and the title take their own paragraph styles, the
headings move up a level (chapters are Heading 1, sections Heading 2, so Word's
navigation pane and contents work), captions read "Figure 1." and "Table 1.", and the
contents list links to the headings. A small Lua filter (``docx.lua``) turns the source
notes into real Word footnotes and hangs the paragraph numbers. The styles (A4, Times New
Roman 10 pt) come from ``reference.docx``, made by ``tools/reference_docx.py``.

Charts are SVG: pandoc embeds them as SVG with a PNG copy for programs that do not read
SVG, which it asks ``rsvg-convert`` for. Instead of a system rasteriser, the PNGs are
rendered here with the PDF's own engine (WeasyPrint, then poppler's pdftoppm), and handed
to pandoc by a stand-in ``rsvg-convert`` that looks them up by the SVG's hash.

Data strings stay literal: the HTML holds them escaped, pandoc reads them as text, and
raw HTML is not read at all (``html-raw_html``). Pandoc honours $SOURCE_DATE_EPOCH for the
document's dates and the zip's timestamps, so the same inputs give the same bytes.
"""

from __future__ import annotations

import datetime as dt
import os
import shlex
import shutil
import subprocess
import tempfile
from pathlib import Path
from urllib.parse import unquote

from bs4 import BeautifulSoup

from ..errors import EditionError
from ..files import sha256

HERE = Path(__file__).resolve().parent
REFERENCE = HERE / "reference.docx"
FILTER = HERE / "docx.lua"
# pandoc's document.xml template without its title block: the title (in the document's
# properties) is set in the body, under the masthead, as UN documents have it.
TEMPLATE = HERE / "docx.openxml"
PNG_DPI = 200


class DocxError(EditionError):
    """pandoc, or the drawing of the charts for Word, failed."""


def word_html(document: str) -> str:
    """The print HTML with Word's paragraph styles named (pandoc reads ``data-custom-style``)."""
    soup = BeautifulSoup(document, "html.parser")
    body = soup.body

    masthead = body.select_one("div.un-masthead")
    if masthead is not None:
        for part, style in (("un-mh-un", "Masthead United Nations"), ("un-mh-symbol", "Masthead Symbol"),
                            ("un-mh-organ", "Masthead Organ"), ("un-mh-meta", "Masthead Details"),
                            ("un-mh-session", "Masthead Session")):
            for block in masthead.select(f"div.{part}"):
                block.attrs = {"data-custom-style": style}
        masthead.attrs = {}

    # Headings move up a level: the report's title is the Title, its chapters Heading 1.
    for heading in body.find_all(["h1", "h2", "h3", "h4", "h5", "h6"]):
        level = int(heading.name[1])
        if level == 1:
            wrapper = soup.new_tag("div", attrs={"data-custom-style": "Title"})
            heading.wrap(wrapper)
            heading.name = "p"
        else:
            heading.name = f"h{level - 1}"

    contents = body.select_one("nav.un-contents")
    if contents is not None:
        block = soup.new_tag("div")
        title = contents.select_one(".un-contents-title")
        if title is not None:
            block.append(_styled(soup, "TOC Heading", title.get_text(" ", strip=True)))
        for item in contents.select("li"):
            level = "2" if "toc-2" in item.get("class", []) else "1"
            link = item.find("a")
            paragraph = _styled(soup, f"toc {level}", "")
            paragraph.p.append(link.extract() if link else item.get_text(" ", strip=True))
            block.append(paragraph)
        contents.replace_with(block)

    # The singlehtml marks where each page began with an empty anchor; in Word each would be an
    # empty paragraph. Those that nothing links to go.
    linked = {a.get("href", "")[1:] for a in body.select('a[href^="#"]')}
    for anchor in body.select("span[id]"):
        if not anchor.get_text(strip=True) and not anchor.find(True) and anchor["id"] not in linked:
            anchor.decompose()
    for number in body.select("span.caption-number"):  # "Figure 1" -> "Figure 1. "
        text = number.get_text(" ", strip=True)
        number.string = (text if text.endswith(".") else text + ".") + " "
    for paragraph in body.select("p.un-para"):
        paragraph.wrap(soup.new_tag("div", attrs={"data-custom-style": "Numbered Paragraph"}))
    return str(soup)


def _styled(soup, style: str, text: str):
    wrapper = soup.new_tag("div", attrs={"data-custom-style": style})
    paragraph = soup.new_tag("p")
    if text:
        paragraph.string = text
    wrapper.append(paragraph)
    return wrapper


def _svgs(html: str, root: Path) -> list[Path]:
    soup = BeautifulSoup(html, "html.parser")
    found = []
    for img in soup.select("img"):
        src = unquote(img.get("src", ""))
        if src.lower().endswith(".svg"):
            path = (root / src).resolve()
            if path.is_file() and path not in found:
                found.append(path)
    return found


def _png_fallbacks(svgs: list[Path], root: Path, work: Path) -> dict[str, bytes]:
    """PNG renderings of the SVG charts (sha256 of the SVG -> PNG), for Word's fallback image."""
    if not svgs:
        return {}
    from . import pdf

    pdftoppm = shutil.which("pdftoppm")
    if pdftoppm is None:
        raise DocxError("pdftoppm (Debian package poppler-utils) is needed to draw the charts for Word; "
                        "run `make deps`")
    pages, css = [], ["img { display: block; width: 100%; height: 100%; }"]
    for i, svg in enumerate(svgs):
        width, height = _svg_size(svg)
        css.append(f"@page chart{i} {{ size: {width} {height}; margin: 0; }} div.chart{i} {{ page: chart{i}; "
                   f"width: {width}; height: {height}; }}")
        pages.append(f'<div class="chart{i}"><img src="{svg.relative_to(root).as_posix()}" alt=""></div>')
    html = f"<!DOCTYPE html><html><head><style>{''.join(css)}</style></head><body>{''.join(pages)}</body></html>"
    import logging

    for name in ("weasyprint", "weasyprint.progress"):
        logging.getLogger(name).setLevel(logging.ERROR)
    from weasyprint import HTML

    sheet = work / "charts.pdf"
    HTML(string=html, base_url=root.as_uri() + "/", url_fetcher=pdf.Fetcher([root])).write_pdf(sheet)
    result = subprocess.run([pdftoppm, "-png", "-r", str(PNG_DPI), str(sheet), str(work / "chart")],
                            capture_output=True, text=True)
    if result.returncode != 0:
        raise DocxError(f"pdftoppm could not draw the charts: {result.stderr.strip()}")
    pngs = sorted(work.glob("chart-*.png"), key=lambda p: int(p.stem.rsplit("-", 1)[1]))
    if len(pngs) != len(svgs):
        raise DocxError(f"expected {len(svgs)} chart images from pdftoppm, found {len(pngs)}")
    return {sha256(svg): png.read_bytes() for svg, png in zip(svgs, pngs)}


def _svg_size(svg: Path) -> tuple[str, str]:
    import xml.etree.ElementTree as ET

    root = ET.fromstring(svg.read_bytes())
    width, height = root.get("width", ""), root.get("height", "")
    if not (width and height) or width.endswith("%") or height.endswith("%"):
        box = (root.get("viewBox") or "0 0 400 300").replace(",", " ").split()
        width, height = f"{box[2]}px", f"{box[3]}px"
    unit = lambda v: v if v[-1:].isalpha() else f"{v}px"  # noqa: E731
    return unit(width), unit(height)


def _rasteriser(folder: Path, pngs: dict[str, bytes]) -> Path:
    """A stand-in for ``rsvg-convert`` (pandoc pipes the SVG in, reads the PNG out)."""
    store = folder / "png"
    store.mkdir()
    for digest, png in pngs.items():
        (store / f"{digest}.png").write_bytes(png)
    bin_dir = folder / "bin"
    bin_dir.mkdir()
    script = bin_dir / "rsvg-convert"
    script.write_text("#!/bin/sh\n# The PNG of a chart, rendered beforehand by wgec.editions.docx, found by the SVG's SHA-256.\n"
                      f"exec cat {shlex.quote(str(store))}/\"$(sha256sum | cut -c1-64)\".png\n")
    script.chmod(0o755)
    return bin_dir


def write(document: str, root: Path, target: Path, date: dt.date) -> Path:
    """Convert the print HTML (image paths relative to ``root``) to ``target``, a .docx file."""
    import pypandoc

    html = word_html(document)
    target.parent.mkdir(parents=True, exist_ok=True)
    # Work next to the target (one file system, so the finished file is renamed into place).
    with tempfile.TemporaryDirectory(prefix=".docx-", dir=target.parent) as tmp:
        tmp = Path(tmp)
        bin_dir = _rasteriser(tmp, _png_fallbacks(_svgs(html, root), root, tmp))
        source = tmp / "report.html"
        source.write_text(html, encoding="utf-8")
        when = dt.datetime.combine(date, dt.time(12, 0), tzinfo=dt.UTC)
        env = dict(os.environ, PATH=f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
                   SOURCE_DATE_EPOCH=str(int(when.timestamp())))
        command = [pypandoc.get_pandoc_path(), str(source), "--from=html-raw_html", "--to=docx",
                   f"--reference-doc={REFERENCE}", f"--template={TEMPLATE}", f"--lua-filter={FILTER}",
                   f"--dpi={PNG_DPI}", "--fail-if-warnings", f"--output={tmp / 'report.docx'}"]
        # Image paths are relative to ``root``: pandoc runs there.
        result = subprocess.run(command, capture_output=True, text=True, env=env, cwd=root)
        if result.returncode != 0:
            raise DocxError(f"pandoc could not write the Word edition: {result.stderr.strip()[-2000:]}")
        os.replace(tmp / "report.docx", target)
    return target
