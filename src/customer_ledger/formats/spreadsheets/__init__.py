"""Spreadsheets in and out: the register and worksheet layouts of the source material,
imported row by row (``import_sheet``) and exported (``export``, ``export_file``) as
CSV, XLSX or JSON Lines with formula injection defused, under reading limits
(``SheetLimits``: zip bombs are refused). docs/spreadsheets.md has the layouts column
by column."""

from customer_ledger.errors import (
    BadAmount,
    BadCell,
    BadDate,
    BadNumber,
    CellDateOutOfRange,
    CellTooLong,
    ControlCharacters,
    CustomerTypeUnknown,
    ExportError,
    FormulaCell,
    InconsistentRow,
    MissingColumn,
    MissingValue,
    SheetTooLarge,
    SpreadsheetError,
    UndecodableText,
    UnknownColumn,
    UnknownLayout,
    UnknownWord,
    UnreadableNote,
    UnreadableSheet,
)
from customer_ledger.formats.spreadsheets.exports import (
    EXPORT_SOURCES,
    ExportRequest,
    ExportSource,
    Sheet,
    export,
    export_file,
    export_source,
)
from customer_ledger.formats.spreadsheets.importing import (
    RowFailure,
    RowResult,
    SheetReport,
    import_sheet,
)
from customer_ledger.formats.spreadsheets.layouts import LAYOUTS, REGISTER, WORKSHEET, Layout
from customer_ledger.formats.spreadsheets.limits import SheetLimits
from customer_ledger.formats.spreadsheets.vocabulary import Lang
from customer_ledger.formats.spreadsheets.writing import neutralise

DateOutOfRange = CellDateOutOfRange  # its name here before the errors met in one module

__all__ = [
    "EXPORT_SOURCES",
    "LAYOUTS",
    "REGISTER",
    "WORKSHEET",
    "BadAmount",
    "BadCell",
    "BadDate",
    "BadNumber",
    "CellDateOutOfRange",
    "CellTooLong",
    "ControlCharacters",
    "CustomerTypeUnknown",
    "DateOutOfRange",
    "ExportError",
    "ExportRequest",
    "ExportSource",
    "FormulaCell",
    "InconsistentRow",
    "Lang",
    "Layout",
    "MissingColumn",
    "MissingValue",
    "RowFailure",
    "RowResult",
    "Sheet",
    "SheetLimits",
    "SheetReport",
    "SheetTooLarge",
    "SpreadsheetError",
    "UndecodableText",
    "UnknownColumn",
    "UnknownLayout",
    "UnknownWord",
    "UnreadableNote",
    "UnreadableSheet",
    "export",
    "export_file",
    "export_source",
    "import_sheet",
    "neutralise",
]
