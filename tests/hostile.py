"""A hostile copy of the shipped data: every free-text cell of every table rewritten to hold
markup, formula starts, long words, scripts and invisible characters that must all reach the
report as literal, printable text — and the contribution's source text rewritten with them, so
that the copy is a consistent data package: the report quotes the contribution, and the build
refuses a quotation its source does not hold (wgec.book.concordance). The source text is then
hostile too, and annex III shows it.

``make(target)`` copies ``data/`` to ``target`` and rewrites it; it returns
``{(table, column): [cell, ...]}``, every hostile cell written, for the tests to look for.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

from wgec import paths

# The payloads, in bundles. A cell holds one or more whole bundles followed by a tag naming
# the cell, so every bundle starts some cell (block syntax and formula starts only act at
# the start of a line or cell) and every payload lands in every free-text column.
LONG_WORD = "Pneumonoultramicroscopic" + "silicovolcanoconiosis" * 13 + "x" * 3  # 300 letters, unbroken
assert len(LONG_WORD) == 300
BUNDLES = [
    # HTML and script, entities, an autolink.
    '<script>alert(1)</script> <img src=x onerror=alert(1)> <a href="javascript:alert(1)">x</a> '
    "&amp; &lt;b&gt; &#60;i&#62; <http://evil.example/auto> <b onclick=alert(1)>bold</b>",
    # Markdown and MyST, inline.
    "*emph* **strong** _under_ [link](http://evil.example) ![img](http://evil.example/x.png) "
    "{raw}`<b>raw</b>` {math}`x` {{ title }} [^1] $x$ $$y$$ \\(z\\) <!-- comment --> | table | cell | "
    "`code` ~~strike~~ http://evil.example/bare www.evil.example",
    # Markdown and MyST block syntax, at the start of a cell.
    "(label)= :::{note} ```{raw} html <b>fence</b> ``` # heading - item 1. item > quote --- ***",
    ":::{note} note +++ ^^^ === {eval-rst}",
    "```{raw} html <script>alert(2)</script>",
    "# not a heading",
    "- not a list | a | b |",
    "> not a quote 1) x",
    # Spreadsheet formula starts (only act at the start of a cell).
    "=SUM(A1) formula",
    "+1 plus",
    "-1 minus",
    "@cmd at",
    # LaTeX specials and commands; typographic sequences that must not be "smartened".
    "\\textbf{x} \\input{/etc/passwd} 100% A&B $5 #1 a_b a^b ~tilde \\\\ \\end{document} "
    "\"double\" 'single' -- --- ... (c)",
    # Scripts: right-to-left Arabic mixed with Latin, Chinese, Russian.
    "مرحبا بالعالم hello العالم 2017 中文字符测试 Русский текст",
    # Emoji (a ZWJ sequence, flags), combining characters, zero-width characters that are allowed.
    "😀 👩\u200d💻 🇺🇳 🏴\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f "
    "e\u0301 n\u0303 a\u200bb zw\u200cnj c\u200dd lr\u200em rl\u200fm soft\u00adhyphen",
    LONG_WORD,
]
LONG_CELL = " ".join(f"long{i:04d}" for i in range(556))[:4990] + " end"  # 5,000 characters of text

# Free-text columns: type string and no id, enum, pattern or foreign-key constraint.
# Skipped, as constrained: every `id` and `source_lines` column (identifier / pattern), the
# numbers and labels as printed (parts.number, report_structure.number, mandate_paragraphs.label:
# patterns), every enum (levels.id, focus_areas.level and kind, organization_roles.level and
# column, format_options.wording, hosting_options.kind, table_headings.kind and level,
# mandate_paragraphs.instrument, wgec_meetings.date_status, corrections.kind and confidence),
# and the foreign keys organization_roles.organization (rewritten with organizations.acronym,
# which it references), parts.parent and outline, report_structure.parent, statements.part and
# table_headings.part.
KEYS = {("organizations", "acronym"), ("wgec_membership", "group")}  # primary keys of free text
# Kept as shipped: the headings of the contribution's parts, and the title of the one section of
# its draft structure that has no part, are the notebooks' own headings, and the build checks that
# each page's heading is one of them (wgec.book.concordance); a hostile heading in the data would
# only stop the build. Annex I shows them as shipped. (column -> the ids of the rows kept; None: all)
FIXED = {("parts", "heading"): None, ("report_structure", "title"): {"S2-2"}}
# The passages the report quotes (wgec.report.quotes), by table: the column of the text and the
# column printed before it on its first line. The source text is rewritten to hold them.
QUOTED = {
    "statements": ("text", None),
    "mandate_paragraphs": ("text", "label"),
    "levels": ("name", None),
    "focus_areas": ("text", None),
    "characteristics": ("text", None),
    "table_headings": ("text", None),
    "organization_roles": ("organization", None),
    "recommendations": ("text", None),
    "report_structure": ("title", "number"),
    "not_reproduced": ("text", None),
}


def free_text_columns(descriptor: dict) -> list[tuple[str, str]]:
    """Every (table, column) of the package that holds free text."""
    out = []
    for res in descriptor["resources"]:
        schema = res["schema"]
        fks = {
            f
            for fk in schema.get("foreignKeys", [])
            for f in ([fk["fields"]] if isinstance(fk["fields"], str) else fk["fields"])
        }
        pk = schema.get("primaryKey", [])
        pk = [pk] if isinstance(pk, str) else pk
        for field in schema["fields"]:
            cons = field.get("constraints", {})
            if field.get("type", "string") != "string" or field["name"] in fks:
                continue
            if "enum" in cons or "pattern" in cons:
                continue
            if field["name"] in pk and (res["name"], field["name"]) not in KEYS:
                continue  # an identifier (REC-1, S2-4, ...)
            if FIXED.get((res["name"], field["name"]), ()) is not None:
                out.append((res["name"], field["name"]))
    return out


def read(path: Path) -> tuple[list[str], list[list[str]]]:
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"), newline="")))
    return rows[0], [r for r in rows[1:] if any(r)]


def write(path: Path, header: list[str], rows: list[list[str]]) -> None:
    buffer = io.StringIO(newline="")
    csv.writer(buffer, lineterminator="\n").writerows([header, *rows])
    path.write_text(buffer.getvalue(), encoding="utf-8")


def cell(bundles: list[str], tag: str) -> str:
    return " ".join([*bundles, f"(cell {tag})"])


def make(target: Path) -> dict[tuple[str, str], list[str]]:
    shutil.copytree(paths.DATA_DIR, target)
    descriptor = json.loads((target / "datapackage.json").read_text(encoding="utf-8"))
    columns = free_text_columns(descriptor)
    files = {r["name"]: target / r["path"] for r in descriptor["resources"]}
    written: dict[tuple[str, str], list[str]] = {}
    renamed: dict[str, str] = {}
    pool = [*BUNDLES, LONG_CELL]
    for table, column in columns:
        header, rows = read(files[table])
        i = header.index(column)
        kept = FIXED.get((table, column), set())
        mine = [r for r, row in enumerate(rows) if row[0] not in kept]
        n = len(mine)
        written[(table, column)] = []
        for k, r in enumerate(mine):
            row = rows[r]
            # The k-th rewritten row holds bundles k, k+n, k+2n, ...: every bundle lands in the column.
            value = cell(pool[k::n] or [pool[k % len(pool)]], f"{table}.{column} {r + 2}")
            if (table, column) == ("organizations", "acronym"):
                renamed[row[i]] = value
            row[i] = value
            written[(table, column)].append(value)
        write(files[table], header, rows)
    header, rows = read(files["organization_roles"])
    i = header.index("organization")
    for row in rows:
        row[i] = renamed[row[i]]
    write(files["organization_roles"], header, rows)
    _rewrite_source(target, descriptor, files)
    return written


def _corrected_source() -> list[str]:
    """The shipped source text with the shipped corrections made (the hostile copy's own
    corrections are hostile text, which no line holds: they change nothing)."""
    lines = (paths.DATA_DIR / descriptor_source()).read_text(encoding="utf-8").split("\n")
    header, rows = read(paths.DATA_DIR / "corrections.csv")
    col = {name: header.index(name) for name in ("line", "as_printed", "reading", "applied")}
    for row in rows:
        if row[col["applied"]] == "true":
            n = int(row[col["line"]]) - 1
            lines[n] = lines[n].replace(row[col["as_printed"]], row[col["reading"]], 1)
    return lines


def descriptor_source() -> str:
    return json.loads((paths.DATA_DIR / "datapackage.json").read_text(encoding="utf-8"))["sources"][0]["path"]


def _rewrite_source(target: Path, descriptor: dict, files: dict[str, Path]) -> None:
    """Each quoted passage's lines hold its hostile text: on its first line, after any other
    passage that starts there (a label, a second cell); the rest of its lines are emptied."""
    lines = _corrected_source()
    units = []
    for table, (column, label) in QUOTED.items():
        header, rows = read(files[table])
        for order, row in enumerate(rows):
            start, _, end = row[header.index("source_lines")].partition("-")
            text = row[header.index(column)]
            if label and row[header.index(label)]:
                text = f"{row[header.index(label)]} {text}"
            units.append((int(start), int(end or start), order, text))
    for start, end, _, _ in units:
        for n in range(start, end + 1):
            lines[n - 1] = ""
    for start, _, _, text in sorted(units, key=lambda u: (u[0], u[2])):
        lines[start - 1] = f"{lines[start - 1]} {text}".strip()
    (target / descriptor_source()).write_text("\n".join(lines), encoding="utf-8")
