"""Facts computed from the tables, and the reusable pieces the notebooks' sentences are made of.

The sentences themselves are written in the notebooks (``page.say("... {areas} ...",
areas=...)``); this module gives them their values: counts, lists of names (escaped, with the
mark of an uncertain reading where it belongs), the passages of the contribution to quote
(:class:`wgec.report.quotes.Passage`), the rows of the report's tables, and alt text.

Only the source's categories: organizations are grouped by the columns of the contribution's
own table ("UN agencies", "Forums"), levels are its row headings, forms of the body/mechanism
are introduced by its own words ("could be", "beginning with", "later evolves into").

Hedges travel: a name that stands on a reading of the OCR text made with less than certain
confidence (``corrections.csv``) carries :data:`MARK` and a note wherever it is printed — in
prose (:func:`name`), in tables (:func:`organization_table`), in the charts and their alt text
(:func:`label`, :func:`alt_name`).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd

from ..settings import un_date
from .page import RawMd, footnote, md
from .quotes import LINES, SOURCE_LINE, TITLE, WHERE, Passage, bullets, cell, cells
from .words import capital, count, date_range, in_series, join, line_range, lines, lower_first, number, ordinal
from .words import paragraphs as paragraph_list
from .words import span as line_span

MARK = "[?]"  # after a name read with less than certain confidence


# --- the contribution's parts ---------------------------------------------------------------


def parts(tables) -> pd.DataFrame:
    """The contribution's parts in the order of the text, each with its first and last line."""
    frame = tables.parts.copy()
    frame["first"] = [line_range(s).start for s in frame.source_lines]
    frame = frame.sort_values("first")
    total = len(tables.source_lines())
    frame["last"] = [*list(frame["first"].iloc[1:] - 1), total]
    return frame


def part_of(tables, line: int):
    """The part a line of the contribution stands in (the last whose heading comes before it), or None."""
    found = None
    for part in parts(tables).itertuples():
        if part.first <= line:
            found = part
    return found


def heading(tables, part_id: str, number: bool = True) -> Passage:
    """A part's heading, with its number, as a passage."""
    row = tables.parts.set_index("id").loc[part_id]
    return Passage(str(row["heading"]), str(row["source_lines"]), "heading", str(row["number"]) if number else "")


def text_under(tables, section: str) -> list[Passage]:
    """What the contribution's parts give for one section of its draft structure, with their headings."""
    return [p for part in parts(tables).itertuples() if part.outline == section for p in text_of(tables, part.id)]


def references(tables) -> RawMd:
    """'Tunis Agenda, paragraphs 35, 58 and 69 to 71; General Assembly resolution 70/125, paragraphs 64 and 65'."""
    frame = tables.mandate_paragraphs.sort_values("position")
    out = []
    for instrument in dict.fromkeys(frame.instrument):
        mine = list(frame[frame.instrument == instrument].paragraph)
        listed = paragraph_list(mine)
        word = "paragraph" if len({str(p).split()[0] for p in mine}) == 1 else "paragraphs"
        out.append(f"{md(instrument)}, {word} {md(listed)}")
    return RawMd("; ".join(out))


def text_of(tables, part_id: str, with_heading: bool = True) -> list[Passage]:
    """The running text of a part, in the contribution's order: its statements and the paragraphs
    of the texts it gives (``mandate_paragraphs``), under its heading."""
    part = parts(tables).set_index("id").loc[part_id]
    found = []
    statements = tables.statements[tables.statements.part == part_id].sort_values("position")
    found += [Passage(str(r.text), str(r.source_lines)) for r in statements.itertuples()]
    for r in tables.mandate_paragraphs.sort_values("position").itertuples():
        if part["first"] <= line_range(r.source_lines).start <= part["last"]:
            found.append(Passage(str(r.text), str(r.source_lines), label="" if pd.isna(r.label) else str(r.label)))
    found.sort(key=lambda p: line_range(p.lines).start)
    return ([heading(tables, part_id)] if with_heading else []) + found


