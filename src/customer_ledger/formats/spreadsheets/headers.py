"""Column headers of each export source, in Chinese and English, and the words exports
use for the ledger's values."""

from __future__ import annotations

from attrs import frozen

from customer_ledger.domain.values import Stage
from customer_ledger.formats.spreadsheets.vocabulary import Lang


@frozen
class Header:
    zh: str
    en: str

    def __call__(self, lang: Lang) -> str:
        return self.zh if lang is Lang.ZH else self.en


PROFILE = (
    Header("客户编号", "number"),
    Header("客户名称", "name"),
    Header("客户类型", "type"),
    Header("生命周期阶段", "stage"),
    Header("手工风险预警", "risk flagged by hand"),
    Header("所属行业", "industry"),
    Header("地理位置", "region"),
    Header("规模", "size"),
    Header("客户来源", "source"),
    Header("维护人", "owner"),
    Header("手工分级", "grade (by hand)"),
    Header("VIP", "VIP"),
    Header("标签", "tags"),
    Header("首次接触日期", "first contact"),
    Header("合作开始日期", "cooperating since"),
    Header("主要联系人", "primary contact"),
    Header("职位", "title"),
    Header("电话", "phone"),
    Header("邮箱", "e-mail"),
    Header("其他联系人", "other contacts"),
    Header("核心需求", "core needs"),
    Header("历史交易金额", "total revenue (CNY)"),
    Header("各币种交易金额", "revenue by currency"),
    Header("交易次数", "purchases"),
    Header("平均客单价", "average order value"),
    Header("最近交易时间", "last purchase"),
    Header("互动次数", "interactions"),
    Header("最近互动时间", "last interaction"),
    Header("合同", "contracts"),
    Header("投诉总数", "complaints"),
    Header("未解决投诉", "open complaints"),
    Header("满意度评分", "last satisfaction"),
    Header("下次提醒", "next reminder"),
    Header("流失原因", "churn reason"),
    Header("版本", "version"),
)

TIMELINE = (
    Header("客户编号", "number"),
    Header("版本", "version"),
    Header("事件", "event"),
    Header("发生时间", "occurred at"),
    Header("登记时间", "recorded at"),
    Header("登记人", "recorded by"),
    Header("摘要", "summary"),
    Header("补录", "late entry"),
)

STATUS = (
    Header("客户编号", "number"),
    Header("客户名称", "name"),
    Header("维护人", "owner"),
    Header("生命周期阶段", "stage"),
    Header("未解决投诉", "open complaints"),
    Header("最近互动时间", "last interaction"),
    Header("下次提醒", "next reminder"),
    Header("首次接触日期", "first contact"),
)

STAGE_WORDS: dict[Stage, Header] = {
    Stage.LEAD: Header("潜在（线索）", "lead"),
    Stage.PROSPECT: Header("潜在", "prospect"),
    Stage.CUSTOMER: Header("活跃", "customer"),
    Stage.AT_RISK: Header("风险预警", "at risk"),
    Stage.CHURNED: Header("流失", "churned"),
}
YES_NO = {True: Header("是", "yes"), False: Header("否", "no")}
