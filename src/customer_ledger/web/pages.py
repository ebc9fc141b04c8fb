"""The archive management interface: server-rendered pages (Jinja2) over the ledger.

Every page acts as its logged-in user and role through the ledger, as the API does
(``web.app``): the ledger's policy decides, masks and records. Pages log in with the
same signed session cookie as the API's sessions, and every form carries the
session's CSRF token; a command form also carries a command id, so a double click or
a resubmitted page records once. htmx (vendored, pinned: ``static/SHA256SUMS``) polls
the parts of a page that change, so writes from elsewhere show within two seconds; the
Content-Security-Policy allows no inline script at all.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import re
import secrets
import time
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlencode

import attrs
import jinja2
import markupsafe
from litestar import Request, Response, Router, get, post
from litestar.datastructures import Cookie, UploadFile
from litestar.enums import RequestEncodingType
from litestar.exceptions import HTTPException
from litestar.params import Body, FromPath, FromQuery
from litestar.response import Redirect

from customer_ledger.analytics.reminders import KIND_LABELS_ZH
from customer_ledger.analytics.segments import SEGMENT_LABELS_ZH
from customer_ledger.application.commands import COMMANDS
from customer_ledger.application.ledger import CustomerLedger
from customer_ledger.application.users import fingerprint
from customer_ledger.audit.verify import verify
from customer_ledger.domain.access import Actor
from customer_ledger.domain.values import Grade, Stage
from customer_ledger.errors import (
    AttachmentDamaged,
    AttachmentMissing,
    InvalidValue,
    LedgerError,
    NotAuthenticated,
    PermissionDenied,
    UnknownCustomer,
)
from customer_ledger.formats.jsonl import import_lines, parse_command
from customer_ledger.formats.report import gather
from customer_ledger.formats.report import render as render_report
from customer_ledger.formats.report.data import ReportData
from customer_ledger.formats.report.html import COMPUTED, MANUAL, STAGE_COLOURS
from customer_ledger.formats.report.svg import Series, columns, funnel
from customer_ledger.formats.spreadsheets.importing import import_sheet
from customer_ledger.formats.spreadsheets.layouts import LAYOUTS
from customer_ledger.projections.views import ProfileQuery
from customer_ledger.storage.users import User
from customer_ledger.web.app import SESSION_COOKIE, Web
from customer_ledger.web.attachments import Files, uri_of
from customer_ledger.web.errors import HTTP_RULES, status_of
from customer_ledger.web.forms import FOLDED, field_of, form_fields, line_of
from customer_ledger.web.i18n import (
    LANG_COOKIE,
    Language,
    command_note,
    command_title,
    field_hint,
    field_label,
    language,
    rule_text,
    translator,
)

logger = logging.getLogger(__name__)
HERE = Path(__file__).parent
STATIC_DIR = HERE / "static"
HTMX = "htmx-2.0.10.min.js"
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "object-src 'none'"
)
AnyRequest = Request[Any, Any, Any]
FormData = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]
Multipart = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)]
SORTS = ("number", "name", "stage", "total_revenue", "last_interaction_at", "first_contact_at")
SORT_LABELS = {
    "number": "Number", "name": "Name", "stage": "Stage", "total_revenue": "Revenue",
    "last_interaction_at": "Last interaction", "first_contact_at": "First contact",
}  # fmt: skip
PAGE_SIZE = 25
MAX_ATTACHMENT = 20 * 1024 * 1024
LIVE = "__live_digest__"  # where a polled page's digest goes (see render)
UPLOAD_SECONDS = 3600  # a sheet's dry run waits this long for its confirmation
FORMATS = ("csv", "xlsx", "jsonl")
READS_COOKIE = "customer_ledger_reads"  # the read ids of the show-phone forms already read
READS_KEPT = 20
READ_ID = re.compile(r"[A-Za-z0-9:-]{1,64}")

_templates = jinja2.Environment(
    loader=jinja2.FileSystemLoader(HERE / "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_templates.globals["asdict"] = attrs.asdict
_templates.globals["new_id"] = lambda: str(uuid.uuid4())
_templates.globals["all_stages"] = tuple(Stage)  # a board may leave out an empty stage
# The analytics' own Chinese words (a reminder's kind, a maintenance segment).
ZH_WORDS = {str(k): v for k, v in [*KIND_LABELS_ZH.items(), *SEGMENT_LABELS_ZH.items()]}
_templates.globals["zh_words"] = ZH_WORDS


class LoginRequired(Exception):
    """A page asked for without a valid session: to the login page."""


class Visit:
    """One request to a page: who (the session's user), in which language, with which
    CSRF token; ``call`` runs ledger work under the ledger's lock."""

    def __init__(self, request: AnyRequest, user: User, session: str) -> None:
        self.request = request
        self.web: Web = request.app.state.web
        self.user = user
        self.actor = Actor(user.name, user.role)
        self.csrf = self.web.signer.csrf_token(session)
        self.session = session
        self.lang: Language = language(
            request.query_params.get("lang"), request.cookies.get(LANG_COOKIE)
        )

    @property
    def ledger(self) -> CustomerLedger:
        return self.web.ledger

    def may(self, command: str) -> bool:
        role = self.ledger.policy.roles.get(self.actor.role)
        return role is not None and bool(role.allows(command))

    @property
    def reads_personal(self) -> bool:
        role = self.ledger.policy.roles.get(self.actor.role)
        return role is not None and bool(role.read_personal)

    def check_csrf(self, data: Mapping[str, Any]) -> None:
        token = data.get("csrf_token")
        if not self.web.signer.csrf_ok(self.session, token if isinstance(token, str) else None):
            what = f"{self.request.method} {self.request.url.path}"
            self.web.call(
                lambda: self.ledger.record_denial(None, self.actor, what, "no CSRF token")
            )
            raise PermissionDenied("the form is stale or forged (CSRF): reload the page")


def _session(request: AnyRequest) -> tuple[User, str] | None:
    web: Web = request.app.state.web
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return None
    claims = web.signer.read("session", cookie)
    if claims is None:
        return None
    try:
        user = web.current(claims.user, claims.fingerprint)
    except NotAuthenticated:
        return None
    return user, claims.session


def visit(request: AnyRequest) -> Visit:
    found = _session(request)
    if found is None:
        raise LoginRequired()
    return Visit(request, *found)


def render(
    request: AnyRequest,
    template: str,
    status: int = 200,
    visit: Visit | None = None,
    **context: Any,
) -> Response[bytes]:
    """A page (``HX-Request``: the same page; htmx picks the part it polls)."""
    lang = (
        visit.lang
        if visit
        else language(request.query_params.get("lang"), request.cookies.get(LANG_COOKIE))
    )
    t = translator(lang)
    html = _templates.get_template(template).render(
        visit=visit, lang=lang, t=t, htmx=HTMX, path=request.url.path,
        here=_here(request), lang_url=lambda to: _with(request, lang=to),
        live_url=_with(request, live=LIVE), command_title=lambda c: command_title(c, lang),
        command_note=lambda c: command_note(c, lang),
        field_label=lambda f: field_label(f, lang),
        field_hint=lambda f, english: field_hint(f, english, lang),
        rule_text=lambda rule: rule_text(rule, lang),
        explain=lambda error: explain(error, lang), **context,
    )  # fmt: skip
    if LIVE in html:  # a polled page: its poll carries a digest of what it shows
        digest = hashlib.sha256(html.encode("utf-8")).hexdigest()[:20]
        if request.query_params.get("live") == digest:
            return Response(b"", status_code=204, headers=_headers())  # nothing to swap
        html = html.replace(LIVE, digest)
    response = Response(
        html.encode("utf-8"), status_code=status, media_type="text/html; charset=utf-8",
        headers=_headers(),
    )  # fmt: skip
    asked = request.query_params.get("lang")
    if asked in ("zh", "en"):
        response.set_cookie(LANG_COOKIE, asked, max_age=365 * 86400, samesite="strict", path="/")
    return response


def explain(error: Any, lang: Language) -> markupsafe.Markup:
    """An error as a page shows it: ``[rule]``, in Chinese what the rule means, then the
    error's own message (which names the value; the ledger's messages are English)."""
    rule, message = str(error.rule), str(error)
    if lang == "en":
        return markupsafe.Markup('[<span class="rule">{}</span>] {}').format(rule, message)
    return markupsafe.Markup(
        '[<span class="rule">{}</span>] {}<span class="detail" lang="en">{}</span>'
    ).format(rule, rule_text(rule, lang), f"（{message}）" if message else "")


def _headers() -> dict[str, str]:
    return {
        "Content-Security-Policy": CSP,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
        "Cache-Control": "no-store",
    }


def _here(request: AnyRequest) -> str:
    return _with(request)


def _with(request: AnyRequest, **changes: Any) -> str:
    """This page's URL with ``changes`` to its query (a poll's ``live`` left out)."""
    params = {k: v for k, v in request.query_params.items() if k not in changes and k != "live"}
    params.update({k: v for k, v in changes.items() if v not in (None, "")})
    return request.url.path + ("?" + urlencode(params) if params else "")


def _redirect(path: str) -> Redirect:
    return Redirect(path, status_code=303, headers=_headers())


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


# -- logging in -----------------------------------------------------------------------


@get("/login", sync_to_thread=False)
def login_page(request: AnyRequest, next: FromQuery[str] = "/customers") -> Response[bytes]:
    return render(request, "login.html", next=_safe_next(next), error=None, name="")


@post("/login", sync_to_thread=True, status_code=303)
def login_submit(request: AnyRequest, data: FormData) -> Response[Any]:
    web: Web = request.app.state.web
    name, password = str(data.get("name", "")), str(data.get("password", ""))
    client = request.client.host if request.client else "unknown"
    try:
        user = web.login(name, password, client)
    except LedgerError as error:
        return render(
            request, "login.html", status=status_of(error), next=_safe_next(data.get("next")),
            error=error, name=name,
        )  # fmt: skip
    cookie, _ = web.signer.issue("session", user.name, fingerprint(user), web.session_seconds)
    response = _redirect(_safe_next(data.get("next")))
    response.cookies = [
        Cookie(
            key=SESSION_COOKIE, value=cookie, max_age=web.session_seconds, httponly=True,
            samesite="strict", secure=web.secure_cookies, path="/",
        )
    ]  # fmt: skip
    return response


@post("/logout", sync_to_thread=True, status_code=303)
def logout_submit(request: AnyRequest, data: FormData) -> Response[Any]:
    visit(request).check_csrf(data)
    response = _redirect("/login")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


def _safe_next(value: Any) -> str:
    """Only a path of this site (no //host, no scheme, no backslash a browser reads as a
    slash, nothing unprintable): no open redirect."""
    if (
        isinstance(value, str)
        and value.startswith("/")
        and not value.startswith("//")
        and len(value) <= 2000
        and value.isprintable()
        and "\\" not in value
    ):
        return value
    return "/customers"


@get("/", sync_to_thread=False)
def home() -> Redirect:
    return _redirect("/customers")


# -- customers -------------------------------------------------------------------------


@get("/customers", sync_to_thread=True)
def customer_list(request: AnyRequest) -> Response[bytes]:
    v = visit(request)
    q = request.query_params
    stage = _text(q.get("stage"))
    sort = str(q.get("sort")) if q.get("sort") in SORTS else "number"
    descending = q.get("descending") == "1"
    try:
        wanted = None if stage is None else Stage(stage)
    except ValueError:
        raise InvalidValue(f"stage {stage!r} is not a stage") from None
    query = ProfileQuery(
        text=_text(q.get("text")), stage=wanted, type=_text(q.get("type")),
        industry=_text(q.get("industry")), region=_text(q.get("region")),
        owner=_text(q.get("owner")), grade=_text(q.get("grade")), tag=_text(q.get("tag")),
        sort=sort, descending=descending, limit=PAGE_SIZE, after=_text(q.get("after")),
    )  # fmt: skip

    def read() -> tuple[Any, Any]:
        return v.ledger.search(query, actor=v.actor), v.ledger.board()

    page, board = v.web.call(read)
    return render(
        request, "customers.html", visit=v, page=page, board=board, q=dict(q.items()),
        stages=[s.value for s in Stage], sorts=SORTS, sort_labels=SORT_LABELS,
        next_url=_with(request, after=page.next_cursor) if page.next_cursor else None,
        first_url=_with(request, after=None),
    )  # fmt: skip


@get("/customers/{number:str}", sync_to_thread=True)
def customer_page(
    request: AnyRequest, number: FromPath[str], live: FromQuery[int | None] = None
) -> Response[bytes]:
    """The customer's page; the page's poll asks ``?live=VERSION`` and gets 204 (htmx
    swaps nothing) while the customer is still at that version."""
    v = visit(request)
    if live is not None:
        current = v.web.call(lambda: v.ledger.profile(number, actor=v.actor).version)
        if current == live:
            return Response(b"", status_code=204, headers=_headers())
    return _customer(request, v, number, unmasked=False, why=None)


@post("/customers/{number:str}/reveal", sync_to_thread=True, status_code=200)
def customer_reveal(request: AnyRequest, number: FromPath[str], data: FormData) -> Response[Any]:
    """The customer with contacts unmasked: the ledger checks the role and the reason,
    and records the read (or the refusal).

    The page's form is sent by htmx, which swaps the unmasked page in and leaves the
    address the customer's page: a reload asks for the masked page and records nothing.
    A refusal is sent to htmx as a 200 page (htmx swaps no 4xx), the error page it is.
    Each form also carries a read id, remembered in a cookie once read: the same form
    sent again (a reload of a form sent without script, a resubmitted page) records no
    second read and goes back to the masked page."""
    v = visit(request)
    read_id = _text(data.get("read_id"))
    seen = [r for r in request.cookies.get(READS_COOKIE, "").split(".") if READ_ID.fullmatch(r)]
    try:
        v.check_csrf(data)
        if read_id is not None and not READ_ID.fullmatch(read_id):
            raise InvalidValue("read_id must be the form's own (letters, digits, ':' and '-')")
        if read_id is not None and read_id in seen:
            return _redirect(f"/customers/{quote(number, safe='')}?done=shown_before")
        response = _customer(request, v, number, unmasked=True, why=_text(data.get("why")))
    except LedgerError as error:
        if not request.headers.get("hx-request"):
            raise
        return _page_error(request, error, status=200)
    if read_id is not None:
        response.set_cookie(
            READS_COOKIE, ".".join([*seen, read_id][-READS_KEPT:]), max_age=v.web.session_seconds,
            httponly=True, samesite="strict", secure=v.web.secure_cookies, path="/customers",
        )  # fmt: skip
    return response


def _customer(
    request: AnyRequest, v: Visit, number: str, *, unmasked: bool, why: str | None
) -> Response[bytes]:
    def read() -> tuple[Any, list[Any], Any]:
        profile = v.ledger.profile(number, actor=v.actor, unmasked=unmasked, why=why)
        entries = list(v.ledger.timeline(number, limit=1000).items)
        today = v.ledger.business_time(None).astimezone(v.ledger.timezone).date()
        return profile, entries, today

    profile, entries, today = v.web.call(read)
    commands = [c for c in COMMANDS if c != "first_contact" and v.may(c)]
    return render(
        request, "customer.html", visit=v, p=profile, entries=list(reversed(entries)),
        purchases=[e for e in entries if e.kind == "PurchaseRecorded"],
        commands=commands, unmasked=unmasked, today=today,
    )  # fmt: skip


# -- command forms ----------------------------------------------------------------------


@get("/customers/new", sync_to_thread=True)
def new_customer(request: AnyRequest) -> Response[bytes]:
    v = visit(request)
    return _form(request, v, "first_contact", None, {}, None)


@post("/customers/new", sync_to_thread=True, status_code=303)
def new_customer_submit(request: AnyRequest, data: FormData) -> Response[Any]:
    return _submit(request, "first_contact", None, data)


@get("/customers/{number:str}/do/{command:str}", sync_to_thread=True)
def command_form(
    request: AnyRequest, number: FromPath[str], command: FromPath[str]
) -> Response[bytes]:
    v = visit(request)
    _known(command)
    values = dict(request.query_params.items())
    if command in NEW_IDS and NEW_IDS[command][0] not in values:
        values[NEW_IDS[command][0]] = v.web.call(lambda: _new_id(v, command, number))
    return _form(request, v, command, number, values, None)


# Commands that name a new item of the customer's: the form suggests an id not in use
# (field, the profile's items, their id, the pattern), which the user may change.
NEW_IDS = {
    "add_contact": ("contact_id", "contacts", "contact_id", "{number}-{n}"),
    "file_complaint": ("complaint", "complaints", "complaint_id", "K{n}"),
    "schedule_reminder": ("reminder", "reminders", "reminder_id", "R{n}"),
}


def _new_id(v: Visit, command: str, number: str) -> str:
    _, items, key, pattern = NEW_IDS[command]
    profile = v.ledger.profile(number, actor=v.actor)
    taken = {getattr(item, key) for item in getattr(profile, items)}
    n = len(taken) + 1
    while pattern.format(number=profile.number, n=n) in taken:
        n += 1
    return pattern.format(number=profile.number, n=n)


@post("/customers/{number:str}/do/{command:str}", sync_to_thread=True, status_code=303)
def command_submit(
    request: AnyRequest, number: FromPath[str], command: FromPath[str], data: FormData
) -> Response[Any]:
    _known(command)
    return _submit(request, command, number, data)


def _known(command: str) -> None:
    if command not in COMMANDS or command == "first_contact":
        raise InvalidValue(f"unknown command {command!r}")


def _form(
    request: AnyRequest,
    v: Visit,
    command: str,
    number: str | None,
    values: Mapping[str, Any],
    error: LedgerError | None,
    status: int = 200,
) -> Response[bytes]:
    fields = form_fields(command)
    where = None
    if error is not None:
        where = field_of(command, error.rule, str(error))
    return render(
        request, "command.html", status=status, visit=v, command=command, number=number,
        fields=fields, values=values, error=error, error_field=where, folded=FOLDED,
        unfold=where in FOLDED or any(_text(values.get(name)) for name in FOLDED),
        command_id=values.get("command_id") or f"web:{uuid.uuid4()}",
        action="/customers/new" if number is None else f"/customers/{number}/do/{command}",
    )  # fmt: skip


def _submit(
    request: AnyRequest, command: str, number: str | None, data: Mapping[str, Any]
) -> Response[Any]:
    v = visit(request)
    v.check_csrf(data)
    try:
        line = line_of(command, number, data)
        parsed = parse_command(line, actor=v.actor)
        result = v.web.call(lambda: parsed.run(v.ledger))
    except LedgerError as error:
        return _form(request, v, command, number, data, error, status=status_of(error))
    done = "replayed" if result.replayed else "recorded"
    return _redirect(f"/customers/{result.number}?done={done}")


# -- attachments ------------------------------------------------------------------------


@post(
    "/customers/{number:str}/attachments", sync_to_thread=True, status_code=303,
    request_max_body_size=MAX_ATTACHMENT,
)  # fmt: skip
def attachment_upload(request: AnyRequest, number: FromPath[str], data: Multipart) -> Response[Any]:
    """Keeps the file beside the store and records ``link_attachment`` with its SHA-256
    (the policy is asked first: a refused user's file is never written)."""
    v = visit(request)
    v.check_csrf(data)
    v.web.call(lambda: v.ledger.check_or_record(v.actor, "link_attachment"))
    file = data.get("file")
    if not isinstance(file, UploadFile) or not file.filename:
        raise InvalidValue("choose a file to attach")
    content = file.file.read()
    if not content:
        raise InvalidValue("the file is empty")
    files: Files = request.app.state.files
    sha256 = files.save(content)
    name = _text(data.get("name")) or Path(file.filename).name
    line = {
        "command": "link_attachment", "customer": number, "name": name,
        "uri": uri_of(sha256), "sha256": sha256,
        "command_id": _text(data.get("command_id")) or f"web:{uuid.uuid4()}",
    }  # fmt: skip
    parsed = parse_command(line, actor=v.actor)
    result = v.web.call(lambda: parsed.run(v.ledger))
    done = "replayed" if result.replayed else "recorded"
    return _redirect(f"/customers/{result.number}?done={done}")


@get("/customers/{number:str}/attachments/{sha256:str}", sync_to_thread=True)
def attachment_download(
    request: AnyRequest, number: FromPath[str], sha256: FromPath[str], why: FromQuery[str] = ""
) -> Response[bytes]:
    """The file, for a role that may read personal data, with a reason (recorded), and
    only if it still has the SHA-256 recorded."""
    v = visit(request)
    files: Files = request.app.state.files

    def read() -> tuple[str, bytes]:
        profile = v.ledger.profile(number, actor=v.actor)
        found = [a for a in profile.attachments if a.sha256 == sha256]
        if not found:
            raise AttachmentMissing(f"{profile.number} has no attachment {sha256[:12]}…")
        name = found[0].name
        v.ledger.record_personal_read(
            profile.number, actor=v.actor, why=why, what=f"attachment {name}"
        )
        return name, files.read(sha256)

    name, content = v.web.call(read)
    return Response(
        content, media_type="application/octet-stream",
        headers={
            **_headers(),
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}",
        },
    )  # fmt: skip


