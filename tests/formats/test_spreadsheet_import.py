"""Importing the register and worksheet layouts: the example rows of domain-notes.md with
hand-computed expectations, the traps of the source material, dry runs, re-imports,
bad rows, round trips through the exporter, and the command line."""

from __future__ import annotations

import io
import json
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rich.console import Console
from spreadsheet_support import (  # noqa: F401
    FIXTURES,
    REGISTER_ZH,
    WORKSHEET_ZH,
    company_of,
    each_store,
    events,
    memory_ledger,
    postgres_database,
    postgres_url_factory,
    register_row,
    register_rows,
    row_xml,
    worksheet_row,
    worksheet_rows,
    write_csv,
    write_xlsx,
    write_xlsx_xml,
)

from customer_ledger import CustomerLedger, Stage
from customer_ledger.cli import files as command
from customer_ledger.cli import output as cli_output
from customer_ledger.cli.main import main
from customer_ledger.errors import UnknownColumn, UnknownLayout, UnreadableSheet
from customer_ledger.formats.spreadsheets.exports import ExportRequest, export_file
from customer_ledger.formats.spreadsheets.facts import worksheet_number
from customer_ledger.formats.spreadsheets.importing import ID_PREFIX, SheetReport, import_sheet
from customer_ledger.formats.spreadsheets.vocabulary import Lang
from customer_ledger.projections.profile import Profile

ZHANG = worksheet_number("ABC公司", None, None, None)
LI = worksheet_number("XYZ公司", None, None, None)


def kinds(ledger: CustomerLedger, number: str) -> list[str]:
    return [type(e).__name__ for e in ledger.history(number)]


def event(ledger: CustomerLedger, number: str, kind: str) -> Any:
    return next(e for e in ledger.history(number) if type(e).__name__ == kind)


def contact_of(ledger: CustomerLedger, number: str) -> Any:
    """The stored (unmasked) primary contact."""
    return next(c for c in ledger.customer(number).contacts.values() if c.primary)


def local_day(ledger: CustomerLedger, moment: Any) -> date:
    return moment.astimezone(ledger.timezone).date()


def imported(ledger: CustomerLedger, path: Path, **options: Any) -> SheetReport:
    report = import_sheet(ledger, path, **options)
    assert report.ok, report.failures
    return report


# -- the register's example rows --------------------------------------------------------------


@pytest.mark.parametrize("sheet", ["register.csv", "register.xlsx"])
def test_the_registers_rows_become_the_customers_the_material_describes(
    each_store: CustomerLedger,  # noqa: F811 - the fixture
    sheet: str,
) -> None:
    ledger = each_store
    # when the register of domain-notes.md is imported
    report = imported(ledger, FIXTURES / sheet)
    assert (report.rows, report.failed) == (3, 0)

    # A001: an individual, active, with the annual contract signed 2023-08-15 and score 4
    a001 = ledger.profile("A001")
    assert (a001.name, a001.type.value, a001.stage) == ("*先生", "individual", Stage.CUSTOMER)
    assert [(c.number, c.signed_on, c.expires_on, c.amount) for c in a001.contracts] == [
        ("A001-2023-08-15", date(2023, 8, 15), date(2024, 8, 14), None)  # no amount invented
    ]
    assert a001.last_satisfaction == 4
    assert (a001.industry, a001.needs.core_needs) == ("互联网行业", "偏好高效服务")
    assert local_day(ledger, a001.first_contact_at) == date(2023, 8, 15)  # the row's earliest
    person = contact_of(ledger, "A001")
    assert (person.name, person.title, person.phone) == ("*先生", "中层管理", "138****5678")
    call = event(ledger, "A001", "InteractionLogged")
    assert (call.channel.value, call.topic, call.participant, call.follow_up) == (
        "phone",
        "询问新产品上线时间",
        "*经理",
        "推荐高级套餐",
    )
    # the 登记人 is what the sheet says (the source), the importer is who recorded it
    assert {(e.meta.source_actor, e.meta.actor) for e in ledger.history("A001")} == {
        ("*助理", "system")
    }
    assert "set_stage_on_import" not in kinds(ledger, "A001")  # the contract made it active

    # B002: the complaint filed 2023-10-10 and resolved 2023-10-16 with score 2; at risk by
    # the import flag (its one complaint is resolved and no sale is recorded)
    b002 = ledger.profile("B002")
    (complaint,) = b002.complaints
    assert (local_day(ledger, complaint.filed_at), local_day(ledger, complaint.resolved_at)) == (
        date(2023, 10, 10),
        date(2023, 10, 16),
    )
    assert (complaint.subject, complaint.satisfaction, b002.last_satisfaction) == (
        "物流配送延迟",
        2,
        2,
    )
    assert (b002.stage, b002.risk_flagged, b002.open_complaints) == (Stage.AT_RISK, True, 0)
    flag = event(ledger, "B002", "StageSetOnImport")
    assert flag.stage.value == "at_risk" and "维护状态: 风险预警" in flag.row
    assert "ContractSigned" not in kinds(ledger, "B002")
    assert "PurchaseRecorded" not in kinds(ledger, "B002")
    assert (b002.size, contact_of(ledger, "B002").phone) == ("100-500人", "010****8888")

    # C003: 潜在客户 is a stage: the type comes from the name; a prospect after the e-mail
    c003 = ledger.profile("C003")
    assert (c003.type.value, c003.stage) == ("individual", Stage.PROSPECT)
    assert local_day(ledger, c003.first_contact_at) == date(2023, 9, 5)
    assert "read from the name" in (ledger.history("C003")[0].meta.reason or "")
    mail = event(ledger, "C003", "InteractionLogged")
    assert (mail.channel.value, local_day(ledger, mail.occurred_at)) == (
        "email",
        date(2023, 10, 22),
    )
    assert contact_of(ledger, "C003").phone == "139****3456"


