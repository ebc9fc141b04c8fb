"""What a sheet may unpack: the reading limits, and the checks that hold a file to them.

A customer sheet is small; a hostile one is made to be huge once unpacked. An XLSX
workbook is a zip archive of XML, and 2 MB of deflate can inflate to 2 GB (a *zip
bomb*), or 7 MB can hold 21 million tiny rows. Every limit below is checked before
openpyxl is given the file, and again as its rows are read, so such a file is refused
in moments with ``SheetTooLarge`` (rule ``sheet_too_large``, its ``limit`` named),
before any row is imported.

The limits are generous for real sheets: the largest we expect, a register of 200,000
customers (15 columns) written by the ledger's own exporter (inline strings, about
1 KB a row), is about 200 MB of sheet XML compressed about 12 to 1; the layouts have
15 and 12 columns. docs/spreadsheets.md#limits has them in a table.
"""

from __future__ import annotations

import functools
import struct
import xml.parsers.expat
import zipfile
import zlib
from pathlib import Path
from typing import IO

from attrs import frozen

from customer_ledger.errors import SheetTooLarge, UnreadableSheet

MAX_ROWS = 200_000  # rows of a sheet, title, header and blank rows included
MAX_COLUMNS = 200  # cells in one row (as the file holds them, empty ones included)
MAX_CELLS = 10_000_000  # cells of a sheet, every row's cells counted
MAX_ROW_ELEMENTS = 20_000  # XML elements inside one XLSX row: a cell, its value, rich text
MAX_MEMBER_BYTES = 256 * 2**20  # one member of an XLSX archive, unpacked
MAX_UNPACKED_BYTES = 512 * 2**20  # all members of an XLSX archive together, unpacked
MAX_RATIO = 100  # unpacked : packed, for a member of more than RATIO_FROM bytes
RATIO_FROM = 2**20  # smaller members may compress as well as they like: they stay small
MAX_CSV_BYTES = 128 * 2**20  # a CSV file (read whole: its encoding is decided on all of it)
MAX_RECORD_CHARS = 1_000_000  # one CSV record (its lines, for a quoted field with newlines)

CHUNK = 2**16
_METHODS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)  # what XLSX uses; others inflate unbounded
_LOCAL_HEADER = struct.Struct("<4s22xHH")  # signature ... file name and extra field lengths
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_WORKSHEET, _ROW = f"{_MAIN} worksheet", f"{_MAIN} row"


@frozen(kw_only=True)
class SheetLimits:
    """The limits one read is held to; the module's constants unless told otherwise
    (``SheetLimits(rows=1000)``, for a test or a caller with stricter needs)."""

    rows: int = MAX_ROWS
    columns: int = MAX_COLUMNS
    cells: int = MAX_CELLS
    row_elements: int = MAX_ROW_ELEMENTS
    member_bytes: int = MAX_MEMBER_BYTES
    unpacked_bytes: int = MAX_UNPACKED_BYTES
    ratio: int = MAX_RATIO
    csv_bytes: int = MAX_CSV_BYTES
    record_chars: int = MAX_RECORD_CHARS


def too_large(limit: str, what: str) -> SheetTooLarge:
    return SheetTooLarge(f"{what} (the {limit} limit); nothing was imported", limit=limit)


class RowCount:
    """Counts the rows and cells of one read, raising ``SheetTooLarge`` past a limit."""

    def __init__(self, name: str, limits: SheetLimits) -> None:
        self.name, self.limits = name, limits
        self.rows = self.cells = 0

    def row(self, number: int, cells: int = 0) -> None:
        """One more row, numbered ``number`` as the sheet numbers it, of ``cells`` cells."""
        self.rows += 1
        if self.rows > self.limits.rows or number > self.limits.rows:
            raise too_large("rows", f"{self.name}: more than {self.limits.rows:,} rows")
        self.cells += cells
        self.width(number, cells)

    def cell(self, number: int, column: int) -> None:
        """One more cell, in row ``number`` and column ``column`` (counting from 1)."""
        self.cells += 1
        self.width(number, column)

    def width(self, number: int, cells: int) -> None:
        if cells > self.limits.columns:
            raise too_large(
                "columns",
                f"{self.name}: row {number} has {cells:,} cells, more than {self.limits.columns:,}",
            )
        if self.cells > self.limits.cells:
            raise too_large("cells", f"{self.name}: more than {self.limits.cells:,} cells")


# -- XLSX: the archive ------------------------------------------------------------------------


