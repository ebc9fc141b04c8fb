"""The timeline read model: one human-readable line per event, in Chinese and English.

Summaries never quote personal data (an individual's name, contact people, phones,
e-mail, addresses, birthdays): the timeline is read widely, and a forgotten customer's
entries must stay free of it without being rewritten.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from customer_ledger.domain.customer import PERSONAL_PROFILE_FIELDS
from customer_ledger.projections.views import TimelineEntry

Describe = Callable[[Any], tuple[str, str]]


def _who(event: Any) -> str:
    """A company's name is public; an individual's is personal data."""
    return f" with {event.name}" if event.type.value == "company" else ""


def _who_zh(event: Any) -> str:
    return f"：{event.name}" if event.type.value == "company" else ""


def _changes(event: Any, zh: bool) -> str:
    """The fields a profile update changed, each as ``field old → new`` (``field → new``
    where the event did not record the old value: release 0.1's); personal fields by
    name alone. Chinese names the fields and types in Chinese: 行业 制造业 → 电商."""
    previous = getattr(event, "previous", None)
    parts = []
    for field, value in sorted(event.changes.items()):
        name = PROFILE_FIELDS_ZH.get(field, field) if zh else field
        if field in PERSONAL_PROFILE_FIELDS:
            parts.append(name)
            continue
        new = _profile_value(field, value, zh)
        if previous is None or field not in previous:
            parts.append(f"{name} → {new}")
        else:
            parts.append(f"{name} {_profile_value(field, previous[field], zh)} → {new}")
    return ("，" if zh else ", ").join(parts)


def _profile_value(field: str, value: str | None, zh: bool) -> str:
    if value is None:
        return "（空）" if zh else "(none)"
    return TYPES_ZH.get(value, value) if zh and field == "type" else value


def _title(contact: Any) -> str:
    return f" ({contact.title})" if contact.title else ""


def _money(amount: Any) -> str:
    return "amount unknown" if amount is None else f"{amount.amount} {amount.currency}"


def _money_zh(amount: Any) -> str:
    return "金额未知" if amount is None else f"{amount.amount} {amount.currency}"


SUMMARIES: dict[str, Describe] = {
    "FirstContacted": lambda e: (
        f"First contact{_who(e)} ({e.type.value}), number {e.number}",
        f"首次接触{_who_zh(e)}（{TYPES_ZH[e.type.value]}），编号 {e.number}",
    ),
    "ProfileUpdated": lambda e: (
        "Profile updated: " + _changes(e, zh=False),
        "档案更新：" + _changes(e, zh=True),
    ),
    "ContactAdded": lambda e: (
        f"Contact {e.contact.contact_id} added" + _title(e.contact),
        f"新增联系人 {e.contact.contact_id}" + _title(e.contact),
    ),
    "ContactUpdated": lambda e: (
        f"Contact {e.contact.contact_id} updated",
        f"更新联系人 {e.contact.contact_id}",
    ),
    "ContactRemoved": lambda e: (f"Contact {e.contact_id} removed", f"删除联系人 {e.contact_id}"),
    "OwnerAssigned": lambda e: (
        f"Owner assigned: {e.owner}" + (f" (was {e.previous})" if e.previous else ""),
        f"维护人变更为 {e.owner}" + (f"（原 {e.previous}）" if e.previous else ""),
    ),
    "Tagged": lambda e: (f"Tagged {e.tag}", f"添加标签 {e.tag}"),
    "Untagged": lambda e: (f"Untagged {e.tag}", f"移除标签 {e.tag}"),
    "NeedsRecorded": lambda e: (
        f"Needs recorded: {e.needs.core_needs or e.needs.purchase_preferences or '-'}",
        f"记录需求：{e.needs.core_needs or e.needs.purchase_preferences or '-'}",
    ),
    "InteractionLogged": lambda e: (
        f"{e.channel.value.capitalize()}: {e.topic}"
        + (f" (by {e.participant})" if e.participant else "")
        + (f", {e.duration_minutes} min" if e.duration_minutes else "")
        + (" [late entry]" if e.late else ""),
        f"{CHANNELS_ZH.get(e.channel.value, e.channel.value)}：{e.topic}"
        + (f"（{e.participant}）" if e.participant else "")
        + (f"，{e.duration_minutes} 分钟" if e.duration_minutes else "")
        + ("【补录】" if e.late else ""),
    ),
    "PurchaseRecorded": lambda e: (
        f"Purchase: {e.quantity} × {e.product}, {_money(e.amount)}",
        f"购买：{e.product} × {e.quantity}，{_money_zh(e.amount)}",
    ),
    "ContractSigned": lambda e: (
        f"Contract {e.contract.number} signed, {_money(e.contract.amount)}"
        + (f", expires {e.contract.expires_on}" if e.contract.expires_on else ""),
        f"签订合同 {e.contract.number}，{_money_zh(e.contract.amount)}"
        + (f"，到期 {e.contract.expires_on}" if e.contract.expires_on else ""),
    ),
    "ContractRenewed": lambda e: (
        f"Contract {e.contract_number} renewed to {e.expires_on}",
        f"续签合同 {e.contract_number}，到期 {e.expires_on}",
    ),
    "ContractTerminated": lambda e: (
        f"Contract {e.contract_number} terminated",
        f"终止合同 {e.contract_number}",
    ),
    "ComplaintFiled": lambda e: (
        f"Complaint {e.complaint_id}: {e.subject}",
        f"投诉 {e.complaint_id}：{e.subject}",
    ),
    "ComplaintResolved": lambda e: (
        f"Complaint {e.complaint_id} resolved: {e.resolution}"
        + (f" (satisfaction {e.satisfaction}/5)" if e.satisfaction else ""),
        f"投诉 {e.complaint_id} 已解决：{e.resolution}"
        + (f"（满意度 {e.satisfaction}/5）" if e.satisfaction else ""),
    ),
    "SatisfactionRated": lambda e: (
        f"Satisfaction {e.score}/5" + (f": {e.comment}" if e.comment else ""),
        f"满意度 {e.score}/5" + (f"：{e.comment}" if e.comment else ""),
    ),
    "GradeAssigned": lambda e: (
        f"Grade {e.grade.value if e.grade else 'cleared'} (manual)" + (", VIP" if e.vip else ""),
        f"手动分级 {e.grade.value if e.grade else '清除'}" + ("，VIP" if e.vip else ""),
    ),
    "Churned": lambda e: (f"Churned: {e.reason}", f"流失：{e.reason}"),
    "Reactivated": lambda e: ("Reactivated", "重新激活"),
    "StageSetOnImport": lambda e: (
        f"Stage set to {e.stage.value} on import",
        f"导入时设定阶段：{STAGES_ZH[e.stage.value]}",
    ),
    "RiskFlagCleared": lambda e: ("Risk warning cleared", "解除风险预警"),
    "CustomerForgotten": lambda e: ("Personal data erased (forgotten)", "个人信息已删除（被遗忘）"),
    "AttachmentLinked": lambda e: (
        f"Attachment linked: {e.attachment.name}",
        f"关联附件：{e.attachment.name}",
    ),
    "ReminderScheduled": lambda e: (
        f"Reminder for {e.reminder.due_on}: {e.reminder.subject}",
        f"提醒 {e.reminder.due_on}：{e.reminder.subject}",
    ),
    "ReminderCompleted": lambda e: (
        f"Reminder {e.reminder_id} done",
        f"提醒 {e.reminder_id} 已完成",
    ),
    "CustomerAbsorbed": lambda e: (
        f"Merged in {e.contribution.number}: {len(e.contribution.contacts)} contacts, "
        f"{e.contribution.interaction_count} interactions, "
        f"{e.contribution.purchase_count} purchases",
        f"合并客户 {e.contribution.number}：联系人 {len(e.contribution.contacts)} 个，"
        f"互动 {e.contribution.interaction_count} 次，交易 {e.contribution.purchase_count} 笔",
    ),
    "MergedIntoCustomer": lambda e: (
        f"Merged into {e.survivor_number}",
        f"已并入客户 {e.survivor_number}",
    ),
}

STAGES_ZH: dict[str, str] = {
    "lead": "潜在（线索）",
    "prospect": "潜在（跟进中）",
    "customer": "活跃",
    "at_risk": "风险预警",
    "churned": "流失",
}
TYPES_ZH: dict[str, str] = {"individual": "个人", "company": "企业"}
# The profile's fields as the record's Chinese forms name them (客户档案).
PROFILE_FIELDS_ZH: dict[str, str] = {
    "name": "客户名称",
    "type": "客户类型",
    "source": "客户来源",
    "industry": "行业",
    "region": "地区",
    "size": "规模",
    "licence_no": "营业执照号",
    "registered_address": "注册地址",
}
CHANNELS_ZH: dict[str, str] = {
    "phone": "电话",
    "visit": "上门拜访",
    "email": "邮件",
    "event": "活动",
    "wechat": "微信",
    "qq": "QQ",
    "social": "社交媒体",
    "meeting": "会议",
    "other": "其他",
}


def describe(event: Any) -> tuple[str, str]:
    """(English, Chinese) one-line summary of a Customer event."""
    summary = SUMMARIES.get(type(event).__name__)
    if summary is None:
        name = type(event).__name__
        return name, name
    return summary(event)


# (event, its summary) by id(event): a page's events are described once, for the timeline
# and for the profile's searchable texts alike; ``forget_summaries`` after each page.
_summaries: dict[int, tuple[Any, tuple[str, str]]] = {}
SUMMARIES_KEPT = 6_000  # a page and more; a bound, should a caller never forget them


def described(event: Any) -> tuple[str, str]:
    """``describe(event)``, computed once for this very event object."""
    found = _summaries.get(id(event))
    if found is not None and found[0] is event:
        return found[1]
    summary = describe(event)
    if len(_summaries) >= SUMMARIES_KEPT:
        _summaries.clear()
    _summaries[id(event)] = (event, summary)
    return summary


def forget_summaries() -> None:
    _summaries.clear()


def entry_for(event: Any, number: str) -> TimelineEntry:
    summary_en, summary_zh = described(event)
    return TimelineEntry(
        customer_id=event.originator_id,
        number=number,
        version=event.originator_version,
        kind=type(event).__name__,
        occurred_at=event.occurred_at,
        recorded_at=event.timestamp,
        actor=event.meta.actor,
        summary_en=summary_en,
        summary_zh=summary_zh,
        late=bool(getattr(event, "late", False)),
    )
