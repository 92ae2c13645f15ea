"""Sentences from data, on small variations of the data: plurals, lists, empty and single levels."""

import csv
import io

import pytest
from conftest import append
from markdown_it import MarkdownIt

from wgec import data
from wgec.report import narrative, words
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


def test_scope_summary_on_the_shipped_data(tables):
    counts = narrative.focus_area_counts(tables)
    text = narrative.scope_summary(tables)
    total = int(counts.areas.sum())
    assert f"{words.count(total, 'focus area')} of enhanced cooperation" in text
    top = counts.loc[counts.areas.idxmax()]
    assert f"The {top['name'].lower()} level has the most" in text


def test_scope_summary_with_an_empty_level_and_a_level_of_one(data_copy):
    rewrite(
        data_copy / "focus_areas.csv",
        lambda r: r["level"] != "infrastructural" and not (r["level"] == "content" and r["position"] != "1"),
    )
    tables = data.load(data_copy)
    text = narrative.scope_summary(tables)
    assert "no focus areas at the infrastructural level" in text
    assert "one focus area at the content level" in text
    assert "No focus area is listed for the infrastructural level." in text
    assert narrative.focus_area_list(tables, "infrastructural") == "*None listed.*"
    assert "lists no focus areas" in narrative.level_intro(tables, "infrastructural")


def test_scope_summary_names_a_tie(data_copy):
    rewrite(data_copy / "focus_areas.csv", lambda r: int(r["position"]) <= 2)
    text = narrative.scope_summary(data.load(data_copy))
    assert "Each level has two focus areas." in text


def test_organization_summary_follows_the_roles(data_copy, tables):
    text = narrative.organization_summary(tables)
    assert "15 organizations" in text and "IGF and WSIS Forum are named at every level" in text
    # UNGIS named at a second level: it joins those named at more than one level.
    append(
        data_copy / "organization_roles.csv",
        level="content",
        organization="UNGIS",
        column="UN agencies",
        position="3",
        source_lines="204",
    )
    changed = narrative.organization_summary(data.load(data_copy))
    assert "UNGIS" in changed.split("more than one level")[0].split("every level.")[-1]


def test_a_hostile_name_stays_literal_in_every_sentence(data_copy):
    bad = "<b>x</b> {raw}`html` *y*"
    append(
        data_copy / "focus_areas.csv",
        id="FA-INF-9",
        level="infrastructural",
        position="9",
        text=bad,
        kind="focus area",
        source_lines="103",
    )
    tables = data.load(data_copy)
    listing = narrative.focus_area_list(tables, "infrastructural")
    html = MarkdownIt("commonmark").render(listing)
    assert "&lt;b&gt;x&lt;/b&gt; {raw}`html` *y*" in html and "<b>" not in html and "<em>" not in html


def test_characteristic_echoes_cite_the_paragraph(tables):
    echoes = dict(narrative.characteristic_echoes(tables))
    for text, where in echoes.items():
        instrument, _, para = where.partition(", para. ")
        rows = tables.mandate_paragraphs
        quoted = rows[(rows.instrument == instrument) & (rows.paragraph == para)].text.iloc[0]
        assert text.lower() in quoted.lower()


def test_meetings_summary_says_an_unknown_date_is_unknown(tables):
    text = narrative.meetings_summary(tables, 4)
    missing = tables.wgec_meetings[tables.wgec_meetings.start_date.isna()]
    for n in missing.number:
        assert f"{words.ordinal(int(n))} meeting" in text and "not found" in text
    assert "fourth meeting" in text


def test_alt_texts_say_what_the_chart_says(tables):
    alt = narrative.alt_focus_areas_by_level(tables)
    for row in narrative.focus_area_counts(tables).itertuples():
        assert f"{row.name}: {row.areas}" in alt
    alt = narrative.alt_organization_matrix(tables)
    assert all(o in alt for o in tables.organizations.acronym)
    assert "date not found" in narrative.alt_meetings_timeline(tables, 4)
