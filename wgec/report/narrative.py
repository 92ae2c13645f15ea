"""Sentences from data: every number, list and name in the report's prose is computed here.

Functions return MyST Markdown. Every string that comes from a table goes through
:func:`wgec.report.page.md`, so it reaches the page as literal text. Numbers follow UN
style: one to nine in words, 10 and above in figures.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence

import pandas as pd

from ..settings import un_date
from .page import md
from .words import capital, count, date_range, join, lines, lower_first, number, ordinal


def source_note(spec: str) -> str:
    return f"Contribution, {lines(spec)} (see annex III)."


def with_notes(text: str, notes: Sequence[str], key: str) -> str:
    """A paragraph with footnotes (the markers follow the punctuation, as in UN English)."""
    refs = "".join(f"[^{key}-{i}]" for i in range(1, len(notes) + 1))
    defs = "\n".join(f"[^{key}-{i}]: {note}" for i, note in enumerate(notes, start=1))
    return f"{text}{refs}\n\n{defs}" if notes else text


# --- levels and focus areas ----------------------------------------------------------


def _levels(tables) -> pd.DataFrame:
    return tables.levels.sort_values("position")


def level_phrase(name: str) -> str:
    return f"the {md(lower_first(name))} level"


def focus_area_counts(tables) -> pd.DataFrame:
    """Per level, in order: name, number of focus areas, whether the list is left open."""
    areas = tables.focus_areas
    rows = []
    for level in _levels(tables).itertuples():
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


def scope_summary(tables) -> str:
    counts = focus_area_counts(tables)
    total = int(counts.areas.sum())
    parts = [f"{count(int(r.areas), 'focus area')} at {level_phrase(r.name)}" for r in counts.itertuples()]
    text = (
        f"The contribution proposes {count(total, 'focus area')} of enhanced cooperation at "
        f"{count(len(counts), 'level')} of international public policy issues pertaining to the Internet: "
        f"{join(parts)} ({{numref}}`fig-focus-areas-by-level`)."
    )
    opened = [level_phrase(r.name) for r in counts.itertuples() if r.open]
    if opened:
        text += f" The list for {join(opened)} is left open, ending with “{md(_open_marker(tables))}”."
    if total:
        top = counts[counts.areas == counts.areas.max()]
        if len(top) == len(counts) and len(counts) > 1:
            text += f" Each level has {count(int(top.areas.iloc[0]), 'focus area')}."
        else:
            names = join(level_phrase(n) for n in top.name)
            verb = "has" if len(top) == 1 else "share"
            text += f" {capital(names)} {verb} the most, with {number(int(top.areas.iloc[0]))}."
    empty = counts[counts.areas == 0]
    if len(empty):
        text += f" No focus area is listed for {join(level_phrase(n) for n in empty.name)}."
    return text


def _open_marker(tables) -> str:
    areas = tables.focus_areas
    return areas[areas.kind == "list continues"].text.iloc[0]


def focus_area_list(tables, level_id: str) -> str:
    """One level's focus areas as a bulleted list, each with its source line as a footnote."""
    areas = tables.focus_areas
    mine = areas[(areas.level == level_id) & (areas.kind == "focus area")].sort_values("position")
    if mine.empty:
        return "*None listed.*"
    return "\n".join(f"- {md(a.text)}" for a in mine.itertuples())


def level_intro(tables, level_id: str) -> str:
    counts = focus_area_counts(tables).set_index("id")
    row = counts.loc[level_id]
    areas = tables.focus_areas
    mine = areas[areas.level == level_id]
    spec = _span(mine.source_lines)
    text = (
        f"At {level_phrase(row['name'])}, the contribution lists "
        f"{count(int(row['areas']), 'focus area')}" + (", and leaves the list open" if row["open"] else "") + ":"
    )
    return with_notes(text, [source_note(spec)] if spec else [], f"lvl-{level_id}")


def _span(specs: Iterable[str]) -> str:
    numbers = []
    for spec in specs:
        start, _, end = str(spec).partition("-")
        numbers += [int(start), int(end or start)]
    if not numbers:
        return ""
    low, high = min(numbers), max(numbers)
    return f"{low}-{high}" if high != low else str(low)


def alt_focus_areas_by_level(tables) -> str:
    counts = focus_area_counts(tables)
    parts = [f"{r.name}: {r.areas}" + (" (list left open)" if r.open else "") for r in counts.itertuples()]
    return f"Horizontal bar chart of the number of focus areas per level. {'; '.join(parts)}."


