"""Who may do what: actors, roles and the permission policy.

Roles decide which commands an actor may run and whether it may read personal data
unmasked. The default policy follows how sales and service teams split the work; an
embedding application passes its own ``Policy`` (or a JSON file via the CLI).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping

from attrs import field, frozen

from customer_ledger.domain.errors import DomainError, InvalidValue
from customer_ledger.domain.values import text

DEFAULT_ROLE = "sales"  # of an actor named without a role: an ordinary user, never system


class PermissionDenied(DomainError):
    rule = "permission_denied"


def _role(value: object) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > 64:
        raise InvalidValue(f"role must be a short name, got {value!r}")
    return text(value, "role")  # no control characters: views store it as SQL text


def _actor_id(value: object) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > 200:
        raise InvalidValue("actor must name who records the change")
    return text(value, "actor")  # a NUL here would stop PostgreSQL views catching up


@frozen
class Actor:
    """A person or system acting on the ledger, in one role."""

    id: str = field(converter=_actor_id)
    role: str = field(default=DEFAULT_ROLE, converter=_role)


RECORD_KEEPING = frozenset(
    {
        "first_contact", "update_profile", "add_contact", "update_contact", "remove_contact",
        "tag", "untag", "record_needs", "log_interaction", "schedule_reminder",
        "complete_reminder", "link_attachment", "rate_satisfaction",
    }
)  # fmt: skip
SALES = RECORD_KEEPING | {"record_purchase", "sign_contract", "renew_contract", "file_complaint"}
SERVICE = RECORD_KEEPING | {"file_complaint", "resolve_complaint"}
MANAGER = (
    SALES
    | SERVICE
    | {
        "assign_owner", "assign_grade", "terminate_contract", "churn", "reactivate",
        "set_stage_on_import", "clear_risk_flag", "merge",
    }
)  # fmt: skip
EVERYTHING = "*"


@frozen
class Role:
    """What a role may do: run ``commands``, read personal data unmasked (with a reason,
    recorded), and see individuals' names in masked output (``show_names``: the people
    who work with a customer call them by name; an auditor needs no names)."""

    commands: frozenset[str]
    read_personal: bool
    show_names: bool = False

    def allows(self, command: str) -> bool:
        return EVERYTHING in self.commands or command in self.commands


DEFAULT_ROLES: dict[str, Role] = {
    "sales": Role(SALES, read_personal=True, show_names=True),
    "service": Role(SERVICE, read_personal=True, show_names=True),
    "manager": Role(MANAGER, read_personal=True, show_names=True),
    "auditor": Role(frozenset(), read_personal=False),
    "admin": Role(frozenset({EVERYTHING}), read_personal=True, show_names=True),
    "system": Role(frozenset({EVERYTHING}), read_personal=False, show_names=True),  # the program
}


@frozen
class Policy:
    """Roles by name; an unknown role may do nothing. ``default_role`` is the role of an
    actor named without one (a plain string): an ordinary user's (a policy without that
    role lets such an actor do nothing)."""

    roles: Mapping[str, Role] = field(factory=lambda: dict(DEFAULT_ROLES))
    default_role: str = field(default=DEFAULT_ROLE, converter=_role)

    @classmethod
    def from_mapping(cls, data: Mapping[str, object], default_role: str = DEFAULT_ROLE) -> Policy:
        """``{"role": {"commands": [...] or "*", "read_personal": bool, "show_names":
        bool}, ...}``."""
        roles = {}
        for name, spec in data.items():
            if not isinstance(spec, Mapping):
                raise InvalidValue(f"role {name!r} must map to commands and read_personal")
            commands = spec.get("commands", [])
            if commands == EVERYTHING:
                commands = [EVERYTHING]
            if not isinstance(commands, Iterable) or isinstance(commands, str):
                raise InvalidValue(f"role {name!r}: commands must be a list or '*'")
            roles[_role(name)] = Role(
                frozenset(str(c) for c in commands),
                bool(spec.get("read_personal", False)),
                bool(spec.get("show_names", False)),
            )
        return cls(roles, default_role)

    def actor(self, actor: Actor | str) -> Actor:
        """``actor``, or for a name alone an actor of that name in the default role."""
        if isinstance(actor, Actor):
            return actor
        if type(actor) is not str:
            raise InvalidValue("actor must be an Actor or the name of who acts")
        return _named(actor, self.default_role)

    def check(self, actor: Actor, command: str) -> None:
        role = self.roles.get(actor.role)
        if role is None or not role.allows(command):
            raise PermissionDenied(f"{actor.id} ({actor.role}) may not {command}")

    def check_personal_read(self, actor: Actor) -> None:
        role = self.roles.get(actor.role)
        if role is None or not role.read_personal:
            raise PermissionDenied(f"{actor.id} ({actor.role}) may not read personal data")

    def shows_names(self, actor: Actor) -> bool:
        """Whether masked output shows this reader individuals' names."""
        role = self.roles.get(actor.role)
        return role is not None and role.show_names


@functools.lru_cache(maxsize=1024)
def _named(name: str, role: str) -> Actor:
    """Actors are frozen: an import's every line acts as the same one, checked once."""
    return Actor(name, role)
