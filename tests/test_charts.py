"""The chart functions draw what the data says."""

import matplotlib
import pytest
from test_narrative import append

from wgec import data
from wgec.report import charts, narrative, page


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
    # Every organization, and an uncertain reading with its mark (the hedge travels into the figure).
    assert set(labels) == {narrative.label(tables, a) for a in tables.organizations.acronym}
    assert "UNDESA [?]" in labels and "ITU" in labels
    # The mark stands at the level where the reading is uncertain: UNDP is certain at the first level.
    marks = [t for t in fig.axes[0].texts if t.get_text() == narrative.MARK]
    assert len(marks) == len(narrative.role_readings(tables))
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert legend == ["column “UN agencies”", "column “Forums”"]  # the contribution's own columns


def test_the_format_diagram_uses_the_contributions_words(tables):
    fig = charts.format_path(tables)
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert "“could be”" in texts and "“beginning with”" in texts and "“later evolves into”" in texts
    assert any("UNGA, ITU, CSTD, etc." in t for t in texts)  # the list is left open, as printed
    assert not any("tarting form" in t or "nd form" in t for t in texts)


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
    append(data_copy / "organizations.csv", acronym="الاتحاد", name="Arabic name", source_lines="191", note="")
    append(data_copy / "organizations.csv", acronym="国际电联", name="Chinese name", source_lines="191", note="")
    append(data_copy / "organizations.csv", acronym="МСЭ", name="Russian name", source_lines="193", note="")
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
