"""The LaTeX edition (`wgec pdf --engine latex`), read as a reviewer would: poppler-utils and pypdf.

Built once from the report the `built` fixture made (same output folder, same execution cache),
then checked like the main PDF: A4, fonts embedded, masthead, title, headings, paragraph
numbers and the data in the text layer; data strings stay literal; a LaTeX failure says
where the log is and leaves the previous PDF as it was. Needs TeX Live (`make deps-latex`).
"""

import csv
import hashlib
import os
import re
import shutil
import subprocess
import unicodedata

import pytest
from bs4 import BeautifulSoup
from conftest import PRINTED, data_with_organizations, edit, edit_quote, run_wgec
from pypdf import PdfReader
from test_pdf import NAMES, flat, pdftotext

from wgec import data, paths, settings
from wgec.book.toc import toc_plan
from wgec.editions import latex

pytestmark = pytest.mark.slow

NAME = "wgec-report-latex.pdf"
HOSTILE = r"\input{/etc/passwd} 100% & $x$ #1 ~a ^b _c {d} \\ \end{document}"


def sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def latex_run(built, tmp_path_factory):
    """The LaTeX edition added to a copy of the session's build (its outputs and execution cache;
    the session's own folder stays as other tests expect it); the Typst PDFs stay as they were."""
    built_copy = tmp_path_factory.mktemp("latex") / "out"
    shutil.copytree(built, built_copy, ignore=shutil.ignore_patterns(".lock"))
    built = built_copy
    main = {p.name: sha(p) for p in (built / "pdf").glob("*.pdf")}
    result = run_wgec("pdf", "--engine", "latex", "--out", built)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return built, result, main


@pytest.fixture(scope="module")
def pdf(latex_run):
    return latex_run[0] / "pdf" / NAME


@pytest.fixture(scope="module")
def reader(pdf):
    return PdfReader(pdf)


@pytest.fixture(scope="module")
def text(pdf):
    return flat(pdftotext(pdf))


def _pages(built_book):
    """(document, soup) for every page of the book that is printed (not the web-only ones)."""
    _order, plan = toc_plan(paths.TOC_FILE)
    for doc, (_label, style) in plan.items():
        yield doc, style, BeautifulSoup((built_book / f"{doc}.html").read_text(encoding="utf-8"), "html.parser")


def test_reuses_the_executed_notebooks_and_leaves_the_main_pdfs_alone(latex_run):
    built, result, main = latex_run
    assert "notebooks executed: none" in result.stdout
    assert main and {p.name: sha(p) for p in (built / "pdf").glob("*.pdf") if p.name != NAME} == main
    assert (built / "pdf" / NAME).is_file()


def test_every_page_is_a4(reader):
    for page in reader.pages:
        assert abs(float(page.mediabox.width) - 595.28) < 1 and abs(float(page.mediabox.height) - 841.89) < 1


def test_every_font_is_embedded(pdf):
    rows = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout.splitlines()[2:]
    assert rows
    for row in rows:
        assert row.split()[-5] == "yes", row  # columns from the right: emb sub uni object generation


def test_the_title_is_in_the_metadata(reader):
    assert reader.metadata.title == settings.book_config()["title"]


def test_page_count_is_that_of_the_report(reader, latex_run):
    main = len(PdfReader(latex_run[0] / "pdf" / "wgec-report.pdf").pages)
    assert main / 2 <= len(reader.pages) <= main * 2, (len(reader.pages), main)


def test_page_one_has_the_masthead_and_the_title(pdf):
    first = flat(pdftotext(pdf, "-f", "1", "-l", "1"))
    doc_settings = settings.document()
    meetings = data.load().wgec_meetings
    meeting = meetings[meetings.number == doc_settings["meeting"]].iloc[0]
    for piece in (
        "United Nations",
        doc_settings["parent_organ"],
        doc_settings["organ"],
        doc_settings["body"],
        doc_settings["symbol"] or "DRAFT",
        f"Distr.: {doc_settings['distribution']}",
        f"Original: {doc_settings['original']}",
        settings.un_date(settings.document_date(doc_settings)),
        f" meeting, {meeting.place}, ",
        "reproduced without formal editing",
        settings.book_config()["title"],
    ):
        assert piece in first, piece


def test_every_heading_is_in_the_text_layer_and_web_only_pages_are_not(text, built_book):
    for doc, style, soup in _pages(built_book):
        headings = [h.get_text(" ", strip=True).rstrip("#").strip() for h in soup.select("article h1, article h2")]
        assert headings, doc
        for heading in headings:
            assert (heading in text) == (style != "web"), (doc, heading)


