"""Load the data package into typed DataFrames, validated against its Table Schemas.

The schemas in ``datapackage.json`` are the single statement of what valid data is;
frictionless checks types, required fields, enumerations, patterns, primary and
foreign keys. This module only does what a spreadsheet user needs before that:
accepts a BOM, CRLF and stray spaces, and turns everything else that is wrong into
one :class:`DataError` that lists every problem with file, row, column, value and
what was expected. Rows are counted as a spreadsheet counts them: the header is row 1.

Every path the descriptor names must stay inside the data directory (no ``..``, no
absolute path, no symbolic link pointing out of it), and no file may be larger than
:data:`MAX_FILE_BYTES` (10 MB, some thousand times the shipped tables): a larger file is
refused before it is read, so a wrong file cannot exhaust the memory of the build.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import hashlib
import io
import json
import re
import unicodedata
from collections import namedtuple
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .. import paths, session
from ..errors import DataError
from ..files import write_json

if TYPE_CHECKING:  # pandas and frictionless load in load(): `wgec build` with nothing to do needs neither
    import pandas as pd

DESCRIPTOR = "datapackage.json"
MAX_FILE_BYTES = 10 * 1024 * 1024
_DELIMITERS = {";": "semicolons", "\t": "tabs", "|": "vertical bars"}


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the data, located as a spreadsheet user would look for it."""

    file: str
    expected: str
    row: int | None = None
    column: str | None = None
    value: str | None = None

    def __str__(self) -> str:
        where = [self.file]
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column {self.column!r}")
        found = "" if self.value is None else f"found {_show(self.value)}; "
        return f"{', '.join(where)}: {found}expected {self.expected}"


class Tables(Mapping):
    """The data package's tables by name (``tables.focus_areas`` or ``tables['focus_areas']``),
    read-only. Every way to a table (indexing, attribute, ``get``, ``values``, ``items``,
    ``dict(tables)``) goes through :meth:`__getitem__`, which records the read (see
    :mod:`wgec.session`): a notebook runs again exactly when a table it used changed."""

    def __init__(self, cells: dict[str, tuple[dict, list[str], list[list[str]]]], data_dir: Path, descriptor: dict):
        # Each table's schema and validated text cells; its DataFrame is made when first read:
        # the build's own process reads none (it needs the descriptor, and rows for its checks),
        # so that it does not import pandas (a third of a second of each build).
        self._cells = dict(cells)
        self._frames: dict[str, pd.DataFrame] = {}
        self._records: dict[str, tuple[tuple, ...]] = {}
        self.data_dir = data_dir
        self.descriptor = descriptor

    def __getitem__(self, name: str) -> pd.DataFrame:
        frame = self._frames.get(name)
        if frame is None:
            frame = self._frames[name] = _frame(*self._cells[name])
        session.record(f"table:{name}")
        return frame

    def records(self, name: str) -> tuple[tuple, ...]:
        """The rows of a table as named tuples of Python values (``Index``: the row's position,
        as in ``DataFrame.itertuples``; an empty cell is None, a date a ``datetime.date``),
        without pandas; made once, recorded as read at each call."""
        session.record(f"table:{name}")
        found = self._records.get(name)
        if found is None:
            schema, header, rows = self._cells[name]
            columns = _columns(schema, header, rows)
            row_type = namedtuple("Row", ["Index", *columns], rename=True)
            found = self._records[name] = tuple(
                row_type(i, *(values[i] for values in columns.values())) for i in range(len(rows))
            )
        return found

    def __iter__(self) -> Iterator[str]:
        return iter(self._cells)

    def __len__(self) -> int:
        return len(self._cells)

    def __contains__(self, name: object) -> bool:  # asking whether a table exists reads none
        return name in self._cells

    def __getattr__(self, name: str) -> pd.DataFrame:
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    def source_lines(self) -> list[str]:
        """The primary source (the contribution's text), one string per line, as printed."""
        source = self.descriptor["sources"][0]["path"]
        path = _inside(self.data_dir, source)
        session.record(f"file:{source}")
        return path.read_text(encoding="utf-8").split("\n")

    def file_digest(self, relative: str) -> str:
        """SHA-256 of a file of the data package (recorded as read, like a table)."""
        session.record(f"file:{relative}")
        return hashlib.sha256(_inside(self.data_dir, relative).read_bytes()).hexdigest()

    def digest(self) -> str:
        """The combined SHA-256 of the data package (see :func:`digest`), recorded as read."""
        session.record(f"file:{DESCRIPTOR}")
        for resource in self.descriptor["resources"]:
            session.record(f"table:{resource['name']}")
        return digest(self.data_dir, self.descriptor)

    def corrected_lines(self) -> list[str]:
        """The source lines with every applied correction of the corrections table made."""
        lines = self.source_lines()
        for fix in self.records("corrections"):
            if not fix.applied:
                continue
            i = int(fix.line) - 1
            lines[i] = lines[i].replace(fix.as_printed, fix.reading, 1)
        return lines