@frozen
class Extent:
    """The last row and column of a worksheet holding anything, as its XML says (0:
    none): where openpyxl is told to stop, whatever larger dimension the sheet claims."""

    rows: int
    columns: int


def check_archive(path: str | Path, name: str, limits: SheetLimits) -> dict[str, Extent]:
    """Holds an XLSX archive to the limits before openpyxl parses any of it: what each
    member says it unpacks to (alone and all together), its compression ratio and
    method; then what it really unpacks to, inflated a chunk at a time (the zip's sizes
    are the file's word, and ``zipfile.read`` trusts them only after inflating all of
    it). Each worksheet's XML is scanned as it is inflated: its rows, the cells of each
    row (openpyxl takes every child of a row for a cell, and keeps a whole row in
    memory) and the elements inside a row. A document type declaration in any XML part
    is refused (OOXML has none; entities are another way to unpack).

    Returns the extent of each worksheet, by member name; raises ``SheetTooLarge`` or
    ``UnreadableSheet``."""
    try:
        with zipfile.ZipFile(path) as archive, open(path, "rb") as raw:
            members = archive.infolist()
            _check_declared(members, name, limits)
            found = (_check_inflated(raw, m, name, limits) for m in members)
            return {m.filename: e for m, e in zip(members, found, strict=True) if e is not None}
    except (OSError, ValueError, zipfile.BadZipFile, zlib.error, struct.error, EOFError) as error:
        raise UnreadableSheet(f"{name}: not a readable XLSX workbook ({error})") from None


def _check_declared(members: list[zipfile.ZipInfo], name: str, limits: SheetLimits) -> None:
    total = 0
    for member in members:
        where = f"{name}: {member.filename!r}"
        if member.flag_bits & 0x1:
            raise UnreadableSheet(f"{where} is encrypted; save the workbook without a password")
        if member.compress_type not in _METHODS:
            raise UnreadableSheet(
                f"{where} is compressed with method {member.compress_type}, not deflate as XLSX is"
            )
        if member.file_size > limits.member_bytes:
            raise too_large(
                "member_bytes",
                f"{where} unpacks to {member.file_size:,} bytes, more than {limits.member_bytes:,}",
            )
        total += member.file_size
        if total > limits.unpacked_bytes:
            raise too_large(
                "unpacked_bytes", f"{name} unpacks to more than {limits.unpacked_bytes:,} bytes"
            )
        packed = max(member.compress_size, 1)
        if member.file_size > RATIO_FROM and member.file_size > limits.ratio * packed:
            raise too_large(
                "ratio",
                f"{where} unpacks {member.file_size / packed:,.0f} times its size, more than "
                f"{limits.ratio} times (a zip bomb?)",
            )


def _check_inflated(
    raw: IO[bytes], member: zipfile.ZipInfo, name: str, limits: SheetLimits
) -> Extent | None:
    """Inflates ``member`` from ``raw``, never more than its declared size plus a chunk,
    checks that this is exactly what it holds, and watches its XML (``_Part``)."""
    where = f"{name}: {member.filename!r}"
    raw.seek(member.header_offset)
    signature, name_length, extra_length = _LOCAL_HEADER.unpack(raw.read(_LOCAL_HEADER.size))
    if signature != b"PK\x03\x04":
        raise UnreadableSheet(f"{where}: no such member where the archive says")
    raw.seek(member.header_offset + _LOCAL_HEADER.size + name_length + extra_length)
    part = _Part(where, name, limits)
    if member.compress_type == zipfile.ZIP_STORED:
        if member.compress_size != member.file_size:
            raise UnreadableSheet(f"{where}: its sizes disagree; the archive is damaged")
        left = member.file_size
        while left > 0 and not part.done:
            chunk = raw.read(min(CHUNK, left))
            left -= len(chunk)
            if not chunk:
                break
            part.feed(chunk)
        return part.close()
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    left, pending, produced = member.compress_size, b"", 0
    while not inflater.eof:
        if not pending:
            pending = raw.read(min(CHUNK, left)) if left > 0 else b""
            left -= len(pending)
            if not pending:
                break  # the data ends before its deflate stream does
        out = inflater.decompress(pending, CHUNK)
        pending = inflater.unconsumed_tail
        produced += len(out)
        if produced > member.file_size:
            raise UnreadableSheet(
                f"{where} unpacks to more than the {member.file_size:,} bytes it declares "
                "(a zip bomb?)"
            )
        part.feed(out)
    if not inflater.eof or produced != member.file_size:
        raise UnreadableSheet(f"{where}: it is damaged (cut short, or not what it declares)")
    return part.close()


