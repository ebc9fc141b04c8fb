"""Personal data at the application's edge: masking a profile for a reader who may
not see it, and forgetting a customer.

``shred`` is the second half of ``CustomerLedger.forget``: after ``CustomerForgotten``
is recorded it destroys the key, lets the views rewrite the customer's rows and scrubs
the store, so no copy of the old values is left behind.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import attrs
from attrs import evolve, frozen

from customer_ledger.domain.personal import ERASED
from customer_ledger.domain.values import CustomerType
from customer_ledger.privacy.fields import Path, plan_of, walk
from customer_ledger.privacy.masking import mask_name, masked_data
from customer_ledger.projections.analytics_facts import CustomerFacts
from customer_ledger.projections.profile import Profile
from customer_ledger.projections.views import KINDS
from customer_ledger.serialization import converter, unstructure_state


def masked(profile: Profile, *, show_names: bool = True) -> Profile:
    """The profile with every personal field masked (exports use it too): contacts'
    phones, e-mails, WeChat, QQ and addresses, birthdays left out, an individual's
    licence (id) number and address; people's names too unless ``show_names``."""
    data = masked_data(Profile, profile.to_json(), show_names=show_names)
    shown: Profile = converter.structure(data, Profile)
    return shown


def masked_facts(facts: CustomerFacts, *, show_names: bool = True) -> CustomerFacts:
    """Analytics facts for a reader: names masked unless ``show_names``; birthdays kept
    (the reminders a month ahead are their purpose), their contacts' names likewise."""
    if show_names:
        return facts
    name = facts.name if facts.type is CustomerType.COMPANY else mask_name(facts.name)
    birthdays = tuple(evolve(b, name=mask_name(b.name)) for b in facts.birthdays)
    return evolve(facts, name=name, birthdays=birthdays)


@frozen
class ForgetResult:
    """What ``CustomerLedger.forget`` did. ``notes`` says what could not be scrubbed."""

    customer_id: UUID
    number: str
    version: int
    key_destroyed: bool  # False when an earlier, interrupted forget had destroyed it
    notes: tuple[str, ...] = ()
    replayed: bool = attrs.field(default=False, eq=False)


def shred(
    ledger: Any, customer_id: UUID, *, scrub: bool = True, full: bool = False
) -> tuple[bool, list[str]]:
    """Destroys the customer's key, rewrites its view rows, scrubs the store.

    The views need no key to erase: they apply ``CustomerForgotten`` like any event,
    and the aggregate's handler erases the personal fields. Scrubbing then removes
    the old row versions the databases keep (SQLite: VACUUM and a truncated WAL;
    PostgreSQL: VACUUM). Returns (whether a live key was destroyed, notes).
    """
    destroyed = ledger.keys.destroy(customer_id)
    notes: list[str] = []
    legacy = plaintext_left(ledger, customer_id)
    if legacy:
        notes.append(
            f"{legacy} event(s) of this customer were recorded before personal data was "
            "encrypted and still hold it in clear: events cannot be changed"
        )
    try:
        ledger.refresh()
    except Exception as error:  # the key is gone already; say what is left to do
        notes.append(f"the views could not catch up ({error}): run `customer-ledger rebuild`")
    for kind in KINDS:
        if ledger.views.has_rebuild(kind):
            notes.append(
                f"a {kind} rebuild is in progress: its tables keep the old values until it "
                "passes the CustomerForgotten event (finish it, or discard it with --fresh)"
            )
    if scrub:
        notes += ledger.keys.scrub(full=full)
    return destroyed, notes


def plaintext_left(ledger: Any, customer_id: UUID) -> int:
    """How many of the customer's events hold personal data in clear once its key is
    destroyed (then every sealed value reads ``[erased]``): events recorded before
    personal data was encrypted (release 0.1), which can never be changed."""
    count = 0
    for event in ledger.events.get(customer_id):
        plan = plan_of(type(event))
        if plan is None:
            continue
        clear: list[Path] = []

        def note(value: Any, path: Path, _: str, clear: list[Path] = clear) -> Any:
            if value != ERASED:
                clear.append(path)
            return value

        walk(plan, unstructure_state(type(event), vars(event)), (), note)
        count += bool(clear)
    return count
