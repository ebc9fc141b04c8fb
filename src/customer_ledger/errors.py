"""The ledger's errors, every layer's in one place.

Each error names the rule it enforces (``error.rule``), which the command line prints
as ``error [rule]: ...`` and the web API returns as JSON. A command that raises one of
these has recorded nothing (``StoreUnavailable`` says when that cannot be known).

The business rules' own errors are declared in ``domain/`` (the domain imports nothing
of the layers below it) and re-exported here; every other family is declared here:
the store's, the keys', the audit's, the files' and the file outputs'.
"""

from __future__ import annotations

from customer_ledger.domain.access import PermissionDenied
from customer_ledger.domain.errors import (
    AlreadyChurned,
    CommandIdReused,
    ComplaintNotOpen,
    ContractNotActive,
    CustomerChurned,
    DateOutOfRange,
    DomainError,
    DuplicateAttachment,
    DuplicateComplaint,
    DuplicateContact,
    DuplicateContractNumber,
    DuplicateCustomerNumber,
    DuplicateReminder,
    FutureDate,
    InvalidDateRange,
    InvalidValue,
    LedgerError,
    LifecycleError,
    MalformedEmail,
    MalformedPhone,
    MergedInto,
    NegativeAmount,
    NotChurned,
    NothingChanged,
    PossibleDuplicate,
    ReminderAlreadyCompleted,
    SatisfactionOutOfRange,
    UnknownContact,
    UnknownContract,
    UnknownCurrency,
    UnknownCustomer,
    UnknownReminder,
    ZeroValuePurchase,
)
from customer_ledger.domain.personal import AlreadyForgotten, ForgottenCustomer

# -- the store ----------------------------------------------------------------------------


class ConcurrencyConflict(LedgerError):
    """Another writer changed the customer first; reload and retry."""

    rule = "concurrency_conflict"


class CorruptEvent(LedgerError):
    """A stored event cannot be read back as it was recorded (damaged or altered bytes).

    Names the aggregate (``originator_id``), its ``version`` and, when it could be
    read from the aggregate's first event, the customer ``number``.
    """

    rule = "corrupt_event"

    def __init__(
        self,
        message: str = "",
        *,
        originator_id: object = None,
        version: int | None = None,
        number: str | None = None,
    ) -> None:
        super().__init__(message)
        self.originator_id = originator_id
        self.version = version
        self.number = number


class StoreError(LedgerError):
    """The store URL is wrong or its adapter is not installed."""

    rule = "store"


class StoreBusy(StoreError):
    """Another writer held the store's lock past the lock timeout. Nothing was
    recorded, so sending the command again is safe (``customer_ledger.storage.failures``)."""

    rule = "store_busy"


class StoreUnavailable(StoreError):
    """The store failed mid-command (connection cut, server restarting). The command's
    transaction rolled back, unless the failure hit its very commit: send it again with
    the same ``command_id`` to be sure it is recorded exactly once."""

    rule = "store_unavailable"


class StoreDamaged(StoreError):
    """The store holds what its database cannot read or take: a file that is not a
    database or is corrupt, or a value the database refuses (PostgreSQL's data errors).
    Nothing was recorded; retrying will not help (restore it, or check the URL)."""

    rule = "store_damaged"


class ViewsBehind(StoreError):
    """The views are kept by another process (``follow``; a ledger opened with
    ``catch_up=False``, or reading a replica) and had not reached this ledger's own last
    write within the wait: the follower is stopped or far behind. Nothing was read;
    start ``customer-ledger follow``, or read again."""

    rule = "views_behind"


class ReplicaBehind(StoreError):
    """A ledger reading a streaming replica waited for the replica to replay this
    ledger's own last write, and it had not within the wait (replication stopped, or far
    behind). Nothing was read; read again, or check the replica."""

    rule = "replica_behind"


class StoreNotFound(StoreError):
    """A ledger opened for reading is not there (a wrong path or database): reading
    never makes an empty store."""

    rule = "store_not_found"


class ReadOnlyLedger(StoreError):
    """The ledger was opened read-only: it records nothing (no command, no unmasked
    read, which must be recorded); open it for writing to do that."""

    rule = "read_only"


class ActorRequired(PermissionDenied):
    """A ledger opened without a default actor was called without naming who acts."""

    rule = "actor_required"


# -- queries -------------------------------------------------------------------------------


class InvalidQuery(InvalidValue):
    """A search or timeline argument no view can take: not text, not valid Unicode, a
    control character, out of bounds, or a cursor this ledger did not give out for
    that query. Refused the same way on every backend, before any SQL."""

    rule = "invalid_query"


