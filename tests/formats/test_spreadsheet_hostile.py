"""Hostile spreadsheets: malformed cells (wrong types, huge strings, control characters,
undecodable bytes, dates out of range, formulas) in CSV and XLSX always fail their own
row with a typed, numbered error, never crash the import, and leave the store as if
the row had not been there. Whole files that cannot be read are refused before
anything is written."""

from __future__ import annotations

import csv
import tempfile
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from spreadsheet_support import (
    FIXTURES,
    REGISTER_ZH,
    WORKSHEET_ZH,
    events,
    memory_ledger,
    write_csv,
    write_xlsx,
)

from customer_ledger.errors import SpreadsheetError, UnknownLayout, UnreadableSheet
from customer_ledger.formats.spreadsheets.importing import SheetReport, import_sheet

INJECTIONS = [
    "=cmd|' /C calc'!A0", "@SUM(1)", "+1", "-1", "=1+1", "Robert'); DROP TABLE stored_events;--",
    "0001-01-01", "9999-12-31", "2023-02-30", "10月32日", "-0", "NaN", "inf", "１２３", "\u200b",
    "", " ", "*", "****", "个人客户个人客户", "2023-10-10投诉,投诉", "（（（", "“", "¥", "1e309",
]  # fmt: skip
safe_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40)
huge = st.text(min_size=1, max_size=4).map(lambda s: s * 3000)
controls = st.sampled_from(["\x00", "\x07", "\x1b", "\x7f", "\ufffe"])
control = st.builds(lambda a, c, b: a + c + b, safe_text, controls, safe_text)
csv_cells = st.one_of(st.sampled_from(INJECTIONS), safe_text, huge, control)
xlsx_cells = st.one_of(
    st.sampled_from(INJECTIONS),
    safe_text.filter(lambda t: not ILLEGAL_CHARACTERS_RE.search(t)),
    huge.filter(lambda t: not ILLEGAL_CHARACTERS_RE.search(t)),
    st.integers(min_value=-(2**53), max_value=2**53),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.datetimes(min_value=datetime(1900, 3, 1), max_value=datetime(9999, 12, 31)),
)


def fixture_rows(name: str) -> list[list[str]]:
    with open(FIXTURES / name, encoding="utf-8-sig", newline="") as f:
        return list(csv.reader(f))[1:]


REGISTER_ROWS, WORKSHEET_ROWS = fixture_rows("register.csv"), fixture_rows("worksheet.csv")
HEADERS = {"register": REGISTER_ZH, "worksheet": WORKSHEET_ZH}
GOOD = {"register": REGISTER_ROWS, "worksheet": WORKSHEET_ROWS}


@cache
def reference(layout: str) -> tuple[int, list[str]]:
    """The store after importing the good rows only: the first and the last."""
    ledger = memory_ledger()
    good = GOOD[layout]
    with tempfile.TemporaryDirectory() as tmp:
        path = write_csv(Path(tmp) / "ref.csv", [HEADERS[layout], good[0], good[-1]])
        assert import_sheet(ledger, path).ok
    return events(ledger), sorted(ledger.numbers())


def check(report: SheetReport, ledger: Any, layout: str) -> None:
    """The hostile row (sheet row 3) either passed or failed alone, typed, changing nothing."""
    assert all(f.row == 3 for f in report.failures), report.failures
    assert all(f.rule != "unexpected_error" for f in report.failures), report.failures
    assert {r.row for r in report.results} >= {2, 4}
    if report.failures:
        assert (events(ledger), sorted(ledger.numbers())) == reference(layout)


