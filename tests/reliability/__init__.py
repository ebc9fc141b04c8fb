"""Helpers of the reliability scenarios (tests/test_reliability_*.py, docs/reliability.md)."""
