"""The pieces of the report's sentences, on small variations of the data: UN style (numbers in a
series, paragraph references, lists), templates, quotations that carry their source lines,
uncertain readings marked, facts from the tables, the masthead, the source text shown exactly."""

import csv
import io
import re

import pytest
from conftest import append, edit
from markdown_it import MarkdownIt

from wgec import data, settings
from wgec.report import narrative, page, quotes, words
from wgec.report.page import md


def rewrite(path, keep):
    """Keep only the rows of a CSV for which keep(row) is true."""
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(r for r in rows if keep(r))
    path.write_text(out.getvalue(), encoding="utf-8")


@pytest.mark.parametrize(
    "items, expected",
    [
        ([], ""),
        (["ITU"], "ITU"),
        (["ITU", "UNDP"], "ITU and UNDP"),
        (["ITU", "UNDP", "UNESCO"], "ITU, UNDP and UNESCO"),
    ],
)
def test_join(items, expected):
    assert words.join(items) == expected


@pytest.mark.parametrize(
    "n, expected",
    [
        (0, "no levels"),
        (1, "one level"),
        (3, "three levels"),
        (9, "nine levels"),
        (10, "10 levels"),
        (1234, "1,234 levels"),
    ],
)
def test_count(n, expected):
    assert words.count(n, "level") == expected


def test_irregular_plural_and_ordinals():
    assert words.count(1, "entity", "entities") == "one entity"
    assert words.count(2, "entity", "entities") == "two entities"
    assert [words.ordinal(n) for n in (1, 4, 11, 12, 22, 103)] == ["first", "fourth", "11th", "12th", "22nd", "103rd"]


def test_date_ranges():
    from datetime import date

    assert words.date_range(date(2017, 9, 25), date(2017, 9, 27)) == "25–27 September 2017"
    assert words.date_range(date(2018, 1, 29), date(2018, 2, 1)) == "29 January–1 February 2018"
    assert words.date_range(date(2016, 9, 30), date(2016, 9, 30)) == "30 September 2016"
    assert words.date_range(date(2016, 12, 30), date(2017, 1, 2)) == "30 December 2016–2 January 2017"


