"""Every link of the built report resolves (HTML pages and PDFs), checked offline; external
links are listed, never fetched; a broken link fails the build and keeps the last good output."""

import json
import re
import shutil
import socket
import subprocess
import sys

import pytest
from conftest import run_wgec
from pypdf import PdfReader, PdfWriter
from pypdf.generic import ArrayObject, DictionaryObject, FloatObject, NameObject, TextStringObject
from test_pipeline import hashes

from wgec.pipeline import links
from wgec.pipeline.links import Broken

pytestmark = pytest.mark.slow

INTRO = "html/notebooks/01_introduction.html"
ORGANIZATIONS = "html/notebooks/02d_organizations.html"
PROVENANCE = "html/notebooks/annex4_provenance.html"
PDF = "pdf/wgec-report.pdf"


def edit(path, old, new):
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def add_pdf_links(path, page_number, *annotations):
    """Add link annotations (dictionaries made by ``make``) to a page of a PDF, in place."""
    writer = PdfWriter(clone_from=PdfReader(path))
    page = writer.pages[page_number - 1]
    for make in annotations:
        annotation = DictionaryObject(
            {
                NameObject("/Type"): NameObject("/Annot"),
                NameObject("/Subtype"): NameObject("/Link"),
                NameObject("/Rect"): ArrayObject([FloatObject(v) for v in (50, 50, 100, 60)]),
            }
        )
        annotation.update(make(writer))
        writer.add_annotation(page, annotation)
    writer.write(path)


@pytest.fixture
def copy(built, tmp_path):
    """The built HTML and PDFs, in a folder the test may break."""
    for part in ("html", "pdf"):
        shutil.copytree(built / part, tmp_path / part)
    return tmp_path


def test_the_built_report_has_no_broken_link(built):
    result = links.check(built)
    assert result.broken == []
    assert result.checked["html"] >= 500  # navigation, cross-references, figures, scripts, stylesheets
    assert result.checked["pdf"] >= 2 * 15  # at least the entries of the contents, in both PDFs
    assert result.unchecked == {}


def test_every_kind_of_broken_link_is_reported_with_its_page_and_target(copy):
    intro = (copy / INTRO).read_text(encoding="utf-8")
    image = re.search(r'src="(\.\./_images/[^"]+\.svg)"', intro).group(1)
    (copy / "html/notebooks" / image).unlink()  # a figure's file is missing
    edit(copy / INTRO, 'href="#fig-meetings-timeline"', 'href="#no-such-anchor"')  # an anchor of no element
    edit(copy / ORGANIZATIONS, ' id="fig-organization-matrix"', "")  # an element whose id is gone
    edit(copy / PROVENANCE, 'href="02b_format.html"', 'href="02b_missing.html"')  # a page that is not there
    edit(copy / PROVENANCE, 'href="02c_characteristics.html"', 'href="02c_characteristics.html#nowhere"')
    edit(copy / PROVENANCE, 'href="02_background.html"', 'href="02_background.html#background"')  # fine
    add_pdf_links(
        copy / PDF,
        3,
        lambda w: {NameObject("/Dest"): TextStringObject("no-such-destination")},
        lambda w: {
            NameObject("/A"): DictionaryObject(
                {
                    NameObject("/S"): NameObject("/GoTo"),
                    NameObject("/D"): ArrayObject([w.root_object.raw_get("/Pages"), NameObject("/Fit")]),
                }
            )
        },
    )  # the page tree

    result = links.check(copy)
    pages_ref = PdfReader(copy / PDF).trailer["/Root"].raw_get("/Pages")
    assert set(result.broken) == {
        Broken(INTRO, image, f"no file html/{image.removeprefix('../')}"),
        Broken(INTRO, "#no-such-anchor", f"no id 'no-such-anchor' in {INTRO}"),
        Broken(ORGANIZATIONS, "#fig-organization-matrix", f"no id 'fig-organization-matrix' in {ORGANIZATIONS}"),
        Broken(PROVENANCE, "02b_missing.html", "no file html/notebooks/02b_missing.html"),
        Broken(
            PROVENANCE, "02c_characteristics.html#nowhere", "no id 'nowhere' in html/notebooks/02c_characteristics.html"
        ),
        Broken(f"{PDF}, page 3", "no-such-destination", "no such named destination"),
        Broken(
            f"{PDF}, page 3",
            f"[{pages_ref.idnum} {pages_ref.generation} R /Fit]",
            "the destination is not a page of the file",
        ),
    }
    assert len(result.broken) == 7  # each once, though the figure is referred to twice on its page

    cli = run_wgec("links", "--out", copy)
    assert cli.returncode == 1 and "Traceback" not in cli.stderr
    for broken in result.broken:
        assert f"{broken.source}: {broken.target} ({broken.reason})" in cli.stderr
    assert "7 broken links" in cli.stderr
    assert re.search(r"\d+ internal links and anchors checked", cli.stdout)


