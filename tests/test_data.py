"""The data package: the shipped tables are valid and traceable; bad tables give located errors."""

import os
import re

import pytest
from conftest import edit

from wgec import data, session


@pytest.fixture(scope="module")
def tables():
    return data.load()


def problems(data_dir):
    with pytest.raises(data.DataError) as info:
        data.load(data_dir)
    return info.value.problems


def only(problem_list):
    assert len(problem_list) == 1, problem_list
    return problem_list[0]


# --- the shipped data ---------------------------------------------------------------


def _lines(spec: str) -> range:
    start, _, end = spec.partition("-")
    return range(int(start), int(end or start) + 1)


def _segment(lines: list[str], spec: str) -> str:
    """The corrected source text of a line range, joined as a reader would read it."""
    text = ""
    for n in _lines(spec):
        line = lines[n - 1].strip()
        text += line if text.endswith("-") or not text else " " + line
    return re.sub(r"\s+", " ", text)


TRACED = {  # table -> the columns whose text must stand in the source lines
    "parts": ["number", "heading"],
    "report_structure": ["number", "title"],
    "statements": ["text"],
    "mandate_paragraphs": ["label", "text"],
    "levels": ["name"],
    "focus_areas": ["text"],
    "characteristics": ["text"],
    "table_headings": ["text"],
    "organizations": ["acronym"],
    "organization_roles": ["organization"],
    "recommendations": ["text"],
    "format_options": ["form"],
    "hosting_options": ["host"],
    "not_reproduced": ["text"],
}


@pytest.mark.parametrize("table", sorted(TRACED))
def test_every_row_is_in_its_source_lines(tables, table):
    lines = tables.corrected_lines()
    frame = tables[table]
    assert len(frame) > 0
    for row in frame.to_dict("records"):
        segment = _segment(lines, row["source_lines"])
        for column in TRACED[table]:
            if row[column] is not None:
                assert row[column] in segment, (table, row["source_lines"], row[column], segment)


def test_every_table_with_source_lines_is_traced(tables):
    with_lines = {
        r["name"]
        for r in tables.descriptor["resources"]
        if any(f["name"] == "source_lines" for f in r["schema"]["fields"])
    }
    assert with_lines == set(TRACED)


def test_the_organizations_are_in_the_columns_of_the_contributions_table(tables):
    headings = tables.table_headings
    part = headings[headings.text == "UN agencies"].part.iloc[0]
    columns = set(headings[(headings.part == part) & (headings.kind == "column")].text)
    assert set(tables.organization_roles.column) <= columns
    rows = headings[(headings.part == part) & (headings.kind == "row")]
    assert set(rows.level) == set(tables.levels.id)


def test_every_part_maps_to_a_section_of_the_draft_structure(tables):
    assert set(tables.parts.outline) <= set(tables.report_structure.id)
    # Every section of the draft structure is given by a part, but one the proposals have no text for.
    assert set(tables.report_structure.id) - set(tables.parts.outline) == {"S2-2"}


def test_every_correction_is_printed_where_it_says(tables):
    raw = tables.source_lines()
    for fix in tables.corrections.itertuples():
        assert fix.as_printed in raw[fix.line - 1], (fix.id, fix.line)


def test_every_bullet_of_section_2_1_is_a_focus_area(tables):
    # Bullet lines of the scope table are those the corrections table reads as bullets.
    start = raw_index(tables, "2.1  Scope")
    end = raw_index(tables, "2.3 High level")
    fixes = tables.corrections
    bullets = set(fixes[(fixes.kind == "bullet") & fixes.line.between(start, end)].line)
    first_lines = {_lines(spec)[0] for spec in tables.focus_areas.source_lines}
    assert bullets == first_lines


def raw_index(tables, prefix):
    return next(i for i, line in enumerate(tables.source_lines(), 1) if line.startswith(prefix))


def test_every_organization_in_the_roles_table_is_named_at_some_level(tables):
    assert set(tables.organizations.acronym) == set(tables.organization_roles.organization)


def test_tables_are_typed(tables):
    assert str(tables.focus_areas.position.dtype) == "Int64"
    assert str(tables.corrections.applied.dtype) == "boolean"
    meetings = tables.wgec_meetings
    assert str(meetings.start_date.dtype).startswith("datetime64")
    # An unknown date stays unknown: empty in the table, missing in the frame.
    unknown = meetings[meetings.date_status != "verified"]
    assert len(unknown) >= 1 and unknown.start_date.isna().all()