def test_a_lost_mask_is_recorded_as_the_mask_with_the_sheets_digits_in_the_reason() -> None:
    ledger = memory_ledger()
    imported(ledger, FIXTURES / "register.csv")
    added = event(ledger, "A001", "ContactAdded")
    assert added.contact.phone == "138****5678"
    assert "'1385678' read as 138****5678" in added.meta.reason
    assert "only the mask is known" in added.meta.reason


def test_the_register_in_gbk_reads_the_same_as_in_utf8(tmp_path: Path) -> None:
    # Excel on Chinese Windows saves CSV in GBK
    source = (FIXTURES / "register.csv").read_text(encoding="utf-8-sig")
    gbk = tmp_path / "register-gbk.csv"
    gbk.write_bytes(source.encode("gbk"))
    utf8_ledger, gbk_ledger = memory_ledger(), memory_ledger()
    imported(utf8_ledger, FIXTURES / "register.csv")
    imported(gbk_ledger, gbk)
    for number in ("A001", "B002", "C003"):
        a, b = utf8_ledger.profile(number), gbk_ledger.profile(number)
        assert (a.name, a.industry, a.stage, a.needs) == (b.name, b.industry, b.stage, b.needs)


# -- the worksheet's example rows -------------------------------------------------------------


@pytest.mark.parametrize("sheet", ["worksheet.csv", "worksheet.xlsx"])
def test_the_worksheets_grades_are_manual_and_kept_as_given(
    each_store: CustomerLedger,  # noqa: F811 - the fixture
    sheet: str,
) -> None:
    ledger = each_store
    imported(ledger, FIXTURES / sheet)
    zhang, li = ledger.profile(ZHANG), ledger.profile(LI)
    # 张三 (ABC公司) is graded A with ¥1,000, 李四 (XYZ公司) B with ¥2,000: by hand, as given
    assert (zhang.name, zhang.grade.value, zhang.total_revenue) == ("ABC公司", "A", Decimal(1000))
    assert (li.name, li.grade.value, li.total_revenue) == ("XYZ公司", "B", Decimal(2000))
    assert event(ledger, ZHANG, "GradeAssigned").meta.reason.endswith(
        "分级 (set by hand); dated with the row's latest date 2023-01-01"
    )
    assert (zhang.type.value, zhang.industry, zhang.region, zhang.stage) == (
        "company",
        "制造业",
        "北京市",
        Stage.CUSTOMER,
    )
    person = contact_of(ledger, ZHANG)
    assert (person.name, person.title, person.phone, person.email) == (
        "张三",
        "经理",
        "12345678",
        "zhangsan@abc.com",
    )
    call = event(ledger, ZHANG, "InteractionLogged")
    assert (call.channel.value, call.topic, call.feedback) == (
        "phone",
        "了解需求",
        "产品质量好，希望增加售后服务",
    )
    bought = event(ledger, LI, "PurchaseRecorded")
    assert (bought.product, bought.amount.amount, local_day(ledger, bought.occurred_at)) == (
        "产品B",
        Decimal(2000),
        date(2023, 1, 15),
    )


