"""docs/analytics.md stays true: its example runs, its tables match the code."""

from __future__ import annotations

import re

import attrs
from paths import ROOT

from customer_ledger.analytics import AnalyticsSettings, PeriodIndicators, ReminderKind
from customer_ledger.analytics.churn import REASON_LABELS_ZH
from customer_ledger.analytics.reminders import KIND_LABELS_ZH
from customer_ledger.analytics.segments import CADENCE, SEGMENT_LABELS_ZH

DOC = (ROOT / "docs" / "analytics.md").read_text(encoding="utf-8")


def table_rows(first_cell: str, section: str) -> list[list[str]]:
    """The rows of the tables in ``## section`` whose first cell matches ``first_cell``."""
    text = DOC.split(f"\n## {section}", 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("|") and re.fullmatch(first_cell, cells[0]):
            rows.append(cells)
    return rows


def test_the_python_example_runs():
    (example,) = re.findall(r"```python\n(.*?)```", DOC, re.S)
    exec(compile(example, "docs/analytics.md", "exec"), {})


def test_every_setting_is_documented_with_its_default():
    rows = table_rows(r"`\w+`", "Settings")
    documented = {row[0].strip("`"): row[1].strip("`") for row in rows}
    defaults = AnalyticsSettings()
    for field in attrs.fields(AnalyticsSettings):
        assert documented[field.name] == str(getattr(defaults, field.name)), field.name


def test_every_churn_reason_is_documented_with_its_chinese_label():
    rows = table_rows(r"`\w+`", "Churn risk")
    assert {row[0].strip("`"): row[1] for row in rows} == REASON_LABELS_ZH


def test_the_segment_table_is_the_codes_precedence_and_cadence():
    rows = table_rows(r"\d", "Maintenance segment")
    assert [row[1].strip("`") for row in rows] == [s.value for s in CADENCE]
    for row in rows:
        segment = next(s for s in CADENCE if s.value == row[1].strip("`"))
        assert row[2] == SEGMENT_LABELS_ZH[segment]
        cadence = CADENCE[segment]
        assert (cadence.value if cadence else "none") in row[4]


def test_every_reminder_kind_and_indicator_is_documented():
    rows = table_rows(r"`\w+`", "Reminders")
    assert {row[0].strip("`"): row[1] for row in rows} == {
        k.value: KIND_LABELS_ZH[k] for k in ReminderKind
    }
    for field in attrs.fields(PeriodIndicators):
        if field.name not in ("period", "start", "end"):
            assert f"`{field.name}`" in DOC, field.name


def test_the_screenshot_is_there():
    assert "![The report" in DOC and "(images/report.png)" in DOC
    assert (ROOT / "docs" / "images" / "report.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
