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
    "WeChat": "微信",
    "done": "已完成",
    "by the file's name": "按文件扩展名",
    "recognised from the header": "按表头自动识别",
    "change": "修改",
    "read": "查看完整信息",
    "denied": "被拒绝",
    "computed": "计算",
    "by hand": "人工",
    "customers per lifecycle stage": "各生命周期阶段的客户数",
    "customers per ABC grade, computed and assigned by hand": "各 ABC 等级的客户数（计算与人工）",
    "Rebuild the duplicate index": "重建疑似重复索引",
    "Rebuild the index": "重建索引",
    "Reads every customer's history again and rebuilds the index the groups above come from (a store recorded before the index existed, or one restored from a backup). Nothing is recorded about any customer.": "重新读取每位客户的历史，重建上面各组所依据的索引（用于索引出现之前记录的存储，或从备份恢复的存储）。不会给任何客户记录内容。",  # noqa: E501
    "The duplicate index was rebuilt from the history; customers with keys in it:": "已根据历史重建疑似重复索引；索引中的客户数：",  # noqa: E501
    "(clear it)": "（清除）",
    "phone": "电话",
    "visit": "拜访",
    "email": "邮件",
    "event": "活动",
    "wechat": "微信",
    "qq": "QQ 消息",
    "social": "社交媒体",
    "meeting": "会议",
    "other": "其他",
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

# What a form must warn of before it is sent, in English and Chinese.
COMMAND_NOTES: dict[str, tuple[str, str]] = {
    "update_contact": (
        "Replaces the whole contact: a field left empty is cleared. Type the phone, "
        "e-mail and the rest again (they are masked on the customer's page).",
        "整条联系人信息会被替换：留空的字段将被清除。请重新填写电话、邮箱等"
        "（客户页上显示的是遮蔽后的号码）。",
    ),
    "remove_contact": (
        "Removes the contact from the customer's file (its history stays).",
        "从客户档案中删除该联系人（历史记录保留）。",
    ),
}


def command_note(command: str, lang: Language) -> str | None:
    note = COMMAND_NOTES.get(command)
    return None if note is None else note[0 if lang == "en" else 1]


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


# What each rule the ledger (or the web server) can name means, in Chinese: shown in
# front of the error's own message, which says which value broke it (in English). The
# English page shows the rule's code and that message only.
RULE_ZH: dict[str, str] = {
    # the business rules (domain/errors.py, domain/access.py, domain/personal.py)
    "ledger": "操作未能完成",
    "domain": "违反业务规则",
    "invalid_value": "填写的值无效",
    "unknown_customer": "没有这个客户",
    "duplicate_customer_number": "客户编号已被使用",
    "possible_duplicate": "疑似与已有客户重复；确认无误请选择“允许疑似重复”",
    "merged_into": "该客户已合并到另一客户，请在保留的客户上操作",
    "malformed_phone": "电话号码格式不正确",
    "malformed_email": "邮箱格式不正确",
    "unknown_currency": "未知币种（请填 ISO 4217 代码，如 CNY）",
    "negative_amount": "金额不能为负数",
    "zero_value_purchase": "购买金额不能为零",
    "satisfaction_out_of_range": "满意度须为 1 到 5 分",
    "future_date": "日期不能晚于今天",
    "invalid_date_range": "日期先后顺序不对（结束早于开始）",
    "date_out_of_range": "日期超出可记录的范围",
    "nothing_changed": "没有任何改动",
    "unknown_contact": "没有这个联系人",
    "duplicate_contact": "联系人编号已存在",
    "duplicate_contract_number": "合同编号已存在",
    "unknown_contract": "没有这个合同",
    "contract_not_active": "该合同不在履行中",
    "duplicate_complaint": "投诉编号已存在",
    "complaint_not_open": "该投诉已处理，不能再次处理",
    "unknown_reminder": "没有这个提醒",
    "duplicate_reminder": "提醒编号已存在",
    "reminder_already_completed": "该提醒已完成",
    "duplicate_attachment": "该附件已关联",
    "lifecycle": "客户当前阶段不允许此操作",
    "customer_churned": "客户已流失：重新激活后才能签合同或记录购买",
    "already_churned": "客户已是流失状态",
    "not_churned": "客户未流失，无需重新激活",
    "command_id_reused": "同一命令编号已用于另一操作",
    "permission_denied": "无权执行此操作",
    "already_forgotten": "该客户的个人信息已删除",
    "forgotten_customer": "该客户的个人信息已删除，无法查看或修改",
    # the store
    "concurrency_conflict": "他人刚修改了该客户，请刷新后重试",
    "corrupt_event": "存储的记录已损坏，无法读取",
    "store": "存储配置有误或未安装对应组件",
    "store_busy": "存储正忙，未记录任何内容，请稍后重试",
    "store_unavailable": "存储暂时不可用，请用同一命令编号重试",
    "store_damaged": "存储已损坏或无法接受该值",
    "store_not_found": "找不到该存储",
    "read_only": "当前为只读模式，不能记录",
    "actor_required": "未指明操作人",
    "invalid_query": "查询条件无效",
    "not_yet_known": "该时间点尚无此客户的记录",
    # keys and audit
    "keys": "密钥有问题",
    "master_key_missing": "缺少主密钥",
    "master_key_invalid": "主密钥无效",
    "master_key_mismatch": "主密钥与存储不匹配",
    "key_store_unknown": "未找到密钥存储",
    "data_key_missing": "缺少该客户的数据密钥",
    "personal_data_unreadable": "个人信息无法解密",
    "invalid_checkpoint": "校验点无效",
    # files written
    "output_failed": "无法写出文件",
    "output_is_directory": "输出位置是文件夹",
    "output_is_symlink": "输出位置是符号链接",
    "output_directory_missing": "输出文件夹不存在",
    "output_not_writable": "输出位置不可写",
    "output_disk_full": "磁盘已满",
    # JSON Lines
    "bad_line": "该行格式不正确",
    "invalid_json": "该行不是有效的 JSON",
    "unknown_command": "未知命令",
    "unknown_field": "未知字段",
    "missing_field": "缺少必填字段",
    "wrong_type": "字段类型不对",
    # spreadsheets
    "spreadsheet": "表格有问题",
    "unreadable_sheet": "无法读取该表格",
    "sheet_too_large": "表格过大",
    "unknown_layout": "未知的表格版式",
    "unknown_column": "无法识别的列",
    "missing_column": "缺少必需的列",
    "export": "导出失败",
    "bad_cell": "单元格内容无效",
    "undecodable_text": "文字编码无法识别（请另存为 UTF-8）",
    "control_characters": "含有控制字符",
    "cell_too_long": "单元格内容过长",
    "formula_cell": "单元格是公式，请改为数值",
    "bad_date": "日期无法识别",
    "bad_number": "数字无法识别",
    "bad_amount": "金额无法识别",
    "unknown_word": "无法识别的取值",
    "customer_type_unknown": "无法判断客户类型（个人/企业）",
    "unreadable_note": "备注无法识别",
    "missing_value": "缺少必填内容",
    "inconsistent_row": "该行内容前后矛盾",
    "unexpected_error": "处理该行时出现意外错误",
    # users and the web
    "user": "用户操作失败",
    "user_exists": "用户名已存在",
    "unknown_user": "没有这个用户",
    "not_authenticated": "用户名或密码错误，或登录已失效",
    "too_many_attempts": "尝试次数过多，请稍后再试",
    "csrf_rejected": "表单已过期或来源可疑，请刷新页面",
    "request_too_large": "提交的内容过大",
    "attachment": "附件有问题",
    "attachment_missing": "附件文件不存在",
    "attachment_damaged": "附件文件已被改动（校验值不符）",
    "bad_request": "请求无效",
    "not_found": "页面不存在",
    "method_not_allowed": "不支持该请求方式",
    "unsupported_media_type": "不支持的内容类型",
    "http_error": "请求失败",
    "internal_error": "服务器出错，已记入日志",
}