# -- replay -------------------------------------------------------------------------------


@get("/customers/{number:str}/replay", sync_to_thread=True)
def replay_page(request: AnyRequest, number: FromPath[str]) -> Response[bytes]:
    v = visit(request)
    q = request.query_params
    point = {k: _text(q.get(k)) for k in ("as_of", "recorded_at", "version")}
    given = {k: val for k, val in point.items() if val is not None}
    profile = None
    error: LedgerError | None = None
    if given:
        try:
            version = given.get("version")
            if version is not None and not version.isdigit():
                raise InvalidValue(f"version must be a whole number, got {version!r}")
            profile = v.web.call(
                lambda: v.ledger.replay(
                    number, actor=v.actor, as_of=given.get("as_of"),
                    recorded_at=given.get("recorded_at"),
                    version=None if version is None else int(version),
                )
            )  # fmt: skip
        except LedgerError as found:
            error = found
    return render(
        request, "replay.html", visit=v, number=number, point=point, p=profile, error=error
    )


# -- boards ---------------------------------------------------------------------------------


@get("/status", sync_to_thread=True)
def status_page(request: AnyRequest) -> Response[bytes]:
    v = visit(request)
    q = request.query_params
    as_of, stage, owner = _text(q.get("as_of")), _text(q.get("stage")), _text(q.get("owner"))

    def read() -> tuple[Any, list[Any]]:
        return v.ledger.board(as_of), v.ledger.status(stage, owner)

    board, rows = v.web.call(read)
    return render(
        request, "status.html", visit=v, board=board, rows=rows, as_of=as_of or "",
        stage=stage or "", owner=owner or "", stages=[s.value for s in Stage],
    )  # fmt: skip


