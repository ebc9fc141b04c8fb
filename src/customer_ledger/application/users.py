"""Who may log in to the front ends, and as whom they act: users, roles and passwords.

Passwords are hashed with argon2id (memory-hard: a stolen user table costs an attacker
64 MiB and tens of milliseconds per guess); only the hash reaches the store. A role
must be one of the ledger's policy (``domain.access``): a user acts as
``Actor(name, role)`` through the same policy check as every other path.

Checking a password costs what it costs an attacker, so a correct one is remembered
for ``VERIFIED_SECONDS`` (an HMAC of name, password and hash under a key that never
leaves the process): HTTP Basic on every request does not pay argon2 every time, and a
changed password or hash is a different entry.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from attrs import evolve

from customer_ledger.domain.access import Actor, Policy
from customer_ledger.errors import InvalidValue, UnknownUser
from customer_ledger.storage.users import User, UserStore, user_name, utc_now

MANAGE_USERS = "manage_users"  # the permission the policy checks (admin has it: "*")
logger = logging.getLogger(__name__)
Guard = Callable[[Actor, str], None]  # the ledger's policy check that records a denial
Record = Callable[[Actor, str], None]  # records a change of users in the ledger's own log
MIN_PASSWORD = 8
MAX_PASSWORD = 1024  # argon2 reads it all: a megabyte "password" is a denial of service
VERIFIED_SECONDS = 300.0
VERIFIED_LIMIT = 1024
# A hash to check against when the user does not exist, so that "no such user" takes
# as long as "wrong password" (names cannot be found by timing).
_ABSENT = "absent-user-placeholder-password"


def password(value: object) -> str:
    if not isinstance(value, str):
        raise InvalidValue("a password must be text")
    if len(value) < MIN_PASSWORD:
        raise InvalidValue(f"a password needs at least {MIN_PASSWORD} characters")
    if len(value) > MAX_PASSWORD:
        raise InvalidValue(f"a password has at most {MAX_PASSWORD} characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidValue("a password must be valid Unicode text") from None
    return value


class Users:
    """The users of a ledger's store, with their passwords checked and roles known."""

    def __init__(
        self,
        store: UserStore,
        policy: Policy,
        guard: Guard,
        hasher: PasswordHasher | None = None,
        record: Record | None = None,
    ) -> None:
        self.store = store
        self.policy = policy
        self.guard = guard
        self.record = record or (lambda by, what: logger.info("%s by %s", what, by.id))
        self.hasher = hasher or PasswordHasher()  # (tests may set a cheaper one)
        self._absent: tuple[PasswordHasher, str] | None = None
        self._verified: OrderedDict[bytes, float] = OrderedDict()
        self._key = os.urandom(32)
        self._lock = threading.Lock()

    def role(self, value: object) -> str:
        """A role of the policy; not ``system``, the embedding program's own."""
        if not isinstance(value, str) or value not in self.policy.roles or value == "system":
            roles = ", ".join(sorted(r for r in self.policy.roles if r != "system"))
            raise InvalidValue(f"role {value!r} is not one of the policy's: {roles}")
        return value

    # Managing users needs the policy's ``manage_users`` (``by``: who asks; refused
    # attempts are recorded in the ledger's own access log, as every denial is, and so
    # is every change made: ``record``, after the user table has it).

    def add(self, name: str, *, role: str, password_text: str, by: Actor) -> User:
        """A new user (``UserExists`` if the name is taken)."""
        self.guard(by, MANAGE_USERS)
        user = User(user_name(name), self.role(role), self.hasher.hash(password(password_text)))
        self.store.add(user)
        self.record(by, f"added user {user.name} as {user.role}")
        return user

    def list(self, *, by: Actor) -> list[User]:
        self.guard(by, MANAGE_USERS)
        return self.store.list()

    def get(self, name: str) -> User:
        return self.store.get(name)

    def disable(self, name: str, *, by: Actor) -> User:
        self.guard(by, MANAGE_USERS)
        self.store.disable(name)
        user = self.store.get(name)
        self.record(by, f"disabled user {user.name}")
        return user

    def set_password(self, name: str, password_text: str, *, by: Actor) -> User:
        self.guard(by, MANAGE_USERS)
        self.store.get(name)  # UnknownUser before the hash is paid for
        self.store.set_password_hash(name, self.hasher.hash(password(password_text)))
        user = self.store.get(name)
        self.record(by, f"set the password of user {user.name}")
        return user

    def authenticate(self, name: object, password_text: object) -> User | None:
        """The enabled user whose password this is, or None (whatever is wrong)."""
        try:
            name = user_name(name)
        except InvalidValue:
            return None
        if not isinstance(password_text, str) or len(password_text) > MAX_PASSWORD:
            return None
        user = self.store.find(name)
        stored = self._absent_hash() if user is None else user.password_hash
        if not self._verify(name, password_text, stored) or user is None or user.disabled:
            return None
        if self.hasher.check_needs_rehash(user.password_hash):  # the parameters grew
            self.store.set_password_hash(user.name, self.hasher.hash(password_text))
            user = evolve(user, changed_at=utc_now())
        return user

    def active(self, name: str) -> User | None:
        """The user if it exists and is enabled (checked on every request)."""
        try:
            user = self.store.find(user_name(name))
        except InvalidValue:
            return None
        return None if user is None or user.disabled else user

    def actor(self, user: User) -> Actor:
        """Who the user acts as: its name, in its role."""
        return Actor(user.name, user.role)

    def _absent_hash(self) -> str:
        if self._absent is None or self._absent[0] is not self.hasher:
            self._absent = (self.hasher, self.hasher.hash(_ABSENT))
        return self._absent[1]

    def _verify(self, name: str, password_text: str, stored: str) -> bool:
        entry = hmac.digest(
            self._key,
            b"\x00".join(
                [name.encode(), password_text.encode("utf-8", "replace"), stored.encode()]
            ),
            hashlib.sha256,
        )
        now = time.monotonic()
        with self._lock:
            until = self._verified.get(entry)
            if until is not None and until > now:
                return True
        try:
            self.hasher.verify(stored, password_text)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False
        with self._lock:
            self._verified[entry] = now + VERIFIED_SECONDS
            while len(self._verified) > VERIFIED_LIMIT:
                self._verified.popitem(last=False)
        return True


def fingerprint(user: User) -> str:
    """A short digest of the user's password hash: tokens carry it, so a new password
    ends every token and session issued before."""
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


__all__ = [
    "MANAGE_USERS",
    "MAX_PASSWORD",
    "MIN_PASSWORD",
    "UnknownUser",
    "User",
    "Users",
    "fingerprint",
]
