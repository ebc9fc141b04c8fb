"""``create_site(ledger)``: the management interface's pages and the JSON API together.

The API stays exactly ``create_app``'s, under ``/api``; the pages are served at the
root, with htmx and the stylesheet at ``/static`` (package data). This is what
``customer-ledger serve`` runs.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from litestar import Litestar

from customer_ledger.application.ledger import CustomerLedger
from customer_ledger.storage.urls import replica_url, views_followed
from customer_ledger.web.app import SECURE_COOKIES_ENV, create_app
from customer_ledger.web.attachments import Files, folder_for
from customer_ledger.web.pages import PUBLIC, STATIC_DIR, pages_router


def create_site(
    ledger: CustomerLedger, *, attachments: str | Path | None = None, **options: Any
) -> Litestar:
    """``create_app(ledger, **options)`` with the pages (see ``web.pages``); attached
    files are kept in ``attachments`` (default: ``web.attachments.folder_for``)."""
    options.setdefault("static_dir", STATIC_DIR)
    app = create_app(ledger, routes=[pages_router()], public=PUBLIC, **options)
    app.state.files = Files(Path(attachments) if attachments else folder_for(ledger.url))
    return app


def from_environment() -> Litestar:
    """The site over ``$CUSTOMER_LEDGER_STORE``: each uvicorn worker's factory."""
    return create_site(
        CustomerLedger.open(replica=replica_url(), catch_up=not views_followed()),
        secure_cookies=os.environ.get(SECURE_COOKIES_ENV, "") == "1",
    )


__all__ = ["create_site", "from_environment"]
