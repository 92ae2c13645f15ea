"""The PDF for submission, read as a reviewer would: pypdf, poppler-utils, rendered pages."""

import re
import subprocess
import unicodedata

import pytest
from bs4 import BeautifulSoup
from conftest import OUTPUT, PRINTED, data_with_organizations, run_wgec
from pypdf import PdfReader

from wgec import data, paths, settings
from wgec.book.toc import toc_plan

pytestmark = pytest.mark.slow
PDFS = ("wgec-report.pdf", "wgec-report-archival.pdf")


def pdftotext(path, *args) -> str:
    return subprocess.run(
        ["pdftotext", "-enc", "UTF-8", *args, str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


def flat(text: str) -> str:
    """Text as one line: a break after a hyphen joins, any other break is a space."""
    return re.sub(r"\s+", " ", re.sub(r"-\n\s*", "-", text))


@pytest.fixture(scope="module")
def pdf(built):
    return built / "pdf" / "wgec-report.pdf"


@pytest.fixture(scope="module")
def reader(pdf):
    return PdfReader(pdf)


@pytest.fixture(scope="module")
def text(pdf):
    return flat(pdftotext(pdf))


@pytest.fixture(scope="module")
def tables():
    return data.load()


def test_every_page_is_a4(reader):
    for page in reader.pages:
        assert abs(float(page.mediabox.width) - 595.28) < 1 and abs(float(page.mediabox.height) - 841.89) < 1


@pytest.mark.parametrize("name", PDFS)
def test_every_font_is_embedded(built, name):
    rows = subprocess.run(
        ["pdffonts", str(built / "pdf" / name)], capture_output=True, text=True, check=True
    ).stdout.splitlines()[2:]
    assert rows
    for row in rows:
        assert row.split()[-5] == "yes", row  # columns from the right: emb sub uni object generation


def test_tagged_with_language_and_title(reader):
    root = reader.trailer["/Root"]
    assert root["/MarkInfo"]["/Marked"] == True  # noqa: E712 - a pypdf BooleanObject
    assert "/StructTreeRoot" in root
    assert root["/Lang"] == "en"
    assert root["/ViewerPreferences"]["/DisplayDocTitle"] == True  # noqa: E712
    assert reader.metadata.title == settings.book_config()["title"]


def _outline_titles(outline):
    for item in outline:
        if isinstance(item, list):
            yield from _outline_titles(item)
        else:
            yield item.title


def test_outline_has_every_section_heading(reader, built_book):
    titles = {re.sub(r"\s+", " ", t).strip() for t in _outline_titles(reader.outline)}
    _order, plan = toc_plan(paths.TOC_FILE)
    for doc, (_label, style) in plan.items():
        if style == "web":
            continue
        soup = BeautifulSoup((built_book / f"{doc}.html").read_text(encoding="utf-8"), "html.parser")
        for heading in soup.select("article h1, article h2"):
            name = heading.get_text(" ", strip=True).rstrip("#").strip()
            assert name in titles, (name, sorted(titles))


def test_page_one_has_the_masthead(pdf):
    first = flat(pdftotext(pdf, "-f", "1", "-l", "1"))
    doc_settings = settings.document()
    for piece in (
        "United Nations",
        doc_settings["parent_organ"],
        doc_settings["organ"],
        doc_settings["body"],
        "DRAFT",
        f"Distr.: {doc_settings['distribution']}",
        "Original: English",
        "Fourth meeting",
        "reproduced without formal editing",
        settings.book_config()["title"],
    ):
        assert piece in first, piece


def test_everything_in_the_data_is_in_the_text_layer(text, tables):
    # pdftotext takes the hyphen of "e-health" broken at the end of a line for a hyphenation and
    # drops it ("e-\nhealth" -> "ehealth"): compare without hyphens.
    unhyphenated = text.replace("-", "")
    for table, column in PRINTED:
        for value in tables[table][column]:
            assert flat(value).replace("-", "") in unhyphenated, (table, value)  # as printed: never lower-cased


def test_section_headings_are_in_the_text_layer(text, built_book):
    _order, plan = toc_plan(paths.TOC_FILE)
    for doc, (_label, style) in plan.items():
        if style != "web":
            soup = BeautifulSoup((built_book / f"{doc}.html").read_text(encoding="utf-8"), "html.parser")
            assert soup.select_one("article h1").get_text(" ", strip=True).rstrip("#").strip() in text


def test_paragraph_numbers_are_consecutive_and_match_the_html(pdf, built_book):
    layout = pdftotext(pdf, "-layout")
    # A paragraph number stands at the margin; a table's cells ("1." in the draft structure) are indented.
    numbers = [int(m) for m in re.findall(r"^(\d+)\.\s{2,}\S", layout, re.M)]
    html_count = sum(
        len(BeautifulSoup(p.read_text(encoding="utf-8"), "html.parser").select("span.un-para-num"))
        for p in (built_book / "notebooks").glob("*.html")
    )
    assert numbers[:html_count] == list(range(1, html_count + 1))


def _structure(node, found):
    node = node.get_object() if hasattr(node, "get_object") else node
    if isinstance(node, dict):
        if node.get("/S") == "/Figure":
            found.append(str(node.get("/Alt", "")))
        kids = node.get("/K")
        if kids is not None:
            _structure(kids, found)
    elif isinstance(node, list):
        for kid in node:
            _structure(kid, found)
    return found


def _printed_pages(built_book):
    """The book's pages that go into the PDF, in reading order, parsed."""
    order, plan = toc_plan(paths.TOC_FILE)
    return [
        BeautifulSoup((built_book / f"{doc}.html").read_text(encoding="utf-8"), "html.parser")
        for doc in order
        if plan.get(doc, ("", ""))[1] != "web"
    ]


@pytest.mark.parametrize("name", PDFS)
def test_tagged_and_every_figure_carries_the_alt_text_of_the_html(built, built_book, name):
    root = PdfReader(built / "pdf" / name).trailer["/Root"]
    assert root["/MarkInfo"]["/Marked"] == True  # noqa: E712 - a pypdf BooleanObject
    alts = _structure(root["/StructTreeRoot"], [])
    html_alts = [img["alt"] for soup in _printed_pages(built_book) for img in soup.select("figure.un-figure img")]
    assert len(html_alts) >= 5
    assert alts == html_alts  # one Figure element per figure, in order, each with its alt text


# --- the text layer reads in the order of the document --------------------------------


def _squeeze(text: str) -> str:
    """Text without any white space (line breaks, justification and kerning differ between readers)."""
    return re.sub(r"[\s\u200b]+", "", text)


def _reading_plan(built_book):
    """From the built HTML: the masthead lines, the title, then every heading (h1, h2) and
    numbered paragraph (its number and first words) of the printed pages, in the order of the
    table of contents."""
    pages = _printed_pages(built_book)
    masthead = [
        line
        for p in pages[0].select("article div.un-masthead p")
        for line in p.get_text("\n").split("\n")
        if _squeeze(line)
    ]
    items = []
    for soup in pages:
        for el in soup.select("article h1, article h2, article p.un-para"):
            if el.name == "p":
                number = el.select_one("span.un-para-num").extract().get_text(strip=True)
                items.append(" ".join([number, *el.get_text(" ", strip=True).split()[:5]]))
            else:
                items.append(el.get_text(" ", strip=True).rstrip("#").strip())
    return masthead, items[0], items[1:]


@pytest.mark.parametrize("reader_", ["pdftotext", "pypdf"])
@pytest.mark.parametrize("name", PDFS)
def test_text_layer_reads_in_document_order(built, built_book, name, reader_):
    """pdftotext orders text by its place on the page; pypdf reads the content streams as they are."""
    path = built / "pdf" / name
    text = pdftotext(path) if reader_ == "pdftotext" else "\n".join(p.extract_text() for p in PdfReader(path).pages)
    text = "\n".join(line for line in text.splitlines() if not re.search(r"\.{5,}", line))  # not the contents
    text = _squeeze(text)
    masthead, title, items = _reading_plan(built_book)
    # The report's own numbered paragraphs (the contributor's words are quotations, not numbered).
    assert len(items) >= 25 and sum(item[0].isdigit() for item in items) >= 12
    start = text.find(_squeeze(title))
    assert start > 0, title
    before = text[:start]
    for line in masthead:  # the masthead, and nothing else, comes before the title
        assert _squeeze(line) in before, line
        before = before.replace(_squeeze(line), "", 1)
    assert before == ""
    position = start + len(_squeeze(title))
    for item in items:
        found = text.find(_squeeze(item), position)
        assert found >= 0, f"{item!r} not found after the previous heading or paragraph"
        position = found + len(_squeeze(item))


def test_archival_variant_carries_the_data_package(built, tables):
    archival = PdfReader(built / "pdf" / "wgec-report-archival.pdf")
    names = set(archival.attachments)
    expected = {r["path"] for r in tables.descriptor["resources"]} | {"datapackage.json"}
    assert expected <= names
    attached = archival.attachments["focus_areas.csv"][0]
    assert attached == (paths.DATA_DIR / "focus_areas.csv").read_bytes()
    xmp = archival.trailer["/Root"]["/Metadata"].get_object().get_data().decode()
    assert "pdfaid:part" in xmp and "3" in re.search(r"pdfaid:part[^0-9]*(\d)", xmp).group(1)


def test_pages_rendered_for_a_person_to_look_at(pdf, reader, tables):
    OUTPUT.mkdir(exist_ok=True)
    chart_page = next(
        i
        for i, page in enumerate(reader.pages, 1)
        if "Number of focus areas" in (page.extract_text() or "")
        or "Focus areas of enhanced cooperation by level" in (page.extract_text() or "")
    )
    for name, number in (("pdf-page-1", 1), ("pdf-chart-page", chart_page)):
        target = OUTPUT / name
        subprocess.run(
            [
                "pdftoppm",
                "-r",
                "80",
                "-png",
                "-singlefile",
                "-f",
                str(number),
                "-l",
                str(number),
                str(pdf),
                str(target),
            ],
            check=True,
        )
        assert (OUTPUT / f"{name}.png").stat().st_size > 10_000


def test_no_table_caption_is_left_alone_at_the_foot_of_a_page(pdf, reader):
    """A breakable table's caption goes to the next page with its first rows (un.typ)."""
    for number in range(1, len(reader.pages) + 1):
        lines = [line.strip() for line in pdftotext(pdf, "-layout", "-f", str(number), "-l", str(number)).splitlines()]
        lines = [line for line in lines if line]
        assert lines and not re.match(r"Table \d+\. ", lines[-1]), f"page {number} ends with {lines[-1]!r}"


# --- names in other official languages come out as the same characters ----------------

NAMES = {
    "Arabic": "الاتحاد الدولي للاتصالات",
    "Chinese": "国际电信联盟",
    "Russian": "Международный союз электросвязи",
}


@pytest.fixture(scope="module")
def multiscript_pdf(tmp_path_factory):
    root = tmp_path_factory.mktemp("scripts")
    d = data_with_organizations(root / "data", NAMES)
    result = run_wgec("pdf", "--data", d, "--out", root / "out")
    assert result.returncode == 0, result.stderr[-3000:]
    return root / "out" / "pdf" / "wgec-report.pdf"


@pytest.mark.parametrize("language", sorted(NAMES))
def test_names_in_other_scripts_survive_in_the_text_layer(multiscript_pdf, language):
    text = unicodedata.normalize("NFC", pdftotext(multiscript_pdf))
    assert NAMES[language] in text, language
    assert "\ufffd" not in text and "□" not in text


def test_the_contents_link_to_their_pages(reader):
    contents = next(i for i, page in enumerate(reader.pages) if "Contents" in (page.extract_text() or "")[:200])
    links = [
        a.get_object() for a in reader.pages[contents].get("/Annots", []) if a.get_object().get("/Subtype") == "/Link"
    ]
    assert len(links) >= 8
    for link in links:
        assert "/Dest" in link or "/D" in link.get("/A", {}), link


def test_the_pdf_engine_reads_no_file_outside_the_build_and_nothing_from_the_network(built, tmp_path):
    """Typst (the PDF engine) reads files inside its project root only (the build's work folder),
    and the document it sets imports nothing but the template in the repository (no package, so
    nothing to download) and reads no file but the figures and, for the archival PDF, the data."""
    import typst

    from wgec.editions import typst as typeset

    inside = tmp_path / "build"
    inside.mkdir()
    (tmp_path / "outside.txt").write_text("secret")
    (inside / "ok.typ").write_text('#read("ok.typ")')
    typst.compile(inside / "ok.typ", root=inside, font_paths=typeset.fonts(), ignore_system_fonts=True)
    for path in ("../outside.txt", "/../outside.txt", "/../../../../etc/passwd"):
        (inside / "main.typ").write_text(f"#read({typeset.string(path)})")
        with pytest.raises(typst.TypstError):
            typst.compile(inside / "main.typ", root=inside, font_paths=typeset.fonts(), ignore_system_fonts=True)
    work = built / ".work"
    sources = {p.relative_to(work).as_posix(): p.read_text(encoding="utf-8") for p in work.glob("typst*.typ")}
    sources |= {f"typst/{p.name}": p.read_text(encoding="utf-8") for p in (work / "typst").glob("*.typ")}
    assert {"typst-pdf-ua-1.typ", "typst-pdf-a-3b.typ", "typst/body.typ", "typst/un.typ"} <= set(sources)
    for name, source in sources.items():
        code = re.sub(r'"(?:[^"\\]|\\.)*"', '""', source)  # outside string literals (the data are in them)
        assert re.findall(r"#(?:import|include)\b", code) == (
            ["#import", "#include"] if name.startswith("typst-") else ["#import"] if name == "typst/body.typ" else []
        )
        assert not re.search(r"@preview|\b(?:plugin|json|yaml|toml|csv|xml|cbor)\(", code), name
        reads = re.findall(r'\b(?:read|image)\("((?:[^"\\]|\\.)*)"', source)
        assert all(r.startswith(("/jupyter_execute/", "typst/attachments/")) for r in reads), (name, reads)


def test_the_pdf_says_which_data_it_was_built_from(text, tables):
    import hashlib

    for resource in tables.descriptor["resources"]:
        digest = hashlib.sha256((paths.DATA_DIR / resource["path"]).read_bytes()).hexdigest()
        assert digest[:16] in text.replace(" ", ""), resource["path"]


@pytest.mark.parametrize("name", ["wgec-report.pdf", "wgec-report-archival.pdf"])
def test_qpdf_finds_the_pdf_sound(built, name):
    result = subprocess.run(["qpdf", "--check", str(built / "pdf" / name)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "No syntax or stream encoding errors found" in result.stdout


def test_identifiers_in_the_annex_tables_are_never_broken(pdf, tables):
    """A key or code of the data (FA-CON-10, C-07, P-III-2-1, 103-104) is set on one line."""
    layout = pdftotext(pdf, "-layout")
    tokens = set(re.findall(r"\S+", layout))
    for table, column in (
        ("focus_areas", "id"),
        ("corrections", "id"),
        ("parts", "id"),
        ("statements", "id"),
        ("recommendations", "id"),
        ("mandate_paragraphs", "id"),
        ("focus_areas", "source_lines"),
        ("levels", "id"),
    ):
        for value in tables[table][column]:
            assert str(value) in tokens, (table, column, value)


def test_the_contributors_words_are_quoted_not_numbered(pdf, tables):
    """The contributor's paragraphs are set as quotations (indented, unnumbered), never as the
    report's own numbered paragraphs."""
    layout = pdftotext(pdf, "-layout")
    for text in tables.recommendations.text:
        first = " ".join(text.split()[:6])
        line = next(line for line in layout.splitlines() if first in re.sub(r"\s+", " ", line))
        assert not re.match(r"\s*\d+\.\s", line), line