@get("/reminders", sync_to_thread=True)
def reminders_page(request: AnyRequest) -> Response[bytes]:
    v = visit(request)
    q = request.query_params
    as_of = _text(q.get("as_of"))
    within = _text(q.get("within_days")) or "30"
    if not within.isdigit():
        raise InvalidValue(f"within_days must be a whole number, got {within!r}")

    def read() -> list[Any]:
        today = as_of or v.ledger.business_time(None).astimezone(v.ledger.timezone).date()
        due: list[Any] = v.ledger.reminders_due(
            today, int(within), _text(q.get("owner")), actor=v.actor
        )
        return due

    due = v.web.call(read)
    return render(
        request, "reminders.html", visit=v, due=due, as_of=as_of or "", within=within,
        owner=q.get("owner") or "",
    )  # fmt: skip


# -- duplicates and merge ---------------------------------------------------------------------


@get("/duplicates", sync_to_thread=True)
def duplicates_page(request: AnyRequest) -> Response[bytes]:
    v = visit(request)
    return _duplicates(request, v, None, {})


def _duplicates(
    request: AnyRequest, v: Visit, error: LedgerError | None, values: Mapping[str, Any]
) -> Response[bytes]:
    def read() -> list[tuple[Any, list[Any]]]:
        found = []
        for group in v.ledger.duplicates():
            rows = [v.ledger.profile(n, actor=v.actor) for n in group.numbers]
            found.append((group, rows))
        return found

    groups = v.web.call(read)
    return render(
        request, "duplicates.html", status=200 if error is None else status_of(error),
        visit=v, groups=groups, error=error, values=values,
        command_id=values.get("command_id") or f"web:{uuid.uuid4()}",
    )  # fmt: skip