def test_worksheet_numbers_come_from_a_numbered_column_when_the_sheet_has_one(
    tmp_path: Path,
) -> None:
    ledger = memory_ledger()
    rows = [
        ["客户编号", *WORKSHEET_ZH],
        ["K-7", *worksheet_row(contact="王五", company="某某公司")],
    ]
    imported(ledger, write_csv(tmp_path / "w.csv", rows))
    assert ledger.profile("K-7").name == "某某公司"


def test_two_people_of_one_company_are_two_contacts_of_one_customer(tmp_path: Path) -> None:
    ledger = memory_ledger()
    rows = [
        WORKSHEET_ZH,
        worksheet_row(contact="张三", company="ABC公司", title="经理"),
        worksheet_row(contact="王五", company="ABC公司", title="采购"),
    ]
    imported(ledger, write_csv(tmp_path / "w.csv", rows))
    contacts = ledger.customer(ZHANG).contacts
    assert sorted((c.name, c.primary) for c in contacts.values()) == [
        ("张三", True),
        ("王五", False),
    ]


# -- dry run, re-import, bad rows -------------------------------------------------------------


def test_a_dry_run_reports_every_row_and_writes_nothing(tmp_path: Path) -> None:
    ledger = memory_ledger()
    bad = register_row(
        number="D004",
        type="个人客户",
        name="*先生",
        interaction_on="2023-13-01",
        channel="电话",
        content="咨询",
    )
    rows = [*_register_rows(), bad]
    report = import_sheet(ledger, write_csv(tmp_path / "r.csv", rows), dry_run=True)
    assert events(ledger) == 0
    assert [r.row for r in report.results] == [2, 3, 4]
    assert report.results[1].commands == (
        "first_contact",
        "add_contact",
        "record_needs",
        "file_complaint",
        "resolve_complaint",
        "log_interaction",
        "set_stage_on_import",
    )
    assert [(f.row, f.rule, f.column) for f in report.failures] == [(5, "bad_date", "最近互动时间")]
    # and the real import then records exactly what the dry run announced
    real = import_sheet(ledger, tmp_path / "r.csv")
    assert real.recorded == report.recorded and [r.commands for r in real.results] == [
        r.commands for r in report.results
    ]


def test_a_dry_run_sees_what_earlier_rows_of_the_file_would_have_recorded(tmp_path: Path) -> None:
    ledger = memory_ledger()
    later = register_row(
        number="A001",
        type="个人客户",
        name="*先生",
        interaction_on="2023-11-02",
        channel="微信",
        content="确认续约",
        registered_on="2023-11-02",
    )
    rows = [*_register_rows(), later]
    report = import_sheet(ledger, write_csv(tmp_path / "r.csv", rows), dry_run=True)
    assert report.ok and report.results[-1].commands == ("log_interaction",)


def test_importing_the_same_rows_again_records_nothing(each_store: CustomerLedger) -> None:  # noqa: F811
    ledger = each_store
    imported(ledger, FIXTURES / "register.csv")
    imported(ledger, FIXTURES / "worksheet.csv")
    before = events(ledger)
    again = [imported(ledger, FIXTURES / name) for name in ("register.xlsx", "worksheet.xlsx")]
    assert events(ledger) == before
    assert sum(r.recorded for r in again) == 0


def test_bad_rows_are_reported_and_skipped_and_good_rows_kept(tmp_path: Path) -> None:
    ledger = memory_ledger()
    rows = [
        REGISTER_ZH,
        register_row(number="E001", type="个人客户", name="*先生", satisfaction="很好"),
        register_row(number="E002", type="企业客户", name="好公司", registered_on="2023-01-01"),
        register_row(number="E003", type="潜在客户", name="华为"),
        register_row(number="E004", type="个人客户", name="*女士", channel="飞鸽"),
        register_row(number="E005", type="个人客户", name="*女士", key_dates="2023-08-15开会"),
    ]
    report = import_sheet(ledger, write_csv(tmp_path / "r.csv", rows))
    assert [(f.row, f.rule, f.column) for f in report.failures] == [
        (2, "bad_number", "满意度评分"),
        (4, "customer_type_unknown", None),
        (5, "inconsistent_row", "最近互动时间"),
        (6, "unreadable_note", "关键节点记录"),
    ]
    assert list(ledger.numbers()) == ["E002"]


