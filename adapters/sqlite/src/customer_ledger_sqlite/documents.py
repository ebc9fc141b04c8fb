"""Rows are stored as canonical JSON documents, read back exactly by the one converter.

The indexed columns next to a document only serve filtering and sorting; what a
query returns always comes from the document, so every backend returns equal values.
"""

from __future__ import annotations

from typing import TypeVar

from customer_ledger.storage import (
    converter,
    decode,
    encode,
)

T = TypeVar("T")


def dump(value: object) -> bytes:
    return encode(converter.unstructure(value))


def load(document: bytes | str, cls: type[T]) -> T:
    return converter.structure(decode(document), cls)
