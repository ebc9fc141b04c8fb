"""A timeline document built from native values is byte for byte what the converter makes
(the SQLite view stores it; a view's bytes may not change without a format bump)."""

from __future__ import annotations

from datetime import timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from customer_ledger.projections.views import TimelineEntry, timeline_document
from customer_ledger.serialization import converter, encode

zones = st.one_of(
    st.none(),
    st.integers(-14 * 60, 14 * 60).map(lambda m: timezone(timedelta(minutes=m))),
)
moments = st.datetimes(timezones=zones)
entries = st.builds(
    TimelineEntry,
    customer_id=st.uuids(),
    number=st.text(),
    version=st.integers(1, 2**40),
    kind=st.text(),
    occurred_at=moments,
    recorded_at=moments,
    actor=st.text(),
    summary_en=st.text(),
    summary_zh=st.text(),
    late=st.booleans(),
)


@given(entries)
def test_timeline_document_is_the_converters_bytes(entry: TimelineEntry) -> None:
    assert timeline_document(entry) == encode(converter.unstructure(entry))
