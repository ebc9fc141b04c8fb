"""What tests compare customers by: the aggregate's state, and a fold with no snapshot."""

from __future__ import annotations

from typing import Any

from customer_ledger.application import CustomerLedger
from customer_ledger.projections.fold import fold


def aggregate_state(customer: Any) -> dict[str, Any]:
    """Everything the aggregate holds, but its unsaved events (to compare two customers)."""
    return {k: v for k, v in vars(customer).items() if k != "_pending_events"}


def folded(ledger: CustomerLedger, customer_id: Any, version: int) -> Any:
    """Events 1..version applied one by one, with no snapshot involved."""
    return fold(ledger.events.get(customer_id, lte=version))
