"""The command line run in-process for tests: its exit code and what it printed."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from attrs import frozen

from customer_ledger.cli.main import main


@frozen
class Run:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


CL = Callable[..., Run]


def invoke(capsys: pytest.CaptureFixture[str], argv: Sequence[str]) -> Run:
    """``customer-ledger ARGV``, through ``main``, with what it wrote to stdout and stderr."""
    code = main(list(argv))
    captured = capsys.readouterr()
    return Run(code, captured.out, captured.err)
