"""Tokens, sessions and CSRF tokens: properties of the signed envelopes."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from customer_ledger.errors import InvalidValue
from customer_ledger.storage.users import user_name
from customer_ledger.web.security import Signer

SIGNER = Signer(b"s" * 32, clock=lambda: 1_000)
names = st.from_regex(r"[\w.@-]{1,64}", fullmatch=True).filter(lambda n: n == n.strip())


@given(names, st.text(min_size=1, max_size=20), st.integers(1, 10**6))
def test_a_token_reads_back_as_issued_until_it_expires(
    name: str, fingerprint: str, seconds: int
) -> None:
    token, claims = SIGNER.issue("token", name, fingerprint, seconds)
    assert SIGNER.read("token", token) == claims
    later = Signer(b"s" * 32, clock=lambda: 1_000 + seconds)
    assert later.read("token", token) is None


# Issued once: a token holds a random session id, and hypothesis needs the same token
# (the same length to draw positions from) in every example it replays.
SESSION_TOKEN, _ = SIGNER.issue("session", "alice", "f1", 60)


@given(st.data())
def test_any_changed_character_makes_a_token_invalid(data: st.DataObject) -> None:
    token = SESSION_TOKEN
    at = data.draw(st.integers(0, len(token) - 1))
    other = data.draw(st.sampled_from("AbZ9-_.x=").filter(lambda c: c != token[at]))
    changed = token[:at] + other + token[at + 1 :]
    assert SIGNER.read("session", changed) is None


def test_a_token_of_one_kind_or_key_is_no_token_of_another() -> None:
    token, claims = SIGNER.issue("token", "alice", "f1", 60)
    assert SIGNER.read("session", token) is None
    assert Signer(b"t" * 32, clock=lambda: 1_000).read("token", token) is None
    assert claims.session == ""


@given(st.text(max_size=3000))
def test_garbage_is_never_a_token(text: str) -> None:
    assert SIGNER.read("token", text) is None
    assert not SIGNER.csrf_ok("session-id", text)


def test_each_session_has_its_own_csrf_token() -> None:
    _, one = SIGNER.issue("session", "alice", "f1", 60)
    _, two = SIGNER.issue("session", "alice", "f1", 60)
    assert one.session != two.session
    assert SIGNER.csrf_ok(one.session, SIGNER.csrf_token(one.session))
    assert not SIGNER.csrf_ok(one.session, SIGNER.csrf_token(two.session))
    assert not SIGNER.csrf_ok("", SIGNER.csrf_token(""))


@given(names)
def test_user_names_of_letters_digits_and_dot_at_dash_underscore_are_kept(name: str) -> None:
    assert user_name(name) == name


@given(st.text(max_size=80).filter(lambda t: any(c in t.strip() for c in ": /\\\t\n\"'")))
def test_user_names_with_a_colon_space_or_quote_are_refused(text: str) -> None:
    with pytest.raises(InvalidValue):
        user_name(text)