def test_a_row_the_ledger_refuses_records_nothing_at_all(tmp_path: Path) -> None:
    # the contact's e-mail is malformed: the ledger refuses add_contact, the row's
    # first contact (planned before it) must not be recorded either
    ledger = memory_ledger()
    rows = [
        REGISTER_ZH,
        register_row(
            number="F001", type="个人客户", name="*先生", basics="13812345678，x@y，互联网行业"
        ),
    ]
    report = import_sheet(ledger, write_csv(tmp_path / "r.csv", rows))
    assert [(f.rule, f.command, f.customer) for f in report.failures] == [
        ("malformed_email", "add_contact", "F001")
    ]
    assert events(ledger) == 0


def test_a_future_date_fails_its_row_with_the_ledgers_rule(tmp_path: Path) -> None:
    ledger = memory_ledger()
    rows = [
        REGISTER_ZH,
        register_row(number="F002", type="个人客户", name="*先生", key_dates="2030-01-01签订合同"),
    ]
    report = import_sheet(ledger, write_csv(tmp_path / "r.csv", rows))
    assert [f.rule for f in report.failures] == ["future_date"] and events(ledger) == 0


def test_a_file_of_no_known_layout_or_with_an_unknown_column_is_refused_whole(
    tmp_path: Path,
) -> None:
    ledger = memory_ledger()
    with pytest.raises(UnknownLayout):
        import_sheet(ledger, write_csv(tmp_path / "x.csv", [["foo", "bar"], ["1", "2"]]))
    with pytest.raises(UnknownColumn):
        import_sheet(ledger, write_csv(tmp_path / "y.csv", [[*REGISTER_ZH, "备注2"]]))
    assert events(ledger) == 0


def test_title_rows_above_the_header_and_blank_rows_are_skipped(tmp_path: Path) -> None:
    ledger = memory_ledger()
    rows = [["客户关系维护信息登记表"], [], REGISTER_ZH, [], _register_rows()[1]]
    report = imported(ledger, write_xlsx(tmp_path / "r.xlsx", rows))
    assert (report.rows, [r.row for r in report.results]) == (1, [5])


@pytest.mark.parametrize(
    "damaged",
    [
        b'<row r="4"><c r="A4"><v>not a number</v></c></row>',  # a number cell, no number
        b'<row r="4"><c r="A4" t="s"><v>999</v></c></row>',  # a shared string not there
    ],
)
def test_a_row_that_cannot_be_read_refuses_the_file_before_any_row_is_imported(
    tmp_path: Path, damaged: bytes
) -> None:
    # given a register whose fourth row holds a cell openpyxl cannot read
    rows = [row_xml(n, *row) for n, row in enumerate(_register_rows()[:3], start=1)]
    path = write_xlsx_xml(tmp_path / "r.xlsx", [*rows, damaged])
    # when it is imported (rows are read a row at a time), then it is refused whole,
    # before its good rows 2 and 3 are recorded
    ledger = memory_ledger()
    with pytest.raises(UnreadableSheet, match="row 4 cannot be read"):
        import_sheet(ledger, path)
    assert events(ledger) == 0


def test_xlsx_rows_keep_their_numbers_when_the_first_rows_are_empty(tmp_path: Path) -> None:
    # given a workbook whose cells start at row 3 (its used range, the dimension, is A3:O5)
    from openpyxl import Workbook

    book = Workbook()
    good, bad = _register_rows()[1], [*_register_rows()[2][:11], "很好"]
    for number, row in ((3, REGISTER_ZH), (4, good), (5, bad)):
        for column, value in enumerate(row, start=1):
            book.active.cell(row=number, column=column, value=value)
    book.save(tmp_path / "r.xlsx")
    # when it is imported, then each row is reported by the number the program shows
    report = import_sheet(memory_ledger(), tmp_path / "r.xlsx")
    assert [r.row for r in report.results] == [4]
    assert [(f.row, f.rule) for f in report.failures] == [(5, "bad_number")]


# -- the traps of the source material ----------------------------------------------------------


def _register_rows() -> list[list[str]]:
    return [REGISTER_ZH, *_fixture_rows("register.csv")]


