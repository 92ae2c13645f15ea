"""A notebook run in Jupyter shows its section: text as formatted text, tables as tables,
figures drawn; no MyST syntax; data literal. The book keeps reading the MyST."""

from __future__ import annotations

import base64
import re
import xml.etree.ElementTree as ET

import hostile
import jupytext
import nbformat
import pytest
import yaml
from bs4 import BeautifulSoup
from IPython.core.formatters import format_display_data
from nbclient import NotebookClient

from wgec import paths
from wgec.book.toc import notebooks
from wgec.report import jupyter
from wgec.report.page import RawMd, footnote, md, phrase, ref

# JupyterLab's renderers and their ranks (@jupyterlab/rendermime, factories.ts; the PDF
# renderer is @jupyterlab/pdf-extension's): an output shows the type of the lowest rank it
# has. A type with no renderer (the glued figures, application/papermill.record/...) shows
# nothing.
JUPYTERLAB_RANKS = {
    "text/html": 50,
    "text/markdown": 60,
    "text/latex": 70,
    "image/svg+xml": 80,
    "image/bmp": 90,
    "image/png": 90,
    "image/jpeg": 90,
    "image/gif": 90,
    "image/webp": 90,
    "application/pdf": 100,
    "text/javascript": 110,
    "application/javascript": 110,
    "text/plain": 120,
    "application/vnd.jupyter.stdout": 120,
    "application/vnd.jupyter.stderr": 120,
}
# MyST that a reader must never see: roles, directives, colon fences, footnote markers and
# definitions, substitutions, targets, attributes.
RAW_MYST = re.compile(
    r"\{[\w:.-]+\}`|^\s*:{3,}|^\s*`{3,}\s*\{|\{(?:glue|numref|list-table|data-table|container)\b|\[\^[\w-]+\]"
    r"|\{\{|^\s*\([\w-]+\)=\s*$|\{\.[\w-]+\}",
    re.M,
)
NOTEBOOKS = notebooks()


def shown(output: dict) -> tuple[str | None, str]:
    """(MIME type, content) of what JupyterLab renders for one output."""
    if output["output_type"] == "stream":
        return "text/plain", output["text"]
    if output["output_type"] == "error":
        return "error", "\n".join(output["traceback"])
    data = output.get("data", {})
    ranked = sorted((JUPYTERLAB_RANKS[m], m) for m in data if m in JUPYTERLAB_RANKS)
    if not ranked:
        return None, ""
    mime = ranked[0][1]
    return mime, data[mime]


def visible_text(mime: str, content: str) -> str:
    return BeautifulSoup(content, "html.parser").get_text() if mime == "text/html" else content


def run_as_jupyter(path, data_dir=None):
    """The notebook as JupyterLab runs it: jupytext reads the .md, a fresh kernel in
    notebooks/, nothing from the build (no session message: the shipped data, validated in
    the kernel, today's settings). ``data_dir``: another data folder, named to the kernel as
    the build names it (wgec.session.begin), for the hostile data."""
    nb = jupytext.read(path)
    if data_dir is not None:
        nb.cells.insert(
            0, nbformat.v4.new_code_cell(f"import wgec.session\nwgec.session.begin({{'data_dir': {str(data_dir)!r}}})")
        )
    NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()
    return [
        o for cell in nb.cells[1 if data_dir is not None else 0 :] if cell.cell_type == "code" for o in cell.outputs
    ]


# --- the rendering, on its own -------------------------------------------------------


def test_the_renderer_reads_the_myst_extensions_of_the_book():
    config = yaml.safe_load(paths.CONFIG_FILE.read_text(encoding="utf-8"))
    assert set(jupyter.EXTENSIONS) == set(config["parse"]["myst_enable_extensions"])
    overrides = config["sphinx"]["config"]["nb_mime_priority_overrides"]
    assert ["*", "text/html", None] in overrides, "the book must never render the Jupyter HTML"


def test_cross_references_read_as_words_and_footnotes_as_notes():
    rendered = jupyter.render("Areas ({numref}`fig-areas`, {numref}`tab-orgs`).[^n-1]\n\n[^n-1]: Contribution, line 3.")
    soup = BeautifulSoup(rendered, "html.parser")
    assert soup.get_text().startswith("Areas (figure, table).")
    assert [a["href"] for a in soup.select("p a")][:2] == ["#fig-areas", "#tab-orgs"]
    note = soup.select_one("section.footnotes li")
    assert "Contribution, line 3." in note.get_text()
    assert not RAW_MYST.search(soup.get_text())


