"""End to end: build the real report and read the HTML a reader gets."""

import re
import shutil
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from conftest import PRINTED, edit, edit_line, run_wgec
from test_narrative import append, rewrite

from wgec import data, paths
from wgec.book.toc import toc_plan

pytestmark = pytest.mark.slow


def pages(html_dir: Path) -> dict[str, BeautifulSoup]:
    order, _ = toc_plan(paths.TOC_FILE)
    return {doc: BeautifulSoup((html_dir / f"{doc}.html").read_text(encoding="utf-8"), "html.parser") for doc in order}


def article(soup) -> str:
    return re.sub(r"\s+", " ", soup.select_one("article.bd-article").get_text(" "))


@pytest.fixture(scope="module")
def book(built_book):
    return pages(built_book)


@pytest.fixture(scope="module")
def text(book):
    return " ".join(article(s) for s in book.values())


@pytest.fixture(scope="module")
def tables():
    return data.load()


def norm(s: str) -> str:
    return re.sub(r"\s+", " ", s)


def test_every_section_page_exists_with_its_numbered_heading(book):
    _, plan = toc_plan(paths.TOC_FILE)
    assert len(book) == len(toc_plan(paths.TOC_FILE)[0])
    for doc, (label, style) in plan.items():
        if style == "web":
            continue
        h1 = book[doc].select_one("article h1").get_text(" ", strip=True)
        assert h1.startswith(label + " "), (doc, h1)
    assert book["notebooks/01_introduction"].select_one("article h2").get_text().startswith("A. ")


def test_everything_in_the_data_is_in_the_report(text, tables):
    for table, column in [
        *PRINTED,
        ("mandate_paragraphs", "text"),
        ("table_headings", "text"),
        ("report_structure", "title"),
        ("format_options", "form"),
        ("hosting_options", "host"),
    ]:
        for value in tables[table][column]:
            assert norm(value) in text, (table, value)  # as printed: a quotation is not lower-cased


def test_front_page_has_the_masthead_and_says_it_is_a_draft(book):
    front = article(book["notebooks/00_front_matter"])
    for piece in (
        "United Nations",
        "Economic and Social Council",
        "DRAFT",
        "Distr.: General",
        "Original: English",
        "Commission on Science and Technology for Development",
        "Working Group on Enhanced Cooperation",
        "reproduced without formal editing",
        "not a report adopted",
        "Draft of ",
    ):
        assert piece in front, piece


def test_figures_are_numbered_svg_with_alt_text_from_the_data(book, built_book, tables):
    figures = [f for s in book.values() for f in s.select("figure.un-figure")]
    assert len(figures) >= 5
    for fig in figures:
        img = fig.select_one("img")
        assert img["src"].endswith(".svg")
        assert (built_book / "notebooks" / img["src"]).resolve().is_file()
        assert len(img["alt"]) > 40 and not img["alt"].lower().startswith("a chart")
        assert fig.select_one("figcaption .caption-number").get_text().startswith("Figure ")
    alts = " ".join(f.select_one("img")["alt"] for f in figures)
    assert all(acr in alts for acr in tables.organizations.acronym)


def test_figures_and_tables_are_cross_referenced(book):
    refs = {
        a["href"].split("#")[-1]
        for s in book.values()
        for a in s.select("a.reference.internal")
        if "#" in a.get("href", "")
    }
    targets = {f["id"] for s in book.values() for f in s.select("figure.un-figure, table.un-table") if f.get("id")}
    figures = {t for t in targets if t.startswith("fig-")}
    assert len(figures) >= 5 and figures <= refs
    body_tables = {t for t in targets if t.startswith("tab-") and not t.startswith("tab-data-")}
    assert len(body_tables) >= 3 and body_tables <= refs


def test_paragraphs_are_numbered_consecutively_across_pages(book):
    numbers = [int(n.get_text().rstrip(".")) for s in book.values() for n in s.select("span.un-para-num")]
    assert numbers == list(range(1, len(numbers) + 1)) and len(numbers) > 12