def test_records_hold_the_values_of_the_dataframes(tables):
    """``Tables.records`` (the build's own process reads the tables so, without pandas) gives
    each table's rows with the values of its DataFrame: an empty cell None, a date a date."""
    import pandas as pd

    for name in tables:
        frame, records = tables[name], tables.records(name)
        assert len(records) == len(frame), name
        for record, row in zip(records, frame.itertuples(), strict=True):
            assert record.Index == row.Index
            for field, value in zip(frame.columns, row[1:], strict=True):
                got = getattr(record, field)
                if value is pd.NA or value is pd.NaT:
                    assert got is None, (name, field, got)
                elif isinstance(value, pd.Timestamp):
                    assert got == value.date(), (name, field)
                else:
                    assert got == value and type(got) is type(value.item() if hasattr(value, "item") else value)


def test_the_tables_of_a_columns_in_another_order_read_the_same_as_records(data_copy):
    path = data_copy / "hosting_options.csv"
    rows = [line.split(",") for line in path.read_text().splitlines()]
    path.write_text("\n".join(",".join(reversed(r)) for r in rows) + "\n")
    reordered = data.load(data_copy)
    assert [r.host for r in reordered.records("hosting_options")] == list(reordered.hosting_options.host)


# --- spreadsheet habits are accepted ---------------------------------------------------


def test_bom_crlf_and_stray_spaces_are_accepted(data_copy):
    path = data_copy / "characteristics.csv"
    text = path.read_text(encoding="utf-8")
    text = "\n".join(" , ".join(f" {c} " for c in line.split(",")) for line in text.splitlines())
    path.write_bytes(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode() + b"\r\n\r\n,,,\r\n")
    tables = data.load(data_copy)
    assert tables.characteristics.text.iloc[0] == "Equal footing"
    assert tables.characteristics.position.iloc[0] == 1


def test_columns_in_another_order_are_accepted(data_copy):
    path = data_copy / "hosting_options.csv"
    rows = [line.split(",") for line in path.read_text().splitlines()]
    path.write_text("\n".join(",".join(reversed(r)) for r in rows) + "\n")
    assert list(data.load(data_copy).hosting_options.host) == ["UNGA", "ITU", "CSTD", "etc."]


# --- bad data: one error, every problem located ----------------------------------------


def test_wrong_delimiter(data_copy):
    path = data_copy / "characteristics.csv"
    path.write_text(path.read_text().replace(",", ";"))
    p = only(problems(data_copy))
    assert (p.file, p.row) == ("characteristics.csv", 1)
    assert "semicolons" in p.expected


def test_not_utf8_says_where(data_copy):
    path = data_copy / "characteristics.csv"
    path.write_bytes(path.read_bytes().replace(b"Inclusive", "Inclusivé".encode("latin-1")))
    p = only(problems(data_copy))
    assert p.file == "characteristics.csv" and p.row == 4
    assert "UTF-8" in p.expected and "0xe9" in p.expected


def test_missing_and_extra_column(data_copy):
    edit(data_copy / "characteristics.csv", "id,position,text,source_lines", "id,position,wording,source_lines")
    found = problems(data_copy)
    assert {(p.file, p.row, p.column) for p in found} == {
        ("characteristics.csv", 1, "text"),
        ("characteristics.csv", 1, "wording"),
    }


def test_empty_required_field(data_copy):
    edit(data_copy / "characteristics.csv", "HLC-3,3,Inclusive,159", "HLC-3,3,,159")
    p = only(problems(data_copy))
    assert (p.file, p.row, p.column) == ("characteristics.csv", 4, "text")
    assert "required" in p.expected


def test_unknown_level(data_copy):
    edit(data_copy / "focus_areas.csv", "FA-CON-2,content", "FA-CON-2,contents")
    p = only(problems(data_copy))
    assert (p.file, p.row, p.column, p.value) == ("focus_areas.csv", 7, "level", "contents")
    assert "infrastructural" in p.expected


