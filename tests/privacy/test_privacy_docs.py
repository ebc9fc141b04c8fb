"""docs/privacy.md stays true: its example runs, its tables match the code."""

from __future__ import annotations

import re

from paths import DOCS

from customer_ledger import Contact
from customer_ledger.domain.access import DEFAULT_ROLES
from customer_ledger.domain.personal import personal_fields
from customer_ledger.privacy.masking import mask_email, mask_phone

DOC = (DOCS / "privacy.md").read_text(encoding="utf-8")


def test_the_python_example_runs():
    (example,) = re.findall(r"```python\n(.*?)```", DOC, re.S)
    exec(compile(example, "docs/privacy.md", "exec"), {})


def test_the_roles_table_says_who_may_read_unmasked_and_forget():
    rows = dict(re.findall(r"^\| `(\w+)` \|[^|]*\| (yes|no) \|$", DOC, re.M))
    assert rows == {
        name: "yes" if role.read_personal else "no" for name, role in DEFAULT_ROLES.items()
    }
    assert [name for name, role in DEFAULT_ROLES.items() if role.allows("forget")] == [
        "admin", "system",
    ]  # fmt: skip


def test_every_personal_contact_field_is_listed():
    (row,) = [line for line in DOC.splitlines() if line.startswith("| every contact person")]
    assert set(re.findall(r"`(\w+)`", row.split("(not")[0])) == set(personal_fields(Contact))


def test_the_masking_examples_are_what_the_code_shows():
    for raw, shown in [("13812345678", "138****5678"), ("07551235678", "0755****5678")]:
        assert mask_phone(raw) == shown and shown in DOC
    assert mask_email("zhangsan@abc.com") == "z***@abc.com" and "z***@abc.com" in DOC