@post("/duplicates/merge", sync_to_thread=True, status_code=303)
def merge_submit(request: AnyRequest, data: FormData) -> Response[Any]:
    """Merges ``number`` into ``into`` (the survivor) with a reason, as the page's user;
    the form's command id makes a double click merge once."""
    v = visit(request)
    v.check_csrf(data)
    number, into = _text(data.get("number")), _text(data.get("into"))
    try:
        if number is None or into is None:
            raise InvalidValue("choose the customer to merge and the one it is merged into")
        result = v.web.call(
            lambda: v.ledger.merge(
                number, into=into, reason=str(data.get("reason", "")), actor=v.actor,
                command_id=_text(data.get("command_id")),
            )
        )  # fmt: skip
    except PermissionDenied:
        raise
    except LedgerError as error:
        return _duplicates(request, v, error, data)
    return _redirect(f"/customers/{result.number}?done=recorded")


@post("/duplicates/reindex", sync_to_thread=True, status_code=303)
def reindex_submit(request: AnyRequest, data: FormData) -> Response[Any]:
    """Rebuilds the duplicate index from the history (``customer-ledger
    reindex-duplicates``): for a role the policy allows ``reindex_duplicates`` (admin);
    a refusal is recorded."""
    v = visit(request)
    v.check_csrf(data)

    indexed = v.web.call(lambda: v.ledger.reindex_duplicates(actor=v.actor))
    return _redirect(f"/duplicates?reindexed={indexed}")


