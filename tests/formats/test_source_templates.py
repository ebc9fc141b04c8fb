"""The source templates as they are printed: headers with their hint text, in half- or
full-width brackets, with stray spaces and a trailing colon, read as the columns they
name; a name the layout does not know is still refused whole."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from spreadsheet_support import (  # noqa: F401
    REGISTER_ZH,
    WORKSHEET_ZH,
    each_store,
    events,
    memory_ledger,
    postgres_database,
    postgres_url_factory,
    write_csv,
)

from customer_ledger import CustomerLedger
from customer_ledger.errors import UnknownColumn
from customer_ledger.formats.jsonl import import_lines
from customer_ledger.formats.spreadsheets.importing import import_sheet
from customer_ledger.formats.spreadsheets.layouts import LAYOUTS, REGISTER, WORKSHEET, header_key

# The register's headers exactly as the source template prints them.
REGISTER_AS_PRINTED = [
    "客户编号",
    "客户类型",
    "客户姓名/公司名称",
    "基础信息(联系方式/行业/规模)",
    "最近互动时间",
    "最近互动方式",
    "最近互动内容",
    "互动参与人",
    "关键节点记录(如签约/投诉/生日)",
    "维护状态",
    "需求与偏好",
    "满意度评分(1-5分)",
    "分析备注",
    "登记人",
    "登记日期",
]
A001 = [
    "A001", "个人客户", "*先生", "1385678，互联网行业，中层管理", "2023-10-20", "电话",
    "询问新产品上线时间", "*经理", "2023-08-15签订年度合同", "活跃", "偏好高效服务", "4",
    "推荐高级套餐", "*助理", "2023-10-20",
]  # fmt: skip

BRACKETS = [("(", ")"), ("（", "）"), ("[", "]"), ("【", "】")]
COLONS = ["", ":", "："]
SPACES = st.text(alphabet=" \u3000\t", max_size=2)
# Hint text: anything printable that is not (and does not NFKC-normalise to) a bracket.
HINT = st.text(
    alphabet=st.characters(
        blacklist_categories=("Cs", "Cc"),
        blacklist_characters="()[]【】（）",
    ).filter(lambda ch: not set(unicodedata.normalize("NFKC", ch)) & set("()[]【】")),
    max_size=12,
)
COLUMNS = [(layout, name, c.field) for layout in LAYOUTS.values() for c in layout.columns
           for name in c.names()]  # fmt: skip


def full_width(text: str, which: list[bool]) -> str:
    """``text`` with the ASCII characters ``which`` picks written full-width (Ａ, ｅ, －)."""
    return "".join(
        chr(ord(ch) + 0xFEE0) if "!" <= ch <= "~" and wide else ch
        for ch, wide in zip(text, which + [False] * len(text), strict=False)
    )


@st.composite
def decorated(draw: st.DrawFn, name: str) -> str:
    """``name`` as people copy a template: widths, case, spaces inside and around, a
    hint in brackets, a trailing colon."""
    name = full_width(name, draw(st.lists(st.booleans(), max_size=len(name))))
    if draw(st.booleans()):
        name = name.upper()
    cut = draw(st.integers(0, len(name)))
    name = name[:cut] + draw(SPACES) + name[cut:]
    hint = ""
    if draw(st.booleans()):
        left, right = draw(st.sampled_from(BRACKETS))
        hint = draw(SPACES) + left + draw(HINT) + right
    return draw(SPACES) + name + hint + draw(SPACES) + draw(st.sampled_from(COLONS)) + draw(SPACES)


@given(st.sampled_from(COLUMNS).flatmap(lambda c: st.tuples(st.just(c), decorated(c[1]))))
def test_any_decoration_of_a_known_header_names_the_same_column(case: tuple[object, str]) -> None:
    (layout, name, field), header = case  # type: ignore[misc]
    assert layout.field_of(header) == field, (name, header)  # type: ignore[attr-defined]
    assert header_key(header) == header_key(name)


@pytest.mark.parametrize(
    ("layout", "header", "field"),
    [
        (REGISTER, "基础信息(联系方式/行业/规模)", "basics"),
        (REGISTER, "关键节点记录(如签约/投诉/生日)", "key_dates"),
        (REGISTER, "满意度评分(1-5分)", "satisfaction"),
        (REGISTER, " 满意度评分 （1-5分）：", "satisfaction"),
        (REGISTER, "*客户编号:", "number"),
        (WORKSHEET, "电话（手机）", "phone"),
        (WORKSHEET, "分级(A/B/C)", "grade"),
        (WORKSHEET, "ｅ－ｍａｉｌ：", "email"),
    ],
)
def test_the_headers_as_the_templates_print_them(layout: object, header: str, field: str) -> None:
    assert layout.field_of(header) == field  # type: ignore[attr-defined]


@pytest.mark.parametrize("header", ["(备注)", "满意度评分2", "电话号码(手机)", "分级：A", "基础"])
def test_a_hint_or_a_colon_does_not_make_an_unknown_name_known(header: str) -> None:
    assert REGISTER.field_of(header) is None and WORKSHEET.field_of(header) is None


def test_the_register_as_printed_imports_like_the_plain_one(
    each_store: CustomerLedger,  # noqa: F811 - the fixture
    tmp_path: Path,
) -> None:
    # given the register with the template's hint text in its headers
    path = write_csv(tmp_path / "printed.csv", [REGISTER_AS_PRINTED, A001])
    # when it is imported
    report = import_sheet(each_store, path)
    # then its row is read as the plain register's
    assert report.ok and report.rows == 1, report.failures
    profile = each_store.profile("A001")
    assert (profile.industry, profile.last_satisfaction) == ("互联网行业", 4)
    assert [c.signed_on.isoformat() for c in profile.contracts] == ["2023-08-15"]


def test_the_worksheet_as_printed_imports(tmp_path: Path) -> None:
    headers = [{"电话": "电话（手机）", "分级": "分级(A/B/C)"}.get(h, h) for h in WORKSHEET_ZH]
    row = ["张三", "ABC公司", "经理", "12345678", "zhangsan@abc.com", "北京市",
           "2023-01-01电话沟通，了解需求", "", "", "制造业", "A"]  # fmt: skip
    ledger = memory_ledger()
    report = import_sheet(ledger, write_csv(tmp_path / "w.csv", [headers, row]))
    assert report.ok, report.failures
    (number,) = ledger.numbers()
    profile = ledger.profile(number)
    assert profile.grade is not None and profile.grade.value == "A"


def test_an_unknown_header_with_a_hint_still_refuses_the_whole_file(tmp_path: Path) -> None:
    ledger = memory_ledger()
    headers = [*REGISTER_AS_PRINTED, "回访计划(下次)"]
    with pytest.raises(UnknownColumn, match="回访计划"):
        import_sheet(ledger, write_csv(tmp_path / "r.csv", [headers, [*A001, "x"]]))
    assert events(ledger) == 0 and REGISTER_ZH[0] == "客户编号"


# -- phones as the files write them -------------------------------------------------------


def stored_phones(ledger: CustomerLedger, number: str) -> list[str | None]:
    return [c.phone for c in ledger.customer(number).contacts.values()]


def test_phones_in_sheet_cells_are_read_in_the_forms_chinese_files_use(
    each_store: CustomerLedger,  # noqa: F811 - the fixture
    tmp_path: Path,
) -> None:
    # given a register whose basics write a landline with brackets and an extension
    b002 = ["B002", "企业客户", "*科技有限公司", "(0512) 6666-1234 转 808，智能制造，100-500人",
            "2023-10-18", "上门拜访", "回访", "*主管", "", "活跃", "", "", "", "*专员",
            "2023-10-19"]  # fmt: skip
    # and a worksheet with a mobile written +86 and full-width
    headers = [{"电话": "电话（手机）"}.get(h, h) for h in WORKSHEET_ZH]
    zhang = ["张三", "ABC公司", "经理", "＋８６ １３８ １２３４ ５６７８", "", "北京市",
             "", "", "", "制造业", ""]  # fmt: skip
    # when both are imported
    for path in (
        write_csv(tmp_path / "r.csv", [REGISTER_AS_PRINTED, b002]),
        write_csv(tmp_path / "w.csv", [headers, zhang]),
    ):
        report = import_sheet(each_store, path)
        assert report.ok, report.failures
    # then the phones are stored in the one form
    assert stored_phones(each_store, "B002") == ["051266661234x808"]
    (w_number,) = [n for n in each_store.numbers() if n.startswith("W")]
    assert stored_phones(each_store, w_number) == ["13812345678"]
    # and the same number spelt otherwise in a later sheet changes nothing
    before = events(each_store)
    zhang[3] = "138-1234-5678"
    report = import_sheet(each_store, write_csv(tmp_path / "w2.csv", [headers, zhang]))
    assert report.ok and events(each_store) == before, report.failures


def test_phones_in_json_lines_are_read_in_the_forms_chinese_files_use() -> None:
    ledger = memory_ledger()
    lines = [
        '{"command": "first_contact", "customer": "D001", "name": "*公司", "type": "company",'
        ' "occurred_at": "2024-01-08"}',
        '{"command": "add_contact", "customer": "D001", "contact_id": "c1", "name": "赵六",'
        ' "phone": "(0512) 6666-1234 分机 808", "occurred_at": "2024-01-09"}',
        '{"command": "add_contact", "customer": "D001", "contact_id": "c2", "name": "钱七",'
        ' "phone": "+86 138 1234 5678", "occurred_at": "2024-01-09"}',
    ]
    report = import_lines(ledger, lines)
    assert report.failed == 0, report
    assert stored_phones(ledger, "D001") == ["051266661234x808", "13812345678"]


def test_a_phone_that_is_no_phone_still_fails_its_row_with_malformed_phone(tmp_path: Path) -> None:
    headers = [{"电话": "电话（手机）"}.get(h, h) for h in WORKSHEET_ZH]
    row = ["张三", "ABC公司", "经理", "138-1234-567x", "", "", "", "", "", "", ""]
    ledger = memory_ledger()
    report = import_sheet(ledger, write_csv(tmp_path / "w.csv", [headers, row]))
    assert [f.rule for f in report.failures] == ["malformed_phone"] and events(ledger) == 0