# --- organizations ------------------------------------------------------------------


def organization_summary(tables) -> str:
    orgs = tables.organizations
    roles = tables.organization_roles
    levels = _levels(tables)
    un = orgs[orgs.kind == "UN entity"]
    forums = orgs[orgs.kind == "forum"]
    text = (
        f"The contribution names {count(len(orgs), 'organization')} to be involved in enhanced "
        f"cooperation: {count(len(un), 'United Nations entity', 'United Nations entities')} and "
        f"{count(len(forums), 'forum')} ({{numref}}`tab-organizations`, {{numref}}`fig-organization-matrix` "
        "and {numref}`fig-organization-network`)."
    )
    per_org = roles.groupby("organization")["level"].nunique()
    everywhere = sorted(per_org[per_org == len(levels)].index)
    several = sorted(per_org[(per_org > 1) & (per_org < len(levels))].index)
    if everywhere and len(levels) > 1:
        verb = "is" if len(everywhere) == 1 else "are"
        text += f" {join(md(o) for o in everywhere)} {verb} named at every level."
    if several:
        verb = "is" if len(several) == 1 else "are"
        text += f" {join(md(o) for o in several)} {verb} named at more than one level."
    per_level = roles[roles.column == "UN agencies"].groupby("level").organization.nunique()
    if len(per_level):
        top = per_level[per_level == per_level.max()].index
        names = dict(zip(levels.id, levels.name))
        text += (
            f" {capital(join(level_phrase(names[level]) for level in top))} "
            f"{'names' if len(top) == 1 else 'each name'} the most United Nations entities, "
            f"{number(int(per_level.max()))}."
        )
    return text


def organizations_at_level(tables, level_id: str) -> str:
    """'At the content level: UNESCO and UNCTAD among the UN agencies; WSIS Forum, IGF and HLPF as forums.'"""
    roles = tables.organization_roles
    mine = roles[roles.level == level_id].sort_values("position")
    name = tables.levels.set_index("id").loc[level_id, "name"]
    un = [md(o) for o in mine[mine.column == "UN agencies"].organization]
    forums = [md(o) for o in mine[mine.column == "Forums"].organization]
    parts = []
    if un:
        parts.append(f"{join(un)} among the United Nations agencies")
    if forums:
        parts.append(f"{join(forums)} among the forums")
    body = "; ".join(parts) if parts else "no organization"
    spec = _span(mine.source_lines)
    return with_notes(
        f"At {level_phrase(name)}, the contribution names {body}.",
        [source_note(spec)] if spec else [],
        f"org-{level_id}",
    )


def alt_organization_matrix(tables) -> str:
    levels = _levels(tables)
    roles = tables.organization_roles
    parts = []
    for level in levels.itertuples():
        mine = roles[roles.level == level.id].sort_values(["column", "position"], ascending=[False, True])
        un = list(mine[mine.column == "UN agencies"].organization)
        forums = list(mine[mine.column == "Forums"].organization)
        parts.append(f"{level.name}: UN agencies {', '.join(un) or 'none'}; forums {', '.join(forums) or 'none'}")
    return (
        "Matrix of organizations (rows) by level (columns); a filled square marks the UN agencies column, "
        f"a hollow circle the forums column. {'. '.join(parts)}."
    )


def alt_organization_network(tables) -> str:
    roles = tables.organization_roles
    per_org = roles.groupby("organization")["level"].nunique()
    orgs = tables.organizations
    un = orgs[orgs.kind == "UN entity"].acronym
    forums = orgs[orgs.kind == "forum"].acronym
    return (
        f"Diagram linking {len(un)} UN entities on the left and {len(forums)} forums on the right to the "
        f"{len(tables.levels)} levels in the middle. "
        + "; ".join(
            f"{o} is linked to {per_org.get(o, 0)} level{'s' if per_org.get(o, 0) != 1 else ''}"
            for o in list(un) + list(forums)
        )
        + "."
    )


# --- characteristics ----------------------------------------------------------------