def top_parts(tables) -> pd.DataFrame:
    """The contribution's parts of the first level (I, II, III), in order."""
    frame = parts(tables)
    return frame[frame.parent.isna()]


def outline_rows(tables) -> list[list[RawMd]]:
    """The draft structure the contribution proposes (its part II), as quoted cells: number, title."""
    rows = []
    for s in tables.report_structure.sort_values("position").itertuples():
        rows.append(
            [cell(Passage(str(s.number), str(s.source_lines))), cell(Passage(str(s.title), str(s.source_lines)))]
        )
    return rows


def sections_without_text(tables) -> pd.DataFrame:
    """Sections of the proposed structure that no part of the contribution gives text for."""
    structure = tables.report_structure.sort_values("position")
    return structure[~structure.id.isin(tables.parts.outline)]


def passages_on(tables, *names: str) -> list[Passage]:
    """The paragraphs of part 3 (``recommendations``) that hold the rows of the tables named:
    what the contribution says, in its recommendations, on the format of the body/mechanism."""
    wanted = {n for name in names for spec in tables[name].source_lines for n in line_range(spec)}
    found = []
    for r in tables.recommendations.sort_values("position").itertuples():
        if wanted & set(line_range(r.source_lines)):
            found.append(Passage(str(r.text), str(r.source_lines)))
    return found


def items(frame, text: str = "text") -> list[Passage]:
    """Rows as the items of a list, in order."""
    return [Passage(str(r[text]), str(r["source_lines"]), "item") for r in frame.to_dict("records")]


def recommendations(tables) -> list[Passage]:
    return [
        Passage(str(r.text), str(r.source_lines)) for r in tables.recommendations.sort_values("position").itertuples()
    ]


def table_heading(tables, part: str, kind: str, level: str | None = None) -> list[Passage]:
    frame = tables.table_headings
    mine = frame[(frame.part == part) & (frame.kind == kind)]
    if level is not None:
        mine = mine[mine.level == level]
    return [Passage(str(r.text), str(r.source_lines)) for r in mine.sort_values("position").itertuples()]


# --- uncertain readings ---------------------------------------------------------------------


@dataclass(frozen=True)
class Reading:
    """A reading of the OCR text applied with less than certain confidence."""

    line: int
    as_printed: str
    reading: str
    confidence: str
    reason: str


def uncertain_readings(tables) -> list[Reading]:
    fixes = tables.corrections
    mine = fixes[fixes.applied & fixes.confidence.notna() & (fixes.confidence != "certain")]
    return [
        Reading(int(f.line), str(f.as_printed), str(f.reading), str(f.confidence), str(f.reason))
        for f in mine.sort_values(["line", "id"]).itertuples()
    ]


def readings_in(readings: list[Reading], text: str, spec: str) -> list[Reading]:
    """Of ``readings``, those a passage's text stands on: on its lines, and in its words."""
    on = set(line_range(spec))
    return [r for r in readings if r.line in on and r.reading in str(text)]


# The readings of the organizations' names, for the last tables asked about (the tables object
# itself is kept, so that another can never be taken for it): a chapter asks for them once per
# name printed, and each answer goes over every role and every correction.
_NAMES: list = []


def _name_readings(tables) -> tuple[dict, dict]:
    if _NAMES and _NAMES[0] is tables:
        return _NAMES[1], _NAMES[2]
    readings = uncertain_readings(tables)
    roles: dict[tuple[str, str], list[Reading]] = {}
    for r in tables.organization_roles.itertuples():
        found = readings_in(readings, r.organization, r.source_lines)
        if found:
            roles[(r.level, r.organization)] = found
    organizations: dict[str, list[Reading]] = {}
    for (_, org), found in roles.items():
        organizations.setdefault(org, []).extend(r for r in found if r not in organizations.get(org, []))
    for r in tables.organizations.itertuples():
        for reading in readings_in(readings, r.acronym, r.source_lines):
            if reading not in organizations.get(r.acronym, []):
                organizations.setdefault(r.acronym, []).append(reading)
    _NAMES[:] = [tables, roles, organizations]
    return roles, organizations


