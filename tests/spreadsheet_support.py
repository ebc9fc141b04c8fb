"""Shared by the spreadsheet tests: the example sheets, writing sheets, a ledger on each
backend, and strategies for valid register and worksheet rows."""

from __future__ import annotations

import csv
import io
import struct
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, timedelta
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import pytest
from customer_ledger_postgres.testing import (  # noqa: F401 - pytest fixtures
    fresh_store_url,
    postgres_database,
    postgres_url_factory,
)
from hypothesis import strategies as st
from openpyxl import Workbook
from strategies import FIXED_NOW, fixed_clock

from customer_ledger import CustomerLedger
from customer_ledger.formats.spreadsheets.layouts import REGISTER, WORKSHEET
from customer_ledger.formats.spreadsheets.vocabulary import Lang

FIXTURES = Path(__file__).parent / "fixtures"
REGISTER_ZH = REGISTER.headers(Lang.ZH)
WORKSHEET_ZH = WORKSHEET.headers(Lang.ZH)[1:]  # the material's worksheet has no 客户编号
BACKENDS = ("memory", "sqlite", "postgres")
TODAY = FIXED_NOW.date()

Rows = Sequence[Sequence[Any]]


def write_csv(path: Path, rows: Rows, encoding: str = "utf-8-sig") -> Path:
    with open(path, "w", encoding=encoding, newline="", errors="surrogateescape") as f:
        csv.writer(f).writerows(rows)
    return path


def write_xlsx(path: Path, rows: Rows) -> Path:
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(list(row))
    book.save(path)
    return path


def register_row(**cells: str) -> list[str]:
    """A register row in REGISTER_ZH's order from ``field=value`` (others empty)."""
    return [cells.get(c.field, "") for c in REGISTER.columns]


def worksheet_row(**cells: str) -> list[str]:
    return [cells.get(c.field, "") for c in WORKSHEET.columns[1:]]


def store_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return fresh_store_url(backend, request, tmp_path, pool="&pool_size=2&max_overflow=2")


@pytest.fixture(params=BACKENDS)
def each_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[CustomerLedger]:
    """An empty ledger on memory, SQLite and PostgreSQL; its clock says FIXED_NOW."""
    ledger = CustomerLedger.open(store_url(request.param, request, tmp_path), clock=fixed_clock)
    yield ledger
    ledger.close()


def events(ledger: CustomerLedger) -> int:
    return ledger.recorder.max_notification_id() or 0


def memory_ledger() -> CustomerLedger:
    return CustomerLedger.open("memory://", clock=fixed_clock)


# -- valid rows, for properties --------------------------------------------------------------

# Text the layouts carry as is: no separators, brackets or quotes, not a date, a phone,
# an amount or a channel, status or type word (which the importer would read as such).
WORDS = st.sampled_from(
    ["咨询", "报价", "售后", "质量", "培训", "续约", "方案", "演示", "物流", "安装",
     "pricing", "renewal", "training", "support", "demo", "upgrade"]
)  # fmt: skip
text = st.lists(WORDS, min_size=1, max_size=3).map("".join)
names = st.lists(st.sampled_from("王李张刘陈杨赵黄周吴"), min_size=2, max_size=3).map("".join)
companies = st.builds(
    lambda a, b: f"{a}{b}有限公司", names, st.sampled_from(["科技", "贸易", "制造"])
)
days = st.dates(min_value=date(2019, 1, 1), max_value=TODAY - timedelta(days=2))
amounts = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("99999"), places=2)
mobiles = st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True)
channels_zh = st.sampled_from(["电话", "上门拜访", "邮件", "微信", "会议"])
statuses_zh = st.sampled_from(["潜在", "活跃", "风险预警", "流失"])


@st.composite
def register_rows(draw: st.DrawFn, number: str) -> list[str]:
    """A valid register row (Chinese), dated before FIXED_NOW."""
    company = draw(st.booleans())
    # (a company's name is its own: two of one name would be a likely duplicate)
    name = (
        number + draw(companies)
        if company
        else draw(names) + draw(st.sampled_from(["先生", "女士"]))
    )
    interaction = draw(days)
    registered = min(interaction + timedelta(days=draw(st.integers(0, 3))), TODAY)
    notes = [f"首次接触{draw(days)}"] if draw(st.booleans()) else []
    if draw(st.booleans()):
        notes.append(f"{draw(days)}签订{draw(st.sampled_from(['', '年度', '两年']))}合同")
    if draw(st.booleans()):
        filed = draw(days)
        note = f"{filed}投诉：{draw(text)}"
        if draw(st.booleans()):
            resolved = min(filed + timedelta(days=draw(st.integers(0, 30))), TODAY - timedelta(1))
            note += f"，{resolved}解决"
        notes.append(note)
    if draw(st.booleans()):
        notes.append(f"{draw(days)}购买{draw(text)}，{draw(amounts)}元")
    second = draw(st.sampled_from(["100-500人", "50人"])) if company else draw(text)
    return register_row(
        number=number,
        type="企业客户" if company else draw(st.sampled_from(["个人客户", "潜在客户"])),
        name=name,
        basics=f"{draw(mobiles)}，{draw(text)}行业，{second}",
        interaction_on=interaction.isoformat(),
        channel=draw(channels_zh),
        content=draw(text),
        participant=draw(st.sampled_from(["", "*经理", "*主管"])),
        key_dates="；".join(notes),
        status=draw(statuses_zh),
        needs=draw(st.one_of(st.just(""), text)),
        satisfaction=draw(st.sampled_from(["", "1", "2", "3", "4", "5"])),
        note=draw(st.one_of(st.just(""), text)),
        registrar=draw(st.sampled_from(["*助理", "*专员"])),
        registered_on=registered.isoformat(),
    )


