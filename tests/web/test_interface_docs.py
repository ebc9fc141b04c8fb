"""docs/interface.md describes every page the site serves and shows pictures that
exist, at both widths."""

from __future__ import annotations

import re
from pathlib import Path

from customer_ledger.web.pages import pages_router

DOCS = Path(__file__).parent.parent.parent / "docs"
TEXT = (DOCS / "interface.md").read_text("utf-8")


def test_every_picture_shown_is_checked_in() -> None:
    shown = re.findall(r"!\[[^\]]*\]\((images/[^)]+)\)", TEXT)
    assert shown and all((DOCS / path).is_file() for path in shown)
    for name in ("customers", "customer"):
        assert f"images/{name}-390.png" in shown and f"images/{name}-1280.png" in shown


def test_every_page_is_described() -> None:
    documented = {p.split("?")[0] for p in re.findall(r"`(/[a-z0-9/{}_]*)", TEXT)}
    routes = pages_router().routes
    assert len(routes) > 10
    for route in routes:
        path = re.sub(r"\{(\w+):\w+\}", r"{\1}", route.path)
        if path in ("/", "/logout") or path.endswith(("/reveal", "/disable")):
            continue  # the home redirect and the buttons of described pages
        assert path in documented, path