def _show(value: str, limit: int = 60) -> str:
    """A value as quoted in a message; a long one keeps its start and its end (a path's file name)."""
    text = value if len(value) <= limit else value[: limit - 21] + "…" + value[-20:]
    return repr(text)


def _inside(data_dir: Path, relative: str) -> Path:
    """Resolve a path named by the descriptor, refusing anything outside the data directory."""
    base = data_dir.resolve()
    target = (base / relative).resolve()
    if Path(relative).is_absolute() or not target.is_relative_to(base):
        raise ValueError(f"{relative} points outside the data directory")
    return target


def digest(root: Path, descriptor: dict) -> str:
    """SHA-256 over the descriptor and every table file: what a validation vouches for."""
    h = hashlib.sha256((root / DESCRIPTOR).read_bytes())
    for res in descriptor["resources"]:
        path = _inside(root, res["path"])
        h.update(res["path"].encode() + b"\0" + (path.read_bytes() if path.is_file() else b""))
    return h.hexdigest()


DESCRIPTOR_CHECK = "*descriptor"  # the descriptor's entry in the memo (no table's name has a "*")


@functools.cache
def _validator() -> str:
    """The digest of the validator: this module's code and frictionless's version."""
    import frictionless

    return hashlib.sha256(Path(__file__).read_bytes() + frictionless.__version__.encode()).hexdigest()


def _checks(descriptor: dict, tables: dict) -> dict[str, str]:
    """For each table, the digest of all its validation depends on: the validator's code and
    version, its schema, its cells, and the cells of the tables its foreign keys point to."""
    code = _validator()
    cells = {name: hashlib.sha256(json.dumps(t[:2]).encode()).hexdigest() for name, t in tables.items()}
    found = {}
    for res in descriptor["resources"]:
        if res["name"] not in tables:
            continue
        referenced = sorted(
            {fk["reference"].get("resource") or res["name"] for fk in res["schema"].get("foreignKeys", [])}
        )
        parts = [code, json.dumps(res["schema"], sort_keys=True), cells[res["name"]]]
        parts += [f"{name}:{cells.get(name, '')}" for name in referenced]
        found[res["name"]] = hashlib.sha256("\0".join(parts).encode()).hexdigest()
    return found


def _checked_before(memo: Path | None) -> dict[str, str]:
    try:
        found = json.loads(memo.read_text()) if memo is not None else {}
    except (OSError, ValueError):
        return {}
    return found if isinstance(found, dict) else {}


