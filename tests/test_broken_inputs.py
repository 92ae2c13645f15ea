"""Broken inputs through the real command line: each one stops `wgec build` with a message
that names the cause and where it is, without a Python traceback, and leaves the last good
HTML, PDFs and manifest exactly as they were (compared byte for byte).

One good build is made first, into an output folder every broken build then targets. Its
data carry MyST directives (``{raw}``, ``{include}``) in their text: they must reach the
HTML and the PDF as literal text. The same build is scanned for paths of this machine.
"""

import csv
import getpass
import hashlib
import io
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from conftest import edit, edit_line, project_copy, run_wgec
from pypdf import PdfReader
from test_narrative import rewrite

from wgec import paths, settings

pytestmark = pytest.mark.slow

RAW = '```{raw} html <script id="wgec-raw">alert(1)</script>```'
INCLUDE = "```{include} /etc/passwd``` {include}`/etc/passwd`"


def _hostile(data: Path) -> None:
    """Valid data whose text holds directives a Markdown or MyST reader would obey (in the tables
    and in the contribution's text they quote)."""
    path = data / "characteristics.csv"
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"), newline="")))
    rows[7][2] += " " + RAW  # HLC-7 International
    rows[8][2] += " " + INCLUDE  # HLC-8 Sustainability of cooperation
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    path.write_text(out.getvalue(), encoding="utf-8")
    edit_line(data, 168, "International", "International " + RAW)
    edit_line(data, 170, "Sustainability of cooperation", "Sustainability of cooperation " + INCLUDE)


def snapshot(out: Path) -> dict[str, str]:
    """SHA-256 of every file a reader gets: html/, pdf/ and manifest.json."""
    files = [p for sub in ("html", "pdf") for p in sorted((out / sub).rglob("*")) if p.is_file()]
    files.append(out / "manifest.json")
    return {p.relative_to(out).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest() for p in files}


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    """One good build (data with literal directives in their text) and the hashes of its outputs."""
    root = tmp_path_factory.mktemp("broken")
    data = root / "good-data"
    shutil.copytree(paths.DATA_DIR, data)
    _hostile(data)
    out = root / "out"
    result = run_wgec("build", "--data", data, "--out", out)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    before = snapshot(out)
    assert any(name.startswith("html/") for name in before) and "pdf/wgec-report.pdf" in before
    return {"root": root, "data": data, "out": out, "hashes": before}


# --- the broken inputs -------------------------------------------------------------------
# Each case breaks a fresh copy of the good data (or of the project, for notebooks and
# _config.yml) and lists what the message must say: the file, and the row and column, the
# notebook and line, or the configuration key.


