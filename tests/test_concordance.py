"""The report says what the contribution says: every passage accounted for, every quotation the
source's text after the recorded corrections, under its part, in its order; and the claims the
report makes about itself hold on the built report.

On the real build: the concordance's figures, the record checked again, and each kind of fault
put into a copy of the record (a passage dropped, a word changed, a passage moved, two swapped, a
heading changed). Through the real command line: a copy of the data with one bullet removed, and
one with a quotation changed by one word, stop the build naming the source line, and leave the
last good output as it was; the same bullet listed as not reproduced builds.
"""

import copy
import json
import re
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from conftest import append, edit, run_wgec
from test_narrative import rewrite

from wgec import data, paths, settings
from wgec.book import concordance
from wgec.book.quotations import RECORD
from wgec.book.toc import toc_plan
from wgec.report import words

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def tables():
    return data.load()


@pytest.fixture(scope="module")
def record(built):
    return json.loads((built / ".work" / "doctrees" / RECORD).read_text(encoding="utf-8"))


def pages(built_book: Path) -> dict[str, BeautifulSoup]:
    order, _ = toc_plan(paths.TOC_FILE)
    return {
        doc: BeautifulSoup((built_book / f"{doc}.html").read_text(encoding="utf-8"), "html.parser") for doc in order
    }


@pytest.fixture(scope="module")
def book(built_book):
    return pages(built_book)


@pytest.fixture(scope="module")
def body(book):
    order, plan = toc_plan(paths.TOC_FILE)
    return {doc: book[doc] for doc in order if doc == order[0] or plan[doc][1] in ("I", "A")}


def norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def lines_of(element) -> str:
    return next(c[len("wgec-l-") :] for c in element.get("class", []) if c.startswith("wgec-l-"))


# --- the concordance on the real report -------------------------------------------------------


def test_the_whole_contribution_is_quoted_or_listed_as_not_reproduced(built, record, tables):
    figures = json.loads((built / "manifest.json").read_text(encoding="utf-8"))["concordance"]
    result = concordance.check(record, tables)
    assert result.problems == []
    assert figures == result.figures()
    assert figures["characters_accounted_for"] == figures["characters"] > 7000  # 100 %
    assert figures["not_reproduced"] == len(tables.not_reproduced)
    assert figures["passages"] == figures["rendered"] + figures["not_reproduced"]
    # Every row that transcribes running text, a list item or a table cell is among the passages.
    quoted = sum(
        len(tables[t])
        for t in (
            "statements",
            "mandate_paragraphs",
            "levels",
            "focus_areas",
            "characteristics",
            "table_headings",
            "organization_roles",
            "recommendations",
        )
    )
    assert figures["rendered"] > quoted
    print(f"\nconcordance: {figures}")


def _mutated(record, change):
    changed = copy.deepcopy(record)
    change({d["docname"]: d for d in changed["documents"]})
    return changed


def _quote(docs, doc, text):
    return next(q for q in docs[doc]["quotes"] if q["text"] == text)


def test_a_passage_dropped_is_named_by_its_line(record, tables):
    def drop(docs):
        docs["notebooks/02a_scope_and_focus_areas"]["quotes"].remove(
            _quote(docs, "notebooks/02a_scope_and_focus_areas", "Affordability and universal access")
        )

    problems = concordance.check(_mutated(record, drop), tables).problems
    assert problems == [
        "contribution line 109: “Affordability and universal access” is neither quoted in the report "
        "nor listed in not_reproduced.csv (given by focus_areas.csv row 4)"
    ]


def test_a_quotation_changed_by_one_word_is_named_with_its_page_and_line(record, tables):
    def change(docs):
        _quote(docs, "notebooks/03_recommendations", tables.recommendations.text.iloc[0])["text"] = (
            tables.recommendations.text.iloc[0].replace("consider", "study")
        )

    problems = concordance.check(_mutated(record, change), tables).problems
    assert len(problems) == 1
    assert problems[0].startswith(
        "notebooks/03_recommendations.md: the quotation of contribution lines 216–219 is "
        "not the source's text after the corrections: “To invite UN GA to study"
    )


