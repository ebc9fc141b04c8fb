"""The management pages in a real browser: the system's Chromium (headless, never a
downloaded one) driven by Playwright, against ``customer-ledger serve``'s site run by
uvicorn in a thread on a free port, on SQLite and PostgreSQL, over the demo customers.

Each test is a user's errand: log in, add a customer, log an interaction and find it
on the timeline, double-click a submit, see a rule's error beside its field, be an
auditor who cannot record or unmask, show a phone with a reason and find the read in
the audit log, watch a write from the command line arrive on an open page, import a
sheet with a bad row, look at a customer before its complaint was resolved.
"""

from __future__ import annotations

import socket
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
import uvicorn
from customer_ledger_postgres.testing import SMALL_POOLS, with_options, with_prefix
from playwright.sync_api import Browser, Page, expect, sync_playwright
from psycopg import sql
from test_pages import register_with_a_bad_row
from web_support import CHEAP, ROLES, ROOT

from customer_ledger import CustomerLedger
from customer_ledger.cli.main import main as cli
from customer_ledger.domain.values import Stage
from customer_ledger.web.site import create_site

CHROMIUM = "/usr/bin/chromium"  # scripts/install.sh puts it there; Playwright's is never fetched


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        yield browser
        browser.close()


class Server:
    """The site over a store, served by uvicorn in a thread until ``stop()``."""

    def __init__(self, url: str, attachments: Path) -> None:
        self.store = url
        assert cli(["--store", url, "demo"]) == 0  # the five demo customers, as the CLI does
        self.ledger = CustomerLedger.open(url)
        self.ledger.users.hasher = CHEAP
        for role in ROLES:
            self.ledger.users.add(role, role=role, password_text=f"{role} password", by=ROOT)
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        config = uvicorn.Config(
            create_site(self.ledger, secret=b"k" * 32, attachments=attachments),
            host="127.0.0.1", port=self.port,
            log_level="warning", lifespan="off",
        )  # fmt: skip
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.02)
        self.base = f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        self.ledger.close()

    def events(self, number: str) -> list[str]:
        return [type(e).__name__ for e in self.ledger.history(number)]


@pytest.fixture(scope="module", params=("sqlite", "postgresql"))
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """One server per backend for the whole module (the tests touch different
    customers): the demo and the server start once, not once a test."""
    prefix = None
    folder = tmp_path_factory.mktemp("site")
    if request.param == "sqlite":
        url = f"sqlite:///{folder}/ledger.db"
    else:
        database = str(request.getfixturevalue("postgres_database"))
        prefix = f"t_{uuid.uuid4().hex[:12]}"
        url = with_options(with_prefix(database, prefix), SMALL_POOLS)
    running = Server(url, folder / "attachments")
    yield running
    running.stop()
    if prefix is not None:
        with psycopg.connect(database, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(prefix)))


