"""Exports: profiles, timeline and status as CSV, XLSX and JSON Lines, with Chinese or
English headers, masked unless a permitted reader asks and says why, extensible by
other packages, and never a formula a spreadsheet program would run."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook
from spreadsheet_support import FIXTURES, events, memory_ledger
from strategies import FIXED_NOW

from customer_ledger import CustomerLedger
from customer_ledger.application.privacy import masked
from customer_ledger.cli.main import main
from customer_ledger.domain.access import Actor
from customer_ledger.errors import LedgerError
from customer_ledger.formats.spreadsheets import headers as H
from customer_ledger.formats.spreadsheets.exports import (
    EXPORT_SOURCES,
    ExportRequest,
    Sheet,
    export,
    export_file,
    export_source,
)
from customer_ledger.formats.spreadsheets.facts import worksheet_number
from customer_ledger.formats.spreadsheets.importing import import_sheet
from customer_ledger.formats.spreadsheets.layouts import FORMULA_TRIGGERS, clean_cell
from customer_ledger.formats.spreadsheets.vocabulary import Lang
from customer_ledger.formats.spreadsheets.writing import (
    XLSX_MAX_CELL,
    neutralise,
    write_csv,
    write_xlsx,
)
from customer_ledger.testing import stored_profile

ZHANG = worksheet_number("ABC公司", None, None, None)


@pytest.fixture
def ledger() -> CustomerLedger:
    """The example customers of domain-notes.md, imported from the sample sheets."""
    ledger = memory_ledger()
    for name in ("register.csv", "worksheet.csv"):
        assert import_sheet(ledger, FIXTURES / name).ok
    return ledger


def exported(ledger: CustomerLedger, source: str, fmt: str = "csv", **request: Any) -> bytes:
    out = io.BytesIO()
    export(ledger, source, out, format=fmt, request=ExportRequest(as_of=FIXED_NOW, **request))
    return out.getvalue()


def csv_rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def xlsx_rows(data: bytes) -> list[list[Any]]:
    book = load_workbook(io.BytesIO(data), read_only=True)
    return [[c.value for c in row] for row in book.worksheets[0].iter_rows()]


def by_number(rows: list[list[Any]]) -> dict[str, dict[str, Any]]:
    header, *body = rows
    return {row[0]: dict(zip(header, row, strict=True)) for row in body}


# -- what is exported ---------------------------------------------------------------------------


def test_profiles_have_chinese_headers_and_masked_phones_and_e_mails(
    ledger: CustomerLedger,
) -> None:
    rows = csv_rows(exported(ledger, "profiles"))
    assert rows[0] == [h.zh for h in H.PROFILE]
    found = by_number(rows)
    assert list(found) == sorted(
        ["A001", "B002", "C003", ZHANG, worksheet_number("XYZ公司", None, None, None)]
    )
    a001, zhang = found["A001"], found[ZHANG]
    assert (a001["客户类型"], a001["生命周期阶段"], a001["电话"]) == ("个人", "活跃", "138****5678")
    shown = masked(stored_profile(ledger, ZHANG)).contacts[0]
    assert zhang["电话"] == "****5678" == shown.phone
    assert zhang["邮箱"] == (shown.email or "") and zhang["手工分级"] == "A"
    assert (zhang["历史交易金额"], found["B002"]["手工风险预警"]) == ("1000", "是")


def test_english_headers_and_words_with_lang_en(ledger: CustomerLedger) -> None:
    rows = csv_rows(exported(ledger, "profiles", lang=Lang.EN))
    assert rows[0] == [h.en for h in H.PROFILE]
    b002 = by_number(rows)["B002"]
    assert (b002["type"], b002["stage"], b002["risk flagged by hand"]) == (
        "company",
        "at risk",
        "yes",
    )


def test_json_lines_are_keyed_by_the_headers_with_exact_amounts(ledger: CustomerLedger) -> None:
    lines = [
        orjson.loads(x) for x in exported(ledger, "profiles", "jsonl", lang=Lang.EN).splitlines()
    ]
    assert len(lines) == 5 and list(lines[0]) == [h.en for h in H.PROFILE]
    zhang = next(x for x in lines if x["number"] == ZHANG)
    assert (zhang["total revenue (CNY)"], zhang["purchases"], zhang["phone"]) == (
        "1000",
        1,
        "****5678",
    )


def test_xlsx_keeps_numbers_as_numbers_and_text_as_text(ledger: CustomerLedger) -> None:
    rows = xlsx_rows(exported(ledger, "profiles", "xlsx"))
    zhang = by_number(rows)[ZHANG]
    assert zhang["历史交易金额"] == 1000 and zhang["交易次数"] == 1
    assert zhang["首次接触日期"] == "2022-12-01" and zhang["电话"] == "****5678"


def test_the_timeline_exports_one_row_per_event_in_business_time(ledger: CustomerLedger) -> None:
    rows = csv_rows(exported(ledger, "timeline"))
    assert rows[0] == [h.zh for h in H.TIMELINE]
    assert len(rows) - 1 == events_of_customers(ledger)
    dates = [r[3] for r in rows[1:]]
    assert dates == sorted(dates)
    english = csv_rows(exported(ledger, "timeline", lang=Lang.EN))
    assert {r[6] for r in english[1:]} != {r[6] for r in rows[1:]}  # summaries in each language


def events_of_customers(ledger: CustomerLedger) -> int:
    return sum(len(ledger.history(n)) for n in ledger.numbers())


def test_status_lists_each_customers_stage(ledger: CustomerLedger) -> None:
    found = by_number(csv_rows(exported(ledger, "status", lang=Lang.EN)))
    assert {n: r["stage"] for n, r in found.items() if not n.startswith("W")} == {
        "A001": "customer",
        "B002": "at risk",
        "C003": "prospect",
    }


def test_profiles_in_a_source_layout_have_that_layouts_headers(ledger: CustomerLedger) -> None:
    register = csv_rows(exported(ledger, "profiles", layout="register"))
    assert register[0][:4] == ["客户编号", "客户类型", "客户姓名/公司名称", "基础信息"]
    assert (
        by_number(register)["A001"]["关键节点记录"] == "首次接触2023-08-15；2023-08-15签订年度合同"
    )
    worksheet = csv_rows(exported(ledger, "profiles", layout="worksheet", lang=Lang.EN))
    assert worksheet[0] == [
        "no.",
        "name",
        "company",
        "title",
        "phone",
        "e-mail",
        "city",
        "interaction",
        "purchase",
        "feedback",
        "industry",
        "grade",
    ]


# -- personal data ------------------------------------------------------------------------------


def test_an_unmasked_export_needs_a_role_that_may_read_and_a_reason(ledger: CustomerLedger) -> None:
    with pytest.raises(LedgerError) as denied:
        exported(ledger, "profiles", unmasked=True, why="audit", actor=Actor("someone", "auditor"))
    assert denied.value.rule == "permission_denied"
    with pytest.raises(LedgerError) as no_reason:
        exported(ledger, "profiles", unmasked=True, actor=Actor("王经理", "manager"))
    assert no_reason.value.rule == "invalid_value"


def test_an_unmasked_export_shows_full_data_and_records_every_read(ledger: CustomerLedger) -> None:
    manager = Actor("王经理", "manager")
    rows = by_number(
        csv_rows(exported(ledger, "profiles", unmasked=True, actor=manager, why="年度审计"))
    )
    assert (rows[ZHANG]["电话"], rows[ZHANG]["邮箱"]) == ("12345678", "zhangsan@abc.com")
    reads = [e for e in ledger.audit_log(ZHANG) if e.kind == "read"]
    assert [(e.actor, e.role, e.why) for e in reads] == [("王经理", "manager", "年度审计")]


def test_the_cli_refuses_unmasked_without_a_reason_or_a_role_and_writes_no_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CUSTOMER_LEDGER_ROLE", "auditor")  # may not read personal data
    store = f"sqlite:///{tmp_path}/x.db"
    out = tmp_path / "out.csv"
    assert main(["--store", store, "export", "profiles", "--unmasked", "--out", str(out)]) == 2
    assert (
        main(
            ["--store", store, "export", "profiles", "--unmasked", "--why", "x", "--out", str(out)]
        )
        == 1
    )
    assert "error [permission_denied]" in capsys.readouterr().err
    assert list(tmp_path.glob("out.csv*")) == [] and list(tmp_path.glob(".out.csv*")) == []


# -- the command line and the registry ------------------------------------------------------------


def test_the_cli_writes_each_format_to_a_file_by_its_suffix(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = f"sqlite:///{tmp_path}/x.db"
    assert main(["--store", store, "import", str(FIXTURES / "register.csv")]) == 0
    for suffix in ("csv", "xlsx", "jsonl"):
        out = tmp_path / f"p.{suffix}"
        assert (
            main(["--store", store, "export", "profiles", "--out", str(out), "--lang", "en"]) == 0
        )
        assert f"profiles: 3 rows to {out} ({suffix})" in capsys.readouterr().err
    assert csv_rows((tmp_path / "p.csv").read_bytes())[0][0] == "number"
    assert xlsx_rows((tmp_path / "p.xlsx").read_bytes())[0][0] == "number"
    assert len((tmp_path / "p.jsonl").read_bytes().splitlines()) == 3


def test_the_cli_exports_csv_to_stdout(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = f"sqlite:///{tmp_path}/x.db"
    assert main(["--store", store, "import", str(FIXTURES / "worksheet.xlsx")]) == 0
    capsys.readouterr()
    assert main(["--store", store, "export", "status", "--lang", "en"]) == 0
    assert capsys.readouterr().out.splitlines()[0].lstrip("\ufeff").startswith("number,name")


def test_another_package_adds_an_export_source(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    @export_source("sample")
    def sample(ledger: CustomerLedger, request: ExportRequest) -> Sheet:
        return Sheet(["日期", "值"], ["day", "value"], [[request.as_of.date(), "=1+1"]], 1)

    try:
        out = tmp_path / "s.csv"
        store = f"sqlite:///{tmp_path}/x.db"
        CustomerLedger.open(store).close()  # an empty ledger: exports read an existing one
        argv = ["--store", store, "export", "sample", "--out", str(out), "--as-of", "2024-01-02"]
        assert main([*argv, "--lang", "en"]) == 0
        assert csv_rows(out.read_bytes()) == [["day", "value"], ["2024-01-02", "'=1+1"]]
    finally:
        del EXPORT_SOURCES["sample"]


def test_an_xlsx_export_is_streamed_row_by_row() -> None:
    pulled: list[int] = []
    ticks: list[int] = []

    def rows() -> Iterator[list[Any]]:
        for n in range(50):
            pulled.append(n)
            assert len(ticks) == n, "the writer asked for a row before writing the last"
            yield [n, f"row {n}"]

    write_xlsx(["n", "text"], rows(), io.BytesIO(), tick=ticks.append)
    assert len(pulled) == len(ticks) == 50


# -- formula injection ----------------------------------------------------------------------------

HOSTILE = [
    "=cmd|' /C calc'!A0", "@SUM(1)", "+1", "-1", "=1+1", "=HYPERLINK(\"http://x\",\"y\")",
    "\t=1", "\r=1", " =1", "'=1", "＝1+1", "-2+3+cmd|' /C calc'!A0", "@", "'", "=",
]  # fmt: skip
hostile_text = st.one_of(
    st.sampled_from(HOSTILE),
    st.builds(lambda t, s: t + s, st.sampled_from([*FORMULA_TRIGGERS, "'"]), st.text()),
    st.text(),
    st.text(min_size=1).map(lambda s: s * (40_000 // len(s) + 1)),  # huge
)


def starts_formula(cell: str) -> bool:
    stripped = cell.lstrip(" \u3000\xa0")
    return bool(stripped) and stripped[0] in FORMULA_TRIGGERS


@given(st.lists(st.lists(hostile_text, min_size=1, max_size=3), min_size=1, max_size=3))
@example([["\r\n"]])  # guarded for its "\r": the guard must still be seen once "\r\n" is "\n"
@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow])
def test_no_csv_cell_starts_a_formula_and_the_importer_reads_each_back(
    rows: list[list[str]],
) -> None:
    out = io.BytesIO()
    write_csv(["a", "b", "c"], rows, out)
    _, *written = csv_rows(out.getvalue())
    for original, row in zip(rows, written, strict=True):
        for value, cell in zip(original, row, strict=True):
            assert not starts_formula(cell)
            if _importable(value):  # what the ledger could hold comes back as it was
                assert clean_cell(cell, "x") == value.replace("\r\n", "\n").strip()


def _importable(text: str) -> bool:
    return len(text) <= 4000 and not any(
        (ord(c) < 32 and c not in "\t\n") or "\ud800" <= c <= "\udfff" or c in "\x7f\ufffe\uffff"
        for c in text.replace("\r\n", "\n").strip()
    )


@given(st.lists(hostile_text, min_size=1, max_size=4))
@settings(max_examples=40, suppress_health_check=[HealthCheck.too_slow])
def test_no_xlsx_cell_is_a_formula_or_starts_one(values: list[str]) -> None:
    out = io.BytesIO()
    write_xlsx(["h"] * len(values), [values, [-1, 2.5, *values[2:]]], out)
    book = load_workbook(io.BytesIO(out.getvalue()), read_only=True)
    for row in book.worksheets[0].iter_rows():
        for cell in row:
            assert cell.data_type != "f"
            if isinstance(cell.value, str):
                assert not starts_formula(cell.value) and len(cell.value) <= XLSX_MAX_CELL


def test_numbers_are_never_mistaken_for_formulas() -> None:
    out = io.BytesIO()
    write_csv(["n"], [[-1], ["-1"]], out)
    assert csv_rows(out.getvalue())[1:] == [["-1"], ["'-1"]]


def test_json_lines_keep_text_exactly(tmp_path: Path) -> None:
    ledger = memory_ledger()
    ledger.first_contact("X1", name="=cmd|' /C calc'!A0", type="company", occurred_at="2024-01-02")
    line = orjson.loads(exported(ledger, "profiles", "jsonl", lang=Lang.EN))
    assert line["name"] == "=cmd|' /C calc'!A0"


@given(topic=st.sampled_from(HOSTILE).filter(lambda t: t.strip() not in ("", "'")))
@settings(max_examples=12, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_hostile_text_in_the_ledger_is_defused_in_every_export_and_imports_back_unchanged(
    topic: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    tmp = tmp_path_factory.mktemp("hostile")
    ledger = memory_ledger()
    ledger.first_contact("X1", name="某公司", type="company", occurred_at="2024-01-02")
    ledger.log_interaction(
        "X1", channel="phone", topic=topic, feedback=topic, occurred_at="2024-01-03"
    )
    for layout in ("register", "worksheet"):
        for fmt in ("csv", "xlsx"):
            out = tmp / f"{layout}.{fmt}"
            export_file(
                ledger, "profiles", out, request=ExportRequest(as_of=FIXED_NOW, layout=layout)
            )
            cells = csv_rows(out.read_bytes()) if fmt == "csv" else xlsx_rows(out.read_bytes())
            assert not any(isinstance(c, str) and starts_formula(c) for row in cells for c in row)
            copy = memory_ledger()
            assert import_sheet(copy, out).ok
            (x,) = [e for e in copy.history("X1") if type(e).__name__ == "InteractionLogged"]
            assert x.topic == topic.strip()
    timeline = csv_rows(exported(ledger, "timeline"))
    assert not any(starts_formula(c) for row in timeline for c in row)


def test_huge_text_is_cut_in_xlsx_with_a_marker_and_kept_whole_in_csv() -> None:
    huge = "长" * 40_000
    xlsx, text = io.BytesIO(), io.BytesIO()
    write_xlsx(["h"], [[huge]], xlsx)
    write_csv(["h"], [[huge]], text)
    cut = xlsx_rows(xlsx.getvalue())[1][0]
    assert len(cut) == XLSX_MAX_CELL and "more characters" in cut
    assert csv_rows(text.getvalue())[1][0] == huge


def test_neutralise_prefixes_exactly_the_dangerous_cells() -> None:
    assert [neutralise(x) for x in ["=1", "+1", "-1", "@a", "\t=1", "'x", "abc", "1-1", ""]] == [
        "'=1",
        "'+1",
        "'-1",
        "'@a",
        "'\t=1",
        "''x",
        "abc",
        "1-1",
        "",
    ]


def test_an_export_leaves_the_store_as_it_was(ledger: CustomerLedger) -> None:
    before = events(ledger)
    for source in ("profiles", "timeline", "status"):
        exported(ledger, source)
    assert events(ledger) == before
    assert json.dumps(sorted(EXPORT_SOURCES)).count("profiles") == 1


def test_the_cli_draws_export_progress_only_on_a_terminal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from rich.console import Console

    from customer_ledger.cli import output as command

    store = f"sqlite:///{tmp_path}/x.db"
    assert main(["--store", store, "import", str(FIXTURES / "register.csv")]) == 0
    argv = ["--store", store, "export", "timeline", "--out", str(tmp_path / "t.csv")]
    capsys.readouterr()
    assert main(argv) == 0
    assert "exporting" not in capsys.readouterr().err  # not a terminal: no bar
    screen = io.StringIO()
    terminal = Console(file=screen, force_terminal=True, width=120)
    monkeypatch.setattr(command, "console", lambda stderr=False: terminal if stderr else Console())
    assert main(argv) == 0
    assert "exporting" in screen.getvalue() and "rows/s" in screen.getvalue()
