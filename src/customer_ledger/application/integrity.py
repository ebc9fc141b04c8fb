"""A customer's events must be read whole: versions 1, 2, 3... with none missing.

A deleted event leaves a gap that eventsourcing reports as an ``OriginatorVersionError``
when it folds the aggregate, and that a plain read of the events does not notice at
all. Every read path of the ledger goes through one of these, so a gap is the same
typed ``CorruptEvent`` everywhere, naming the customer, the version and what is wrong.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.domain import OriginatorVersionError

from customer_ledger.errors import CorruptEvent

T = TypeVar("T")


def missing(number: str, customer_id: UUID, version: int) -> CorruptEvent:
    return CorruptEvent(
        f"customer {number} is damaged: its event {version} is missing "
        f"({customer_id}); audit verify lists what is wrong",
        originator_id=customer_id,
        version=version,
        number=number,
    )


def continuous(events: Sequence[T], number: str, customer_id: UUID) -> Sequence[T]:
    """``events`` (a customer's, oldest first, from version 1), or ``CorruptEvent`` at
    the first missing version."""
    for expected, event in enumerate(events, start=1):
        version = getattr(event, "originator_version", None)
        if version != expected:
            raise missing(number, customer_id, expected)
    return events


@contextmanager
def folding(number: str, customer_id: UUID) -> Iterator[None]:
    """Turns eventsourcing's version error while folding the customer into ours."""
    try:
        yield
    except OriginatorVersionError as error:
        expected: Any = error.args[1] if len(error.args) > 1 else None
        version = expected if isinstance(expected, int) else 0
        raise missing(number, customer_id, version) from error
