"""Words for the report's framing sentences: numbers, plurals, lists, line spans and dates in
UN style (one to nine in words, 10 and above in figures; no serial comma)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from ..settings import un_date

WORDS = ["no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
ORDINALS = ["zeroth", "first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth"]


def number(n: int) -> str:
    """0-9 in words, 10 and above in figures (UN editorial style)."""
    return WORDS[n] if 0 <= n < 10 else f"{n:,}"


def ordinal(n: int) -> str:
    if 0 <= n < len(ORDINALS):
        return ORDINALS[n]
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def count(n: int, singular: str, plural: str | None = None) -> str:
    """'one level', 'three levels', '12 organizations'."""
    return f"{number(n)} {singular if n == 1 else (plural or singular + 's')}"


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
    return f"lines {start}–{end}" if end else f"line {start}"


def date_range(start: dt.date, end: dt.date) -> str:
    """'25–27 September 2017', '30 September 2016', '29 January–1 February 2018'."""
    if start == end:
        return un_date(start)
    if (start.year, start.month) == (end.year, end.month):
        return f"{start.day}–{un_date(end)}"
    if start.year == end.year:
        return f"{start.day} {start:%B}–{un_date(end)}"
    return f"{un_date(start)}–{un_date(end)}"
