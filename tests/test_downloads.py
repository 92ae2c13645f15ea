"""The data downloads: CSV safe to open in a spreadsheet, one XLSX workbook, same bytes every build."""

import csv
import datetime as dt
import io
import json
import re
import subprocess
import zipfile
from pathlib import Path

import openpyxl
import pytest

from wgec import data, paths, settings
from wgec.editions import downloads

WHEN = dt.datetime(2018, 1, 29, 10, 30, 4, tzinfo=dt.UTC)
HOSTILE = ["=SUM(A1)", "-x", "@cmd", "+1 is fine", "plain, with a comma"]


@pytest.fixture
def ledger(tmp_path) -> data.Tables:
    """A small valid data package with a number column that holds negative numbers and a text
    column whose cells start like spreadsheet formulas."""
    folder = tmp_path / "ledger"
    folder.mkdir()
    descriptor = {
        "name": "ledger",
        "resources": [
            {
                "name": "ledger",
                "path": "ledger.csv",
                "title": "Ledger",
                "profile": "tabular-data-resource",
                "schema": {
                    "fields": [
                        {"name": "id", "type": "integer"},
                        {"name": "amount", "type": "number"},
                        {"name": "note", "type": "string"},
                    ],
                    "primaryKey": ["id"],
                },
            }
        ],
    }
    (folder / "datapackage.json").write_text(json.dumps(descriptor), encoding="utf-8")
    rows = ["id,amount,note", *(f'{i},{-i - 0.5 if i % 2 else -i},"{note}"' for i, note in enumerate(HOSTILE, 1))]
    (folder / "ledger.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return data.load(folder)


def read_csv(path: Path) -> list[list[str]]:
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), "CSV UTF-8 starts with a byte order mark"
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))


def test_csv_neutralizes_formula_starts_in_text_columns_only(ledger, tmp_path):
    downloads.write(ledger.data_dir, ledger.descriptor, tmp_path / "out", WHEN)
    header, *rows = read_csv(tmp_path / "out" / "ledger.csv")
    assert header == ["id", "amount", "note"]
    assert [r[2] for r in rows] == ["'=SUM(A1)", "'-x", "'@cmd", "'+1 is fine", "plain, with a comma"]
    assert [r[1] for r in rows] == ["-1.5", "-2", "-3.5", "-4", "-5.5"]  # numbers stay numbers
    assert [r[0] for r in rows] == ["1", "2", "3", "4", "5"]


def test_xlsx_strings_are_never_formulas(ledger, tmp_path):
    downloads.write(ledger.data_dir, ledger.descriptor, tmp_path / "out", WHEN)
    path = tmp_path / "out" / downloads.WORKBOOK
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["ledger"]
    sheet = book["ledger"]
    assert [c.value for c in sheet[1]] == ["id", "amount", "note"]
    assert all(c.font.b for c in sheet[1]), "header row in bold"
    assert sheet.freeze_panes == "A2"
    notes = [sheet.cell(row=r, column=3) for r in range(2, 7)]
    assert [c.value for c in notes] == HOSTILE  # exactly the data, no apostrophe added
    assert {c.data_type for c in notes} == {"s"}
    amounts = [sheet.cell(row=r, column=2) for r in range(2, 7)]
    assert [c.value for c in amounts] == [-1.5, -2, -3.5, -4, -5.5]
    assert {c.data_type for c in amounts} == {"n"}
    with zipfile.ZipFile(path) as archive:
        xml = archive.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in xml and "<f " not in xml, "no formula element in the sheet"
    width = sheet.column_dimensions["C"].width
    assert len("plain, with a comma") <= width <= 60