def test_duplicate_id(data_copy):
    edit(data_copy / "focus_areas.csv", "FA-CON-2,", "FA-CON-1,")
    p = only(problems(data_copy))
    assert (p.file, p.row, p.column, p.value) == ("focus_areas.csv", 7, "id", "FA-CON-1")
    assert "row 6" in p.expected


def test_role_naming_an_unknown_organization(data_copy):
    edit(data_copy / "organization_roles.csv", "content,UNESCO,", "content,UNESCO-X,")
    p = only(problems(data_copy))
    assert (p.file, p.row, p.column, p.value) == ("organization_roles.csv", 6, "organization", "UNESCO-X")
    assert "organizations.acronym" in p.expected


def test_wrong_type(data_copy):
    edit(data_copy / "characteristics.csv", "HLC-2,2,", "HLC-2,two,")
    p = only(problems(data_copy))
    assert (p.row, p.column, p.value) == (3, "position", "two")
    assert "whole number" in p.expected


def test_wrong_date(data_copy):
    edit(data_copy / "wgec_meetings.csv", "2017-01-26", "26/01/2017")
    p = only(problems(data_copy))
    assert (p.file, p.row, p.column) == ("wgec_meetings.csv", 3, "start_date")
    assert "YYYY-MM-DD" in p.expected


def test_empty_file(data_copy):
    (data_copy / "levels.csv").write_text("")
    p = problems(data_copy)[0]
    assert p.file == "levels.csv" and "empty" in p.expected


def test_missing_file(data_copy):
    (data_copy / "statements.csv").unlink()
    p = only(problems(data_copy))
    assert p.file == "statements.csv" and "missing" in p.expected


def test_missing_descriptor(data_copy):
    (data_copy / "datapackage.json").unlink()
    p = only(problems(data_copy))
    assert p.file == "datapackage.json"


def test_truncated_row(data_copy):
    path = data_copy / "recommendations.csv"
    text = path.read_text()
    path.write_text(text[: text.index("REC-10") + 40])  # cut inside a quoted cell
    p = only(problems(data_copy))
    assert p.file == "recommendations.csv" and "truncated" in p.expected


def test_row_with_too_few_cells(data_copy):
    edit(data_copy / "characteristics.csv", "HLC-8,8,Sustainability of cooperation,170", "HLC-8,8")
    p = only(problems(data_copy))
    assert (p.file, p.row) == ("characteristics.csv", 9)
    assert "4 cells" in p.expected


def test_control_character_is_a_data_error(data_copy):
    edit(data_copy / "characteristics.csv", "Transparent", "Trans\x07parent")
    p = only(problems(data_copy))
    assert (p.row, p.column) == (3, "text") and "U+0007" in p.expected


def test_binary_file(data_copy):
    (data_copy / "levels.csv").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    p = only(problems(data_copy))
    assert p.file == "levels.csv" and "binary" in p.expected


def test_symlink_outside_the_data_directory(data_copy, tmp_path):
    outside = tmp_path / "elsewhere.csv"
    outside.write_text((data_copy / "levels.csv").read_text())
    (data_copy / "levels.csv").unlink()
    os.symlink(outside, data_copy / "levels.csv")
    p = only(problems(data_copy))
    assert p.file == "levels.csv" and "outside" in p.expected


def test_blank_rows_do_not_shift_row_numbers(data_copy):
    edit(data_copy / "characteristics.csv", "HLC-2,2,Transparent,158\n", "HLC-2,2,Transparent,158\n,,,\n")
    edit(data_copy / "characteristics.csv", "HLC-3,3,Inclusive", "HLC-3,3,")
    p = only(problems(data_copy))
    assert p.row == 5  # header 1, HLC-1 2, HLC-2 3, blank 4, HLC-3 5


def test_every_problem_is_reported_at_once(data_copy):
    edit(data_copy / "focus_areas.csv", "FA-CON-2,content", "FA-CON-2,contents")
    edit(data_copy / "characteristics.csv", "HLC-2,2,", "HLC-2,two,")
    (data_copy / "hosting_options.csv").write_text("")
    found = problems(data_copy)
    assert {p.file for p in found} == {"focus_areas.csv", "characteristics.csv", "hosting_options.csv"}
    message = str(data.DataError(found))
    assert message.startswith("3 problems in the data")
    assert "focus_areas.csv, row 7, column 'level'" in message


