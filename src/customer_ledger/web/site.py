"""``create_site(ledger)``: the management interface's pages and the JSON API together.

The API stays exactly ``create_app``'s, under ``/api``; the pages are served at the
root, with htmx and the stylesheet at ``/static`` (package data). This is what
``customer-ledger serve`` runs.
"""

from __future__ import annotations

import os
from typing import Any

from litestar import Litestar

from customer_ledger.application.ledger import CustomerLedger
from customer_ledger.web.app import SECURE_COOKIES_ENV, create_app
from customer_ledger.web.pages import PUBLIC, STATIC_DIR, pages_router


def create_site(ledger: CustomerLedger, **options: Any) -> Litestar:
    """``create_app(ledger, **options)`` with the pages (see ``web.pages``)."""
    options.setdefault("static_dir", STATIC_DIR)
    return create_app(ledger, routes=[pages_router()], public=PUBLIC, **options)


def from_environment() -> Litestar:
    """The site over ``$CUSTOMER_LEDGER_STORE``: each uvicorn worker's factory."""
    return create_site(
        CustomerLedger.open(),
        secure_cookies=os.environ.get(SECURE_COOKIES_ENV, "") == "1",
    )


__all__ = ["create_site", "from_environment"]