def characteristics_summary(tables) -> str:
    chars = tables.characteristics.sort_values("position")
    items = [md(lower_first(t)) for t in chars.text]
    text = (
        f"The contribution lists {count(len(chars), 'high-level characteristic')} of enhanced "
        f"cooperation: {join(items)}."
    )
    echoes = characteristic_echoes(tables)
    if echoes:
        parts = [f"“{md(lower_first(c))}” ({md(where)})" for c, where in echoes]
        text += (
            f" {capital(number(len(echoes)))} of them echo the wording of the texts the contribution "
            f"recalls: {join(parts)}."
        )
    return text


def characteristic_echoes(tables) -> list[tuple[str, str]]:
    """Characteristics (of two words or more) whose wording appears in a recalled mandate paragraph."""
    found = []
    mandates = tables.mandate_paragraphs.sort_values("position")
    for text in tables.characteristics.sort_values("position").text:
        if len(str(text).split()) < 2:
            continue  # a single word ("International") matches too loosely to be an echo
        for m in mandates.itertuples():
            if str(text).lower() in str(m.text).lower():
                found.append((text, citation(m.instrument, m.paragraph)))
                break
    return found


def citation(instrument: str, paragraph: str) -> str:
    return f"{instrument}, para. {paragraph}"


# --- mandate and meetings -----------------------------------------------------------


def mandate_quotes(tables, instrument: str) -> str:
    """The paragraphs of one instrument the contribution recalls, as block quotes with citations."""
    mandates = tables.mandate_paragraphs
    mine = mandates[mandates.instrument == instrument].sort_values("position")
    blocks = []
    for m in mine.itertuples():
        how = {"quoted": "", "quoted in part": " (quoted in part)", "framed": " (in the contribution’s words)"}
        blocks.append(f"> {md(m.text)}\n>\n> — {md(citation(m.instrument, m.paragraph))}{how.get(m.quoted, '')}")
    return "\n\n".join(blocks)


def mandate_intro(tables, instrument: str) -> str:
    mandates = tables.mandate_paragraphs
    mine = mandates[mandates.instrument == instrument].sort_values("position")
    paras = [md(p) for p in mine.paragraph]
    word = "paragraph" if len(paras) == 1 else "paragraphs"
    what = (
        f"General Assembly resolution {md(instrument)}" if instrument.startswith("A/RES/") else f"the {md(instrument)}"
    )
    spec = _span(mine.source_lines)
    key = "mandate-" + re.sub(r"[^a-z0-9]", "", instrument.lower())
    return with_notes(
        f"The contribution recalls {word} {join(paras)} of {what}:", [source_note(spec)] if spec else [], key
    )


def membership(tables) -> str:
    groups = tables.wgec_membership.sort_values("position")
    parts = []
    for g in groups.itertuples():
        note = f" ({md(g.note)})" if pd.notna(g.note) and g.note else ""
        parts.append(f"{md(g.group)}, {number(int(g.seats))}{note}")
    return (
        f"The Working Group had {count(int(groups.seats.sum()), 'member')}, by stakeholder group: {'; '.join(parts)}."
    )


def meetings_summary(tables, meeting: int | None) -> str:
    meetings = tables.wgec_meetings.sort_values("number")
    dated = meetings[meetings.start_date.notna()]
    places = sorted(set(meetings.place))
    text = f"The Working Group held {count(len(meetings), 'meeting')}"
    if len(places) == 1:
        text += f", all in {md(places[0])}"
    if len(dated):
        text += f", between {un_date(dated.start_date.min().date())} and {un_date(dated.end_date.max().date())}"
    text += " ({numref}`fig-meetings-timeline`)."
    undated = meetings[meetings.start_date.isna()]
    if len(undated):
        which = join(ordinal(int(n)) for n in undated.number)
        text += (
            f" The date of the {which} meeting{'s' if len(undated) > 1 else ''} was not found in the "
            "sources consulted and is left blank rather than guessed."
        )
    if meeting is not None:
        row = meetings[meetings.number == meeting]
        if len(row):
            text += f" The contribution was made to the {ordinal(meeting)} meeting"
            r = row.iloc[0]
            where = ", ".join(md(x) for x in (r.venue, r.place) if pd.notna(x) and x)
            if pd.notna(r.start_date):
                text += f" ({where}, {date_range(r.start_date.date(), r.end_date.date())})."
            else:
                text += f" ({where}; date not found)."
    return text


