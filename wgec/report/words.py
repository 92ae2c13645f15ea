"""Words for the report's framing sentences, in UN editorial style.

- Numbers: one to nine in words, 10 and above in figures; but numbers in a series, or close
  together in one sentence and referring to the same kind of thing, all take the style of the
  highest ("4, 10 and 7 focus areas", not "four, 10 and seven"): the rule of the United
  Nations Editorial Manual ("Numbers occurring together or in a series").
- Lists: "A, B and C" (no serial comma).
- Paragraph references: each paragraph once, in order, runs as "69 to 71" ("paragraphs 35,
  58 and 69 to 71"), as United Nations documents cite them.
- Dates: "25 September 2017", "25–27 September 2017".

Pure functions of plain text: the callers escape data (``wgec.page``) before or after.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence

from ..settings import un_date

WORDS = ["no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
# A value in a notebook's Markdown: ``{eval}`expression``` (MyST's inline expression role, as
# jupyterlab-myst evaluates it in JupyterLab and wgec.report.page.markdown for the book).
EVAL = re.compile(r"\{eval\}`([^`]+)`")
_CODE = re.compile(r"^[ ]{0,3}(`{3,}|~{3,})[^\n]*\n.*?(?:^[ ]{0,3}\1[^\n]*$|\Z)|(`{2,}).+?\2", re.M | re.S)


def fill_values(text: str, value) -> str:
    """``text`` with each ``{eval}`expression``` replaced by ``value(expression)``, except where
    MyST reads no role: in fenced code and in code spans of two or more backticks."""
    out, at = [], 0
    code = [m.span() for m in _CODE.finditer(text)]
    for match in EVAL.finditer(text):
        if any(start <= match.start() < end for start, end in code):
            continue
        out += [text[at : match.start()], value(match.group(1))]
        at = match.end()
    return "".join(out) + text[at:]


ORDINALS = ["zeroth", "first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth"]


def number(n: int, figures: bool = False) -> str:
    """0-9 in words, 10 and above in figures; ``figures`` forces figures (a number in a series
    whose highest number is 10 or more)."""
    return WORDS[n] if 0 <= n < 10 and not figures else f"{n:,}"


def ordinal(n: int) -> str:
    if 0 <= n < len(ORDINALS):
        return ORDINALS[n]
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def noun(n: int, singular: str, plural: str | None = None) -> str:
    return singular if n == 1 else (plural or singular + "s")


def count(n: int, singular: str, plural: str | None = None, figures: bool = False) -> str:
    """'one level', 'three levels', '12 organizations'."""
    return f"{number(n, figures)} {noun(n, singular, plural)}"


def in_series(numbers: Iterable[int]) -> bool:
    """Whether the numbers of one series are set in figures: when the highest is 10 or more."""
    return max(list(numbers) or [0]) >= 10


def series(counts: Sequence[tuple[int, str] | tuple[int, str, str]], conjunction: str = "and") -> str:
    """A list of counts in one number style: '21 focus areas, 8 characteristics and 15 organizations'."""
    figures = in_series(c[0] for c in counts)
    return join([count(*c, figures=figures) for c in counts], conjunction)


def join(items: Iterable[str], conjunction: str = "and") -> str:
    """'A', 'A and B', 'A, B and C' (UN English: no serial comma)."""
    items = list(items)
    if not items:
        return ""
    if len(items) == 1:
        return items[0]
    return f"{', '.join(items[:-1])} {conjunction} {items[-1]}"


def capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def lower_first(text: str) -> str:
    """Lower-case a name's first letter for use mid-sentence, unless it is an acronym."""
    if len(text) > 1 and text[1].isupper():
        return text
    return text[:1].lower() + text[1:]


def lines(spec: str) -> str:
    """'103-104' as 'lines 103–104', '109' as 'line 109'."""
    start, _, end = str(spec).partition("-")
    return f"lines {start}–{end}" if end and end != start else f"line {start}"


def line_range(spec: str) -> range:
    """'103-104' as range(103, 105)."""
    start, _, end = str(spec).partition("-")
    return range(int(start), int(end or start) + 1)


def span(specs: Iterable[str]) -> str:
    """The smallest line range holding all of ``specs``: '103-112'; '' for none."""
    numbers = [n for spec in specs for n in (line_range(spec).start, line_range(spec).stop - 1)]
    if not numbers:
        return ""
    low, high = min(numbers), max(numbers)
    return f"{low}-{high}" if high != low else str(low)


def _key(paragraph: str) -> tuple:
    """'35 (a)' sorts after '35' and before '58': by the main number (the part before any space),
    its digits as numbers."""
    main = str(paragraph).split()[0]
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in re.split(r"(\d+)", main) if p)


def paragraphs(numbers: Iterable[str]) -> str:
    """Paragraph numbers as a reference: each main number once, in order, three or more in a row
    as a range: ['69', '35', '35 (a)', '35 (d)', '58', '70', '71'] -> '35, 58 and 69 to 71'."""
    mains = sorted({str(n).split()[0] for n in numbers if str(n).strip()}, key=_key)
    groups: list[list[str]] = []
    for n in mains:
        if groups and n.isdigit() and groups[-1][-1].isdigit() and int(n) == int(groups[-1][-1]) + 1:
            groups[-1].append(n)
        else:
            groups.append([n])
    parts = []
    for group in groups:
        if len(group) >= 3:
            parts.append(f"{group[0]} to {group[-1]}")
        else:
            parts.extend(group)
    return join(parts)


def date_range(start: dt.date, end: dt.date) -> str:
    """'25–27 September 2017', '30 September 2016', '29 January–1 February 2018'."""
    if start == end:
        return un_date(start)
    if (start.year, start.month) == (end.year, end.month):
        return f"{start.day}–{un_date(end)}"
    if start.year == end.year:
        return f"{start.day} {start:%B}–{un_date(end)}"
    return f"{un_date(start)}–{un_date(end)}"


_FIELD = re.compile(r"(?<!:::)(?<!```)\{(\w+)\}(`?)")


def fill(template: str, escape=str, **values) -> str:
    """``template`` with each ``{name}`` replaced by its value, passed through ``escape``.

    A ``{name}`` with no value is MyST syntax and stays as written when it is a role (followed by
    a backtick: ``{numref}`fig-x```) or a directive (after ``:::`` or a code fence:
    ``:::{container}``); any other ``{name}`` must have a value (a sentence with a hole is an
    error, not a page with "{areas}" on it).
    """

    def value(match: re.Match) -> str:
        name, tick = match.groups()
        if name in values:
            return escape(values[name]) + tick
        if tick:
            return match.group(0)
        raise KeyError(f"no value for {{{name}}} in the sentence {template!r}")

    return _FIELD.sub(value, template)
