"""Groups of likely duplicate customers, read off the duplicate index.

The index holds keyed hashes only (``privacy.keys``), so a group says why its customers
look alike (the same phone, company name, licence or ID number) but never the value.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any
from uuid import UUID

from attrs import frozen

from customer_ledger.privacy.keys import IndexRow


@frozen
class DuplicateGroup:
    """Customers (by number) that share one or more keys: ``reasons`` names the kinds."""

    numbers: tuple[str, ...]
    reasons: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {"numbers": list(self.numbers), "reasons": list(self.reasons)}


def groups(rows: Iterable[IndexRow]) -> list[DuplicateGroup]:
    """One group per set of customers sharing a value; a set sharing several values is
    one group naming every reason. Ordered by the groups' numbers."""
    by_digest: dict[tuple[str, bytes], dict[UUID, str]] = defaultdict(dict)
    for customer_id, number, kind, digest in rows:
        by_digest[kind, digest][customer_id] = number
    reasons: dict[tuple[str, ...], set[str]] = defaultdict(set)
    for (kind, _), customers in by_digest.items():
        if len(customers) > 1:
            reasons[tuple(sorted(customers.values()))].add(f"same {kind}")
    return [DuplicateGroup(numbers, tuple(sorted(why))) for numbers, why in sorted(reasons.items())]
