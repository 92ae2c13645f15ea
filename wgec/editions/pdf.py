"""The PDF for submission: the book's singlehtml output, set as a UN document by WeasyPrint.

The content is exactly the book's (same doctrees, same numbering); this module only
reshapes it for paper: sources become footnotes at the bottom of the page, a table of
contents with page numbers goes after the summary, web-only parts are dropped, and a
print stylesheet (``pdf.css``) sets A4 pages, the running header, headings, numbered
paragraphs and figures. WeasyPrint may read files inside the build folder only.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from pathlib import Path
from urllib.parse import unquote, urlparse

from bs4 import BeautifulSoup

STYLESHEET = Path(__file__).with_name("pdf.css")
VARIANTS = ("pdf/ua-1", "pdf/a-3b")


def root_page(singlehtml: Path) -> Path:
    """The singlehtml page (index.html redirects to it when the root document is in a folder)."""
    index = singlehtml / "index.html"
    text = index.read_text(encoding="utf-8")
    match = re.search(r'http-equiv="Refresh" content="0; url=([^"]+)"', text)
    return (singlehtml / match.group(1)) if match else index


def assemble(singlehtml: Path, settings: dict, title: str, date: dt.date) -> str:
    """The print HTML document built from the singlehtml book."""
    page = root_page(singlehtml)
    soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
    article = soup.select_one("article.bd-article")
    if article is None:
        raise ValueError(f"{page}: no article in the singlehtml output")

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
    return (str(text).replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;").replace(">", "&gt;"))


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
    """The space after a paragraph number goes inside the number's box (``pdf.css`` sets it in
    the margin, in line, so the text layer reads the number before its paragraph): the first
    line of the paragraph then starts at the margin, and justification does not stretch it."""
    for number in article.select("span.un-para-num"):
        after = number.next_sibling
        if isinstance(after, str) and after[:1].isspace():
            after.replace_with(after.lstrip())
            number.append(" ")


def _images(article, page_dir: Path, root: Path) -> None:
    """Point images at their files (singlehtml writes root-relative paths for a page in a folder),
    relative to the folder above the singlehtml output: the base URL of the print document, so
    no path of this machine goes into the PDF."""
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
        entries = [(section, 1)] + [(s, 2) for s in section.find_all("section")
                                    if s.find_parent("section") is section]
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


def _css_string(text: str) -> str:
    return '"' + "".join(ch if ch.isalnum() or ch in " ./-:()" else f"\\{ord(ch):x} " for ch in str(text)) + '"'


def page_css(settings: dict) -> str:
    symbol = _css_string(settings["symbol"] or "DRAFT")
    return f"""
@page :left {{ @top-left {{ content: counter(page) "/" counter(pages); }} @top-right {{ content: {symbol}; }} }}
@page :right {{ @top-left {{ content: {symbol}; }} @top-right {{ content: counter(page) "/" counter(pages); }} }}
@page :first {{ @top-left {{ content: none; }} @top-right {{ content: none; }} }}
"""


class Fetcher:
    """WeasyPrint's fetcher, confined to the build folders: nothing from the network, nothing outside."""

    def __init__(self, roots: list[Path]):
        from weasyprint.urls import URLFetcher

        self.roots = [root.resolve() for root in roots]
        self._inner = URLFetcher(allowed_protocols={"file"}, fail_on_errors=True)
        self._fail_on_errors = True

    def __call__(self, url: str, *args, **kwargs):
        from weasyprint.urls import FatalURLFetchingError

        parsed = urlparse(url)
        path = Path(unquote(parsed.path)).resolve() if parsed.scheme == "file" else None
        if path is None or not any(path.is_relative_to(root) for root in self.roots):
            raise FatalURLFetchingError(f"the PDF may only use files of the build folder, not {url}")
        return self._inner.fetch(url)


def _stable_ids(document, pdf) -> None:
    """WeasyPrint names table-header structure elements after Python object ids (memory
    addresses): rename them in order, so the same input gives the same bytes."""
    import pydyf

    mapping: dict[str, str] = {}
    for obj in pdf.objects:
        if isinstance(obj, dict) and obj.get("S") == "/TH" and "ID" in obj:
            new = f"th{len(mapping) + 1}"
            mapping[str(obj["ID"].string)] = new
            obj["ID"] = pydyf.String(new)
    for obj in pdf.objects:
        attributes = obj.get("A") if isinstance(obj, dict) else None
        if isinstance(attributes, dict) and "Headers" in attributes:
            attributes["Headers"] = pydyf.Array(
                pydyf.String(mapping.get(str(h.string), str(h.string))) for h in attributes["Headers"])


def render_all(html: str, roots: list[Path], targets: list[tuple[Path, str, list[tuple[Path, str]]]],
               settings: dict, date: dt.date) -> None:
    """Lay ``html`` out once, then write one PDF per (target, variant, attachments)."""
    import logging

    # Before the import: weasyprint logs its progress (at INFO) while loading its own stylesheets.
    for name in ("weasyprint", "weasyprint.progress"):
        logging.getLogger(name).setLevel(logging.ERROR)
    from weasyprint import CSS, HTML, Attachment
    for _, variant, _ in targets:
        if variant not in VARIANTS:
            raise ValueError(f"unknown PDF variant {variant!r}; expected one of {', '.join(VARIANTS)}")
    fetcher = Fetcher(roots)
    when = dt.datetime.combine(date, dt.time(12, 0), tzinfo=dt.UTC)
    document = HTML(string=html, base_url=roots[0].as_uri() + "/", url_fetcher=fetcher).render(
        stylesheets=[CSS(string=STYLESHEET.read_text(encoding="utf-8")), CSS(string=page_css(settings))],
        pdf_tags=True, pdf_variant="pdf/ua-1")
    for target, variant, attachments in targets:
        files = [Attachment(filename=str(path), name=name, description=f"Data behind the report: {name}",
                            created=when, modified=when, relationship="Source", url_fetcher=fetcher)
                 for path, name in attachments]
        identifier = hashlib.sha256(html.encode("utf-8") + variant.encode()).hexdigest()[:32].encode()
        target.parent.mkdir(parents=True, exist_ok=True)
        document.write_pdf(target, finisher=_stable_ids, pdf_variant=variant, pdf_tags=True,
                           attachments=files or None, pdf_identifier=identifier)