def meeting_line(tables, meeting: int | None) -> str:
    """The masthead's session line: 'Fourth meeting, Geneva, 25–27 September 2017'."""
    if meeting is None:
        return ""
    meetings = tables.wgec_meetings
    row = meetings[meetings.number == meeting]
    if row.empty:
        return capital(ordinal(meeting)) + " meeting"
    r = row.iloc[0]
    parts = [capital(ordinal(meeting)) + " meeting", md(r.place)]
    if pd.notna(r.start_date):
        parts.append(date_range(r.start_date.date(), r.end_date.date()))
    return ", ".join(parts)


def alt_meetings_timeline(tables, meeting: int | None) -> str:
    meetings = tables.wgec_meetings.sort_values("number")
    parts = []
    for m in meetings.itertuples():
        when = date_range(m.start_date.date(), m.end_date.date()) if pd.notna(m.start_date) else "date not found"
        mark = " (the meeting this contribution was made to)" if m.number == meeting else ""
        parts.append(f"meeting {m.number}: {when}{mark}")
    return f"Time line of the Working Group's meetings: {'; '.join(parts)}."


# --- report outline -----------------------------------------------------------------


def outline_summary(tables) -> str:
    structure = tables.report_structure
    top = structure[structure.parent.isna()].sort_values("position")
    subs = structure[structure.parent.notna()]
    names = [f"“{md(t)}”" for t in top.title]
    return (
        f"The contribution proposes a report in {count(len(top), 'part')}: {join(names)}, with "
        f"{count(len(subs), 'subsection')} under the {'parts' if subs.parent.nunique() > 1 else 'part'} "
        f"on {join(md(lower_first(t)) for t in top[top.id.isin(subs.parent)].title)} "
        "({numref}`tab-report-outline`). This report follows that outline."
    )


# --- format and recommendations -----------------------------------------------------


def format_summary(tables) -> str:
    forms = tables.format_options.sort_values("position")
    start = [f"a {md(f)}" for f in forms[forms.stage == "starting form"].form]
    end = [f"a {md(f)}" for f in forms[forms.stage == "end form"].form]
    hosts = [md(h) for h in tables.hosting_options.sort_values("position").host]
    text = (
        f"The contribution sees {count(len(forms), 'form')} the body or mechanism could take: "
        f"{join([f'a {md(f)}' for f in forms.form], 'or')} ({{numref}}`fig-format-path`)."
    )
    if start and end:
        text += (
            f" It allows for an evolutionary path: beginning with {join(start, 'or')}, which later "
            f"evolves into {join(end, 'or')}."
        )
    if hosts:
        text += (
            f" Should the process begin with a {join([md(f) for f in forms[forms.stage == 'starting form'].form], 'or')}, "
            f"the contribution asks that its hosting in a United Nations organization such as "
            f"{join(hosts)} be discussed."
        )
    spec = _span(list(forms.source_lines) + list(tables.hosting_options.source_lines))
    return with_notes(text, [source_note(spec)] if spec else [], "format")


def alt_format_path(tables) -> str:
    forms = tables.format_options.sort_values("position")
    start = list(forms[forms.stage == "starting form"].form)
    end = list(forms[forms.stage == "end form"].form)
    hosts = list(tables.hosting_options.sort_values("position").host)
    text = f"Diagram of the forms of the proposed body or mechanism. Starting forms: {'; '.join(start) or 'none'}."
    text += f" End form: {'; '.join(end) or 'none'}."
    if start and end:
        text += " Arrows show each starting form evolving into the end form."
    if hosts:
        text += f" Possible hosts: {', '.join(hosts)}."
    return text


def recommendations_intro(tables) -> str:
    recs = tables.recommendations
    n = int((recs.kind == "recommendation").sum())
    return f"The contribution makes {count(n, 'recommendation')}:"


def recommendation_items(tables) -> str:
    """The recommendations verbatim, as sub-paragraphs (a), (b), (c) with their source lines."""
    recs = tables.recommendations
    mine = recs[recs.kind == "recommendation"].sort_values("position")
    items = []
    for i, r in enumerate(mine.itertuples()):
        letter = "abcdefghijklmnopqrstuvwxyz"[i % 26]
        items.append(with_notes(f"({letter}) {md(r.text)}", [source_note(r.source_lines)], f"rec-{i + 1}"))
    return ":::{container} un-subparas\n" + "\n\n".join(items) + "\n:::"