def role_readings(tables) -> dict[tuple[str, str], list[Reading]]:
    """(level, organization) -> the uncertain readings its name in that cell stands on."""
    return dict(_name_readings(tables)[0])


def organization_readings(tables) -> dict[str, list[Reading]]:
    """organization -> the uncertain readings any of its mentions stands on."""
    return dict(_name_readings(tables)[1])


def hedge_note(reading: Reading) -> RawMd:
    """What the mark means for one name (Markdown, data escaped)."""
    return RawMd(
        f"{md(MARK)} Printed “{md(reading.as_printed)}” ({lines(str(reading.line))}) and read as "
        f"“{md(reading.reading)}”, with {md(reading.confidence)} confidence: {md(reading.reason)} "
        "(annex II)."
    )


def hedge_plain(reading: Reading) -> str:
    """The same note as plain text (alt text): 'uncertain reading of the printed “UNDECA”, line 207, medium confidence'."""
    return (
        f"uncertain reading of the printed “{reading.as_printed}”, {lines(str(reading.line))}, "
        f"{reading.confidence} confidence"
    )


def name(tables, acronym: str, level: str | None = None) -> RawMd:
    """An organization's acronym for a sentence: escaped, and marked with a footnote when it stands
    on an uncertain reading (at ``level``, or anywhere when no level is given)."""
    found = role_readings(tables).get((level, acronym), []) if level else organization_readings(tables).get(acronym, [])
    text = md(acronym)
    for reading in found:
        text += " " + md(MARK) + footnote(hedge_note(reading), key="reading")
    return RawMd(text)


def label(tables, acronym: str) -> str:
    """An organization's label in a chart: plain, with the mark when any mention is uncertain."""
    return f"{acronym} {MARK}" if acronym in organization_readings(tables) else str(acronym)


def alt_name(tables, acronym: str) -> str:
    """An organization's name in alt text: plain, with the hedge in words."""
    found = organization_readings(tables).get(acronym, [])
    return f"{acronym} ({'; '.join(hedge_plain(r) for r in found)})" if found else str(acronym)


# --- levels and focus areas ----------------------------------------------------------------------


def levels(tables) -> pd.DataFrame:
    return tables.levels.sort_values("position")


def level_phrase(level_name: str) -> str:
    """'the content level' (the contribution's row heading, lower-cased mid-sentence), escaped."""
    return f"the {md(lower_first(level_name))} level"


def focus_area_counts(tables) -> pd.DataFrame:
    """Per level, in order: id, name, number of focus areas, whether the list is left open."""
    areas = tables.focus_areas
    rows = []
    for level in levels(tables).itertuples():
        mine = areas[areas.level == level.id]
        rows.append(
            {
                "id": level.id,
                "name": level.name,
                "areas": int((mine.kind == "focus area").sum()),
                "open": bool((mine.kind == "list continues").any()),
            }
        )
    return pd.DataFrame(rows, columns=["id", "name", "areas", "open"])


def open_marker(tables) -> str:
    """The words that leave a list open ("Etc."), as printed."""
    areas = tables.focus_areas
    marker = areas[areas.kind == "list continues"].text
    return str(marker.iloc[0]) if len(marker) else ""


def open_levels(tables) -> RawMd:
    """'the social-economic development level': the levels whose list of focus areas is left open."""
    counts = focus_area_counts(tables)
    return RawMd(join(level_phrase(r.name) for r in counts.itertuples() if r.open))


def per_level(tables, figures: bool) -> RawMd:
    """'4 at the infrastructural level, 10 at the content level and 7 at the social-economic
    development level', in one number style."""
    counts = focus_area_counts(tables)
    return RawMd(
        join(
            f"{number(int(r.areas), figures) if r.areas else 'none'} at {level_phrase(r.name)}"
            for r in counts.itertuples()
        )
    )


