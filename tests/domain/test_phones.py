"""Phones in the forms Chinese files write them, read into one stored form.

Given a number spelt any way people spell it — brackets round the area code, spaces or
dashes between groups, full-width digits, +86 or 0086 in front, an extension after 转,
分机, ext or x — the ledger stores one form: the national number's digits, the
extension after an ``x``. What release 0.1 accepted reads as it did then: events are
never rewritten, and a stored phone normalises to the stored form of the same number.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import a_lead, at, bad_phones, fresh

from customer_ledger import Contact, MalformedPhone, NothingChanged
from customer_ledger.domain.values import phone, phone_shaped
from customer_ledger.privacy.masking import mask_phone

MOBILES = st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True)
# Area code (010, 02x: 3 digits; others 4) and a 7- or 8-digit local number.
LANDLINES = st.one_of(
    st.from_regex(r"0(10|2[0-9])[2-8][0-9]{7}", fullmatch=True),
    st.from_regex(r"0[3-9][0-9]{2}[2-8][0-9]{6,7}", fullmatch=True),
)
EXTENSIONS = st.none() | st.from_regex(r"[0-9]{1,6}", fullmatch=True)
SEPARATORS = st.sampled_from(["", " ", "-", " - ", "－", "–", "—", "\u3000", "."])
EXTENSION_MARKS = st.sampled_from([" 转 ", "转", " 分机 ", "分机", "分机号", " ext ", " ext. ",
                                   "EXT", " x", "x", " X "])  # fmt: skip


def release_0_1(value: str) -> str:
    """How release 0.1 stored a phone (and refused what it did not take)."""
    raw = value.strip()
    if not re.match(r"^\+?[0-9*][0-9* ()-]{5,24}$", raw) or sum(c.isdigit() for c in raw) < 4:
        raise MalformedPhone(raw)
    return re.sub(r"[ ()-]", "", raw)


def _accepted(value: str) -> bool:
    try:
        release_0_1(value)
    except MalformedPhone:
        return False
    return True


def wide(text: str, which: list[bool]) -> str:
    return "".join(
        chr(ord(ch) + 0xFEE0) if wide and "!" <= ch <= "~" else ch
        for ch, wide in zip(text, which + [False] * len(text), strict=False)
    )


@st.composite
def spellings(draw: st.DrawFn) -> tuple[str, str]:
    """(a number as some file writes it, its stored form)."""
    mobile = draw(st.booleans())
    number = draw(MOBILES if mobile else LANDLINES)
    extension = None if mobile else draw(EXTENSIONS)
    stored = number if extension is None else f"{number}x{extension}"
    head, rest = (number[:3], number[3:]) if mobile or number[1] in "12" else (
        number[:4], number[4:])  # fmt: skip
    cut = draw(st.integers(0, len(rest)))
    groups = [head, rest[:cut], rest[cut:]]
    if not mobile and draw(st.booleans()):
        groups[0] = f"({head})"
    written = draw(SEPARATORS).join(g for g in groups if g)
    country = draw(st.sampled_from(["", "+86 ", "+86", "0086 ", "+86-", "＋８６ "]))
    if country:
        trunk = "" if mobile or draw(st.booleans()) else "0"
        written = country + (written if mobile or trunk else written.lstrip("(").replace(
            ")", "", 1).removeprefix("0"))  # fmt: skip
    if extension is not None:
        written += draw(EXTENSION_MARKS) + extension
    written = wide(written, draw(st.lists(st.booleans(), max_size=len(written))))
    spaces = st.text(alphabet=" \u3000", max_size=2)
    return draw(spaces) + written + draw(spaces), stored


@pytest.mark.parametrize(
    ("written", "stored"),
    [
        ("(0512) 6666-1234", "051266661234"),
        ("（0512）6666-1234", "051266661234"),
        ("0512 6666 1234 转 808", "051266661234x808"),
        ("0512-66661234 ext. 808", "051266661234x808"),
        ("0512 66661234 分机 808", "051266661234x808"),
        ("051266661234x808", "051266661234x808"),
        ("+86 138 1234 5678", "13812345678"),
        ("0086 138 1234 5678", "13812345678"),
        ("+86 512 6666 1234", "051266661234"),  # the trunk 0 put back
        ("+86 10 8888 8888", "01088888888"),
        ("１３８１２３４５６７８", "13812345678"),
        ("138-1234-5678", "13812345678"),
        ("138****5678", "138****5678"),  # masked at the source: kept
        ("+86 138****5678", "138****5678"),
        ("+1 415 555 1234", "+14155551234"),  # another country keeps its code
    ],
)
def test_the_forms_chinese_files_use(written: str, stored: str) -> None:
    assert phone(written) == stored


@given(spellings())
def test_every_spelling_of_a_number_is_stored_the_same(case: tuple[str, str]) -> None:
    written, stored = case
    assert phone(written) == stored
    assert phone(stored) == stored  # the stored form reads as itself
    assert phone_shaped(written)


@given(st.from_regex(r"\+?[0-9*][0-9* ()-]{5,24}", fullmatch=True))
def test_what_release_0_1_stored_reads_the_same(written: str) -> None:
    try:
        before = release_0_1(written)
    except MalformedPhone:
        return
    # a stored phone normalises to what the same spelling gives today ...
    # (release 0.1 stored "1234" from "12 3 4" but refused "1234": only what it reads)
    if _accepted(before):
        assert phone(before) == phone(written)
    # ... which is what release 0.1 stored, unless the country code was China's
    if not before.startswith(("+86", "0086")):
        assert phone(written) == before


@given(
    st.one_of(
        bad_phones(),
        st.sampled_from(
            [
                "0512 6666 1234 转",  # an extension mark without an extension
                "转 808",
                "138xxxx5678",  # masked with x: not a mask the ledger knows
                "①②③④⑤⑥⑦",  # circled digits are no digits
                "¹³⁸¹²³⁴⁵⁶⁷⁸",
                "0512 6666 1234 转 1234567",  # an extension of 7 digits
                "++86 138 1234 5678",
                "138 1234 5678 / 139 1234 5678",
                "电话 138 1234 5678",
            ]
        ),
    )
)
def test_junk_is_still_a_malformed_phone(written: str) -> None:
    with pytest.raises(MalformedPhone):
        phone(written)


def test_an_extension_is_shown_after_the_masked_number() -> None:
    assert mask_phone("051266661234x808") == "0512****1234x808"
    assert mask_phone(phone("138 1234 5678")) == "138****5678"


def test_a_command_stores_the_one_form() -> None:
    # given a lead
    ledger = a_lead(fresh())
    # when a contact's phone is written as a Chinese file writes it
    ledger.add_contact(
        "A001", contact=Contact("c1", "王五", phone="（0512）6666-1234 转 808"), occurred_at=at(1)
    )
    # then it is stored in the one form, and the same number spelt otherwise is no change
    assert ledger.customer("A001").contacts["c1"].phone == "051266661234x808"
    with pytest.raises(NothingChanged):
        ledger.update_contact(
            "A001", contact=Contact("c1", "王五", phone="0512 66661234 ext 808"), occurred_at=at(2)
        )