HOSTILE = [
    "<b>x</b>",
    "{raw}`<script>alert(1)</script>`",
    "*not emphasis* _nor this_",
    "[link](javascript:alert(1))",
    "$x^2$",
    "\\textbf{x} & 100% #1 ~ ^",
    "=SUM(A1:A2)",
    "# not a heading",
    "1. not a list",
    "a\\b",
    "&amp; &lt;",
    "```",
    ":::{note}",
    "{{ title }}",
    "| a | b |",
    "<!-- c -->",
    "الاتحاد الدولي للاتصالات",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_md_makes_any_string_literal(text):
    html = MarkdownIt("commonmark").render(md(text)).strip()
    from html import escape

    assert html == f"<p>{escape(text, quote=False).replace(chr(34), '&quot;')}</p>"


@pytest.fixture
def tables():
    return data.load()


# --- UN style in the framing sentences ---------------------------------------------------


def test_numbers_in_a_series_take_the_style_of_the_highest():
    # UN Editorial Manual, "Numbers occurring together or in a series": "4, 10 and 7", not "four, 10 and seven".
    assert words.series([(4, "area"), (10, "area"), (7, "area")]) == "4 areas, 10 areas and 7 areas"
    assert words.series([(4, "area"), (2, "level"), (7, "form")]) == "four areas, two levels and seven forms"
    assert words.in_series([3, 9]) is False and words.in_series([3, 12]) is True
    assert words.count(3, "level", figures=True) == "3 levels"


@pytest.mark.parametrize(
    "given, expected",
    [
        (["69", "35", "35 (a)", "35 (d)", "58", "70", "71"], "35, 58 and 69 to 71"),
        (["64", "65"], "64 and 65"),
        (["65", "64", "64"], "64 and 65"),
        (["7"], "7"),
        (["1", "2", "3", "5", "8", "9", "10", "12"], "1 to 3, 5, 8 to 10 and 12"),
    ],
)
def test_paragraph_references_name_each_paragraph_once_in_order(given, expected):
    assert words.paragraphs(given) == expected


def test_a_sentence_template_keeps_myst_and_escapes_the_values():
    text = words.fill(
        "{n} at {level} ({numref}`fig-x`) :::{container} x\n`{digest}`",
        escape=md,
        n="4",
        level="<b>x</b>",
        digest="ab12",
    )
    assert text == "4 at " + md("<b>x</b>") + " ({numref}`fig-x`) :::{container} x\n`ab12`"
    with pytest.raises(KeyError, match=r"no value for \{areas\}"):
        words.fill("The contribution lists {areas}.")


def test_page_say_writes_the_template_and_escapes_only_the_data(monkeypatch):
    shown = []
    monkeypatch.setattr(page, "display", lambda obj, raw=False: shown.append(obj["text/markdown"]))
    page.say(
        "The contribution lists {areas} ({numref}`tab-x`){note}",
        areas="*4* <b>areas</b>",
        note=page.footnote("A note.", key="t"),
    )
    html = MarkdownIt("commonmark").render(shown[0].split("\n\n")[0])
    assert "*4* &lt;b&gt;areas&lt;/b&gt;" in html and "<em>" not in html and "<b>" not in html
    assert "{numref}`tab-x`" in shown[0]
    # The footnote's definition goes with the block that references it, and only with that one.
    ref = shown[0].split("[^")[1].split("]")[0]
    assert f"[^{ref}]: A note." in shown[0]
    page.show("Next block.")
    assert shown[1] == "Next block."


def test_numbers_per_level_in_one_style(tables):
    counts = narrative.focus_area_counts(tables)
    figures = words.in_series([*counts.areas, counts.areas.sum()])
    phrase = narrative.per_level(tables, figures)
    assert phrase == (
        "4 at the infrastructural level, 10 at the content level and 7 at the social\\-economic development level"
    )


def test_an_empty_level_and_a_level_of_one(data_copy):
    rewrite(
        data_copy / "focus_areas.csv",
        lambda r: r["level"] != "infrastructural" and not (r["level"] == "content" and r["position"] != "1"),
    )
    tables = data.load(data_copy)
    phrase = narrative.per_level(tables, False)
    assert phrase.startswith("none at the infrastructural level, one at the content level")
    _, rows, _ = narrative.focus_area_table(tables)
    assert rows[0][1] is None  # an empty cell: the table says "—"


# --- quotations ------------------------------------------------------------------------


def test_a_block_quote_carries_each_passage_with_its_lines_and_a_footnote(monkeypatch):
    block = quotes.block(
        [
            quotes.Passage("Introduction", "4", "heading", "I"),
            quotes.Passage("The fourth meeting", "6-9"),
            quotes.Passage("Equal footing", "156", "item"),
            quotes.Passage("Inclusive", "159", "item"),
            quotes.Passage("Policy authority", "53-55", label="a)"),
        ]
    )
    lines = block.split("\n")
    assert all(line.startswith(">") for line in lines)
    assert "**[I]{.wgec-q .wgec-l-4} [Introduction]{.wgec-q .wgec-l-4}**" in block
    assert "[a\\)]{.wgec-q .wgec-l-53} [Policy authority]{.wgec-q .wgec-l-53-55}[^" in block
    # A footnote closes each paragraph (covering the heading over it) and each list, not each item.
    assert len(re.findall(r"\[\^src-[0-9-]+\]", block)) == 3
    assert re.search(r"- \[Equal footing\]\{[^}]*\}\n", block)
    shown = []
    monkeypatch.setattr(page, "display", lambda obj, raw=False: shown.append(obj["text/markdown"]))
    page.show(block)
    assert "[lines 4–9]{.wgec-src-ref .wgec-l-4-9} (annex III)." in shown[0]
    assert "[lines 156–159]{.wgec-src-ref .wgec-l-156-159}" in shown[0]


def test_a_quotation_of_hostile_text_is_literal():
    from mdit_py_plugins.attrs import attrs_plugin

    bad = "<b>x</b> {raw}`html` *y* [z](http://evil.example) ]{.evil}"
    html = MarkdownIt("commonmark").use(attrs_plugin, spans=True).render(quotes.cell(quotes.Passage(bad, "103")))
    assert '<span class="wgec-q wgec-l-103">' in html
    assert "&lt;b&gt;x&lt;/b&gt; {raw}`html` *y* [z](http://evil.example) ]{.evil}" in html
    assert "<b>" not in html and "<em>" not in html and "<a " not in html and 'evil"' not in html


def test_a_passage_needs_its_lines():
    with pytest.raises(ValueError, match="source lines"):
        quotes.Passage("text", "line 4")


def test_what_the_report_quotes_for_a_part_is_its_text_in_order(tables):
    background = narrative.text_of(tables, "P-III-2", with_heading=False)
    starts = [words.line_range(p.lines).start for p in background]
    assert starts == sorted(starts) and starts[0] == 36 and starts[-1] == 85
    labels = {p.label for p in background} - {""}
    assert labels == {"a)", "d)", "64.", "65."}
    assert narrative.text_of(tables, "P-I")[0] == quotes.Passage("Introduction", "4", "heading", "I")


def test_a_section_with_no_text_is_known_and_its_subject_found_elsewhere(tables):
    missing = narrative.sections_without_text(tables)
    assert list(missing.id) == ["S2-2"]
    found = narrative.passages_on(tables, "format_options", "hosting_options")
    assert [p.lines for p in found] == ["237-242", "266-269"]


def test_the_contributions_tables_are_reproduced_with_their_own_headings(tables):
    header, rows, lines = narrative.organization_table(tables)
    assert [re.sub(r"[\[\]]|\{[^}]*\}", "", h) for h in header] == [
        "International public policy issues",
        "UN agencies",
        "Forums",
    ]
    assert lines == "183-212" and len(rows) == len(tables.levels)
    assert narrative.columns(tables) == ["UN agencies", "Forums"]
    header, rows, lines = narrative.focus_area_table(tables)
    assert lines == "96-152" and "Etc" in rows[-1][1]


# --- uncertain readings travel ------------------------------------------------------------


def test_uncertain_readings_are_marked_where_they_are_printed(tables, monkeypatch):
    readings = {r.reading: r for r in narrative.uncertain_readings(tables)}
    assert set(readings) == {"UNDP", "UNDESA"}  # UNDRP (high) and UNDECA (medium): less than certain
    # UNDP is printed as such at the infrastructural level: only its mention at the social-economic
    # development level stands on the reading.
    assert set(narrative.role_readings(tables)) == {
        ("social-economic-development", "UNDP"),
        ("social-economic-development", "UNDESA"),
    }
    assert narrative.name(tables, "UNDP", "infrastructural") == "UNDP"
    marked = narrative.name(tables, "UNDESA")
    assert marked.startswith("UNDESA \\[\\?\\][^reading-")
    shown = []
    monkeypatch.setattr(page, "display", lambda obj, raw=False: shown.append(obj["text/markdown"]))
    page.show(marked)
    assert "Printed “UNDECA” (line 207) and read as “UNDESA”, with medium confidence" in shown[0]
    assert narrative.label(tables, "UNDESA") == "UNDESA [?]" and narrative.label(tables, "ITU") == "ITU"
    assert (
        narrative.alt_name(tables, "UNDESA")
        == "UNDESA (uncertain reading of the printed “UNDECA”, line 207, medium confidence)"
    )
    _, rows, _ = narrative.organization_table(tables)
    assert "[UNDESA]{.wgec-q .wgec-l-207} \\[\\?\\]" in rows[2][1]
    assert rows[0][1].endswith("[UNDP]{.wgec-q .wgec-l-191}")  # certain there: no mark
    table = {row[0]: row for row in narrative.organization_rows(tables)}
    assert "UNDESA [?]" in table and table["UNDP [?]"][3] == "Infrastructural; Social-economic development [?]"


def test_a_certain_reading_carries_no_mark(data_copy):
    edit(data_copy / "corrections.csv", "UNDESA,ocr,true,medium", "UNDESA,ocr,true,certain")
    edit(data_copy / "corrections.csv", "UNDP,ocr,true,high", "UNDP,ocr,true,certain")
    tables = data.load(data_copy)
    assert not narrative.uncertain_readings(tables) and not narrative.hedge_notes(tables)
    assert narrative.name(tables, "UNDESA") == "UNDESA"


# --- facts ---------------------------------------------------------------------------


def test_organizations_named_at_every_level_and_at_several_follow_the_roles(data_copy, tables):
    assert set(narrative.at_every_level(tables)) == {"IGF", "WSIS Forum"}
    assert "UNGIS" not in narrative.at_several_levels(tables)
    append(
        data_copy / "organization_roles.csv",
        level="content",
        organization="UNGIS",
        column="UN agencies",
        position="3",
        source_lines="204",
    )
    assert "UNGIS" in narrative.at_several_levels(data.load(data_copy))


def test_the_most_names_in_a_column_and_a_tie(data_copy, tables):
    assert narrative.most_in(tables, "UN agencies") == ("the social\\-economic development level", 12)
    rewrite(data_copy / "organization_roles.csv", lambda r: r["column"] == "Forums")
    at, n = narrative.most_in(data.load(data_copy), "Forums")
    assert n == 3 and at == "the content level and the social\\-economic development level"


def test_references_name_each_paragraph_once(tables):
    assert narrative.references(tables) == (
        "Tunis Agenda, paragraphs 35\\, 58 and 69 to 71; General Assembly resolution 70\\/125, paragraphs 64 and 65"
    )


def test_meetings_say_an_unknown_date_is_unknown(tables):
    held = narrative.meetings(tables)
    missing = tables.wgec_meetings[tables.wgec_meetings.start_date.isna()]
    assert held.undated == [int(n) for n in missing.number] and held.count == len(tables.wgec_meetings)
    assert narrative.meeting(tables, 4) == {
        "ordinal": "fourth",
        "where": "Palais des Nations, Geneva",
        "when": "25–27 September 2017",
    }


def test_membership_numbers_in_one_style(tables):
    assert "private sector, 5;" in narrative.membership(tables)  # 22 in the series: all in figures


def test_alt_texts_say_what_the_chart_says(tables):
    alt = narrative.alt_focus_areas(tables)
    for row in narrative.focus_area_counts(tables).itertuples():
        assert f"{row.name}: {row.areas}" in alt
    assert "the list ends with “Etc.”" in alt
    alt = narrative.alt_matrix(tables)
    assert all(o in alt for o in tables.organizations.acronym)
    assert "date not found" in narrative.alt_meetings(tables, 4)
    assert "etc." in narrative.alt_format(
        tables
    ) and "beginning with: committee; open working group" in narrative.alt_format(tables)


# --- the masthead is what the configuration sets ----------------------------------------


def _settings(**changed):
    return {**settings.DEFAULTS, "organ": "CSTD", "body": "WGEC", "parent_organ": "ECOSOC", **changed}


def test_a_draft_with_no_date_says_it_is_a_draft_of_the_build_date(tables):
    import datetime as dt

    day = dt.date(2026, 11, 28)
    head = narrative.masthead(_settings(distribution="General"), tables, day)
    assert "DRAFT" in head and "Draft of 28 November 2026" in head and "Distr.: General" in head
    dated = narrative.masthead(_settings(symbol="E/CN.16/2018/CRP.1", date="2017-09-25"), tables, day)
    assert "25 September 2017" in dated and "Draft of" not in dated and "DRAFT" not in dated
    assert "Distr." not in dated  # no distribution set: none printed


def test_a_source_line_is_shown_exactly():
    for text in [" The contribution", "2.1  Scope", "a `b` c", "`x", "x`", " both ", "```"]:
        html = MarkdownIt("commonmark").render(narrative.literal(text))
        code = re.search(r"<code>(.*)</code>", html).group(1)
        from html import unescape

        assert unescape(code) == text, (text, code)