# -- analytics ----------------------------------------------------------------------------


@get("/analytics", sync_to_thread=True)
def analytics_page(request: AnyRequest) -> Response[bytes]:
    """Grades, churn risk and segments with the HTML report's charts (inline SVG: no
    script), and the full report as a download."""
    v = visit(request)
    data = v.web.call(lambda: _report_data(v, request.query_params.get("as_of")))
    a = data.analytics
    stage_counts, grades = a.stage_counts(), a.grade_counts()
    t, money = translator(v.lang), a.settings.currency
    charts = {
        "funnel": funnel(
            [t(s.value) for s in Stage], [stage_counts[s] for s in Stage], STAGE_COLOURS,
            t("customers per lifecycle stage"),
        ),
        "abc": columns(
            [g.value for g in Grade],
            [
                Series(t("computed"), COMPUTED, tuple(grades["computed"][g] for g in Grade)),
                Series(t("by hand"), MANUAL, tuple(grades["manual"][g] for g in Grade)),
            ],
            t("customers per ABC grade, computed and assigned by hand"), kind="abc",
        ),
        "revenue": columns(
            [p.period[2:] for p in data.monthly],
            [Series(f"{t('Revenue')} {money}", COMPUTED, tuple(p.revenue for p in data.monthly))],
            f"{t('Revenue by month')} ({money})", kind="revenue",
        ),
    }  # fmt: skip
    return render(
        request, "analytics.html", visit=v, data=data, charts=charts,
        as_of=data.as_of.isoformat(),
    )  # fmt: skip


