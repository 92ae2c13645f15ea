"""Every link of the built report resolves, checked offline.

- **HTML** (every page of ``OUT/html`` but the theme's template files in ``_static``): each
  ``href`` and ``src`` to a local file must name a file of the output folder, and a
  ``#fragment`` must be an ``id`` (or ``<a name>``) of the page it points to.
- **PDF** (every file in ``OUT/pdf``): each link annotation (``/Dest``, or a ``/GoTo``
  action) must lead to a page of the same file, directly or through a named destination.
- **External** links (``http``, ``https``, ``mailto``, ...) are listed with the pages that
  use them, never fetched: nothing here opens a network connection.

A link into a part of the output that was not built at all (the PDFs, after ``wgec html``)
cannot be checked, and is counted as such rather than reported broken.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

from ..files import write_json

EXTERNAL_REPORT = "external-links.json"
IGNORED_SCHEMES = {"data", "javascript", "about", "blob"}  # not links to anything


@dataclass(frozen=True)
class Broken:
    source: str  # the page, relative to the output folder ("html/notebooks/x.html", "pdf/x.pdf, page 3")
    target: str  # the link as written
    reason: str


@dataclass
class Result:
    checked: dict[str, int] = field(default_factory=lambda: {"html": 0, "pdf": 0})  # internal links checked
    broken: list[Broken] = field(default_factory=list)
    external: dict[str, list[str]] = field(default_factory=dict)  # URL -> the pages using it
    unchecked: dict[str, int] = field(default_factory=dict)  # part not built (e.g. "pdf") -> links into it

    @property
    def internal(self) -> int:
        return sum(self.checked.values())

    def write_external(self, path: Path) -> Path:
        """The external links, with the pages using each, as JSON (for a person or a later online check)."""
        rows = [{"url": url, "used_in": pages} for url, pages in sorted(self.external.items())]
        path.write_text(json.dumps(rows, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        return path


@dataclass(frozen=True)
class _Page:
    """The ids and the links (href, src) of one HTML page."""

    ids: frozenset[str]
    links: tuple[str, ...]

    @classmethod
    def parse(cls, text: str) -> _Page:
        parser = _Parser()
        parser.feed(text)
        parser.close()
        return cls(frozenset(parser.ids), tuple(parser.links))


class _Parser(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if value is None:
                continue
            if name == "id" or (name == "name" and tag == "a"):
                self.ids.add(value)
            elif name in ("href", "src") and tag != "base":
                self.links.append(value.strip())

    handle_startendtag = handle_starttag


def check(out: Path, elsewhere: Path | None = None, pdf: bool = True, memo: Path | None = None) -> Result:
    """Check the links of the report in ``out`` (its ``html/`` and, unless ``pdf`` is false, its
    ``pdf/``). A file that is not in ``out`` is looked for in ``elsewhere``: the build checks its
    staging folder, and the parts it did not rebuild are still in the output folder (a part that
    is in ``out`` is looked for nowhere else).

    ``memo``: a file that keeps each page's ids and links by the digest of its bytes, so that a
    page whose bytes did not change since the last check is not parsed again (the build keeps
    it in ``OUT/.cache``: after an edit, most pages are as they were). Every link is still checked."""
    out = Path(out).resolve()
    roots = [out] + ([Path(elsewhere).resolve()] if elsewhere else [])
    result = Result()
    pages: dict[Path, _Page] = {}
    before = _read_memo(memo)
    kept: dict[str, dict] = {}

    def parsed(path: Path) -> _Page:
        if path not in pages:
            data = path.read_bytes()
            key = hashlib.blake2b(data, digest_size=20).hexdigest()
            known = before.get(key)
            if known is not None:
                pages[path] = _Page(frozenset(known["ids"]), tuple(known["links"]))
            else:
                pages[path] = _Page.parse(data.decode("utf-8", errors="replace"))
            kept[key] = {"ids": sorted(pages[path].ids), "links": list(pages[path].links)}
        return pages[path]

    located: dict[str, Path | None] = {}  # a thousand links name a few dozen files: each looked up once
    folders: dict[Path, bool] = {}

    def locate(rel: str) -> Path | None:
        """The file, in the first root that has the part of the output (html/, pdf/) it is in."""
        if rel not in located:
            top = rel.split(os.sep, 1)[0]
            root = next((root for root in roots if os.path.exists(os.path.join(root, top))), None)
            located[rel] = root / rel if root is not None and os.path.exists(os.path.join(root, rel)) else None
        return located[rel]

    def is_dir(path: Path) -> bool:
        if path not in folders:
            folders[path] = path.is_dir()
        return folders[path]

    html = out / "html"
    for page in sorted(html.rglob("*.html")) if html.is_dir() else []:
        if "_static" in page.relative_to(html).parts:
            continue  # the theme's Jinja templates, copied as they are; not pages
        source = page.relative_to(out).as_posix()
        for link in parsed(page).links:
            _check_html_link(link, page, source, locate, parsed, is_dir, result)
    for path in sorted((out / "pdf").glob("*.pdf")) if pdf and (out / "pdf").is_dir() else []:
        try:
            _check_pdf(path, path.relative_to(out).as_posix(), result)
        except Exception as exc:
            result.broken.append(Broken(path.relative_to(out).as_posix(), "", f"not a readable PDF: {exc}"))
    result.broken = list(dict.fromkeys(result.broken))  # a link used twice on a page is one broken link
    if memo is not None and kept != before:
        memo.parent.mkdir(parents=True, exist_ok=True)
        write_json(memo, kept)
    return result


def _read_memo(memo: Path | None) -> dict[str, dict]:
    """The pages parsed by the last check, by digest (nothing when there is no memo or it is unreadable)."""
    if memo is None:
        return {}
    try:
        found = json.loads(memo.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(found, dict):
        return {}
    return {
        key: entry
        for key, entry in found.items()
        if isinstance(entry, dict) and isinstance(entry.get("ids"), list) and isinstance(entry.get("links"), list)
    }


def describe(broken: list[Broken]) -> str:
    """One line per broken link: where it is, what it points to, and why it does not resolve."""
    return "\n".join(f"{b.source}: {b.target} ({b.reason})" if b.target else f"{b.source}: {b.reason}" for b in broken)


def _check_html_link(link, page, source, locate, parsed, is_dir, result) -> None:
    """One link of ``page`` (``source``: its path in the output folder, as the report names it)."""
    parts = urlsplit(link)
    scheme = parts.scheme.lower()
    if scheme in IGNORED_SCHEMES:
        return
    if scheme == "file":
        result.broken.append(Broken(source, link, "a file of the build machine, not of the report"))
        return
    if scheme or parts.netloc:
        _external(result, link, source)
        return
    path, fragment = unquote(parts.path), unquote(parts.fragment)
    target, rel = page, source
    if path:
        rel = os.path.normpath(os.path.join(os.path.dirname(source), path))
        inside = not (path.startswith("/") or rel == ".." or rel.startswith("../"))
        target = locate(rel) if inside else None
        top = rel.split(os.sep, 1)[0]  # the part of the output: html, pdf
        if inside and target is None and locate(top) is None:
            result.unchecked[top] = result.unchecked.get(top, 0) + 1
            return  # into a part of the output that is not built (the PDFs after `wgec html`)
    result.checked["html"] += 1
    if path.startswith("/"):
        reason = "an absolute path: it depends on where the site is served"
    elif rel == ".." or rel.startswith("../"):
        reason = "outside the output folder"
    elif target is None:
        reason = f"no file {rel}"
    elif is_dir(target) and not (target / "index.html").is_file():
        reason = f"{rel}/ has no index.html"
    else:
        target = target / "index.html" if is_dir(target) else target
        if not fragment or target.suffix != ".html" or fragment in parsed(target).ids:
            return
        reason = f"no id {fragment!r} in {Path(rel).as_posix()}"
    result.broken.append(Broken(source, link, reason))


def _external(result: Result, url: str, where: str) -> None:
    used = result.external.setdefault(url, [])
    if where not in used:
        used.append(where)


def _check_pdf(path: Path, source: str, result: Result) -> None:
    from pypdf import PdfReader
    from pypdf.generic import ArrayObject

    reader = PdfReader(path)
    page_ids = {page.indirect_reference.idnum for page in reader.pages}

    def on_a_page(ref) -> bool:
        return getattr(ref, "idnum", None) in page_ids

    named = {str(name): on_a_page(dest.page) for name, dest in reader.named_destinations.items()}
    for number, page in enumerate(reader.pages, start=1):
        where = f"{source}, page {number}"
        for annotation in page.get("/Annots") or []:
            annotation = annotation.get_object()
            if annotation.get("/Subtype") != "/Link":
                continue
            action = annotation.get("/A")
            action = action.get_object() if action is not None else {}
            if "/Dest" in annotation or action.get("/S") == "/GoTo":
                dest = annotation["/Dest"] if "/Dest" in annotation else action.get("/D")
                dest = dest.get_object() if hasattr(dest, "get_object") else dest
                result.checked["pdf"] += 1
                if isinstance(dest, ArrayObject):
                    if not dest or not on_a_page(dest[0]):
                        result.broken.append(Broken(where, _show(dest), "the destination is not a page of the file"))
                elif str(dest) not in named:
                    result.broken.append(Broken(where, str(dest), "no such named destination"))
                elif not named[str(dest)]:
                    result.broken.append(Broken(where, str(dest), "the named destination is not on a page of the file"))
            elif action.get("/S") == "/URI":
                _external(result, str(action.get("/URI", "")), where)
            elif action.get("/S") in ("/GoToR", "/GoToE", "/Launch"):
                result.broken.append(Broken(where, str(action.get("/F", "")), "a link to another file"))


def _show(dest) -> str:
    """A destination array as PDF writes it: [12 0 R /XYZ 62 761 0]."""
    items = (f"{i.idnum} {i.generation} R" if hasattr(i, "idnum") else str(i) for i in dest)
    return "[" + " ".join(items) + "]"
