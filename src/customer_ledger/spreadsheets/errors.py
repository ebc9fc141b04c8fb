"""Typed errors of spreadsheet import and export.

Each names the rule it enforces, so a report line reads ``row 4: error [bad_date]
最近互动时间: ...``. Errors about a whole file stop the import before anything is
written; errors about a cell or a row fail that row only.
"""

from __future__ import annotations

from customer_ledger.domain.errors import LedgerError


class SpreadsheetError(LedgerError):
    rule = "spreadsheet"


# -- the whole file ---------------------------------------------------------------------


class UnreadableSheet(SpreadsheetError):
    """Not a CSV or XLSX file the importer can read (format, encoding, no header)."""

    rule = "unreadable_sheet"


class UnknownLayout(SpreadsheetError):
    rule = "unknown_layout"


class UnknownColumn(SpreadsheetError):
    """A column the layout does not know: refused rather than silently dropped."""

    rule = "unknown_column"


class MissingColumn(SpreadsheetError):
    rule = "missing_column"


class ExportError(SpreadsheetError):
    rule = "export"


# -- one cell ---------------------------------------------------------------------------


class BadCell(SpreadsheetError):
    """A cell the importer cannot read; ``column`` is its header as the sheet wrote it."""

    rule = "bad_cell"

    def __init__(self, message: str = "", *, column: str | None = None) -> None:
        super().__init__(message)
        self.column = column


class UndecodableText(BadCell):
    rule = "undecodable_text"


class ControlCharacters(BadCell):
    rule = "control_characters"


class CellTooLong(BadCell):
    rule = "cell_too_long"


class FormulaCell(BadCell):
    """An XLSX formula: its value is not in the file, so nothing can be imported."""

    rule = "formula_cell"


class BadDate(BadCell):
    rule = "bad_date"


class DateOutOfRange(BadCell):
    rule = "date_out_of_range"


class BadNumber(BadCell):
    rule = "bad_number"


class BadAmount(BadCell):
    rule = "bad_amount"


class UnknownWord(BadCell):
    """A channel, status, type or grade word outside the vocabulary."""

    rule = "unknown_word"


class CustomerTypeUnknown(BadCell):
    """客户类型 states a stage (潜在客户) and the name does not tell person from company."""

    rule = "customer_type_unknown"


class UnreadableNote(BadCell):
    """A free-text note (key dates, purchases, interactions, basics) not understood."""

    rule = "unreadable_note"


class MissingValue(BadCell):
    rule = "missing_value"


class InconsistentRow(BadCell):
    """Cells that contradict or depend on each other (feedback without an interaction)."""

    rule = "inconsistent_row"
