"""Reading the free text of sheet cells: dates, phones, amounts and the notes of the
source material, in Chinese and English; and writing them back the same way."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from spreadsheet_support import amounts, days, text

from customer_ledger import Channel, CustomerType
from customer_ledger.errors import (
    BadAmount,
    BadDate,
    BadNumber,
    CellDateOutOfRange,
    CustomerTypeUnknown,
    UnknownWord,
    UnreadableNote,
)
from customer_ledger.formats.spreadsheets.notes import (
    Basics,
    ComplaintNote,
    ContractNote,
    Interaction,
    Phone,
    Purchase,
)
from customer_ledger.formats.spreadsheets.parsing import (
    parse_amount,
    parse_basics,
    parse_channel,
    parse_customer_type,
    parse_date,
    parse_grade,
    parse_interactions,
    parse_key_dates,
    parse_phone,
    parse_purchases,
    parse_satisfaction,
    parse_status,
    split_top,
    type_from_name,
)
from customer_ledger.formats.spreadsheets.rendering import interaction_note, purchase_note
from customer_ledger.formats.spreadsheets.vocabulary import Lang, StatedStage

# -- dates ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "cell",
    [
        "2023-10-20",
        "2023/10/20",
        "2023.10.20",
        "2023年10月20日",
        "20231020",
        "2023-10-20 14:30",
        "2023-10-20 00:00:00",
        " 2023-10-20 ",
    ],
)
def test_a_date_cell_is_read_in_the_forms_people_write(cell: str) -> None:
    assert parse_date(cell) == date(2023, 10, 20)


def test_a_month_and_day_take_the_rows_year() -> None:
    assert parse_date("10月16日", year=2023) == date(2023, 10, 16)


def test_a_month_and_day_after_an_earlier_date_roll_into_the_next_year() -> None:
    # "filed 2023-12-20, resolved 1月5日" was resolved in January 2024
    notes = parse_key_dates("2023-12-20投诉,1月5日解决")
    assert notes.complaints[0].resolved_on == date(2024, 1, 5)


@pytest.mark.parametrize("cell", ["2023-13-01", "2023-02-30", "next week", "10/20", "2023-10"])
def test_what_is_not_a_date_is_a_bad_date(cell: str) -> None:
    with pytest.raises(BadDate) as info:
        parse_date(cell, "登记日期")
    assert info.value.column == "登记日期"


def test_a_month_and_day_without_any_year_is_a_bad_date() -> None:
    with pytest.raises(BadDate):
        parse_date("10月16日")


@pytest.mark.parametrize("cell", ["0001-01-01", "1899-12-31", "2101-01-01", "9999-12-31"])
def test_years_outside_1900_to_2100_are_out_of_range(cell: str) -> None:
    with pytest.raises(CellDateOutOfRange):
        parse_date(cell)


# -- phones ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "read"),
    [
        ("1385678", "138****5678"),
        ("0108888", "010****8888"),
        ("1393456", "139****3456"),
        ("07551234", "0755****1234"),
    ],
)
def test_the_registers_numbers_that_lost_their_mask_are_read_as_masked(
    written: str, read: str
) -> None:
    assert parse_phone(written, lost_masks=True) == Phone(read, lost_mask=written)


@pytest.mark.parametrize(
    ("written", "kept"),
    [
        ("13812345678", "13812345678"),
        ("138****5678", "138****5678"),
        ("010-88888888", "01088888888"),
        ("12345678", "12345678"),
        ("(0512) 6666-1234", "051266661234"),
        ("+86 138 1234 5678", "13812345678"),
    ],
)
def test_full_or_already_masked_numbers_are_kept_in_the_stored_form(
    written: str, kept: str
) -> None:
    assert parse_phone(written, lost_masks=True) == Phone(kept)


def test_what_is_no_phone_is_kept_as_written_for_the_ledger_to_refuse() -> None:
    assert parse_phone("138-1234-567x") == Phone("138-1234-567x")


def test_outside_the_register_a_seven_digit_number_is_a_local_number() -> None:
    assert parse_phone("1385678") == Phone("1385678")


# -- basics ---------------------------------------------------------------------------------


def test_a_persons_basics_are_phone_industry_and_title() -> None:
    assert parse_basics("1385678，互联网行业，中层管理", CustomerType.INDIVIDUAL) == Basics(
        phone=Phone("138****5678", "1385678"), industry="互联网行业", title="中层管理"
    )


def test_a_companys_basics_are_phone_industry_and_size() -> None:
    assert parse_basics("0108888，智能制造，100-500人", CustomerType.COMPANY) == Basics(
        phone=Phone("010****8888", "0108888"), industry="智能制造", size="100-500人"
    )


def test_labelled_parts_go_where_their_label_says_in_any_order() -> None:
    found = parse_basics(
        "职位：总监, phone: 13912345678, 地区：杭州, a@b.cn", CustomerType.INDIVIDUAL
    )
    assert found == Basics(phone=Phone("13912345678"), email="a@b.cn", title="总监", region="杭州")


def test_a_part_the_basics_have_no_place_for_is_refused() -> None:
    with pytest.raises(UnreadableNote):
        parse_basics("1385678，互联网行业，中层管理，爱好钓鱼", CustomerType.INDIVIDUAL)


def test_two_phones_in_one_basics_cell_are_refused() -> None:
    with pytest.raises(UnreadableNote):
        parse_basics("13812345678，13912345678", CustomerType.INDIVIDUAL)


# -- key dates ------------------------------------------------------------------------------


def test_a_complaint_and_its_resolution_in_one_note() -> None:
    notes = parse_key_dates("2023-10-10投诉,10月16日解决", year=2023)
    assert notes.complaints == (
        ComplaintNote(
            date(2023, 10, 10), None, date(2023, 10, 16), None, text="2023-10-10投诉，10月16日解决"
        ),
    )


def test_an_annual_contract_runs_one_year_from_signing() -> None:
    notes = parse_key_dates("2023-08-15签订年度合同")
    assert notes.contracts == (
        ContractNote(date(2023, 8, 15), date(2024, 8, 14), text="2023-08-15签订年度合同"),
    )


@pytest.mark.parametrize(
    ("note", "expires"),
    [
        ("2023-08-15签订合同", None),
        ("2023-08-15签订两年合同", date(2025, 8, 14)),
        ("2023-08-15签订6个月合同", date(2024, 2, 14)),
        ("2023-08-15签订服务合同", None),
        ("2023-08-15 signed 2-year contract", date(2025, 8, 14)),
    ],
)
def test_a_contracts_term_gives_its_end_date_and_no_term_none(
    note: str, expires: date | None
) -> None:
    assert parse_key_dates(note).contracts[0].expires_on == expires


def test_a_contracts_number_end_date_and_amount_come_in_brackets() -> None:
    notes = parse_key_dates("2024-02-01签订合同（编号HT-2024-001，至2025-01-31，36000元）")
    contract = notes.contracts[0]
    assert (contract.number, contract.expires_on, contract.amount, contract.currency) == (
        "HT-2024-001",
        date(2025, 1, 31),
        Decimal(36000),
        "CNY",
    )


def test_first_contact_is_a_key_date() -> None:
    assert parse_key_dates("首次接触2023-09-05").first_contact == date(2023, 9, 5)


def test_a_purchase_split_by_commas_is_joined_again() -> None:
    notes = parse_key_dates("2022-12-01购买产品A，1000元，2023-01-05投诉：包装破损")
    assert notes.purchases == (
        Purchase(date(2022, 12, 1), "产品A", Decimal(1000), text="2022-12-01购买产品A，1000元"),
    )
    assert notes.complaints[0].subject == "包装破损"


def test_the_english_notes_of_the_material_read_the_same() -> None:
    notes = parse_key_dates(
        "complaint 2023-10-10, resolved 2023-10-16; 2023-08-15 signed annual contract"
    )
    assert [(c.filed_on, c.resolved_on) for c in notes.complaints] == [
        (date(2023, 10, 10), date(2023, 10, 16))
    ]
    assert notes.contracts[0].expires_on == date(2024, 8, 14)


def test_a_resolution_without_its_complaint_is_kept_for_the_ledger_to_match() -> None:
    assert parse_key_dates("2023-10-16解决：补发").resolutions[0].resolution == "补发"


@pytest.mark.parametrize(
    "note",
    [
        "签订年度合同",
        "2023-08-15开会",
        "2023-08-15购买产品A",
        "首次接触2023-09-05,首次接触2023-09-06",
        "2023-08-15签订合同（编号A，至2023-09-01）外加",
        "2023-08-15签订年度合同（至2025-01-01）",
    ],
)
def test_a_key_date_note_not_fully_understood_is_refused(note: str) -> None:
    with pytest.raises((UnreadableNote, BadAmount)):
        parse_key_dates(note, "关键节点记录")


# -- worksheet notes ------------------------------------------------------------------------


def test_a_worksheet_interaction_is_date_channel_and_topic() -> None:
    assert parse_interactions("2023-01-01电话沟通，了解需求") == (
        Interaction(date(2023, 1, 1), Channel.PHONE, "了解需求"),
    )
    assert parse_interactions("2023-02-01 e-mail, confirmed order")[0].channel is Channel.EMAIL


def test_several_interactions_are_separated_by_semicolons_or_lines() -> None:
    found = parse_interactions(
        "2023-01-01电话沟通，了解需求；2023-02-01上门拜访，签约\n2023-03-01微信，回访"
    )
    assert [x.channel for x in found] == [Channel.PHONE, Channel.VISIT, Channel.WECHAT]


@pytest.mark.parametrize(
    "entry", ["电话沟通，了解需求", "2023-01-01飞鸽传书，了解需求", "2023-01-01电话沟通"]
)
def test_an_interaction_needs_date_channel_and_topic(entry: str) -> None:
    with pytest.raises((UnreadableNote, UnknownWord)):
        parse_interactions(entry)


def test_a_worksheet_purchase_is_date_product_and_amount() -> None:
    assert parse_purchases("2022-12-01购买产品A，1000元") == (
        Purchase(date(2022, 12, 1), "产品A", Decimal(1000), text="2022-12-01购买产品A，1000元"),
    )


@pytest.mark.parametrize(
    ("written", "amount", "currency"),
    [
        ("1000元", "1000", "CNY"),
        ("¥1,000", "1000", "CNY"),
        ("1.2万元", "12000", "CNY"),
        ("300 USD", "300", "USD"),
        ("￥99.90", "99.90", "CNY"),
        ("50美元", "50", "USD"),
    ],
)
def test_amounts_carry_their_currency(written: str, amount: str, currency: str) -> None:
    assert parse_amount(written) == (Decimal(amount), currency)


@pytest.mark.parametrize("written", ["1000", "一千元", "1000 XYZ", "¥100 USD", "元"])
def test_an_amount_without_a_known_currency_is_refused(written: str) -> None:
    with pytest.raises(BadAmount):
        parse_amount(written)


def test_a_purchase_without_an_amount_is_refused_not_invented() -> None:
    with pytest.raises(BadAmount):
        parse_purchases("2022-12-01购买产品A")


# -- words ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("word", "channel"),
    [
        ("电话", Channel.PHONE),
        ("电话沟通", Channel.PHONE),
        ("上门拜访", Channel.VISIT),
        ("邮件", Channel.EMAIL),
        ("on-site visit", Channel.VISIT),
        ("WeChat", Channel.WECHAT),
        ("ＱＱ", Channel.QQ),
    ],
)
def test_channel_words(word: str, channel: Channel) -> None:
    assert parse_channel(word) is channel


@pytest.mark.parametrize(
    ("word", "stated"),
    [
        ("活跃", StatedStage.ACTIVE),
        ("风险预警", StatedStage.AT_RISK),
        ("潜在", StatedStage.POTENTIAL),
        ("流失", StatedStage.LOST),
        ("risk warning", StatedStage.AT_RISK),
        ("Lost", StatedStage.LOST),
    ],
)
def test_maintenance_status_words(word: str, stated: StatedStage) -> None:
    assert parse_status(word) is stated


def test_the_type_column_holds_a_type_or_a_stage_never_both() -> None:
    assert parse_customer_type("个人客户") == (CustomerType.INDIVIDUAL, None)
    assert parse_customer_type("企业客户") == (CustomerType.COMPANY, None)
    assert parse_customer_type("潜在客户") == (None, StatedStage.POTENTIAL)


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("*女士", CustomerType.INDIVIDUAL),
        ("王先生", CustomerType.INDIVIDUAL),
        ("*科技有限公司", CustomerType.COMPANY),
        ("ACME Ltd", CustomerType.COMPANY),
    ],
)
def test_when_the_type_column_states_a_stage_the_name_tells_the_type(
    name: str, kind: CustomerType
) -> None:
    assert type_from_name(name, "潜在客户") is kind


def test_a_name_that_does_not_tell_the_type_is_a_typed_error() -> None:
    with pytest.raises(CustomerTypeUnknown):
        type_from_name("华为", "潜在客户")


@pytest.mark.parametrize("word", ["飞鸽", "active-ish", ""])
def test_unknown_words_are_refused(word: str) -> None:
    for parse in (parse_channel, parse_status):
        with pytest.raises(UnknownWord):
            parse(word)


def test_grades_and_scores() -> None:
    assert [parse_grade(g) for g in ("A", "b", "A类", "C级")] == ["A", "B", "A", "C"]
    assert [parse_satisfaction(s) for s in ("4", "4分", "4/5", "4.0", "9")] == [4, 4, 4, 4, 9]
    with pytest.raises(UnknownWord):
        parse_grade("D")
    with pytest.raises(BadNumber):
        parse_satisfaction("很满意")


def test_splitting_keeps_brackets_quotes_and_thousands_together() -> None:
    assert split_top("a，“b,c”，（d,e），1,000元, f", "，,") == [
        "a",
        "“b,c”",
        "（d,e）",
        "1,000元",
        "f",
    ]


# -- writing back ---------------------------------------------------------------------------


@given(
    day=days, channel=st.sampled_from(list(Channel)), topic=text, lang=st.sampled_from(list(Lang))
)
def test_an_interaction_written_back_reads_the_same(
    day: date, channel: Channel, topic: str, lang: Lang
) -> None:
    written = Interaction(day, channel, topic)
    assert parse_interactions(interaction_note(written, lang)) == (written,)


@given(day=days, product=text, amount=amounts, lang=st.sampled_from(list(Lang)))
def test_a_purchase_written_back_reads_the_same(
    day: date, product: str, amount: Decimal, lang: Lang
) -> None:
    read = parse_purchases(purchase_note(Purchase(day, product, amount), lang))
    assert [(p.on, p.product, p.amount, p.currency) for p in read] == [
        (day, product, amount, "CNY")
    ]
