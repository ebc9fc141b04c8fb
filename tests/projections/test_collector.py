"""The collector is paused inside a rebuild or an import and restored after, even on error."""

from __future__ import annotations

import gc

import pytest

from customer_ledger import CustomerLedger
from customer_ledger.projections.collector import collect_young, paused_collector


def test_paused_inside_and_restored_after() -> None:
    assert gc.isenabled()
    with paused_collector():
        assert not gc.isenabled()
        with paused_collector():  # nested: only the outermost restores
            assert not gc.isenabled()
        assert not gc.isenabled()
        collect_young()
        assert not gc.isenabled()
    assert gc.isenabled()
    assert gc.get_freeze_count() == 0


def test_restored_after_an_error() -> None:
    with pytest.raises(RuntimeError), paused_collector():
        raise RuntimeError("boom")
    assert gc.isenabled()
    assert gc.get_freeze_count() == 0


def test_a_disabled_collector_stays_disabled() -> None:
    gc.disable()
    try:
        with paused_collector():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_cyclic_garbage_made_while_paused_is_freed_by_collect_young() -> None:
    class Node:
        pass

    with paused_collector():
        node = Node()
        node.self = node  # type: ignore[attr-defined]
        del node
        assert any(type(o) is Node for o in gc.get_objects(0) + gc.get_objects(1))
        collect_young()
        assert not any(type(o) is Node for o in gc.get_objects())


def test_a_rebuild_leaves_the_collector_as_it_found_it(ledger: CustomerLedger) -> None:
    ledger.rebuild(fresh=True)
    assert gc.isenabled()
    assert gc.get_freeze_count() == 0
