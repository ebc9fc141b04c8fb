"""Writing rows as CSV, XLSX or JSON Lines, streaming, with formula injection defused.

A spreadsheet program runs a cell that starts with ``=``, ``+``, ``-`` or ``@`` (or a
tab or carriage return before one) as a formula, so an exported customer note such
as ``=cmd|' /C calc'!A0`` could run a command on the reader's machine (OWASP: CSV
Injection). Every text cell of a CSV or XLSX export that starts with one of those
characters (full-width forms included), or with the apostrophe that guards them, gets
a leading apostrophe; XLSX cells are also stored as explicit strings, never formulas.
The importer removes exactly that apostrophe again, so exports re-import unchanged.
Numbers stay numbers (a number cannot hold a formula). JSON Lines is data, not a
spreadsheet: it is written as is.

XLSX cannot hold most control characters nor more than 32,767 characters in a cell:
control characters become their visible Unicode pictures (U+2400 + code) and longer
text is cut with a marker saying how much; CSV and JSON Lines keep everything.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import io
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import IO, Any

import orjson

from customer_ledger.formats.spreadsheets.layouts import NEUTRALISER, neutralised

FORMATS = ("csv", "xlsx", "jsonl")
XLSX_MAX_CELL = 32_767
Row = Sequence[Any]
Tick = Callable[[int], None]


def neutralise(text: str) -> str:
    """``text`` made safe to open in a spreadsheet program (see the module docstring)."""
    return NEUTRALISER + text if neutralised(text) else text


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _valid_unicode(text: str) -> str:
    """Lone surrogates cannot be encoded; they become U+FFFD."""
    return text.encode("utf-8", "replace").decode("utf-8") if _has_surrogate(text) else text


def _has_surrogate(text: str) -> bool:
    return any("\ud800" <= ch <= "\udfff" for ch in text)


def csv_cell(value: Any) -> str:
    if isinstance(value, (int, Decimal)) and not isinstance(value, bool):
        return str(value)
    return neutralise(_valid_unicode(_text(value)))


def xlsx_value(value: Any) -> Any:
    """A number as a number, anything else as safe text."""
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        return value
    text = neutralise(_valid_unicode(_text(value)))
    text = "".join(chr(0x2400 + ord(ch)) if _illegal(ch) else ch for ch in text)
    if len(text) > XLSX_MAX_CELL:
        cut = f"…[{len(text) - XLSX_MAX_CELL + 40} more characters; see the CSV or JSONL export]"
        text = text[: XLSX_MAX_CELL - len(cut)] + cut
    return text


def _illegal(ch: str) -> bool:
    return ord(ch) < 32 and ch not in "\t\n\r"


def json_value(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, Decimal):
        return str(value)
    return _valid_unicode(_text(value))


def write_csv(headers: Row, rows: Iterable[Row], out: IO[bytes], tick: Tick | None = None) -> int:
    """UTF-8 with a BOM (so Excel reads Chinese right), CRLF line ends. Each row is
    encoded and handed to ``out`` as it comes (no text wrapper left on ``out`` when a
    write fails: it would close ``out`` when collected)."""
    line = io.StringIO()
    writer = csv.writer(line, lineterminator="\r\n")

    def put(values: list[str]) -> None:
        writer.writerow(values)
        out.write(line.getvalue().encode("utf-8"))
        line.seek(0)
        line.truncate()

    out.write(codecs.BOM_UTF8)
    put([csv_cell(h) for h in headers])
    count = 0
    for row in rows:
        put([csv_cell(v) for v in row])
        count += 1
        if tick is not None:
            tick(1)
    return count


def write_xlsx(
    headers: Row,
    rows: Iterable[Row],
    out: IO[bytes],
    tick: Tick | None = None,
    title: str = "export",
) -> int:
    """A write-only (streaming) workbook: memory stays flat however many rows."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=_sheet_title(title))

    def cells(values: Row) -> list[Any]:
        made = []
        for value in values:
            cell = WriteOnlyCell(sheet, value=xlsx_value(value))
            if isinstance(cell.value, str):
                cell.data_type = "s"  # text, never a formula
            made.append(cell)
        return made

    target = _Abandonable(out)
    try:
        sheet.append(cells(headers))
        count = 0
        for row in rows:
            sheet.append(cells(row))
            count += 1
            if tick is not None:
                tick(1)
        book.save(target)
    except BaseException:
        target.abandon()
        with contextlib.suppress(Exception):
            sheet.close()  # ends its row writer now, not when collected (noisily)
        raise
    return count


class _Abandonable:
    """``out`` for openpyxl, until ``abandon``: after a failed save, the zip archive
    openpyxl leaves behind writes its end records when it is collected, and those must go
    nowhere (``out`` is closed, or failing) rather than raise where no one can catch them.
    Abandoned, it is a file of nothing that keeps count of its position."""

    def __init__(self, out: IO[bytes]) -> None:
        self._out: IO[bytes] | None = out
        self._position = 0

    def abandon(self) -> None:
        self._out = None

    def write(self, data: bytes) -> int:
        if self._out is not None:
            return self._out.write(data)
        self._position += len(data)
        return len(data)

    def tell(self) -> int:
        return self._position if self._out is None else self._out.tell()

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if self._out is not None:
            return self._out.seek(offset, whence)
        self._position = offset if whence == io.SEEK_SET else self._position + offset
        return self._position

    def flush(self) -> None:
        if self._out is not None:
            self._out.flush()


def _sheet_title(title: str) -> str:
    return "".join("_" if ch in "[]:*?/\\" else ch for ch in title)[:31] or "export"


def write_jsonl(headers: Row, rows: Iterable[Row], out: IO[bytes], tick: Tick | None = None) -> int:
    """One JSON object per row, keyed by the headers."""
    keys = [_text(h) for h in headers]
    count = 0
    for row in rows:
        record = {k: json_value(v) for k, v in zip(keys, row, strict=True)}
        out.write(orjson.dumps(record) + b"\n")
        count += 1
        if tick is not None:
            tick(1)
    return count


WRITERS: dict[str, Callable[..., int]] = {
    "csv": write_csv,
    "xlsx": write_xlsx,
    "jsonl": write_jsonl,
}
