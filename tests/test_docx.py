"""The Word edition, read back as Word would: python-docx, and the package's XML (footnotes, drawings)."""

import importlib.util
import re
import shutil
import zipfile

import pytest
from bs4 import BeautifulSoup
from conftest import edit, edit_quote, run_wgec
from docx import Document
from lxml import etree

from wgec import paths, settings
from wgec.book.toc import toc_plan
from wgec.editions import docx

NS = {
    "w": "http://schemas.openxmlformats.org/wordprocessingml/2006/main",
    "wp": "http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing",
    "a": "http://schemas.openxmlformats.org/drawingml/2006/main",
    "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    "asvg": "http://schemas.microsoft.com/office/drawing/2016/SVG/main",
    "rel": "http://schemas.openxmlformats.org/package/2006/relationships",
}


def squash(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("\u200b", "")).strip()


@pytest.fixture(scope="module")
def word(built):
    result = run_wgec("docx", "--out", built)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    path = built / "docx" / "wgec-report.docx"
    assert path.is_file()
    return path


@pytest.fixture(scope="module")
def document(word):
    return Document(word)


@pytest.fixture(scope="module")
def part(word):
    with zipfile.ZipFile(word) as z:
        parts = {name: z.read(name) for name in z.namelist() if name.endswith((".xml", ".rels"))}
    return lambda name: etree.fromstring(parts[name])


@pytest.fixture(scope="module")
def html_pages(built_book):
    """The HTML pages of the report (web-only pages left out) in reading order, with their depth in
    the contents: 0 for the front matter, 1 for a chapter or annex, 2 for a section."""
    order, plan = toc_plan(paths.TOC_FILE)
    pages = []
    for doc in order:
        _label, style = plan.get(doc, ("", "root"))
        if style == "web":
            continue
        soup = BeautifulSoup((built_book / f"{doc}.html").read_text(encoding="utf-8"), "html.parser")
        for link in soup.select("a.headerlink"):
            link.decompose()
        pages.append((soup.select_one("article.bd-article"), {"root": 0, "I": 1, "annex": 1, "A": 2}[style]))
    return pages


@pytest.mark.slow
def test_headings_are_word_headings_in_reading_order(document, html_pages):
    expected, title = [], None
    for article, depth in html_pages:
        for heading in article.find_all(re.compile(r"^h[1-6]$")):
            level = int(heading.name[1]) + depth - 1  # the report's title is the Title, chapters Heading 1
            if level == 0:
                title = squash(heading.get_text(" "))
            else:
                expected.append((level, squash(heading.get_text(" "))))
    found = [
        (int(p.style.name.split()[-1]), squash(p.text))
        for p in document.paragraphs
        if p.style.name.startswith("Heading ")
    ]
    assert found == expected
    assert {1, 2} <= {level for level, _ in found}
    assert ("1", "I. Introduction") in {(str(lv), t) for lv, t in found}
    assert any(t.startswith("Annex I. ") for lv, t in found if lv == 1)
    assert [squash(p.text) for p in document.paragraphs if p.style.name == "Title"] == [title]


@pytest.mark.slow
def test_the_contents_list_every_chapter_and_section(document, html_pages):
    entries = [squash(p.text) for p in document.paragraphs if p.style.name in ("toc 1", "toc 2")]
    headings = [squash(p.text) for p in document.paragraphs if p.style.name in ("Heading 1", "Heading 2")]
    assert len(entries) >= 10
    assert entries == [h for h in headings if h in entries]  # same order as the text
    assert "I. Introduction" in entries and "Annex IV. Provenance of this edition" in entries


@pytest.mark.slow
def test_internal_links_reach_their_bookmarks_and_no_paragraph_is_empty(document, part):
    body, notes = part("word/document.xml"), part("word/footnotes.xml")
    anchors = set(
        body.xpath("//w:hyperlink/@w:anchor", namespaces=NS) + notes.xpath("//w:hyperlink/@w:anchor", namespaces=NS)
    )
    assert len(anchors) >= 15
    assert anchors <= set(body.xpath("//w:bookmarkStart/@w:name", namespaces=NS))
    empty = [p.style.name for p in document.paragraphs if not p.text.strip() and not p._p.xpath(".//w:drawing")]
    assert empty == []


