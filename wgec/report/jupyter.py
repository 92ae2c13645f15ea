"""How a page output looks in Jupyter: the plain rendering that JupyterLab shows beside the
MyST that the book reads.

Every output of :mod:`wgec.report.page` is one MIME bundle: ``text/markdown`` holds the MyST the
book build renders (numbered figures and tables, cross-references, footnotes), and
``text/html`` holds the same content as plain HTML, which JupyterLab prefers (its
renderers rank ``text/html`` 50 before ``text/markdown`` 60, so it never shows the MyST).
The book build ignores ``text/html`` (``nb_mime_priority_overrides`` in ``_config.yml``),
so what the book shows is exactly the MyST, as before.

The HTML comes from the very parser the book uses (myst-parser's markdown-it set-up, with
the extensions of ``_config.yml``) and its HTML renderer, with MyST's own syntax turned into
what a reader expects: a ``{numref}`` becomes the word "figure" or "table" (the numbers are
Sphinx's, known only in the book), a footnote a numbered note under its paragraph, a
``{container}`` a ``<div>``, any other directive its content. Raw HTML is never passed
through (the parser's ``html`` option is off) and only plain attributes survive (``id``,
``class``, links whose address markdown-it accepts), so a data string, escaped by
:func:`wgec.report.page.md` for Markdown, stays literal text in Jupyter as in the book.
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
from collections.abc import Sequence

from markdown_it.renderer import RendererHTML

# The MyST extensions of the book (_config.yml `parse.myst_enable_extensions`; a test checks
# that the two agree): the kernel does not read the book's configuration.
EXTENSIONS = ("colon_fence", "substitution", "deflist", "attrs_inline")
ADMONITIONS = {
    "admonition",
    "attention",
    "caution",
    "danger",
    "error",
    "hint",
    "important",
    "note",
    "seealso",
    "tip",
    "warning",
    "epigraph",
    "pull-quote",
    "highlights",
    "topic",
    "sidebar",
}
LITERAL = {"code", "code-block", "code-cell", "literalinclude", "parsed-literal"}
_ATTRIBUTES = {"href", "src", "alt", "title", "id", "class", "start"}
_ALIGN = re.compile(r"text-align:(left|right|center)")
_ROLE_TARGET = re.compile(r"^(.*?)\s*<([^<>]+)>$", re.S)
_DIRECTIVE = re.compile(r"^\{([^}\s]+)\}\s*(.*)$", re.S)


def _word(target: str) -> str:
    """What a cross-reference points at, as a word ("figure", "table", "section")."""
    kind = target.split("-", 1)[0].lower()
    return {"fig": "figure", "tab": "table", "eq": "equation", "code": "listing"}.get(kind, "section")


def _split_options(body: str) -> tuple[dict[str, str], str]:
    """A directive's options (``:key: value`` lines or a YAML ``---`` block) and its content."""
    lines = body.split("\n")
    options: dict[str, str] = {}
    if lines and lines[0].strip() == "---" and "---" in (line.strip() for line in lines[1:]):
        end = next(i for i, line in enumerate(lines[1:], start=1) if line.strip() == "---")
        for line in lines[1:end]:
            key, _, value = line.partition(":")
            options[key.strip()] = value.strip()
        lines = lines[end + 1 :]
    else:
        while lines and re.match(r"^:[\w-]+:", lines[0]):
            key, _, value = lines.pop(0)[1:].partition(":")
            options[key] = value.strip()
    return options, "\n".join(lines).lstrip("\n")


