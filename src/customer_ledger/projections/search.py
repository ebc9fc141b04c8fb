"""What a search finds besides names and numbers, without personal data in clear.

Two indexes beside each profile, both kept by the profile view:

* **blind keys** for the personal fields (an individual's name, contact names, phones,
  e-mail, WeChat, QQ): an HMAC, under a key derived from the master key, of each
  normalised value (``phone:13812345678``), and of every character and two-character
  piece of a name (``name1:张``, ``name2:张三``) so that part of a name finds it. The
  view stores only the HMACs; a search turns its text into the same HMACs and asks for
  customers holding all of one group of them. Without the master key there are no keys
  to make: such a reader finds by clear text only. A forgotten customer's fields read
  ``[erased]`` and give no keys, so its rows go with the next write of its profile.
* **clear text** of what is not personal: a company's name and licence, the needs,
  and the timeline's summary of every interaction, complaint, purchase, contract and
  note (the summaries the timeline view already stores in clear). Adapters search it
  with the database's own text search (SQLite FTS5's trigram tokenizer, PostgreSQL
  ``pg_trgm``); a plain case-folded substring match, as the name search is.
"""

from __future__ import annotations

import hmac
import re
import unicodedata
from collections.abc import Iterable, Iterator

from customer_ledger.domain.personal import UNREADABLE
from customer_ledger.domain.values import CustomerType
from customer_ledger.projections.profile import Profile

Term = tuple[str, str]  # (what it is, its normalised value)
KEY_LABEL = b"customer-ledger/search-index"
_NOT_DIGITS = re.compile(r"[^0-9]")
MIN_PHONE_DIGITS = 5  # fewer digits than this in a search are not a phone number


def fold(text: str) -> str:
    """Width, case and spaces aside: ``ＺＨＡＮＧ San`` is ``zhangsan``."""
    return "".join(unicodedata.normalize("NFKC", text).casefold().split())


def _digits(text: str) -> str:
    digits = _NOT_DIGITS.sub("", unicodedata.normalize("NFKC", text))
    if digits.startswith("0086"):
        digits = digits[4:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    return digits


def _readable(value: object) -> str | None:
    return value if isinstance(value, str) and value and value not in UNREADABLE else None


def name_terms(name: str) -> set[Term]:
    """The whole name, each of its characters (a surname: 张) and each two-character
    piece (三丰), so that part of a name finds it."""
    folded = fold(name)
    pieces = {("name2", folded[i : i + 2]) for i in range(len(folded) - 1)}
    return {("name", folded), *pieces, *(("name1", c) for c in set(folded))}


def personal_terms(profile: Profile) -> set[Term]:
    """The terms of a whole (opened) profile's personal fields."""
    terms: set[Term] = set()
    names = [c.name for c in profile.contacts]
    if profile.type is CustomerType.INDIVIDUAL:
        names.append(profile.name)
    for name in filter(None, map(_readable, names)):
        terms |= name_terms(name)
    for contact in profile.contacts:
        if phone := _readable(contact.phone):
            terms.add(("phone", _digits(phone.split("x")[0])))
        if email := _readable(contact.email):
            terms.add(("email", fold(email)))
        if wechat := _readable(contact.wechat):
            terms.add(("wechat", fold(wechat)))
        if qq := _readable(contact.qq):
            terms.add(("qq", _digits(qq)))
    return {t for t in terms if t[1]}


def query_groups(text: str) -> list[set[Term]]:
    """What a search text may be, each as the terms a customer must all hold: a name
    (whole, or its two-character pieces), a phone (by its digits), an e-mail, a WeChat
    or QQ id."""
    folded = fold(text)
    if not folded:
        return []
    groups: list[set[Term]] = [{("name", folded)}, {("wechat", folded)}]
    pieces = {("name2", folded[i : i + 2]) for i in range(len(folded) - 1)}
    groups.append(pieces or {("name1", folded)})
    digits = _digits(text)
    if len(digits) >= MIN_PHONE_DIGITS:
        groups += [{("phone", digits)}, {("qq", digits)}]
    if "@" in folded:
        groups.append({("email", folded)})
    return groups


def blind_key(secret: bytes, term: Term) -> str:
    """The HMAC the view stores for ``term``: 16 bytes, hex."""
    return _keyed(hmac.digest(secret, KEY_LABEL, "sha256"), term)


def _keyed(key: bytes, term: Term) -> str:
    message = term[0].encode() + b"\x00" + term[1].encode()
    return hmac.digest(key, message, "sha256").hex()[:32]


def blind_keys(secret: bytes, terms: Iterable[Term]) -> frozenset[str]:
    """``blind_key`` of each term, the key derived once for all of them."""
    key = hmac.digest(secret, KEY_LABEL, "sha256")
    return frozenset(_keyed(key, t) for t in terms)


def public_text(profile: Profile) -> Iterator[str]:
    """What of the profile itself is searchable in clear."""
    if profile.type is CustomerType.COMPANY:
        yield from filter(None, (profile.name, profile.licence_no))
    needs = profile.needs
    yield from filter(
        None, (needs.core_needs, needs.purchase_preferences, needs.communication_channel)
    )
    yield from (c.subject for c in profile.complaints if c.subject)