def test_a_passage_moved_to_another_part_or_out_of_order_is_refused(record, tables):
    first, second = tables.recommendations.text.iloc[0], tables.recommendations.text.iloc[1]

    def move(docs):
        quote = _quote(docs, "notebooks/03_recommendations", first)
        docs["notebooks/03_recommendations"]["quotes"].remove(quote)
        docs["notebooks/02c_characteristics"]["quotes"].append(quote)

    problems = concordance.check(_mutated(record, move), tables).problems
    assert any(
        "notebooks/02c_characteristics.md: the quotation of contribution lines 216–219" in p
        and "under part 3 “Recommendations”" in p
        for p in problems
    )

    def swap(docs):
        quotes = docs["notebooks/03_recommendations"]["quotes"]
        a = quotes.index(_quote(docs, "notebooks/03_recommendations", first))
        b = quotes.index(_quote(docs, "notebooks/03_recommendations", second))
        quotes[a], quotes[b] = quotes[b], quotes[a]

    problems = concordance.check(_mutated(record, swap), tables).problems
    assert len(problems) == 1
    assert problems[0].startswith(
        "notebooks/03_recommendations.md: the quotation of contribution lines 216–219 (“To invite UN GA to consider"
    )
    assert problems[0].endswith(
        "comes after that of lines 221–224 in notebooks/03_recommendations.md, but before it "
        "in the contribution; the report keeps the contribution's order"
    )


def test_a_heading_changed_without_a_correction_is_refused(record, tables):
    def restyle(docs):
        docs["notebooks/02a_scope_and_focus_areas"]["title"] = "Scope and focus areas of enhanced cooperation"

    problems = concordance.check(_mutated(record, restyle), tables).problems
    assert problems[0].startswith(
        "notebooks/02a_scope_and_focus_areas.md: the heading “Scope and focus areas of "
        "enhanced cooperation” is not a heading the contribution gives"
    )


def test_a_passage_quoted_only_as_from_elsewhere_is_not_accounted_for(record, tables):
    def elsewhere(docs):
        _quote(docs, "notebooks/02c_characteristics", "Equal footing")["elsewhere"] = True

    problems = concordance.check(_mutated(record, elsewhere), tables).problems
    assert problems == [
        "contribution line 156: “Equal footing” is neither quoted in the report nor listed in "
        "not_reproduced.csv (given by characteristics.csv row 2)"
    ]


# --- through the command line ----------------------------------------------------------------------


@pytest.fixture
def last_good(tmp_path):
    """An output folder holding a last good build (a marker the failed build must leave as it is)."""
    out = tmp_path / "out"
    (out / "html").mkdir(parents=True)
    (out / "html" / "index.html").write_text("last good build")
    return out


def test_a_bullet_removed_from_the_data_stops_the_build_naming_its_line(data_copy, last_good):
    rewrite(data_copy / "focus_areas.csv", lambda r: r["id"] != "FA-INF-3")
    result = run_wgec("build", "--data", data_copy, "--out", last_good)
    assert result.returncode == 1
    assert (
        "contribution line 109: “Affordability and universal access” is neither quoted in the report nor listed "
        "in not_reproduced.csv" in result.stderr
    )
    assert "Traceback" not in result.stderr
    assert (last_good / "html" / "index.html").read_text() == "last good build"
    assert not (last_good / "pdf").exists()


def test_a_quotation_changed_by_one_word_stops_the_build(data_copy, last_good):
    edit(data_copy / "characteristics.csv", "Responsive to innovation", "Responsive to invention")
    result = run_wgec("html", "--data", data_copy, "--out", last_good)
    assert result.returncode == 1
    assert (
        "notebooks/02c_characteristics.md: the quotation of contribution line 167 is not the source's text after "
        "the corrections: “Responsive to invention”; line 167 reads “Responsive to innovation”"
    ) in result.stderr
    assert (last_good / "html" / "index.html").read_text() == "last good build"


