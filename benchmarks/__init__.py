"""Benchmarks of the ledger against plain eventsourcing, run by hand (docs/performance.md).

``python -m benchmarks --backend sqlite|postgres|memory --events N [--json out.json]``
"""