def body_paragraphs(tables) -> list[str]:
    """The paragraphs on the proposed body/mechanism, verbatim, each with its source lines."""
    recs = tables.recommendations
    mine = recs[recs.kind == "body/mechanism"].sort_values("position")
    return [
        with_notes(md(r.text), [source_note(r.source_lines)], f"body-{i + 1}") for i, r in enumerate(mine.itertuples())
    ]


def statements(tables, section_id: str) -> list[str]:
    st = tables.statements
    mine = st[st.section == section_id].sort_values("position")
    return [with_notes(md(s.text), [source_note(s.source_lines)], f"st-{s.position}") for s in mine.itertuples()]


# --- front matter -------------------------------------------------------------------


def summary(tables) -> str:
    counts = focus_area_counts(tables)
    recs = tables.recommendations
    return (
        f"This paper sets out the structure and content that a contribution to the Working Group on "
        f"Enhanced Cooperation proposes for the Group’s report. The contribution identifies "
        f"{count(int(counts.areas.sum()), 'focus area')} of enhanced cooperation at "
        f"{count(len(counts), 'level')}, {count(len(tables.characteristics), 'high-level characteristic')} "
        f"and {count(len(tables.organizations), 'international organization or forum', 'international organizations and forums')} "
        f"to be involved, and makes {count(int((recs.kind == 'recommendation').sum()), 'recommendation')}, "
        f"followed by {count(int((recs.kind == 'body/mechanism').sum()), 'paragraph')} on a proposed "
        "United Nations body or mechanism."
    )


def masthead(settings: dict, tables, date: dt.date) -> str:
    """The UN masthead: organ, symbol (or a clear draft mark), distribution, date, session."""
    symbol = md(settings["symbol"]) if settings["symbol"] else "DRAFT"
    session = [md(settings["organ"]), md(settings["body"])]
    line = meeting_line(tables, settings["meeting"])
    if line:
        session.append(line)
    if settings["agenda_item"]:
        session.append(md(settings["agenda_item"]))
    meta = [f"Distr.: {md(settings['distribution'])}", un_date(date), "", f"Original: {md(settings['original'])}"]
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


def edition(settings: dict, tables, date: dt.date) -> str:
    """Which edition this is: symbol (or draft), date, and the checksum of the data it was built from."""
    symbol = f"symbol {md(settings['symbol'])}" if settings["symbol"] else "draft, no document symbol"
    return (
        f":::{{container}} un-edition\nEdition: {symbol}, {un_date(date)}. Data checksum (SHA-256 of "
        f"the data package, as in the build's `manifest.json`): `{tables.digest()}`.\n:::"
    )


def notices(settings: dict) -> list[str]:
    """The draft notice, the editing line and the contributor's disclaimer, as configured."""
    out = []
    if not settings["symbol"]:
        out.append("**Draft.** This paper has no document symbol: it is a working draft, not an official document.")
    if settings["reproduced_without_formal_editing"]:
        out.append("*This document is being reproduced without formal editing.*")
    if settings["disclaimer"]:
        out.append(md(settings["disclaimer"]))
    return out


# --- tables and annexes -------------------------------------------------------------


def outline_rows(tables) -> list[list[str]]:
    structure = tables.report_structure.sort_values("position")
    return [[s.number, s.title, s.description if pd.notna(s.description) else None] for s in structure.itertuples()]


def background_intro(tables) -> str:
    structure = tables.report_structure
    row = structure[structure.number == "2"]
    text = "This chapter follows the part of the proposed outline on background."
    if len(row) and pd.notna(row.description.iloc[0]):
        text += (
            f" The contribution says that it “{md(lower_first(row.description.iloc[0]))}”, and gives "
            "the examples that follow."
        )
    return text


def organization_rows(tables) -> list[list[str]]:
    levels = _levels(tables)
    names = dict(zip(levels.id, levels.name))
    order = {lid: i for i, lid in enumerate(levels.id)}
    roles = tables.organization_roles
    rows = []
    for o in tables.organizations.itertuples():
        at = sorted(roles[roles.organization == o.acronym].level, key=order.get)
        name = o.name + (f" (note: {o.note})" if pd.notna(o.note) and o.note else "")
        rows.append([o.acronym, name, o.kind, "; ".join(names[a] for a in at)])
    return rows


def data_annex_intro(tables) -> str:
    n_rows = sum(len(frame) for frame in tables.values())
    return (
        f"The report is built from {count(len(tables), 'table')} ({count(n_rows, 'row')} in all), "
        "described by the data package `datapackage.json` and validated against it before every build. "
        "They are reproduced here in full; the column `source_lines` points to the lines of the source "
        "text (annex III)."
    )