def focus_area_table(tables) -> tuple[list[RawMd], list[list[RawMd]], str]:
    """The contribution's table of section 2.1: its column headings, one row per level (the
    level's row heading, its focus areas as a list, the words that leave it open included), and
    the lines the table stands on."""
    part = part_of(tables, line_range(tables.levels.source_lines.iloc[0]).start).id
    headings = table_heading(tables, part, "column")
    header = [cell(p) for p in headings]
    rows = []
    areas = tables.focus_areas
    for level in levels(tables).itertuples():
        mine = areas[areas.level == level.id].sort_values("position")
        listed = items(mine)
        rows.append([cell(Passage(str(level.name), str(level.source_lines))), bullets(listed) if listed else None])
    spec = line_span([p.lines for p in headings] + list(tables.levels.source_lines) + list(areas.source_lines))
    return header, rows, spec


def alt_focus_areas(tables) -> str:
    """'Infrastructural: 4; Content: 10; Social-economic development: 7, and the list ends with “Etc.”'."""
    marker = open_marker(tables)
    return "; ".join(
        f"{r.name}: {r.areas}" + (f", and the list ends with “{marker}”" if r.open else "")
        for r in focus_area_counts(tables).itertuples()
    )


# --- organizations -------------------------------------------------------------------------------


def columns(tables) -> list[str]:
    """The columns of the contribution's table that hold organizations, in order ("UN agencies", "Forums")."""
    roles = tables.organization_roles
    part = part_of(tables, line_range(roles.source_lines.iloc[0]).start).id if len(roles) else None
    headings = [p.text for p in table_heading(tables, part, "column")] if part else []
    used = list(dict.fromkeys(roles.column))
    return [h for h in headings if h in used] + [c for c in used if c not in headings]


def column_heading(tables, column: str) -> RawMd:
    """A column of the contribution's table named in a sentence: its heading quoted (a passage
    quoted again), or, when the table's headings do not give it, the name in quotation marks."""
    from .quotes import inline

    frame = tables.table_headings
    found = frame[(frame.kind == "column") & (frame.text == column)]
    if found.empty:
        return RawMd(f"“{md(column)}”")
    return inline(Passage(str(found.text.iloc[0]), str(found.source_lines.iloc[0])), elsewhere=True)


def organizations_in(tables, column: str) -> list[str]:
    """The organizations of one column, in the order a reader meets them (level by level)."""
    roles = ordered_roles(tables)
    return list(dict.fromkeys(roles[roles.column == column].organization))


def ordered_roles(tables) -> pd.DataFrame:
    order = {lid: i for i, lid in enumerate(levels(tables).id)}
    roles = tables.organization_roles.copy()
    roles["level_order"] = roles.level.map(order)
    return roles.sort_values(["level_order", "position"])


def organization_order(tables) -> list[str]:
    """Every organization, column by column, in the order a reader meets them."""
    return [o for column in columns(tables) for o in organizations_in(tables, column)]


def organization_table(tables) -> tuple[list[RawMd], list[list[RawMd]], str]:
    """The contribution's table of section 2.4: its column headings, and per level its row heading
    and the names in each column, as printed (after the corrections), an uncertain reading marked."""
    roles = ordered_roles(tables)
    part = part_of(tables, line_range(roles.source_lines.iloc[0]).start).id
    headings = table_heading(tables, part, "column")
    header = [cell(p) for p in headings]
    hedged = role_readings(tables)
    rows = []
    for level in levels(tables).itertuples():
        row_heading = table_heading(tables, part, "row", level.id)
        row = [cell(row_heading[0]) if row_heading else RawMd(md(level.name))]
        for column in columns(tables):
            mine = roles[(roles.level == level.id) & (roles.column == column)]
            names = [
                Passage(
                    str(r.organization),
                    str(r.source_lines),
                    mark=(" " + md(MARK)) if (level.id, r.organization) in hedged else "",
                )
                for r in mine.itertuples()
            ]
            row.append(cells(names) if names else None)
        rows.append(row)
    spec = line_span(
        [p.lines for p in headings]
        + list(tables.table_headings.source_lines[tables.table_headings.part == part])
        + list(roles.source_lines)
    )
    return header, rows, spec