# -- replay --------------------------------------------------------------------------------


class NotYetKnown(UnknownCustomer):
    """The customer has no history at the replay point (recorded or happened later)."""

    rule = "not_yet_known"


# -- personal data and its keys ------------------------------------------------------------


class KeyProblem(LedgerError):
    """The data keys cannot be used as configured."""

    rule = "keys"


class MasterKeyMissing(KeyProblem):
    rule = "master_key_missing"


class MasterKeyInvalid(KeyProblem):
    rule = "master_key_invalid"


class MasterKeyMismatch(KeyProblem):
    """The master key is not the one this store's data keys were wrapped with."""

    rule = "master_key_mismatch"


class KeyStoreUnknown(KeyProblem):
    """A ledger on a real store that does not say where its key table is."""

    rule = "key_store_unknown"


class DataKeyMissing(KeyProblem):
    """Encrypted data whose key is neither in the key table nor destroyed there."""

    rule = "data_key_missing"


class PersonalDataUnreadable(LedgerError):
    """A ciphertext fails authentication: altered, or moved from another field (the
    event is damaged, not the keys)."""

    rule = "personal_data_unreadable"


# -- moving a ledger ----------------------------------------------------------------------


class CopyError(LedgerError):
    """A ledger cannot be copied to the target as asked (``application.copying``)."""

    rule = "copy"


class TargetNotEmpty(CopyError):
    """The target store holds events that are not the start of the source's log: it is
    another ledger (or one written to since an earlier copy). Nothing was changed."""

    rule = "target_not_empty"


class CopyToItself(CopyError):
    """The target is the source store itself."""

    rule = "copy_to_itself"


class CopyConflict(CopyError):
    """The target holds a data key or a user that differs from the source's (a key
    another ledger made, a customer forgotten only there): copying would lose one."""

    rule = "copy_conflict"


class CopyMismatch(CopyError):
    """After copying, the target's log does not verify or does not equal the source's."""

    rule = "copy_mismatch"


# -- the audit -----------------------------------------------------------------------------


class InvalidCheckpoint(LedgerError):
    """A checkpoint given to ``verify`` is not one ``checkpoint`` printed."""

    rule = "invalid_checkpoint"


# -- file outputs ---------------------------------------------------------------------------


class OutputError(LedgerError):
    """A file output (``--out FILE``, stdout) cannot be written. ``path`` is the output
    as the user named it, ``reason`` the operating system's words. An existing file
    there is as it was (``customer_ledger.formats.output``)."""

    rule = "output_failed"

    def __init__(self, message: str = "", *, path: str = "", reason: str = "") -> None:
        super().__init__(message)
        self.path = path
        self.reason = reason


class OutputIsDirectory(OutputError):
    rule = "output_is_directory"


class OutputIsSymlink(OutputError):
    """The output is a symbolic link: refused, not followed (it could point anywhere)."""

    rule = "output_is_symlink"


class OutputDirectoryMissing(OutputError):
    """The directory the output would go in does not exist (or is not a directory)."""

    rule = "output_directory_missing"


class OutputNotWritable(OutputError):
    """No permission to write there, or a read-only file system."""

    rule = "output_not_writable"


class OutputDiskFull(OutputError):
    """No space left on the device (or the disk quota is used up)."""

    rule = "output_disk_full"


# -- JSON Lines ----------------------------------------------------------------------------


class BadLine(LedgerError):
    """A line that is not a well-formed command (the domain never saw it)."""

    rule = "bad_line"


class InvalidJSON(BadLine):
    rule = "invalid_json"


class UnknownCommand(BadLine):
    rule = "unknown_command"


class UnknownField(BadLine):
    rule = "unknown_field"


class MissingField(BadLine):
    rule = "missing_field"


class WrongType(BadLine):
    rule = "wrong_type"


# -- spreadsheets --------------------------------------------------------------------------


class SpreadsheetError(LedgerError):
    rule = "spreadsheet"


# -- the whole file ---------------------------------------------------------------------


class UnreadableSheet(SpreadsheetError):
    """Not a CSV or XLSX file the importer can read (format, encoding, no header)."""

    rule = "unreadable_sheet"


class SheetTooLarge(SpreadsheetError):
    """A sheet beyond one of the reading limits (rows, cells in a row, bytes, compression
    ratio): refused before anything is imported. ``limit`` names the limit,
    ``formats.spreadsheets.limits.SheetLimits`` has them all."""

    rule = "sheet_too_large"

    def __init__(self, message: str = "", *, limit: str = "") -> None:
        super().__init__(message)
        self.limit = limit


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


class CellDateOutOfRange(BadCell):
    """A sheet's date outside the calendar a record can hold."""

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