def test_a_note_keeps_its_number_in_the_notebook_not_in_its_output():
    # page.footnote numbers the notes through the notebook (fn-1, fn-2, ...); each output is
    # rendered on its own, and would otherwise number its first note 1.
    soup = BeautifulSoup(jupyter.render("Text.[^fn-3]\n\n[^fn-3]: Lines 3-4."), "html.parser")
    assert soup.select_one("sup.footnote-ref").get_text() == "[3]"
    assert soup.select_one("section.footnotes li")["value"] == "3"


def test_containers_quotes_and_line_breaks_become_html():
    rendered = jupyter.render(
        ":::{container} un-edition wgec-x\n:name: here\nEdition: `abc`\\\nnext\n:::\n\n"
        "> quoted\n>\n> — A\\/RES\\/70\\/125"
    )
    soup = BeautifulSoup(rendered, "html.parser")
    box = soup.select_one("div#here")
    assert box["class"] == ["un-edition", "wgec-x"] and box.select_one("code").get_text() == "abc"
    assert box.select_one("br") is not None
    assert soup.select_one("blockquote").get_text().strip().endswith("— A/RES/70/125")
    assert not RAW_MYST.search(soup.get_text()) and ":name:" not in soup.get_text()


def test_a_template_cannot_pass_html_scripts_or_event_attributes():
    rendered = jupyter.render(
        '<b onclick="x()">raw</b> [a](javascript:alert(1)) [b](https://example.org){onclick="y()" .external}'
    )
    soup = BeautifulSoup(rendered, "html.parser")
    assert soup.find("b") is None and "<b onclick" in soup.get_text()
    assert all(not a.get("href", "").startswith("javascript") for a in soup.find_all("a"))
    assert not any(attr.startswith("on") for tag in soup.find_all(True) for attr in tag.attrs)
    assert soup.select_one('a[href="https://example.org"]')["class"] == ["external"]


@pytest.mark.parametrize("payload", hostile.BUNDLES, ids=range(len(hostile.BUNDLES)))
def test_a_data_string_is_literal_text_in_jupyter(payload):
    rendered = jupyter.render(f"The value {md(payload)} ends here.")
    soup = BeautifulSoup(rendered, "html.parser")
    assert [t.name for t in soup.find_all(True)] == ["p"]
    assert soup.get_text().strip() == f"The value {payload} ends here."
    table = BeautifulSoup(jupyter.table([[payload]], [payload], md(payload), "tab-x"), "html.parser")
    assert [td.get_text() for td in table.select("td, th")] == [payload, payload]
    assert table.select_one("caption").get_text() == f"Table: {payload}"
    assert not table.select("script, img, a")


def plain(value) -> str:
    """What JupyterLab shows of a Markdown cell's {eval} value: jupyterlab-myst asks the kernel
    for it (user_expressions) and shows its text/plain, as IPython formats the value."""
    data, _ = format_display_data(value)
    return data["text/plain"]


def test_a_value_of_the_packages_markdown_shows_as_plain_text_in_a_markdown_cell(monkeypatch):
    monkeypatch.setattr("wgec.report.page._NOTES", [])  # the note made here goes with no later test's output
    text = "Contribution, lines 1–2 (annex III)."
    note = footnote(text)
    number = re.fullmatch(r"\[\^[\w-]+-(\d+)\]", note).group(1)  # MyST for the book, numbered through the notebook
    assert plain(note) == f"[{number}: {text}]"  # its number and text in brackets in JupyterLab
    value = "a_b* [c] (A/RES/70/125) <i>x</i> {raw} `y`"
    assert "\\" in md(value)
    sentence = phrase("Named {value}{note}, see {table}.", value=value, note=note, table=ref("tab-x"))
    assert plain(sentence) == f"Named {value} [{number}: {text}], see table."  # escaped punctuation shows as itself
    assert not RAW_MYST.search(plain(sentence)) and "\\" not in plain(sentence)
    assert plain(RawMd("**Bold** and *emphasis*")) == "Bold and emphasis"