def data_downloads(tables) -> str:
    """The HTML book's list of data downloads, with links (web only: the PDF has no such files).
    Each link is marked external so that MyST keeps its relative URL as written instead of
    looking for the file among the book's sources."""
    from urllib.parse import quote

    from ..data.downloads import FOLDER, files

    items = []
    for f in files(tables.descriptor):
        what = f"{f['format']}, {count(len(tables[f['table']]), 'row')}" if f["table"] else f["format"]
        href = quote(f"../{FOLDER}/{f['name']}")  # percent-encoded: no Markdown syntax survives in it
        items.append(f"- [{md(f['name'])}](<{href}>){{.external}} ({md(what)}): {md(f['title'])}")
    return (
        "::::{container} un-web-only wgec-data-downloads\n:name: data-downloads\n\n"
        "The tables can be downloaded as CSV files (UTF-8; a text cell that starts with `=`, `+`, `-` or `@` "
        "is prefixed with an apostrophe so that spreadsheet programs do not run it as a formula), as one "
        "Excel workbook with a sheet per table, and with the data package descriptor:\n\n" + "\n".join(items) + "\n::::"
    )


def data_tables(tables):
    """Every table of the data package: (name, rows, header, caption)."""
    for resource in tables.descriptor["resources"]:
        name = resource["name"]
        frame = tables[name]
        rows = [[_show(v) for v in row] for row in frame.itertuples(index=False)]
        caption = f"{md(resource['path'])}: {md(resource.get('title', name))}"
        yield name, rows, list(frame.columns), caption


def _show(value):
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, pd.Timestamp):
        return None if pd.isna(value) else value.date().isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def corrections_intro(tables) -> str:
    fixes = tables.corrections
    applied = fixes[fixes.applied]
    kept = fixes[~fixes.applied]
    text = (
        f"The contribution was received as an OCR transcript of a paper copy. {capital(count(len(applied), 'reading'))} "
        "of damaged text were applied when its content was transcribed into the tables "
        "({numref}`tab-corrections`)"
    )
    by_kind = applied.groupby("kind").size()
    if len(by_kind):
        text += " (" + join(f"{number(int(n))} {md(k)}" for k, n in by_kind.items()) + ")"
    text += "."
    if len(kept):
        text += (
            f" {capital(count(len(kept), 'passage'))} that could look like damage {'was' if len(kept) == 1 else 'were'} "
            "kept as printed, because {} the author’s wording or a reading that is only a gloss.".format(
                "it is" if len(kept) == 1 else "they are"
            )
        )
    unsure = applied[applied.confidence.isin(["medium", "low"])]
    if len(unsure):
        text += (
            " Readings of less than high confidence: "
            + join(f"“{md(r.as_printed)}” read as “{md(r.reading)}” ({md(r.confidence)})" for r in unsure.itertuples())
            + "."
        )
    return text


def correction_rows(tables) -> list[list]:
    fixes = tables.corrections.sort_values(["line", "id"])
    return [
        [
            str(f.line),
            f.as_printed,
            f.reading,
            f.kind,
            "yes" if f.applied else "no",
            f.confidence if pd.notna(f.confidence) else None,
            f.reason,
        ]
        for f in fixes.itertuples()
    ]


def source_intro(tables) -> str:
    n = len(tables.source_lines())
    source = tables.descriptor["sources"][0]
    return (
        f"The text of the contribution as received ({md(source.get('title', 'source'))}), "
        f"{count(n, 'line')}, reproduced exactly, OCR damage included. The tables cite it by line number."
    )


def numbered_source(tables) -> str:
    lines = tables.source_lines()
    width = len(str(len(lines)))
    return "\n".join(f"{i:>{width}}  {line}" for i, line in enumerate(lines, start=1))


def provenance_intro(tables, date: dt.date) -> str:
    return (
        f"This edition was built on {un_date(date)} from the files in {{numref}}`tab-provenance-files` "
        "(with their SHA-256 checksums), by the tools in {numref}`tab-provenance-tools`. The same files and "
        "tools give the same report, byte for byte; the build's `manifest.json` also lists the checksum "
        "of every output."
    )


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

    return [[name, version] for name, version in tools().items()]