# Form fields' hints in Chinese (the English ones are the command schema's FIELD_HELP and
# the forms' META_HELP); a field without one shows its type's pattern (YYYY-MM-DD ...).
HINT_ZH: dict[str, str] = {
    "customer": "客户编号，例如 A001",
    "type": "company 企业 或 individual 个人",
    "name": "客户名称或联系人姓名",
    "channel": "互动方式",
    "grade": "A、B 或 C；留空即清除",
    "stage": "阶段",
    "amount": "金额，例如 1999.90",
    "currency": "ISO 4217 币种代码，默认 CNY",
    "quantity": "数量，默认 1",
    "score": "1（很不满意）到 5（非常满意）",
    "satisfaction": "客户满意度，1 到 5 分",
    "phone": "手机或座机，按常见写法即可：138-1234-5678、(0512) 6666-1234 转 808",
    "primary": "是否为主要联系人",
    "vip": "是否为 VIP 客户",
    "allow_duplicate": "即使与已有客户相似也照样登记",
    "sha256": "文件的 SHA-256 校验值，64 位十六进制",
    "uri": "文件存放位置",
    "contract": "合同编号",
    "complaint": "投诉编号（例如 K1）",
    "reminder": "提醒编号",
    "contact_id": "该客户下联系人的编号",
    "duration_minutes": "用时，单位分钟",
    "row": "表格行号，作为来源依据",
    "occurred_at": "发生时间：YYYY-MM-DD 或日期时间；默认现在（晚于一天登记记为补录）",
    "reason": "原因（随事件一并记录）",
    "correlation_id": "把本次修改与同一请求或流程中的其他修改关联起来",
    "source_actor": "来源（纸质表单、文件）所写的经办人",
}


def rule_text(rule: str, lang: Language) -> str:
    """What a rule means in the page's language: its Chinese text, or (English) its code
    in words; a rule without a text (never, see the tests) shows its code."""
    if lang == "en":
        words = rule.replace("_", " ")
        return words[:1].upper() + words[1:]
    return RULE_ZH.get(rule, rule)


def field_hint(field: str, english: str, lang: Language) -> str:
    """A form field's hint in the page's language (``english`` is the schema's)."""
    if lang == "en" or not english:
        return english
    return HINT_ZH.get(field, english)