def _fixture_rows(name: str) -> list[list[str]]:
    import csv

    with open(FIXTURES / name, encoding="utf-8-sig", newline="") as f:
        return list(csv.reader(f))[1:]


def _one(tmp_path: Path, ledger: CustomerLedger, file: str = "r.csv", **cells: str) -> SheetReport:
    return import_sheet(ledger, write_csv(tmp_path / file, [REGISTER_ZH, register_row(**cells)]))


def test_lost_is_a_churn_with_the_row_as_its_reason(tmp_path: Path) -> None:
    ledger = memory_ledger()
    _one(
        tmp_path,
        ledger,
        number="G001",
        type="企业客户",
        name="某公司",
        status="流失",
        registered_on="2024-01-05",
    )
    profile = ledger.profile("G001")
    assert profile.stage is Stage.CHURNED
    assert profile.churn_reason.startswith("r.csv row 2 (客户关系维护信息登记表): 客户编号: G001")
    assert "维护状态: 流失" in profile.churn_reason


def test_a_persons_churn_reason_leaves_out_their_personal_cells(tmp_path: Path) -> None:
    # a churn reason is not encrypted: the row goes in without name and basics
    ledger = memory_ledger()
    _one(
        tmp_path,
        ledger,
        number="G010",
        type="个人客户",
        name="王小明",
        basics="13812345678，教育行业",
        status="流失",
        registered_on="2024-01-05",
    )
    reason = ledger.profile("G010").churn_reason
    assert "维护状态: 流失" in reason and "客户编号: G010" in reason
    assert "王小明" not in reason and "13812345678" not in reason
    assert "13812345678" not in (ledger.history("G010")[-1].meta.reason or "")


def test_a_stage_the_facts_do_not_imply_is_recorded_as_stated_never_by_inventing_a_sale(
    tmp_path: Path,
) -> None:
    ledger = memory_ledger()
    _one(
        tmp_path,
        ledger,
        number="G002",
        type="企业客户",
        name="某公司",
        status="活跃",
        interaction_on="2024-01-02",
        channel="电话",
        content="回访",
        registered_on="2024-01-02",
    )
    assert ledger.profile("G002").stage is Stage.CUSTOMER
    assert kinds(ledger, "G002") == ["FirstContacted", "InteractionLogged", "StageSetOnImport"]


def test_an_open_complaint_keeps_a_customer_at_risk_whatever_the_sheet_says(tmp_path: Path) -> None:
    ledger = memory_ledger()
    report = _one(
        tmp_path,
        ledger,
        number="G003",
        type="企业客户",
        name="某公司",
        status="活跃",
        key_dates="2023-05-01签订合同，2023-06-01投诉：延期",
        registered_on="2023-06-02",
    )
    assert ledger.profile("G003").stage is Stage.AT_RISK
    assert "open complaint" in report.results[0].notes[0]


def test_a_churned_customer_a_later_sheet_calls_active_is_reactivated(tmp_path: Path) -> None:
    ledger = memory_ledger()
    _one(
        tmp_path,
        ledger,
        "1.csv",
        number="G004",
        type="企业客户",
        name="某公司",
        status="流失",
        registered_on="2023-03-01",
    )
    _one(
        tmp_path,
        ledger,
        "2.csv",
        number="G004",
        type="企业客户",
        name="某公司",
        status="活跃",
        key_dates="2023-04-01签订合同",
        registered_on="2023-04-02",
    )
    assert ledger.profile("G004").stage is Stage.CUSTOMER
    assert kinds(ledger, "G004")[-2:] == ["Reactivated", "ContractSigned"]


def test_an_older_sheet_adds_its_history_but_rolls_nothing_back(tmp_path: Path) -> None:
    ledger = memory_ledger()
    newer = dict(
        number="G005",
        type="个人客户",
        name="*先生",
        basics="13900000001",
        status="风险预警",
        registered_on="2024-03-01",
    )
    older = dict(
        newer,
        basics="13900000000",
        status="活跃",
        interaction_on="2023-12-01",
        channel="电话",
        content="寒暄",
        registered_on="2023-12-01",
    )
    _one(tmp_path, ledger, "new.csv", **newer)
    report = _one(tmp_path, ledger, "old.csv", **older)
    customer = ledger.customer("G005")
    assert (customer.stage, contact_of(ledger, "G005").phone) == (Stage.AT_RISK, "13900000001")
    assert customer.interaction_count == 1  # the old interaction is history: kept
    assert "not applied" in report.results[0].notes[0]