def test_a_passage_listed_as_not_reproduced_builds_and_annex_three_says_why(data_copy, tmp_path):
    rewrite(data_copy / "focus_areas.csv", lambda r: r["id"] != "FA-INF-3")
    append(
        data_copy / "not_reproduced.csv",
        id="NR-2",
        source_lines="109",
        text="Affordability and universal access",
        reason="left out for the test",
    )
    result = run_wgec("html", "--data", data_copy, "--out", tmp_path / "out")
    assert result.returncode == 0, result.stderr[-3000:]
    annex = pages(tmp_path / "out" / "html")["notebooks/annex3_source_text"]
    row = annex.select_one("#src-109").find_parent("tr")
    assert norm(row.select("td")[-1].get_text(" ")) == "not reproduced: left out for the test"
    assert "Affordability and universal access" not in pages(tmp_path / "out" / "html")[
        "notebooks/02a_scope_and_focus_areas"
    ].select_one("article").get_text(" ")


# --- what the report says about itself, checked on the built report ---------------------------------


def test_every_quotation_has_a_footnote_linking_to_its_lines_in_annex_three(body, book):
    annex = book["notebooks/annex3_source_text"]
    anchors = {el["id"] for el in annex.select("[id^=src-]")}
    spans = 0
    for doc, soup in body.items():
        refs = soup.select("a.wgec-src-ref")
        covered = set()
        for ref in refs:
            first = words.line_range(lines_of(ref)).start
            assert ref["href"].endswith(f"annex3_source_text.html#src-{first}"), (doc, ref["href"])
            assert f"src-{first}" in anchors
            covered |= set(words.line_range(lines_of(ref)))
        for span in soup.select("span.wgec-q"):
            spans += 1
            assert set(words.line_range(lines_of(span))) <= covered, (doc, span.get_text())
    assert spans > 100


def _number_before(soup, element) -> int | None:
    """The number of the numbered paragraph a quotation belongs to: the last one before it."""
    numbers = [n for n in soup.select("span.un-para-num")]
    before = [
        n
        for n in numbers
        if n.sourceline < element.sourceline
        or (n.sourceline == element.sourceline and n.sourcepos <= element.sourcepos)
    ]
    return int(before[-1].get_text().rstrip(".")) if before else None


def test_annex_three_shows_beside_each_line_where_the_report_gives_it(book, tables):
    annex = book["notebooks/annex3_source_text"]
    reasons = {
        n: r
        for row in tables.not_reproduced.itertuples()
        for n in words.line_range(row.source_lines)
        for r in [row.reason]
    }
    source = tables.source_lines()
    rows = annex.select("table#tab-source-text tbody tr")
    assert len(rows) == len(source)
    for n, (row, text) in enumerate(zip(rows, source), start=1):
        number, shown, where = row.select("td")
        assert number.select_one(f"#src-{n}") is not None
        # The line exactly, spaces included (the HTML keeps a run of spaces with no-break spaces).
        assert shown.get_text().replace("\xa0", " ") == (text if text.strip() else "")
        said = norm(where.get_text(" "))
        if n in reasons:
            assert said == f"not reproduced: {reasons[n]}"
        elif text.strip():
            links = where.select("a")
            assert links, (n, text)
            for link in links:
                page, _, anchor = link["href"].partition("#")
                target = book[f"notebooks/{page.removesuffix('.html')}"]
                element = target.find(id=anchor) if anchor else None
                if link.get_text().startswith(("chapter", "section")):  # the heading the line is
                    assert element is not None and element.name == "section" and element.find(re.compile("^h[1-6]$"))
                elif anchor:  # a paragraph: the link's number is that of the quotation's paragraph
                    assert element is not None and _number_before(target, element) == int(link.get_text())
                else:  # a heading: the page whose title the line is
                    raise AssertionError(f"line {n}: a link to a page, not to a paragraph or heading")
        else:
            assert said == ""


