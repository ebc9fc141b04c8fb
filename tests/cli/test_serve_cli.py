"""``customer-ledger serve``: the API on the store, handed to uvicorn."""

from __future__ import annotations

import base64
import io
from pathlib import Path
from typing import Any

import pytest
from cli_support import invoke
from litestar.testing import TestClient


def test_serve_hands_uvicorn_the_api_over_the_store(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    store = f"sqlite:///{tmp_path}/ledger.db"
    assert invoke(capsys, ["--store", store, "demo"]).code == 0
    monkeypatch.setattr("sys.stdin", io.StringIO("correct horse\n"))
    add = ["--store", store, "users", "add", "wang", "--role", "sales", "--password-stdin"]
    assert invoke(capsys, add).code == 0
    served: dict[str, Any] = {}

    def run(app: Any, **options: Any) -> None:  # uvicorn.run, without the serving
        served.update(options, app=app)
        with TestClient(app) as client:
            auth = {"Authorization": "Basic " + base64.b64encode(b"wang:correct horse").decode()}
            served["profile"] = client.get("/api/customers/A001", headers=auth).json()
            served["anonymous"] = client.get("/api/customers/A001").status_code
            served["login page"] = client.get("/login").status_code

    monkeypatch.setattr("uvicorn.run", run)
    result = invoke(capsys, ["--store", store, "serve", "--port", "8123"])
    assert result.code == 0, result.err
    assert (served["host"], served["port"]) == ("127.0.0.1", 8123)
    assert served["profile"]["number"] == "A001" and served["anonymous"] == 401
    assert served["login page"] == 200  # the pages are served beside the API
    assert "1 users" in result.err


def test_serve_needs_one_worker_at_least(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    result = invoke(capsys, ["--store", f"sqlite:///{tmp_path}/l.db", "serve", "--workers", "0"])
    assert result.code == 1 and result.err.startswith("error [invalid_value]")
