"""Table names: ``<kind>_<generation>`` for rows, ``<kind>_<generation>_tracking``.

Every object a view creates (tables, indexes) starts with its rows table name, so a
swap can rename a whole generation by prefix and leave no name behind.
"""

from __future__ import annotations

import re

from attrs import frozen

from customer_ledger.storage import (
    KINDS,
    Kind,
    StoreError,
)

_GENERATION = re.compile(r"^[a-z][a-z0-9]{0,19}$")  # no "_": names never end ambiguously


@frozen
class TableNames:
    kind: Kind
    generation: str

    @property
    def rows(self) -> str:
        return f"{self.kind}_{self.generation}"

    @property
    def tracking(self) -> str:
        return f"{self.rows}_tracking"

    def index(self, suffix: str) -> str:
        return f"{self.rows}_{suffix}"

    def renamed(self, name: str, to: TableNames) -> str:
        """``name`` (one of this generation's objects) as it is called in ``to``."""
        if not name.startswith(self.rows):
            raise ValueError(f"{name!r} does not belong to {self.rows!r}")  # a bug, not input
        return to.rows + name[len(self.rows) :]


def table_names(kind: str, generation: str) -> TableNames:
    if kind not in KINDS:
        raise StoreError(f"no {kind!r} view; choose one of {', '.join(KINDS)}")
    if not isinstance(generation, str) or not _GENERATION.match(generation):
        raise StoreError(
            f"view generation {generation!r} must be 1-20 lowercase letters and digits"
        )
    return TableNames(kind, generation)
