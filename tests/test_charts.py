"""The chart functions draw what the data says."""

import matplotlib
import pytest
from test_narrative import append

from wgec import data
from wgec.report import charts, page


@pytest.fixture(scope="module")
def tables():
    return data.load()


def test_focus_area_bars_match_the_counts(tables):
    fig = charts.focus_areas_by_level(tables)
    bars = [p for p in fig.axes[0].patches if isinstance(p, matplotlib.patches.Rectangle)]
    areas = tables.focus_areas
    expected = [
        int(((areas.level == lid) & (areas.kind == "focus area")).sum())
        for lid in tables.levels.sort_values("position").id
    ]
    assert [round(b.get_width()) for b in bars] == expected


def test_matrix_has_a_mark_per_role(tables):
    fig = charts.organization_matrix(tables)
    marks = sum(len(c.get_offsets()) for c in fig.axes[0].collections)
    assert marks == len(tables.organization_roles)
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert set(labels) == set(tables.organizations.acronym)


def test_timeline_sets_an_unknown_date_apart(tables):
    fig = charts.meetings_timeline(tables, highlight=4)
    texts = " ".join(t.get_text() for t in fig.texts)
    assert "date not found" in texts
    dated = tables.wgec_meetings.start_date.notna().sum()
    assert len([t for t in fig.axes[0].texts if t.get_text().startswith("Meeting")]) == dated


def test_svg_is_the_same_bytes_for_the_same_data(tables):
    first = page.svg(charts.organization_network(tables)).svg
    second = page.svg(charts.organization_network(tables)).svg
    assert first == second and "<svg" in first


def test_names_in_other_scripts_draw_without_missing_glyphs(data_copy, recwarn):
    append(
        data_copy / "organizations.csv",
        acronym="الاتحاد",
        name="Arabic name",
        kind="UN entity",
        source_lines="191",
        note="",
    )
    append(
        data_copy / "organizations.csv",
        acronym="国际电联",
        name="Chinese name",
        kind="UN entity",
        source_lines="191",
        note="",
    )
    append(
        data_copy / "organizations.csv", acronym="МСЭ", name="Russian name", kind="forum", source_lines="193", note=""
    )
    for acr, col in (("الاتحاد", "UN agencies"), ("国际电联", "UN agencies"), ("МСЭ", "Forums")):
        append(
            data_copy / "organization_roles.csv",
            level="content",
            organization=acr,
            column=col,
            position="9",
            source_lines="197",
        )
    tables = data.load(data_copy)
    page.svg(charts.organization_matrix(tables))
    missing = [str(w.message) for w in recwarn if "missing from" in str(w.message)]
    assert not missing, missing