@settings(
    max_examples=40,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    layout=st.sampled_from(["register", "worksheet"]),
    column=st.integers(0, 14),
    cell=csv_cells,
)
def test_a_hostile_csv_cell_fails_only_its_own_row(
    layout: str, column: int, cell: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    tmp = tmp_path_factory.mktemp("csv")
    good = GOOD[layout]
    hostile = list(good[1])
    hostile[column % len(hostile)] = cell
    ledger = memory_ledger()
    report = import_sheet(
        ledger, write_csv(tmp / "in.csv", [HEADERS[layout], good[0], hostile, good[-1]])
    )
    check(report, ledger, layout)


@settings(
    max_examples=40,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    layout=st.sampled_from(["register", "worksheet"]),
    column=st.integers(0, 14),
    cell=xlsx_cells,
)
def test_a_hostile_xlsx_cell_fails_only_its_own_row(
    layout: str, column: int, cell: Any, tmp_path_factory: pytest.TempPathFactory
) -> None:
    tmp = tmp_path_factory.mktemp("xlsx")
    good = GOOD[layout]
    hostile: list[Any] = list(good[1])
    hostile[column % len(hostile)] = cell
    ledger = memory_ledger()
    report = import_sheet(
        ledger, write_xlsx(tmp / "in.xlsx", [HEADERS[layout], good[0], hostile, good[-1]])
    )
    check(report, ledger, layout)


@settings(max_examples=20, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(junk=st.binary(min_size=1, max_size=12).filter(lambda b: b"\n" not in b and b"\r" not in b))
def test_undecodable_bytes_fail_their_row_in_a_utf8_file(
    junk: bytes, tmp_path_factory: pytest.TempPathFactory
) -> None:
    tmp = tmp_path_factory.mktemp("bytes")
    lines = [",".join(REGISTER_ZH), *(",".join(f'"{c}"' for c in row) for row in REGISTER_ROWS)]
    data = [line.encode("utf-8") for line in lines]
    junk = junk.replace(b'"', b"'")
    data[2] = data[2].replace("跟进满意度".encode(), junk)  # B002's 分析备注
    path = tmp / "in.csv"
    path.write_bytes(b"\r\n".join(data))
    ledger = memory_ledger()
    report = import_sheet(ledger, path)
    check(report, ledger, "register")
    try:
        junk.decode("utf-8")
    except UnicodeDecodeError:
        assert [f.rule for f in report.failures] == ["undecodable_text"]


def test_a_field_beyond_the_csv_readers_limit_fails_its_row(tmp_path: Path) -> None:
    rows = [
        REGISTER_ZH,
        REGISTER_ROWS[0],
        [*REGISTER_ROWS[1][:6], "长" * 200_000],
        REGISTER_ROWS[2],
    ]
    ledger = memory_ledger()
    report = import_sheet(ledger, write_csv(tmp_path / "in.csv", rows))
    assert [(f.row, f.rule) for f in report.failures] == [(3, "undecodable_text")]
    assert sorted(ledger.numbers()) == ["A001", "C003"]


def test_an_xlsx_formula_is_refused_its_value_is_not_in_the_file(tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    for row in (REGISTER_ZH, REGISTER_ROWS[0], [*REGISTER_ROWS[1][:11], "=2+2"], REGISTER_ROWS[2]):
        sheet.append(row)
    book.save(tmp_path / "in.xlsx")
    report = import_sheet(memory_ledger(), tmp_path / "in.xlsx")
    assert [(f.row, f.rule, f.column) for f in report.failures] == [
        (3, "formula_cell", "满意度评分")
    ]


def test_formula_looking_text_is_just_text(tmp_path: Path) -> None:
    row = list(REGISTER_ROWS[0])
    row[6] = "=cmd|' /C calc'!A0"  # 最近互动内容, typed as text
    ledger = memory_ledger()
    assert import_sheet(ledger, write_csv(tmp_path / "in.csv", [REGISTER_ZH, row])).ok
    topics = [e.topic for e in ledger.history("A001") if type(e).__name__ == "InteractionLogged"]
    assert topics == ["=cmd|' /C calc'!A0"]


def test_typed_xlsx_cells_read_as_the_text_a_person_sees(tmp_path: Path) -> None:
    row: list[Any] = list(REGISTER_ROWS[0])
    row[4], row[11], row[14] = datetime(2023, 10, 20), 4, datetime(2023, 10, 20)
    ledger = memory_ledger()
    assert import_sheet(ledger, write_xlsx(tmp_path / "in.xlsx", [REGISTER_ZH, row])).ok
    assert ledger.profile("A001").last_satisfaction == 4


@pytest.mark.parametrize(
    ("content", "error"),
    [(b"PK\x03\x04 not really a zip", UnreadableSheet), (b"", UnknownLayout),
     (b"\x00\x01\x02\xff", UnknownLayout)],
)  # fmt: skip
def test_an_unreadable_file_is_refused_whole_before_anything_is_written(
    tmp_path: Path, content: bytes, error: type[SpreadsheetError]
) -> None:
    suffix = ".xlsx" if content.startswith(b"PK") else ".csv"
    path = tmp_path / f"bad{suffix}"
    path.write_bytes(content)
    ledger = memory_ledger()
    with pytest.raises(error):
        import_sheet(ledger, path)
    assert events(ledger) == 0


def test_a_file_that_does_not_exist_is_a_typed_error(tmp_path: Path) -> None:
    with pytest.raises(UnreadableSheet):
        import_sheet(memory_ledger(), tmp_path / "missing.csv")
