"""The users of a ledger's front ends (the HTTP API, its pages): the ``UserStore`` port.

A user is a name, a role of the ledger's policy, a password hash and whether the
account is disabled. The store only keeps records: hashing and checking passwords is
``customer_ledger.application.users``'s, so a backend never sees a password. Each
adapter keeps its users in a table of the ledger's own store (memory, SQLite,
PostgreSQL); ``customer_ledger.testing`` checks them alike.
"""

from __future__ import annotations

import re
import threading
from abc import ABC, abstractmethod
from datetime import UTC, datetime

from attrs import evolve, field, frozen

from customer_ledger.domain.values import text
from customer_ledger.errors import InvalidValue, UnknownUser, UserExists

USER_TABLE = "ledger_users"
MAX_NAME = 64
# HTTP Basic splits "name:password" at the first colon, and names go into logs and
# tokens: letters (any script), digits and . _ @ - only.
_NAME = re.compile(r"[\w.@-]+")


def user_name(value: object) -> str:
    """A user's name: 1-64 letters, digits or ``. _ @ -`` (no colon, no space)."""
    name = text(value, "user name", max_len=MAX_NAME)
    if not _NAME.fullmatch(name):
        raise InvalidValue(
            f"user name {name!r} may hold only letters, digits and . _ @ - (no spaces or colons)"
        )
    return name


def _hash(value: object) -> str:
    if not isinstance(value, str) or not value.startswith("$") or len(value) > 512:
        raise InvalidValue("a password hash is the hasher's encoded string")
    return value


def _role(value: object) -> str:
    return text(value, "role", max_len=64)


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise InvalidValue("a user's times are timezone-aware")
    return value.astimezone(UTC)


def utc_now() -> datetime:
    return datetime.now(UTC)


@frozen
class User:
    """One account. ``password_hash`` is the hasher's encoded string (argon2id)."""

    name: str = field(converter=user_name)
    role: str = field(converter=_role)
    password_hash: str = field(converter=_hash, repr=False)
    disabled: bool = False
    created_at: datetime = field(factory=utc_now, converter=_utc)
    changed_at: datetime = field(factory=utc_now, converter=_utc)


class UserStore(ABC):
    """The users of one store: thread-safe; names are case-sensitive and unique."""

    @abstractmethod
    def add(self, user: User) -> None:
        """Stores a new user; ``UserExists`` when the name is taken (nothing changes)."""

    @abstractmethod
    def find(self, name: str) -> User | None:
        """The user of that name, or None."""

    @abstractmethod
    def list(self) -> list[User]:
        """Every user, by name."""

    @abstractmethod
    def _update(self, name: str, *, disabled: bool | None, password_hash: str | None) -> bool:
        """Changes the user's row (``changed_at`` now); False when there is none."""

    def get(self, name: str) -> User:
        """The user of that name; ``UnknownUser`` when there is none."""
        found = self.find(user_name(name))
        if found is None:
            raise UnknownUser(f"no user named {name!r}")
        return found

    def disable(self, name: str) -> None:
        """Disables the account: every request of it is refused from now on."""
        if not self._update(user_name(name), disabled=True, password_hash=None):
            raise UnknownUser(f"no user named {name!r}")

    def set_password_hash(self, name: str, password_hash: str) -> None:
        """Replaces the password hash (tokens issued with the old one stop working)."""
        if not self._update(user_name(name), disabled=None, password_hash=_hash(password_hash)):
            raise UnknownUser(f"no user named {name!r}")

    def close(self) -> None:  # noqa: B027 - memory holds nothing to release
        """Releases connections."""


class MemoryUserStore(UserStore):
    """Users in a dict: for memory:// ledgers (gone with the process, as their events)."""

    def __init__(self) -> None:
        self._users: dict[str, User] = {}
        self._lock = threading.Lock()

    def add(self, user: User) -> None:
        with self._lock:
            if user.name in self._users:
                raise UserExists(f"a user named {user.name!r} exists")
            self._users[user.name] = user

    def find(self, name: str) -> User | None:
        with self._lock:
            return self._users.get(name)

    def list(self) -> list[User]:
        with self._lock:
            return [self._users[name] for name in sorted(self._users)]

    def _update(self, name: str, *, disabled: bool | None, password_hash: str | None) -> bool:
        with self._lock:
            user = self._users.get(name)
            if user is None:
                return False
            self._users[name] = evolve(
                user,
                disabled=user.disabled if disabled is None else disabled,
                password_hash=password_hash or user.password_hash,
                changed_at=utc_now(),
            )
            return True
