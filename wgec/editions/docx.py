"""The Word edition: the book's singlehtml output as one print HTML document, converted by pandoc.

Same content, same numbering as the PDF (both come from the singlehtml build). :func:`assemble`
reshapes the page for print: sources become footnotes where they are cited, a table of contents
goes before the first chapter, web-only parts are dropped. :func:`word_html` then says what
Word should make of it: the masthead and the title take their own paragraph styles, the
headings move up a level (chapters are Heading 1, sections Heading 2, so Word's
navigation pane and contents work), captions read "Figure 1." and "Table 1.", and the
contents list links to the headings. A small Lua filter (``docx.lua``) turns the source
notes into real Word footnotes and hangs the paragraph numbers. The styles (A4, Times New
Roman 10 pt) come from ``reference.docx``, made by ``tools/reference_docx.py``.

Charts are SVG: pandoc embeds them as SVG with a PNG copy for programs that do not read
SVG, which it asks ``rsvg-convert`` for. Instead of a system rasteriser, the PNGs are
rendered here with the PDF's own engine (Typst's PNG export, the machine's fonts), and handed
to pandoc by a stand-in ``rsvg-convert`` that looks them up by the SVG's hash.

Data strings stay literal: the HTML holds them escaped, pandoc reads them as text, and
raw HTML is not read at all (``html-raw_html``). Pandoc honours $SOURCE_DATE_EPOCH for the
document's dates and the zip's timestamps, so the same inputs give the same bytes.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shlex
import subprocess
import tempfile
from pathlib import Path
from urllib.parse import unquote, urlparse

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


# --- the print document, from the singlehtml book ------------------------------------------


def root_page(singlehtml: Path) -> Path:
    """The singlehtml page (index.html redirects to it when the root document is in a folder)."""
    index = singlehtml / "index.html"
    text = index.read_text(encoding="utf-8")
    match = re.search(r'http-equiv="Refresh" content="0; url=([^"]+)"', text)
    return (singlehtml / match.group(1)) if match else index


def assemble(singlehtml: Path, settings: dict, title: str, date: dt.date) -> str:
    """The print HTML document built from the singlehtml book (image paths relative to its parent folder)."""
    page = root_page(singlehtml)
    soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
    article = soup.select_one("article.bd-article")
    if article is None:
        raise DocxError("no article in the singlehtml output", where=str(page))

    for el in article.select("a.headerlink, script, .un-web-only, button, .toggle-details"):
        el.decompose()
    _footnotes(article, soup)
    _numbers(article)
    _images(article, page.parent, singlehtml)
    _contents(article, soup)

    symbol = settings["symbol"] or "DRAFT"
    head = (
        f'<meta charset="utf-8"><title>{_esc(title)}</title>'
        f'<meta name="description" content="{_esc(settings["organ"] + " — " + settings["body"])}">'
        f'<meta name="keywords" content="WGEC, enhanced cooperation, CSTD, {_esc(symbol)}">'
        f'<meta name="dcterms.created" content="{date.isoformat()}">'
        f'<meta name="dcterms.modified" content="{date.isoformat()}">'
        f'<meta name="generator" content="WGEC Report">'
    )
    body = "".join(str(child) for child in article.children)
    return f'<!DOCTYPE html><html lang="en"><head>{head}</head><body>{body}</body></html>'


def _esc(text: str) -> str:
    return str(text).replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;").replace(">", "&gt;")


def _footnotes(article, soup) -> None:
    """Each footnote reference becomes the note itself, floated to the bottom of its page."""
    notes = {aside.get("id"): aside for aside in article.select("aside.footnote")}
    for ref in article.select("a.footnote-reference"):
        aside = notes.get(ref.get("href", "").lstrip("#"))
        if aside is None:
            continue
        note = soup.new_tag("span", attrs={"class": "fn"})
        paragraphs = aside.find_all("p")
        for i, p in enumerate(paragraphs):
            if i:
                note.append(" ")
            for child in list(p.children):
                note.append(child.extract() if hasattr(child, "extract") else child)
        ref.replace_with(note)
    for el in article.select("aside.footnote-list, hr.footnotes"):
        el.decompose()


def _numbers(article) -> None:
    """The space after a paragraph number goes inside the number's span (``docx.lua`` hangs it
    in the margin)."""
    for number in article.select("span.un-para-num"):
        after = number.next_sibling
        if isinstance(after, str) and after[:1].isspace():
            after.replace_with(after.lstrip())
            number.append(" ")


def _images(article, page_dir: Path, root: Path) -> None:
    """Point images at their files (singlehtml writes root-relative paths for a page in a folder),
    relative to the folder above the singlehtml output (pandoc runs there), so no path of this
    machine goes into the document."""
    for img in article.select("img"):
        src = unquote(img.get("src", ""))
        if urlparse(src).scheme:
            continue
        for base in (page_dir, root):
            candidate = (base / src).resolve()
            if candidate.is_file():
                img["src"] = candidate.relative_to(root.parent.resolve()).as_posix()
                break


def _contents(article, soup) -> None:
    """A table of contents with page numbers, before the first chapter."""
    sections = article.select("section.un-chapter, section.un-annex")
    if not sections:
        return
    seen = {el.get("id") for el in article.find_all(id=True)}
    nav = soup.new_tag("nav", attrs={"class": "un-contents", "aria-label": "Contents"})
    heading = soup.new_tag("h2", attrs={"class": "un-contents-title"})
    heading.string = "Contents"
    nav.append(heading)
    listing = soup.new_tag("ol")
    nav.append(listing)
    counter = 0
    for section in sections:
        entries = [(section, 1)] + [(s, 2) for s in section.find_all("section") if s.find_parent("section") is section]
        for target, level in entries:
            title = target.find(re.compile(r"^h[1-6]$"))
            if title is None:
                continue
            counter += 1
            anchor = f"toc-{counter}"
            while anchor in seen:
                anchor += "x"
            seen.add(anchor)
            title["id"] = anchor
            item = soup.new_tag("li", attrs={"class": f"toc-{level}"})
            link = soup.new_tag("a", href=f"#{anchor}")
            link.string = title.get_text(" ", strip=True)
            item.append(link)
            listing.append(item)
    sections[0].insert_before(nav)


# --- Word's styles ----------------------------------------------------------------------------


def word_html(document: str) -> str:
    """The print HTML with Word's paragraph styles named (pandoc reads ``data-custom-style``)."""
    soup = BeautifulSoup(document, "html.parser")
    body = soup.body

    masthead = body.select_one("div.un-masthead")
    if masthead is not None:
        for part, style in (
            ("un-mh-un", "Masthead United Nations"),
            ("un-mh-symbol", "Masthead Symbol"),
            ("un-mh-organ", "Masthead Organ"),
            ("un-mh-meta", "Masthead Details"),
            ("un-mh-session", "Masthead Session"),
        ):
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