@pytest.mark.slow
def test_paragraph_numbers_are_consecutive_and_match_the_html(document, html_pages):
    html_numbers = [squash(n.get_text()) for article, _ in html_pages for n in article.select("span.un-para-num")]
    numbered = [p for p in document.paragraphs if p.style.name == "Numbered Paragraph"]
    numbers = [p.text.split("\t", 1)[0] for p in numbered]
    assert len(numbers) >= 12  # the report's own paragraphs: the contributor's words are quotations
    assert numbers == [f"{n}." for n in range(1, len(numbers) + 1)] == html_numbers
    for paragraph in numbered:  # the number, a tab to the text column, then the text
        assert re.match(r"\d+\.\t\S", paragraph.text), paragraph.text


@pytest.mark.slow
def test_sources_are_real_word_footnotes(part, html_pages):
    notes = part("word/footnotes.xml")
    body = part("word/document.xml")
    texts = {
        n.get(f"{{{NS['w']}}}id"): squash("".join(n.itertext()))
        for n in notes.xpath("w:footnote[not(@w:type)]", namespaces=NS)
    }
    refs = body.xpath("//w:footnoteReference/@w:id", namespaces=NS)
    html_notes = [
        squash(" ".join(p.get_text(" ") for p in aside.find_all("p")))
        for article, _ in html_pages
        for aside in article.select("aside.footnote")
    ]
    assert len(refs) == len(texts) == len(html_notes) >= 10
    assert sorted(refs) == sorted(texts)  # every note is referenced once, from the text
    assert sorted(texts.values()) == sorted(html_notes)


@pytest.mark.slow
def test_figures_have_their_alt_text_caption_and_a_png_for_older_word(word, part, html_pages):
    alts = [img["alt"] for article, _ in html_pages for img in article.select("figure.un-figure img")]
    body = part("word/document.xml")
    drawings = body.xpath("//w:drawing", namespaces=NS)
    assert [d.xpath(".//wp:docPr/@descr", namespaces=NS)[0] for d in drawings] == alts
    assert len(alts) >= 5
    rels = {r.get("Id"): r.get("Target") for r in part("word/_rels/document.xml.rels")}
    for drawing in drawings:
        blip = drawing.xpath(".//a:blip", namespaces=NS)[0]
        assert rels[blip.get(f"{{{NS['r']}}}embed")].endswith(".png")
        assert rels[blip.xpath(".//asvg:svgBlip/@r:embed", namespaces=NS)[0]].endswith(".svg")
    with zipfile.ZipFile(word) as z:
        for target in rels.values():
            if target.endswith(".png"):
                assert z.read(f"word/{target}")[:8] == b"\x89PNG\r\n\x1a\n"
    captions = [squash(p.text) for p in Document(word).paragraphs if p.style.name == "Image Caption"]
    html_captions = [
        squash(c.get_text(" ")) for article, _ in html_pages for c in article.select("figure.un-figure figcaption")
    ]
    assert len(captions) == len(alts)
    for n, (caption, html_caption) in enumerate(zip(captions, html_captions), start=1):
        assert caption.startswith(f"Figure {n}. ")
        assert caption.replace(f"Figure {n}. ", f"Figure {n} ") == html_caption


@pytest.mark.slow
def test_tables_are_word_tables_with_header_rows(document, part, html_pages):
    html_tables = [t for article, _ in html_pages for t in article.select("table")]
    assert len(document.tables) == len(html_tables) >= 5
    rows = part("word/document.xml").xpath("//w:tbl/w:tr[1]", namespaces=NS)
    assert len(rows) == len(html_tables)
    for row in rows:
        assert row.xpath("w:trPr/w:tblHeader", namespaces=NS), "header row not repeated"
    for table, html in zip(document.tables, html_tables):
        heads = [squash(th.get_text(" ")) for th in html.select("thead tr")[0].select("th")]
        assert [squash(c.text) for c in table.rows[0].cells] == heads
        assert len(table.rows) == len(html.select("tr"))


@pytest.mark.slow
def test_the_masthead_is_at_the_top(document):
    doc_settings = settings.document()
    top = [(p.style.name, squash(p.text)) for p in document.paragraphs[:6]]
    assert [style for style, _ in top[:5]] == [
        "Masthead United Nations",
        "Masthead Symbol",
        "Masthead Organ",
        "Masthead Details",
        "Masthead Session",
    ]
    text = " ".join(t for _, t in top)
    for piece in (
        "United Nations",
        "DRAFT",
        doc_settings["parent_organ"],
        f"Distr.: {doc_settings['distribution']}",
        f"Original: {doc_settings['original']}",
        doc_settings["organ"],
        doc_settings["body"],
        "Fourth meeting",
        settings.un_date(settings.document_date(doc_settings)),
    ):
        assert piece in text, piece
    assert top[5] == ("Title", settings.book_config()["title"])


