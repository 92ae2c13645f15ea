"""UN document conventions for the Sphinx build: numbered headings and paragraphs.

Headings: chapters of the first part of ``_toc.yml`` are numbered I., II., ...; their
section pages A., B., ...; headings inside a page take the next style (A., 1., (a)).
Chapters of the second part are Annex I, Annex II, ...

Paragraphs: the body paragraphs of the first part are numbered consecutively through
the report, across pages, as UN documents do. Each paragraph gets a placeholder at read
time (it knows its page and its place on the page); the numbers are filled in when the
page is written, from the paragraph counts of all pages in reading order. That works the
same for one page per document (html) and for one assembled document (singlehtml).
"""

from __future__ import annotations

from pathlib import Path

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment

from .. import paths
from . import tables
from .figures import toc_collectors
from .toc import NEXT_STYLE, label, toc_plan

# A body paragraph sits directly in a section, or in myst-nb's cell and output containers;
# paragraphs in lists, quotes, tables, figures, notes or other containers are not numbered.
CELL_CLASSES = {"cell", "cell_output"}


class para_number(nodes.inline):
    """A paragraph number waiting for the page offsets (filled in at doctree-resolved)."""


def _cell_container(node) -> bool:
    """myst-nb's containers for a cell, its outputs, and (until a builder picks one) its MIME bundle."""
    if not isinstance(node, nodes.container):
        return False
    return (
        bool(CELL_CLASSES & set(node["classes"]))
        or node.get("nb_element") == "mime_bundle"
        or node.get("mime_type") == "text/markdown"
    )


def _body_paragraphs(doctree: nodes.document):
    for para in doctree.findall(nodes.paragraph):
        parent = para.parent
        ok = True
        while parent is not None and not isinstance(parent, nodes.document):
            if not (isinstance(parent, nodes.section) or _cell_container(parent)):
                ok = False
                break
            parent = parent.parent
        if ok and para.astext().strip():
            yield para


def on_builder_inited(app: Sphinx) -> None:
    # No page pulls in a file (include, literalinclude) or raw HTML/LaTeX: the book needs
    # neither, and text generated from data must never be able to (wgec.report.page escapes it too).
    app.env.settings["raw_enabled"] = False
    app.env.settings["file_insertion_enabled"] = False
    order, plan = toc_plan(Path(app.srcdir) / "_toc.yml")
    app.env.wgec_order = order
    app.env.wgec_plan = plan
    # Documents numbered I., II. ... (the first part) have numbered paragraphs.
    app.env.wgec_numbered = {doc for doc, (_, style) in plan.items() if style in ("I", "A")}
    if not hasattr(app.env, "wgec_counts"):
        app.env.wgec_counts = {}
    if not hasattr(app.env, "wgec_executions"):
        app.env.wgec_executions = {}  # page -> the run of its notebook it was read from
    templates = getattr(getattr(app.builder, "templates", None), "environment", None)
    if templates is not None and templates.bytecode_cache is None:
        # The theme's templates compiled once, not by every build (a quarter of a second of each
        # HTML and single-page build): Jinja keeps their bytecode in the work folder, by template
        # and source checksum, and compiles a template again whenever its source changed.
        from jinja2 import FileSystemBytecodeCache

        folder = Path(app.doctreedir).parent / "jinja" / app.builder.name
        folder.mkdir(parents=True, exist_ok=True)
        templates.bytecode_cache = FileSystemBytecodeCache(str(folder))
    if app.builder.format == "html":
        # myst-nb copies its style sheet when the build finishes, after the pages are written:
        # a cold build's pages linked it without the checksum Sphinx adds for a file already in
        # _static, an incremental build's with it. Copied first, every build links it alike.
        from myst_nb.sphinx_ext import add_global_html_resources

        (Path(app.outdir) / "_static").mkdir(parents=True, exist_ok=True)
        add_global_html_resources(app, None)