def _csv_rows(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"), newline="")))


def _write_rows(path: Path, rows) -> None:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    path.write_text(out.getvalue(), encoding="utf-8")


def missing_value(d, p):
    edit(d / "characteristics.csv", "HLC-3,3,Inclusive,159", "HLC-3,3,,159")


def wrong_type(d, p):
    edit(d / "characteristics.csv", "HLC-2,2,", "HLC-2,two,")


def wrong_date(d, p):
    edit(d / "wgec_meetings.csv", "2017-01-26", "26/01/2017")


def enum_violation(d, p):
    edit(d / "focus_areas.csv", "FA-CON-2,content", "FA-CON-2,contents")


def pattern_violation(d, p):
    edit(d / "characteristics.csv", "HLC-4,4,Collaborative,164", "HLC-4,4,Collaborative,164a")


def duplicate_key(d, p):
    edit(d / "focus_areas.csv", "FA-CON-2,", "FA-CON-1,")


def broken_foreign_key(d, p):
    edit(d / "organization_roles.csv", "content,UNESCO,", "content,UNESCO-X,")


def missing_column(d, p):
    path = d / "characteristics.csv"
    _write_rows(path, [row[:3] for row in _csv_rows(path)])  # source_lines gone


def extra_column(d, p):
    path = d / "characteristics.csv"
    rows = _csv_rows(path)
    _write_rows(path, [rows[0] + ["comment"]] + [[*row, "x"] for row in rows[1:]])


def control_character(d, p):
    edit(d / "characteristics.csv", "Transparent", "Trans\x1bparent")


def too_few_cells(d, p):
    path = d / "characteristics.csv"
    path.write_text(re.sub(r"(?m)^HLC-8,.*$", "HLC-8,8", path.read_text(encoding="utf-8")), encoding="utf-8")


def semicolons(d, p):
    path = d / "hosting_options.csv"
    path.write_text(path.read_text(encoding="utf-8").replace(",", ";"), encoding="utf-8")


def truncated(d, p):
    path = d / "recommendations.csv"
    text = path.read_text(encoding="utf-8")
    path.write_text(text[: text.index("REC-10") + 40], encoding="utf-8")  # ends inside a quoted cell


def binary_file(d, p):
    (d / "levels.csv").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00")


def not_utf8(d, p):
    path = d / "characteristics.csv"
    path.write_bytes(path.read_bytes().replace(b"Collaborative", "Collaborativé".encode("latin-1")))


def empty_file(d, p):
    (d / "levels.csv").write_text("")


def missing_table(d, p):
    (d / "statements.csv").unlink()


def empty_directory(d, p):
    shutil.rmtree(d)
    d.mkdir()


def no_directory(d, p):
    shutil.rmtree(d)


def symlink_outside(d, p):
    outside = d.parent / "elsewhere.csv"
    shutil.move(d / "levels.csv", outside)
    os.symlink(outside, d / "levels.csv")


def huge_table(d, p):
    path = d / "focus_areas.csv"
    row = _csv_rows(path)[1]
    line = (",".join(f'"{c}"' for c in row) + "\n").encode()
    with open(path, "ab") as f:
        f.write(line * (50 * 2**20 // len(line) + 1))  # 50 MB


def descriptor_not_json(d, p):
    path = d / "datapackage.json"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace('"resources": [', '"resources": [,', 1), encoding="utf-8")


def _resource_path(d, path):
    descriptor = json.loads((d / "datapackage.json").read_text(encoding="utf-8"))
    descriptor["resources"][1]["path"] = path
    (d / "datapackage.json").write_text(json.dumps(descriptor, indent=1), encoding="utf-8")


def path_up(d, p):
    (d.parent / "x.csv").write_text((d / "focus_areas.csv").read_text(encoding="utf-8"), encoding="utf-8")
    _resource_path(d, "../x.csv")


def path_absolute(d, p):
    _resource_path(d, str((d / "focus_areas.csv").resolve()))


def missing_notebook(d, p):
    (p / "notebooks" / "02b_format.md").unlink()


FAILING_CELL = "raise ValueError('the characteristics do not add up')"


def cell_raises(d, p):
    # In the notebook's second code cell (the Markdown cell before it is filled in by a code cell of
    # the book's reader, which the error's cell number does not count).
    said = 'page.show(quotes.block(narrative.items(tables.characteristics.sort_values("position"))))\n'
    edit(p / "notebooks" / "02c_characteristics.md", said, f"{said}count = 8\n{FAILING_CELL}\n")


def cell_asks_for_input(d, p):
    said = 'characteristics = words.count(len(tables.characteristics), "characteristic")'
    edit(p / "notebooks" / "02c_characteristics.md", said, f"answer = input('How many? ')\n{said}")


SENTENCE = "Under this heading the contribution lists {eval}`characteristics`:"
UNDEFINED = "characteristics_in_all"


def markdown_value_fails(d, p):
    # On the second line of the Markdown cell: the line named is the role's, not the cell's first.
    edit(p / "notebooks" / "02c_characteristics.md", SENTENCE, f"{SENTENCE[:-1]}\n(of {{eval}}`{UNDEFINED}`):")


def heading_holds_a_value(d, p):
    edit(p / "notebooks" / "02c_characteristics.md", SENTENCE, f"## The {{eval}}`characteristics`\n\n{SENTENCE}")


def bullet_dropped(d, p):
    rewrite(d / "focus_areas.csv", lambda r: r["id"] != "FA-CON-4")


def config_unknown_key(d, p):
    edit(p / "_config.yml", "      meeting: 4", "      meetin: 4")


def config_wrong_type(d, p):
    edit(p / "_config.yml", "      meeting: 4", "      meeting: four")


def config_not_yaml(d, p):
    edit(p / "_config.yml", 'author: "WGEC Report"', "author: WGEC: Report")


def config_python_tag(d, p):
    marker = p / "executed"
    edit(p / "_config.yml", 'author: "WGEC Report"', f'author: !!python/object/apply:os.system ["touch {marker}"]')


def title_differs(d, p):
    edit(p / "notebooks" / "00_front_matter.md", "# Proposed structure and content", "# Draft structure and content")


def _line(path: Path, text: str) -> int:
    return next(n for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if text in line)


CASES = {  # name: (break it, what the message must say)
    "missing required value": (missing_value, ["characteristics.csv, row 4, column 'text'", "required"]),
    "wrong type": (wrong_type, ["characteristics.csv, row 3, column 'position'", "'two'", "whole number"]),
    "wrong date format": (wrong_date, ["wgec_meetings.csv, row 3, column 'start_date'", "YYYY-MM-DD"]),
    "enum violation": (
        enum_violation,
        ["focus_areas.csv, row 7, column 'level'", "'contents'", "one of: infrastructural, content"],
    ),
    "pattern violation": (
        pattern_violation,
        ["characteristics.csv, row 5, column 'source_lines'", "'164a'", "pattern"],
    ),
    "duplicate primary key": (
        duplicate_key,
        ["focus_areas.csv, row 7, column 'id'", "'FA-CON-1'", "unique key (the same as in row 6)"],
    ),
    "broken foreign key": (
        broken_foreign_key,
        ["organization_roles.csv, row 6, column 'organization'", "'UNESCO-X'", "organizations.acronym"],
    ),
    "missing column": (missing_column, ["characteristics.csv, row 1, column 'source_lines'", "header lacks it"]),
    "unknown column": (extra_column, ["characteristics.csv, row 1, column 'comment'", "only the columns"]),
    "control character": (control_character, ["characteristics.csv, row 3, column 'text'", "U+001B"]),
    "row with too few cells": (too_few_cells, ["characteristics.csv, row 9", "4 cells", "has 2"]),
    "semicolon-separated": (semicolons, ["hosting_options.csv, row 1", "semicolons"]),
    "truncated mid-row": (truncated, ["recommendations.csv, row", "truncated"]),
    "binary file named .csv": (binary_file, ["levels.csv", "binary"]),
    "invalid UTF-8": (not_utf8, ["characteristics.csv, row 5", "UTF-8", "0xe9"]),
    "empty table file": (empty_file, ["levels.csv", "empty"]),
    "missing table file": (missing_table, ["statements.csv", "missing"]),
    "empty data directory": (empty_directory, ["datapackage.json", "missing"]),
    "no data directory": (no_directory, ["does not exist"]),
    "symlink out of the data directory": (symlink_outside, ["levels.csv", "outside"]),
    "50 MB table": (huge_table, ["focus_areas.csv", "at most 10 MB", "50.0 MB"]),
    "datapackage.json not JSON": (descriptor_not_json, ["datapackage.json", "valid JSON", "line ", "column "]),
    "resource path ../x.csv": (path_up, ["datapackage.json", "'../x.csv'", "inside the data directory"]),
    "absolute resource path": (path_absolute, ["datapackage.json", "focus_areas.csv'", "inside the data directory"]),
    "notebook missing": (missing_notebook, ["_toc.yml", "notebooks/02b_format", "no file notebooks/02b_format.md"]),
    "a bullet dropped from the data": (
        bullet_dropped,
        ["contribution line 122", "“Confidentiality”", "neither quoted in the report nor listed in not_reproduced.csv"],
    ),
    "notebook cell raises": (
        cell_raises,
        [
            "notebooks/02c_characteristics.md, line {cell_line}",
            "code cell 2, line 3 of the cell",
            "ValueError: the characteristics do not add up",
        ],
    ),
    "notebook cell asks for input": (
        cell_asks_for_input,
        ["notebooks/02c_characteristics.md, line", "StdinNotImplementedError"],
    ),
    "notebook Markdown value fails": (
        markdown_value_fails,
        [
            "notebooks/02c_characteristics.md, line <eval_line> (a Markdown cell)",
            f"NotebookError: {{eval}}`{UNDEFINED}`: NameError: name '{UNDEFINED}' is not defined",
        ],
    ),
    "notebook heading holds a value": (
        heading_holds_a_value,
        [
            "notebooks/02c_characteristics.md, line <eval_line>",
            "a heading holds an {eval} value ({eval}`characteristics`)",
        ],
    ),
    "config: unknown key": (
        config_unknown_key,
        ["_config.yml", "wgec_document: unknown setting 'meetin'", "expected one of", "meeting"],
    ),
    "config: wrong type": (
        config_wrong_type,
        ["_config.yml", "wgec_document.meeting", "expected a meeting number", "'four'"],
    ),
    "config: invalid YAML": (
        config_not_yaml,
        ["_config.yml, line 4, column 13", "not valid YAML", "mapping values are not allowed here"],
    ),
    "config: python object tag": (
        config_python_tag,
        ["_config.yml, line 4", "python/object/apply:os.system", "safe loader"],
    ),
    "front page heading is not the title": (
        title_differs,
        [
            "00_front_matter.md:{title_line}",
            "'Draft structure and content of the report",
            "title in _config.yml",
            "'Proposed structure and content of the report",
        ],
    ),
}
PROJECT_CASES = {
    title_differs,
    cell_asks_for_input,
    missing_notebook,
    cell_raises,
    markdown_value_fails,
    heading_holds_a_value,
    config_unknown_key,
    config_wrong_type,
    config_not_yaml,
    config_python_tag,
}


def run_broken(good, tmp_path, monkeypatch, breaks, *options):
    data = tmp_path / "data"
    shutil.copytree(good["data"], data)
    project = tmp_path / "project"
    if breaks in PROJECT_CASES:
        project_copy(project)
        monkeypatch.setenv("WGEC_PROJECT", str(project))
        # The build's date as in the good build, so the unchanged notebooks stay up to date.
        monkeypatch.setenv("SOURCE_DATE_EPOCH", str(int(settings.source_date().timestamp())))
    breaks(data, project)
    return run_wgec(*options, "build", "--data", data, "--out", good["out"], timeout=600), project


RUN_MARK = "WGEC_TEST_BUILD"  # in the environment of the build under test, which its kernels inherit


def mark_run(monkeypatch) -> str:
    """A mark for the next build's environment, by which its kernels are told from any other
    kernel on the machine (another test's, a JupyterLab open meanwhile)."""
    run = secrets.token_hex(8)
    monkeypatch.setenv(RUN_MARK, run)
    return run


def kernels(run: str) -> set[int]:
    """The process ids of the Jupyter kernels running with the mark ``run`` in their environment."""
    marked = f"{RUN_MARK}={run}".encode()
    found = set()
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                if b"ipykernel_launcher" in (proc / "cmdline").read_bytes() and marked in (
                    (proc / "environ").read_bytes().split(b"\0")
                ):
                    found.add(int(proc.name))
            except OSError:
                continue
    return found


def no_kernel_left(run: str, within: float = 20) -> bool:
    """The kernels a build started (early, while it validated the data) are gone soon after it."""
    deadline = time.monotonic() + within
    while kernels(run) and time.monotonic() < deadline:
        time.sleep(0.2)
    return not kernels(run)


@pytest.mark.parametrize("case", list(CASES))
def test_a_broken_input_is_named_and_the_last_good_build_is_kept(good, tmp_path, monkeypatch, case):
    breaks, expected = CASES[case]
    run = mark_run(monkeypatch)
    result, project = run_broken(good, tmp_path, monkeypatch, breaks)
    message = result.stderr
    assert result.returncode != 0, result.stdout
    if breaks is cell_raises:
        cell_line = _line(project / "notebooks" / "02c_characteristics.md", FAILING_CELL)
        expected = [e.format(cell_line=cell_line) for e in expected]
    if breaks is title_differs:
        title_line = _line(project / "notebooks" / "00_front_matter.md", "# Draft structure")
        expected = [e.format(title_line=title_line) for e in expected]
    if breaks in (markdown_value_fails, heading_holds_a_value):  # ("{eval}" in the messages: no str.format)
        notebook = project / "notebooks" / "02c_characteristics.md"
        eval_line = _line(notebook, f"{{eval}}`{UNDEFINED}`" if breaks is markdown_value_fails else "## The {eval}")
        if breaks is markdown_value_fails:
            assert eval_line == _line(notebook, SENTENCE[:-1]) + 1  # not the first line of its cell
        expected = [e.replace("<eval_line>", str(eval_line)) for e in expected]
    for part in expected:
        assert part in message, (part, message)
    assert "Traceback" not in result.stdout + message
    assert snapshot(good["out"]) == good["hashes"]
    assert no_kernel_left(run)
    if breaks is config_python_tag:
        assert not (project / "executed").exists()  # the tag was refused, not run


def test_a_kernel_that_does_not_start_is_named_and_the_last_good_build_is_kept(good, tmp_path, monkeypatch):
    spec = tmp_path / "jupyter" / "kernels" / "python3"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(
        json.dumps({"argv": ["/bin/false", "{connection_file}"], "display_name": "Python 3", "language": "python"})
    )
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))  # found before the environment's own

    def venue_edited(data, project):  # a good edit: the notebooks that read the table must run
        edit(data / "wgec_meetings.csv", "Palais des Nations", "Palais des Nations (Room XX)")

    run = mark_run(monkeypatch)
    result, _ = run_broken(good, tmp_path, monkeypatch, venue_edited)
    assert result.returncode != 0, result.stdout
    assert "the Jupyter kernel 'python3' did not start" in result.stderr, result.stderr
    assert "kernelspec list" in result.stderr and "Traceback" not in result.stdout + result.stderr
    assert snapshot(good["out"]) == good["hashes"]
    assert no_kernel_left(run)


