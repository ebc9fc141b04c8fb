"""Reading one JSON line strictly (``formats.jsonl._json``): what no store can keep (lone
surrogates, whole numbers of 64 bits or more, infinite floats) is refused, its numbers
checked as they are parsed and its text walked only when it holds an escape; for every
line the answer, and the reason of a refusal, is that of decoding and walking it all."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from customer_ledger.formats import jsonl

SURROGATES = st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF)
TEXT = st.text(st.one_of(st.characters(), SURROGATES, st.sampled_from("eE1\\u")), max_size=8)
NUMBERS = st.one_of(
    st.integers(-(2**70), 2**70),
    st.sampled_from([2**63 - 1, 2**63, -(2**63), -(2**63) - 1, 10**18, 10**19]),
    st.floats(allow_nan=False),
)
VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), NUMBERS, TEXT),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=8,
)


def walked(data: bytes) -> Any:
    """The reference: every line decoded and walked."""
    return jsonl._storable(jsonl._DECODER.decode(data.decode("utf-8")))


def outcome(read: Any, data: bytes) -> tuple[str, Any]:
    try:
        return "read", read(data)
    except ValueError as error:
        return "refused", str(error)


def spellings(value: Any) -> list[bytes]:
    out = []
    for ascii_only in (True, False):
        try:
            out.append(json.dumps(value, ensure_ascii=ascii_only).encode("utf-8", "strict"))
        except UnicodeEncodeError:
            continue  # (a lone surrogate written raw is not UTF-8: refused as such)
    return out


@given(VALUES)
def test_a_line_is_read_or_refused_as_the_full_walk_reads_or_refuses_it(value: Any) -> None:
    for data in spellings(value):
        assert repr(outcome(jsonl._json, data)) == repr(outcome(walked, data))


@pytest.mark.parametrize(
    "line",
    [
        b'{"x": "\\ud800"}',
        b'{"x": "\\uDFFF"}',
        b'{"x": 9223372036854775808}',
        b'{"x": -9223372036854775809}',
        b'{"x": 1e999}',
        b'{"x": -1E400}',
        b'{"x": [{"y": "\\udc00"}]}',
        b'{"x": ' + b"1" * 400 + b".0}",
        b'{"x": 1e999, "x": 1}',
    ],
)
def test_what_no_store_can_keep_is_refused(line: bytes) -> None:
    with pytest.raises(ValueError):
        jsonl._json(line)


@pytest.mark.parametrize(
    "line",
    [b'{"x": "\\ud83d\\ude00"}', b'{"x": 9223372036854775807}', b'{"x": 1e300}', b'{"e": "3e"}'],
)
def test_what_only_looks_suspect_is_read(line: bytes) -> None:
    assert jsonl._json(line) == json.loads(line)