def company_of(row: list[str]) -> object:
    """A worksheet row's company, or (none) the row itself: rows of one list drawn
    ``unique_by`` it name each company once, as a likely duplicate is refused."""
    company = row[[c.field for c in WORKSHEET.columns[1:]].index("company")]
    return company or id(row)


@st.composite
def worksheet_rows(draw: st.DrawFn) -> list[str]:
    """A valid worksheet row (Chinese)."""
    interactions = [
        f"{draw(days)}{draw(channels_zh)}沟通，{draw(text)}" for _ in range(draw(st.integers(0, 3)))
    ]
    purchases = [
        f"{draw(days)}购买{draw(text)}，{draw(amounts)}元" for _ in range(draw(st.integers(0, 2)))
    ]
    return worksheet_row(
        contact=draw(names),
        company=draw(st.one_of(st.just(""), companies)),
        title=draw(st.sampled_from(["", "经理", "总监"])),
        phone=draw(st.one_of(st.just(""), mobiles)),
        email=draw(st.sampled_from(["", "a@example.com", "sales@example.cn"])),
        city=draw(st.sampled_from(["", "北京市", "上海市"])),
        interactions="；".join(interactions),
        purchases="；".join(purchases),
        feedback=draw(st.one_of(st.just(""), text)) if interactions else "",
        industry=draw(st.one_of(st.just(""), text.map(lambda t: t + "业"))),
        grade=draw(st.sampled_from(["", "A", "B", "C"])),
    )


# -- hostile workbooks, built with zipfile ----------------------------------------------------

SHEET_XML = "xl/worksheets/sheet1.xml"
MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def cell_xml(reference: str, text: str) -> bytes:
    return f'<c r="{reference}" t="inlineStr"><is><t>{escape(text)}</t></is></c>'.encode()


def row_xml(number: int, *cells: str) -> bytes:
    """``<row r="N">`` holding text cells from column A on."""
    letters = [chr(ord("A") + i) for i in range(26)]
    inner = b"".join(cell_xml(f"{letters[i]}{number}", text) for i, text in enumerate(cells))
    return f'<row r="{number}">'.encode() + inner + b"</row>"


def write_xlsx_xml(
    path: Path, rows: Iterable[bytes], *, dimension: str | None = None, level: int = 1
) -> Path:
    """A workbook whose first sheet's XML is ``rows`` (XML fragments inside
    ``<sheetData>``), streamed into the archive: nothing of the sheet's size is ever in
    memory, so a few MB of file can hold hundreds of MB of sheet. The other parts are
    openpyxl's for an empty workbook."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as archive:
        for name, data in _empty_workbook().items():
            if name != SHEET_XML:
                archive.writestr(name, data)
        with archive.open(SHEET_XML, "w") as sheet:
            sheet.write(f'<worksheet xmlns="{MAIN_NS}">'.encode())
            if dimension is not None:
                sheet.write(f'<dimension ref="{dimension}"/>'.encode())
            sheet.write(b"<sheetData>")
            for fragment in rows:
                sheet.write(fragment)
            sheet.write(b"</sheetData></worksheet>")
    return path


@cache
def _empty_workbook() -> dict[str, bytes]:
    buffer = io.BytesIO()
    Workbook().save(buffer)
    with zipfile.ZipFile(buffer) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def declare_size(path: Path, member: str, size: int) -> None:
    """Makes the archive's central directory say ``member`` unpacks to ``size`` bytes
    (the lie a zip bomb tells); the data stays as it is."""
    data = bytearray(path.read_bytes())
    end = data.rindex(b"PK\x05\x06")  # the end of central directory record (no comment)
    entries, _, at = struct.unpack_from("<HII", data, end + 10)
    for _ in range(entries):
        name, extra, comment = struct.unpack_from("<HHH", data, at + 28)
        if bytes(data[at + 46 : at + 46 + name]) == member.encode():
            struct.pack_into("<I", data, at + 24, size)
        at += 46 + name + extra + comment
    path.write_bytes(bytes(data))
