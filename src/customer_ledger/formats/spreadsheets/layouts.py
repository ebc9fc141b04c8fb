"""The two sheet layouts of the source material, their headers, and finding them in a file.

客户关系维护信息登记表 (the *register*) has one row per customer and its latest
interaction; 客户管理工作表 (the *worksheet*) one row per contact person with their
company, interactions and purchases. Headers are matched in Chinese as the material
writes them or in English, ignoring width, case, spaces, a trailing colon and a hint
in brackets after the name, as the templates print them (``header_key``). A file may
start with title rows above its header; a column the layout does not know is refused
(a typo in a header must not silently drop a column).
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Iterator, Sequence
from typing import Any

from attrs import frozen

from customer_ledger.errors import (
    BadCell,
    CellTooLong,
    ControlCharacters,
    FormulaCell,
    MissingColumn,
    UndecodableText,
    UnknownColumn,
    UnknownLayout,
)
from customer_ledger.formats.spreadsheets.reading import Formula, RawRow, RawSheet, cell_text
from customer_ledger.formats.spreadsheets.vocabulary import Lang

MAX_CELL = 4000  # the ledger's longest text field
HEADER_SEARCH_ROWS = 10
FORMULA_TRIGGERS = "=+-@\t\r＝＋－＠"  # OWASP CSV injection, plus full-width forms
NEUTRALISER = "'"


@frozen
class Column:
    field: str
    zh: str  # as the source material writes it
    en: str
    aliases: tuple[str, ...] = ()

    def header(self, lang: Lang) -> str:
        return self.zh if lang is Lang.ZH else self.en

    def names(self) -> tuple[str, ...]:
        return (self.zh, self.en, *self.aliases)


@frozen
class Layout:
    name: str
    title_zh: str
    title_en: str
    columns: tuple[Column, ...]
    required: tuple[tuple[str, ...], ...]  # each inner tuple: at least one of these fields

    def title(self, lang: Lang) -> str:
        return self.title_zh if lang is Lang.ZH else self.title_en

    def headers(self, lang: Lang) -> list[str]:
        return [c.header(lang) for c in self.columns]

    def field_of(self, header: str) -> str | None:
        key = header_key(header)
        return next((c.field for c in self.columns if key in map(header_key, c.names())), None)


REGISTER = Layout(
    name="register",
    title_zh="客户关系维护信息登记表",
    title_en="customer relationship register",
    columns=(
        Column("number", "客户编号", "no.", ("number", "customer number", "客户号", "编号")),
        Column("type", "客户类型", "type", ("customer type",)),
        Column(
            "name",
            "客户姓名/公司名称",
            "name",
            ("客户名称", "客户姓名", "公司名称", "customer name"),
        ),
        Column("basics", "基础信息", "basics", ("basic information", "basic info")),
        Column("interaction_on", "最近互动时间", "last interaction", ("last interaction date",)),
        Column("channel", "最近互动方式", "channel", ("last interaction channel",)),
        Column("content", "最近互动内容", "content", ("last interaction content",)),
        Column("participant", "互动参与人", "by", ("participant",)),
        Column("key_dates", "关键节点记录", "key dates", ("key date notes",)),
        Column("status", "维护状态", "status", ("maintenance status",)),
        Column("needs", "需求与偏好", "needs", ("needs and preferences",)),
        Column("satisfaction", "满意度评分", "satisfaction", ("满意度",)),
        Column("note", "分析备注", "note", ("notes", "备注")),
        Column("registrar", "登记人", "registrar", ()),
        Column("registered_on", "登记日期", "registered", ("registration date",)),
    ),
    required=(("number",), ("name",)),
)

WORKSHEET = Layout(
    name="worksheet",
    title_zh="客户管理工作表",
    title_en="customer worksheet",
    columns=(
        # Not in the material's worksheet: optional, and what keeps numbers stable.
        Column("number", "客户编号", "no.", ("number", "customer number", "客户号")),
        Column("contact", "姓名", "name", ("contact", "联系人")),
        Column("company", "公司", "company", ("公司名称", "单位")),
        Column("title", "职位", "title", ("职务", "position")),
        Column("phone", "电话", "phone", ("联系电话", "手机", "tel")),
        Column("email", "邮箱", "e-mail", ("email", "电子邮件")),
        Column("city", "城市", "city", ("地区", "region")),
        Column("interactions", "互动记录", "interaction", ("interactions",)),
        Column("purchases", "购买历史", "purchase", ("purchases", "purchase history")),
        Column("feedback", "反馈", "feedback", ("客户反馈",)),
        Column("industry", "行业", "industry", ("所属行业",)),
        Column("grade", "分级", "grade", ("客户分级", "等级")),
    ),
    required=(("contact", "company"),),
)

LAYOUTS = {layout.name: layout for layout in (REGISTER, WORKSHEET)}


# A hint the source templates print after a header's name: 满意度评分(1-5分), 电话（手机）,
# 分级[A/B/C] (NFKC has made full-width brackets half-width; 【】 it leaves as they are).
_HINT = re.compile(r"(?:\([^()]*\)|\[[^\[\]]*\]|【[^【】]*】)$")


def header_key(text: str) -> str:
    """The one normalisation every sheet reader matches headers with: NFKC (width),
    no spaces or ``*`` (a required-field marker), no trailing colon, no parenthesised
    hint after the name (the templates print ``基础信息(联系方式/行业/规模)``), case aside.
    Only the name before the hint is matched, so an unknown name is still refused."""
    key = re.sub(r"[\s*]", "", unicodedata.normalize("NFKC", text))
    while True:
        shorter = _HINT.sub("", key.rstrip(":"))
        if shorter == key:
            return key.casefold()
        key = shorter


# -- cells --------------------------------------------------------------------------------


def neutralised(text: str) -> bool:
    """Whether a spreadsheet program would read ``text`` as a formula (OWASP)."""
    stripped = text.lstrip(" \u3000\xa0")
    return bool(stripped) and (stripped[0] in FORMULA_TRIGGERS or text[0] == NEUTRALISER)


def clean_cell(value: Any, column: str) -> str:
    """A cell's text, stripped, with the exporter's formula guard removed; raises a
    ``BadCell`` for formulas, undecodable bytes, control characters, huge cells."""
    if isinstance(value, Formula):
        raise FormulaCell(
            f"a formula ({value.text[:40]}); the importer reads values: paste as values",
            column=column,
        )
    text = cell_text(value)
    if text.startswith(NEUTRALISER) and neutralised(text[1:]):  # before \r\n becomes \n:
        text = text[1:]  # the exporter guarded a cell starting "\r\n" for its "\r"
    text = text.replace("\r\n", "\n")
    if any("\ud800" <= ch <= "\udfff" for ch in text):
        raise UndecodableText(
            "bytes that are not UTF-8 or GBK text (save the file as UTF-8)", column=column
        )
    text = text.strip()
    if len(text) > MAX_CELL:
        raise CellTooLong(f"{len(text)} characters; at most {MAX_CELL}", column=column)
    bad = next((ch for ch in text if _control(ch)), None)
    if bad is not None:
        raise ControlCharacters(f"control character U+{ord(bad):04X}", column=column)
    return text


def _control(ch: str) -> bool:
    return (ord(ch) < 32 and ch not in "\t\n") or ch in "\x7f\ufffe\uffff"


# -- rows ---------------------------------------------------------------------------------


@frozen
class SheetRow:
    """One data row: its number, its non-empty cells by field, and the cells as written."""

    number: int
    values: dict[str, str]
    text: str  # "header: value | ..." as the sheet wrote them, for reasons and evidence
    cells: tuple[tuple[str, str, str], ...] = ()  # (field, header, text) of non-empty cells

    def get(self, field: str) -> str | None:
        return self.values.get(field)

    def text_without(self, fields: set[str]) -> str:
        """The row as text, leaving out these fields' cells (personal data)."""
        return " | ".join(f"{h}: {t}" for f, h, t in self.cells if f not in fields)


