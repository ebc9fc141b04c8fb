"""The five example customers of domain-notes.md, as the commands that record them.

The commands have the shape of ``customer-ledger import`` lines, so the demo also
shows what an import file looks like. Only facts the source sheets state are
recorded. Where the ledger needs something the sheets leave out, the choice is
stated in the command's ``reason`` and in docs/commands.md:

- the sheets give no first-contact date for A001, B002 and the worksheet rows: the
  first contact is dated with the earliest date the row gives;
- facts without a date of their own (contact details, needs, satisfaction, grade)
  are dated with the row's registration date (register) or latest date (worksheet);
- ids the ledger needs but the sheets lack (contract, complaint and contact ids) are
  derived from the customer number and the date;
- the worksheet names no registrar, so its events' actor is ``demo``;
- B002's 维护状态 风险预警 (at risk) follows from none of its recorded facts (its one
  complaint was resolved, and no sale is recorded), so it is recorded as the register
  states it, with ``set_stage_on_import`` and the row as evidence.

Every command has a fixed ``command_id`` (``demo:<number>:<n>``), so a second run
records nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from customer_ledger.application.ledger import CustomerLedger
from customer_ledger.domain.access import Actor
from customer_ledger.formats.jsonl import ImportReport, import_objects

REGISTER = "客户关系维护登记表"
WORKSHEET = "客户管理工作表"
WORKSHEET_ACTOR = "demo"

Line = dict[str, Any]


def _row(number: str, actor: str, reason: str, *commands: Line) -> Iterator[Line]:
    """Numbers a customer's commands and adds who recorded them and from which sheet."""
    for n, command in enumerate(commands, start=1):
        yield {
            "customer": number,
            "actor": actor,
            "reason": reason,
            **command,
            "command_id": f"demo:{number}:{n}",
        }


_FIRST_CONTACT_UNDATED = "{sheet}: no first-contact date given; dated with the row's earliest date"

A001 = _row(
    "A001",
    "*助理",
    f"{REGISTER} row A001, registered 2023-10-20",
    {
        "command": "first_contact",
        "name": "*先生",
        "type": "individual",
        "industry": "internet",
        "occurred_at": "2023-08-15",
        "reason": _FIRST_CONTACT_UNDATED.format(sheet=REGISTER),
    },
    {
        "command": "sign_contract",
        "contract": "A001-2023-08-15",
        "signed_on": "2023-08-15",
        "expires_on": "2024-08-14",
        "occurred_at": "2023-08-15",
        "reason": f"{REGISTER} row A001: 'signed annual contract' (no contract number given;"
        " the number is derived, the term is one year)",
    },
    {
        "command": "log_interaction",
        "channel": "phone",
        "topic": "asked when the new product launches",
        "participant": "*经理",
        "follow_up": "recommend premium plan",
        "occurred_at": "2023-10-20",
    },
    {
        "command": "add_contact",
        "contact_id": "A001-1",
        "name": "*先生",
        "title": "middle manager",
        "phone": "138****5678",
        "primary": True,
        "occurred_at": "2023-10-20",
    },
    {
        "command": "record_needs",
        "core_needs": "prefers efficient service",
        "occurred_at": "2023-10-20",
    },
    {"command": "rate_satisfaction", "score": 4, "occurred_at": "2023-10-20"},
)

B002_ROW = (
    "B002 | company | *科技有限公司 | 010****8888, smart manufacturing, 100–500 staff | "
    '2023-10-18 | on-site visit | complaint "logistics delivery delayed" | *主管 | '
    "complaint 2023-10-10, resolved 2023-10-16 | risk warning (风险预警) | "
    "cares about after-sales response | 2 | follow up satisfaction | *专员 | 2023-10-19"
)

B002 = _row(
    "B002",
    "*专员",
    f"{REGISTER} row B002, registered 2023-10-19",
    {
        "command": "first_contact",
        "name": "*科技有限公司",
        "type": "company",
        "industry": "smart manufacturing",
        "size": "100–500 staff",
        "occurred_at": "2023-10-10",
        "reason": _FIRST_CONTACT_UNDATED.format(sheet=REGISTER),
    },
    {
        "command": "file_complaint",
        "complaint": "B002-2023-10-10",
        "subject": "logistics delivery delayed",
        "occurred_at": "2023-10-10",
    },
    {
        "command": "resolve_complaint",
        "complaint": "B002-2023-10-10",
        "resolution": "resolved (the register gives no details of the handling)",
        "satisfaction": 2,
        "occurred_at": "2023-10-16",
    },
    {
        "command": "log_interaction",
        "channel": "visit",
        "topic": 'complaint "logistics delivery delayed"',
        "participant": "*主管",
        "follow_up": "follow up satisfaction",
        "occurred_at": "2023-10-18",
    },
    {
        "command": "add_contact",
        "contact_id": "B002-1",
        "name": "*科技有限公司",
        "phone": "010****8888",
        "primary": True,
        "occurred_at": "2023-10-19",
    },
    {
        "command": "record_needs",
        "core_needs": "cares about after-sales response",
        "occurred_at": "2023-10-19",
    },
    {
        # 维护状态 风险预警: the register states it (because of satisfaction 2); no open
        # complaint or sale implies it, so it is recorded as the row says, row attached.
        "command": "set_stage_on_import",
        "stage": "at_risk",
        "row": B002_ROW,
        "occurred_at": "2023-10-19",
    },
)

