"""Hostile data, built end to end: every free-text cell of every table holds markup, formula
starts, long words, other scripts and invisible characters (tests/hostile.py), and the real
``wgec build`` must show each of them as literal text, in the HTML and in the PDF, and turn
none of them into markup, links, scripts or PDF actions. Characters that have no business in
a cell (control characters, bidi overrides, ...) are data errors, located by file, row and
column.
"""

import json
import re
import subprocess
import unicodedata
from pathlib import Path
from xml.etree import ElementTree

import hostile
import pytest
from bs4 import BeautifulSoup, Comment
from conftest import run_wgec
from pypdf import PdfReader
from pypdf.generic import IndirectObject

from wgec import paths
from wgec.report.words import lower_first

pytestmark = pytest.mark.slow

# Where a reader finds each free-text column besides annex I (which shows every table in full):
# the page, and which rows it shows.
PAGES = {
    ("levels", "name"): ["02a_scope_and_focus_areas", "02d_organizations"],
    ("focus_areas", "text"): ["02a_scope_and_focus_areas"],
    ("organizations", "acronym"): ["02d_organizations"],
    ("organizations", "name"): ["02d_organizations"],
    ("organizations", "note"): ["02d_organizations"],
    ("characteristics", "text"): ["02c_characteristics"],
    ("recommendations", "text"): ["03_recommendations"],
    ("format_options", "form"): ["02b_format"],  # in the figure's alt text
    ("hosting_options", "host"): ["02b_format"],  # in the figure's alt text
    ("mandate_paragraphs", "text"): ["02_background"],
    ("report_structure", "title"): ["01_introduction"],
    ("statements", "text"): ["01_introduction", "02_background", "02d_organizations"],
    ("table_headings", "text"): ["02a_scope_and_focus_areas", "02d_organizations"],
    ("not_reproduced", "text"): ["annex3_source_text"],  # the source text holds it, as every quotation
    ("not_reproduced", "reason"): ["annex3_source_text"],
    ("wgec_membership", "group"): ["01_introduction"],
    ("wgec_membership", "note"): ["01_introduction"],
    ("wgec_membership", "source"): ["01_introduction"],
    ("corrections", "as_printed"): ["annex2_corrections"],
    ("corrections", "reading"): ["annex2_corrections"],
    ("corrections", "reason"): ["annex2_corrections"],
}
# Shown in the prose only for the meeting the paper is for (meeting 4: row 5 of the file).
MEETING_ROW = {("wgec_meetings", "place"): 5 - 2, ("wgec_meetings", "venue"): 5 - 2}
# In annex I only: the meetings' sources, and the paragraph numbers (the background names each main
# paragraph number once: "paragraphs 35, 58 and 69 to 71").
ANNEX_ONLY = {("wgec_meetings", "source"), ("mandate_paragraphs", "paragraph")}


@pytest.fixture(scope="module")
def build(tmp_path_factory):
    """The hostile data set, and the report built from it with the real CLI."""
    root = tmp_path_factory.mktemp("hostile")
    cells = hostile.make(root / "data")
    result = run_wgec("build", "--data", root / "data", "--out", root / "out")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return root, cells


@pytest.fixture(scope="module")
def cells(build):
    return build[1]


@pytest.fixture(scope="module")
def html(build):
    return build[0] / "out" / "html"


@pytest.fixture(scope="module")
def soups(html):
    return {p: BeautifulSoup(p.read_text(encoding="utf-8"), "html.parser") for p in sorted(html.rglob("*.html"))}


def norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def page_text(html: Path, doc: str) -> str:
    """A page's text as a reader gets it: the article, and the alt text of its figures."""
    soup = BeautifulSoup((html / "notebooks" / f"{doc}.html").read_text(encoding="utf-8"), "html.parser")
    article = soup.select_one("article.bd-article")
    return norm(article.get_text(" ") + " " + " ".join(img.get("alt", "") for img in article.select("img")))


def shown(cell: str, text: str) -> bool:
    """The cell, as typed (or with its first letter lower-cased mid-sentence), is in the text."""
    return norm(cell) in text or norm(lower_first(cell)) in text