def load(data_dir: str | Path | None = None, memo: str | Path | None = None) -> Tables:
    """Load and validate every table of the data package in ``data_dir``.

    ``data_dir``: by default the folder the build handed this kernel (:mod:`wgec.session`),
    else the shipped ``data/``. Raises :class:`DataError` listing every problem found;
    returns typed DataFrames. When the build has validated exactly these files already (it
    hands the kernel their digest), the validation is not repeated.

    ``memo``: a file where a valid load leaves, for each table, the digest of what its
    validation depended on (:func:`_checks`); a table whose digest is unchanged since is not
    validated again (the build keeps it in ``OUT/.cache``: after a one-table edit, the tables
    validated are that one and those whose foreign keys point to it).
    """
    root = paths.data_dir(data_dir) if data_dir is not None else (session.data_dir() or paths.DATA_DIR)
    try:
        trusted = json.loads((root / DESCRIPTOR).read_text(encoding="utf-8-sig"))
        if session.validated() != digest(root, trusted):
            trusted = None
    except (OSError, ValueError, KeyError, TypeError):
        trusted = None
    if trusted is not None:
        problems: list[Problem] = []
        read = {r["name"]: read_csv(root, r, problems) for r in trusted["resources"]}
        if not problems:
            return Tables({r["name"]: (r["schema"], *read[r["name"]][:2]) for r in trusted["resources"]}, root, trusted)

    from frictionless import Package, Report, Resource, Schema

    memo = Path(memo) if memo is not None else None
    before = _checked_before(memo)
    descriptor, problems = _read_descriptor(root, checked=before.get(DESCRIPTOR_CHECK))
    if descriptor is None:
        raise DataError(problems)

    tables: dict[str, tuple[list[str], list[list[str]], list[int]]] = {}
    for res in descriptor["resources"]:
        read = read_csv(root, res, problems)
        if read is not None:
            tables[res["name"]] = read

    checks = _checks(descriptor, tables)
    checks[DESCRIPTOR_CHECK] = _descriptor_check(descriptor)
    if problems:  # a table that could not be read: every other one is validated, to list all problems
        before = {}
    # The tables to validate (as they were not in this state before), and those their foreign
    # keys point to (a foreign key is looked up in the package): only these are made frictionless
    # resources (each schema is validated as it is made, 70 ms for all tables).
    due = {name for name in tables if before.get(name) != checks[name]}
    wanted = set(due)
    for res in descriptor["resources"]:
        if res["name"] in due:
            wanted |= {fk["reference"].get("resource") or res["name"] for fk in res["schema"].get("foreignKeys", [])}
    resources = []
    for res in descriptor["resources"]:
        if res["name"] not in tables or res["name"] not in wanted:
            continue
        schema = dict(res["schema"])
        # A foreign key into a table that could not be read would only repeat its error.
        schema["foreignKeys"] = [
            fk for fk in schema.get("foreignKeys", []) if (fk["reference"].get("resource") or res["name"]) in tables
        ]
        header, rows, _ = tables[res["name"]]
        resources.append(Resource(name=res["name"], data=[header, *rows], schema=Schema.from_descriptor(schema)))
    package = Package(resources=resources)
    # As Package.validate does (one resource after another, foreign keys looked up in the
    # package), for the tables not validated in this state before.
    report = Report.from_validation_reports(time=0, reports=[r.validate() for r in package.resources if r.name in due])
    schemas = {r["name"]: r["schema"] for r in descriptor["resources"]}
    for task in report.tasks:
        rownums = tables[task.name][2]
        for error in task.errors:
            problems.append(_problem(task.name, _file(descriptor, task.name), error, schemas[task.name], rownums))
    if problems:
        raise DataError(_unique(problems))
    if memo is not None and before != checks:
        memo.parent.mkdir(parents=True, exist_ok=True)
        write_json(memo, checks)
    return Tables({r["name"]: (r["schema"], *tables[r["name"]][:2]) for r in descriptor["resources"]}, root, descriptor)


def _file(descriptor: dict, name: str) -> str:
    return next(r["path"] for r in descriptor["resources"] if r["name"] == name)


def _unique(problems: list[Problem]) -> list[Problem]:
    seen, out = set(), []
    for p in problems:
        key = (p.file, p.row, p.column)
        # A cell that breaks a constraint usually breaks its foreign key too: say it once.
        if key in seen and p.row is not None:
            continue
        seen.add(key)
        out.append(p)
    return out


def _descriptor_check(descriptor: dict) -> str:
    """The digest of what the descriptor's own validation depends on: the validator, and the descriptor."""
    return hashlib.sha256((_validator() + json.dumps(descriptor, sort_keys=True)).encode()).hexdigest()