def test_the_memo_of_parsed_pages_never_hides_a_change(copy, tmp_path):
    """The build keeps each page's ids and links by the digest of its bytes (OUT/.cache/links.json),
    so an unchanged page is not parsed again: a page changed since, a target page that lost an
    id, and a memo that is damaged are all read afresh, and every result is the memo-free one."""
    memo = tmp_path / "cache" / "links.json"
    plain = links.check(copy, pdf=False)
    assert links.check(copy, pdf=False, memo=memo) == plain and plain.broken == []
    assert memo.is_file() and len(json.loads(memo.read_text(encoding="utf-8"))) >= 12  # every page of the book
    assert links.check(copy, pdf=False, memo=memo) == plain  # from the memo

    edit(copy / INTRO, 'href="#fig-meetings-timeline"', 'href="#no-such-anchor"')  # the page that links
    edit(copy / ORGANIZATIONS, ' id="fig-organization-matrix"', "")  # the page linked to
    expected = {
        Broken(INTRO, "#no-such-anchor", f"no id 'no-such-anchor' in {INTRO}"),
        Broken(ORGANIZATIONS, "#fig-organization-matrix", f"no id 'fig-organization-matrix' in {ORGANIZATIONS}"),
    }
    remembered = links.check(copy, pdf=False, memo=memo)
    assert set(remembered.broken) == expected
    assert remembered == links.check(copy, pdf=False)

    for damaged in ("{not json", "[]", json.dumps({"x": {"ids": 1, "links": None}})):
        memo.write_text(damaged, encoding="utf-8")
        assert links.check(copy, pdf=False, memo=memo) == remembered


def test_the_command_counts_the_links_and_writes_the_external_report(copy):
    result = run_wgec("links", "--out", copy)
    assert result.returncode == 0, result.stderr
    count = int(re.search(r"(\d+) internal links and anchors checked", result.stdout).group(1))
    assert count == links.check(copy).internal > 0
    report = copy / links.EXTERNAL_REPORT
    assert str(report) in result.stdout
    assert json.loads(report.read_text(encoding="utf-8")) == []  # the report links to nothing outside


def test_external_links_are_listed_with_their_pages_and_never_fetched(copy, monkeypatch):
    edit(
        copy / INTRO,
        "<article",
        '<a href="https://example.org/wsis?x=1">WSIS</a><a href="mailto:someone@example.org">mail</a><article',
    )
    edit(copy / PROVENANCE, "<article", '<a href="https://example.org/wsis?x=1">WSIS</a><article')
    add_pdf_links(
        copy / PDF,
        2,
        lambda w: {
            NameObject("/A"): DictionaryObject(
                {NameObject("/S"): NameObject("/URI"), NameObject("/URI"): TextStringObject("https://example.org/pdf")}
            )
        },
    )

    def no_network(*args, **kwargs):
        raise AssertionError("the link checker opened a network connection")

    for name in ("socket", "create_connection", "getaddrinfo"):
        monkeypatch.setattr(socket, name, no_network)
    result = links.check(copy)
    assert result.broken == []
    assert result.external == {
        "https://example.org/wsis?x=1": [INTRO, PROVENANCE],
        "mailto:someone@example.org": [INTRO],
        "https://example.org/pdf": [f"{PDF}, page 2"],
    }
    written = json.loads(result.write_external(copy / links.EXTERNAL_REPORT).read_text(encoding="utf-8"))
    assert {"url": "https://example.org/wsis?x=1", "used_in": [INTRO, PROVENANCE]} in written


def test_the_checker_loads_no_network_code(copy):
    code = (
        "import sys; from wgec.pipeline import links; links.check(sys.argv[1]); "
        "print(sorted(m for m in ('socket', 'ssl', 'http.client', 'urllib.request', 'requests', 'httpx') "
        "if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code, str(copy)], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_links_into_a_part_not_built_are_counted_not_broken(copy, built):
    shutil.rmtree(copy / "pdf")
    footers = links.check(copy).unchecked["pdf"]  # every page's footer links both PDFs
    assert footers >= 2 * 13
    edit(copy / INTRO, "<article", f'<a href="../../{PDF}">PDF</a><a href="../../pdf/missing.pdf">x</a><article')
    alone = links.check(copy)
    assert alone.broken == [] and alone.unchecked == {"pdf": footers + 2}
    with_previous = links.check(copy, elsewhere=built)  # as the build checks its staging folder
    assert with_previous.unchecked == {}
    assert with_previous.broken == [Broken(INTRO, "../../pdf/missing.pdf", "no file pdf/missing.pdf")]


# --- the gate in the build ---------------------------------------------------------------

BREAK_THE_STAGED_HTML = """
import os, sys
from pathlib import Path
from wgec import cli
from wgec.pipeline import build

copy = build.copy_tree

def copy_tree(src, dst, *args, **kwargs):  # Sphinx's output, copied into the staging folder, gets a broken link
    result = copy(src, dst, *args, **kwargs)
    if Path(dst).name == "html" and Path(dst).parent.name.startswith(".staging-"):
        page = Path(dst) / "notebooks" / "01_introduction.html"
        broken = page.read_text().replace('href="#fig-meetings-timeline"', 'href="#no-such-anchor"')
        page.with_name("broken.tmp").write_text(broken)
        os.replace(page.with_name("broken.tmp"), page)  # a staged file may be the served one: replaced
    return result

build.copy_tree = copy_tree
sys.exit(cli.main(sys.argv[1:]))
"""


def test_a_broken_link_fails_the_build_and_keeps_the_last_good_output(built, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(built, out)
    (out / "html" / "search.html").write_text("edited", encoding="utf-8")  # so the HTML is stale
    before = hashes(out)
    result = subprocess.run(
        [sys.executable, "-c", BREAK_THE_STAGED_HTML, "html", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert result.returncode == 1, result.stdout[-2000:] + result.stderr[-2000:]
    assert f"{INTRO}: #no-such-anchor (no id 'no-such-anchor' in {INTRO})" in result.stderr
    assert "previous output is unchanged" in result.stderr and "Traceback" not in result.stderr
    assert hashes(out) == before
    assert not list(out.glob(".staging-*"))