def test_paragraph_numbers_are_consecutive_and_match_the_html(pdf, built_book):
    raw = pdftotext(pdf, "-raw")  # in content order: each number starts its paragraph's first line
    # Lines the contribution itself numbers are quotations, not the report's paragraphs: its draft
    # structure ("1. Introduction"), its headings, the paragraphs it quotes ("64. We acknowledge").
    tables = data.load()
    quoted = [f"{r.number} {r.title}" for r in tables.report_structure.itertuples()]
    quoted += [f"{r.number} {r.heading}" for r in tables.parts.itertuples()]
    quoted += [
        f"{r.label} {r.text[:20]}"
        for r in tables.mandate_paragraphs.itertuples()
        if isinstance(r.label, str) and r.label
    ]
    lines = raw.splitlines()
    # A number that starts a line after "Table" or "Figure" is a cross-reference broken across lines.
    starts = [
        line
        for before, line in zip(["", *lines], lines)
        if not any(flat(line).startswith(q) for q in quoted) and not before.rstrip().endswith(("Table", "Figure"))
    ]
    numbers = [int(m) for m in re.findall(r"^(\d+)\. \S", "\n".join(starts), re.M)]
    html_count = sum(
        len(BeautifulSoup(p.read_text(encoding="utf-8"), "html.parser").select("span.un-para-num"))
        for p in (built_book / "notebooks").glob("*.html")
    )
    assert html_count > 12  # the report's own paragraphs: the contributor's words are quotations
    assert numbers == list(range(1, html_count + 1))


def test_the_data_is_in_the_text_layer(text):
    tables = data.load()
    # LaTeX breaks lines after the hyphen of "e-health", and pdftotext then drops that hyphen
    # ("e-\nhealth" -> "ehealth"): compare without hyphens.
    unhyphenated = text.replace("-", "")
    for table, column in PRINTED:
        for value in tables[table][column]:
            value = flat(value).replace("-", "")
            assert value in unhyphenated or (value[:1].lower() + value[1:]) in unhyphenated, (table, value)


def test_every_figure_and_its_chart_are_there(text, built_book):
    captions = []
    for page in (built_book / "notebooks").glob("*.html"):
        soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
        captions += [c.get_text(" ", strip=True) for c in soup.select("figure.un-figure figcaption")]
    assert len(captions) >= 5
    for caption in captions:
        caption = re.sub(r"^Figure \d+\s*", "", caption).rstrip("#").strip()
        assert caption in text, caption
    # The charts are vector drawings with real text (PDF from matplotlib), not missing images.
    assert "Number of focus areas" in text
    assert len(re.findall(r"Figure \d+: ", text)) == len(captions)


def test_the_symbol_in_the_running_head_is_escaped():
    class Config:
        wgec_document = {"symbol": HOSTILE}  # noqa: RUF012 - a stand-in for Sphinx's config, read once

        html_title = HOSTILE

    cfg = Config()
    latex.configure(None, cfg)
    preamble = cfg.latex_elements["preamble"]
    assert r"\input{/etc/passwd}" not in preamble
    assert preamble.count(r"\textbackslash{}input\{/etc/passwd\}") == 3  # head, title, subject


def test_text_in_other_scripts_stays_literal_inside_its_font_commands():
    tex = latex.tex("الاتحاد \\endR} \\input{x} 国际 $x$")
    assert tex.startswith("{\\wgecArabic\\beginR الاتحاد\\endR}")  # the run ends before the backslash
    assert "\\textbackslash{}endR\\}" in tex and "\\textbackslash{}input\\{x\\}" in tex
    assert "{\\wgecCJK 国际}" in tex and "\\$x\\$" in tex


def test_missing_characters_are_read_from_the_log(tmp_path):
    log = tmp_path / "x.log"
    log.write_text(
        "Missing character: There is no \u2423 (U+2423) in font Liberation Mono/OT:language=dflt;!\n"
        "Missing character: There is no \u76f4 (U+76F4) in font [lmroman10-regular]:mapping=tex-text;!\n"
        "Missing character: There is no \u2423 (U+2423) in font Liberation Serif/OT:language=dflt;!\n",
        encoding="utf-8",
    )
    assert latex.missing_characters(log) == {
        "\u2423": {"Liberation Mono", "Liberation Serif"},
        "\u76f4": {"lmroman10-regular"},
    }


def test_a_latex_error_names_the_log_and_its_first_error(tmp_path):
    (tmp_path / "broken.tex").write_text(
        "\\documentclass{article}\n\\begin{document}\n\\undefinedcommand\n\\end{document}\n"
    )
    with pytest.raises(latex.LatexError) as error:
        latex.typeset(tmp_path, tmp_path / "out" / NAME)
    message = str(error.value)
    assert str(tmp_path / "broken.log") in message
    assert "Undefined control sequence" in message
    assert not (tmp_path / "out" / NAME).exists()


# --- data strings are text, never LaTeX; a failure leaves the last PDF ----------------------


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    root = tmp_path_factory.mktemp("latex-hostile")
    shutil.copytree(paths.DATA_DIR, root / "data")
    tables = data.load(root / "data")
    org = tables.organizations.iloc[0]["name"]
    edit_quote(root / "data", "focus_areas.csv", 109, "Affordability and universal access", HOSTILE)
    edit(root / "data" / "organizations.csv", org, HOSTILE.replace("{d}", "{e}"))
    result = run_wgec("pdf", "--engine", "latex", "--data", root / "data", "--out", root / "out")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return root


