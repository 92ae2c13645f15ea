"""The concordance: the report says what the contribution says, and all of it.

Checked on the book as built (the record :mod:`wgec.book.quotations` writes), against the
source text with the applied corrections of ``corrections.csv`` made:

1. **Every quotation is the source's text**: each quoted span stands, word for word, in the
   lines it names (the lines joined as a reader reads them: one space between lines, none
   after a line-final hyphen; runs of white space count as one).
2. **Headings**: the title of every chapter and section of the report's body is a heading
   the contribution gives (``parts.csv``), or, for a section its proposals have no text for,
   the title of its draft structure (``report_structure.csv``).
3. **Under the contribution's part, in its order**: a quotation stands in the report's section
   for the part of the contribution it comes from (``parts.outline``), and the quotations
   follow one another in the order of the contribution. A passage quoted again (the same
   passage a second time), or from another part where the report needs it (``elsewhere``), is
   checked word for word only.
4. **Every passage accounted for**: every character of the source (but white space, list
   bullets and the commas between the items of a list) is in a quotation, a heading, or a
   passage listed in ``not_reproduced.csv`` with the reason.

A problem names the source line (and the notebook, for a quotation), so that a data edit that
drops a bullet, or a quotation changed by one word, stops the build with where to look.
"""

from __future__ import annotations

import bisect
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from ..report.words import line_range, lines

IGNORED = set(" \t\n•,")  # what the report need not quote: spacing, list bullets, list commas
SHOWN = 70  # characters of a passage shown in a message


def _clip(text: str) -> str:
    text = re.sub(r"\s+", " ", text).strip()
    return f"“{text if len(text) <= SHOWN else text[: SHOWN - 1] + '…'}”"


class Source:
    """The contribution's text after the corrections, with each character's place."""

    def __init__(self, corrected_lines: list[str]):
        self.lines = corrected_lines
        self.text = "\n".join(corrected_lines)
        self.starts = [0]
        for line in corrected_lines[:-1]:
            self.starts.append(self.starts[-1] + len(line) + 1)
        self.segments: dict[str, tuple[str, list[int]]] = {}  # by spec: many passages share their lines

    def line_of(self, offset: int) -> int:
        return bisect.bisect_right(self.starts, offset)

    def segment(self, spec: str) -> tuple[str, list[int]]:
        """The lines of ``spec`` as a reader reads them, and the offset in :attr:`text` of each
        character (an inserted space takes the offset of the line end before it)."""
        if spec not in self.segments:
            self.segments[spec] = self._segment(spec)
        return self.segments[spec]

    def _segment(self, spec: str) -> tuple[str, list[int]]:
        chars: list[tuple[str, int]] = []
        for n in line_range(spec):
            if not 1 <= n <= len(self.lines):
                return "", []
            line = self.lines[n - 1]
            lead = len(line) - len(line.lstrip())
            body = line.strip()
            if chars and body and chars[-1][0] != "-":
                chars.append((" ", self.starts[n - 1] - 1))
            chars += [(ch, self.starts[n - 1] + lead + i) for i, ch in enumerate(body)]
        out, offsets = [], []
        for ch, offset in chars:
            if ch.isspace():
                if out and out[-1] == " ":
                    continue
                ch = " "
            out.append(ch)
            offsets.append(offset)
        while out and out[-1] == " ":
            out.pop()
            offsets.pop()
        return "".join(out), offsets

    def locate(self, spec: str, text: str, after: int = 0) -> tuple[int, int] | None:
        """Where ``text`` stands in the lines of ``spec``: (start, end) offsets in :attr:`text`,
        the first place at or after ``after`` if there is one, else the first; None if it does not."""
        wanted = re.sub(r"\s+", " ", text).strip()
        segment, offsets = self.segment(spec)
        if not wanted or not segment:
            return None
        start = bisect.bisect_left(offsets, after)
        i = segment.find(wanted, start)
        if i < 0:
            i = segment.find(wanted)
        if i < 0:
            return None
        return offsets[i], offsets[i + len(wanted) - 1] + 1

    def reads(self, spec: str) -> str:
        return self.segment(spec)[0]


@dataclass
class Result:
    """What the check found: the problems, and the figures of the concordance."""

    problems: list[str] = field(default_factory=list)
    rendered: int = 0  # passages (quotations and headings) the report's body gives
    not_reproduced: int = 0  # passages listed in not_reproduced.csv
    characters: int = 0  # characters of the source to account for
    accounted: int = 0  # ... accounted for

    @property
    def passages(self) -> int:
        return self.rendered + self.not_reproduced

    def figures(self) -> dict:
        return {
            "passages": self.passages,
            "rendered": self.rendered,
            "not_reproduced": self.not_reproduced,
            "characters": self.characters,
            "characters_accounted_for": self.accounted,
        }


def _parts(tables) -> list[tuple[int, object]]:
    return sorted((line_range(r.source_lines).start, r) for r in tables.records("parts"))


def _part_of(parts, line: int):
    found = None
    for first, part in parts:
        if first <= line:
            found = part
    return found


def _rows_on(tables, spec: str) -> str:
    """The data rows that give these lines, for a message: ' (focus_areas.csv row 4)'."""
    wanted = set(line_range(spec))
    found = []
    for resource in tables.descriptor["resources"]:
        if not any(f["name"] == "source_lines" for f in resource["schema"]["fields"]):
            continue
        for row in tables.records(resource["name"]):
            if row.source_lines and wanted & set(line_range(str(row.source_lines))):
                found.append(f"{resource['path']} row {row.Index + 2}")
    return f" (given by {', '.join(found[:3])}{', …' if len(found) > 3 else ''})" if found else ""


