"""``customer-ledger serve [--host 127.0.0.1] [--port 8000]``: the HTTP API, by uvicorn.

The server opens the store for writing (requests record as their users) and serves
``customer_ledger.web.create_app`` on it until stopped (Ctrl-C). Users come from
``customer-ledger users add``; docs/api.md describes the API.
"""

from __future__ import annotations

import argparse

from customer_ledger.application.ledger import CustomerLedger
from customer_ledger.cli.output import EXIT_OK, console
from customer_ledger.cli.registry import Group
from customer_ledger.web.app import create_app

group = Group("serving: the HTTP API")


def _configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port to listen on (8000)")
    parser.add_argument(
        "--secure-cookies", action="store_true",
        help="mark the session cookie Secure (when served over HTTPS, e.g. behind a proxy)",
    )  # fmt: skip


@group.command("serve", "serve the JSON API (and its pages) over HTTP until stopped", _configure)
def run_serve(ledger: CustomerLedger, args: argparse.Namespace) -> int:
    import uvicorn

    app = create_app(ledger, secure_cookies=args.secure_cookies)
    users = len(ledger.users.store.list())
    console(stderr=True).print(
        f"serving {ledger.url.shown} at http://{args.host}:{args.port}/api "
        f"({users} users; add one with: customer-ledger users add NAME --role ROLE "
        "--password-stdin)",
        soft_wrap=True,
    )
    uvicorn.run(app, host=args.host, port=args.port, log_level="info")
    return EXIT_OK
