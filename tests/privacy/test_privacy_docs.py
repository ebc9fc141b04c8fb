"""docs/privacy.md stays true: its example runs, its tables match the code."""

from __future__ import annotations

import re

from paths import DOCS

from customer_ledger import Contact
from customer_ledger.domain.access import DEFAULT_ROLES
from customer_ledger.domain.personal import personal_fields
from customer_ledger.privacy.masking import (
    mask_address,
    mask_email,
    mask_handle,
    mask_id,
    mask_name,
    mask_phone,
)

DOC = (DOCS / "privacy.md").read_text(encoding="utf-8")


def test_the_python_example_runs():
    (example,) = re.findall(r"```python\n(.*?)```", DOC, re.S)
    exec(compile(example, "docs/privacy.md", "exec"), {})


def test_the_roles_table_says_who_may_read_unmasked_see_names_and_forget():
    rows = re.findall(r"^\| `(\w+)` \|[^|]*\| (yes|no) \| (yes|no) \|$", DOC, re.M)
    assert {name: (unmasked, names) for name, unmasked, names in rows} == {
        name: ("yes" if role.read_personal else "no", "yes" if role.show_names else "no")
        for name, role in DEFAULT_ROLES.items()
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
    examples = [
        (mask_handle, "wx_upgrade_check", "w***k"), (mask_handle, "918273645", "9***5"),
        (mask_address, "上海市静安区升级路1号", "上海市静安区***"),
        (mask_id, "110101197911230017", "110101********0017"), (mask_name, "王小明", "王**"),
    ]  # fmt: skip
    for mask, raw, shown in examples:
        assert mask(raw) == shown and f"`{shown}`" in DOC
    assert mask_email("zhangsan@abc.com") == "z***@abc.com" and "z***@abc.com" in DOC