class _Renderer(RendererHTML):
    """markdown-it's HTML renderer, with MyST's roles and directives made readable.

    (markdown-it takes every public method of a renderer as the rule for the token type of
    its name: hence the names below.)
    """

    def renderAttrs(self, token) -> str:  # markdown-it's name for it
        kept = []
        for key, value in token.attrItems():
            value = str(value)
            if key in ("href", "src") and not _PARSER.validateLink(value):
                continue
            if key in _ATTRIBUTES or (key == "style" and _ALIGN.fullmatch(value.replace(" ", ""))):
                kept.append(f' {key}="{html.escape(value)}"')
        return "".join(kept)

    def myst_role(self, tokens, idx, options, env) -> str:
        token = tokens[idx]
        name, content = token.meta.get("name", ""), token.content
        explicit = _ROLE_TARGET.match(content)
        text, target = (explicit.group(1), explicit.group(2)) if explicit else ("", content)
        if name in ("numref", "ref", "doc", "eq", "term", "download"):
            if name == "numref":
                text = re.sub(r"%s|\{number\}|\{name\}", "", text).strip() or _word(target)
            label = text or (_word(target) if name == "ref" else target)
            anchor = "#" + target if name in ("numref", "ref", "eq") else ""
            label = html.escape(label)
            return f'<a href="{html.escape(anchor)}">{label}</a>' if anchor else label
        return html.escape(text or content)  # any other role: its text, never its syntax

    def colon_fence(self, tokens, idx, options, env) -> str:
        return self.render_directive(tokens[idx], env)

    def fence(self, tokens, idx, options, env) -> str:
        if tokens[idx].info.strip().startswith("{"):
            return self.render_directive(tokens[idx], env)
        return super().fence(tokens, idx, options, env)

    def render_directive(self, token, env) -> str:
        found = _DIRECTIVE.match(token.info.strip())
        name, argument = (found.group(1), found.group(2).strip()) if found else ("", token.info.strip())
        opts, content = _split_options(token.content)
        ident = f' id="{html.escape(opts["name"])}"' if opts.get("name") else ""
        if name in LITERAL:
            return f"<pre{ident}><code>{html.escape(content)}</code></pre>\n"
        inner = render(content, f"{env.get('docId', 'o')}-{token.map[0] if token.map else 0}")
        if name == "container":
            classes = " ".join(c for c in argument.split() if re.fullmatch(r"[\w-]+", c))
            return f'<div class="{html.escape(classes)}"{ident}>\n{inner}</div>\n'
        if name in ADMONITIONS:
            title = argument if name == "admonition" else name.replace("-", " ").capitalize()
            heading = f"<p><strong>{render_inline(title)}</strong></p>\n" if title else ""
            return f'<div class="admonition {html.escape(name)}"{ident}>\n{heading}{inner}</div>\n'
        caption = f"<p>{render_inline(argument)}</p>\n" if argument else ""
        return f"<div{ident}>\n{caption}{inner}</div>\n"

    # A note's number, as the book prints it: the notebook's own count, which the labels of
    # page.footnote carry (fn-1, fn-2, ... through the notebook), not the output's count (each
    # output is rendered on its own: its notes would all start again at 1).
    def footnote_caption(self, tokens, idx, options, env) -> str:
        return f"[{_note_number(tokens[idx])}]"

    def footnote_open(self, tokens, idx, options, env) -> str:
        ident = self.rules["footnote_anchor_name"](tokens, idx, options, env)
        return f'<li id="fn{html.escape(ident)}" class="footnote-item" value="{_note_number(tokens[idx])}">'

    def myst_target(self, tokens, idx, options, env) -> str:
        return f'<span id="{html.escape(tokens[idx].content)}"></span>'

    def myst_line_comment(self, tokens, idx, options, env) -> str:
        return ""

    def myst_block_break(self, tokens, idx, options, env) -> str:
        return "<hr>\n"

    def front_matter(self, tokens, idx, options, env) -> str:
        return ""

    def substitution_inline(self, tokens, idx, options, env) -> str:
        return f"<span>{html.escape(tokens[idx].content.strip())}</span>"

    def substitution_block(self, tokens, idx, options, env) -> str:
        return f"<p>{html.escape(tokens[idx].content.strip())}</p>\n"


def note_number(label: str) -> int | None:
    """A footnote's number through the notebook, from its label (``fn-4``: 4; see page.footnote)."""
    found = re.search(r"-(\d+)$", label)
    return int(found.group(1)) if found else None


def _note_number(token) -> int:
    number = note_number(token.meta.get("label") or "")
    return number if number is not None else token.meta["id"] + 1