def per_column(tables, figures: bool) -> RawMd:
    """'12 in its column “UN agencies” and 3 in its column “Forums”' (the headings quoted)."""
    return RawMd(
        join(
            f"{number(len(organizations_in(tables, c)), figures)} in its column {column_heading(tables, c)}"
            for c in columns(tables)
        )
    )


def unsure(tables) -> RawMd:
    """'“UNDRP” read as “UNDP” (high confidence) and “UNDECA” read as “UNDESA” (medium confidence)'."""
    return RawMd(
        join(
            f"“{md(r.as_printed)}” read as “{md(r.reading)}” ({md(r.confidence)} confidence)"
            for r in uncertain_readings(tables)
        )
    )


def hedge_notes(tables) -> list[RawMd]:
    """The notes under a table or figure that marks uncertain readings, one per reading."""
    seen = []
    for found in organization_readings(tables).values():
        seen += [r for r in found if r not in seen]
    return [hedge_note(r) for r in sorted(seen, key=lambda r: r.line)]


def named_at(tables) -> pd.Series:
    """organization -> the number of levels it is named at."""
    return tables.organization_roles.groupby("organization")["level"].nunique()


def names(tables, acronyms: Iterable[str]) -> RawMd:
    """Acronyms for a sentence, in the order a reader meets them, each marked if uncertain."""
    order = {o: i for i, o in enumerate(organization_order(tables))}
    return RawMd(join(name(tables, a) for a in sorted(acronyms, key=lambda a: order.get(a, len(order)))))


def at_every_level(tables) -> list[str]:
    counts = named_at(tables)
    return list(counts[counts == len(tables.levels)].index) if len(tables.levels) > 1 else []


def at_several_levels(tables) -> list[str]:
    counts = named_at(tables)
    return list(counts[(counts > 1) & (counts < len(tables.levels))].index)


def most_in(tables, column: str) -> tuple[RawMd, int]:
    """The level(s) with the most names in ``column``, and how many."""
    roles = tables.organization_roles
    per_level = roles[roles.column == column].groupby("level").organization.nunique()
    if per_level.empty:
        return RawMd(""), 0
    top = per_level[per_level == per_level.max()].index
    ordered = [lv for lv in levels(tables).itertuples() if lv.id in set(top)]
    return RawMd(join(level_phrase(lv.name) for lv in ordered)), int(per_level.max())


def organization_rows(tables) -> list[list]:
    """Table of the organizations: acronym, full name (from the domain facts), column of the
    contribution's table, levels it is named at; an uncertain reading marked."""
    order = {lid: i for i, lid in enumerate(levels(tables).id)}
    names_of = dict(zip(tables.levels.id, tables.levels.name))
    roles = tables.organization_roles
    hedged = role_readings(tables)
    by_acronym = tables.organizations.set_index("acronym")
    rows = []
    for acronym in organization_order(tables) + [a for a in by_acronym.index if a not in organization_order(tables)]:
        org = by_acronym.loc[acronym]
        mine = roles[roles.organization == acronym]
        at = sorted(set(mine.level), key=order.get)
        note = "" if pd.isna(org["note"]) or not org["note"] else f" (note: {org['note']})"
        levels_text = "; ".join(names_of[lv] + (f" {MARK}" if (lv, acronym) in hedged else "") for lv in at)
        rows.append(
            [label(tables, acronym), f"{org['name']}{note}", "; ".join(dict.fromkeys(mine.column)), levels_text]
        )
    return rows


