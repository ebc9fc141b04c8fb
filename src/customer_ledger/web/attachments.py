"""Attached files: kept in a folder beside the store, named by their SHA-256.

An upload is written once under ``<folder>/<sha256[:2]>/<sha256>`` (the same file twice
is one copy) and recorded with ``link_attachment`` (its name, ``uri`` and SHA-256); a
download finds the customer's attachment by its hash, reads the file and checks the
hash again, so a file changed or replaced on disk is refused, never handed out.

The folder is ``$CUSTOMER_LEDGER_ATTACHMENTS`` when set, else beside a SQLite file
(``ledger.db.attachments/``), else (PostgreSQL) ``customer-ledger-attachments`` in the
working folder; a memory store's are in a temporary folder, gone with it.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path

from customer_ledger.errors import AttachmentDamaged, AttachmentMissing
from customer_ledger.storage.urls import StoreURL

ENV_ATTACHMENTS = "CUSTOMER_LEDGER_ATTACHMENTS"
URI_PREFIX = "attachments/"
_SHA256 = re.compile(r"[0-9a-f]{64}")


def folder_for(url: StoreURL) -> Path:
    """Where a store's attached files are kept."""
    configured = os.environ.get(ENV_ATTACHMENTS)
    if configured:
        return Path(configured)
    if url.scheme == "sqlite" and url.path.startswith("/") and url.path != "/":
        database = Path(url.path[1:])  # (as the SQLite adapter reads it: sqlite:///rel.db)
        return database.with_name(database.name + ".attachments")
    if url.scheme == "memory":
        return Path(tempfile.mkdtemp(prefix="customer-ledger-attachments-"))  # as fleeting
    return Path("customer-ledger-attachments")


class Files:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _path(self, sha256: str) -> Path:
        if not _SHA256.fullmatch(sha256):
            raise AttachmentMissing(f"{sha256!r} is not a SHA-256 (64 hex digits)")
        return self.folder / sha256[:2] / sha256

    def save(self, content: bytes) -> str:
        """Keeps ``content``; its SHA-256 (the name it is kept under)."""
        sha256 = hashlib.sha256(content).hexdigest()
        path = self._path(sha256)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            partial = path.with_suffix(".partial")
            partial.write_bytes(content)
            partial.replace(path)  # never a half-written file under the hash's name
        return sha256

    def read(self, sha256: str) -> bytes:
        """The file recorded with ``sha256``, checked against it."""
        path = self._path(sha256)
        try:
            content = path.read_bytes()
        except FileNotFoundError:
            raise AttachmentMissing(
                f"the file of attachment {sha256[:12]}… is not in {self.folder}"
            ) from None
        if hashlib.sha256(content).hexdigest() != sha256:
            raise AttachmentDamaged(
                f"the file of attachment {sha256[:12]}… no longer has the SHA-256 recorded"
            )
        return content


def uri_of(sha256: str) -> str:
    return URI_PREFIX + sha256