def test_the_headings_are_the_contributions_as_printed(body, tables):
    _, plan = toc_plan(paths.TOC_FILE)
    headings = set(tables.parts.heading) | set(tables.report_structure.title)
    for doc, soup in body.items():
        if doc in plan:
            label, _ = plan[doc]
            title = soup.select_one("article h1").get_text(" ", strip=True).rstrip("#").strip()
            assert title.startswith(label + " ") and title[len(label) + 1 :] in headings, title
    claim = norm(body["notebooks/01_introduction"].select_one("article").get_text())
    assert "carry the headings of the contribution's proposals, as printed" in claim
    for s in tables.report_structure[~tables.report_structure.id.isin(tables.parts.outline)].itertuples():
        assert f"The section on “{s.title}”, for which the proposals give no heading and no text" in claim


def test_every_quotation_is_the_source_and_every_change_is_in_annex_two(body, tables):
    corrected = concordance.Source(tables.corrected_lines())
    printed = concordance.Source(tables.source_lines())
    fixes = tables.corrections[tables.corrections.applied]
    listed = norm(body["notebooks/00_front_matter"].get_text())
    assert "Every change made to the contributor's words is listed in annex II" in listed
    for doc, soup in body.items():
        for span in soup.select("span.wgec-q"):
            spec, text = lines_of(span), norm(span.get_text())
            assert corrected.locate(spec, text) is not None, (doc, spec, text)
            if printed.locate(spec, text) is None:  # changed from the print: by a recorded correction
                on = fixes[fixes.line.isin(list(words.line_range(spec)))]
                assert any(r in text for r in on.reading), (doc, spec, text)


def test_what_annex_two_keeps_as_printed_is_printed_as_printed(body, tables):
    text = norm(" ".join(s.select_one("article").get_text(" ") for s in body.values()))
    kept = tables.corrections[~tables.corrections.applied]
    assert len(kept) >= 4
    for row in kept.itertuples():
        assert norm(row.as_printed) in text, row.as_printed


def test_uncertain_readings_carry_their_mark_in_prose_tables_figures_and_alt_text(book, tables):
    page = book["notebooks/02d_organizations"]
    prose = norm(" ".join(p.get_text() for p in page.select("article p.un-para")))
    assert "UNDP [?]" in prose  # named at more than one level: one of them is the reading
    notes = norm(" ".join(n.get_text(" ") for n in page.select("aside.footnote")))
    assert "Printed “UNDRP” (line 205) and read as “UNDP”, with high confidence" in notes
    cells = [norm(td.get_text()) for td in page.select("table#tab-organizations-by-level td")]
    assert any("UNDESA [?]" in c for c in cells) and any("UNDP [?]" in c for c in cells)
    assert any(c.startswith("ITU, UNDP") and "[?]" not in c for c in cells)  # certain at that level
    table = [norm(td.get_text()) for td in page.select("table#tab-organizations td")]
    assert "UNDESA [?]" in table and "UNDP [?]" in table
    table_notes = norm(" ".join(n.get_text(" ") for n in page.select("div.un-table-note")))
    assert "Printed “UNDECA” (line 207) and read as “UNDESA”, with medium confidence" in table_notes
    for figure in ("fig-organization-matrix", "fig-organization-network"):
        fig = page.select_one(f"figure#{figure}")
        assert "[?]" in fig.select_one("figcaption").get_text()
        alt = fig.select_one("img")["alt"]
        assert "UNDESA (uncertain reading of the printed “UNDECA”, line 207, medium confidence)" in alt
        assert "UNDP (uncertain reading of the printed “UNDRP”, line 205, high confidence)" in alt
    front = norm(book["notebooks/00_front_matter"].get_text())
    assert (
        "a reading of the printed text that is less than certain is marked [?] wherever the report prints it" in front
    )


def test_the_open_lists_keep_their_etc(book):
    scope = norm(book["notebooks/02a_scope_and_focus_areas"].select_one("article").get_text())
    assert "the list for the social-economic development level ends with “Etc.”" in scope
    assert "Etc." in book["notebooks/02a_scope_and_focus_areas"].select_one("#fig-focus-areas-by-level img")["alt"]
    summary = norm(book["notebooks/00_front_matter"].get_text())
    assert "(the list for the social-economic development level ends with “Etc.”)" in summary
    fmt = book["notebooks/02b_format"].select_one("#fig-format-path img")["alt"]
    assert "UNGA, ITU, CSTD, etc." in fmt


