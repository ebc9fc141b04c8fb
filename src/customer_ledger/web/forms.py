"""Web forms for the ledger's commands, made from the one command schema.

A form's fields are ``command_params(command)`` (the CLI's subcommand options and the
JSON Lines fields), so nothing here states a command's fields. A submitted form is
turned into the same JSON Lines line the CLI builds (``from_text``), parsed and checked
by ``formats.jsonl.parse_command``, and run as the page's user. A rule's error is put
next to the field its message names.
"""

from __future__ import annotations

import datetime
import decimal
import re
from collections.abc import Mapping
from typing import Any

from attrs import frozen

from customer_ledger.application.schema import (
    FIELD_HELP,
    Param,
    command_params,
    from_text,
    options_of,
)
from customer_ledger.domain.values import Channel, CustomerType, Grade, Stage

# The metadata every command takes: shown after the command's own fields.
META = ("occurred_at", "reason", "command_id", "correlation_id", "source_actor")
META_HELP = {
    "occurred_at": "when it happened: YYYY-MM-DD or a date-time; default now (补录 when late)",
    "reason": "why (recorded with the event)",
    "correlation_id": "ties this change to others of one request or process",
    "source_actor": "who the source (a paper form, a file) says did it",
}
# Fields whose values are one of the domain's words: a choice (the page shows each in its
# language, the form sends the word); an empty choice is no value (a grade: clears it).
CHOICES: dict[str, tuple[str, ...]] = {
    "type": tuple(c.value for c in CustomerType),
    "channel": tuple(c.value for c in Channel),
    "grade": tuple(c.value for c in Grade),
    "stage": tuple(c.value for c in Stage),
}
# Rules whose field the message may not spell out.
RULE_FIELDS = {
    "malformed_phone": "phone",
    "malformed_email": "email",
    "unknown_currency": "currency",
    "negative_amount": "amount",
    "zero_value_purchase": "amount",
    "future_date": "occurred_at",
    "duplicate_customer_number": "customer",
    "unknown_contact": "contact_id",
    "duplicate_contact": "contact_id",
    "duplicate_contract_number": "number",
    "unknown_contract": "contract",
    "contract_not_active": "contract",
    "duplicate_complaint": "complaint",
    "complaint_not_open": "complaint",
    "unknown_reminder": "reminder",
    "duplicate_reminder": "reminder_id",
    "reminder_already_completed": "reminder",
    "satisfaction_out_of_range": "score",  # rate_satisfaction's (resolve_complaint's is named)
}


@frozen
class FormField:
    """One labelled input: ``kind`` is ``text``, ``flag`` (yes / no / not given) or
    ``choice`` (one of ``choices``, or none)."""

    name: str
    kind: str
    required: bool
    help: str
    meta: bool
    choices: tuple[str, ...] = ()


def form_fields(command: str) -> list[FormField]:
    """The inputs of ``command``'s form, its own fields first, then the metadata; a
    first contact's form also asks the new customer's number."""
    fields: list[FormField] = []
    if command == "first_contact":
        fields.append(FormField("customer", "text", True, "customer number, e.g. A001", False))
    params = command_params(command)
    for param in params.values():
        if param.name == "command_id":
            continue  # the page's own, hidden
        meta = param.name in META
        choices = CHOICES.get(param.name, ())
        fields.append(
            FormField(
                param.name,
                "flag" if _is_flag(param) else "choice" if choices else "text",
                param.required,
                META_HELP.get(param.name) or FIELD_HELP.get(param.name, "") or _hint(param),
                meta,
                choices,
            )
        )
    return fields


def line_of(command: str, number: str | None, data: Mapping[str, Any]) -> dict[str, Any]:
    """The JSON Lines line a submitted form stands for (empty inputs are no value; for a
    field that must be given but may be none, such as a grade to clear, they are none)."""
    line: dict[str, Any] = {"command": command}
    if number is not None:
        line["customer"] = number
    elif isinstance(data.get("customer"), str) and data["customer"].strip():
        line["customer"] = data["customer"].strip()
    for param in command_params(command).values():
        given = data.get(param.name)
        if not isinstance(given, str):
            continue
        value = from_text(param, given)
        if value is not None:
            line[param.name] = value
        elif param.required and options_of(param.hint)[0]:
            line[param.name] = None  # a field that must be given, and may be none (a grade)
    return line


def field_of(command: str, rule: str, message: str) -> str | None:
    """The field an error is about: one the message names, else the rule's own."""
    names = [f.name for f in form_fields(command)]  # (not the hidden command id)
    for name in sorted(names, key=len, reverse=True):
        if re.search(rf"(?<![\w]){re.escape(name)}(?![\w])", message):
            return name
    wanted = RULE_FIELDS.get(rule)
    return wanted if wanted in names else None


def _is_flag(param: Param) -> bool:
    _, options = options_of(param.hint)
    return options == (bool,)


def _hint(param: Param) -> str:
    _, options = options_of(param.hint)
    for kind, word in (
        (datetime.datetime, "YYYY-MM-DD"),
        (datetime.date, "YYYY-MM-DD"),
        (decimal.Decimal, "1999.90"),
        (int, "1, 2, 3 ..."),
    ):
        if kind in options:
            return word
    return ""