def _parser():
    from myst_parser.config.main import MdParserConfig
    from myst_parser.parsers.mdit import create_md_parser

    md = create_md_parser(MdParserConfig(enable_extensions=set(EXTENSIONS)), _Renderer)
    for name in (
        "myst_role",
        "colon_fence",
        "fence",
        "myst_target",
        "myst_line_comment",
        "myst_block_break",
        "front_matter",
        "substitution_inline",
        "substitution_block",
        "footnote_caption",
        "footnote_open",
    ):
        md.add_render_rule(name, getattr(_Renderer, name))  # ours, not the plugins' (their syntax, shown raw)
    md.enable("footnote_tail")  # the notes under their paragraph (myst renders them itself in the book)
    md.options["html"] = False  # raw HTML is shown as text, never passed through
    return md


_PARSER = _parser()


def render(markdown: str, doc_id: str | None = None) -> str:
    """MyST Markdown (as the page helpers write it) as HTML for Jupyter.

    ``doc_id`` keeps the footnotes' anchors apart from those of other outputs on the same
    page; by default a digest of the text (the same text, the same HTML).
    """
    doc_id = doc_id or "n" + hashlib.sha256(markdown.encode()).hexdigest()[:10]
    return _PARSER.render(markdown, {"docId": doc_id})


def render_inline(markdown: str) -> str:
    """One line of MyST (a caption, a title) as inline HTML."""
    return _PARSER.renderInline(markdown, {"docId": "i"})


def figure(svg: str, caption: str, alt: str, name: str) -> str:
    """A figure drawn inline: the SVG as an image (its own document: nothing in it can reach
    the notebook), with its alt text and its caption (Markdown)."""
    source = "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")
    return (
        f'<figure id="{html.escape(name)}" class="wgec-figure">\n'
        f'<img src="{source}" alt="{html.escape(alt)}" style="max-width:100%">\n'
        f"<figcaption>Figure: {render_inline(caption)}</figcaption>\n</figure>\n"
    )


class Html(str):
    """A table cell already rendered (:func:`cell`): put in the table as it is."""


def cell(markdown: str) -> Html:
    """The package's Markdown for a table cell (a quotation, a list) as HTML: one paragraph
    without its ``<p>``."""
    rendered = render(markdown).strip()
    if rendered.startswith("<p>") and rendered.endswith("</p>") and rendered.count("<p>") == 1:
        rendered = rendered[3:-4]
    return Html(rendered)


def table(rows: Sequence[Sequence[str]], header: Sequence[str], caption: str, name: str) -> str:
    """A table as an HTML table; ``rows`` and ``header`` are plain text (escaped here), or
    :class:`Html` from :func:`cell`."""
    left = ' style="text-align:left"'  # JupyterLab aligns table cells right (for numbers); these are text

    def content(value) -> str:
        return value if isinstance(value, Html) else html.escape(str(value))

    head = "".join(f"<th{left}>{content(cell)}</th>" for cell in header)
    body = "\n".join("<tr>" + "".join(f"<td{left}>{content(cell)}</td>" for cell in row) + "</tr>" for row in rows)
    return (
        f'<table id="{html.escape(name)}" class="wgec-table">\n'
        f"<caption>Table: {render_inline(caption)}</caption>\n"
        f"<thead><tr>{head}</tr></thead>\n<tbody>\n{body}\n</tbody>\n</table>\n"
    )


def text(rendered: str) -> str:
    """The plain text of a rendering (``text/plain`` for front ends that show no HTML): the
    HTML above without its tags (it holds no ``<`` but in tags: text and attributes are
    escaped), an image as its alt text, a table cell followed by `` | ``."""
    plain = re.sub(r'<img [^>]*?alt="([^"]*)"[^>]*>', r"\1", rendered)
    plain = re.sub(r'<a href="#fnref[^"]*" class="footnote-backref">.*?</a>', "", plain)
    plain = re.sub(r"</t[dh]>(?=<t[dh][ >]|</tr>)", " | ", plain).replace(" | </tr>", "</tr>")
    plain = html.unescape(re.sub(r"<[^>]+>", "", plain))
    lines = (line.strip().removesuffix(" |").strip() for line in plain.split("\n"))
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