def _read_descriptor(root: Path, checked: str | None = None) -> tuple[dict | None, list[Problem]]:
    """The descriptor, or the problems that stop the load. ``checked``: the digest of a descriptor
    found valid before (:func:`_descriptor_check`): the same descriptor is not validated by
    frictionless again (two thirds of a load after a one-table edit); everything that depends on
    the files (paths, sources, sizes) still is."""
    from frictionless import FrictionlessException, Package

    path = root / DESCRIPTOR
    if not root.is_dir():
        return None, [Problem(str(root), "a data directory (it does not exist)")]
    if not path.is_file():
        return None, [Problem(DESCRIPTOR, f"a data package descriptor in {root} (the file is missing)")]
    try:
        _inside(root, DESCRIPTOR)
    except ValueError:
        return None, [Problem(DESCRIPTOR, "a file inside the data directory (it is a link pointing outside it)")]
    if (too_big := _too_big(path, DESCRIPTOR)) is not None:
        return None, [too_big]
    try:
        descriptor = json.loads(path.read_text(encoding="utf-8-sig"))
    except UnicodeDecodeError as exc:
        return None, [Problem(DESCRIPTOR, f"UTF-8 text ({exc.reason} at byte {exc.start})")]
    except json.JSONDecodeError as exc:
        return None, [Problem(DESCRIPTOR, f"valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})")]
    if (
        not isinstance(descriptor, dict)
        or not isinstance(descriptor.get("resources"), list)
        or not descriptor["resources"]
    ):
        return None, [Problem(DESCRIPTOR, "a JSON object with a list of resources")]
    # Paths first, in our words: frictionless would only call the whole descriptor "not valid".
    named = [(f"resource {r.get('name')!r}", r.get("path")) for r in descriptor["resources"] if isinstance(r, dict)]
    named += [
        (f"source {s.get('title') or s.get('path')!r}", s.get("path"))
        for s in descriptor.get("sources", [])
        if isinstance(s, dict) and "path" in s
    ]
    outside = []
    for what, relative in named:
        if not isinstance(relative, str):
            outside.append(Problem(DESCRIPTOR, f"a file path for {what}"))
            continue
        if Path(relative).is_absolute() or ".." in Path(relative).parts:  # links: see _read_csv
            outside.append(
                Problem(
                    DESCRIPTOR,
                    f"a path inside the data directory for {what} (data files cannot be read from anywhere else)",
                    value=relative,
                )
            )
    if outside:
        return None, outside
    try:
        if checked != _descriptor_check(descriptor):
            Package.from_descriptor(descriptor, basepath=str(root))
    except FrictionlessException as exc:
        details = "; ".join(r.message for r in exc.reasons) or exc.error.message
        return None, [Problem(DESCRIPTOR, f"a valid Frictionless data package ({details})")]
    for source in descriptor.get("sources", []):  # the contribution's text, which the notebooks read
        if isinstance(source, dict) and "path" in source:
            try:
                ok = _inside(root, source["path"]).is_file()
            except ValueError:
                return None, [
                    Problem(source["path"], "a file inside the data directory (the path or its link points outside it)")
                ]
            if not ok:
                return None, [
                    Problem(
                        source["path"], "the file to exist: the data package names it as a source, but it is missing"
                    )
                ]
    return descriptor, []


def _too_big(path: Path, name: str) -> Problem | None:
    size = path.stat().st_size
    if size <= MAX_FILE_BYTES:
        return None
    return Problem(
        name, f"a file of at most {MAX_FILE_BYTES // 2**20} MB (it has {size / 2**20:.1f} MB; is it the right file?)"
    )