@pytest.fixture
def build_message():
    """Hand this process the message the build hands a kernel (wgec.session.begin); forget it after."""
    yield session.begin
    session.begin()


def test_validated_data_loads_the_same_without_validating_again(data_copy, build_message):
    checked = data.load(data_copy)
    build_message({"validated": data.digest(data_copy, checked.descriptor)})
    fast = data.load(data_copy)
    for name in checked:
        assert fast[name].equals(checked[name]), name
        assert list(fast[name].dtypes) == list(checked[name].dtypes), name


def test_a_stale_validation_digest_does_not_let_bad_data_through(data_copy, build_message):
    build_message({"validated": data.digest(data_copy, data.load(data_copy).descriptor)})
    edit(data_copy / "focus_areas.csv", "FA-CON-2,content", "FA-CON-2,contents")
    p = only(problems(data_copy))
    assert (p.file, p.row, p.column) == ("focus_areas.csv", 7, "level")


# --- what a build validates again after an edit (the memo in OUT/.cache) -------------------


@pytest.fixture
def validated(monkeypatch):
    """The names of the tables frictionless validates, in the order it does."""
    from frictionless import Resource

    names: list[str] = []
    original = Resource.validate

    def counting(self, *args, **kwargs):
        names.append(self.name)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Resource, "validate", counting)
    return names


def test_after_an_edit_only_the_tables_it_can_change_are_validated_again(data_copy, tmp_path, validated):
    memo = tmp_path / "validated.json"
    every = [r["name"] for r in data.load(data_copy, memo=memo).descriptor["resources"]]
    assert validated == every and memo.is_file()
    validated.clear()
    data.load(data_copy, memo=memo)
    assert validated == [], "nothing changed: nothing validated again"
    edit(data_copy / "organizations.csv", "UNESCO,", "UNESCO ,")  # a stray space: the same cells
    data.load(data_copy, memo=memo)
    assert validated == []
    edit(data_copy / "organizations.csv", "United Nations", "The United Nations")
    data.load(data_copy, memo=memo)
    assert validated == ["organizations", "organization_roles"], "the edited table, and the one whose keys point to it"


def test_the_descriptor_is_validated_again_only_when_it_changed(data_copy, tmp_path, monkeypatch):
    """The memo keeps the digest of a descriptor found valid: the same descriptor is not handed to
    frictionless again, and any change to it is (a broken schema is still found, through the memo)."""
    from frictionless import Package

    calls = []
    original = Package.from_descriptor.__func__

    def counting(cls, *args, **kwargs):
        calls.append(1)
        return original(cls, *args, **kwargs)

    monkeypatch.setattr(Package, "from_descriptor", classmethod(counting))
    memo = tmp_path / "validated.json"
    data.load(data_copy, memo=memo)
    assert len(calls) == 1
    edit(data_copy / "organizations.csv", "United Nations", "The United Nations")
    data.load(data_copy, memo=memo)
    assert len(calls) == 1, "a table edited, the descriptor as it was: not validated again"
    edit(data_copy / "datapackage.json", '"type": "string"', '"type": "strng"')
    with pytest.raises(data.DataError) as info:
        data.load(data_copy, memo=memo)
    assert len(calls) == 2
    assert [p.file for p in info.value.problems] == ["datapackage.json"]
    assert "strng" in str(info.value)


def test_an_error_is_found_through_the_memo_in_the_table_that_did_not_change(data_copy, tmp_path):
    memo = tmp_path / "validated.json"
    data.load(data_copy, memo=memo)
    # organization_roles.csv is unchanged, but the organization it names is gone.
    edit(data_copy / "organizations.csv", "\nUNESCO,", "\nUNESCO-X,")
    with pytest.raises(data.DataError) as info:
        data.load(data_copy, memo=memo)
    found = [(p.file, p.column, p.value) for p in info.value.problems]
    assert ("organization_roles.csv", "organization", "UNESCO") in found, found
    edit(data_copy / "organizations.csv", "\nUNESCO-X,", "\nUNESCO,")
    edit(data_copy / "characteristics.csv", "HLC-2,2,", "HLC-2,two,")
    p = only(problems(data_copy))
    assert (p.row, p.column, p.value) == (3, "position", "two")
    with pytest.raises(data.DataError):
        data.load(data_copy, memo=memo)