def _png_fallbacks(svgs: list[Path], root: Path) -> dict[str, bytes]:
    """PNG renderings of the SVG charts (sha256 of the SVG -> PNG), for Word's fallback image:
    Typst's PNG export at the chart's own size, reading inside ``root`` only."""
    import typst

    from . import typst as typeset

    pngs = {}
    for svg in svgs:
        where = typeset.string("/" + svg.relative_to(root.resolve()).as_posix())
        source = f"#set page(width: auto, height: auto, margin: 0pt)\n#image({where})\n"
        try:
            pngs[sha256(svg)] = typst.compile(
                source.encode(),
                root=root,
                format="png",
                ppi=PNG_DPI,
                font_paths=typeset.fonts(),
                ignore_system_fonts=True,
            )
        except typst.TypstError as error:
            raise DocxError(f"Typst could not draw the chart {svg.name} for Word: {error}") from None
    return pngs


def _rasteriser(folder: Path, pngs: dict[str, bytes]) -> Path:
    """A stand-in for ``rsvg-convert`` (pandoc pipes the SVG in, reads the PNG out)."""
    store = folder / "png"
    store.mkdir()
    for digest, png in pngs.items():
        (store / f"{digest}.png").write_bytes(png)
    bin_dir = folder / "bin"
    bin_dir.mkdir()
    script = bin_dir / "rsvg-convert"
    script.write_text(
        "#!/bin/sh\n# The PNG of a chart, rendered beforehand by wgec.editions.docx, found by the SVG's SHA-256.\n"
        f'exec cat {shlex.quote(str(store))}/"$(sha256sum | cut -c1-64)".png\n'
    )
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
        bin_dir = _rasteriser(tmp, _png_fallbacks(_svgs(html, root), root))
        source = tmp / "report.html"
        source.write_text(html, encoding="utf-8")
        when = dt.datetime.combine(date, dt.time(12, 0), tzinfo=dt.UTC)
        env = dict(
            os.environ,
            PATH=f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
            SOURCE_DATE_EPOCH=str(int(when.timestamp())),
        )
        command = [
            pypandoc.get_pandoc_path(),
            str(source),
            "--from=html-raw_html",
            "--to=docx",
            f"--reference-doc={REFERENCE}",
            f"--template={TEMPLATE}",
            f"--lua-filter={FILTER}",
            f"--dpi={PNG_DPI}",
            "--fail-if-warnings",
            f"--output={tmp / 'report.docx'}",
        ]
        # Image paths are relative to ``root``: pandoc runs there.
        result = subprocess.run(command, capture_output=True, text=True, env=env, cwd=root)
        if result.returncode != 0:
            raise DocxError(f"pandoc could not write the Word edition: {result.stderr.strip()[-2000:]}")
        os.replace(tmp / "report.docx", target)
    return target
