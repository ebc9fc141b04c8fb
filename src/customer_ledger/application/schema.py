"""The one command schema: what fields each command takes, read off its method.

``command_params(name)`` lists the fields a command takes besides the customer number:
the keyword parameters of its ``Commands`` method (with their type hints), where a
method's one structured value (a ``Contact``, ``Needs``, a profile's changes) is given
as flat fields, as JSON Lines, the command line and web forms give them, plus the
metadata every command takes. ``nest`` puts such flat fields back into the method's
parameter. Every front end builds its fields from this (JSON Lines, CLI subcommands,
web forms, the HTTP API), so a command's fields are stated once, in its signature.
"""

from __future__ import annotations

import inspect
import re
import types
import typing
from datetime import date, datetime, tzinfo
from functools import cache
from typing import Any

import attrs
from attrs import frozen

from customer_ledger.application.arguments import META_FIELDS, as_day
from customer_ledger.application.commands import COMMANDS, CommandResult, Commands
from customer_ledger.domain.customer import PROFILE_FIELDS
from customer_ledger.domain.values import Contact, Needs
from customer_ledger.errors import UnknownCommand, WrongType

# The metadata a command's schema has: all but ``actor``, who acts, which a front end
# supplies from the identity of its user, never from the command's fields.
SCHEMA_META = tuple(m for m in META_FIELDS if m != "actor")

# Commands whose one structured parameter is given as flat fields on the line.
FLAT_VALUES: dict[str, tuple[str, type]] = {
    "add_contact": ("contact", Contact),
    "update_contact": ("contact", Contact),
    "record_needs": ("needs", Needs),
}


@frozen
class Param:
    """One field a command line may carry: its type hint and whether it is required."""

    name: str
    hint: Any
    required: bool


@frozen
class Command:
    """A checked line, ready to run: ``getattr(ledger, name)(customer, **kwargs)``."""

    name: str
    customer: str
    kwargs: dict[str, Any]

    def run(self, target: Commands) -> CommandResult:
        """On a ledger (its own transaction) or a ``Batch`` (part of the batch's)."""
        result: CommandResult = getattr(target, self.name)(self.customer, **self.kwargs)
        return result


@cache
def command_params(name: str) -> dict[str, Param]:
    """The fields a line for ``name`` may carry, besides ``command`` and ``customer``."""
    if name not in COMMANDS:
        raise UnknownCommand(f"unknown command {name!r}; commands are: {', '.join(COMMANDS)}")
    method = getattr(Commands, name)
    hints = typing.get_type_hints(method)
    params: dict[str, Param] = {}
    for p in inspect.signature(method).parameters.values():
        if p.kind is not inspect.Parameter.KEYWORD_ONLY:
            continue  # self, the customer number, **meta
        if name in FLAT_VALUES and p.name == FLAT_VALUES[name][0]:
            params.update(_flat_params(FLAT_VALUES[name][1]))
        elif name == "update_profile" and p.name == "changes":
            params.update({f: Param(f, str | None, False) for f in PROFILE_FIELDS})
        else:
            params[p.name] = Param(p.name, hints[p.name], p.default is inspect.Parameter.empty)
    for meta in SCHEMA_META:  # churn's own ``reason`` is required, so it comes first
        params.setdefault(
            meta, Param(meta, datetime if meta == "occurred_at" else str | None, False)
        )
    return params


@cache
def date_fields(name: str) -> tuple[str, ...]:
    """The fields of ``name`` that hold a calendar day (signed_on, due_on, birthday...)."""
    return tuple(p.name for p in command_params(name).values() if date in options_of(p.hint)[1])


def with_dates(name: str, args: dict[str, Any], zone: tzinfo) -> dict[str, Any]:
    """A command's arguments with every date field as a date, from whatever
    ``occurred_at`` accepts (``sign_contract(signed_on="2024-02-02")``), ``zone`` being
    the ledger's: the one place every front end's dates go through, flat or inside the
    command's one value (a contact's birthday)."""
    fields = date_fields(name) if name in COMMANDS else ()  # (forget: no schema, no dates)
    if not fields:
        return args
    if name in FLAT_VALUES:
        param = FLAT_VALUES[name][0]
        value: Any = args.get(param)
        if not attrs.has(type(value)):
            return args  # not a Contact: the command refuses it
        own = {f: getattr(value, f) for f in fields if hasattr(value, f)}
        changed = {f: as_day(v, f, zone) for f, v in own.items()}
        if changed == own:
            return args
        return {**args, param: attrs.evolve(value, **changed)}
    dated = {f: as_day(args[f], f, zone) for f in fields if f in args}
    return {**args, **dated}