def alt_matrix(tables) -> str:
    """Per level, the names in each column, with the hedges in words."""
    roles = ordered_roles(tables)
    parts_ = []
    for level in levels(tables).itertuples():
        mine = roles[roles.level == level.id]
        cols = [
            f"{column}: "
            + (", ".join(alt_role(tables, level.id, o) for o in mine[mine.column == column].organization) or "none")
            for column in columns(tables)
        ]
        parts_.append(f"{level.name}: {'; '.join(cols)}")
    return ". ".join(parts_)


def alt_role(tables, level: str, acronym: str) -> str:
    found = role_readings(tables).get((level, acronym), [])
    return f"{acronym} ({'; '.join(hedge_plain(r) for r in found)})" if found else str(acronym)


def alt_network(tables) -> str:
    counts = named_at(tables)
    return "; ".join(
        f"{alt_name(tables, o)}, {count(int(counts.get(o, 0)), 'level')}" for o in organization_order(tables)
    )


# --- format of the body/mechanism -------------------------------------------------------------


def forms(tables, wording: str) -> list[str]:
    frame = tables.format_options.sort_values("position")
    return list(frame[frame.wording == wording].form)


def hosts(tables) -> list[str]:
    """The possible hosts as printed, the words that leave the list open ("etc.") last."""
    return list(tables.hosting_options.sort_values("position").host)


def alt_format(tables) -> str:
    parts_ = [
        f"{w}: {'; '.join(forms(tables, w))}"
        for w in dict.fromkeys(tables.format_options.sort_values("position").wording)
    ]
    if len(tables.hosting_options):
        parts_.append("possible hosts: " + ", ".join(hosts(tables)))
    return ". ".join(parts_)


# --- the Working Group ---------------------------------------------------------------------------


def membership(tables) -> RawMd:
    """'Member States, 22 (…); private sector, 5; …' in one number style."""
    groups = tables.wgec_membership.sort_values("position")
    figures = in_series(int(s) for s in groups.seats)
    parts_ = []
    for g in groups.itertuples():
        note = f" ({md(g.note)})" if pd.notna(g.note) and g.note else ""
        parts_.append(f"{md(g.group)}, {number(int(g.seats), figures)}{note}")
    return RawMd("; ".join(parts_))


def sources_of(frame) -> RawMd:
    """The sources a table of facts cites (its `source` column), for a footnote."""
    return RawMd(join(md(s) for s in dict.fromkeys(frame.source)))


@dataclass(frozen=True)
class Meetings:
    count: int
    places: list[str]
    first: dt.date | None
    last: dt.date | None
    undated: list[int]


def meetings(tables) -> Meetings:
    frame = tables.wgec_meetings.sort_values("number")
    dated = frame[frame.start_date.notna()]
    return Meetings(
        len(frame),
        list(dict.fromkeys(frame.place)),
        dated.start_date.min().date() if len(dated) else None,
        dated.end_date.max().date() if len(dated) else None,
        [int(n) for n in frame[frame.start_date.isna()].number],
    )


def meeting(tables, number: int | None) -> dict | None:
    """The meeting the contribution was made to: its ordinal, where and when (plain text), or None."""
    if number is None:
        return None
    frame = tables.wgec_meetings
    row = frame[frame.number == number]
    if row.empty:
        return {"ordinal": ordinal(number), "where": "", "when": ""}
    r = row.iloc[0]
    where = ", ".join(str(x) for x in (r.venue, r.place) if pd.notna(x) and x)
    when = date_range(r.start_date.date(), r.end_date.date()) if pd.notna(r.start_date) else "date not found"
    return {"ordinal": ordinal(number), "where": where, "when": when}


