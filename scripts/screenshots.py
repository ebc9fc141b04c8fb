"""Takes the screenshots docs/interface.md shows: the main pages at 1280 and 390 px.

    .venv/bin/python scripts/screenshots.py [docs/images]

Over a fresh SQLite store with the demo customers, the site served by uvicorn in a
thread, in the system's headless Chromium (/usr/bin/chromium; Playwright downloads
nothing). Run it again after changing a page's look.
"""

from __future__ import annotations

import csv
import io
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

import uvicorn
from argon2 import PasswordHasher
from playwright.sync_api import Page, sync_playwright

from customer_ledger import CustomerLedger
from customer_ledger.cli.main import main as cli
from customer_ledger.domain.access import Actor
from customer_ledger.web.site import create_site

WIDTHS = (1280, 390)
SHEET = Path(__file__).parent.parent / "tests" / "fixtures" / "register.csv"


def serve(url: str) -> tuple[str, uvicorn.Server]:
    ledger = CustomerLedger.open(url)
    ledger.users.hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    for name, role in (("wang", "sales"), ("zhao", "auditor"), ("admin", "admin")):
        password = f"{name} password"
        ledger.users.add(name, role=role, password_text=password, by=Actor("root", "admin"))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(create_site(ledger), host="127.0.0.1", port=port, log_level="warning")
    )
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.02)
    return f"http://127.0.0.1:{port}", server


def bad_sheet(folder: Path) -> Path:
    """The fixture register with a fourth customer whose satisfaction score is 9."""
    rows = list(csv.reader(io.StringIO(SHEET.read_text("utf-8-sig"))))
    bad = list(rows[1])
    bad[0] = "D004"
    bad[rows[0].index("满意度评分")] = "9"
    path = folder / "register.csv"
    with path.open("w", encoding="utf-8", newline="") as out:
        csv.writer(out).writerows([*rows, bad])
    return path


def log_in(page: Page, name: str) -> None:
    page.goto("/login")
    page.fill("#name", name)
    page.fill("#password", f"{name} password")
    page.click("button[type=submit]")
    page.wait_for_selector("#me")


def main(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as work:
        url = f"sqlite:///{work}/ledger.db"
        assert cli(["--store", url, "demo"]) == 0
        twin = ["--store", url, "first-contact", "W009", "--name", "ABC公司", "--type", "company",
                "--allow-duplicate"]  # fmt: skip
        assert cli(twin) == 0  # a likely duplicate of W001, for the duplicates page
        base, server = serve(url)
        shots = [
            ("login", None, "/login", None),
            ("customers", "wang", "/customers", None),
            ("customer", "wang", "/customers/B002", None),
            ("form-error", "wang", "/customers/A001/do/rate_satisfaction", "score"),
            ("status", "wang", "/status?as_of=2023-10-25", None),
            ("replay", "wang", "/customers/B002/replay?as_of=2023-10-12", None),
            ("analytics", "wang", "/analytics?as_of=2023-10-25", None),
            ("import", "wang", "/import", "sheet"),
            ("duplicates", "admin", "/duplicates", None),
            ("audit", "zhao", "/audit", None),
            ("users", "admin", "/users", None),
        ]
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", headless=True)
            for width in WIDTHS:
                context = browser.new_context(
                    base_url=base, viewport={"width": width, "height": 860}, device_scale_factor=1
                )
                page = context.new_page()
                who = None
                for name, user, path, bad_field in shots:
                    if user != who:
                        context.clear_cookies()
                        if user is not None:
                            log_in(page, user)
                        who = user
                    answer = page.goto(path)
                    assert answer is not None and answer.ok, (path, answer and answer.status)
                    if bad_field == "sheet":  # the fixture register: a dry run's report
                        page.set_input_files("#i-file", str(bad_sheet(Path(work))))
                        page.click("form.narrow button[type=submit]")
                        page.wait_for_selector("#report")
                    elif bad_field:
                        page.fill(f"#f-{bad_field}", "9")
                        page.click("form.command button[type=submit]")
                        page.wait_for_selector(".field.invalid")
                    shot = folder / f"{name}-{width}.png"
                    page.screenshot(path=str(shot), full_page=width < 1000)
                context.close()
            browser.close()
        server.should_exit = True


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/images"))