def test_hostile_data_strings_stay_literal(hostile):
    text = flat(pdftotext(hostile / "out" / "pdf" / NAME))
    assert HOSTILE in text
    assert HOSTILE.replace("{d}", "{e}") in text
    assert "root:x:0:0" not in text


def test_a_failing_xelatex_leaves_the_previous_pdf_and_says_where_the_log_is(hostile, tmp_path):
    before = sha(hostile / "out" / "pdf" / NAME)
    edit_quote(hostile / "data", "focus_areas.csv", 109, HOSTILE, HOSTILE + " again")  # stale: the build runs
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "latexmk").write_text(
        '#!/bin/sh\nfor a in "$@"; do name=$(basename "$a" .tex); done\n'
        "printf 'This is XeTeX\\n./%s.tex:12: Fake error for the test.\\nl.12 x\\n' "
        '"$name" > "$name.log"\nexit 12\n'
    )
    (fake / "latexmk").chmod(0o755)
    env = {**os.environ, "PATH": f"{fake}{os.pathsep}{os.environ['PATH']}"}
    from conftest import WGEC

    result = subprocess.run(
        [WGEC, "pdf", "--engine", "latex", "--data", hostile / "data", "--out", hostile / "out"],
        capture_output=True,
        text=True,
        env=env,
        timeout=1800,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert ".tex:12: Fake error for the test" in result.stderr
    log = re.search(r"the LaTeX log is (\S+\.log)", result.stderr)
    assert log and os.path.isfile(log.group(1)), result.stderr
    assert sha(hostile / "out" / "pdf" / NAME) == before


# --- other scripts: typeset in their Noto fonts, or the build stops ---------------------------

SCRIPT_NAMES = {
    **NAMES,
    "Hebrew": "איגוד התקשורת הבינלאומי",
    "Hindi": "अंतर्राष्ट्रीय दूरसंचार संघ",
    "Korean": "국제전기통신연합",
}
# VITHKUQI CAPITAL LETTER A (Unicode 14): no font Debian 12 ships has it, not even Noto (checked
# below); an emoji would not do, since the PDF's emoji font (fonts-noto-color-emoji) has them.
NO_GLYPH = "\U00010570"


def in_text_layer(name: str, text: str) -> bool:
    """Right-to-left words: pdftotext gives the words of a run in reading order but the letters
    of each in the order they are drawn (right to left); other scripts as they are."""
    if any(unicodedata.bidirectional(ch) in ("R", "AL") for ch in name):
        return " ".join(word[::-1] for word in name.split()) in text or name in text
    return name in text


@pytest.fixture(scope="module")
def scripts(tmp_path_factory):
    """A data copy with organizations named in other scripts, built as the LaTeX edition."""
    root = tmp_path_factory.mktemp("latex-scripts")
    d = data_with_organizations(root / "data", SCRIPT_NAMES)
    result = run_wgec("pdf", "--engine", "latex", "--data", d, "--out", root / "out")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return root


@pytest.mark.parametrize("language", sorted(SCRIPT_NAMES))
def test_names_in_other_scripts_are_in_the_text_layer(scripts, language):
    text = flat(unicodedata.normalize("NFC", pdftotext(scripts / "out" / "pdf" / NAME)))
    assert in_text_layer(SCRIPT_NAMES[language], text), language
    assert "\ufffd" not in text


def test_other_scripts_are_typeset_in_their_noto_fonts(scripts):
    fonts = subprocess.run(
        ["pdffonts", str(scripts / "out" / "pdf" / NAME)], capture_output=True, text=True, check=True
    ).stdout
    for font in ("NotoNaskhArabic", "NotoSerifHebrew", "NotoSerifDevanagari", "NotoSerifCJK"):
        assert font in fonts, font


def test_a_character_no_font_has_stops_the_build_and_keeps_the_last_pdf(scripts):
    assert (
        subprocess.run(
            ["fc-list", f":charset={ord(NO_GLYPH):x}", "family"], capture_output=True, text=True, check=True
        ).stdout.strip()
        == ""
    )
    pdf = scripts / "out" / "pdf" / NAME
    before = sha(pdf)
    edit(scripts / "data" / "organizations.csv", SCRIPT_NAMES["Russian"], SCRIPT_NAMES["Russian"] + " " + NO_GLYPH)
    result = run_wgec("pdf", "--engine", "latex", "--data", scripts / "data", "--out", scripts / "out")
    assert result.returncode == 1, result.stdout[-3000:] + result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    assert f"U+{ord(NO_GLYPH):04X} '{NO_GLYPH}'" in result.stderr
    assert "Liberation Serif" in result.stderr  # the font it was looked for in
    with open(scripts / "data" / "organizations.csv", encoding="utf-8", newline="") as handle:
        records = list(csv.reader(handle))
    row = next(i for i, record in enumerate(records, start=1) if NO_GLYPH in ",".join(record))
    assert f"organizations.csv, row {row}, column 'name'" in result.stderr, result.stderr
    assert re.search(r"the LaTeX log is \S+\.log", result.stderr)
    assert sha(pdf) == before