@pytest.fixture
def page(browser: Browser, server: Server) -> Iterator[Page]:
    SERVING[0] = server.base
    context = browser.new_context(base_url=server.base, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(5000)
    errors: list[str] = []
    page = context.new_page()
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    yield page
    context.close()
    assert not [e for e in errors if "Content Security Policy" in e or "Refused" in e], errors


SESSIONS: dict[tuple[str, str], list[Any]] = {}  # (server, role): the session cookie
SERVING = [""]  # the base URL of the server the current test's page talks to


def log_in(page: Page, role: str) -> None:
    """Through the login page the first time a role logs in on a server; after that
    with the session cookie it was given (the suite stays under a minute)."""
    key = (SERVING[0], role)
    if key in SESSIONS:
        page.context.add_cookies(SESSIONS[key])
        page.goto("/customers")
        expect(page.locator("#me")).to_have_text(role)
        return
    page.goto("/customers")
    page.get_by_label("用户名").fill(role)
    page.get_by_label("密码").fill(f"{role} password")
    page.get_by_role("button", name="登录").click()
    expect(page.locator("#me")).to_have_text(role)
    SESSIONS[key] = list(page.context.cookies())


def test_log_in_add_a_customer_and_log_an_interaction(page: Page, server: Server) -> None:
    log_in(page, "sales")
    expect(page.locator("h1")).to_have_text("客户")
    customers = server.ledger.board().stages[Stage.CUSTOMER]
    expect(page.locator('a[data-stage="customer"] strong')).to_have_text(str(customers))
    page.get_by_role("link", name="新建客户").click()
    page.locator("#f-customer").fill("K001")
    page.locator("#f-name").fill("王五")
    page.locator("#f-type").select_option("individual")
    page.get_by_role("button", name="记录").click()
    expect(page.locator("#number")).to_have_text("K001")
    expect(page.get_by_role("status")).to_have_text("已记录。")
    page.get_by_role("link", name="记录互动").first.click()  # the button at the top
    page.locator("#f-channel").select_option("wechat")
    page.locator("#f-topic").fill("询问报价")
    page.get_by_role("button", name="记录").click()
    expect(page.locator("#timeline li").first).to_contain_text("询问报价")
    expect(page.locator("#timeline li").first).to_contain_text("sales")
    assert server.events("K001") == ["FirstContacted", "InteractionLogged"]
    page.goto("/customers?lang=en&text=K001")
    expect(page.locator("h1")).to_have_text("Customers")
    expect(page.locator("tbody tr")).to_have_count(1)


def test_a_double_click_records_once(page: Page, server: Server) -> None:
    log_in(page, "sales")
    page.goto("/customers/C003/do/tag")
    page.locator("#f-tag").fill("展会")
    page.get_by_role("button", name="记录").dblclick()
    expect(page.locator("#tags")).to_contain_text("展会")
    assert server.events("C003").count("Tagged") == 1


def test_a_rule_error_is_shown_beside_its_field(page: Page, server: Server) -> None:
    log_in(page, "sales")
    before = server.events("A001")
    page.goto("/customers/A001/do/rate_satisfaction")
    page.locator("#f-score").fill("9")
    page.get_by_role("button", name="记录").click()
    field = page.locator(".field.invalid")
    expect(field).to_have_count(1)
    expect(field.locator("label")).to_contain_text("score")
    expect(field.get_by_role("alert")).to_contain_text("satisfaction_out_of_range")
    expect(page.locator("#f-score")).to_have_value("9")
    assert server.events("A001") == before


def test_an_auditor_cannot_record_nor_see_unmasked_phones(page: Page, server: Server) -> None:
    log_in(page, "auditor")
    page.goto("/customers/A001")
    expect(page.locator("#contacts .phone").first).to_contain_text("****")
    expect(page.get_by_role("button", name="显示完整信息")).to_have_count(0)
    expect(page.locator("aside .actions a")).to_have_count(0)
    page.goto("/customers/A001/do/tag")
    page.locator("#f-tag").fill("x")
    page.get_by_role("button", name="记录").click()
    expect(page.get_by_role("alert")).to_contain_text("permission_denied")
    assert "Tagged" not in server.events("A001")


def test_show_phone_is_in_the_audit_log_once_after_a_reload(page: Page, server: Server) -> None:
    add = ["--store", server.store, "add-contact", "A001", "--contact-id", "A001-9",
           "--name", "王五", "--phone", "13912345678"]  # fmt: skip
    assert cli(add) == 0
    log_in(page, "sales")
    page.goto("/customers/A001")
    phone = page.locator("#contacts tr", has_text="A001-9").locator(".phone")
    expect(phone).to_have_text("139****5678")
    page.get_by_label("查看原因").fill("回访确认联系方式")
    page.get_by_role("button", name="显示完整信息").click()
    expect(phone).to_have_text("13912345678")
    expect(page.locator("#unmasked")).to_be_focused()  # a keyboard user is told, not lost
    assert page.url.endswith("/customers/A001")  # (no form result to send again)
    page.reload()  # shows the masked page again, and records nothing more
    expect(phone).to_have_text("139****5678")
    page.get_by_role("link", name="审计").click()
    row = page.locator("#audit tr", has_text="回访确认联系方式")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("sales")


def test_a_cli_write_appears_on_an_open_page_within_two_seconds(page: Page, server: Server) -> None:
    log_in(page, "sales")
    page.goto("/customers/W001")
    expect(page.locator("#timeline")).not_to_contain_text("电话回访续约")
    argv = ["--store", server.store, "--actor", "li", "--role", "sales", "log-interaction",
            "W001", "--channel", "phone", "--topic", "电话回访续约"]  # fmt: skip
    assert cli(argv) == 0
    written = time.monotonic()
    expect(page.locator("#timeline li").first).to_contain_text("电话回访续约", timeout=2000)
    assert time.monotonic() - written < 2.0
    expect(page.locator("#timeline li").first).to_contain_text("li")


def test_a_new_customer_from_elsewhere_appears_on_the_open_list(page: Page, server: Server) -> None:
    log_in(page, "sales")
    before = page.locator('a[data-stage="lead"] strong').inner_text()
    argv = ["--store", server.store, "--actor", "li", "first-contact", "L777", "--name",
            "远方公司", "--type", "company"]  # fmt: skip
    assert cli(argv) == 0
    expect(page.locator("tbody")).to_contain_text("L777", timeout=2500)  # a 2 s poll
    expect(page.locator('a[data-stage="lead"] strong')).to_have_text(str(int(before) + 1))


def test_a_sheet_with_a_bad_row_imported_through_the_page(
    page: Page, server: Server, tmp_path: Path
) -> None:
    sheet = tmp_path / "register.csv"
    sheet.write_bytes(register_with_a_bad_row())
    log_in(page, "manager")
    page.get_by_role("link", name="导入").click()
    page.get_by_label("文件").set_input_files(str(sheet))
    page.get_by_role("button", name="检查（试运行）").click()
    expect(page.locator("#failures tbody tr")).to_have_count(1)
    expect(page.locator("#failures tbody tr td").first).to_have_text("3")
    assert "S001" not in list(server.ledger.numbers())
    page.get_by_role("button", name="确认导入").click()
    expect(page.locator("#report h2")).to_have_text("已导入。")
    assert "S001" in list(server.ledger.numbers())
    assert "S002" not in list(server.ledger.numbers())


def test_time_travel_shows_the_stage_before_the_complaint_was_resolved(
    page: Page, server: Server
) -> None:
    log_in(page, "manager")
    page.goto("/customers/B002")
    now = page.locator("#stage").inner_text()
    page.get_by_role("link", name="历史回放").click()
    page.get_by_label("业务日期").fill("2023-10-12")
    page.get_by_role("button", name="查看").click()
    expect(page.locator("#replay-open")).to_have_text("1")
    then = page.locator("#replay-stage").inner_text()
    assert then != now
    page.get_by_label("业务日期").fill("2023-10-20")
    page.get_by_role("button", name="查看").click()
    expect(page.locator("#replay-open")).to_have_text("0")


def test_the_pages_can_be_used_with_the_keyboard(page: Page) -> None:
    page.goto("/login")
    expect(page.locator("#name")).to_be_focused()  # autofocus
    page.keyboard.type("sales")
    page.keyboard.press("Tab")
    page.keyboard.type("sales password")
    page.keyboard.press("Enter")
    expect(page.locator("#me")).to_have_text("sales")
    page.keyboard.press("Tab")
    expect(page.locator(".skip")).to_be_focused()  # first: past the navigation
    page.keyboard.press("Tab")
    expect(page.locator(".brand")).to_be_focused()


def test_an_interaction_is_recorded_with_the_keyboard_alone(page: Page, server: Server) -> None:
    """From a customer's page: Tab to the first button, Enter; the form opens on its
    first field; a choice by arrow key, Tab, typing and Enter record it. A broken rule
    brings the focus back to its field."""
    log_in(page, "sales")
    page.goto("/customers/C003")
    page.locator(".quick a").first.focus()  # (after the skip link and the navigation)
    expect(page.locator(".quick a").first).to_have_text("记录互动")
    page.keyboard.press("Enter")
    expect(page.locator("#f-channel")).to_be_focused()
    page.keyboard.press("ArrowDown")  # the first channel: 电话 phone
    expect(page.locator("#f-channel")).to_have_value("phone")
    page.keyboard.press("Tab")
    expect(page.locator("#f-topic")).to_be_focused()
    page.keyboard.type("键盘回访")
    page.keyboard.press("Enter")
    expect(page.locator("#timeline li").first).to_contain_text("键盘回访")
    page.goto("/customers/C003/do/rate_satisfaction")
    expect(page.locator("#f-score")).to_be_focused()
    page.keyboard.type("9")
    page.keyboard.press("Enter")
    expect(page.locator("#f-score")).to_be_focused()
    expect(page.locator("#e-score")).to_contain_text("满意度须为 1 到 5 分")


def test_attach_a_file_and_download_it_with_a_reason(
    page: Page, server: Server, tmp_path: Path
) -> None:
    scan = tmp_path / "合同扫描.pdf"
    scan.write_bytes(b"%PDF-1.4 contract scan " * 50)
    log_in(page, "sales")
    page.goto("/customers/W002")
    page.get_by_label("上传附件").set_input_files(str(scan))
    page.get_by_role("button", name="上传", exact=True).click()
    expect(page.get_by_role("status")).to_have_text("已记录。")
    expect(page.locator("section[aria-labelledby=h-attachments]")).to_contain_text("合同扫描.pdf")
    form = page.locator("form.download")
    form.get_by_role("textbox").fill("核对合同条款")
    with page.expect_download() as download:
        form.get_by_role("button", name="下载").click()
    assert Path(download.value.path()).read_bytes() == scan.read_bytes()
    assert download.value.suggested_filename == "合同扫描.pdf"
    entries = list(server.ledger.audit_log("W002"))
    assert any(e.why == "核对合同条款" and e.actor == "sales" for e in entries)


def test_a_merge_of_two_records_of_one_company(page: Page, server: Server) -> None:
    twin = ["--store", server.store, "first-contact", "W901", "--name", "ABC公司",
            "--type", "company", "--allow-duplicate"]  # fmt: skip
    assert cli(twin) == 0  # the demo's W001 is ABC公司 too
    log_in(page, "manager")
    page.get_by_role("link", name="疑似重复").click()
    group = page.locator("section.group", has_text="W901")
    expect(group).to_contain_text("W001")
    group.get_by_label("合并", exact=True).select_option("W901")
    group.get_by_label("并入（保留）").select_option("W001")
    group.get_by_label("原因").fill("同一家公司")
    group.get_by_role("button", name="合并").dblclick()
    expect(page.locator("#number")).to_have_text("W001")
    assert server.events("W901")[-1] == "MergedIntoCustomer"
    assert server.events("W001").count("CustomerAbsorbed") == 1


def test_the_main_pages_fit_a_390_px_phone(page: Page) -> None:
    page.set_viewport_size({"width": 390, "height": 800})
    log_in(page, "manager")
    for path in ("/customers", "/customers/B002", "/customers/A001/do/log_interaction",
                 "/status", "/analytics", "/audit", "/import"):  # fmt: skip
        page.goto(path)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, (path, width)  # wide tables scroll inside their own box