@frozen
class Table:
    """A sheet with its layout found: where each column is, and its data rows."""

    source: str
    layout: Layout
    headers: tuple[str, ...]  # as the file writes them
    fields: tuple[str | None, ...]  # the field of each column (None: empty header)
    header_row: int
    sheet: RawSheet
    header_index: int  # the header row's place among the sheet's rows (from 0)
    size: int  # data rows (those after the header), blank ones included

    @property
    def rows(self) -> Iterator[RawRow]:
        """The data rows, still raw, read again from the file (under the same limits)."""
        return itertools.islice(iter(self.sheet.rows), self.header_index + 1, None)

    def row(self, raw: RawRow) -> SheetRow:
        """Cleans a raw row; raises ``BadCell`` naming the first bad cell."""
        if raw.error is not None:
            raise UndecodableText(raw.error)
        values: dict[str, str] = {}
        cells: list[tuple[str, str, str]] = []
        for i, value in enumerate(raw.values):
            field = self.fields[i] if i < len(self.fields) else None
            header = self.headers[i] if i < len(self.headers) else f"column {i + 1}"
            text = clean_cell(value, header)
            if not text:
                continue
            if field is None:
                raise BadCell(f"{text[:40]!r} is in a column without a header", column=header)
            values[field] = text
            cells.append((field, header, text))
        return SheetRow(
            raw.number, values, " | ".join(f"{h}: {t}" for _, h, t in cells), tuple(cells)
        )