@pytest.mark.slow
def test_a4_pages_and_un_styles(document, part):
    (section,) = document.sections
    assert abs(section.page_width.mm - 210) < 0.5 and abs(section.page_height.mm - 297) < 0.5
    assert abs(section.left_margin.cm - 2.2) < 0.05 and abs(section.top_margin.cm - 2.4) < 0.05
    normal = document.styles["Normal"].font
    assert normal.name == "Times New Roman" and normal.size.pt == 10
    # No theme font sneaks in: every style names its font.
    assert not part("word/styles.xml").xpath("//w:rFonts[@w:asciiTheme]", namespaces=NS)
    # Page numbers in the header from page 2 on (page 1 has the masthead), as in the PDF.
    assert section.different_first_page_header_footer
    assert section.header._element.xpath(".//w:fldSimple[@w:instr='PAGE']")
    core = part("docProps/core.xml")
    assert core.xpath("string(//*[local-name()='title'])") == settings.book_config()["title"]


@pytest.mark.slow
def test_same_inputs_give_the_same_bytes(word, built, tmp_path):
    doc_settings = settings.document()
    date = settings.document_date(doc_settings)
    work = built / ".work"
    html = docx.assemble(work / "singlehtml", doc_settings, settings.book_config()["title"], date)
    first = docx.write(html, work, tmp_path / "a.docx", date)
    second = docx.write(html, work, tmp_path / "b.docx", date)
    assert first.read_bytes() == second.read_bytes() == word.read_bytes()


def test_the_committed_reference_doc_is_what_the_tool_makes():
    spec = importlib.util.spec_from_file_location("reference_docx", paths.ROOT / "tools" / "reference_docx.py")
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    assert tool.make() == docx.REFERENCE.read_bytes(), "run .venv/bin/python tools/reference_docx.py"


def test_a_pandoc_failure_is_a_clear_error_and_writes_nothing(tmp_path):
    target = tmp_path / "docx" / "report.docx"
    html = '<!DOCTYPE html><html><body><p>x</p><figure><img src="missing.png" alt="a"></figure></body></html>'
    with pytest.raises(docx.DocxError, match=r"pandoc could not write the Word edition.*missing\.png"):
        docx.write(html, tmp_path, target, settings.document_date(settings.document()))
    assert not target.exists()


# --- data strings stay literal; a failed build keeps the last good edition -------------

HOSTILE = "Resilience of **undersea** <b>cables</b> {raw}`html` $x^2$ [^1] &amp; _y_"


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile-docx")
    shutil.copytree(paths.DATA_DIR, root / "data")
    edit_quote(root / "data", "focus_areas.csv", 109, "Affordability and universal access", HOSTILE)
    result = run_wgec("docx", "--data", root / "data", "--out", root / "out")
    assert result.returncode == 0, result.stderr[-3000:]
    return root


@pytest.mark.slow
def test_a_hostile_data_string_is_literal_text_in_word(hostile):
    document = Document(hostile / "out" / "docx" / "wgec-report.docx")
    cells = [c for t in document.tables for row in t.rows for c in row.cells]
    found = [p for p in document.paragraphs + [p for c in cells for p in c.paragraphs] if "undersea" in p.text]
    assert found
    for paragraph in found:
        assert HOSTILE in paragraph.text
        for run in paragraph.runs:
            if "undersea" in run.text or "cables" in run.text:
                assert not run.bold and not run.italic


@pytest.mark.slow
def test_a_failed_build_keeps_the_last_good_edition(hostile):
    target = hostile / "out" / "docx" / "wgec-report.docx"
    before = target.read_bytes()
    edit(hostile / "data" / "levels.csv", "content,Content", "content,")
    result = run_wgec("docx", "--data", hostile / "data", "--out", hostile / "out")
    assert result.returncode == 1
    assert "levels.csv" in result.stderr and "Traceback" not in result.stderr
    assert target.read_bytes() == before