def test_the_masthead_is_what_the_configuration_sets(book):
    document = settings.document()
    head = norm(book["notebooks/00_front_matter"].select_one("div.un-masthead").get_text(" "))
    date = settings.un_date(settings.document_date(document))
    if document["date"]:
        assert date in head and "Draft of" not in head
    else:  # a draft with no date set says it is a draft of the build's date
        assert f"Draft of {date}" in head
    assert (f"Distr.: {document['distribution']}" in head) == bool(document["distribution"])
    assert ("DRAFT" in head) == (not document["symbol"])


# --- UN editorial style in the report's own sentences ---------------------------------------------


def _own_sentences(soup) -> str:
    """The report's own words on a page: its paragraphs, without quotations, tables and footnotes."""
    article = copy.copy(soup.select_one("article"))
    for el in article.select("blockquote, table, aside, figure, span.wgec-q, div.un-masthead, .un-web-only"):
        el.decompose()
    return norm(" ".join(p.get_text() for p in article.select("p")))


def test_the_reports_own_sentences_keep_un_editorial_style(book, tables):
    own = {doc: _own_sentences(soup) for doc, soup in book.items()}
    everything = " ".join(own.values())
    # No level, table or column that "names" something: the contribution names.
    assert not re.search(r"\b(level|table|column)s? names?\b", everything)
    # No internal code used as a word.
    codes = {
        "ocr",
        "bullet",
        "list continues",
        "social-economic-development",
        "UN entity",
        "starting form",
        "end form",
        "S2-2",
        "P-III",
        "FA-INF",
    }
    for code in codes:
        assert not re.search(rf"(?<![\w-]){re.escape(code)}(?![\w-])", everything), code
    # A list of paragraph numbers names each paragraph once.
    for listed in re.findall(r"paragraphs ([0-9][0-9 ,()a-z]*(?:and|to) [0-9]+)", everything):
        numbers = re.findall(r"\b\d+\b", listed)
        assert len(numbers) == len(set(numbers)), listed
    # Numbers in a series take the style of the highest: where a count of 10 or more stands in a
    # sentence of counts, no count is spelled out.
    spelled = (
        r"\b(two|three|four|five|six|seven|eight|nine) (focus areas?|characteristics?|organizations?|paragraphs?|"
        r"readings?|list bullets|OCR errors|punctuation marks)\b"
    )
    for doc in (
        "notebooks/00_front_matter",
        "notebooks/02a_scope_and_focus_areas",
        "notebooks/02d_organizations",
        "notebooks/annex2_corrections",
    ):
        for sentence in re.split(r"(?<=\.) ", own[doc]):
            if re.search(r"\b[1-9][0-9]+ (focus areas|organizations|readings|paragraphs|in its)", sentence):
                assert not re.search(spelled, sentence), (doc, sentence)
    assert "21 focus areas of enhanced cooperation (the list" in own["notebooks/00_front_matter"]
    assert (
        "4 at the infrastructural level, 10 at the content level and 7 at" in own["notebooks/02a_scope_and_focus_areas"]
    )
    assert re.search(
        r"applied 35 readings of damaged text \(Table \d+\): 25 list bullets, 8 OCR errors and 2 "
        "punctuation marks",
        own["notebooks/annex2_corrections"],
    )


def test_annex_one_heads_each_column_by_its_title_and_gives_the_source_lines(book, tables):
    annex = book["notebooks/annex1_data_tables"]
    claim = norm(annex.select_one("article").get_text())
    assert "the column “Source lines” gives the lines of the source text (annex III)" in claim
    for resource in tables.descriptor["resources"]:
        table = annex.select_one(f"table#tab-data-{resource['name'].replace('_', '-')}")
        headers = [norm(th.get_text()) for th in table.select("thead th")]
        assert headers == [f.get("title", f["name"]) for f in resource["schema"]["fields"]]
        has_lines = any(f["name"] == "source_lines" for f in resource["schema"]["fields"])
        assert ("Source lines" in headers) == has_lines, resource["name"]