def is_blank(raw: RawRow) -> bool:
    """An empty row (skipped, as spreadsheets leave them between blocks)."""
    if raw.error is not None:
        return False
    return all(not isinstance(v, Formula) and not cell_text(v).strip() for v in raw.values)


def find_table(sheet: RawSheet, layout: str = "auto") -> Table:
    """The header row (within the first rows) and the layout it belongs to.

    Reads the whole sheet once, keeping only its first rows: a file that cannot be read
    or is too large (``SheetTooLarge``) is refused here, before a row is imported, and
    the table knows how many data rows follow the header."""
    first: list[RawRow] = []
    size = 0
    for raw in sheet.rows:
        if size < HEADER_SEARCH_ROWS:
            first.append(raw)
        size += 1
    for index, raw in enumerate(first):
        if raw.error is not None:
            continue
        headers = tuple(_header_text(v) for v in raw.values)
        chosen = _choose(headers, layout)
        if chosen is not None:
            return _table(sheet, chosen, headers, raw, index, size - index - 1)
    known = "; ".join(f"{x.name}: {', '.join(x.headers(Lang.ZH))}" for x in LAYOUTS.values())
    raise UnknownLayout(f"{sheet.name}: no header row of a known layout ({known})")


def _header_text(value: Any) -> str:
    return "" if isinstance(value, Formula) else cell_text(value).strip()


def _choose(headers: Sequence[str], wanted: str) -> Layout | None:
    candidates = LAYOUTS.values() if wanted == "auto" else [LAYOUTS[wanted]]
    scored = sorted(
        ((sum(x.field_of(h) is not None for h in headers if h), x) for x in candidates),
        key=lambda pair: -pair[0],
    )
    if not scored or scored[0][0] < 2:
        return None
    if len(scored) > 1 and scored[0][0] == scored[1][0]:
        raise UnknownLayout(
            f"the header fits the {scored[0][1].name} and {scored[1][1].name} layouts "
            "equally; choose one with --layout"
        )
    return scored[0][1]


def _table(
    sheet: RawSheet, layout: Layout, headers: tuple[str, ...], raw: RawRow, index: int, size: int
) -> Table:
    fields = tuple(layout.field_of(h) if h else None for h in headers)
    unknown = [h for h, f in zip(headers, fields, strict=True) if h and f is None]
    if unknown:
        raise UnknownColumn(
            f"{sheet.name}: the {layout.name} layout has no column {', '.join(map(repr, unknown))}"
            f"; its columns are {', '.join(layout.headers(Lang.ZH))} (or in English: "
            f"{', '.join(layout.headers(Lang.EN))})"
        )
    seen = [f for f in fields if f]
    twice = sorted({f for f in seen if seen.count(f) > 1})
    if twice:
        raise UnknownColumn(f"{sheet.name}: more than one column for {', '.join(twice)}")
    for group in layout.required:
        if not set(group) & set(seen):
            names = " or ".join(c.zh for c in layout.columns if c.field in group)
            raise MissingColumn(f"{sheet.name}: the {layout.name} layout needs a {names} column")
    return Table(sheet.name, layout, headers, fields, raw.number, sheet, index, size)
