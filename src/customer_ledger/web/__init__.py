"""The HTTP front end: an ASGI app (Litestar) serving the JSON API under ``/api``.

``create_app(ledger)`` builds it; ``customer-ledger serve`` runs it with uvicorn. Like
the CLI, it parses, calls the ledger as the request's user and prints JSON: no business
logic of its own (docs/api.md).
"""