@get("/analytics/report", sync_to_thread=True)
def analytics_report(request: AnyRequest) -> Response[bytes]:
    """The HTML report (``customer-ledger report``) as a file to keep or send."""
    v = visit(request)
    data = v.web.call(lambda: _report_data(v, request.query_params.get("as_of")))
    return Response(
        render_report(data).encode("utf-8"), media_type="text/html; charset=utf-8",
        headers={
            **_headers(),
            "Content-Disposition": f'attachment; filename="report-{data.as_of}.html"',
        },
    )  # fmt: skip


def _report_data(v: Visit, as_of: str | None) -> ReportData:
    day = as_of.strip() if as_of and as_of.strip() else None
    when = v.ledger.business_time(day).astimezone(v.ledger.timezone).date()
    return gather(v.ledger, when, actor=v.actor)


# -- audit ------------------------------------------------------------------------------------


@get("/audit", sync_to_thread=True)
def audit_page(request: AnyRequest) -> Response[bytes]:
    v = visit(request)
    number = _text(request.query_params.get("number"))
    who = _text(request.query_params.get("actor"))

    def read() -> tuple[list[Any], Any]:
        entries = list(v.ledger.audit_log(number, actor=who))
        return entries[-500:], verify(v.ledger, number)

    entries, report = v.web.call(read)
    return render(
        request, "audit.html", visit=v, entries=list(reversed(entries)), report=report,
        number=number or "", who=who or "",
    )  # fmt: skip


# -- import and export ----------------------------------------------------------------------


