"""Customer numbers (客户编号) are normalised before they are claimed, and looked up by
the same rule: ``a001``, ``A001``, full-width ``Ａ００１`` and `` A001 `` are one customer.
A store older than the rule keeps the numbers it claimed as they were typed: those are
still found.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import a_lead, at, customer_numbers, fresh

from customer_ledger import CustomerLedger, DuplicateCustomerNumber
from customer_ledger.domain.customer import Customer
from customer_ledger.domain.registry import CustomerNumber
from customer_ledger.domain.values import Meta, customer_number

PROPERTY = settings(max_examples=40)


def full_width(text: str) -> str:
    """The full-width form a Chinese input method types: Ａ００１ for A001."""
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def spellings(number: str) -> st.SearchStrategy[str]:
    """Ways a person may type ``number``: any case, full width, surrounded by spaces."""
    return st.tuples(
        st.sampled_from([str.lower, str.upper, str.swapcase, lambda s: s]),
        st.booleans(),
        st.sampled_from(["", " ", "\u3000", "  "]),
    ).map(lambda t: f"{t[2]}{(full_width if t[1] else str)(t[0](number))}{t[2]}")


@PROPERTY
@given(data=st.data(), number=customer_numbers())
def test_every_spelling_of_a_number_is_one_customer(rejects, data, number: str) -> None:
    # given a customer first contacted under one spelling of its number
    ledger = a_lead(fresh(), data.draw(spellings(number)))
    typed = data.draw(spellings(number))
    # then its number is the normalised form, found by any other spelling
    assert ledger.customer(typed).number == number.upper() == customer_number(typed)
    assert ledger.profile(typed).number == number.upper()
    assert customer_number(customer_number(typed)) == customer_number(typed)  # idempotent
    # and another first contact under any spelling is refused, recording nothing
    with rejects(ledger, DuplicateCustomerNumber):
        ledger.first_contact(typed, name="*女士", type="individual", occurred_at=at(1))


def legacy_customer(ledger: CustomerLedger, typed: str) -> None:
    """A customer recorded before numbers were normalised: its events and its claim say
    the number as it was typed."""
    customer = Customer.first_contact(
        number="A001", name="*先生", type="individual", occurred_at=at(0),
        meta=Meta(actor="*助理"), now=at(0),
    )  # fmt: skip
    for event in customer.pending_events:
        object.__setattr__(event, "number", typed)
    customer.number = typed
    ledger.save(customer, CustomerNumber(number=typed, customer_id=customer.id))


def test_a_number_claimed_before_the_rule_is_still_found(ledger, rejects) -> None:
    # given an older store's customer whose number was claimed as typed, "a001"
    legacy_customer(ledger, "a001")
    # when it is looked up as typed then, or in the normalised form
    # then it is found, and commands reach it
    assert ledger.customer("a001").number == "a001"
    assert ledger.customer("A001").id == ledger.customer("a001").id
    ledger.tag("Ａ００１", tag="vip", occurred_at=at(1))
    assert ledger.profile("a001").tags == ("vip",)
    # and its number cannot be claimed again under another spelling
    with rejects(ledger, DuplicateCustomerNumber):
        ledger.first_contact("A001", name="*女士", type="individual", occurred_at=at(1))
