"""The quotations of the contribution in the book: collected, anchored, linked both ways.

:mod:`wgec.report.quotes` marks every passage the report quotes with its source lines (a span
with the classes ``wgec-q wgec-l-103-104``). This extension, on every page as Sphinx reads it:

- gives each quotation an anchor and records it — its lines, its text, whether it is quoted
  again from elsewhere, the numbered paragraph it belongs to (the last one before it) — and
  records each page's title; :func:`on_build_finished` writes the record of the whole book next
  to the doctrees (``wgec-quotations.json``), which the build checks against the source
  (:mod:`wgec.book.concordance`) before any output is kept;
- gives each line of the source text annex (annex III) its anchor ``src-<line>``;

and, as each page is written:

- turns a footnote's "lines 103–104" into a link to those lines in annex III;
- fills annex III's column "In the report" with links to the paragraphs that quote each line,
  and to the headings that are the line's heading.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.util.nodes import make_refnode

from ..report.quotes import ELSEWHERE, LINES, QUOTE, SOURCE_LINE, SOURCE_REF, TITLE, WHERE
from ..report.words import line_range
from .sphinx_ext import last_written, para_number, paragraph_number

RECORD = "wgec-quotations.json"


def _spec(classes: list[str]) -> str:
    return next((c[len(LINES) :] for c in classes if c.startswith(LINES)), "")


def _slug(docname: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", docname.rsplit("/", 1)[-1].lower()).strip("-")


def _title(app: Sphinx, doctree: nodes.document, docname: str) -> str:
    sections = [s for s in doctree.children if isinstance(s, nodes.section)]
    if not sections or not isinstance(sections[0][0], nodes.title):
        return ""
    text = sections[0][0].astext()
    label = app.env.wgec_plan.get(docname, ("", ""))[0]  # the number wgec.sphinx_ext put before it
    return text[len(label) + 1 :] if label and text.startswith(label + " ") else text


def on_doctree_read(app: Sphinx, doctree: nodes.document) -> None:
    env = app.env
    docname = env.docname
    quotes, paragraph, n = [], None, 0
    for node in list(doctree.findall(lambda x: isinstance(x, (para_number, nodes.inline)))):
        if isinstance(node, para_number):
            paragraph = node["local"]
            continue
        classes = node["classes"]
        if QUOTE in classes:
            n += 1
            anchor = f"q-{_slug(docname)}-{n}"
            quotes.append(
                {
                    "id": anchor,
                    "lines": _spec(classes),
                    "text": node.astext(),
                    "elsewhere": ELSEWHERE in classes,
                    "paragraph": paragraph,
                }
            )
            node.insert(0, nodes.target("", "", ids=[anchor]))
        elif SOURCE_LINE in classes:
            node.insert(0, nodes.target("", "", ids=[f"src-{node.astext().strip()}"]))
            env.wgec_source_doc = docname
    _unique_footnote_ids(doctree, _slug(docname))
    sections = [s for s in doctree.children if isinstance(s, nodes.section)]
    anchor = sections[0]["ids"][0] if sections and sections[0]["ids"] else ""
    env.wgec_quotes[docname] = {"title": _title(app, doctree, docname), "anchor": anchor, "quotes": quotes}


def _unique_footnote_ids(doctree: nodes.document, prefix: str) -> None:
    """Footnote ids that are unique in the whole book, not only in their page: the single-page
    book (the PDF's and the Word edition's source) holds every page's footnotes at once, and each
    notebook numbers its own from 1."""
    found = [*doctree.findall(nodes.footnote), *doctree.findall(nodes.footnote_reference)]  # by class: fast
    renamed = {i: f"{prefix}-{i}" for node in found for i in node["ids"]}
    for node in found:
        node["ids"] = [renamed.get(i, i) for i in node["ids"]]
        if "backrefs" in node:
            node["backrefs"] = [renamed.get(i, i) for i in node["backrefs"]]
        if node.get("refid"):
            node["refid"] = renamed.get(node["refid"], node["refid"])
    for ident, new in renamed.items():
        node = doctree.ids.pop(ident, None)
        if node is not None:
            doctree.ids[new] = node


def on_builder_inited(app: Sphinx) -> None:
    if not hasattr(app.env, "wgec_quotes"):
        app.env.wgec_quotes = {}
    if not hasattr(app.env, "wgec_source_doc"):
        app.env.wgec_source_doc = None


def on_env_purge_doc(app, env, docname: str) -> None:
    getattr(env, "wgec_quotes", {}).pop(docname, None)
    if getattr(env, "wgec_source_doc", None) == docname:
        env.wgec_source_doc = None


def on_env_merge_info(app, env, docnames, other) -> None:
    env.wgec_quotes.update({d: other.wgec_quotes[d] for d in docnames if d in other.wgec_quotes})
    if other.wgec_source_doc in docnames:
        env.wgec_source_doc = other.wgec_source_doc


def body(env) -> list[str]:
    """The documents of the report's body, in reading order: the front page, then the chapters
    and sections of the first part of the table of contents (the annexes are not the body)."""
    order = env.wgec_order
    return [d for d in order if d == order[0] or env.wgec_plan.get(d, ("", ""))[1] in ("I", "A")]


def label(env, docname: str) -> str:
    """'chapter II', 'section II.A'."""
    chapter = ""
    for doc in env.wgec_order:
        text, style = env.wgec_plan.get(doc, ("", ""))
        if style == "I":
            chapter = text.rstrip(".")
        if doc == docname:
            return (
                f"chapter {chapter}"
                if style == "I"
                else f"section {chapter}.{text.rstrip('.')}"
                if style == "A"
                else text.rstrip(".")
            )
    return ""


def on_doctree_resolved(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    env = app.env
    for node in list(doctree.findall(nodes.inline)):
        classes = node["classes"]
        if SOURCE_REF in classes and env.wgec_source_doc:
            first = line_range(_spec(classes)).start
            link = make_refnode(app.builder, docname, env.wgec_source_doc, f"src-{first}", nodes.Text(node.astext()))
            node.replace_self(link)
        elif WHERE in classes:
            line = line_range(_spec(classes)).start
            pieces = _heading(app, docname, node.astext()) if TITLE in classes else []
            paragraphs = _where(app, docname, line)
            if paragraphs:
                pieces.append(paragraphs)
            out: list[nodes.Node] = []
            for i, piece in enumerate(pieces):
                out += ([nodes.Text("; ")] if i else []) + piece
            node.replace_self(nodes.inline("", "", *(out or [nodes.Text("—")])))


def _where(app: Sphinx, fromdoc: str, line: int) -> list[nodes.Node]:
    """Links to the numbered paragraphs whose quotations hold ``line``: 'paras. 8 and 12'."""
    env = app.env
    found: dict[int, tuple[str, str]] = {}
    for doc in body(env):
        for quote in env.wgec_quotes.get(doc, {}).get("quotes", []):
            if line in line_range(quote["lines"]) and quote["paragraph"] is not None:
                number = paragraph_number(env, doc, quote["paragraph"])
                found.setdefault(number, (doc, quote["id"]))
    if not found:
        return []
    out: list[nodes.Node] = [nodes.Text("para. " if len(found) == 1 else "paras. ")]
    numbers = sorted(found)
    for i, number in enumerate(numbers):
        if i:
            out.append(nodes.Text(" and " if i == len(numbers) - 1 else ", "))
        doc, anchor = found[number]
        out.append(make_refnode(app.builder, fromdoc, doc, anchor, nodes.Text(str(number))))
    return out


def _heading(app: Sphinx, fromdoc: str, text: str) -> list[list[nodes.Node]]:
    """['heading of section II.A'], linked, when ``text`` is the title of a page of the body."""
    env = app.env
    for doc in body(env)[1:]:
        entry = env.wgec_quotes.get(doc, {})
        if entry.get("title") == text:  # a link to the heading itself (in Word, not an empty paragraph)
            link = make_refnode(app.builder, fromdoc, doc, entry.get("anchor", ""), nodes.Text(label(env, doc)))
            return [[nodes.Text("heading of "), link]]
    return []


def record(env) -> dict:
    """What the concordance check reads: the body's pages in reading order, each with its title
    (for chapters and sections) and its quotations."""
    documents = []
    for doc in body(env):
        entry = env.wgec_quotes.get(doc, {"title": "", "quotes": []})
        documents.append(
            {
                "docname": doc,
                "heading": env.wgec_plan.get(doc, ("", ""))[1] in ("I", "A"),
                "title": entry["title"],
                "quotes": entry["quotes"],
            }
        )
    return {"documents": documents}


def on_env_get_updated(app: Sphinx, env) -> list[str]:
    """Annex III is written again, though not read again, when what its column "In the report"
    shows changed: the quotations of the body, their paragraphs or the paragraphs' numbers (a
    page before them that gained a paragraph)."""
    if not env.wgec_source_doc or env.wgec_source_doc not in env.found_docs:
        return []
    now = record(env)
    now["first"] = [paragraph_number(env, doc, 1) for doc in body(env)]
    return [] if last_written(app, env, "annex III", now) == now else [env.wgec_source_doc]


def on_build_finished(app: Sphinx, exception) -> None:
    if exception is None:
        path = Path(app.doctreedir) / RECORD
        path.write_text(json.dumps(record(app.env), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def setup(app: Sphinx) -> dict:
    app.connect("builder-inited", on_builder_inited)
    # After wgec.sphinx_ext (priority 400), which numbers the headings and the paragraphs.
    app.connect("doctree-read", on_doctree_read, priority=450)
    app.connect("env-purge-doc", on_env_purge_doc)
    app.connect("env-merge-info", on_env_merge_info)
    app.connect("env-get-updated", on_env_get_updated)
    app.connect("doctree-resolved", on_doctree_resolved)
    app.connect("build-finished", on_build_finished)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True, "env_version": 1}