@get("/import", sync_to_thread=True)
def import_page(request: AnyRequest) -> Response[bytes]:
    """The import form; ``?report=ID``, the report of an import this user recorded (where
    the import redirects, so a reload shows the report again and imports nothing)."""
    v = visit(request)
    report = None
    report_id = _text(request.query_params.get("report"))
    if report_id is not None:
        uploads = _uploads(request)
        found = uploads / f"{report_id}.report.json"
        if (
            not report_id.isalnum()
            or not found.exists()
            or _owner(uploads / f"{report_id}.owner") != v.user.name
        ):
            raise InvalidValue("that import's report is gone (older than an hour)")
        report = json.loads(found.read_text("utf-8"))
    return render(
        request, "import.html", visit=v, report=report, upload=None, fmt="auto",
        layout="auto", layouts=_layouts(v.lang),
    )  # fmt: skip


@post("/import", sync_to_thread=True, status_code=200, request_max_body_size=20 * 1024 * 1024)
def import_submit(request: AnyRequest, data: Multipart) -> Response[Any]:
    """A sheet: the dry run's report, with a confirm button that imports the same upload
    (kept server-side under a random name). JSON Lines import at once. A recording
    import redirects to its report (``_imported``)."""
    v = visit(request)
    v.check_csrf(data)
    fmt = data.get("format") or "auto"
    file = data.get("file")
    if fmt == "auto" and isinstance(file, UploadFile) and file.filename:  # by its name
        fmt = Path(file.filename).suffix.lower().lstrip(".")
        if fmt not in FORMATS:
            raise InvalidValue(
                f"cannot tell the format of {file.filename!r} from its name: choose csv, "
                "xlsx or jsonl"
            )
    if fmt not in FORMATS:
        raise InvalidValue("format must be csv, xlsx or jsonl")
    layout = _text(data.get("layout")) or "auto"
    if layout != "auto" and layout not in LAYOUTS:
        raise InvalidValue(f"layout must be auto or one of {', '.join(LAYOUTS)}")
    uploads = _uploads(request)
    upload_id = _text(data.get("upload"))
    if upload_id is not None:  # the confirmation of an earlier dry run
        path = uploads / f"{upload_id}.{fmt}"
        owner = uploads / f"{upload_id}.owner"
        if (
            not upload_id.isalnum()
            or not path.exists()
            or _owner(owner) != v.user.name  # (another user's upload: none)
        ):
            raise InvalidValue("that upload is gone (imported, or too old): upload the file again")
    else:
        if not isinstance(file, UploadFile) or not file.filename:
            raise InvalidValue("choose a file to import")
        upload_id = secrets.token_hex(16)
        path = uploads / f"{upload_id}.{fmt}"
        path.write_bytes(file.file.read())
        (uploads / f"{upload_id}.owner").write_text(v.user.name, "utf-8")
    if fmt == "jsonl":
        with path.open("rb") as lines:
            report = v.web.call(lambda: import_lines(v.ledger, lines, actor=v.actor)).to_json()
        return _imported(uploads, upload_id, v, report)
    dry_run = data.get("confirm") != "1"
    sheet = v.web.call(
        lambda: import_sheet(v.ledger, path, layout=layout, dry_run=dry_run, actor=v.actor)
    ).to_json()
    if not dry_run:
        return _imported(uploads, upload_id, v, sheet)
    return render(
        request, "import.html", visit=v, report=sheet, upload=upload_id if dry_run else None,
        layouts=_layouts(v.lang),
        fmt=fmt, layout=layout,
    )  # fmt: skip


def _imported(folder: Path, upload_id: str, v: Visit, report: Any) -> Response[Any]:
    """After a recording import: the upload goes, its report is kept for its user (an
    hour) and the page redirects to it, so a reload never imports the file again."""
    _forget_upload(folder, upload_id)
    report_id = secrets.token_hex(16)
    (folder / f"{report_id}.report.json").write_text(json.dumps(report, default=str), "utf-8")
    (folder / f"{report_id}.owner").write_text(v.user.name, "utf-8")
    return _redirect(f"/import?report={report_id}")


def _layouts(lang: Language) -> list[tuple[str, str]]:
    """The import form's layouts: recognised from the header, or one named."""
    named = [(n, x.title_zh if lang == "zh" else x.title_en) for n, x in LAYOUTS.items()]
    return [("auto", translator(lang)("recognised from the header")), *named]


def _uploads(request: AnyRequest) -> Path:
    """Sheets waiting for their confirmation: beside the attachments (so every worker
    of the store finds them), each with its uploader's name; gone after an hour."""
    files: Files = request.app.state.files
    folder = files.folder / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    stale = time.time() - UPLOAD_SECONDS
    for old in folder.iterdir():
        with contextlib.suppress(OSError):
            if old.stat().st_mtime < stale:
                old.unlink()
    return folder


def _owner(path: Path) -> str | None:
    try:
        return path.read_text("utf-8")
    except OSError:
        return None


def _forget_upload(folder: Path, upload_id: str) -> None:
    for path in folder.glob(f"{upload_id}.*"):
        path.unlink(missing_ok=True)


@get("/export", sync_to_thread=False)
def export_page(request: AnyRequest) -> Response[bytes]:
    v = visit(request)
    return render(request, "export.html", visit=v)


# -- users --------------------------------------------------------------------------------


