"""Reminders due (提醒) as of a date, from the dated facts.

* ``contract_expiry``: an active contract whose expiry in force falls within
  ``within_days`` from ``as_of`` (``as_of`` included).
* ``birthday`` (contacts) and ``anniversary`` (of the cooperation start, 合作周年):
  shown from ``greeting_days`` (one month) ahead; not for churned customers.
* ``follow_up``: the ``follow_up_on`` date an interaction planned, until another
  interaction on or after that date is logged; due within ``within_days``, or overdue.
* ``reminder``: a scheduled reminder not completed by ``as_of``; due within
  ``within_days``, or overdue.

``days`` is ``due_on - as_of``: negative means overdue.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date, timedelta
from enum import StrEnum

from attrs import frozen

from customer_ledger.analytics.dates import next_yearly
from customer_ledger.analytics.settings import DEFAULT_SETTINGS, AnalyticsSettings
from customer_ledger.domain.values import Stage
from customer_ledger.errors import InvalidValue
from customer_ledger.projections.analytics_facts import CustomerFacts

MAX_WITHIN_DAYS = 3660


class ReminderKind(StrEnum):
    CONTRACT_EXPIRY = "contract_expiry"
    BIRTHDAY = "birthday"
    ANNIVERSARY = "anniversary"
    FOLLOW_UP = "follow_up"
    REMINDER = "reminder"


KIND_LABELS_ZH = {
    ReminderKind.CONTRACT_EXPIRY: "合同到期",
    ReminderKind.BIRTHDAY: "生日",
    ReminderKind.ANNIVERSARY: "合作周年",
    ReminderKind.FOLLOW_UP: "计划跟进",
    ReminderKind.REMINDER: "提醒",
}


@frozen
class DueReminder:
    kind: ReminderKind
    number: str
    name: str
    owner: str | None
    due_on: date
    days: int  # due_on - as_of; negative: overdue
    subject: str
    ref: str | None = None  # contract number, contact id or reminder id
    subject_zh: str | None = None  # a subject the ledger words, in Chinese (else as typed)

    @property
    def overdue(self) -> bool:
        return self.days < 0


def within_days(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_WITHIN_DAYS:
        raise InvalidValue(f"within_days must be 0..{MAX_WITHIN_DAYS} days, got {value!r}")
    return value


def reminders_due(
    facts: Iterable[CustomerFacts],
    as_of: date,
    within: int = 30,
    *,
    owner: str | None = None,
    settings: AnalyticsSettings | None = None,
) -> list[DueReminder]:
    """What needs doing by ``as_of + within`` days, by due date (so overdue first)."""
    settings = DEFAULT_SETTINGS if settings is None else settings
    horizon = as_of + timedelta(days=within_days(within))
    greet_by = as_of + timedelta(days=settings.greeting_days)
    found: list[DueReminder] = []
    for f in facts:
        if not f.known(as_of) or (owner is not None and f.owner != owner):
            continue
        items = [
            *_contracts(f, as_of, horizon),
            *_follow_ups(f, as_of, horizon),
            *_scheduled(f, as_of, horizon),
        ]
        if f.stage(as_of) is not Stage.CHURNED:
            items += [*_birthdays(f, as_of, greet_by), *_anniversary(f, as_of, greet_by)]
        found += [
            DueReminder(kind, f.number, f.name, f.owner, due, (due - as_of).days, subject, ref, zh)
            for kind, due, subject, zh, ref in items
        ]
    return sorted(found, key=lambda r: (r.due_on, r.number, r.kind.value, r.ref or ""))


Item = tuple[ReminderKind, date, str, str | None, str | None]  # (..., subject, in Chinese, ref)


def _contracts(f: CustomerFacts, as_of: date, horizon: date) -> Iterator[Item]:
    for contract in f.contracts:
        expiry = contract.expiry(as_of)
        if contract.active(as_of) and expiry is not None and as_of <= expiry <= horizon:
            subject = f"contract {contract.number} expires"
            zh = f"合同 {contract.number} 到期"
            yield ReminderKind.CONTRACT_EXPIRY, expiry, subject, zh, contract.number


def _birthdays(f: CustomerFacts, as_of: date, greet_by: date) -> Iterator[Item]:
    for b in f.birthdays:
        day, _ = next_yearly(b.birthday, as_of)
        if day <= greet_by:
            subject, zh = f"birthday of {b.name}", f"{b.name} 的生日"
            yield ReminderKind.BIRTHDAY, day, subject, zh, b.contact_id


def _anniversary(f: CustomerFacts, as_of: date, greet_by: date) -> Iterator[Item]:
    since = f.cooperation_since
    if since is None or since > as_of:
        return
    day, years = next_yearly(since, as_of, first_year=1)
    if day <= greet_by:
        subject = f"{_ordinal(years)} anniversary of cooperation (since {since})"
        zh = f"合作 {years} 周年（自 {since} 起）"
        yield ReminderKind.ANNIVERSARY, day, subject, zh, None


def _follow_ups(f: CustomerFacts, as_of: date, horizon: date) -> Iterator[Item]:
    logged = [i for i in f.interactions if i.on <= as_of]
    for index, plan in enumerate(logged):
        due = plan.follow_up_on
        if due is None or due > horizon:
            continue
        done = any(other.on >= due for k, other in enumerate(logged) if k != index)
        if not done:
            if plan.follow_up:  # as typed
                subject, zh = plan.follow_up, None
            else:
                subject, zh = f"follow up the contact of {plan.on}", f"跟进 {plan.on} 的联系"
            yield ReminderKind.FOLLOW_UP, due, subject, zh, None


def _scheduled(f: CustomerFacts, as_of: date, horizon: date) -> Iterator[Item]:
    for r in f.reminders:
        if r.pending(as_of) and r.due_on <= horizon:
            yield ReminderKind.REMINDER, r.due_on, r.subject, None, r.reminder_id


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"
