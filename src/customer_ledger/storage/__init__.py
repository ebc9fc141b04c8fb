"""Storage: store URLs, the adapter port and registry, the Mapper, memory://.

A backend imports what it needs from here and nothing else: the ``Adapter`` base, the
view ports, records and queries, the key store, the helpers that make backends answer
alike, and ``retry_opening`` (see ``storage.port`` for what each method must do).
"""

from customer_ledger.storage.failures import retry_opening
from customer_ledger.storage.port import *  # noqa: F403 - the port, whole
from customer_ledger.storage.port import __all__ as _port

__all__ = [*_port, "retry_opening"]