def test_sources_are_footnotes_and_the_contributors_words_are_quoted(book, tables):
    page = book["notebooks/03_recommendations"]
    notes = page.select("aside.footnote")
    assert len(notes) == len(tables.recommendations) and all("Contribution, line" in n.get_text() for n in notes)
    # The contributor's paragraphs are quotations, not the report's own numbered paragraphs.
    quoted = norm(" ".join(b.get_text(" ") for b in page.select("article blockquote")))
    numbered = norm(" ".join(p.get_text(" ") for p in page.select("article p.un-para")))
    for text in tables.recommendations.text:
        assert norm(text) in quoted and norm(text) not in numbered


def test_the_source_text_annex_is_the_source_with_line_numbers(book, tables):
    rows = book["notebooks/annex3_source_text"].select("table#tab-source-text tbody tr")
    lines = tables.source_lines()
    assert len(rows) == len(lines)
    number, text, _ = rows[102].select("td")
    assert number.get_text(strip=True) == "103" and text.get_text() == lines[102]


def test_the_site_makes_no_request_to_another_host(built_book):
    for page in built_book.rglob("*.html"):
        soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
        for tag, attr in (("script", "src"), ("link", "href"), ("img", "src"), ("iframe", "src")):
            for el in soup.find_all(tag):
                url = el.get(attr) or ""
                assert not re.match(r"(https?:)?//", url), (page.name, url)


def test_code_is_hidden(book):
    assert not any(s.select(".cell_input") for s in book.values())


# --- the data drives the text --------------------------------------------------------


@pytest.fixture(scope="module")
def changed(tmp_path_factory, built_book):
    """The report built from a copy of the contribution with one focus area added and one organization
    removed, in its tables and in its text (the report quotes the text: wgec.book.concordance)."""
    root = tmp_path_factory.mktemp("changed")
    shutil.copytree(paths.DATA_DIR, root / "data")
    d = root / "data"
    area = "Resilience of <b>undersea</b> cables {raw}`html`"
    edit_line(d, 112, "infrastructural level", f"infrastructural level • {area}")  # a bullet after the fourth
    append(
        d / "focus_areas.csv",
        id="FA-INF-5",
        level="infrastructural",
        position="5",
        text=area,
        kind="focus area",
        source_lines="112",
    )
    edit_line(d, 208, "WHO, FAO, WBG,", "WHO, FAO,")
    rewrite(d / "organizations.csv", lambda r: r["acronym"] != "WBG")
    rewrite(d / "organization_roles.csv", lambda r: r["organization"] != "WBG")
    assert run_wgec("check", "--data", d, "--out", root / "out").returncode == 0
    result = run_wgec("html", "--data", d, "--out", root / "out")
    assert result.returncode == 0, result.stderr[-3000:]
    return root / "out" / "html"


def test_counts_lists_and_figures_follow_the_data(book, changed, built_book):
    new = pages(changed)
    before = article(book["notebooks/02a_scope_and_focus_areas"])
    after = article(new["notebooks/02a_scope_and_focus_areas"])
    assert "21 focus areas" in before and "22 focus areas" in after
    assert "4 at the infrastructural level" in before
    assert "5 at the infrastructural level" in after
    orgs_before = article(book["notebooks/02d_organizations"])
    orgs_after = article(new["notebooks/02d_organizations"])
    assert "15 organizations" in orgs_before and "14 organizations" in orgs_after
    assert "WBG" in orgs_before and "WBG" not in orgs_after
    assert re.search(r"12 in its column “ ?UN agencies ?”", orgs_before)
    assert re.search(r"11 in its column “ ?UN agencies ?”", orgs_after)

    def figure_srcs(soup):
        return {f["id"]: f.select_one("img")["src"] for f in soup.select("figure.un-figure")}

    old_figs = figure_srcs(book["notebooks/02a_scope_and_focus_areas"])
    new_figs = figure_srcs(new["notebooks/02a_scope_and_focus_areas"])
    assert old_figs["fig-focus-areas-by-level"] != new_figs["fig-focus-areas-by-level"]
    alt = new["notebooks/02a_scope_and_focus_areas"].select_one("#fig-focus-areas-by-level img")["alt"]
    assert "Infrastructural: 5" in alt
    # A figure whose data did not change is byte-identical.
    assert figure_srcs(book["notebooks/01_introduction"]) == figure_srcs(new["notebooks/01_introduction"])