def check(record: dict, tables) -> Result:
    """Check the record of the book's quotations against the source and the data."""
    source = Source(tables.corrected_lines())
    result = Result()
    covered = bytearray(len(source.text))
    spans: set[tuple[int, int]] = set()
    parts = _parts(tables)
    outline_of = {r.id: r.outline for r in tables.records("parts")}
    problems = result.problems

    def cover(located: tuple[int, int]) -> None:
        spans.add(located)
        covered[located[0] : located[1]] = b"\1" * (located[1] - located[0])

    # 2. headings
    hosts: dict[str, str] = {}
    for doc in record["documents"]:
        if not doc["heading"]:
            continue
        where = f"{doc['docname']}.md"
        parts_named = [r for r in tables.records("parts") if r.heading == doc["title"]]
        sections = [r for r in tables.records("report_structure") if r.title == doc["title"]]
        if not parts_named and not sections:
            problems.append(
                f"{where}: the heading {_clip(doc['title'])} is not a heading the contribution gives "
                "(parts.csv) nor a title of its draft structure (report_structure.csv); a change to "
                "the contributor's wording is made in corrections.csv"
            )
            continue
        hosts[doc["docname"]] = parts_named[0].outline if parts_named else sections[0].id
        for r in parts_named:
            for text in (str(r.number), str(r.heading)):
                located = source.locate(str(r.source_lines), text)
                if located is None:
                    problems.append(
                        f"parts.csv, row {r.Index + 2}: {_clip(text)} is not in contribution "
                        f"{lines(r.source_lines)}, which reads {_clip(source.reads(r.source_lines))}"
                    )
                else:
                    cover(located)

    # 1 and 3. quotations
    last = (0, "", "")
    mismatched: set[int] = set()  # lines of a quotation that is not the source's text: said once
    for doc in record["documents"]:
        where = f"{doc['docname']}.md"
        for quote in doc["quotes"]:
            spec, text = quote["lines"], quote["text"]
            located = source.locate(spec, text, 0 if quote["elsewhere"] else last[0])
            if located is None:
                mismatched.update(line_range(spec))
                problems.append(
                    f"{where}: the quotation of contribution {lines(spec)} is not the source's text after "
                    f"the corrections: {_clip(text)}; {lines(spec)} {'read' if '-' in spec else 'reads'} "
                    f"{_clip(source.reads(spec))}" + _rows_on(tables, spec)
                )
                continue
            if quote["elsewhere"] or located in spans:  # quoted again: checked word for word only
                continue
            part = _part_of(parts, source.line_of(located[0]))
            if part is None or outline_of.get(part.id) != hosts.get(doc["docname"]):
                under = f"under part {part.number} “{part.heading}”" if part is not None else "before its first part"
                problems.append(
                    f"{where}: the quotation of contribution {lines(spec)} ({_clip(text)}) is not in "
                    f"the report's section for the part it comes from: the contribution puts it {under} "
                    "(parts.csv, column outline)"
                )
            if located[0] < last[0]:
                problems.append(
                    f"{where}: the quotation of contribution {lines(spec)} ({_clip(text)}) comes after "
                    f"that of {lines(last[1])} in {last[2]}.md, but before it in the contribution; the "
                    "report keeps the contribution's order"
                )
            last = (located[0], spec, doc["docname"])
            cover(located)
    result.rendered = len(spans)

    # 4. passages not reproduced, then everything else
    for r in tables.records("not_reproduced"):
        located = source.locate(str(r.source_lines), str(r.text))
        if located is None:
            problems.append(
                f"not_reproduced.csv, row {r.Index + 2}, column 'text': found {_clip(str(r.text))}; "
                f"expected the text of contribution {lines(r.source_lines)} after the corrections, "
                f"{_clip(source.reads(str(r.source_lines)))}"
            )
        else:
            cover(located)
            result.not_reproduced += 1
    missing = [i for i, ch in enumerate(source.text) if ch not in IGNORED and not covered[i]]
    result.characters = sum(1 for ch in source.text if ch not in IGNORED)
    result.accounted = result.characters - len(missing)
    for run in _runs(source, missing):
        first, end = source.line_of(run[0]), source.line_of(run[-1])
        if mismatched & set(range(first, end + 1)):
            continue
        spec = str(first) if first == end else f"{first}-{end}"
        problems.append(
            f"contribution {lines(spec)}: {_clip(source.text[run[0] : run[-1] + 1])} is neither quoted in "
            "the report nor listed in not_reproduced.csv" + _rows_on(tables, spec)
        )
    return result


def _runs(source: Source, missing: list[int]) -> list[list[int]]:
    """Missing characters grouped into passages: a gap of ignored characters only does not split."""
    runs: list[list[int]] = []
    for i in missing:
        if runs and all(ch in IGNORED for ch in source.text[runs[-1][-1] + 1 : i]):
            runs[-1].append(i)
        else:
            runs.append([i])
    return runs


def verify(doctrees: Path, tables) -> Result:
    """Check the book built with ``doctrees`` (the record its Sphinx build wrote there)."""
    from .quotations import RECORD

    return check(json.loads((doctrees / RECORD).read_text(encoding="utf-8")), tables)


def describe(result: Result) -> str:
    n = len(result.problems)
    return (
        f"the report does not say what the contribution says ({n} problem{'s' if n != 1 else ''}); the previous "
        "output is unchanged:\n" + "\n".join(f"  - {p}" for p in result.problems)
    )
