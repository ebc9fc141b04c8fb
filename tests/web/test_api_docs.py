"""docs/api.md stays true: its embedding example runs, it describes every endpoint of the
OpenAPI document, and its error table gives each family the status the server answers."""

from __future__ import annotations

import re
from typing import Any

from litestar.testing import TestClient
from paths import ROOT
from web_support import basic, open_ledger

from customer_ledger import errors
from customer_ledger.application.commands import COMMANDS
from customer_ledger.web.app import create_app
from customer_ledger.web.errors import status_of

DOC = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
COMMANDS_DOC = (ROOT / "docs" / "commands.md").read_text(encoding="utf-8")


def test_the_embedding_example_runs() -> None:
    [example] = re.findall(r"```python\n(.*?)```", DOC, re.S)
    namespace: dict[str, Any] = {}
    exec(compile(example, "docs/api.md", "exec"), namespace)
    assert namespace["app"].route_handler_method_map  # an ASGI app with its routes
    namespace["ledger"].close()


def test_every_endpoint_is_described() -> None:
    ledger = open_ledger("memory://")
    try:
        with TestClient(create_app(ledger, secret=b"k" * 32)) as client:
            paths = client.get("/api/openapi.json", headers=basic("admin")).json()["paths"]
    finally:
        ledger.close()
    commands = {f"/api/customers/{{number}}/{c}" for c in COMMANDS}
    assert "POST /api/customers/{number}/{command}" in DOC
    for path, operations in paths.items():
        if path in commands:  # one per command: its fields are in docs/commands.md
            assert f"### `{path.rsplit('/', 1)[1]}`" in COMMANDS_DOC
            continue
        for method in operations:
            assert f"{method.upper()} {path}" in DOC, f"docs/api.md lacks {method.upper()} {path}"


def test_the_error_table_gives_each_rule_its_status() -> None:
    table = dict(re.findall(r"^\| (\d{3}) \| [^|]+ \| ([^|]+) \|$", DOC, re.M))
    by_rule = {
        rule.strip("` ."): int(status)
        for status, rules in table.items()
        for rule in rules.split(",")
        if rule.strip().startswith("`")
    }
    families = {
        cls.rule: cls for cls in vars(errors).values()
        if isinstance(cls, type) and issubclass(cls, errors.LedgerError)
    }  # fmt: skip
    checked = 0
    for rule, status in by_rule.items():
        if rule in families:
            assert status_of(families[rule]()) == status, rule
            checked += 1
    assert checked >= 15