def test_a_later_sheet_records_only_what_changed(tmp_path: Path) -> None:
    ledger = memory_ledger()
    imported(ledger, FIXTURES / "register.csv")
    before = len(ledger.history("A001"))
    later = [*_fixture_rows("register.csv")[0]]
    later[3] = "13800005678，互联网行业，高层管理"  # a new title and the full number
    later[4], later[14] = "2023-11-20", "2023-11-20"  # a new interaction, registered then
    report = imported(ledger, write_csv(tmp_path / "later.csv", [REGISTER_ZH, later]))
    assert report.results[0].commands == ("update_contact", "log_interaction")
    assert len(ledger.history("A001")) == before + 2
    assert (contact_of(ledger, "A001").title, contact_of(ledger, "A001").phone) == (
        "高层管理",
        "13800005678",
    )


def test_a_masked_export_imported_back_never_replaces_the_full_number(tmp_path: Path) -> None:
    ledger = memory_ledger()
    _one(
        tmp_path,
        ledger,
        number="G006",
        type="个人客户",
        name="*先生",
        basics="13812345678，教育行业",
        registered_on="2024-01-01",
    )
    out = tmp_path / "masked.csv"
    export_file(ledger, "profiles", out, request=_request(Lang.ZH, "register"))
    assert "138****5678" in out.read_text(encoding="utf-8-sig")
    before = events(ledger)
    imported(ledger, out)
    assert events(ledger) == before and contact_of(ledger, "G006").phone == "13812345678"


def test_an_interaction_registered_days_later_is_kept_and_marked_late(tmp_path: Path) -> None:
    ledger = memory_ledger()
    _one(
        tmp_path,
        ledger,
        number="G007",
        type="个人客户",
        name="*女士",
        interaction_on="2023-10-18",
        channel="上门拜访",
        content="回访",
        registrar="*专员",
        registered_on="2023-10-21",
    )
    visit = event(ledger, "G007", "InteractionLogged")
    assert local_day(ledger, visit.occurred_at) == date(2023, 10, 18) and visit.late
    assert "registered late (补录): happened 2023-10-18" in visit.meta.reason
    assert (visit.meta.source_actor, visit.meta.actor) == ("*专员", "system")


def test_rows_without_a_registrar_are_recorded_by_the_importer(tmp_path: Path) -> None:
    ledger = memory_ledger()
    rows = [REGISTER_ZH, register_row(number="G008", type="个人客户", name="*女士")]
    imported(ledger, write_csv(tmp_path / "r.csv", rows), actor="migration")
    assert ledger.history("G008")[0].meta.actor == "migration"


def test_command_ids_are_derived_from_the_rows_so_any_store_gets_the_same(tmp_path: Path) -> None:
    first, second = memory_ledger(), memory_ledger()
    for ledger in (first, second):
        imported(ledger, FIXTURES / "register.csv")
    ids = [[e.meta.command_id for e in ledger.history("B002")] for ledger in (first, second)]
    assert ids[0] == ids[1] and all(i.startswith(ID_PREFIX) for i in ids[0])


# -- round trips ------------------------------------------------------------------------------


def _request(lang: Lang, layout: str) -> ExportRequest:
    from strategies import FIXED_NOW

    return ExportRequest(as_of=FIXED_NOW, lang=lang, layout=layout)


def carried(p: Profile, layout: str) -> dict[str, Any]:
    """What a layout carries of a (masked) profile: docs/spreadsheets.md, 'Round trips'."""
    common = {
        "number": p.number,
        "name": p.name,
        "type": p.type,
        "industry": p.industry,
        "region": p.region,
        "revenue": p.revenue,
        "purchases": p.purchase_count,
        "last_purchase": p.last_purchase_at,
        "last_interaction": p.last_interaction_at,
    }
    if layout == "worksheet":
        return {
            **common,
            "grade": p.grade,
            "interactions": p.interaction_count,
            "contacts": sorted((c.name, c.title, c.phone, c.email) for c in p.contacts),
        }
    own = [(c.name, c.title, c.phone, c.email) for c in p.contacts if c.name == p.name]
    return {
        **common,
        "stage": p.stage,
        "size": p.size,
        "own contact": own,
        "needs": p.needs.core_needs,
        "satisfaction": p.last_satisfaction,
        "first contact": p.first_contact_at,
        "contracts": [(c.number, c.signed_on, c.expires_on, c.amount) for c in p.contracts],
        "complaints": [
            (c.complaint_id, c.subject, c.filed_at, c.resolved_at, c.resolution, c.satisfaction)
            for c in p.complaints
        ],
    }