def test_the_fixture_puts_every_payload_in_every_free_text_column(cells):
    descriptor = json.loads((paths.DATA_DIR / "datapackage.json").read_text(encoding="utf-8"))
    columns = hostile.free_text_columns(descriptor)
    assert set(cells) == set(columns) == set(PAGES) | set(MEETING_ROW) | ANNEX_ONLY
    for column, values in cells.items():
        joined = "\n".join(values)
        for payload in [*hostile.BUNDLES, hostile.LONG_CELL]:
            assert payload in joined, (column, payload[:40])
        assert any(len(v) >= 5000 for v in values), column


def test_every_hostile_cell_is_literal_text_in_annex_one(html, cells):
    text = page_text(html, "annex1_data_tables")
    missing = [(column, cell[:80]) for column, values in cells.items() for cell in values if not shown(cell, text)]
    assert not missing


def test_every_hostile_cell_is_literal_text_where_the_report_uses_it(html, cells):
    missing = []
    for column, docs in PAGES.items():
        text = " ".join(page_text(html, doc) for doc in docs)
        missing += [(column, cell[:80]) for cell in cells[column] if not shown(cell, text)]
    meeting = page_text(html, "01_introduction")
    masthead = page_text(html, "00_front_matter")
    for column, row in MEETING_ROW.items():
        if not shown(cells[column][row], meeting):
            missing.append((column, cells[column][row][:80]))
    assert shown(cells[("wgec_meetings", "place")][MEETING_ROW[("wgec_meetings", "place")]], masthead)
    assert not missing


URL_ATTRIBUTES = {
    "href",
    "src",
    "srcset",
    "action",
    "formaction",
    "data",
    "poster",
    "xlink:href",
    "background",
    "cite",
    "longdesc",
    "content",
}


def test_nothing_in_the_data_becomes_markup(soups):
    assert len(soups) > 12
    payload_words = {
        "emph",
        "strong",
        "under",
        "strike",
        "code",
        "bold",
        "raw",
        "fence",
        "heading",
        "item",
        "quote",
        "not a heading",
        "not a list",
        "not a quote",
        "x",
        "y",
        "z",
        "link",
        "img",
    }
    for path, soup in soups.items():
        where = path.name
        for script in soup.find_all("script"):
            assert "alert" not in (script.string or "") + script.get("src", ""), where
        for tag in soup.find_all(True):
            for name, value in tag.attrs.items():
                value = " ".join(value) if isinstance(value, list) else str(value)
                assert not (name.lower().startswith("on") and "alert" in value), (where, tag.name, name)
                if name.lower() in URL_ATTRIBUTES:
                    assert "evil.example" not in value, (where, tag.name, name, value)
                    assert not value.strip().lower().startswith("javascript:"), (where, tag.name, name)
            if tag.name in {
                "em",
                "strong",
                "b",
                "i",
                "del",
                "s",
                "code",
                "h1",
                "h2",
                "h3",
                "h4",
                "h5",
                "h6",
                "li",
                "blockquote",
                "a",
                "img",
                "iframe",
                "math",
                "aside",
                "p",
            }:
                assert norm(tag.get_text(" ")).lower() not in payload_words, (where, str(tag)[:200])
        assert not soup.select(".math, .admonition.note, img[src=x], [id=label], iframe, object, embed"), where
        for comment in soup.find_all(string=lambda s: isinstance(s, Comment)):
            assert "comment" not in comment and "alert" not in comment, where


def test_the_charts_are_well_formed_svg_without_script_or_links(html, soups):
    svgs = [p.read_text(encoding="utf-8") for p in sorted((html / "_images").glob("*.svg"))]
    svgs += [str(svg) for soup in soups.values() for svg in soup.find_all("svg")]
    assert len(list((html / "_images").glob("*.svg"))) >= 5
    for svg in svgs:
        root = ElementTree.fromstring(svg)  # an unescaped "<" or "-->" from a label would not parse
        assert not [e for e in root.iter() if e.tag.rsplit("}", 1)[-1] in ("script", "foreignObject", "a")]
        assert not [
            v
            for e in root.iter()
            for k, v in e.attrib.items()
            if k.rsplit("}", 1)[-1].startswith("on") or "evil.example" in v or "javascript:" in v
        ]
        assert "<script" not in svg.lower()  # labels are in comments too: escaped there