def read_csv(root: Path, res: dict, problems: list[Problem]):
    """Read one CSV as a spreadsheet would save it; returns (header, rows, row numbers) or None."""
    name = res.get("path")
    if not isinstance(name, str):
        problems.append(Problem(DESCRIPTOR, f"a file path for resource {res.get('name')!r}"))
        return None
    try:
        path = _inside(root, name)
    except ValueError:
        problems.append(Problem(name, "a file inside the data directory (the path or its link points outside it)"))
        return None
    if not path.is_file():
        problems.append(Problem(name, "the file to exist: the data package lists it, but it is missing"))
        return None
    if (too_big := _too_big(path, name)) is not None:
        problems.append(too_big)
        return None
    raw = path.read_bytes()
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    if not raw.strip():
        problems.append(Problem(name, "a header row and data rows; the file is empty"))
        return None
    if b"\x00" in raw:
        problems.append(Problem(name, "a CSV text file; it contains binary data (NUL bytes)"))
        return None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        problems.append(
            Problem(
                name,
                f"UTF-8 text; byte 0x{raw[exc.start]:02x} at line {line}, character {column} "
                "is not UTF-8 (save the file as 'CSV UTF-8')",
                row=line,
            )
        )
        return None

    fields = [f["name"] for f in res["schema"]["fields"]]
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    records: list[list[str]] = []
    try:
        records.extend(reader)
    except csv.Error as exc:  # the row is the record that failed (a quoted cell may span lines)
        problems.append(
            Problem(name, f"well-formed CSV ({exc}; a quote left open, perhaps a truncated row?)", row=len(records) + 1)
        )
        return None
    header = [cell.strip() for cell in records[0]]
    if len(header) == 1 and len(fields) > 1:
        for delim, called in _DELIMITERS.items():
            if delim in header[0]:
                problems.append(
                    Problem(
                        name,
                        f"columns separated by commas; this file separates them with {called} "
                        "(save it as 'CSV UTF-8 (comma delimited)')",
                        row=1,
                        value=header[0],
                    )
                )
                return None
    bad_header = False
    for column in fields:
        if column not in header:
            problems.append(Problem(name, f"a column named {column!r} (the header lacks it)", row=1, column=column))
            bad_header = True
    for column in header:
        if column not in fields:
            problems.append(
                Problem(name, f"only the columns {', '.join(fields)}", row=1, column=column or "(empty)", value=column)
            )
            bad_header = True
    for column in {c for c in header if header.count(c) > 1}:
        problems.append(Problem(name, "each column once (it appears twice)", row=1, column=column))
        bad_header = True
    if bad_header:
        return None

    order = [header.index(f) for f in fields]
    rows, rownums = [], []
    for number, record in enumerate(records[1:], start=2):
        cells = [cell.strip() for cell in record]
        if not any(cells):
            continue  # blank lines at the end of a sheet
        if len(cells) != len(header):
            problems.append(
                Problem(
                    name,
                    f"{len(header)} cells as in the header; this row has {len(cells)} "
                    "(a cell containing a comma needs quotes)",
                    row=number,
                )
            )
            continue
        bad = False
        for column, cell in zip(header, cells):
            control = next((ch for ch in cell if _forbidden(ch)), None)
            if control is not None:
                what = f"U+{ord(control):04X}" + (
                    f" {unicodedata.name(control)}" if unicodedata.name(control, "") else ""
                )
                problems.append(
                    Problem(
                        name, f"text without control characters (found {what})", row=number, column=column, value=cell
                    )
                )
                bad = True
        if not bad:
            rows.append([cells[i] for i in order])
            rownums.append(number)
    return fields, rows, rownums


# Bidi embeddings, overrides and isolates: one left open would reorder the report's own words
# around the cell. (The marks U+200E, U+200F and U+061C have no such reach, and are text.)
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _forbidden(ch: str) -> bool:
    """A character no cell may hold: control characters (C0 including tab and line feed, DEL,
    C1), line and paragraph separators, bidi controls, a byte order mark inside the text, and
    noncharacters. Zero-width spaces and joiners, combining marks and emoji are text."""
    code = ord(ch)
    return (
        unicodedata.category(ch) in ("Cc", "Zl", "Zp")
        or ch in _BIDI_CONTROLS
        or ch == "\ufeff"
        or 0xFDD0 <= code <= 0xFDEF
        or code & 0xFFFE == 0xFFFE
    )


