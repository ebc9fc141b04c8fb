"""Table names and DDL: one place that knows how a ledger's tables are named.

Every name is ``[prefix_]<name>``, so several ledgers share one file by prefix. A view
of one kind and generation owns a *family* of tables named after its base
``[prefix_]<kind>_<generation>``: the base table, side tables (``_tags``) and its own
``_tracking`` table. Swap and discard act on a whole family at once.

A rebuild's tables get their secondary indexes only when the rebuild is swapped in
(loading a table and then indexing it is faster than keeping nine indexes current
through every page; issue 17): the writes of a rebuild only ever look rows up by
primary key.

Index names carry a random token instead of the generation: SQLite cannot rename an
index, so after ``<kind>_rebuild`` is renamed to ``<kind>_live`` its indexes keep their
names, and a generation-named index would make the next rebuild's
``CREATE INDEX IF NOT EXISTS`` silently skip creating its own.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Collection, Sequence

from attrs import frozen

from customer_ledger.storage import (
    StoreError,
)

_IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]*$")
_GENERATION = re.compile(r"^[a-z][a-z0-9]*$")
TRACKING = "_tracking"


def table_prefix(prefix: str) -> str:
    """A validated prefix ('' for none): it becomes part of unquoted SQL identifiers."""
    if prefix == "":
        return prefix
    if not _IDENTIFIER.match(prefix) or len(prefix) > 40:
        raise StoreError(
            f"table prefix {prefix!r} must start with a lowercase letter and hold only "
            "lowercase letters, digits and '_' (at most 40)"
        )
    if prefix.startswith("sqlite"):
        raise StoreError(f"table prefix {prefix!r} is reserved by SQLite ('sqlite...')")
    return prefix


def generation_name(generation: str) -> str:
    """Letters and digits only, so ``<kind>_<generation>`` never ends in a family suffix."""
    if not isinstance(generation, str) or not _GENERATION.match(generation):
        raise StoreError(f"view generation {generation!r} must be lowercase letters and digits")
    return generation


def prefixed(prefix: str, name: str) -> str:
    return f"{prefix}_{name}" if prefix else name


@frozen
class Index:
    name: str  # e.g. "name"; the SQL name adds prefix, kind and a token
    table_suffix: str  # which table of the family: "" for the base table
    columns: str  # e.g. "name, number"


@frozen
class TableFamily:
    """The DDL of one view kind; ``{t}`` in a statement stands for the table's name."""

    kind: str
    tables: dict[str, str]  # suffix -> CREATE TABLE statement (with {t})
    indexes: tuple[Index, ...] = ()

    def names(self, base: str) -> list[str]:
        return [base + suffix for suffix in self.tables]

    def create_statements(
        self, base: str, prefix: str, suffix: str, *, indexes: bool = True
    ) -> list[str]:
        """CREATE TABLE plus (unless ``indexes`` is false) its indexes, for one table of
        the family at ``base``."""
        statements = [self.tables[suffix].format(t=base + suffix)]
        if indexes:
            statements += self.index_statements(base, prefix, suffix)
        return statements

    def index_statements(
        self, base: str, prefix: str, suffix: str, existing: Collection[str] = ()
    ) -> list[str]:
        """CREATE INDEX for each index of one table of the family that ``existing`` (the
        names of the table's indexes) lacks."""
        table = base + suffix
        token = secrets.token_hex(4)
        statements = []
        for index in self.indexes:
            if index.table_suffix == suffix:
                stem = prefixed(prefix, f"{self.kind}{suffix}_{index.name}_")
                if any(_is_named(name, stem) for name in existing):
                    continue
                statements.append(f"CREATE INDEX {stem}{token} ON {table} ({index.columns})")
        return statements


def _is_named(name: str, stem: str) -> bool:
    """``name`` is ``stem`` and a token (8 hex digits): the index that stem names."""
    token = name[len(stem) :]
    return name.startswith(stem) and len(token) == 8 and all(c in "0123456789abcdef" for c in token)


TRACKING_DDL = (
    "CREATE TABLE {t} ("
    "application_name TEXT NOT NULL PRIMARY KEY, "
    "notification_id INTEGER NOT NULL"
    ") WITHOUT ROWID"
)


def family(kind: str, tables: dict[str, str], indexes: Sequence[Index] = ()) -> TableFamily:
    """A view's tables, always with its own tracking table (never the shared one)."""
    return TableFamily(kind, {**tables, TRACKING: TRACKING_DDL}, tuple(indexes))