def meeting_line(tables, number: int | None) -> str:
    """The masthead's session line: 'Fourth meeting, Geneva, 25–27 September 2017'."""
    if number is None:
        return ""
    frame = tables.wgec_meetings
    row = frame[frame.number == number]
    if row.empty:
        return capital(ordinal(number)) + " meeting"
    r = row.iloc[0]
    parts_ = [capital(ordinal(number)) + " meeting", md(r.place)]
    if pd.notna(r.start_date):
        parts_.append(date_range(r.start_date.date(), r.end_date.date()))
    return ", ".join(parts_)


def alt_meetings(tables, highlight: int | None) -> str:
    parts_ = []
    for m in tables.wgec_meetings.sort_values("number").itertuples():
        when = date_range(m.start_date.date(), m.end_date.date()) if pd.notna(m.start_date) else "date not found"
        mark = " (the meeting this contribution was made to)" if m.number == highlight else ""
        parts_.append(f"meeting {m.number}: {when}{mark}")
    return "; ".join(parts_)


# --- the front page ------------------------------------------------------------------------------


def masthead(settings: dict, tables, date: dt.date) -> str:
    """The UN masthead: organ, symbol (or a clear draft mark), distribution and date as the
    configuration sets them (a draft with no date says it is a draft of the build date), session."""
    symbol = md(settings["symbol"]) if settings["symbol"] else "DRAFT"
    session = [md(settings["organ"]), md(settings["body"])]
    line = meeting_line(tables, settings["meeting"])
    if line:
        session.append(line)
    if settings["agenda_item"]:
        session.append(md(settings["agenda_item"]))
    when = un_date(dt.date.fromisoformat(settings["date"])) if settings["date"] else f"Draft of {un_date(date)}"
    meta = ([f"Distr.: {md(settings['distribution'])}"] if settings["distribution"] else []) + [when, ""]
    if settings["original"]:
        meta.append(f"Original: {md(settings['original'])}")
    blocks = [
        ("un-mh-un", ["United Nations"]),
        ("un-mh-symbol", [symbol] + ([] if settings["symbol"] else ["No document symbol assigned"])),
        ("un-mh-organ", [md(settings["parent_organ"])]),
        ("un-mh-meta", meta),
        ("un-mh-session", session),
    ]
    inner = "\n".join(
        f":::{{container}} {cls}\n" + "\\\n".join(x if x else "&#8203;" for x in rows) + "\n:::" for cls, rows in blocks
    )
    return f"::::{{container}} un-masthead\n{inner}\n::::"


# --- annexes -------------------------------------------------------------------------------------


def _show(value):
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, pd.Timestamp):
        return None if pd.isna(value) else value.date().isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def identifier_columns(resource: dict) -> list[int]:
    """The columns (1-based) of a table that hold codes: identifiers with a pattern, one-word values
    of an enumeration, numbers and dates, which the annex tables never break in the middle. (A key
    of free text, an acronym say, or a value of several words may be any length: it wraps.)"""

    def code(field: dict) -> bool:
        constraints = field.get("constraints", {})
        return (
            "pattern" in constraints
            or field.get("type") in ("integer", "date", "boolean")
            or ("enum" in constraints and all(" " not in str(v) for v in constraints["enum"]))
        )

    return [i for i, f in enumerate(resource["schema"]["fields"], start=1) if code(f)]


def data_tables(tables):
    """Every table of the data package: (name, rows, header, caption, classes); the header is
    each column's title in the schema, identifiers are kept on one line."""
    for resource in tables.descriptor["resources"]:
        name_ = resource["name"]
        frame = tables[name_]
        rows = [[_show(v) for v in row] for row in frame.itertuples(index=False)]
        titles = {f["name"]: f.get("title") or f["name"] for f in resource["schema"]["fields"]}
        caption = f"{md(resource['path'])}: {md(resource.get('title', name_))}"
        classes = " ".join(["un-table", "un-data"] + [f"un-nowrap-{i}" for i in identifier_columns(resource)])
        yield name_, rows, [titles.get(c, c) for c in frame.columns], caption, classes


def row_count(tables) -> int:
    return sum(len(frame) for frame in tables.values())


