"""SQLiteStatusView: rows by number, counts for every stage, idle customers."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from customer_ledger_sqlite import SQLiteStatusView, SQLiteViewSet
from eventsourcing.persistence import IntegrityError
from sqlite_samples import APP, SHANGHAI, T0, customer_id, status, tracking

from customer_ledger.domain.values import Stage


@pytest.fixture
def view(views: SQLiteViewSet) -> SQLiteStatusView:
    return views.view("status")


@pytest.fixture
def sample(view: SQLiteStatusView) -> SQLiteStatusView:
    view.save(
        [
            status("C003", Stage.AT_RISK, owner="*主管", open_complaints=2,
                   last_interaction_at=T0 + timedelta(days=10)),
            status("A001", Stage.CUSTOMER, next_reminder_on=date(2024, 2, 1)),
            status("B002", Stage.CHURNED, last_interaction_at=T0 - timedelta(days=50)),
            status("D004", Stage.PROSPECT, owner=None,
                   first_contact_at=(T0 + timedelta(days=5)).astimezone(SHANGHAI)),
        ],
        tracking(1),
    )  # fmt: skip
    return view


def numbers(rows) -> list[str]:
    return [r.number for r in rows]


def test_rows_read_back_equal_ordered_by_number(sample):
    rows = sample.rows()
    assert numbers(rows) == ["A001", "B002", "C003", "D004"]
    assert rows[0] == status("A001", Stage.CUSTOMER, next_reminder_on=date(2024, 2, 1)).row
    assert sample.states([customer_id("A001"), customer_id("X")]) == {
        customer_id("A001"): b"state of A001"
    }


def test_rows_filter_by_stage_and_owner(sample):
    assert numbers(sample.rows(stage=Stage.AT_RISK)) == ["C003"]
    assert numbers(sample.rows(stage="churned")) == ["B002"]
    assert numbers(sample.rows(owner="*经理")) == ["A001", "B002"]
    assert numbers(sample.rows(stage=Stage.CUSTOMER, owner="*主管")) == []
    assert sample.rows(stage=Stage.LEAD) == []


def test_count_by_stage_names_every_stage(view, sample):
    assert view.count_by_stage() == {
        Stage.LEAD: 0, Stage.PROSPECT: 1, Stage.CUSTOMER: 1, Stage.AT_RISK: 1, Stage.CHURNED: 1,
    }  # fmt: skip
    assert list(view.count_by_stage()) == list(Stage)


def test_count_by_stage_of_an_empty_view_is_all_zero(view):
    assert view.count_by_stage() == dict.fromkeys(Stage, 0)


def test_idle_uses_last_interaction_else_first_contact_and_skips_churned(sample):
    assert numbers(sample.idle(T0 + timedelta(days=1))) == ["A001"]  # first contact at T0
    assert numbers(sample.idle(T0)) == []  # strictly before
    assert numbers(sample.idle(T0 + timedelta(days=6))) == ["A001", "D004"]
    assert numbers(sample.idle((T0 + timedelta(days=11)).astimezone(SHANGHAI))) == [
        "A001", "C003", "D004",
    ]  # fmt: skip


def test_save_upserts(sample):
    sample.save([status("B002", Stage.CUSTOMER, owner="*主管")], tracking(2))
    assert numbers(sample.rows(owner="*主管")) == ["B002", "C003"]
    assert sample.count_by_stage()[Stage.CHURNED] == 0


def test_a_stale_tracking_id_raises_and_writes_nothing(sample):
    with pytest.raises(IntegrityError):
        sample.save([status("A001", Stage.CHURNED)], tracking(1))
    assert numbers(sample.rows(stage=Stage.CHURNED)) == ["B002"]
    assert sample.max_tracking_id(APP) == 1
