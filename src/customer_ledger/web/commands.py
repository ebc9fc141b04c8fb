"""One POST endpoint per ledger command, its body the import format's fields.

The body classes are attrs classes made from the one command schema
(``application.schema.command_params``), so Litestar describes each body in the
OpenAPI document from the same fields the CLI and JSON Lines use. The body itself is
not decoded by Litestar: ``RawBody`` hands the bytes to the JSON Lines parser
(``formats.jsonl.parse_command``), so a request is checked exactly as an import line
is (unknown fields, missing fields, types), with the same errors.
"""

from __future__ import annotations

from collections.abc import Generator
from functools import cache
from typing import Any

import attrs
from litestar.dto import AbstractDTO
from litestar.dto.data_structures import DTOFieldDefinition
from litestar.openapi.spec import Reference, Schema
from litestar.typing import FieldDefinition

from customer_ledger.application.commands import COMMANDS
from customer_ledger.application.schema import FIELD_HELP, command_params


def _class_name(command: str, prefix: str = "") -> str:
    return prefix + "".join(part.title() for part in command.split("_")) + "Body"


@cache
def body_class(command: str) -> type:
    """``command``'s fields as an attrs class (for the OpenAPI document only); the
    first contact's also names the new customer's number."""
    fields: dict[str, Any] = {}
    if command == "first_contact":
        fields["customer"] = attrs.field(type=str, metadata={"help": "the new customer number"})
    params = command_params(command)
    required = [p for p in params.values() if p.required]
    optional = [p for p in params.values() if not p.required]
    for p in required:
        fields[p.name] = attrs.field(type=p.hint, metadata={"help": FIELD_HELP.get(p.name, "")})
    for p in optional:
        fields[p.name] = attrs.field(
            type=p.hint, default=None, metadata={"help": FIELD_HELP.get(p.name, "")}
        )
    cls = attrs.make_class(_class_name(command), fields, frozen=True)
    cls.__doc__ = f"The fields of {command}, as in the JSON Lines import format."
    return cls


BODY_CLASSES = {name: body_class(name) for name in COMMANDS}


class RawBody(AbstractDTO[Any]):
    """Leaves the body as bytes for the handler, while the OpenAPI document describes
    it with the DTO's model (a ``body_class``)."""

    @classmethod
    def generate_field_definitions(
        cls, model_type: type[Any]
    ) -> Generator[DTOFieldDefinition, None, None]:
        yield from ()

    @classmethod
    def detect_nested_field(cls, field_definition: FieldDefinition) -> bool:
        return False

    @classmethod
    def create_for_field_definition(
        cls, field_definition: FieldDefinition, handler_id: str, backend_cls: Any = None
    ) -> None:
        return None

    def decode_bytes(self, value: bytes) -> Any:
        return value

    def decode_builtins(self, value: dict[str, Any]) -> Any:
        return value

    @classmethod
    def create_openapi_schema(
        cls, field_definition: FieldDefinition, handler_id: str, schema_creator: Any
    ) -> Reference | Schema:
        schema: Reference | Schema = schema_creator.for_field_definition(
            FieldDefinition.from_annotation(cls.model_type)
        )
        return schema
