"""The words sheets use for channels, stages, customer types and grades, both ways.

Reading accepts the synonyms people type (电话沟通, 上门拜访, on-site visit...);
writing uses one word per value, the first of each list, so what the exporter writes
reads back as the same value.
"""

from __future__ import annotations

import re
import unicodedata
from enum import StrEnum
from typing import TypeVar

from customer_ledger.domain.values import Channel, CustomerType, Grade, Stage

T = TypeVar("T")


class Lang(StrEnum):
    ZH = "zh"
    EN = "en"


class StatedStage(StrEnum):
    """What a sheet's 维护状态 can say; 潜在 covers both lead and prospect."""

    POTENTIAL = "potential"  # 潜在
    ACTIVE = "active"  # 活跃
    AT_RISK = "at_risk"  # 风险预警
    LOST = "lost"  # 流失

    def holds(self, stage: Stage) -> bool:
        """Whether a ledger stage already is what the sheet states."""
        return stage in STAGES_STATED[self]


STAGES_STATED: dict[StatedStage, tuple[Stage, ...]] = {
    StatedStage.POTENTIAL: (Stage.LEAD, Stage.PROSPECT),
    StatedStage.ACTIVE: (Stage.CUSTOMER,),
    StatedStage.AT_RISK: (Stage.AT_RISK,),
    StatedStage.LOST: (Stage.CHURNED,),
}
STAGE_TO_STATED: dict[Stage, StatedStage] = {
    stage: stated for stated, stages in STAGES_STATED.items() for stage in stages
}

# The first word of each list is the one written on export.
CHANNEL_WORDS: dict[Channel, dict[Lang, tuple[str, ...]]] = {
    Channel.PHONE: {
        Lang.ZH: ("电话", "致电", "来电", "电话回访", "回访"),
        Lang.EN: ("phone call", "phone", "call", "telephone"),
    },
    Channel.VISIT: {
        Lang.ZH: ("上门拜访", "拜访", "上门", "面访", "实地拜访", "现场拜访", "到访", "来访"),
        Lang.EN: ("on-site visit", "visit", "site visit", "onsite visit"),
    },
    Channel.EMAIL: {
        Lang.ZH: ("邮件", "电子邮件", "邮箱"),
        Lang.EN: ("e-mail", "email", "mail"),
    },
    Channel.EVENT: {Lang.ZH: ("活动", "展会", "会展", "沙龙"), Lang.EN: ("event", "trade show")},
    Channel.WECHAT: {Lang.ZH: ("微信",), Lang.EN: ("WeChat",)},
    Channel.QQ: {Lang.ZH: ("QQ",), Lang.EN: ("QQ",)},
    Channel.SOCIAL: {
        Lang.ZH: ("社交媒体", "微博", "抖音", "小红书"),
        Lang.EN: ("social media", "social"),
    },
    Channel.MEETING: {
        Lang.ZH: ("会议", "视频会议", "线上会议", "面谈", "会谈", "座谈"),
        Lang.EN: ("meeting", "video call", "video meeting"),
    },
    Channel.OTHER: {Lang.ZH: ("其他",), Lang.EN: ("other",)},
}
# Verbs people add after a channel word: 电话沟通, 微信联系, e-mail exchange.
CHANNEL_SUFFIXES = ("沟通", "联系", "交流", "联络", " exchange", " contact")
CHANNEL_VERB_ZH = {Channel.PHONE, Channel.EMAIL, Channel.WECHAT, Channel.QQ}  # 电话沟通

STATUS_WORDS: dict[StatedStage, dict[Lang, tuple[str, ...]]] = {
    StatedStage.POTENTIAL: {
        Lang.ZH: ("潜在", "潜在客户", "意向", "意向客户", "潜力"),
        Lang.EN: ("potential", "prospect", "lead"),
    },
    StatedStage.ACTIVE: {
        Lang.ZH: ("活跃", "活跃客户", "成交", "成交客户", "稳定", "稳定客户"),
        Lang.EN: ("active", "customer", "closed", "stable"),
    },
    StatedStage.AT_RISK: {
        Lang.ZH: ("风险预警", "风险", "预警", "风险客户", "风险预警型"),
        Lang.EN: ("risk warning", "at risk", "at-risk", "at_risk", "risk"),
    },
    StatedStage.LOST: {
        Lang.ZH: ("流失", "已流失", "流失客户"),
        Lang.EN: ("lost", "churned"),
    },
}

TYPE_WORDS: dict[CustomerType, dict[Lang, tuple[str, ...]]] = {
    CustomerType.INDIVIDUAL: {
        Lang.ZH: ("个人客户", "个人"),
        Lang.EN: ("individual", "person", "personal"),
    },
    CustomerType.COMPANY: {
        Lang.ZH: ("企业客户", "企业", "公司", "公司客户", "单位", "机构"),
        Lang.EN: ("company", "business", "enterprise", "corporate", "organisation"),
    },
}

# A name that ends (or starts) like these tells a company from a person when the type
# column only states a stage (潜在客户).
COMPANY_NAME = re.compile(
    r"(公司|集团|有限|厂|研究院|研究所|事务所|中心|学校|学院|大学|医院|银行|协会|工作室|"
    r"商行|门店|超市|酒店|合作社|\bco\.?|\bltd\.?|\binc\.?|\bllc|\bgmbh|\bcorp\.?|"
    r"\bcompany|\blimited)\s*$",
    re.IGNORECASE,
)
PERSON_NAME = re.compile(
    r"((先生|女士|小姐|太太|夫人|老师|师傅)\s*$)|(^(mr|mrs|ms|miss|dr)\.?\s)", re.IGNORECASE
)


def fold(word: str) -> str:
    """Compares words the way people mean them: width, case and spaces aside."""
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", word)).strip().casefold()


def _index(table: dict[T, dict[Lang, tuple[str, ...]]]) -> dict[str, T]:
    return {fold(w): value for value, langs in table.items() for ws in langs.values() for w in ws}


CHANNEL_INDEX = _index(CHANNEL_WORDS)
STATUS_INDEX = _index(STATUS_WORDS)
TYPE_INDEX = _index(TYPE_WORDS)


def channel_word(channel: Channel, lang: Lang) -> str:
    return CHANNEL_WORDS[channel][lang][0]


def status_word(stage: Stage, lang: Lang) -> str:
    return STATUS_WORDS[STAGE_TO_STATED[stage]][lang][0]


def type_word(kind: CustomerType, lang: Lang) -> str:
    return TYPE_WORDS[kind][lang][0]


def grade_of(word: str) -> Grade | None:
    """A, B or C, also written A类, A级, a; None if it is not a grade."""
    folded = fold(word).upper().removesuffix("类").removesuffix("级").strip()
    try:
        return Grade(folded)
    except ValueError:
        return None


def words_of(table: dict[T, dict[Lang, tuple[str, ...]]]) -> str:
    """The accepted words, for error messages."""
    return ", ".join(w for langs in table.values() for w in langs[Lang.ZH] + langs[Lang.EN][:1])
