"""The data downloads of the HTML book: every table as CSV, one Excel workbook, the descriptor.

Written by the build into ``OUT/html/data/`` (so the pages link to them with relative
links and they are part of the HTML output in ``manifest.json``); the PDFs are not
affected. Same data and source date, same bytes.

- **CSV**: UTF-8 with a byte order mark (what spreadsheet programs call "CSV UTF-8"),
  comma separated, CRLF line ends (RFC 4180). A text cell that starts with ``=``, ``+``,
  ``-``, ``@``, a tab or a carriage return gets a leading apostrophe, so a spreadsheet
  shows it as text instead of running it as a formula (OWASP, "CSV Injection"). Cells of
  ``integer`` and ``number`` columns (by the data package's Table Schema) are left as
  they are: ``-1`` stays a number.
- **XLSX** (openpyxl): one sheet per table, named after it, header row bold and frozen,
  numbers as numbers and every other cell as a text cell (never a formula: no
  apostrophe is needed). The workbook's dates and the ZIP entries' times are the build's
  source date.
- ``datapackage.json``: the data package descriptor, as in the data folder.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from pathlib import Path

from .. import settings
from ..data import DESCRIPTOR, DataError, read_csv
from ..data.downloads import FOLDER, WORKBOOK, csv_names, files

__all__ = [
    "FOLDER",
    "WORKBOOK",
    "csv_bytes",
    "csv_names",
    "files",
    "neutralize",
    "sheet_names",
    "workbook_bytes",
    "write",
]

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
NUMERIC = {"integer", "number"}
_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")


def neutralize(cell: str) -> str:
    """A text cell made safe to open in a spreadsheet: a formula start gets a leading apostrophe."""
    return "'" + cell if cell.startswith(FORMULA_STARTS) else cell


def _tables(data_path: Path, descriptor: dict):
    """(resource, field types, rows of text cells) for every table, as the build validated them."""
    problems = []
    for resource in descriptor["resources"]:
        read = read_csv(data_path, resource, problems)
        if read is None:
            raise DataError(problems)
        fields, rows, _ = read
        types = [f.get("type", "string") for f in resource["schema"]["fields"]]
        yield resource, fields, types, rows


def csv_bytes(fields: list[str], types: list[str], rows: list[list[str]]) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([neutralize(name) for name in fields])
    for row in rows:
        writer.writerow([cell if kind in NUMERIC else neutralize(cell) for cell, kind in zip(row, types)])
    return buffer.getvalue().encode("utf-8-sig")


def _number(cell: str, kind: str):
    if not cell:
        return None
    try:
        return int(cell) if kind == "integer" else float(cell)
    except ValueError:  # a number format the schema allows but Python does not read: keep the text
        return cell


def sheet_names(names: list[str]) -> list[str]:
    """Excel's rules for sheet names: 1-31 characters, none of []:*?/\\, unique ignoring case."""
    out, seen = [], set()
    for name in names:
        base = (_SHEET_FORBIDDEN.sub("_", name).strip("'") or "table")[:31]
        candidate, n = base, 1
        while candidate.lower() in seen:
            n += 1
            candidate = f"{base[: 31 - len(str(n)) - 1]}_{n}"
        seen.add(candidate.lower())
        out.append(candidate)
    return out


def workbook_bytes(tables: list[tuple[str, list[str], list[str], list[list[str]]]], when: dt.datetime) -> bytes:
    """One XLSX workbook, one sheet per (name, fields, types, rows), with fixed dates."""
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter
    from openpyxl.writer.excel import ExcelWriter

    book = Workbook()
    book.remove(book.active)
    bold = Font(bold=True)
    for title, (_name, fields, types, rows) in zip(sheet_names([t[0] for t in tables]), tables):
        sheet = book.create_sheet(title)
        widths = [len(f) for f in fields]
        for c, field in enumerate(fields, start=1):
            cell = sheet.cell(row=1, column=c, value=ILLEGAL_CHARACTERS_RE.sub("\ufffd", field))
            cell.data_type = "s"
            cell.font = bold
        for r, row in enumerate(rows, start=2):
            for c, (text, kind) in enumerate(zip(row, types), start=1):
                if kind in NUMERIC:
                    value = _number(text, kind)
                else:
                    value = ILLEGAL_CHARACTERS_RE.sub("\ufffd", text) if text else None
                if value is None:
                    continue
                cell = sheet.cell(row=r, column=c, value=value)
                if isinstance(value, str):
                    cell.data_type = "s"  # text, even when it starts with "=": never a formula
                widths[c - 1] = max(widths[c - 1], max(len(line) for line in str(value).split("\n")))
        for c, width in enumerate(widths, start=1):
            sheet.column_dimensions[get_column_letter(c)].width = min(max(width + 2, 8), 60)
        sheet.freeze_panes = "A2"
    stamp = when.astimezone(dt.UTC).replace(tzinfo=None, microsecond=0)
    book.properties.created = stamp
    book.properties.modified = stamp
    book.properties.creator = "WGEC Report"
    raw = io.BytesIO()
    # Workbook.save() would stamp "modified" with the clock; its writer, given the archive, does not.
    ExcelWriter(book, zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED)).save()
    return _fixed_zip(raw.getvalue(), stamp)


def _fixed_zip(content: bytes, when: dt.datetime) -> bytes:
    """The same ZIP with every entry dated ``when`` (zipfile stamps entries with the clock)."""
    date_time = (max(when.year, 1980), when.month, when.day, when.hour, when.minute, when.second)
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(content)) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=date_time)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o600 << 16
            target.writestr(entry, source.read(info))
    return out.getvalue()


def write(data_path: Path, descriptor: dict, folder: Path, when: dt.datetime | None = None) -> list[Path]:
    """Write the downloads of the (validated) data package in ``data_path`` into ``folder``."""
    when = when or settings.source_date()
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    sheets = []
    names = csv_names(descriptor)
    for resource, fields, types, rows in _tables(data_path, descriptor):
        target = folder / names[resource["name"]]
        target.write_bytes(csv_bytes(fields, types, rows))
        written.append(target)
        sheets.append((resource["name"], fields, types, rows))
    target = folder / WORKBOOK
    target.write_bytes(workbook_bytes(sheets, when))
    written.append(target)
    target = folder / DESCRIPTOR
    target.write_bytes((data_path / DESCRIPTOR).read_bytes())
    written.append(target)
    return written