def test_a_figure_is_an_svg_image_with_its_alt_text():
    svg = '<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"><rect width="4" height="4"/></svg>'
    soup = BeautifulSoup(jupyter.figure(svg, "Levels *by* area", 'Bar chart: "a" <b>', "fig-x"), "html.parser")
    image = soup.select_one("figure#fig-x img")
    assert image["alt"] == 'Bar chart: "a" <b>'
    assert base64.b64decode(image["src"].split(",", 1)[1]).decode() == svg
    assert soup.select_one("figcaption").get_text() == "Figure: Levels by area"


# --- every notebook, run as Jupyter runs it ------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_a_notebook_run_in_jupyter_shows_its_section(path):
    outputs = run_as_jupyter(path)
    rendered = [shown(o) for o in outputs]
    assert not [c for m, c in rendered if m == "error"], "the notebook fails in Jupyter"
    for mime, content in rendered:
        if mime is None:
            continue
        # HTML, or plain text for a literal block (page.literal: the source text annex)
        assert mime in ("text/html", "text/plain"), f"JupyterLab would show {mime}: {content[:200]}"
        text = visible_text(mime, content)
        raw = RAW_MYST.search(text)
        assert raw is None, f"raw MyST on the page: {text[max(0, raw.start() - 80) : raw.end() + 80]!r}"
    glued = [o for o in outputs if "application/papermill.record/image/svg+xml" in o.get("data", {})]
    figures = [BeautifulSoup(c, "html.parser").select_one("figure img") for m, c in rendered if m == "text/html"]
    figures = [f for f in figures if f is not None]
    assert len(figures) == len(glued), "every figure of the book is drawn in Jupyter"
    for image in figures:
        assert image["src"].startswith("data:image/svg+xml;base64,") and image["alt"]
        drawing = ET.fromstring(base64.b64decode(image["src"].split(",", 1)[1]))
        assert drawing.tag == "{http://www.w3.org/2000/svg}svg" and len(drawing) > 0
    notes = [
        a.get_text()
        for m, c in rendered
        if m == "text/html"
        for a in BeautifulSoup(c, "html.parser").select("sup.footnote-ref a")
    ]
    # Numbered through the notebook: a note of a Markdown cell's value (shown there as "[4: …]" when
    # JupyterLab evaluates it; this run does not) takes its number, so the outputs' may skip one.
    numbers = [int(n.strip("[]")) for n in notes]
    assert numbers == sorted(set(numbers)) and (not numbers or numbers[0] == 1), f"notes through the notebook: {notes}"
    for table in (BeautifulSoup(c, "html.parser").select("table") for m, c in rendered if m == "text/html"):
        for t in table:
            assert t.select("thead th") and t.select("tbody tr"), "a table shows as a table with its header"


@pytest.mark.slow
def test_hostile_data_stays_literal_in_jupyter(tmp_path):
    cells = hostile.make(tmp_path / "data")
    path = paths.ROOT / "notebooks" / "annex1_data_tables.md"
    outputs = run_as_jupyter(path, data_dir=tmp_path / "data")
    html = "".join(content for mime, content in map(shown, outputs) if mime == "text/html")
    soup = BeautifulSoup(html, "html.parser")
    assert not soup.select("script, img, iframe, object, embed")
    assert not any(attr.startswith("on") for tag in soup.find_all(True) for attr in tag.attrs)
    assert not [a for a in soup.find_all("a") if not a["href"].startswith(("../data/", "#"))]
    text = re.sub(r"\s+", " ", soup.get_text(" "))
    for (table, column), values in cells.items():
        for value in values:
            assert re.sub(r"\s+", " ", value) in text, f"{table}.{column}: {value[:80]!r} not shown literally"


@pytest.mark.slow
def test_the_book_renders_the_myst_never_the_jupyter_html(built_book):
    for page in (built_book / "notebooks").glob("*.html"):
        soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
        main = soup.select_one("main") or soup
        assert not main.select(".wgec-figure, .wgec-table, .footnote-backref, section.footnotes"), page.name
        assert not main.select('img[src^="data:"]'), page.name
        assert "Figure: " not in main.get_text() and "Table: " not in main.get_text(), page.name
