"""Bearer tokens, session cookies, CSRF tokens and the login throttle.

Tokens and session cookies are the same signed, expiring envelope (HMAC-SHA256 over a
small JSON payload, base64url), told apart by ``kind`` so one cannot stand for the
other. Each carries the user's name and a fingerprint of its password hash: a new
password ends every token and session issued before, and the user is looked up on
every request anyway, so a disabled user is refused at once.

The signing secret is ``$CUSTOMER_LEDGER_WEB_SECRET`` when set, else derived from the
store's master key (so every server process of one store signs alike, and no extra
secret has to be kept: SQLite's key file, PostgreSQL's ``CUSTOMER_LEDGER_MASTER_KEY``).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import secrets
import threading
import time
from collections import OrderedDict
from typing import Any, Literal

import orjson
from attrs import frozen

from customer_ledger.errors import TooManyAttempts

SECRET_ENV = "CUSTOMER_LEDGER_WEB_SECRET"
Kind = Literal["token", "session"]
TOKEN_SECONDS = 3600  # a bearer token from POST /api/login lasts an hour
SESSION_SECONDS = 8 * 3600  # a session cookie lasts a working day
MAX_TOKEN = 2048


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def secret_for(master_secret: bytes | None) -> bytes:
    """The signing secret: the environment's, else one derived from the master key."""
    configured = os.environ.get(SECRET_ENV)
    if configured:
        return hashlib.sha256(configured.encode("utf-8")).digest()
    if master_secret is None:
        return secrets.token_bytes(32)  # this process only: tokens end with it
    return hmac.digest(master_secret, b"customer-ledger/web-signing", "sha256")


@frozen
class Claims:
    """What a valid token or session says: who, the password fingerprint, until when,
    and (sessions) the session's id, which its CSRF token is made from."""

    user: str
    fingerprint: str
    expires: int
    session: str = ""


class Signer:
    def __init__(self, secret: bytes, clock: Any = time.time) -> None:
        self._secret = secret
        self._clock = clock

    def _mac(self, kind: str, body: str) -> str:
        return _b64(hmac.digest(self._secret, f"{kind}.{body}".encode("ascii"), "sha256"))

    def issue(self, kind: Kind, user: str, fingerprint: str, seconds: int) -> tuple[str, Claims]:
        claims = Claims(
            user,
            fingerprint,
            int(self._clock()) + seconds,
            secrets.token_urlsafe(16) if kind == "session" else "",
        )
        payload = {"u": claims.user, "p": claims.fingerprint, "e": claims.expires}
        if claims.session:
            payload["s"] = claims.session
        body = _b64(orjson.dumps(payload))
        return f"{body}.{self._mac(kind, body)}", claims

    def read(self, kind: Kind, token: str) -> Claims | None:
        """The claims of a valid, unexpired ``kind`` token; None for anything else."""
        if (
            not isinstance(token, str)
            or len(token) > MAX_TOKEN
            or not token.isascii()  # (a header may carry any Latin-1 byte)
            or token.count(".") != 1
        ):
            return None
        body, mac = token.split(".")
        if not hmac.compare_digest(mac.encode("ascii", "replace"), self._mac(kind, body).encode()):
            return None
        try:
            payload = orjson.loads(_unb64(body))
            claims = Claims(
                str(payload["u"]), str(payload["p"]), int(payload["e"]), str(payload.get("s", ""))
            )
        except (ValueError, KeyError, TypeError, binascii.Error, orjson.JSONDecodeError):
            return None
        if claims.expires <= self._clock():
            return None
        return claims

    def csrf_token(self, session: str) -> str:
        """The CSRF token of a session: pages put it in their forms (or the
        ``X-CSRF-Token`` header); a cookie alone cannot make it."""
        return self._mac("csrf", session)

    def csrf_ok(self, session: str, token: str | None) -> bool:
        if not session or not token:
            return False
        return hmac.compare_digest(
            token.encode("utf-8", "replace"), self.csrf_token(session).encode()
        )


class Throttle:
    """Failed logins per (user, client): after ``attempts`` within ``window`` seconds,
    that pair is refused (even a correct password) until the window has passed since
    the first of them. Other clients of the same user, and other users, are not."""

    def __init__(
        self, attempts: int = 5, window: float = 300.0, clock: Any = time.monotonic
    ) -> None:
        self.attempts = attempts
        self.window = window
        self._clock = clock
        self._failures: OrderedDict[tuple[str, str], tuple[float, int]] = OrderedDict()
        self._lock = threading.Lock()

    def check(self, user: str, client: str) -> None:
        with self._lock:
            entry = self._failures.get((user, client))
            if entry is None:
                return
            first, count = entry
            left = first + self.window - self._clock()
            if left <= 0:
                del self._failures[(user, client)]
                return
            if count >= self.attempts:
                raise TooManyAttempts(
                    f"too many failed logins for {user!r} from this client: try again in "
                    f"{int(left) + 1} s",
                    retry_after=int(left) + 1,
                )

    def failed(self, user: str, client: str) -> None:
        with self._lock:
            first, count = self._failures.get((user, client), (self._clock(), 0))
            self._failures[(user, client)] = (first, count + 1)
            self._failures.move_to_end((user, client))
            while len(self._failures) > 100_000:  # bounded memory under a spray of names
                self._failures.popitem(last=False)

    def succeeded(self, user: str, client: str) -> None:
        with self._lock:
            self._failures.pop((user, client), None)
