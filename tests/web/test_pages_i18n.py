"""Chinese first: every rule the ledger can name, every form field's label and hint and
every choice a form offers has a Chinese text; the English switch keeps the English.

The lists are read from the code (every error class of every module, the command
schema), never copied: a new rule or field without a Chinese text fails here."""

from __future__ import annotations

import importlib
import pkgutil
import re
import warnings
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import customer_ledger_postgres
import customer_ledger_sqlite
import pytest
from litestar.testing import TestClient
from web_support import first_contact, log_in

import customer_ledger
from customer_ledger import CustomerLedger
from customer_ledger.application.commands import COMMANDS
from customer_ledger.application.schema import FIELD_HELP
from customer_ledger.errors import LedgerError
from customer_ledger.web.errors import HTTP_RULES
from customer_ledger.web.forms import META_HELP, form_fields
from customer_ledger.web.i18n import FIELD_ZH, HINT_ZH, RULE_ZH, ZH, field_hint, rule_text

CJK = re.compile(r"[\u4e00-\u9fff]")
PATTERN = re.compile(r"[0-9YMD .,+\-]*")  # a type's pattern (YYYY-MM-DD, 1999.90): no words
# Rules the web server names for failures that are no ledger error (web/errors.py).
WEB_RULES = {*HTTP_RULES.values(), "internal_error", "http_error", "invalid_value"}


@pytest.fixture
def store_url() -> str:
    """The words do not depend on the store: the memory one only."""
    return "memory://"


def every_module(package: ModuleType) -> Iterator[ModuleType]:
    yield package
    for found in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
        if not found.name.endswith("__main__"):  # (runs the command line)
            with warnings.catch_warnings():  # (a deprecated module's own warning)
                warnings.simplefilter("ignore", DeprecationWarning)
                yield importlib.import_module(found.name)


def every_rule() -> set[str]:
    """The rule of every LedgerError class in the library and its adapters."""
    for package in (customer_ledger, customer_ledger_sqlite, customer_ledger_postgres):
        list(every_module(package))  # imported: every error class is declared

    def family(cls: type[LedgerError]) -> Iterator[type[LedgerError]]:
        yield cls
        for sub in cls.__subclasses__():
            yield from family(sub)

    return {cls.rule for cls in family(LedgerError)} | WEB_RULES


def every_form_field() -> Iterator[tuple[str, Any]]:
    for command in COMMANDS:
        for field in form_fields(command):
            yield command, field


def test_every_rule_the_ledger_can_name_has_a_chinese_text() -> None:
    rules = every_rule()
    assert len(rules) > 90  # (the walk found the error classes)
    missing = sorted(rule for rule in rules if not CJK.search(RULE_ZH.get(rule, "")))
    assert missing == []


def test_the_catalogue_has_no_text_for_a_rule_nothing_names() -> None:
    assert sorted(set(RULE_ZH) - every_rule()) == []


def test_a_rule_shows_its_code_in_words_in_english() -> None:
    assert rule_text("satisfaction_out_of_range", "en") == "Satisfaction out of range"
    assert rule_text("satisfaction_out_of_range", "zh") == "满意度须为 1 到 5 分"


def test_every_form_field_has_a_chinese_label() -> None:
    missing = sorted({f.name for _, f in every_form_field() if f.name not in FIELD_ZH})
    assert missing == []


def test_every_form_hint_reads_in_chinese_or_is_a_pattern() -> None:
    """A hint is the schema's English (FIELD_HELP, META_HELP): each has a Chinese text;
    the other hints are a type's pattern, the same in either language."""
    english = {*FIELD_HELP, *META_HELP, "customer"}
    assert sorted(english - set(HINT_ZH)) == []
    for command, f in every_form_field():
        hint = field_hint(f.name, f.help, "zh")
        assert CJK.search(hint) or PATTERN.fullmatch(hint), (command, f.name, hint)
        assert field_hint(f.name, f.help, "en") == f.help


def test_every_choice_a_form_offers_has_a_chinese_word() -> None:
    words = {c for _, f in every_form_field() for c in f.choices if c not in "ABC"}
    assert words and sorted(w for w in words if not CJK.search(ZH.get(w, ""))) == []


def test_a_form_reads_in_chinese_and_in_english_on_request(site: TestClient[Any]) -> None:
    first_contact(site, log_in(site, "sales"))
    chinese = site.get("/customers/K001/do/log_interaction").text
    assert "互动方式" in chinese and "发生时间：YYYY-MM-DD" in chinese
    assert '<option value="wechat" >微信 wechat</option>' in chinese
    english = site.get("/customers/K001/do/log_interaction?lang=en").text
    assert "Channel" in english and "when it happened: YYYY-MM-DD" in english
    assert "微信" not in english


def test_a_rule_error_is_explained_in_chinese_and_kept_in_english(
    site: TestClient[Any], ledger: CustomerLedger
) -> None:
    csrf = log_in(site, "sales")
    first_contact(site, csrf)
    sent = {"csrf_token": csrf, "command_id": "t:9", "score": "9"}
    chinese = site.post("/customers/K001/do/rate_satisfaction", data=sent).text
    error = re.search(r'<p class="error" id="e-score"[^>]*>(.*?)</p>', chinese, re.S)
    assert error and "满意度须为 1 到 5 分" in error.group(1)
    assert 'lang="en"' in error.group(1)  # the message itself, marked as English
    english = site.post("/customers/K001/do/rate_satisfaction?lang=en", data=sent).text
    assert '[<span class="rule">satisfaction_out_of_range</span>]' in english
    assert "满意度须为" not in english
    assert len(ledger.history("K001")) == 1  # neither was recorded