def test_a_data_string_is_never_markup(changed):
    soup = pages(changed)["notebooks/02a_scope_and_focus_areas"]
    item = next(li for li in soup.select("article li") if "undersea" in li.get_text())
    assert item.get_text().strip() == "Resilience of <b>undersea</b> cables {raw}`html`"
    assert item.find("b") is None and item.find("code") is None
    source = pages(changed)["notebooks/annex3_source_text"].select_one("#src-112").find_parent("tr")
    assert "Resilience of <b>undersea</b> cables {raw}`html`" in source.get_text()
    assert source.find("b") is None


def test_a_failing_build_leaves_the_last_good_book(tmp_path, data_copy):
    out = tmp_path / "out"
    (out / "html").mkdir(parents=True)
    (out / "html" / "index.html").write_text("last good build")
    edit(data_copy / "levels.csv", "content,Content", "content,")
    result = run_wgec("html", "--data", data_copy, "--out", out)
    assert result.returncode == 1
    assert "levels.csv, row 3, column 'name'" in result.stderr and "Traceback" not in result.stderr
    assert (out / "html" / "index.html").read_text() == "last good build"


def test_the_provenance_annex_says_which_data_the_report_was_built_from(book, tables):
    import hashlib

    page = article(book["notebooks/annex4_provenance"])
    for resource in tables.descriptor["resources"]:
        digest = hashlib.sha256((paths.DATA_DIR / resource["path"]).read_bytes()).hexdigest()
        assert f"{resource['path']} {len(tables[resource['name']])} {digest}" in page
    assert "jupyter-book" in page and "typst" in page


def test_no_path_of_the_build_machine_reaches_the_site(built_book):
    machine = {str(paths.ROOT), str(built_book.parent), str(Path.home())}
    for page in built_book.rglob("*"):
        if page.is_file() and page.suffix in {".html", ".js", ".json", ".txt", ".svg"}:
            text = page.read_text(encoding="utf-8", errors="replace")
            for path in machine:
                assert path not in text, (page.name, path)


def test_each_sphinx_application_swaps_its_own_toctree_collector_without_scanning_every_object(tmp_path, monkeypatch):
    """sphinx-external-toc replaces Sphinx's toctree collector; here it finds that collector
    among the application's own listeners, not among every object Python tracks (0.06-0.24 s
    an application in a process holding a built book), and a second application set up in the
    same process (the preview, a build's second builder) leaves the first one's collector alone."""
    import gc

    from sphinx.application import Sphinx
    from sphinx.environment.collectors.toctree import TocTreeCollector
    from sphinx.util.docutils import docutils_namespace, patch_docutils
    from sphinx_external_toc.collectors import TocTreeCollectorWithStyles

    from wgec.book import sphinx_ext

    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "index.rst").write_text("Title\n=====\n", encoding="utf-8")
    (tmp_path / "_toc.yml").write_text("format: jb-book\nroot: index\n", encoding="utf-8")

    def collectors(app) -> list:  # the toctree collector of each of the application's listeners
        return [
            listener.handler.__self__
            for listeners in app.events.listeners.values()
            for listener in listeners
            if isinstance(getattr(listener.handler, "__self__", None), TocTreeCollector)
        ]

    def application(name: str):
        return Sphinx(
            srcdir=tmp_path / "src",
            confdir=None,
            outdir=tmp_path / name,
            doctreedir=tmp_path / f"{name}-doctrees",
            buildername="html",
            # Sphinx's default source_suffix is one dict shared by every application, which an
            # extension's suffix changed for the rest of the process (the book's builds in it).
            confoverrides={
                "extensions": ["sphinx_external_toc"],
                "external_toc_path": str(tmp_path / "_toc.yml"),
                "source_suffix": {".rst": "restructuredtext"},
            },
            status=None,
            warning=None,
        )

    sphinx_ext.use_app_listeners()

    def everything(*args, **kwargs):
        raise AssertionError("gc.get_objects() called while an application is set up")

    with patch_docutils(None), docutils_namespace():
        monkeypatch.setattr(gc, "get_objects", everything)
        first = application("first")
        before = {event: list(listeners) for event, listeners in first.events.listeners.items()}
        second = application("second")
    for app in (first, second):  # one collector each, sphinx-external-toc's, connected to 5 events
        assert [type(collector) for collector in collectors(app)] == [TocTreeCollectorWithStyles] * 5
    ours = collectors(first)[0]
    assert ours.listener_ids is not None, "the second application disabled the first one's collector"
    assert first.events.listeners == before