def on_doctree_read(app: Sphinx, doctree: nodes.document) -> None:
    env = app.env
    docname = env.docname
    if docname == app.config.root_doc:
        _check_title(app, doctree)
    plan = env.wgec_plan.get(docname)
    if plan is not None:
        text, style = plan
        sections = [s for s in doctree.children if isinstance(s, nodes.section)]
        if sections:
            # Classes that say what the page is, for the print layout: chapters and annexes
            # start a page; pages of the later parts are for the web only.
            sections[0]["classes"].append(
                {"I": "un-chapter", "A": "un-section", "annex": "un-annex", "web": "un-web-only"}[style]
            )
            if style != "web":
                _number_sections(sections[0], text, style)
    count = 0
    if docname in env.wgec_numbered:
        for para in _body_paragraphs(doctree):
            count += 1
            marker = para_number("", "", classes=["un-para-num"], docname=docname, local=count)
            para.insert(0, nodes.Text(" "))
            para.insert(0, marker)
            para["classes"].append("un-para")
    env.wgec_counts[docname] = count
    if docname in app.config.wgec_executions:
        env.wgec_executions[docname] = app.config.wgec_executions[docname]


def _number_sections(section: nodes.section, text: str, style: str) -> None:
    title = section[0]
    if isinstance(title, nodes.title):
        title.insert(0, nodes.Text(f"{text} "))
    inner = [s for s in section.children if isinstance(s, nodes.section)]
    for n, child in enumerate(inner, start=1):
        sub = NEXT_STYLE[style]
        _number_sections(child, label(sub, n), sub)


def on_env_purge_doc(app: Sphinx, env: BuildEnvironment, docname: str) -> None:
    getattr(env, "wgec_counts", {}).pop(docname, None)
    getattr(env, "wgec_executions", {}).pop(docname, None)


def on_env_merge_info(app, env, docnames, other) -> None:
    env.wgec_counts.update({d: other.wgec_counts[d] for d in docnames if d in other.wgec_counts})
    env.wgec_executions.update({d: other.wgec_executions[d] for d in docnames if d in other.wgec_executions})


def on_env_get_outdated(app, env, added, changed, removed) -> list[str]:
    # Pages read from another run of their notebook than the present one (the cache's): their
    # sources did not change, their outputs did. The build names each notebook's run in a
    # configuration override (``wgec_executions``), which no page depends on, so it does not
    # invalidate the environment.
    # Pages whose notebooks run while this build reads (the build's refresh, wgec.pipeline.build)
    # are read again too, each once its notebook is done (:func:`on_source_read`).
    now = app.config.wgec_executions
    read = getattr(env, "wgec_executions", {})
    refresh = _refresh(app)
    running = refresh.pending if refresh is not None else set()
    return sorted(
        d for d in env.found_docs if d not in added and (d in running or (d in now and read.get(d) != now[d]))
    )


def _refresh(app: Sphinx):
    """The notebooks' refresh running while this build reads, if any (``app.wgec_refresh``: see
    wgec.pipeline.build.Refreshing): ``pending``, ``order(docnames)``, ``wait(docname)``."""
    return getattr(app, "wgec_refresh", None)


def on_env_before_read_docs(app: Sphinx, env: BuildEnvironment, docnames: list[str]) -> None:
    """The pages whose notebooks run are read last, as their notebooks should finish."""
    if (refresh := _refresh(app)) is not None:
        refresh.order(docnames)


def on_source_read(app: Sphinx, docname: str, source: list[str]) -> None:
    """A page whose notebook runs is read once its run is kept, and records that run."""
    if (refresh := _refresh(app)) is not None and (digest := refresh.wait(docname)) is not None:
        app.config.wgec_executions[docname] = digest


def on_env_get_updated(app: Sphinx, env: BuildEnvironment) -> list[str]:
    """The pages to write again although they were not read again: a page's paragraph numbers
    start where the pages before it end, so a page is rewritten when its first number moved;
    every page carries the titles of the others (sidebar, previous and next), so all are
    rewritten when a title changed; a page read again by another build (``wgec pdf`` read it
    for the single page, then ``wgec html`` finds it read) is written again. What each builder
    last wrote is kept per builder (they share the environment)."""
    found = set(env.found_docs)
    offsets = {doc: paragraph_number(env, doc, 1) for doc in sorted(env.wgec_numbered & found)}
    titles = {doc: env.titles[doc].astext() for doc in sorted(found) if doc in env.titles}
    runs = dict(sorted(env.wgec_executions.items()))
    before = last_written(app, env, "pages", (offsets, titles, runs))
    if before is None or before[1] != titles:
        return sorted(found)
    moved = {doc for doc, first in offsets.items() if before[0].get(doc) != first}
    return sorted(moved | {doc for doc, run in runs.items() if doc in found and before[2].get(doc) != run})