def test_debug_shows_the_traceback(good, tmp_path, monkeypatch):
    result, _ = run_broken(good, tmp_path, monkeypatch, enum_violation, "--debug")
    assert result.returncode != 0
    assert "Traceback" in result.stderr and "focus_areas.csv, row 7, column 'level'" in result.stderr
    assert snapshot(good["out"]) == good["hashes"]


# --- what the good build shows of hostile text, and of the machine it was built on -------


def test_directives_in_the_data_are_literal_text_in_the_html(good):
    for page in ("notebooks/02c_characteristics.html", "notebooks/annex1_data_tables.html"):
        html = (good["out"] / "html" / page).read_text(encoding="utf-8")
        soup = BeautifulSoup(html, "html.parser")
        text = soup.get_text()
        assert RAW in text and INCLUDE in text, page
        assert soup.find(id="wgec-raw") is None
        assert not any("alert(1)" in (s.string or "") for s in soup.find_all("script"))
        assert "root:x:0:0" not in html  # /etc/passwd was not included


def test_directives_in_the_data_are_literal_text_in_the_pdf(good):
    text = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(good["out"] / "pdf" / "wgec-report.pdf"), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    flat = re.sub(r"\s+", "", text)
    assert re.sub(r"\s+", "", RAW) in flat and re.sub(r"\s+", "", INCLUDE) in flat
    assert "root:x:0:0" not in text