@get("/users", sync_to_thread=True)
def users_page(request: AnyRequest) -> Response[bytes]:
    v = visit(request)
    return _users(request, v, None)


def _users(request: AnyRequest, v: Visit, error: LedgerError | None) -> Response[bytes]:
    users = v.web.call(lambda: v.ledger.users.list(by=v.actor))
    roles = [r for r in v.ledger.policy.roles if r != "system"]
    return render(
        request, "users.html", status=200 if error is None else status_of(error), visit=v,
        users=users, roles=roles, error=error,
    )  # fmt: skip


@post("/users", sync_to_thread=True, status_code=303)
def users_add(request: AnyRequest, data: FormData) -> Response[Any]:
    v = visit(request)
    v.check_csrf(data)
    try:
        v.web.call(
            lambda: v.ledger.users.add(
                str(data.get("name", "")), role=str(data.get("role", "")),
                password_text=str(data.get("password", "")), by=v.actor,
            )
        )  # fmt: skip
    except PermissionDenied:
        raise
    except LedgerError as error:
        return _users(request, v, error)
    return _redirect("/users")


@post("/users/{name:str}/password", sync_to_thread=True, status_code=303)
def users_password(request: AnyRequest, name: FromPath[str], data: FormData) -> Response[Any]:
    """A new password (every token and session of the user issued before ends)."""
    v = visit(request)
    v.check_csrf(data)
    try:
        v.web.call(
            lambda: v.ledger.users.set_password(name, str(data.get("password", "")), by=v.actor)
        )
    except PermissionDenied:
        raise
    except LedgerError as error:
        return _users(request, v, error)
    return _redirect("/users")


@post("/users/{name:str}/disable", sync_to_thread=True, status_code=303)
def users_disable(request: AnyRequest, name: FromPath[str], data: FormData) -> Response[Any]:
    v = visit(request)
    v.check_csrf(data)
    v.web.call(lambda: v.ledger.users.disable(name, by=v.actor))
    return _redirect("/users")


# -- errors -------------------------------------------------------------------------------


def _login_required(request: AnyRequest, _: LoginRequired) -> Response[Any]:
    if request.headers.get("hx-request"):  # a poll after the session ended: reload
        return Response(b"", status_code=200, headers={"HX-Redirect": "/login"})
    return _redirect("/login?" + urlencode({"next": _here(request)}))


def _page_error(
    request: AnyRequest, error: LedgerError, status: int | None = None
) -> Response[bytes]:
    found = _session(request)
    v = Visit(request, *found) if found else None
    if status is None:
        status = _error_status(error)
    return render(request, "error.html", status=status, visit=v, error=error)


def _error_status(error: LedgerError) -> int:
    if isinstance(error, UnknownCustomer | AttachmentMissing):
        return 404
    if isinstance(error, AttachmentDamaged):
        return 500  # the folder was tampered with: not the reader's doing
    return status_of(error)


@attrs.frozen
class Problem:
    """What the error page shows of a failure that is no ledger error."""

    rule: str
    message: str

    def __str__(self) -> str:
        return self.message


def _http_error(request: AnyRequest, error: HTTPException) -> Response[bytes]:
    status = error.status_code
    rule = HTTP_RULES.get(status, "bad_request" if status < 500 else "internal_error")
    return _problem(request, status, Problem(rule, str(error.detail)))


def _crash(request: AnyRequest, error: Exception) -> Response[bytes]:
    """A bug: logged with its traceback, shown without it."""
    logger.error("page %s failed", request.url.path, exc_info=error)
    return _problem(request, 500, Problem("internal_error", "the server failed; see its log"))


def _problem(request: AnyRequest, status: int, problem: Problem) -> Response[bytes]:
    try:
        found = _session(request)
    except Exception:  # (the store itself may be what failed)
        found = None
    v = Visit(request, *found) if found else None
    return render(request, "error.html", status=status, visit=v, error=problem)


def pages_router() -> Router:
    """The pages, at the site's root (the API stays under ``/api``)."""
    handlers: list[Any] = [
        login_page, login_submit, logout_submit, home, customer_list, new_customer,
        new_customer_submit, customer_page, customer_reveal, command_form, command_submit,
        attachment_upload, attachment_download,
        replay_page, status_page, reminders_page, analytics_page, analytics_report, audit_page,
        duplicates_page, merge_submit, reindex_submit,
        import_page, import_submit,
        export_page, users_page, users_add, users_password, users_disable,
    ]  # fmt: skip
    return Router(
        "/",
        route_handlers=handlers,
        exception_handlers={
            LoginRequired: _login_required,
            LedgerError: _page_error,
            HTTPException: _http_error,
            Exception: _crash,
        },
        include_in_schema=False,
    )


# Paths the API's authentication leaves to the pages: they log in their own way.
PUBLIC = (
    r"^/$",
    r"^/(login|logout|customers|status|reminders|analytics|duplicates|audit|import|export|users)"
    r"(/|$)",
)

__all__ = ["PUBLIC", "STATIC_DIR", "pages_router"]
