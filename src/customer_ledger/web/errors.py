"""Every error as JSON naming its rule: ``{"error": rule, "message": ...}``.

Statuses by family: 401 not authenticated (429 throttled), 403 ``permission_denied``
(and CSRF), 404 unknown customer or user, 409 conflicts and ``command_id_reused``, 413
too large, 422 broken rules and bad values, 503 a failing store. Anything else is a
bug: logged with its traceback, answered 500 without one.
"""

from __future__ import annotations

import logging
from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException

from customer_ledger.errors import (
    CommandIdReused,
    ConcurrencyConflict,
    CorruptEvent,
    DuplicateCustomerNumber,
    KeyProblem,
    LedgerError,
    NotAuthenticated,
    PermissionDenied,
    ReadOnlyLedger,
    RequestTooLarge,
    SheetTooLarge,
    StoreDamaged,
    StoreError,
    TooManyAttempts,
    UnknownCustomer,
    UnknownUser,
    UserExists,
)

logger = logging.getLogger(__name__)

STATUS: tuple[tuple[type[LedgerError], int], ...] = (
    (TooManyAttempts, 429),
    (NotAuthenticated, 401),
    (ReadOnlyLedger, 403),
    (PermissionDenied, 403),
    (UnknownCustomer, 404),
    (UnknownUser, 404),
    (ConcurrencyConflict, 409),
    (CommandIdReused, 409),
    (DuplicateCustomerNumber, 409),
    (UserExists, 409),
    (RequestTooLarge, 413),
    (SheetTooLarge, 413),
    (CorruptEvent, 500),  # the store is damaged: not the caller's input
    (KeyProblem, 500),
    (StoreDamaged, 500),  # the store holds what its database cannot read
    (StoreError, 503),
)

HTTP_RULES = {
    400: "bad_request",
    401: NotAuthenticated.rule,
    403: PermissionDenied.rule,
    404: "not_found",
    405: "method_not_allowed",
    413: RequestTooLarge.rule,
    415: "unsupported_media_type",
    429: TooManyAttempts.rule,
}


def status_of(error: LedgerError) -> int:
    for family, status in STATUS:
        if isinstance(error, family):
            return status
    return 422  # a broken rule or a bad value


def error_response(status: int, rule: str, message: str) -> Response[dict[str, str]]:
    headers = {}
    if status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="customer-ledger", charset="UTF-8"'
    return Response({"error": rule, "message": message}, status_code=status, headers=headers)


def ledger_error(request: Request[Any, Any, Any], error: LedgerError) -> Response[object]:
    status = status_of(error)
    response = error_response(status, error.rule, str(error) or error.rule)
    if isinstance(error, TooManyAttempts):
        response.headers["Retry-After"] = str(error.retry_after)
    if status >= 500:
        logger.error("%s %s: %s", request.method, request.url.path, error, exc_info=error)
    return response  # type: ignore[return-value]


def http_error(request: Request[Any, Any, Any], error: HTTPException) -> Response[object]:
    status = error.status_code
    if isinstance(error, ValidationException):  # a query or path value of the wrong type
        return error_response(422, "invalid_value", str(error.detail))  # type: ignore[return-value]
    if status >= 500:
        logger.error("%s %s failed", request.method, request.url.path, exc_info=error)
        return error_response(500, "internal_error", "the server failed; see its log")  # type: ignore[return-value]
    return error_response(status, HTTP_RULES.get(status, "http_error"), str(error.detail))  # type: ignore[return-value]


def internal_error(request: Request[Any, Any, Any], error: Exception) -> Response[object]:
    """A bug: the traceback goes to the log, never to the caller."""
    logger.error("%s %s failed", request.method, request.url.path, exc_info=error)
    return error_response(500, "internal_error", "the server failed; see its log")  # type: ignore[return-value]
