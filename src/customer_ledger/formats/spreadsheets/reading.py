"""Reading CSV and XLSX files into numbered rows of raw cell values.

Nothing is interpreted here: a cell is whatever the file holds (text, or for XLSX a
number, date or formula). Rows are numbered as a spreadsheet program shows them (the
header row is row 1 when it is the first), so a report line points at the right row.

CSV encodings: a BOM decides (UTF-8, UTF-16); otherwise the file is UTF-8 unless most
of its non-ASCII lines are not, in which case it is GB18030 (a superset of GBK, what
Excel writes on Chinese Windows). Bytes that do not decode are kept as surrogate
escapes, so only the rows holding them fail, with ``undecodable_text``.

Rows stream: ``RawSheet.rows`` reads the file from its first row each time it is
iterated, one row in memory at a time (a CSV file's text is in memory whole), held to
the limits of ``limits.py`` (``SheetTooLarge`` past one).
"""

from __future__ import annotations

import codecs
import csv
import io
import os
import stat
import zipfile
from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from attrs import frozen

from customer_ledger.errors import UnreadableSheet
from customer_ledger.formats.spreadsheets.limits import (
    RowCount,
    SheetLimits,
    check_archive,
    too_large,
)

CSV_SUFFIXES = (".csv", ".tsv", ".txt")
XLSX_SUFFIXES = (".xlsx", ".xlsm")
SUFFIXES = CSV_SUFFIXES + XLSX_SUFFIXES


@frozen
class Formula:
    """An XLSX cell holding a formula instead of a value."""

    text: str


@frozen
class RawRow:
    number: int
    values: tuple[Any, ...]
    error: str | None = None  # the file's own syntax broke here (CSV only)


@frozen
class RawSheet:
    name: str  # the file name, for reports and reasons
    encoding: str | None  # CSV only
    rows: Iterable[RawRow]  # a file's: read again from its first row on each iteration


class _Reread(Iterable[RawRow]):
    """A file's rows: each iteration reads them anew (``read()``)."""

    def __init__(self, read: Callable[[], Iterator[RawRow]]) -> None:
        self._read = read

    def __iter__(self) -> Iterator[RawRow]:
        return self._read()


def is_spreadsheet(path: Path) -> bool:
    return path.suffix.lower() in SUFFIXES


def read_sheet(path: Path, limits: SheetLimits | None = None) -> RawSheet:
    """The rows of a CSV file or of the first sheet of an XLSX workbook, read under
    ``limits`` (default: ``SheetLimits()``). An XLSX workbook is checked and read when
    its rows are; a CSV file is read and decoded here."""
    limits = limits or SheetLimits()
    suffix = path.suffix.lower()
    if suffix in XLSX_SUFFIXES:
        return RawSheet(path.name, None, _Reread(lambda: _xlsx_rows(path, limits)))
    if suffix in CSV_SUFFIXES:
        data = _read_bytes(path, limits)
        encoding, text = decode_csv(data)
        del data
        return RawSheet(path.name, encoding, _Reread(lambda: csv_rows(text, path.name, limits)))
    raise UnreadableSheet(f"{path.name}: not a spreadsheet (.csv or .xlsx)")


def _read_bytes(path: Path, limits: SheetLimits) -> bytes:
    """The whole file, refused (before it is read, when its size says so) past
    ``limits.csv_bytes``; never more than that is read (a device, a FIFO)."""
    most = limits.csv_bytes
    try:
        with open(path, "rb") as file:
            found = os.fstat(file.fileno())
            size = found.st_size if stat.S_ISREG(found.st_mode) else 0
            data = b"" if size > most else file.read(most + 1)
    except OSError as error:
        raise UnreadableSheet(f"cannot read {path}: {error.strerror or error}") from None
    if size > most:
        raise too_large("csv_bytes", f"{path.name}: {size:,} bytes, more than {most:,}")
    if len(data) > most:
        raise too_large("csv_bytes", f"{path.name}: more than {most:,} bytes")
    return data


# -- CSV ----------------------------------------------------------------------------------