class UnexpectedRowError(SpreadsheetError):
    """A row made the importer fail in a way no rule foresaw (a bug: please report)."""

    rule = "unexpected_error"


# -- users and the HTTP API -------------------------------------------------------------


class UserError(LedgerError):
    """A user account (``customer_ledger.storage.users``) cannot be used as asked."""

    rule = "user"


class UserExists(UserError):
    rule = "user_exists"


class UnknownUser(UserError):
    rule = "unknown_user"


class NotAuthenticated(UserError):
    """No credentials, wrong ones, an expired or tampered token, or a disabled user: the
    server says which only in its log (a caller learns nothing about who exists)."""

    rule = "not_authenticated"


class TooManyAttempts(NotAuthenticated):
    """Too many failed logins for this user from this client: wait ``retry_after``
    seconds (a correct password is refused too until then)."""

    rule = "too_many_attempts"

    def __init__(self, message: str = "", *, retry_after: int = 0) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class CsrfRejected(PermissionDenied):
    """A write through a session cookie without the session's CSRF token."""

    rule = "csrf_rejected"


class RequestTooLarge(LedgerError):
    """A request body or an upload beyond the server's bound."""

    rule = "request_too_large"


# -- attached files (the interface's uploads) ----------------------------------------------


class AttachmentError(LedgerError):
    """An attached file cannot be given out as it was recorded."""

    rule = "attachment"


class AttachmentMissing(AttachmentError):
    """No such attachment on the customer, or its file is not in the attachments folder."""

    rule = "attachment_missing"


class AttachmentDamaged(AttachmentError):
    """The stored file's SHA-256 is not the one recorded by ``link_attachment``."""

    rule = "attachment_damaged"


__all__ = [
    "AlreadyChurned",
    "AlreadyForgotten",
    "AttachmentDamaged",
    "AttachmentError",
    "AttachmentMissing",
    "BadAmount",
    "BadCell",
    "BadDate",
    "BadLine",
    "BadNumber",
    "CellDateOutOfRange",
    "CellTooLong",
    "CommandIdReused",
    "ComplaintNotOpen",
    "ConcurrencyConflict",
    "ContractNotActive",
    "ControlCharacters",
    "CopyConflict",
    "CopyError",
    "CopyMismatch",
    "CopyToItself",
    "CorruptEvent",
    "CsrfRejected",
    "CustomerChurned",
    "CustomerTypeUnknown",
    "DataKeyMissing",
    "DateOutOfRange",
    "DomainError",
    "DuplicateAttachment",
    "DuplicateComplaint",
    "DuplicateContact",
    "DuplicateContractNumber",
    "DuplicateCustomerNumber",
    "DuplicateReminder",
    "ExportError",
    "ForgottenCustomer",
    "FormulaCell",
    "FutureDate",
    "InconsistentRow",
    "InvalidCheckpoint",
    "InvalidDateRange",
    "InvalidJSON",
    "InvalidQuery",
    "InvalidValue",
    "KeyProblem",
    "KeyStoreUnknown",
    "LedgerError",
    "LifecycleError",
    "MalformedEmail",
    "MalformedPhone",
    "MasterKeyInvalid",
    "MasterKeyMismatch",
    "MasterKeyMissing",
    "MergedInto",
    "MissingColumn",
    "MissingField",
    "MissingValue",
    "NegativeAmount",
    "NotAuthenticated",
    "NotChurned",
    "NotYetKnown",
    "NothingChanged",
    "OutputDirectoryMissing",
    "OutputDiskFull",
    "OutputError",
    "OutputIsDirectory",
    "OutputIsSymlink",
    "OutputNotWritable",
    "PermissionDenied",
    "PersonalDataUnreadable",
    "PossibleDuplicate",
    "ReminderAlreadyCompleted",
    "RequestTooLarge",
    "SatisfactionOutOfRange",
    "SheetTooLarge",
    "SpreadsheetError",
    "StoreBusy",
    "StoreDamaged",
    "StoreError",
    "StoreUnavailable",
    "TargetNotEmpty",
    "TooManyAttempts",
    "UndecodableText",
    "UnexpectedRowError",
    "UnknownColumn",
    "UnknownCommand",
    "UnknownContact",
    "UnknownContract",
    "UnknownCurrency",
    "UnknownCustomer",
    "UnknownField",
    "UnknownLayout",
    "UnknownReminder",
    "UnknownUser",
    "UnknownWord",
    "UnreadableNote",
    "UnreadableSheet",
    "UserError",
    "UserExists",
    "WrongType",
    "ZeroValuePurchase",
]