class _Part:
    """Watches a member's bytes as they are inflated: an XML part's prolog (a document
    type declaration is refused) and, when its root is a worksheet, its rows (``_Scan``).
    A member that is not XML (an image) or is no worksheet is soon left alone."""

    def __init__(self, where: str, name: str, limits: SheetLimits) -> None:
        self.where, self.name, self.limits = where, name, limits
        self.done = False  # nothing more to watch
        self.scan: _Scan | None = None
        self.parser = xml.parsers.expat.ParserCreate(namespace_separator=" ")
        self.parser.ordered_attributes = True
        self.parser.StartDoctypeDeclHandler = self._doctype
        self.parser.StartElementHandler = self._root

    def _doctype(self, *_: object) -> None:
        raise UnreadableSheet(f"{self.where} declares a document type; XLSX parts have none")

    def _root(self, tag: str, attributes: list[str]) -> None:
        if tag != _WORKSHEET:
            raise _Done
        self.scan = _Scan(self.name, self.limits)
        self.parser.StartElementHandler = self.scan.start
        self.parser.EndElementHandler = self.scan.end
        self.scan.start(tag, attributes)

    def feed(self, data: bytes, final: bool = False) -> None:
        if self.done:
            return
        try:
            self.parser.Parse(data, final)
        except _Done:
            self.done = True
        except xml.parsers.expat.ExpatError as error:
            self.done = True
            if self.scan is not None:  # a worksheet openpyxl could not read either
                raise UnreadableSheet(f"{self.where}: not readable XML ({error})") from None

    def close(self) -> Extent | None:
        """The worksheet's extent (``None``: no worksheet)."""
        self.feed(b"", final=True)
        if self.scan is None:
            return None
        return Extent(self.scan.last_row, self.scan.last_column)


class _Done(Exception):
    pass


# -- XLSX: a worksheet's rows ---------------------------------------------------------------


class _Scan:
    """The expat handlers that count a worksheet's rows, cells and elements (attributes
    come as ``[name, value, ...]`` lists: ``ordered_attributes``, the cheaper form)."""

    def __init__(self, name: str, limits: SheetLimits) -> None:
        self.count, self.limits = RowCount(name, limits), limits
        self.depth = 0
        self.row_depth = -1  # the depth of the row being read (-1: none)
        self.row = self.cells = self.column = self.elements = 0
        self.last_row = self.last_column = 0

    def start(self, tag: str, attributes: list[str]) -> None:
        self.depth += 1
        if self.row_depth >= 0:
            self.elements += 1
            if self.elements > self.limits.row_elements:
                raise too_large(
                    "row_elements",
                    f"{self.count.name}: row {self.row} holds more than "
                    f"{self.limits.row_elements:,} XML elements",
                )
            if self.depth == self.row_depth + 1:  # a cell
                self.cells += 1
                self.column = _column(_attribute(attributes, "r"), self.column + 1)
                if self.column > self.last_column:
                    self.last_column = self.column
                self.count.cell(self.row, max(self.cells, self.column))
        if tag == _ROW:
            self.row = _row(_attribute(attributes, "r"), self.row + 1)
            if self.row > self.last_row:
                self.last_row = self.row
            self.count.row(self.row)
            self.row_depth, self.cells, self.column, self.elements = self.depth, 0, 0, 0

    def end(self, tag: str) -> None:
        if self.depth == self.row_depth:
            self.row_depth = -1
        self.depth -= 1


def _attribute(attributes: list[str], name: str) -> str | None:
    for i in range(0, len(attributes), 2):
        if attributes[i] == name:
            return attributes[i + 1]
    return None


def _row(text: str | None, otherwise: int) -> int:
    if not text:
        return otherwise
    try:
        return int(text)
    except ValueError:
        try:
            return int(float(text))
        except (ValueError, OverflowError):
            return otherwise  # openpyxl will say the row number is wrong


@functools.cache
def _letters(letters: str) -> int:
    number = 0
    for letter in letters.upper():
        number = number * 26 + ord(letter) - ord("A") + 1
    return number


def _column(reference: str | None, otherwise: int) -> int:
    """The column of a cell reference such as ``AB12`` (``otherwise`` if it has none)."""
    letters = (reference or "").lstrip("$").rstrip("0123456789").rstrip("$")
    if not letters or len(letters) > 3 or not letters.isascii() or not letters.isalpha():
        return otherwise
    return _letters(letters)