def data_downloads(tables) -> RawMd:
    """The data downloads as a list of links (web only: the PDF has no such files). Each link is
    marked external so that MyST keeps its relative URL as written."""
    from urllib.parse import quote

    from ..data.downloads import FOLDER, files

    found = []
    for f in files(tables.descriptor):
        what = f"{f['format']}, {count(len(tables[f['table']]), 'row')}" if f["table"] else f["format"]
        href = quote(f"../{FOLDER}/{f['name']}")  # percent-encoded: no Markdown syntax survives in it
        found.append(f"- [{md(f['name'])}](<{href}>){{.external}} ({md(what)}): {md(f['title'])}")
    return RawMd("\n".join(found))


def correction_rows(tables, kinds: dict[str, str]) -> list[list]:
    """The corrections, by line, each kind in words (``kinds``)."""
    fixes = tables.corrections.sort_values(["line", "id"])
    return [
        [
            str(f.line),
            f.as_printed,
            f.reading,
            kinds.get(f.kind, f.kind),
            "yes" if f.applied else "no",
            f.confidence if pd.notna(f.confidence) else None,
            f.reason,
        ]
        for f in fixes.itertuples()
    ]


def corrections_by_kind(tables) -> list[tuple[str, int]]:
    """(kind, number) of the applied corrections, most frequent first."""
    fixes = tables.corrections
    counts = fixes[fixes.applied].groupby("kind").size().sort_values(ascending=False, kind="stable")
    return [(str(k), int(n)) for k, n in counts.items()]


def source_rows(tables) -> list[list]:
    """Annex III: every line of the source as received, with its number (the anchor the
    quotations' footnotes link to) and where the report gives it (filled in by the build) or
    why it is not reproduced."""
    reasons: dict[int, str] = {}
    for r in tables.not_reproduced.itertuples():
        for n in line_range(r.source_lines):
            reasons[n] = str(r.reason)
    headings = {line_range(r.source_lines).start: str(r.heading) for r in tables.parts.itertuples()}
    headings.update(
        {
            line_range(r.source_lines).start: str(r.title)
            for r in tables.report_structure.itertuples()
            if line_range(r.source_lines).start not in headings
        }
    )
    rows = []
    for n, text in enumerate(tables.source_lines(), start=1):
        if n in reasons:
            where = RawMd(f"not reproduced: {md(reasons[n])}")
        elif n in headings:  # the build links the heading of a page, if it is one, and the paragraphs
            where = RawMd(f"[{md(headings[n])}]{{.{WHERE} .{TITLE} .{LINES}{n}}}")
        elif text.strip():
            where = RawMd(f"[…]{{.{WHERE} .{LINES}{n}}}")
        else:
            where = RawMd("")
        rows.append([RawMd(f"[{n}]{{.{SOURCE_LINE}}}"), RawMd(literal(text)), where])
    return rows


def literal(text: str) -> str:
    """Text as an inline code span that shows exactly that text (spaces and backticks included)."""
    if not text.strip():
        return ""
    fence = "`" * (max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    # CommonMark drops one space at each end of a code span that has one at both ends, and a
    # fence needs a space between it and a backtick of the text: pad, and the padding is dropped.
    pad = " " if text[0] == "`" or text[-1] == "`" or (text[0] == " " and text[-1] == " ") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def provenance_rows(tables) -> list[list[str]]:
    """Every file of the data package with its checksum and, for tables, its row count."""
    rows = []
    for resource in tables.descriptor["resources"]:
        rows.append([resource["path"], str(len(tables[resource["name"]])), tables.file_digest(resource["path"])])
    rows.append(["datapackage.json", None, tables.file_digest("datapackage.json")])
    for source in tables.descriptor.get("sources", []):
        if source.get("path"):
            rows.append([source["path"], None, tables.file_digest(source["path"])])
    return rows


def tool_rows() -> list[list[str]]:
    from ..settings import tools

    return [[name_, version] for name_, version in tools().items()]
