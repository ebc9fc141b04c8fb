"""``customer-ledger serve [--host 127.0.0.1] [--port 8000]``: pages and API, by uvicorn.

The server opens the store for writing (requests record as their users) and serves
``customer_ledger.web.site.create_site`` (the pages and the API) on it until stopped
(Ctrl-C). Users come from ``customer-ledger users add``; docs/api.md describes the API,
docs/interface.md the pages.
"""

from __future__ import annotations

import argparse
import os

from customer_ledger.application.ledger import CustomerLedger
from customer_ledger.cli.output import ENV_STORE, EXIT_OK, console
from customer_ledger.cli.registry import Group
from customer_ledger.errors import InvalidValue
from customer_ledger.storage.urls import FOLLOWED_ENV, REPLICA_ENV

group = Group("serving: the HTTP API")


def _configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port to listen on (8000)")
    parser.add_argument(
        "--secure-cookies", action="store_true",
        help="mark the session cookie Secure (when served over HTTPS, e.g. behind a proxy)",
    )  # fmt: skip
    parser.add_argument(
        "--workers", type=int, default=1,
        help="worker processes, each with its own ledger (default 1; login throttles are "
        "per worker)",
    )  # fmt: skip


@group.command("serve", "serve the JSON API (and its pages) over HTTP until stopped", _configure)
def run_serve(ledger: CustomerLedger, args: argparse.Namespace) -> int:
    # The web stack (Litestar, Jinja2, uvicorn) is imported by the one command that serves:
    # it was half of every other command's start-up (issue 17).
    import uvicorn

    from customer_ledger.web.app import SECURE_COOKIES_ENV
    from customer_ledger.web.site import create_site

    if args.workers < 1:
        raise InvalidValue("--workers must be 1 or more")
    users = len(ledger.users.store.list())
    console(stderr=True).print(
        f"serving {ledger.url.shown} at http://{args.host}:{args.port}/ (the pages; the API "
        f"at /api) "
        f"({users} users; add one with: customer-ledger users add NAME --role ROLE "
        "--password-stdin)",
        soft_wrap=True,
    )
    if args.workers == 1:
        app = create_site(ledger, secure_cookies=args.secure_cookies)
        uvicorn.run(app, host=args.host, port=args.port, log_level="info")
        return EXIT_OK
    # Workers are processes: each opens the store itself, by its URL.
    os.environ[ENV_STORE] = ledger.url.raw
    if ledger.replica is not None:
        os.environ[REPLICA_ENV] = ledger.replica.url.raw
    os.environ[FOLLOWED_ENV] = "" if ledger.catch_up else "1"
    os.environ[SECURE_COOKIES_ENV] = "1" if args.secure_cookies else ""
    uvicorn.run(
        "customer_ledger.web.site:from_environment", factory=True, workers=args.workers,
        host=args.host, port=args.port, log_level="info",
    )  # fmt: skip
    return EXIT_OK