# What a field takes, where its type does not say it: help texts, form hints, API docs.
FIELD_HELP: dict[str, str] = {
    "type": "company or individual (企业/个人)",
    "name": "the customer's or person's name",
    "channel": "phone, visit, email, event, wechat, qq, social, meeting or other",
    "grade": "A, B or C; empty clears it",
    "stage": "lead, prospect, customer, at_risk or churned (or the sheet's word)",
    "amount": "a decimal amount, e.g. 1999.90",
    "currency": "an ISO 4217 code, default CNY",
    "quantity": "how many, default 1",
    "score": "1 (very unhappy) to 5 (very happy)",
    "satisfaction": "the customer's satisfaction, 1 to 5",
    "phone": "a mobile or landline, as files write it: 138-1234-5678, (0512) 6666-1234 转 808",
    "primary": "whether this is the main contact",
    "vip": "whether the customer is a VIP",
    "allow_duplicate": "record it even if it looks like a customer already recorded",
    "sha256": "the file's SHA-256, 64 hex digits",
    "uri": "where the file is kept",
    "contract": "the contract's number",
    "complaint": "the complaint's id (e.g. K1)",
    "reminder": "the reminder's id",
    "contact_id": "the contact person's id within this customer",
    "duration_minutes": "how long it took, in minutes",
    "row": "the spreadsheet row, as evidence",
}


def command_help(name: str) -> str:
    """What the command does, in a line: the first paragraph of its method's docstring
    (a front end's help text, a form's title, an endpoint's summary)."""
    doc = inspect.getdoc(getattr(Commands, name)) or name.replace("_", " ")
    return " ".join(doc.split("\n\n")[0].split())


_TRUE = frozenset({"true", "yes", "y", "1", "on", "是", "对"})
_FALSE = frozenset({"false", "no", "n", "0", "off", "否", "不"})
_WHOLE = re.compile(r"[+-]?[0-9]{1,18}", re.ASCII)


def from_text(param: Param, value: str) -> Any:
    """A value typed as text (a command-line option, a form field) as a JSON line would
    carry it: flags and whole numbers converted, the rest left as text for the line's
    own checks (dates, amounts). Empty text is no value."""
    if value.strip() == "":
        return None
    _, options = options_of(param.hint)
    if options == (bool,):
        word = value.strip().lower()
        if word in _TRUE or word in _FALSE:
            return word in _TRUE
        raise WrongType(f"{param.name} must be yes or no (是/否), got {value!r}")
    if options == (int,):
        if not _WHOLE.fullmatch(value.strip()):
            raise WrongType(f"{param.name} must be a whole number, got {value!r}")
        return int(value.strip())
    return value


def options_of(hint: Any) -> tuple[bool, tuple[Any, ...]]:
    """Whether ``hint`` takes None, and the types it takes besides."""
    union = typing.get_origin(hint) in (typing.Union, types.UnionType)
    options = typing.get_args(hint) if union else (hint,)
    return type(None) in options, tuple(o for o in options if o is not type(None))


def _flat_params(cls: type) -> dict[str, Param]:
    hints = typing.get_type_hints(cls)
    return {
        f.name: Param(f.name, hints[f.name], f.default is attrs.NOTHING) for f in attrs.fields(cls)
    }


def nest(name: str, values: dict[str, Any]) -> dict[str, Any]:
    """Puts flat Contact / Needs / profile fields back into the method's one parameter."""
    if name in FLAT_VALUES:
        param, cls = FLAT_VALUES[name]
        own = {k: values.pop(k) for k in list(values) if k in attrs.fields_dict(cls)}
        values[param] = cls(**own)  # values are typed already; the domain validates
    elif name == "update_profile":
        values["changes"] = {k: values.pop(k) for k in list(values) if k in PROFILE_FIELDS}
    return values
