"""Deprecated: ``customer_ledger.formats.jsonl`` (and ``application.schema`` for the
command schema). This path keeps working for one release; nothing in the package uses it."""

import warnings

from customer_ledger.application.schema import FLAT_VALUES, Command, Param, command_params
from customer_ledger.errors import (
    BadLine,
    InvalidJSON,
    MissingField,
    UnknownCommand,
    UnknownField,
    WrongType,
)
from customer_ledger.formats.jsonl import (
    BATCH_ENV,
    BATCH_LINES,
    DERIVED_ID_PREFIX,
    Failure,
    ImportReport,
    LineBatch,
    batch_size,
    coerce,
    derived_command_id,
    import_file,
    import_lines,
    import_objects,
    parse_command,
)

warnings.warn(
    "customer_ledger.jsonl_import is deprecated: import from customer_ledger.formats.jsonl",
    DeprecationWarning,
    stacklevel=2,
)

__all__ = [
    "BATCH_ENV",
    "BATCH_LINES",
    "DERIVED_ID_PREFIX",
    "FLAT_VALUES",
    "BadLine",
    "Command",
    "Failure",
    "ImportReport",
    "InvalidJSON",
    "LineBatch",
    "MissingField",
    "Param",
    "UnknownCommand",
    "UnknownField",
    "WrongType",
    "batch_size",
    "coerce",
    "command_params",
    "derived_command_id",
    "import_file",
    "import_lines",
    "import_objects",
    "parse_command",
]