def round_trip(source: CustomerLedger, layout: str, lang: Lang, fmt: str, tmp: Path) -> None:
    """Export in ``layout``, import into a fresh store: the same customers, and the
    same export again."""
    first = tmp / f"first.{fmt}"
    export_file(source, "profiles", first, request=_request(lang, layout))
    copy = memory_ledger()
    imported(copy, first)
    assert sorted(copy.numbers()) == sorted(source.numbers())
    for number in source.numbers():
        assert carried(copy.profile(number), layout) == carried(source.profile(number), layout)
    second = tmp / f"second.{fmt}"
    export_file(copy, "profiles", second, request=_request(lang, layout))
    if fmt == "csv":
        assert second.read_bytes() == first.read_bytes()


@pytest.mark.parametrize("layout", ["register", "worksheet"])
@pytest.mark.parametrize("lang", list(Lang))
@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_the_example_customers_round_trip_through_each_layout(
    layout: str, lang: Lang, fmt: str, tmp_path: Path
) -> None:
    ledger = memory_ledger()
    imported(ledger, FIXTURES / "register.csv")
    imported(ledger, FIXTURES / "worksheet.csv")
    round_trip(ledger, layout, lang, fmt, tmp_path)


@settings(max_examples=20, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), count=st.integers(1, 4), lang=st.sampled_from(list(Lang)))
def test_generated_register_rows_round_trip(
    data: st.DataObject, count: int, lang: Lang, tmp_path_factory: pytest.TempPathFactory
) -> None:
    tmp = tmp_path_factory.mktemp("register")
    rows = [data.draw(register_rows(f"R{n}")) for n in range(count)]
    ledger = memory_ledger()
    imported(ledger, write_csv(tmp / "in.csv", [REGISTER_ZH, *rows]))
    round_trip(ledger, "register", lang, "csv", tmp)


@settings(max_examples=20, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rows=st.lists(worksheet_rows(), min_size=1, max_size=4, unique_by=company_of),
    lang=st.sampled_from(list(Lang)),
)
def test_generated_worksheet_rows_round_trip(
    rows: list[list[str]], lang: Lang, tmp_path_factory: pytest.TempPathFactory
) -> None:
    tmp = tmp_path_factory.mktemp("worksheet")
    ledger = memory_ledger()
    imported(ledger, write_csv(tmp / "in.csv", [WORKSHEET_ZH, *rows]))
    round_trip(ledger, "worksheet", lang, "csv", tmp)


# -- the command line -------------------------------------------------------------------------


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.delenv("CUSTOMER_LEDGER_STORE", raising=False)
    return f"sqlite:///{tmp_path}/cli.db"