def _machine(good) -> list[str]:
    """What would identify the build machine: its folders, its user, its name."""
    found = {
        str(paths.ROOT),
        str(good["root"]),
        str(good["out"]),
        str(good["data"]),
        str(Path.home()),
        str(Path.home().resolve()),
    }
    user = getpass.getuser()
    found |= {f"/{user}/", f"\\{user}\\", f"{user}@"}
    host = socket.gethostname()
    if len(host) >= 6 and host != "localhost":
        found.add(host)
    return sorted(p for p in found if len(p) > 2)


def test_no_path_user_or_host_of_the_build_machine_in_the_html_or_manifest(good):
    machine = _machine(good)
    files = [p for p in (good["out"] / "html").rglob("*") if p.is_file()] + [good["out"] / "manifest.json"]
    for path in files:
        content = path.read_bytes().decode("utf-8", errors="replace")
        for item in machine:
            assert item not in content, (path.name, item)


@pytest.mark.parametrize("name", ["wgec-report.pdf", "wgec-report-archival.pdf"])
def test_no_path_user_or_host_of_the_build_machine_in_the_pdf(good, tmp_path, name):
    pdf = good["out"] / "pdf" / name
    reader = PdfReader(pdf)
    info = " ".join(f"{k}={v}" for k, v in (reader.metadata or {}).items())
    xmp = reader.trailer["/Root"]["/Metadata"].get_object().get_data().decode("utf-8")
    assert "WGEC Report" in info and "<x:xmpmeta" in xmp  # what is scanned is really there
    text = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    # Every stream uncompressed (links, attachments' names, fonts, structure tree): no path hides inside.
    qdf = tmp_path / "qdf.pdf"
    subprocess.run(["qpdf", "--qdf", "--object-streams=disable", str(pdf), str(qdf)], check=True)
    raw = qdf.read_bytes().decode("latin-1")
    for item in _machine(good):
        for where, content in (("metadata", info), ("XMP", xmp), ("text", text), ("objects", raw)):
            assert item not in content, (name, where, item)