C003 = _row(
    "C003",
    "*助理",
    f"{REGISTER} row C003, registered 2023-10-22",
    {
        "command": "first_contact",
        "name": "*女士",
        "type": "individual",
        "industry": "education",
        "occurred_at": "2023-09-05",
    },
    {
        "command": "log_interaction",
        "channel": "email",
        "topic": "asked for case studies",
        "participant": "*顾问",
        "follow_up": "product demo next month",
        "occurred_at": "2023-10-22",
    },
    {
        "command": "add_contact",
        "contact_id": "C003-1",
        "name": "*女士",
        "title": "freelancer",
        "phone": "139****3456",
        "primary": True,
        "occurred_at": "2023-10-22",
    },
    {
        "command": "record_needs",
        "core_needs": "needs industry solution",
        "occurred_at": "2023-10-22",
    },
    {"command": "rate_satisfaction", "score": 3, "occurred_at": "2023-10-22"},
)

W001 = _row(
    "W001",
    WORKSHEET_ACTOR,
    f"{WORKSHEET} row 张三 (ABC公司)",
    {
        "command": "first_contact",
        "name": "ABC公司",
        "type": "company",
        "industry": "manufacturing",
        "region": "北京市",
        "occurred_at": "2022-12-01",
        "reason": _FIRST_CONTACT_UNDATED.format(sheet=WORKSHEET),
    },
    {
        "command": "record_purchase",
        "product": "product A",
        "amount": "1000",
        "currency": "CNY",
        "occurred_at": "2022-12-01",
    },
    {
        "command": "log_interaction",
        "channel": "phone",
        "topic": "learned needs",
        "feedback": "good quality, wants more after-sales service",
        "occurred_at": "2023-01-01",
    },
    {
        "command": "add_contact",
        "contact_id": "W001-1",
        "name": "张三",
        "title": "经理",
        "phone": "12345678",
        "email": "zhangsan@abc.com",
        "primary": True,
        "occurred_at": "2023-01-01",
    },
    {"command": "assign_grade", "grade": "A", "occurred_at": "2023-01-01"},
)

W002 = _row(
    "W002",
    WORKSHEET_ACTOR,
    f"{WORKSHEET} row 李四 (XYZ公司)",
    {
        "command": "first_contact",
        "name": "XYZ公司",
        "type": "company",
        "industry": "retail",
        "region": "上海市",
        "occurred_at": "2023-01-15",
        "reason": _FIRST_CONTACT_UNDATED.format(sheet=WORKSHEET),
    },
    {
        "command": "record_purchase",
        "product": "product B",
        "amount": "2000",
        "currency": "CNY",
        "occurred_at": "2023-01-15",
    },
    {
        "command": "log_interaction",
        "channel": "email",
        "topic": "confirmed order",
        "feedback": "good service, wants more promotions",
        "occurred_at": "2023-02-01",
    },
    {
        "command": "add_contact",
        "contact_id": "W002-1",
        "name": "李四",
        "title": "总监",
        "phone": "87654321",
        "email": "lisi@xyz.com",
        "primary": True,
        "occurred_at": "2023-02-01",
    },
    {"command": "assign_grade", "grade": "B", "occurred_at": "2023-02-01"},
)

COMMANDS: tuple[Line, ...] = (*A001, *B002, *C003, *W001, *W002)
NUMBERS: tuple[str, ...] = tuple(dict.fromkeys(c["customer"] for c in COMMANDS))


def record(ledger: CustomerLedger, actor: Actor | str | None = None) -> ImportReport:
    """Records the demo customers as ``actor`` (default: the ledger's), each line's own
    ``actor`` kept as its source's; safe to run again (it then records nothing)."""
    return import_objects(ledger, COMMANDS, actor=actor)