def run(capsys: pytest.CaptureFixture[str], store: str, *argv: str) -> tuple[int, str, str]:
    code = main(["--store", store, *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_the_cli_imports_a_sheet_and_says_what_it_did(
    capsys: pytest.CaptureFixture[str], store: str
) -> None:
    code, out, err = run(capsys, store, "import", str(FIXTURES / "register.xlsx"))
    assert code == 0 and err == ""
    assert out.strip() == (
        "register.xlsx (register layout): 3 rows, 18 commands recorded, 0 already in the "
        "ledger, 0 rows failed"
    )
    code, out, _ = run(capsys, store, "import", str(FIXTURES / "register.csv"), "--json")
    assert code == 0 and json.loads(out)["recorded"] == 0


def test_the_cli_reports_bad_rows_by_number_and_exits_1(
    capsys: pytest.CaptureFixture[str], store: str, tmp_path: Path
) -> None:
    rows = [
        *_register_rows(),
        register_row(number="H001", type="个人客户", name="*先生", registered_on="2023-02-30"),
    ]
    code, out, err = run(capsys, store, "import", str(write_csv(tmp_path / "r.csv", rows)))
    assert code == 1
    assert err == "row 5: error [bad_date] 登记日期: '2023-02-30' is not a calendar date\n"
    assert "3 rows" not in out and "4 rows, 18 commands recorded" in out


def test_the_cli_dry_run_prints_a_row_numbered_report_and_writes_nothing(
    capsys: pytest.CaptureFixture[str], store: str
) -> None:
    code, out, _ = run(capsys, store, "import", str(FIXTURES / "worksheet.csv"), "--dry-run")
    lines = out.splitlines()
    assert code == 0 and lines[0].startswith(f"row 2: {ZHANG}: would record 5: first_contact")
    assert lines[-1].endswith("nothing was written")
    with CustomerLedger.open(store) as ledger:
        assert events(ledger) == 0


def test_the_cli_refuses_spreadsheet_options_for_json_lines(
    capsys: pytest.CaptureFixture[str], store: str, tmp_path: Path
) -> None:
    lines = tmp_path / "in.jsonl"
    lines.write_text("")
    code, _, err = run(capsys, store, "import", str(lines), "--dry-run")
    assert code == 2 and "--dry-run and --layout are for .csv/.xlsx" in err


def test_the_cli_can_be_told_the_layout(capsys: pytest.CaptureFixture[str], store: str) -> None:
    code, _, err = run(
        capsys, store, "import", str(FIXTURES / "register.csv"), "--layout", "worksheet"
    )
    assert code == 1 and "error [unknown_layout]" in err


def test_no_progress_bar_when_stderr_is_not_a_terminal(
    capsys: pytest.CaptureFixture[str], store: str, tmp_path: Path
) -> None:
    rows = [REGISTER_ZH] + [
        register_row(number=f"P{n}", type="个人客户", name="*先生") for n in range(250)
    ]
    code, _, err = run(capsys, "memory://", "import", str(write_csv(tmp_path / "big.csv", rows)))
    assert code == 0 and err == ""


def test_a_progress_bar_with_rows_per_second_on_a_terminal_for_large_sheets(
    capsys: pytest.CaptureFixture[str], store: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    screen = io.StringIO()
    terminal = Console(file=screen, force_terminal=True, width=120)
    monkeypatch.setattr(
        cli_output, "console", lambda stderr=False: terminal if stderr else Console()
    )
    rows = [REGISTER_ZH] + [
        register_row(number=f"P{n}", type="个人客户", name="*先生") for n in range(command.LARGE)
    ]
    assert run(capsys, "memory://", "import", str(write_csv(tmp_path / "big.csv", rows)))[0] == 0
    drawn = screen.getvalue()
    assert "importing" in drawn and "rows/s" in drawn and f"/{command.LARGE}" in drawn


def test_small_sheets_draw_no_bar_even_on_a_terminal(
    capsys: pytest.CaptureFixture[str], store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    screen = io.StringIO()
    terminal = Console(file=screen, force_terminal=True, width=120)
    monkeypatch.setattr(
        cli_output, "console", lambda stderr=False: terminal if stderr else Console()
    )
    assert run(capsys, store, "import", str(FIXTURES / "register.csv"))[0] == 0
    assert "rows/s" not in screen.getvalue()


def test_the_first_contact_of_a_row_without_any_date_is_the_import_time(tmp_path: Path) -> None:
    from strategies import FIXED_NOW

    ledger = memory_ledger()
    _one(tmp_path, ledger, number="G009", type="个人客户", name="*先生")
    first = ledger.history("G009")[0]
    assert first.occurred_at == FIXED_NOW and "dated with the import time" in first.meta.reason
    assert FIXED_NOW.date() - timedelta(days=1) < local_day(ledger, first.occurred_at)


def test_a_command_the_store_refuses_after_the_rehearsal_fails_its_row(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a rehearsal that did not see the customer another writer has just recorded
    from customer_ledger.formats.spreadsheets.importing import Rehearsal

    ledger = memory_ledger()
    ledger.first_contact("A001", name="*先生", type="individual", occurred_at="2023-01-01")
    monkeypatch.setattr(Rehearsal, "_seed", lambda self, number: self._new.add(number))
    # when the register is imported
    report = import_sheet(ledger, FIXTURES / "register.csv")
    # then A001's row fails with the store's rule, the other rows are recorded
    assert [(f.row, f.rule, f.command) for f in report.failures] == [
        (2, "duplicate_customer_number", "first_contact")
    ]
    assert "the store changed after the row was checked" in report.failures[0].reason
    assert [r.row for r in report.results] == [3, 4]
    assert sorted(ledger.numbers()) == ["A001", "B002", "C003"]
