"""``create_app(ledger)``: the JSON API under ``/api`` as a Litestar ASGI app.

Every request but login (and static files) is authenticated (HTTP Basic, a bearer
token from ``POST /api/login``, or a session cookie with its CSRF token for writes),
its user looked up again (a disabled user is refused at once), and served by calling
the ledger as ``Actor(user, role)``: the ledger's one policy check decides, records
unmasked reads and denials, and masks. Ledger calls are serialised by one lock (the
ledger is one object); run more uvicorn workers for more throughput.
"""

from __future__ import annotations

import base64
import binascii
import io
import logging
import os
import tempfile
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal, TypeVar, cast

import attrs
import orjson
from attrs import frozen
from litestar import Litestar, Request, Response, Router, get, post
from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie, UploadFile
from litestar.exceptions import HTTPException
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult
from litestar.middleware.base import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.static_files import create_static_files_router

from customer_ledger.application.ledger import CustomerLedger
from customer_ledger.application.users import fingerprint
from customer_ledger.audit.verify import verify
from customer_ledger.domain.access import Actor
from customer_ledger.errors import (
    CsrfRejected,
    InvalidJSON,
    InvalidValue,
    LedgerError,
    MissingField,
    NotAuthenticated,
    UnknownField,
)
from customer_ledger.formats.jsonl import import_lines, parse_command
from customer_ledger.formats.spreadsheets.exports import EXPORT_SOURCES, ExportRequest, export
from customer_ledger.formats.spreadsheets.importing import import_sheet
from customer_ledger.formats.spreadsheets.vocabulary import Lang
from customer_ledger.formats.spreadsheets.writing import FORMATS
from customer_ledger.privacy.masking import event_json
from customer_ledger.projections.views import ProfileQuery, TimelineEntry
from customer_ledger.serialization import converter
from customer_ledger.storage.urls import replica_url, views_followed
from customer_ledger.storage.users import User
from customer_ledger.web.commands import BODY_CLASSES, RawBody
from customer_ledger.web.errors import http_error, internal_error, ledger_error
from customer_ledger.web.security import (
    SESSION_SECONDS,
    TOKEN_SECONDS,
    Signer,
    Throttle,
    secret_for,
)

logger = logging.getLogger(__name__)
SESSION_COOKIE = "customer_ledger_session"
CSRF_HEADER = "x-csrf-token"
MAX_BODY = 1024 * 1024  # a command or login: a megabyte is far more than any needs
MAX_UPLOAD = 20 * 1024 * 1024  # an import: the spreadsheet limits' own byte bound is 20 MB
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
SECURE_COOKIES_ENV = "CUSTOMER_LEDGER_SECURE_COOKIES"  # "1": the workers' cookies are Secure
T = TypeVar("T")
AnyRequest = Request[Any, Any, Any]


class Web:
    """What the handlers share: the ledger and its lock, the signer, the throttle."""

    def __init__(
        self,
        ledger: CustomerLedger,
        signer: Signer,
        throttle: Throttle,
        token_seconds: int,
        session_seconds: int,
        secure_cookies: bool,
    ) -> None:
        self.ledger = ledger
        self.signer = signer
        self.throttle = throttle
        self.token_seconds = token_seconds
        self.session_seconds = session_seconds
        self.secure_cookies = secure_cookies
        self.lock = threading.RLock()

    def call(self, work: Callable[[], T]) -> T:
        with self.lock:
            return work()

    def login(self, name: str, password: str, client: str) -> User:
        """The user, or ``NotAuthenticated`` (throttled per user and client)."""
        key = str(name)[:64]
        self.throttle.check(key, client)
        # (the user table has its own connection and lock: no need to hold the ledger's
        # through argon2's tens of milliseconds)
        user = self.ledger.users.authenticate(name, password)
        if user is None:
            self.throttle.failed(key, client)
            logger.warning("failed login for %r from %s", key, client)
            raise NotAuthenticated("wrong user name or password (or the user is disabled)")
        self.throttle.succeeded(key, client)
        return user

    def current(self, name: str, print_: str) -> User:
        """The user a token or session names, if it is still enabled and its password
        is the one the token was issued with."""
        user = self.ledger.users.active(name)
        if user is None or fingerprint(user) != print_:
            raise NotAuthenticated("the token or session is no longer valid: log in again")
        return user