@pytest.mark.parametrize(
    "out, says",
    [("report.pdf", "expected an output folder, but this is a file"), ("report.pdf/sub", "Not a directory")],
)
def test_an_output_folder_that_cannot_be_made_is_named(tmp_path, out, says):
    (tmp_path / "report.pdf").write_bytes(b"%PDF- not ours")
    result = run_wgec("build", "--data", paths.DATA_DIR, "--out", tmp_path / out)
    assert result.returncode != 0
    assert f"{tmp_path / out}: {says}" in result.stderr and "Traceback" not in result.stdout + result.stderr
    assert (tmp_path / "report.pdf").read_bytes() == b"%PDF- not ours"


def test_a_failed_notebook_leaves_the_next_build_incremental(good, tmp_path, monkeypatch):
    """A notebook that raises stops the build before Sphinx builds anything: Sphinx's work folder
    keeps its stamp, so the next build reads again only what changed, not every page."""
    project = project_copy(tmp_path / "project")
    monkeypatch.setenv("WGEC_PROJECT", str(project))
    out = tmp_path / "out"
    assert run_wgec("html", "--data", good["data"], "--out", out).returncode == 0
    stamp = out / ".work" / "stamp.json"
    assert stamp.is_file()
    cell_raises(good["data"], project)
    result = run_wgec("html", "--data", good["data"], "--out", out)
    assert result.returncode != 0 and "ValueError: the characteristics do not add up" in result.stderr
    assert stamp.is_file()