# --- the PDF ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pdfs(build):
    """The PDF for submission first, then the archival one."""
    folder = build[0] / "out" / "pdf"
    return [folder / "wgec-report.pdf", folder / "wgec-report-archival.pdf"]


@pytest.fixture(scope="module")
def pdf_text(pdfs):
    # -raw: in the order the text was drawn (cell after cell), not guessed from its layout
    text = subprocess.run(
        ["pdftotext", "-raw", "-enc", "UTF-8", str(pdfs[0]), "-"], capture_output=True, text=True, check=True
    ).stdout
    return squeeze(text)


def squeeze(text: str) -> str:
    """Text as the PDF's text layer can give it back: no white space, composed, and without the
    characters that have no glyph of their own (zero-width marks, emoji tags)."""
    text = unicodedata.normalize("NFC", text)
    return "".join(ch for ch in text if not ch.isspace() and unicodedata.category(ch) != "Cf")


def test_every_hostile_cell_is_in_the_pdf_text(pdf_text, cells):
    missing = []
    for column, values in cells.items():
        for cell in values:
            # A cell taller than a page is split by page breaks, headers and footnotes:
            # look for each of its bundles (each far shorter than a page) in turn.
            parts = [b for b in [*hostile.BUNDLES, hostile.LONG_CELL] if b in cell]
            tag = cell[cell.rindex("(cell ") :]
            for part in [*parts, tag]:
                # Right-to-left runs come back from the text layer in an order of their own:
                # look for each word of a bundle that has any.
                words = part.split() if any(unicodedata.bidirectional(ch) == "AL" for ch in part) else [part]
                missing += [
                    (column, w[:60])
                    for w in words
                    if squeeze(w) not in pdf_text and squeeze(lower_first(w)) not in pdf_text
                ]
    assert not missing


def _walk(obj, seen=None):
    """Every dictionary and array reachable from ``obj`` (resolving indirect references)."""
    seen = set() if seen is None else seen
    stack = [obj]
    while stack:
        item = stack.pop()
        if isinstance(item, IndirectObject):
            key = (item.idnum, item.generation)
            if key in seen:
                continue
            seen.add(key)
            item = item.get_object()
        if isinstance(item, dict):
            yield item
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def test_the_pdfs_have_no_script_launch_or_hostile_link(pdfs):
    for pdf in pdfs:
        reader = PdfReader(pdf)
        catalog = reader.trailer["/Root"]
        assert "/JavaScript" not in catalog.get("/Names", {}), pdf.name
        assert "/AA" not in catalog, pdf.name
        uris = []
        for node in _walk(reader.trailer["/Root"]):
            assert node.get("/S") not in ("/JavaScript", "/Launch", "/ImportData", "/SubmitForm"), pdf.name
            assert "/JS" not in node, pdf.name
            if "/URI" in node:
                uris.append(str(node["/URI"]))
        assert not [u for u in uris if "evil.example" in u or u.lower().startswith("javascript:")], pdf.name


def test_every_hostile_cell_stays_inside_the_page(pdfs):
    """No word, however long, runs past the right margin (A4: 595 pt wide, 2.2 cm margins)."""
    out = subprocess.run(["pdftotext", "-bbox", str(pdfs[0]), "-"], capture_output=True, text=True, check=True).stdout
    right = 595.28 - 2.2 / 2.54 * 72
    words = re.findall(r'<word xMin="([\d.]+)" yMin="[\d.]+" xMax="([\d.]+)" yMax="[\d.]+">([^<]*)</word>', out)
    assert len(words) > 10000
    beyond = [(float(x1), w[:40]) for x0, x1, w in words if float(x1) > right + 1]
    assert not beyond


# --- characters no cell may hold ---------------------------------------------------------------