def _client(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    return connection.client.host if connection.client else "unknown"


class Authentication(AbstractAuthenticationMiddleware):
    """Basic, Bearer or the session cookie; every one checks the user on each request."""

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        scope[RECEIVE_KEY] = receive  # (a session's plain form is read for its CSRF field)
        await super().__call__(scope, receive, send)

    async def authenticate_request(
        self, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> AuthenticationResult:
        web: Web = connection.app.state.web
        header = connection.headers.get("authorization", "")
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "basic":
            try:
                decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
            except (binascii.Error, ValueError):
                raise NotAuthenticated(
                    "a Basic Authorization header holds base64 name:password"
                ) from None
            name, _, password = decoded.partition(":")
            user = await _in_thread(lambda: web.login(name, password, _client(connection)))
            return AuthenticationResult(user=user, auth="basic")
        if scheme.lower() == "bearer":
            claims = web.signer.read("token", value.strip())
            if claims is None:
                raise NotAuthenticated("the bearer token is invalid or expired: log in again")
            name, print_ = claims.user, claims.fingerprint
            user = await _in_thread(lambda: web.current(name, print_))
            return AuthenticationResult(user=user, auth="token")
        if header:
            raise NotAuthenticated("use HTTP Basic or a bearer token from POST /api/login")
        cookie = connection.cookies.get(SESSION_COOKIE)
        if cookie:
            claims = web.signer.read("session", cookie)
            if claims is None:
                raise NotAuthenticated("the session is invalid or expired: log in again")
            name, print_ = claims.user, claims.fingerprint
            user = await _in_thread(lambda: web.current(name, print_))
            unsafe = connection.scope.get("method", "GET") not in SAFE_METHODS
            if unsafe and not web.signer.csrf_ok(claims.session, await _csrf_token(connection)):
                actor = Actor(user.name, user.role)
                await _in_thread(
                    lambda: web.call(
                        lambda: web.ledger.record_denial(
                        None, actor, f"{connection.scope.get('method')} {connection.url.path}",
                        "no CSRF token",
                    ))
                )  # fmt: skip
                raise CsrfRejected("a write in a session needs its CSRF token (X-CSRF-Token)")
            return AuthenticationResult(user=user, auth="session")
        raise NotAuthenticated("log in: HTTP Basic, or a bearer token from POST /api/login")


FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")
RECEIVE_KEY = "customer_ledger.receive"


async def _csrf_token(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    """The request's CSRF token: the ``X-CSRF-Token`` header (htmx), else a plain form's
    ``csrf_token`` field (the body is parsed once; the handler reads it again from the
    connection's cache)."""
    token = connection.headers.get(CSRF_HEADER)
    if token is None and connection.headers.get("content-type", "").startswith(FORMS):
        receive = connection.scope[RECEIVE_KEY]  # type: ignore[literal-required]
        form = await Request(connection.scope, receive).form()
        field = form.get("csrf_token")
        token = field if isinstance(field, str) else None
    return token


async def _in_thread(work: Callable[[], T]) -> T:
    import anyio.to_thread

    return await anyio.to_thread.run_sync(work)


def _actor(request: AnyRequest) -> Actor:
    user: User = request.user
    return Actor(user.name, user.role)


def _web(request: AnyRequest) -> Web:
    web: Web = request.app.state.web
    return web


def _json(data: Any, status: int = 200) -> Response[bytes]:
    return Response(
        orjson.dumps(converter.unstructure(data), default=str),
        status_code=status,
        media_type="application/json",
    )


def _body(raw: bytes) -> dict[str, Any]:
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        raise InvalidJSON(f"the body is not JSON: {error}") from None
    if not isinstance(data, dict):
        raise InvalidJSON("the body must be a JSON object of the command's fields")
    return data


# -- login ----------------------------------------------------------------------------


@post("/login", sync_to_thread=True, status_code=200, security=[])
def login(request: AnyRequest, data: JSONBody[dict[str, Any]]) -> Response[bytes]:
    """Logs in with ``name`` and ``password``: a bearer token; with ``"session": true``
    also a session cookie (HttpOnly, SameSite=Strict) and its CSRF token."""
    web = _web(request)
    name, password = data.get("name"), data.get("password")
    if not isinstance(name, str) or not isinstance(password, str):
        raise InvalidValue('log in with {"name": ..., "password": ...}')
    user = web.login(name, password, _client(request))
    token, _ = web.signer.issue("token", user.name, fingerprint(user), web.token_seconds)
    body: dict[str, Any] = {
        "token": token,
        "token_type": "bearer",
        "expires_in": web.token_seconds,
        "user": {"name": user.name, "role": user.role},
    }
    cookies = []
    if data.get("session") is True:
        cookie, session = web.signer.issue(
            "session", user.name, fingerprint(user), web.session_seconds
        )
        body["csrf_token"] = web.signer.csrf_token(session.session)
        cookies.append(
            Cookie(
                key=SESSION_COOKIE, value=cookie, max_age=web.session_seconds, httponly=True,
                samesite="strict", secure=web.secure_cookies, path="/",
            )
        )  # fmt: skip
    response = _json(body)
    response.cookies = cookies
    return response


@post("/logout", sync_to_thread=False, status_code=200)
def logout() -> Response[bytes]:
    """Ends the browser's session (the cookie); a bearer token simply expires."""
    response = _json({"logged_out": True})
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@get("/me", sync_to_thread=False)
def me(request: AnyRequest) -> Response[bytes]:
    """Who the request acts as."""
    user: User = request.user
    return _json({"name": user.name, "role": user.role, "auth": request.auth})


# -- users (the policy's manage_users: admin) -------------------------------------------


def _user_json(user: User) -> dict[str, Any]:
    return {
        "name": user.name,
        "role": user.role,
        "disabled": user.disabled,
        "created_at": user.created_at.isoformat(),
        "changed_at": user.changed_at.isoformat(),
    }


def _text_field(data: dict[str, Any], name: str) -> str:
    value = data.get(name)
    if not isinstance(value, str):
        raise InvalidValue(f"{name} must be text")
    return value


@get("/users", sync_to_thread=True)
def users_list(request: AnyRequest) -> Response[bytes]:
    """Every user, by name (needs ``manage_users``)."""
    web = _web(request)
    found = web.call(lambda: web.ledger.users.list(by=_actor(request)))
    return _json({"users": [_user_json(u) for u in found]})


@post("/users", sync_to_thread=True, status_code=201)
def users_add(request: AnyRequest, data: JSONBody[dict[str, Any]]) -> Response[bytes]:
    """Adds a user: ``{"name": ..., "role": ..., "password": ...}``."""
    web = _web(request)
    name, role = _text_field(data, "name"), _text_field(data, "role")
    password = _text_field(data, "password")
    user = web.call(
        lambda: web.ledger.users.add(name, role=role, password_text=password, by=_actor(request))
    )
    return _json(_user_json(user), status=201)


@post("/users/{name:str}/disable", sync_to_thread=True, status_code=200)
def users_disable(request: AnyRequest, name: FromPath[str]) -> Response[bytes]:
    """Disables a user: refused at once, on every open token and session."""
    web = _web(request)
    user = web.call(lambda: web.ledger.users.disable(name, by=_actor(request)))
    return _json(_user_json(user))


@post("/users/{name:str}/password", sync_to_thread=True, status_code=200)
def users_password(
    request: AnyRequest, name: FromPath[str], data: JSONBody[dict[str, Any]]
) -> Response[bytes]:
    """Gives a user a new password (``{"password": ...}``); its tokens and sessions end."""
    web = _web(request)
    password = _text_field(data, "password")
    user = web.call(lambda: web.ledger.users.set_password(name, password, by=_actor(request)))
    return _json(_user_json(user))


# -- customers --------------------------------------------------------------------------


@get("/customers", sync_to_thread=True)
def search(
    request: AnyRequest,
    text: FromQuery[str | None] = None,
    stage: FromQuery[str | None] = None,
    type: FromQuery[str | None] = None,
    industry: FromQuery[str | None] = None,
    region: FromQuery[str | None] = None,
    owner: FromQuery[str | None] = None,
    grade: FromQuery[str | None] = None,
    tag: FromQuery[str | None] = None,
    sort: FromQuery[str] = "number",
    descending: FromQuery[bool] = False,
    limit: FromQuery[int] = 50,
    after: FromQuery[str | None] = None,
) -> Response[bytes]:
    """Customers matching every criterion given, a page at a time (``after``: the
    previous page's ``next_cursor``); masked for the reader."""
    query = ProfileQuery(
        text=text, stage=stage, type=type, industry=industry, region=region, owner=owner,
        grade=grade, tag=tag, sort=sort, descending=descending, limit=limit, after=after,
    )  # fmt: skip
    web = _web(request)
    page = web.call(lambda: web.ledger.search(query, actor=_actor(request)))
    return _json({"customers": [p.to_json() for p in page.items], "next_cursor": page.next_cursor})


@get("/customers/{number:str}", sync_to_thread=True)
def profile(
    request: AnyRequest,
    number: FromPath[str],
    unmasked: FromQuery[bool] = False,
    why: FromQuery[str | None] = None,
) -> Response[bytes]:
    """The customer's profile, masked; ``unmasked=true`` with a ``why`` for roles that
    may read personal data (the read is recorded)."""
    web = _web(request)
    found = web.call(
        lambda: web.ledger.profile(number, actor=_actor(request), unmasked=unmasked, why=why)
    )
    return _json(found.to_json())


@get("/customers/{number:str}/timeline", sync_to_thread=True)
def timeline(
    request: AnyRequest,
    number: FromPath[str],
    start: FromQuery[str | None] = None,
    end: FromQuery[str | None] = None,
    limit: FromQuery[int] = 200,
    after: FromQuery[str | None] = None,
) -> Response[bytes]:
    """Entries in business-time order, ``start`` inclusive, ``end`` exclusive."""
    return _timeline(request, number, start, end, limit, after)


@get("/timeline", sync_to_thread=True)
def timeline_all(
    request: AnyRequest,
    start: FromQuery[str | None] = None,
    end: FromQuery[str | None] = None,
    limit: FromQuery[int] = 200,
    after: FromQuery[str | None] = None,
) -> Response[bytes]:
    """Every customer's entries in business-time order."""
    return _timeline(request, None, start, end, limit, after)


def _timeline(
    request: AnyRequest,
    number: str | None,
    start: str | None,
    end: str | None,
    limit: int,
    after: str | None,
) -> Response[bytes]:
    web = _web(request)  # (the ledger checks the arguments: invalid_query)
    page = web.call(
        lambda: web.ledger.timeline(number, start=start, end=end, limit=limit, after=after)
    )
    entries: list[TimelineEntry] = list(page.items)
    return _json({"entries": [e.to_json() for e in entries], "next_cursor": page.next_cursor})


@get("/customers/{number:str}/history", sync_to_thread=True)
def history(
    request: AnyRequest,
    number: FromPath[str],
    unmasked: FromQuery[bool] = False,
    why: FromQuery[str | None] = None,
) -> Response[bytes]:
    """Every recorded event, oldest first, masked unless ``unmasked`` (recorded)."""
    web = _web(request)
    actor = _actor(request)

    def read() -> list[dict[str, Any]]:
        ledger = web.ledger
        events = ledger.history(number)
        if unmasked:
            ledger.record_personal_read(number, actor=actor, why=why, what="history")
        names = ledger.policy.shows_names(actor)
        return [event_json(e, masked=not unmasked, show_names=names) for e in events]

    return _json({"events": web.call(read)})


@get("/customers/{number:str}/replay", sync_to_thread=True)
def replay(
    request: AnyRequest,
    number: FromPath[str],
    as_of: FromQuery[str | None] = None,
    recorded_at: FromQuery[str | None] = None,
    version: FromQuery[int | None] = None,
    unmasked: FromQuery[bool] = False,
    why: FromQuery[str | None] = None,
) -> Response[bytes]:
    """The profile as of a business date, as recorded at a time, or at a version
    (exactly one)."""
    web = _web(request)
    found = web.call(
        lambda: web.ledger.replay(
            number, version=version, recorded_at=recorded_at, as_of=as_of,
            actor=_actor(request), unmasked=unmasked, why=why,
        )
    )  # fmt: skip
    return _json(found.to_json())


# -- boards and analytics ---------------------------------------------------------------


@get("/status", sync_to_thread=True)
def status(
    request: AnyRequest,
    as_of: FromQuery[str | None] = None,
    idle_days: FromQuery[int] = 30,
    stage: FromQuery[str | None] = None,
    owner: FromQuery[str | None] = None,
) -> Response[bytes]:
    """The board (counts per stage, open complaints, at risk, idle) and each customer's
    stage (filtered by ``stage`` and ``owner``)."""
    web = _web(request)

    def read() -> dict[str, Any]:
        board = web.ledger.board(as_of, idle_days=idle_days)
        rows = web.ledger.status(stage, owner)
        return {**board.to_json(), "customers": [converter.unstructure(r) for r in rows]}

    return _json(web.call(read))


def _today(web: Web) -> str:
    return web.ledger.business_time(None).astimezone(web.ledger.timezone).date().isoformat()


@get("/reminders", sync_to_thread=True)
def reminders(
    request: AnyRequest,
    as_of: FromQuery[str | None] = None,
    within_days: FromQuery[int] = 30,
    owner: FromQuery[str | None] = None,
) -> Response[bytes]:
    """Reminders due within ``within_days`` of ``as_of`` (default today), overdue included."""
    web = _web(request)
    due = web.call(
        lambda: web.ledger.reminders_due(
            as_of or _today(web), within_days, owner, actor=_actor(request)
        )
    )
    return _json({"reminders": due})


@get("/analytics", sync_to_thread=True)
def analytics(request: AnyRequest, as_of: FromQuery[str | None] = None) -> Response[bytes]:
    """Every customer's grade (computed and by hand), churn risk and segment."""
    web = _web(request)
    return _json(
        web.call(lambda: web.ledger.analytics(as_of or _today(web), actor=_actor(request)))
    )


@get("/indicators", sync_to_thread=True)
def indicators(
    request: AnyRequest,
    start: FromQuery[str],
    end: FromQuery[str],
    period: FromQuery[Literal["month", "quarter"]] = "month",
) -> Response[bytes]:
    """Monthly or quarterly indicators for each period overlapping ``start``..``end``."""
    web = _web(request)
    found = web.call(lambda: web.ledger.indicators(period, start=start, end=end))
    return _json({"periods": found})


# -- audit ------------------------------------------------------------------------------


@get("/audit/log", sync_to_thread=True)
def audit_log(
    request: AnyRequest,
    number: FromPath[str | None] = None,
    actor: FromQuery[str | None] = None,
    limit: FromQuery[int] = 1000,
) -> Response[bytes]:
    """Changes, unmasked reads and refusals, oldest first (the first ``limit``)."""
    web = _web(request)
    if not 1 <= limit <= 10_000:
        raise InvalidValue("limit must be 1 to 10000")

    def read() -> list[dict[str, Any]]:
        found = []
        for entry in web.ledger.audit_log(number, actor=actor):
            found.append(entry.to_json())
            if len(found) >= limit:
                break
        return found

    return _json({"entries": web.call(read)})


@get("/audit/verify", sync_to_thread=True)
def audit_verify(request: AnyRequest, number: FromPath[str | None] = None) -> Response[bytes]:
    """Checks the hash chains (of one customer, or the whole log)."""
    web = _web(request)
    report = web.call(lambda: verify(web.ledger, number))
    return _json(report.to_json())


# -- files ------------------------------------------------------------------------------


@post("/import", status_code=200, request_max_body_size=MAX_UPLOAD)
async def import_file(
    request: AnyRequest,
    format: FromQuery[Literal["jsonl", "csv", "xlsx"] | None] = None,
    dry_run: FromQuery[bool] = False,
    layout: FromQuery[str] = "auto",
) -> Response[bytes]:
    """Imports the body (JSON Lines, CSV or XLSX), or the ``file`` field of a
    multipart form (a page's upload; ``format`` then defaults to the file name's
    suffix); ``dry_run`` (sheets) records nothing and reports, row by row, what would be
    recorded or why a row fails."""
    raw, kind = await _upload(request, format)
    web = _web(request)
    actor = _actor(request)
    if kind == "jsonl":
        if dry_run or layout != "auto":
            raise InvalidValue("dry_run and layout are for csv and xlsx")
        lines = io.BytesIO(raw)
        report = await _in_thread(
            lambda: web.call(lambda: import_lines(web.ledger, lines, actor=actor))
        )
        return _json(report.to_json())
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"upload.{kind}"
        path.write_bytes(raw)
        sheet = await _in_thread(
            lambda: web.call(
                lambda: import_sheet(web.ledger, path, layout=layout, dry_run=dry_run, actor=actor)
            )
        )
    return _json(sheet.to_json())


UPLOAD_FORMATS = ("jsonl", "csv", "xlsx")


async def _upload(request: AnyRequest, format: str | None) -> tuple[bytes, str]:
    """The uploaded bytes and their format."""
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        form = await request.form()
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise InvalidValue('a multipart upload carries the file in its "file" field')
        raw = await upload.read()
        suffix = Path(upload.filename or "").suffix.lstrip(".").lower()
        format = format or (suffix if suffix in UPLOAD_FORMATS else None)
    else:
        raw = await request.body()
    if format is None:
        raise InvalidValue("say the upload's format: ?format=jsonl, csv or xlsx")
    return raw, format


@get("/export/{source:str}", sync_to_thread=True)
def export_file(
    request: AnyRequest,
    source: FromPath[str],
    format: FromQuery[Literal["csv", "xlsx", "jsonl"]] = "csv",
    lang: FromQuery[Literal["zh", "en"]] = "zh",
    layout: FromQuery[str | None] = None,
    as_of: FromQuery[str | None] = None,
    unmasked: FromQuery[bool] = False,
    why: FromQuery[str | None] = None,
) -> Response[bytes]:
    """Profiles, timeline or status as a CSV, XLSX or JSON Lines download."""
    if source not in EXPORT_SOURCES:
        raise InvalidValue(
            f"no export {source!r}; exports are: {', '.join(sorted(EXPORT_SOURCES))}"
        )
    assert format in FORMATS
    web = _web(request)
    out = io.BytesIO()

    def write() -> None:
        export_request = ExportRequest(
            as_of=web.ledger.business_time(as_of), lang=Lang(lang), unmasked=unmasked,
            actor=_actor(request), why=why, layout=layout,
        )  # fmt: skip
        export(web.ledger, source, out, format=format, request=export_request)

    web.call(write)
    media = {
        "csv": "text/csv; charset=utf-8",
        "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "jsonl": "application/x-ndjson",
    }[format]
    return Response(
        out.getvalue(),
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="{source}.{format}"'},
    )


# -- commands ---------------------------------------------------------------------------


def _run_command(
    request: AnyRequest, command: str, number: str | None, raw: bytes
) -> Response[bytes]:
    body = _body(raw)
    if number is None:  # first contact: the number is in the body
        line = {"command": command, **body}
    else:
        clashing = sorted({"command", "customer"} & set(body))
        if clashing:
            raise UnknownField(
                f"{command} takes the customer from the path, not {', '.join(clashing)}"
            )
        line = {"command": command, "customer": number, **body}
    web = _web(request)
    parsed = parse_command(line, actor=_actor(request))
    result = web.call(lambda: parsed.run(web.ledger))
    return _json(result.to_json(), status=200 if result.replayed else 201)


def _command_handler(command: str) -> Any:
    body = BODY_CLASSES[command]
    dto: Any = RawBody[body]  # type: ignore[misc]
    summary = command.replace("_", " ")
    if command == "first_contact":

        def first(request: AnyRequest, data: JSONBody[Any]) -> Response[bytes]:
            return _run_command(request, command, None, data)

        first.__annotations__["data"] = JSONBody[body]  # type: ignore[misc,valid-type]
        return post(
            "/customers", dto=dto, return_dto=None, sync_to_thread=True,
            operation_id=command, summary=summary, tags=["commands"], status_code=201,
        )(first)  # fmt: skip

    def run(request: AnyRequest, number: FromPath[str], data: JSONBody[Any]) -> Response[bytes]:
        return _run_command(request, command, number, data)

    run.__annotations__["data"] = JSONBody[body]  # type: ignore[misc,valid-type]
    return post(
        f"/customers/{{number:str}}/{command}", dto=dto, return_dto=None,
        sync_to_thread=True, operation_id=command, summary=summary, tags=["commands"],
        status_code=201,
    )(run)  # fmt: skip


# -- duplicates and merge ------------------------------------------------------------------


@frozen
class MergeBody:
    """``POST /api/customers/{number}/merge``: merge ``number`` into ``into``."""

    into: str
    reason: str
    occurred_at: str | None = None
    command_id: str | None = None
    correlation_id: str | None = None


MERGE_FIELDS = frozenset(a.name for a in attrs.fields(MergeBody))


@get("/duplicates", sync_to_thread=True)
def duplicates(request: AnyRequest) -> Response[bytes]:
    """Groups of customers that are likely one recorded more than once, with the reason."""
    web = _web(request)
    found = web.call(web.ledger.duplicates)
    return _json({"groups": [group.to_json() for group in found]})


MERGE_DTO: Any = RawBody[MergeBody]  # type: ignore[misc]


@post(
    "/customers/{number:str}/merge", dto=MERGE_DTO, return_dto=None,
    sync_to_thread=True, operation_id="merge", tags=["commands"], status_code=201,
)  # fmt: skip
def merge(request: AnyRequest, number: FromPath[str], data: JSONBody[MergeBody]) -> Response[bytes]:
    """Merges customer ``number`` into ``into`` (the survivor): nothing is rewritten; the
    absorbed number refuses further commands with ``merged_into``."""
    body = _body(cast(bytes, data))
    unknown = sorted(set(body) - MERGE_FIELDS)
    if unknown:
        known = ", ".join(sorted(MERGE_FIELDS))
        raise UnknownField(f"merge takes {known}, not {', '.join(unknown)}")
    for name in ("into", "reason"):
        if name not in body:
            raise MissingField(f"merge needs {name}")
    web = _web(request)
    result = web.call(lambda: web.ledger.merge(number, actor=_actor(request), **body))
    return _json(result.to_json(), status=200 if result.replayed else 201)


# -- the app ----------------------------------------------------------------------------


def create_app(
    ledger: CustomerLedger,
    *,
    secret: bytes | None = None,
    token_seconds: int = TOKEN_SECONDS,
    session_seconds: int = SESSION_SECONDS,
    throttle: Throttle | None = None,
    max_body: int = MAX_BODY,
    static_dir: str | Path | None = None,
    secure_cookies: bool = False,
    debug: bool = False,
    routes: Sequence[Any] = (),
    public: Sequence[str] = (),
) -> Litestar:
    """The API over ``ledger`` (opened for writing: requests record as their users).

    ``secret`` signs tokens and sessions (default: ``$CUSTOMER_LEDGER_WEB_SECRET``, else
    derived from the store's master key); ``secure_cookies`` marks the session cookie
    Secure (serve over HTTPS); ``static_dir`` is served at ``/static`` without login.
    ``routes`` are more route handlers (the pages, ``web.site``), and ``public`` path
    patterns the API's authentication leaves to them (pages log in their own way)."""
    if secret is None:
        try:
            master = ledger.keys.master.secret
        except LedgerError:
            master = None
        secret = secret_for(master)
    web = Web(
        ledger, Signer(secret), throttle or Throttle(), token_seconds, session_seconds,
        secure_cookies,
    )  # fmt: skip
    handlers: list[Any] = [
        login, logout, me, users_list, users_add, users_disable, users_password, search,
        profile, timeline, timeline_all, history, replay, status,
        reminders, analytics, indicators, audit_log, audit_verify, import_file, export_file,
        duplicates, merge,
    ]  # fmt: skip
    handlers += [_command_handler(name) for name in BODY_CLASSES]
    api = Router("/api", route_handlers=handlers)
    handlers_all: list[Any] = [api, *routes]
    if static_dir is not None:
        handlers_all.append(create_static_files_router("/static", directories=[static_dir]))
    auth = DefineMiddleware(Authentication, exclude=[r"^/api/login$", r"^/static/", *public])
    app = Litestar(
        route_handlers=handlers_all,
        middleware=[auth],
        exception_handlers={
            LedgerError: ledger_error,
            HTTPException: http_error,
            Exception: internal_error,
        },
        openapi_config=OpenAPIConfig(
            title="customer-ledger",
            version="1",
            path="/api",
            description="The customer ledger over HTTP (docs/api.md).",
            components=Components(
                security_schemes={
                    "basic": SecurityScheme(type="http", scheme="basic"),
                    "bearer": SecurityScheme(type="http", scheme="bearer"),
                }
            ),
            security=[{"basic": []}, {"bearer": []}],
            render_plugins=[],
        ),
        request_max_body_size=max_body,
        logging_config=None,  # the host's (or uvicorn's) logging, untouched: a library's manners
        debug=debug,
    )
    app.state.web = web
    return app


def from_environment() -> Litestar:
    """An app over the store ``$CUSTOMER_LEDGER_STORE`` names (default SQLite): the
    factory each uvicorn worker calls (``customer-ledger serve --workers N``, or
    ``uvicorn --factory customer_ledger.web.app:from_environment``)."""
    return create_app(
        CustomerLedger.open(replica=replica_url(), catch_up=not views_followed()),
        secure_cookies=os.environ.get(SECURE_COOKIES_ENV, "") == "1",
    )


__all__ = ["MAX_BODY", "MAX_UPLOAD", "create_app", "from_environment"]
