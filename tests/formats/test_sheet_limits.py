"""Sheets made to be huge once unpacked (zip bombs, millions of tiny rows, rows of
thousands of cells) are refused in moments, typed (``SheetTooLarge``, the limit named,
or ``UnreadableSheet`` for an archive that lies about itself), before a row is
imported; real sheets are read as before, a row at a time. The hostile workbooks are
built here with zipfile, streamed, so a few MB of file holds hundreds of MB of sheet."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from spreadsheet_support import (
    FIXTURES,
    REGISTER_ZH,
    SHEET_XML,
    declare_size,
    events,
    memory_ledger,
    register_row,
    row_xml,
    write_csv,
    write_xlsx,
    write_xlsx_xml,
)

from customer_ledger.errors import SheetTooLarge, SpreadsheetError, UnreadableSheet
from customer_ledger.formats.spreadsheets import limits as L
from customer_ledger.formats.spreadsheets.importing import import_sheet
from customer_ledger.formats.spreadsheets.limits import SheetLimits
from customer_ledger.formats.spreadsheets.reading import read_sheet

HEADER = row_xml(1, *REGISTER_ZH)
GOOD = row_xml(2, *register_row(number="A001", type="个人客户", name="*先生"))
QUICKLY = 3.0  # seconds (on a loaded 2-core CI box): openpyxl would take minutes


def refused(path: Path, **options: object) -> tuple[SpreadsheetError, float]:
    """Imports ``path`` into an empty ledger, expecting a refusal: the error and how long
    it took; the ledger must still be empty."""
    ledger = memory_ledger()
    started = time.perf_counter()
    with pytest.raises(SpreadsheetError) as error:
        import_sheet(ledger, path, **options)  # type: ignore[arg-type]
    took = time.perf_counter() - started
    assert events(ledger) == 0, "a refused sheet recorded something"
    return error.value, took


def too_large(path: Path, limit: str, **options: object) -> SheetTooLarge:
    error, took = refused(path, **options)
    assert isinstance(error, SheetTooLarge), error
    assert (error.rule, error.limit) == ("sheet_too_large", limit)
    assert f"the {limit} limit" in str(error) and path.name in str(error)
    assert took < QUICKLY, f"refused after {took:.2f} s"
    return error


def spaces(megabytes: int) -> Iterator[bytes]:
    """A text cell of that many MB of spaces: deflate packs it about a thousand to one."""
    yield HEADER + b'<row r="2"><c r="A2" t="inlineStr"><is><t>'
    chunk = b" " * 2**20
    for _ in range(megabytes):
        yield chunk
    yield b"</t></is></c></row>"


# -- the archive ---------------------------------------------------------------------------


def test_a_zip_bomb_is_refused_by_what_its_sheet_unpacks_to(tmp_path: Path) -> None:
    # given a workbook of about 1 MB whose sheet unpacks to more than 256 MB
    path = write_xlsx_xml(tmp_path / "bomb.xlsx", spaces(L.MAX_MEMBER_BYTES // 2**20 + 1))
    assert path.stat().st_size < 2 * 2**20
    # when it is imported, then it is refused at once, the limit named, nothing recorded
    error = too_large(path, "member_bytes")
    assert f"more than {L.MAX_MEMBER_BYTES:,}" in str(error)


def test_a_member_packed_beyond_the_ratio_is_refused(tmp_path: Path) -> None:
    # given a sheet of 20 MB that deflate packs about a thousand to one
    path = write_xlsx_xml(tmp_path / "dense.xlsx", spaces(20))
    # then it is refused by its ratio, though its size is within the limit
    assert "(a zip bomb?)" in str(too_large(path, "ratio"))


def test_the_members_together_may_not_unpack_beyond_the_total(tmp_path: Path) -> None:
    # given a sheet that is within the limit for one member but not for all together
    path = write_xlsx_xml(tmp_path / "sum.xlsx", [HEADER, GOOD])
    sizes = [size for _, size in _members(path)]
    limits = SheetLimits(member_bytes=max(sizes), unpacked_bytes=sum(sizes) - 1)
    too_large(path, "unpacked_bytes", limits=limits)
    assert import_sheet(memory_ledger(), path, limits=SheetLimits(unpacked_bytes=sum(sizes))).ok


def _members(path: Path) -> list[tuple[str, int]]:
    import zipfile

    with zipfile.ZipFile(path) as archive:
        return [(m.filename, m.file_size) for m in archive.infolist()]


def test_a_member_that_unpacks_to_more_than_it_declares_is_refused(tmp_path: Path) -> None:
    # given a bomb whose archive says its sheet unpacks to 1,000 bytes (it is 300 MB)
    path = write_xlsx_xml(tmp_path / "liar.xlsx", spaces(300))
    declare_size(path, SHEET_XML, 1000)
    # when it is imported: refused after inflating a chunk past what it declares
    error, took = refused(path)
    assert isinstance(error, UnreadableSheet)
    assert "unpacks to more than the 1,000 bytes it declares" in str(error)
    assert took < QUICKLY


def test_a_part_that_declares_a_document_type_is_refused(tmp_path: Path) -> None:
    # given a sheet with entity definitions (the "billion laughs": entities of entities)
    laughs = b'<!DOCTYPE worksheet [<!ENTITY a "ha"><!ENTITY b "&a;&a;&a;&a;">]>'
    path = write_xlsx_xml(tmp_path / "laughs.xlsx", [HEADER, GOOD])
    _prepend(path, SHEET_XML, laughs)
    error, _ = refused(path)
    assert isinstance(error, UnreadableSheet) and "declares a document type" in str(error)


def _prepend(path: Path, member: str, data: bytes) -> None:
    import zipfile

    with zipfile.ZipFile(path) as archive:
        parts = {m: archive.read(m) for m in archive.namelist()}
    parts[member] = data + parts[member]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in parts.items():
            archive.writestr(name, content)


def test_a_damaged_part_is_unreadable_not_a_crash(tmp_path: Path) -> None:
    # given a workbook whose workbook.xml is cut short (openpyxl raises a ParseError)
    path = write_xlsx(tmp_path / "cut.xlsx", [REGISTER_ZH])
    import zipfile

    with zipfile.ZipFile(path) as archive:
        parts = {m: archive.read(m) for m in archive.namelist()}
    parts["xl/workbook.xml"] = parts["xl/workbook.xml"][:50]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in parts.items():
            archive.writestr(name, content)
    error, _ = refused(path)
    assert isinstance(error, UnreadableSheet)


# -- rows and cells ---------------------------------------------------------------------------


def tiny_rows(count: int) -> Iterator[bytes]:
    """``count`` empty rows after the header: 15 bytes a row."""
    yield HEADER
    for number in range(2, 2 + count):
        yield b'<row r="%d"/>' % number


def test_a_sheet_of_more_rows_than_the_limit_is_refused_quickly(tmp_path: Path) -> None:
    # given 200,001 tiny rows: 3 MB of sheet in a 0.4 MB file (openpyxl takes minutes)
    path = write_xlsx_xml(tmp_path / "rows.xlsx", tiny_rows(L.MAX_ROWS))
    # then it is refused while the sheet's XML is scanned, before openpyxl reads it
    assert f"more than {L.MAX_ROWS:,} rows" in str(too_large(path, "rows"))


def test_a_row_numbered_past_the_limit_is_refused_not_filled_in(tmp_path: Path) -> None:
    # given one row numbered 1,048,576 (openpyxl would yield a million empty rows first)
    path = write_xlsx_xml(tmp_path / "far.xlsx", [HEADER, row_xml(1_048_576, "A001")])
    too_large(path, "rows")


def test_a_row_of_more_cells_than_the_limit_is_refused(tmp_path: Path) -> None:
    cell = b'<c t="inlineStr"><is><t>x</t></is></c>'
    wide = write_xlsx_xml(tmp_path / "wide.xlsx", [HEADER, b'<row r="2">' + cell * 201 + b"</row>"])
    assert "row 2 has 201 cells, more than 200" in str(too_large(wide, "columns"))
    # and so is one cell far to the right, which would pad its row to 16,384 cells
    far = b'<row r="2"><c r="XFD2" t="inlineStr"><is><t>x</t></is></c></row>'
    path = write_xlsx_xml(tmp_path / "xfd.xlsx", [HEADER, far])
    assert "row 2 has 16,384 cells" in str(too_large(path, "columns"))


def test_a_row_of_too_many_xml_elements_is_refused(tmp_path: Path) -> None:
    # given one cell of 30,000 rich-text runs (openpyxl would hold them all at once)
    runs = b"<r><t>x</t></r>" * 10_000
    row = b'<row r="2"><c r="A2" t="inlineStr"><is>' + runs + b"</is></c></row>"
    too_large(write_xlsx_xml(tmp_path / "runs.xlsx", [HEADER, row]), "row_elements")


def test_the_cells_of_all_rows_together_are_limited(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "cells.xlsx", [REGISTER_ZH] * 10)  # 150 cells
    too_large(path, "cells", limits=SheetLimits(cells=100))


def test_a_dimension_larger_than_the_data_pads_nothing(tmp_path: Path) -> None:
    # given a real row under a sheet that claims to fill every cell Excel has
    path = write_xlsx_xml(tmp_path / "claims.xlsx", [HEADER, GOOD], dimension="A1:XFD1048576")
    # when it is imported, then it reads as the two rows it holds, at once
    started = time.perf_counter()
    report = import_sheet(memory_ledger(), path)
    assert (report.rows, report.failed, report.recorded) == (1, 0, 1)
    assert time.perf_counter() - started < QUICKLY
    (_, row) = read_sheet(path).rows
    assert len(row.values) == len(REGISTER_ZH)


# -- CSV ---------------------------------------------------------------------------------------


def test_a_csv_file_beyond_its_size_limit_is_refused_before_it_is_read(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "big.csv", [REGISTER_ZH] * 100)
    error = too_large(path, "csv_bytes", limits=SheetLimits(csv_bytes=1000))
    assert f"{path.stat().st_size:,} bytes, more than 1,000" in str(error)


def test_a_csv_file_of_too_many_rows_or_cells_is_refused(tmp_path: Path) -> None:
    rows = write_csv(tmp_path / "rows.csv", [REGISTER_ZH, *[register_row(number="A1")] * 20])
    too_large(rows, "rows", limits=SheetLimits(rows=10))
    wide = write_csv(tmp_path / "wide.csv", [REGISTER_ZH, ["x"] * 201])
    assert "row 2 has 201 cells" in str(too_large(wide, "columns"))


def test_a_csv_record_of_a_million_characters_is_refused_as_it_is_read(tmp_path: Path) -> None:
    # given a line of 1.1 million commas: the csv module would make a list of that many
    path = tmp_path / "commas.csv"
    path.write_text(",".join(REGISTER_ZH) + "\n" + "," * 1_100_000 + "\n", encoding="utf-8")
    # then it is refused on the line's length, before the csv module reads it
    error = too_large(path, "record_chars")
    assert f"row 2 is longer than {L.MAX_RECORD_CHARS:,} characters" in str(error)
    # and a record of lines (a quoted field with newlines) counts all of them
    lines = tmp_path / "lines.csv"
    lines.write_text(",".join(REGISTER_ZH) + '\n"' + "x,\n" * 50_000 + '"\n', encoding="utf-8")
    too_large(lines, "record_chars", limits=SheetLimits(record_chars=100_000))


# -- the rule, for any sizes, and real sheets ----------------------------------------------------


@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rows=st.integers(1, 12),
    cells=st.integers(1, 12),
    most_rows=st.integers(1, 12),
    most_cells=st.integers(1, 12),
    kind=st.sampled_from(["csv", "xlsx"]),
)
def test_a_sheet_is_read_whole_within_the_limits_and_refused_past_them(
    tmp_path_factory: pytest.TempPathFactory,
    rows: int,
    cells: int,
    most_rows: int,
    most_cells: int,
    kind: str,
) -> None:
    # given a sheet of rows x cells, read under limits of most_rows x most_cells
    table = [[f"{r}.{c}" for c in range(cells)] for r in range(rows)]
    folder = tmp_path_factory.mktemp("limits")
    path = (write_csv if kind == "csv" else write_xlsx)(folder / f"t.{kind}", table)
    limits = SheetLimits(rows=most_rows, columns=most_cells)
    # then it reads as written when it fits, else the first limit it passes is named
    if rows <= most_rows and cells <= most_cells:
        assert [list(r.values) for r in read_sheet(path, limits).rows] == table
    else:
        with pytest.raises(SheetTooLarge) as error:
            list(read_sheet(path, limits).rows)
        assert error.value.limit == ("columns" if cells > most_cells else "rows")


@pytest.mark.parametrize("name", ["register.csv", "register.xlsx", "worksheet.xlsx"])
def test_the_example_sheets_read_alike_row_by_row_each_time(name: str, tmp_path: Path) -> None:
    # given an example sheet; its rows are read anew on each iteration, a row at a time
    sheet = read_sheet(shutil.copy(FIXTURES / name, tmp_path / name))
    first, again = list(sheet.rows), list(sheet.rows)
    assert first == again and len(first) > 1
    assert not isinstance(sheet.rows, (list, tuple))
    # and the example imports as before, under the default limits
    assert import_sheet(memory_ledger(), tmp_path / name).ok
