"""The pages' words: Chinese first (the people the interface is for), English on request.

Templates call ``t("Customers")``; the English text is the key, ``ZH`` its Chinese. A
page's language is ``?lang=en|zh`` (remembered in a cookie), else the cookie, else
Chinese. A word without a translation shows in English, never as a key.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

Language = Literal["zh", "en"]
LANG_COOKIE = "customer_ledger_lang"

ZH: dict[str, str] = {
    "Customer archive": "客户档案",
    "Customers": "客户",
    "Customer": "客户",
    "New customer": "新建客户",
    "Status board": "状态看板",
    "Reminders": "提醒",
    "Analytics": "分析",
    "Duplicates": "疑似重复",
    "Likely duplicates": "疑似重复客户",
    "Merge": "合并",
    "into (it stays)": "并入（保留）",
    "Reason": "原因",
    "same company name": "企业同名",
    "same licence number": "营业执照号相同",
    "same ID number": "证件号相同",
    "same phone": "电话相同",
    "Download the report": "下载分析报告",
    "ABC grades": "ABC 分级",
    "Revenue by month": "月度收入",
    "Segment": "维护类型",
    "Audit": "审计",
    "Import": "导入",
    "Export": "导出",
    "Users": "用户",
    "Log in": "登录",
    "Log out": "退出",
    "Name": "姓名",
    "User name": "用户名",
    "Password": "密码",
    "Search": "搜索",
    "Search text": "搜索内容",
    "Stage": "阶段",
    "Type": "类型",
    "Industry": "行业",
    "Region": "地区",
    "Grade": "等级",
    "Owner": "负责人",
    "Tag": "标签",
    "Tags": "标签",
    "Sort by": "排序",
    "Descending": "倒序",
    "Any": "全部",
    "Number": "编号",
    "Revenue": "营收",
    "Last interaction": "最近互动",
    "First contact": "首次接触",
    "Next page": "下一页",
    "First page": "第一页",
    "No customers match.": "没有符合条件的客户。",
    "Basic information": "基本信息",
    "Contacts": "联系人",
    "Title": "职务",
    "Phone": "电话",
    "E-mail": "邮箱",
    "Primary": "主要",
    "Show unmasked": "显示完整信息",
    "Why do you need to see it?": "查看原因",
    "Shown unmasked; this read is recorded in the audit log.": "已显示完整信息；本次查看已记入审计日志。",  # noqa: E501
    "Needs": "需求",
    "Contracts": "合同",
    "Signed": "签订",
    "Starts": "开始",
    "Expires": "到期",
    "days left": "剩余天数",
    "Amount": "金额",
    "Status": "状态",
    "Complaints": "投诉",
    "Subject": "主题",
    "Filed": "提出",
    "Resolution": "处理结果",
    "Satisfaction": "满意度",
    "Purchases": "购买记录",
    "Attachments": "附件",
    "Attach a file": "上传附件",
    "Attach": "上传",
    "Timeline": "时间线",
    "When": "时间",
    "Recorded": "记录时间",
    "Who": "记录人",
    "What": "内容",
    "late": "补录",
    "Recorded late (more than a day after it happened)": "补录（事后超过一天登记）",
    "Actions": "操作",
    "Record": "记录",
    "Cancel": "取消",
    "Required": "必填",
    "Fields": "字段",
    "Every command": "通用字段",
    "Recorded.": "已记录。",
    "Already recorded: nothing new.": "已记录过：没有新内容。",
    "Time travel": "历史回放",
    "As of business date": "业务日期",
    "As recorded at": "记录时刻",
    "At version": "版本",
    "Show": "查看",
    "Version": "版本",
    "Open complaints": "未结投诉",
    "Total": "合计",
    "At risk": "有流失风险",
    "Idle": "久未联系",
    "Reminders due": "到期提醒",
    "Due": "到期日",
    "Days": "天数",
    "Kind": "类别",
    "overdue": "已逾期",
    "Within days": "天数范围",
    "Audit log": "审计日志",
    "Verify": "校验",
    "The hash chains verify.": "哈希链校验通过。",
    "The hash chains do NOT verify.": "哈希链校验未通过。",
    "events": "事件",
    "chains": "链",
    "Role": "角色",
    "Why": "原因",
    "Event": "事件",
    "File": "文件",
    "Format": "格式",
    "Layout": "版式",
    "Check (dry run)": "检查（试运行）",
    "Confirm import": "确认导入",
    "Row": "行",
    "Rule": "规则",
    "Message": "说明",
    "Column": "列",
    "Would record": "将记录",
    "Recorded commands": "已记录命令",
    "Failed": "失败",
    "Skipped": "跳过",
    "Notes": "备注",
    "Rows": "行数",
    "Nothing was recorded: this is the dry run's report.": "试运行报告：尚未记录任何内容。",
    "Imported.": "已导入。",
    "Download": "下载",
    "Profiles": "客户资料",
    "Language": "语言",
    "Add user": "添加用户",
    "Disable": "停用",
    "New password": "新密码",
    "Disabled": "已停用",
    "Active": "启用",
    "Error": "错误",
    "Back": "返回",
    "Live: updates within two seconds.": "实时：两秒内更新。",
    "Skip to content": "跳到正文",
    "Main navigation": "主导航",
    "signed in as": "当前用户",
    "yes": "是",
    "no": "否",
    "Stages": "各阶段",
    "Change": "修改",
    "Not yet known at that point.": "该时间点尚无此客户。",
    "Customer as it stood": "当时的客户状态",
    "Manual grade": "手动等级",
    "Computed grade": "计算等级",
    "VIP": "VIP",
    "Source": "来源",
    "Size": "规模",
    "Since": "合作起始",
    "Interactions": "互动次数",
    "Purchase count": "购买次数",
    "Churn reason": "流失原因",
    "none": "无",
    "lead": "线索",
    "prospect": "潜在客户",
    "customer": "成交客户",
    "at_risk": "流失风险",
    "churned": "已流失",
    "company": "企业",
    "individual": "个人",
    "open": "未结",
    "resolved": "已解决",
    "active": "有效",
    "expired": "已到期",
    "terminated": "已终止",
    "renewed": "已续约",
}

# The commands' names in Chinese (the English is the schema's own name, spaced).
COMMAND_ZH: dict[str, str] = {
    "first_contact": "首次接触（新建客户）",
    "update_profile": "修改基本信息",
    "add_contact": "添加联系人",
    "update_contact": "修改联系人",
    "remove_contact": "删除联系人",
    "tag": "添加标签",
    "untag": "移除标签",
    "record_needs": "记录需求",
    "log_interaction": "记录互动",
    "record_purchase": "记录购买",
    "sign_contract": "签订合同",
    "renew_contract": "续签合同",
    "terminate_contract": "终止合同",
    "file_complaint": "登记投诉",
    "resolve_complaint": "处理投诉",
    "rate_satisfaction": "满意度评分",
    "schedule_reminder": "设置提醒",
    "complete_reminder": "完成提醒",
    "link_attachment": "关联附件",
    "assign_owner": "分配负责人",
    "assign_grade": "设定等级",
    "churn": "标记流失",
    "reactivate": "重新激活",
    "set_stage_on_import": "导入时设定阶段",
    "clear_risk_flag": "清除风险标记",
}

# Form fields' names in Chinese (the field's own name is shown beside it, as the CLI
# option and the JSON Lines field are spelt).
FIELD_ZH: dict[str, str] = {
    "customer": "客户编号", "name": "名称/姓名", "type": "客户类型", "source": "来源",
    "industry": "行业", "region": "地区", "size": "规模", "owner": "负责人",
    "licence_no": "营业执照号", "registered_address": "注册地址", "occurred_at": "发生时间",
    "reason": "原因", "correlation_id": "关联编号", "source_actor": "来源登记人",
    "contact_id": "联系人编号", "title": "职务", "phone": "电话", "email": "邮箱",
    "address": "地址", "wechat": "微信", "qq": "QQ", "birthday": "生日", "primary": "主要联系人",
    "tag": "标签", "core_needs": "核心需求", "purchase_preferences": "采购偏好",
    "communication_channel": "沟通渠道", "communication_frequency": "沟通频率",
    "upsell_intention": "增购意向", "channel": "互动方式", "topic": "互动内容",
    "feedback": "客户反馈", "participant": "参与人", "follow_up": "后续跟进",
    "follow_up_on": "跟进日期", "duration_minutes": "时长（分钟）", "product": "产品",
    "amount": "金额", "currency": "币种", "quantity": "数量", "payment_method": "付款方式",
    "contract": "合同编号", "signed_on": "签订日期", "starts_on": "开始日期",
    "expires_on": "到期日期", "complaint": "投诉编号", "subject": "主题",
    "resolution": "处理结果", "satisfaction": "满意度", "score": "评分", "comment": "备注",
    "grade": "等级", "vip": "VIP", "uri": "文件位置", "sha256": "SHA-256",
    "reminder": "提醒编号", "due_on": "到期日", "stage": "阶段", "row": "表格行号",
    "allow_duplicate": "允许疑似重复",
}  # fmt: skip


def field_label(field: str, lang: Language) -> str:
    """A form field's label: its Chinese name (and the field's own), or the field's
    name in words."""
    words = field.replace("_", " ")
    if lang == "en":
        return words[:1].upper() + words[1:]
    return FIELD_ZH.get(field, words)


def language(query: str | None, cookie: str | None) -> Language:
    for given in (query, cookie):
        if given in ("zh", "en"):
            return "en" if given == "en" else "zh"
    return "zh"


def translator(lang: Language) -> Callable[[str], str]:
    if lang == "en":
        return lambda text: text
    return lambda text: ZH.get(text, text)


def command_title(command: str, lang: Language) -> str:
    english = command.replace("_", " ")
    if lang == "en":
        return english[:1].upper() + english[1:]
    return COMMAND_ZH.get(command, english)