def test_xlsx_bytes_depend_on_the_data_and_the_date_only(ledger, tmp_path):
    first = downloads.write(ledger.data_dir, ledger.descriptor, tmp_path / "a", WHEN)
    second = downloads.write(ledger.data_dir, ledger.descriptor, tmp_path / "b", WHEN)
    assert [p.read_bytes() for p in first] == [p.read_bytes() for p in second]
    with zipfile.ZipFile(tmp_path / "a" / downloads.WORKBOOK) as archive:
        assert {info.date_time for info in archive.infolist()} == {(2018, 1, 29, 10, 30, 4)}
        core = archive.read("docProps/core.xml").decode()
    assert re.findall(r"<dcterms:(?:created|modified)[^>]*>([^<]+)<", core) == ["2018-01-29T10:30:04Z"] * 2
    book = openpyxl.load_workbook(tmp_path / "a" / downloads.WORKBOOK)
    assert book.properties.created == book.properties.modified == dt.datetime(2018, 1, 29, 10, 30, 4)


def test_sheet_names_follow_excel_rules():
    names = downloads.sheet_names(["a" * 40, "A" * 40, "x/y:z", "levels"])
    assert all(1 <= len(n) <= 31 and not set(n) & set("[]:*?/\\") for n in names)
    assert len({n.lower() for n in names}) == 4
    assert names[3] == "levels"


# --- in the built book ------------------------------------------------------------------


@pytest.mark.slow
def test_built_book_offers_every_table(built):
    tables = data.load()
    folder = built / "html" / downloads.FOLDER
    listed = downloads.files(tables.descriptor)
    assert sorted(p.name for p in folder.iterdir()) == sorted(f["name"] for f in listed)
    for f in listed:
        if f["table"]:
            header, *rows = read_csv(folder / f["name"])
            assert header == list(tables[f["table"]].columns)
            assert len(rows) == len(tables[f["table"]]), f["name"]
    assert (folder / "datapackage.json").read_bytes() == (paths.DATA_DIR / "datapackage.json").read_bytes()
    tools = json.loads((built / "manifest.json").read_text())["tools"]
    assert tools["openpyxl"] == openpyxl.__version__  # the workbook's maker is recorded (annex IV)
    book = openpyxl.load_workbook(folder / downloads.WORKBOOK)
    assert book.sheetnames == [r["name"] for r in tables.descriptor["resources"]]
    for resource in tables.descriptor["resources"]:
        sheet = book[resource["name"]]
        assert sheet.freeze_panes == "A2"
        assert sheet.max_row == len(tables[resource["name"]]) + 1
        assert [c.value for c in sheet[1]] == [f["name"] for f in resource["schema"]["fields"]]


@pytest.mark.slow
def test_built_workbook_is_the_same_bytes_when_written_again(built, tmp_path):
    """The build's workbook against one written now, in another process and folder: the same bytes."""
    tables = data.load()
    downloads.write(tables.data_dir, tables.descriptor, tmp_path, settings.source_date())
    name = downloads.WORKBOOK
    assert (tmp_path / name).read_bytes() == (built / "html" / downloads.FOLDER / name).read_bytes()


@pytest.mark.slow
def test_data_annex_links_every_download_on_the_web_only(built):
    from bs4 import BeautifulSoup

    page = built / "html" / "notebooks" / "annex1_data_tables.html"
    soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
    block = soup.find(id="data-downloads")
    links = {a.get_text(): a["href"] for a in block.find_all("a")}
    tables = data.load()
    assert set(links) == {f["name"] for f in downloads.files(tables.descriptor)}
    for name, href in links.items():
        assert (page.parent / href).resolve() == (built / "html" / downloads.FOLDER / name).resolve()
        assert (page.parent / href).is_file()
    from wgec.report.words import count

    items = {li.a.get_text(): li.get_text() for li in block.find_all("li")}
    for f in downloads.files(tables.descriptor):
        if f["table"]:
            assert f"(CSV, {count(len(tables[f['table']]), 'row')})" in items[f["name"]]
    text = subprocess.run(
        ["pdftotext", str(built / "pdf" / "wgec-report.pdf"), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert downloads.WORKBOOK not in text, "the PDF does not point to files it does not carry"
