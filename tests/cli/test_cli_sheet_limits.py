"""``customer-ledger import`` of a sheet made to be huge: one ``error [rule]: ...`` line,
exit 1, nothing recorded, in moments."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_support import invoke
from spreadsheet_support import REGISTER_ZH, SHEET_XML, declare_size, row_xml, write_xlsx_xml

from customer_ledger import CustomerLedger
from customer_ledger.cli import output as cli_output
from customer_ledger.formats.spreadsheets import limits


def recorded(store: str) -> int:
    with CustomerLedger.open(store) as ledger:
        return ledger.recorder.max_notification_id() or 0


def bomb(path: Path) -> Path:
    """About 1 MB of workbook whose sheet unpacks to more than 256 MB."""

    def cell() -> Iterator[bytes]:
        yield row_xml(1, *REGISTER_ZH) + b'<row r="2"><c t="inlineStr"><is><t>'
        for _ in range(limits.MAX_MEMBER_BYTES // 2**20 + 1):
            yield b" " * 2**20
        yield b"</t></is></c></row>"

    return write_xlsx_xml(path, cell())


@pytest.mark.parametrize("dry_run", [[], ["--dry-run"]])
def test_a_zip_bomb_is_one_error_line_and_records_nothing(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    dry_run: list[str],
) -> None:
    # given a store and a zip bomb dressed as a register
    monkeypatch.delenv(cli_output.ENV_STORE, raising=False)
    store = f"sqlite:///{tmp_path}/ledger.db"
    before = recorded(store)
    path = bomb(tmp_path / "register.xlsx")
    # when it is imported
    run = invoke(capsys, ["--store", store, "import", str(path), *dry_run])
    # then one line names the rule and the limit; exit 1; the store is as it was
    assert (run.code, run.out) == (1, "")
    assert run.err.startswith("error [sheet_too_large]: register.xlsx: 'xl/worksheets/sheet1.xml'")
    assert run.err.endswith("(the member_bytes limit); nothing was imported\n")
    assert run.err.count("\n") == 1
    assert recorded(store) == before


def test_an_archive_that_lies_about_its_sizes_is_unreadable(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv(cli_output.ENV_STORE, raising=False)
    path = bomb(tmp_path / "register.xlsx")
    declare_size(path, SHEET_XML, 4096)
    run = invoke(capsys, ["--store", f"sqlite:///{tmp_path}/ledger.db", "import", str(path)])
    assert run.code == 1
    assert run.err.startswith("error [unreadable_sheet]: register.xlsx: 'xl/worksheets/sheet1.xml'")
    assert "unpacks to more than the 4,096 bytes it declares" in run.err