def decode_csv(data: bytes) -> tuple[str, str]:
    """(encoding, text); undecodable bytes become surrogate escapes."""
    for bom, encoding in (
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if data.startswith(bom):
            errors = "surrogateescape" if encoding == "utf-8-sig" else "replace"
            return encoding, data.decode(encoding, errors)
    encoding = "utf-8" if _mostly_utf8(data) else "gb18030"
    return encoding, data.decode(encoding, "surrogateescape")


def _mostly_utf8(data: bytes) -> bool:
    valid = invalid = 0
    for line in data.splitlines():
        if max(line, default=0) < 0x80:
            continue
        try:
            line.decode("utf-8")
            valid += 1
        except UnicodeDecodeError:
            invalid += 1
    return valid >= invalid


def _delimiter(text: str) -> str:
    first = next((line for line in text.splitlines() if line.strip()), "")
    counts = {d: first.count(d) for d in (",", "\t", ";")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def csv_rows(text: str, name: str = "", limits: SheetLimits | None = None) -> Iterator[RawRow]:
    """The records of a CSV text, numbered from 1, under ``limits``: the number of rows,
    of cells in a row and in all, and the length of one record (checked on its lines as
    the csv module reads them, before it holds the record's cells)."""
    limits = limits or SheetLimits()
    count = RowCount(name, limits)
    read = [0]  # characters of the record being read

    def lines() -> Iterator[str]:
        for line in io.StringIO(text, newline=""):
            read[0] += len(line)
            if read[0] > limits.record_chars:
                raise too_large(
                    "record_chars",
                    f"{name}: row {number} is longer than {limits.record_chars:,} characters",
                )
            yield line

    reader = csv.reader(lines(), delimiter=_delimiter(text))
    number = 0
    while True:
        number += 1
        read[0] = 0
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as error:  # e.g. a field beyond csv's size limit
            count.row(number)
            yield RawRow(number, (), f"the CSV record cannot be read: {error}")
            continue
        count.row(number, len(values))
        yield RawRow(number, tuple(values))


# -- XLSX ---------------------------------------------------------------------------------


# openpyxl's errors for a damaged workbook (SyntaxError: ElementTree's ParseError)
_XLSX_ERRORS = (
    OSError, zipfile.BadZipFile, KeyError, IndexError, ValueError, TypeError, SyntaxError
)  # fmt: skip


def _xlsx_rows(path: Path, limits: SheetLimits) -> Iterator[RawRow]:
    """The first sheet's rows: the archive checked whole, its worksheets' XML scanned
    (``limits.check_archive``), then read by openpyxl in read-only mode, a row at a time,
    up to the last row and column the scan found (not a larger dimension the sheet may
    claim: openpyxl would pad every row to it)."""
    from openpyxl import load_workbook  # only for XLSX: it is slow to import
    from openpyxl.utils.exceptions import InvalidFileException

    extents = check_archive(path, path.name, limits)
    try:
        book = load_workbook(path, read_only=True, data_only=False, keep_links=False)
    except (*_XLSX_ERRORS, InvalidFileException) as error:
        raise UnreadableSheet(f"{path.name}: not a readable XLSX workbook ({error})") from None
    try:
        sheet = book.worksheets[0]
        extent = extents.get(getattr(sheet, "_worksheet_path", ""))
        bounds: dict[str, int] = {}
        if extent is not None:
            if not extent.rows:
                return
            bounds = {"max_row": extent.rows, "max_col": max(extent.columns, 1)}
        count = RowCount(path.name, limits)
        number = 0
        try:
            for number, cells in enumerate(sheet.iter_rows(**bounds), start=1):  # from row 1
                count.row(number, len(cells))
                yield RawRow(number, tuple(_xlsx_value(c) for c in cells))
        except (ValueError, OverflowError, TypeError, KeyError, IndexError, SyntaxError) as error:
            raise UnreadableSheet(
                f"{path.name}: row {number + 1} cannot be read ({error}); nothing was imported"
            ) from None
    finally:
        book.close()


def _xlsx_value(cell: Any) -> Any:
    value = getattr(cell, "value", None)
    if getattr(cell, "data_type", None) == "f" and isinstance(value, str):
        return Formula(value)
    return value


def cell_text(value: Any) -> str:
    """A typed XLSX value as the text a person sees in the cell."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat(" ")
    if isinstance(value, (date, time)):
        return value.isoformat()
    if isinstance(value, timedelta):
        return str(value)
    return str(value)