def _expected(field: dict, error) -> str:
    cons = field.get("constraints", {})
    note = getattr(error, "note", "") or ""
    if error.type == "type-error":
        return {
            "integer": "a whole number",
            "number": "a number",
            "boolean": "true or false",
            "date": "a date written YYYY-MM-DD",
        }.get(field.get("type"), f"a value of type {field.get('type')}")
    if "required" in note:
        return "a value (this column is required)"
    if "enum" in note:
        return "one of: " + ", ".join(map(str, cons["enum"]))
    if "pattern" in note:
        return f"text matching the pattern {cons['pattern']}"
    if "minimum" in note:
        return f"a number of at least {cons['minimum']}"
    return note or error.message


def _problem(table: str, file: str, error, schema: dict, rownums: list[int]) -> Problem:
    fields = {f["name"]: f for f in schema["fields"]}
    row_number = getattr(error, "row_number", None)
    row = rownums[row_number - 2] if row_number and 2 <= row_number < len(rownums) + 2 else row_number
    if error.type == "primary-key":
        match = re.search(r"position (\d+)", error.note or "")
        first = rownums[int(match.group(1)) - 2] if match else None
        key = [key] if isinstance(key := schema.get("primaryKey", []), str) else key
        names = list(fields)
        cells = list(getattr(error, "cells", []) or [])
        value = ", ".join(str(cells[names.index(k)]) for k in key if names.index(k) < len(cells))
        return Problem(
            file,
            f"a unique key (the same as in row {first})" if first else "a unique key",
            row=row,
            column=", ".join(key) or None,
            value=value or None,
        )
    if error.type == "foreign-key":
        columns = list(getattr(error, "field_names", []) or [])
        values = [str(c) for c in getattr(error, "field_cells", []) or []]
        target = f"{error.reference_name or table}.{', '.join(error.reference_field_names)}"
        return Problem(
            file,
            f"a value that exists in {target}",
            row=row,
            column=", ".join(columns) or None,
            value=", ".join(values) or None,
        )
    column = getattr(error, "field_name", None)
    cell = getattr(error, "cell", None)
    field = fields.get(column, {})
    return Problem(file, _expected(field, error), row=row, column=column, value=None if cell is None else str(cell))


TRUE = {"true", "True", "TRUE", "1"}  # Table Schema's default true values (validation allowed no others)


def _value(kind: str, cell: str):
    """A validated text cell as the Python value of its Table Schema type (an empty cell: None)."""
    if not cell:
        return None
    if kind == "integer":
        return int(cell)
    if kind == "number":
        return float(cell)
    if kind == "boolean":
        return cell in TRUE
    if kind == "date":
        return dt.date.fromisoformat(cell)
    return cell


def _columns(schema: dict, header: list[str], rows: list[list[str]]) -> dict[str, list]:
    """Each field's validated text cells as Python values of its type (:func:`_value`; a field
    the header lacks, as an empty table's, is all None)."""
    columns = {}
    for field in schema["fields"]:
        kind = field.get("type", "string")
        at = header.index(field["name"]) if field["name"] in header else None
        columns[field["name"]] = [None if at is None else _value(kind, row[at]) for row in rows]
    return columns


_DTYPES = {"integer": "Int64", "number": "Float64", "boolean": "boolean"}  # else "string"; dates: datetime64


def _frame(schema: dict, header: list[str], rows: list[list[str]]) -> pd.DataFrame:
    """Typed columns from validated text cells (an empty cell is missing)."""
    import pandas as pd

    kinds = {f["name"]: f.get("type", "string") for f in schema["fields"]}
    columns = {
        name: pd.to_datetime(pd.Series(values, dtype="object"))
        if kinds[name] == "date"
        else pd.array(values, dtype=_DTYPES.get(kinds[name], "string"))
        for name, values in _columns(schema, header, rows).items()
    }
    return pd.DataFrame(columns, columns=list(kinds))