REJECTED = {
    "\x07": "U+0007",
    "\t": "U+0009",
    "\n": "U+000A",
    "\x1b": "U+001B",
    "\x7f": "U+007F",  # C0, DEL
    "\x85": "U+0085",
    "\x9b": "U+009B",  # C1
    "\u2028": "U+2028 LINE SEPARATOR",
    "\u2029": "U+2029 PARAGRAPH SEPARATOR",
    "\u202e": "U+202E RIGHT-TO-LEFT OVERRIDE",
    "\u202a": "U+202A LEFT-TO-RIGHT EMBEDDING",
    "\u2067": "U+2067 RIGHT-TO-LEFT ISOLATE",
    "\u2069": "U+2069 POP DIRECTIONAL ISOLATE",
    "\ufeff": "U+FEFF ZERO WIDTH NO-BREAK SPACE",
    "\ufffe": "U+FFFE",
    "\ufdd0": "U+FDD0",
}


def test_control_and_bidi_override_characters_are_data_errors_located_by_cell(data_copy):
    """Each forbidden character, alone in the middle of a cell, is one problem naming the file,
    row and column and the character; nothing else in the table is blamed."""
    path = data_copy / "focus_areas.csv"
    header, rows = hostile.read(path)
    i = header.index("text")
    for row, ch in zip(rows, REJECTED):
        row[i] = f"before{ch}after"
    hostile.write(path, header, rows)
    result = run_wgec("check", "--data", data_copy, timeout=300)
    assert result.returncode == 1
    assert "Traceback" not in result.stdout + result.stderr
    assert f"{len(REJECTED)} problems in the data" in result.stderr
    for row, name in enumerate(REJECTED.values(), start=2):
        assert f"focus_areas.csv, row {row}, column 'text': found 'before" in result.stderr, name
        assert re.search(rf"focus_areas.csv, row {row}, column 'text': .*found {re.escape(name)}\)", result.stderr), (
            name
        )


# --- in a browser --------------------------------------------------------------------------------


@pytest.mark.browser
def test_in_a_browser_no_data_runs_and_no_page_is_wider_than_the_window(html, browser):
    """Chromium opens every report page: no alert fires, nothing is fetched from evil.example,
    and no long word makes the article wider than its column."""
    dialogs, fetched, wide = [], [], []
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.on("request", lambda r: fetched.append(r.url) if "evil.example" in r.url else None)
    pages = sorted((html / "notebooks").glob("*.html"))
    for path in pages:
        page.goto(path.as_uri())
        width = page.evaluate(
            "() => { const a = document.querySelector('article.bd-article'); return [a.scrollWidth, a.clientWidth]; }"
        )
        if width[0] > width[1] + 1:
            wide.append((path.name, width))
    page.close()
    assert len(pages) >= 10
    assert not dialogs and not fetched and not wide


def test_the_data_downloads_keep_every_cell_and_neutralize_formula_starts(build, cells):
    """The CSV downloads and the workbook carry every hostile cell; a cell that a spreadsheet
    would run as a formula starts with an apostrophe in the CSV, and is a plain string in the
    workbook."""
    import csv

    from openpyxl import load_workbook

    from wgec.editions import downloads

    root, _ = build
    folder = root / "out" / "html" / downloads.FOLDER
    descriptor = json.loads((root / "data" / "datapackage.json").read_text(encoding="utf-8"))
    names = downloads.csv_names(descriptor)
    order = [r["name"] for r in descriptor["resources"]]
    workbook = load_workbook(folder / downloads.WORKBOOK)
    sheets = dict(zip(order, downloads.sheet_names(order)))
    formula_cells = 0
    for (table, column), values in cells.items():
        with open(folder / names[table], encoding="utf-8-sig", newline="") as handle:
            shown = [row[column] for row in csv.DictReader(handle)]
        for value in values:
            formula = value.startswith(("=", "+", "-", "@"))
            formula_cells += formula
            assert ("'" + value if formula else value) in shown, (table, column, value[:60])
        sheet = workbook[sheets[table]]
        header = [c.value for c in sheet[1]]
        column_cells = [row[header.index(column)] for row in sheet.iter_rows(min_row=2)]
        assert all(c.data_type == "s" for c in column_cells if c.value is not None), (table, column)
        assert set(values) <= {c.value for c in column_cells}, (table, column)
    assert formula_cells > 0, "the hostile data has cells with formula starts"