def last_written(app: Sphinx, env: BuildEnvironment, what: str, now):
    """What ``what`` was when this builder last wrote its pages (None the first time); ``now``
    is kept for the next build. Per builder: the HTML and single-page builds share the environment."""
    if not hasattr(env, "wgec_written"):
        env.wgec_written = {}
    written = env.wgec_written
    before = written.get((app.builder.name, what))
    written[(app.builder.name, what)] = now
    return before


def paragraph_number(env: BuildEnvironment, docname: str, local: int) -> int:
    """The number of the ``local``-th numbered paragraph of ``docname`` in the whole report."""
    offset = 0
    for doc in env.wgec_order:
        if doc == docname:
            break
        offset += env.wgec_counts.get(doc, 0)
    return offset + local


def on_doctree_resolved(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    for marker in list(doctree.findall(para_number)):
        number = paragraph_number(app.env, marker["docname"], marker["local"])
        marker.replace_self(nodes.inline("", f"{number}.", classes=["un-para-num"]))


def _check_title(app: Sphinx, doctree: nodes.document) -> None:
    """The front page's heading is the book's title (``title`` in _config.yml, which the HTML
    pages, the PDFs and the Word edition carry): written out in the notebook, so that JupyterLab
    shows it too, and stopped here when the two differ."""
    from sphinx.util import logging

    heading = doctree.next_node(nodes.title)
    expected = app.config.html_title or app.config.project
    if heading is not None and heading.astext() != expected:
        logging.getLogger(__name__).error(
            "the front page's heading is %r, but the book's title (title in _config.yml) is %r: "
            "write the same title in both",
            heading.astext(),
            expected,
            location=heading,
        )


def on_config_inited(app: Sphinx, config) -> None:
    # The book's title, from _config.yml, as {{ title }} in the pages' Markdown.
    substitutions = dict(getattr(config, "myst_substitutions", None) or {})
    substitutions.setdefault("title", config.html_title or config.project)
    config.myst_substitutions = substitutions


def on_html_page_context(app, pagename, templatename, context, doctree) -> None:
    """Each HTML page: without sphinx-thebe's scripts (the book runs no live kernel, and Jupyter
    Book 1 adds them twice, with a URL on a CDN), with named sidebar toggles, and with a footer
    linking the PDFs and the data downloads."""

    def thebe(asset) -> bool:
        name = getattr(asset, "filename", None) or str(asset)
        body = getattr(asset, "attributes", {}).get("body", "")
        return "thebe" in str(name).lower() or "THEBE" in body

    for key in ("script_files", "css_files"):
        if key in context:
            context[key] = [asset for asset in context[key] if not thebe(asset)]
    # The sidebar's expand/collapse toggles (<summary> holding only a chevron) get a name for
    # screen readers (axe: summary-name); pydata-sphinx-theme builds them in Python.
    toctree = context.get("generate_toctree_html")
    if toctree is not None:

        def generate_toctree_html(*args, **kwargs):
            soup = toctree(*args, **kwargs)  # a BeautifulSoup tree (pydata-sphinx-theme 0.17)
            for summary in soup.select("li > details > summary") if hasattr(soup, "select") else []:
                link = summary.parent.parent.find("a", recursive=False)
                if link is not None and not summary.get_text(strip=True) and not summary.get("aria-label"):
                    summary["aria-label"] = f"Sections of {link.get_text(' ', strip=True)}"
            return soup

        context["generate_toctree_html"] = generate_toctree_html
    if app.builder.name == "html":
        context["theme_extra_footer"] = (context.get("theme_extra_footer") or "") + download_links(
            context["pathto"], pagename, DATA_ANNEX in app.env.found_docs
        )


DATA_ANNEX = "notebooks/annex1_data_tables"


def download_links(pathto, pagename: str, annex: bool) -> str:
    """The footer of every page: the PDFs and the data downloads, by links relative to the page
    (the PDFs are in OUT/pdf/, next to the book in OUT/html/; the site keeps that layout)."""
    from html import escape

    links = [
        (pathto(f"../pdf/{paths.PDF_NAME}", 1), "the report as PDF"),
        (pathto(f"../pdf/{paths.ARCHIVAL_NAME}", 1), "archival PDF (PDF/A-3b, data attached)"),
        (pathto(f"{paths.DOWNLOADS}/{paths.WORKBOOK}", 1), "the data as an Excel workbook"),
    ]
    if annex:
        page = "" if pagename == DATA_ANNEX else pathto(DATA_ANNEX)
        links.append((f"{page}#data-downloads", "every data download (CSV, XLSX, JSON)"))
    items = " · ".join(f'<a href="{escape(href)}">{escape(text)}</a>' for href, text in links)
    return f'<p class="wgec-downloads">Download: {items}</p>'


REDIRECT = """<!DOCTYPE html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<title>{title}</title>
<meta http-equiv="refresh" content="0; url={url}">
</head>
<body>
<p><a href="{url}">{title}</a></p>
</body>
</html>
"""


def on_build_finished(app: Sphinx, exception) -> None:
    """Valid HTML only in the published site: the start page that leads to the first page is a whole
    HTML document (sphinx-external-toc writes a bare <meta> tag unless index.html exists),
    and the theme's Jinja macro files, copied with its static files, are not published."""
    if exception is not None or app.builder.name != "html":  # the published site (not singlehtml)
        return
    out = Path(app.outdir)
    root = app.config.root_doc
    if root != "index":
        from html import escape

        title = escape(app.config.html_title or app.config.project or root)
        (out / "index.html").write_text(
            REDIRECT.format(lang=escape(app.config.language or "en"), title=title, url=escape(f"{root}.html")),
            encoding="utf-8",
        )
    for macros in ("webpack-macros.html", "sbt-webpack-macros.html"):
        (out / "_static" / macros).unlink(missing_ok=True)
    _prune_search_index(out / "searchindex.js")


def _prune_search_index(path: Path) -> None:
    """An incremental build's search index keeps the words of text that is gone, each with no
    page (Sphinx prunes the pages, not the words): dropped, as a cold build has none of them."""
    from sphinx.search import js_index

    if not path.is_file():
        return
    index = js_index.loads(path.read_text(encoding="utf-8"))
    for key in ("terms", "titleterms"):
        index[key] = {word: pages for word, pages in index.get(key, {}).items() if pages != []}
    path.write_text(js_index.dumps(index), encoding="utf-8")


def disable_builtin_toc_collector(app: Sphinx) -> None:
    """What sphinx-external-toc's setup does first (its collector with styles then replaces
    Sphinx's own toctree collector), found among ``app``'s own event listeners. sphinx-external-toc
    looks for the collector among every object Python tracks (``gc.get_objects``): 0.06-0.24 s
    for each Sphinx application set up in a process holding a built book (the preview, or the
    second builder of a build), and it disabled, with this application's listener numbers, any
    other application's collector still alive. Installed by :func:`use_app_listeners`."""
    for collector in toc_collectors(app):  # found first, then disabled: that changes the listeners
        collector.disable(app)


def use_app_listeners() -> None:
    """sphinx-external-toc disables Sphinx's toctree collector with
    :func:`disable_builtin_toc_collector` (its setup looks the function up when it runs)."""
    import sphinx_external_toc.collectors

    sphinx_external_toc.collectors.disable_builtin_toctree_collector = disable_builtin_toc_collector


def setup(app: Sphinx) -> dict:
    app.setup_extension("wgec.book.figures")  # figure numbers without unpickling every page
    app.connect("html-page-context", on_html_page_context, priority=900)
    # Before sphinx-external-toc's (priority 500), which writes index.html only if it is missing.
    app.connect("build-finished", on_build_finished, priority=400)
    app.add_config_value("wgec_document", {}, "env")
    app.add_config_value("wgec_executions", {}, "", [dict])
    app.connect("config-inited", on_config_inited)
    app.add_node(para_number)
    app.add_directive(tables.NAME, tables.DataTable)
    app.connect("builder-inited", on_builder_inited)
    # Before Sphinx's own collectors (priority 500), so page titles carry their numbers.
    app.connect("doctree-read", on_doctree_read, priority=400)
    app.connect("env-purge-doc", on_env_purge_doc)
    app.connect("env-merge-info", on_env_merge_info)
    app.connect("env-get-outdated", on_env_get_outdated)
    app.connect("env-before-read-docs", on_env_before_read_docs, priority=900)
    # First: what reads the page (myst-nb's parser, from the execution cache) finds its notebook's run.
    app.connect("source-read", on_source_read, priority=100)
    app.connect("env-get-updated", on_env_get_updated)
    app.connect("doctree-resolved", on_doctree_resolved)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True, "env_version": 2}
