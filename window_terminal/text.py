"""The terminal's words in both languages, and its key bindings (one key per action)."""

from __future__ import annotations

from server.domain.catalog import CaseType
from server.domain.model import Outcome, SuspendKind

# One key per action, shown on its button. Letters, not F-keys: browsers keep F5, F11, F12.
KEYS: list[tuple[str, str]] = [
    ("O", "open"),
    ("N", "call-next"),
    ("R", "recall"),
    ("S", "start"),
    ("F", "finish"),
    ("X", "no-show"),
    ("T", "transfer"),
    ("H", "suspend"),
    ("P", "pause"),
    ("U", "resume"),
    ("B", "handover"),
    ("E", "evaluation"),
    ("D", "reprint"),  # 补打 (bǔ dǎ): the current ticket, when its print failed
    ("C", "close"),
]

CASE_TYPES = {
    "zh-CN": {CaseType.immediate: "即办件", CaseType.promised: "承诺件", CaseType.joint: "联办件", CaseType.escalated: "上报件"},
    "en": {CaseType.immediate: "Immediate", CaseType.promised: "Promised", CaseType.joint: "Joint", CaseType.escalated: "Escalated"},
}
OUTCOMES = {
    "zh-CN": {Outcome.completed: "受理办结", Outcome.one_time_notice: "一次性告知（材料不全）",
              Outcome.not_accepted: "不予受理", Outcome.consultation: "咨询"},
    "en": {Outcome.completed: "Completed", Outcome.one_time_notice: "One-time notice (materials missing)",
           Outcome.not_accepted: "Not accepted", Outcome.consultation: "Consultation"},
}
SUSPEND_KINDS = {
    "zh-CN": {SuspendKind.fetching_materials: "补取材料", SuspendKind.documents_left: "材料留存，稍后再来",
              SuspendKind.waiting_step: "等待其他环节（缴费等）"},
    "en": {SuspendKind.fetching_materials: "Fetching materials", SuspendKind.documents_left: "Documents left, back later",
           SuspendKind.waiting_step: "Waiting on another step"},
}
PAUSE_REASONS = {
    "zh-CN": ["临时离岗", "会议", "业务培训", "就餐", "窗口交接"],
    "en": ["Away briefly", "Meeting", "Training", "Meal", "Handover"],
}

for _lang in ("zh-CN", "en"):
    assert set(CASE_TYPES[_lang]) == set(CaseType) and set(OUTCOMES[_lang]) == set(Outcome)
    assert set(SUSPEND_KINDS[_lang]) == set(SuspendKind)

TEXT: dict[str, dict[str, str]] = {
    "zh-CN": {
        "title": "窗口叫号终端", "login_title": "工作人员登录", "username": "用户名", "password": "密码", "sign_in": "登录",
        "bad_login": "用户名或密码错误", "locked": "登录失败次数过多，账号已临时锁定，请 {minutes} 分钟后再试",
        "logout": "退出登录", "pick_window": "选择窗口", "terminal": "叫号终端", "evaluator": "评价器", "staff": "人员管理",
        "open_window_hint": "按数字键或 ↑↓ 选择，Enter 进入",
        "closed": "未开窗", "idle": "空闲", "called": "已叫号", "serving": "办理中", "paused": "暂停服务",
        "overnight": "跨日办理：此号在日终时仍在办理，请办结登记",
        "open": "开窗", "call-next": "叫号", "recall": "重呼", "start": "开始办理", "finish": "办结", "no-show": "过号",
        "transfer": "转移", "suspend": "挂起", "pause": "暂停", "resume": "恢复", "handover": "交接B岗",
        "evaluation": "邀请评价", "close": "关窗", "call": "指呼", "reprint": "补打凭条",
        "print_failed": "凭条打印失败",
        "reprint_sent": "{number} 号凭条已送去补打（{kiosk}）",
        "current": "当前号码", "none": "—", "materials": "申请材料清单", "no_materials": "（此事项无材料要求）",
        "queue": "等候队列", "suspended_list": "挂起中", "people": "人", "waited": "已等", "minutes": "分钟",
        "appointment": "预约", "aged": "超时", "priority": "优先", "normal": "普通", "transferred": "转入",
        "case_type": "办件类型", "outcome": "办理结果", "missing": "缺少的材料（一次性告知）", "missing_other": "其他缺少的材料",
        "note": "备注", "confirm": "确定 Enter", "cancel": "取消 Esc", "requeue": "重新排队（排到后面几位）",
        "to_item": "转到事项", "to_window": "转到窗口", "target": "转移到", "suspend_kind": "挂起原因",
        "pause_reason": "暂停原因", "until": "预计回岗时间", "reason_other": "其他原因",
        "handover_confirm": "把本窗口交接给另一岗位（AB岗）？", "close_confirm": "关闭本窗口，结束今天的服务？",
        "no_show_confirm": "该号未到，记为过号？",
        "nobody_waiting": "当前无人等候", "asked": "已请 {number} 号评价", "offline": "离线 · 正在重连",
        "not_your_window": "您在此窗口没有岗位。", "managers_only": "仅大厅管理员和系统管理员可用。",
        "keys_hint": "字母键执行操作 · Q 进入队列（↑↓ 选择，Enter 指呼） · Esc 关闭对话框",
        "item": "事项", "status": "状态", "handled_by": "当班", "post": "岗",
        "welcome": "欢迎您！", "rate_title": "请您对本次服务作出评价", "indicators_title": "分项评价（可调整）",
        "reasons_title": "请选择不满意的原因（可多选）", "submit": "提交评价", "thanks": "感谢您的评价！",
        "thanks_visit": "感谢您的光临，欢迎再来", "your_number": "您的号码", "staff_no": "工号", "serving_you": "为您服务",
        "rate_failed": "评价未能提交：",
        "add": "新增人员", "name": "姓名", "role": "角色", "windows": "窗口", "department": "部门", "save": "保存",
        "disable": "停用", "enable": "启用", "disabled": "已停用", "reset": "重置密码", "changes": "变更记录",
        "new_password": "新密码（只显示这一次，请当面交给本人）：", "at": "时间", "by": "操作人", "action": "操作",
        "detail": "内容", "locked_until": "锁定至", "clerk": "窗口工作人员", "chief": "首席代表", "manager": "大厅管理员",
        "admin": "系统管理员", "added": "新增", "changed": "修改", "enabled": "启用", "password_reset": "重置密码", "password_set": "设置密码（命令行）",
        "edit": "修改", "password_optional": "初始密码（留空则自动生成）", "saved": "已保存",
    },
    "en": {
        "title": "Window terminal", "login_title": "Staff login", "username": "Username", "password": "Password", "sign_in": "Log in",
        "bad_login": "Wrong username or password", "locked": "Too many failed logins: locked, try again in {minutes} min",
        "logout": "Log out", "pick_window": "Pick a window", "terminal": "Terminal", "evaluator": "Evaluator", "staff": "Staff",
        "open_window_hint": "Press a number or ↑↓, then Enter",
        "closed": "Closed", "idle": "Idle", "called": "Called", "serving": "Serving", "paused": "Paused",
        "overnight": "Served over midnight: the day closed it out, please record how it ended",
        "open": "Open", "call-next": "Call next", "recall": "Recall", "start": "Start", "finish": "Finish", "no-show": "No-show",
        "transfer": "Transfer", "suspend": "Suspend", "pause": "Pause", "resume": "Resume", "handover": "Hand over",
        "evaluation": "Ask rating", "close": "Close", "call": "Call this", "reprint": "Reprint ticket",
        "print_failed": "ticket not printed",
        "reprint_sent": "Ticket {number} sent to be reprinted ({kiosk})",
        "current": "Current number", "none": "—", "materials": "Materials", "no_materials": "(no materials required)",
        "queue": "Queue", "suspended_list": "Suspended", "people": "", "waited": "waited", "minutes": "min",
        "appointment": "Appt", "aged": "Aged", "priority": "Priority", "normal": "Normal", "transferred": "Transferred",
        "case_type": "Case type", "outcome": "Outcome", "missing": "Missing materials (one-time notice)", "missing_other": "Other missing",
        "note": "Note", "confirm": "OK Enter", "cancel": "Cancel Esc", "requeue": "Re-queue (a few places back)",
        "to_item": "To item", "to_window": "To window", "target": "Transfer to", "suspend_kind": "Why suspend",
        "pause_reason": "Reason", "until": "Back at", "reason_other": "Other reason",
        "handover_confirm": "Hand the window to the other post?", "close_confirm": "Close the window for today?",
        "no_show_confirm": "Mark the called ticket as no-show?",
        "nobody_waiting": "Nobody waiting", "asked": "Asked {number} to rate", "offline": "Offline · reconnecting",
        "not_your_window": "You hold no post at this window.", "managers_only": "For managers and admins only.",
        "keys_hint": "Letter keys act · Q enters the queue (↑↓, Enter calls) · Esc closes dialogs",
        "item": "Item", "status": "State", "handled_by": "On duty", "post": "post",
        "welcome": "Welcome", "rate_title": "Please rate this service", "indicators_title": "By aspect (you may adjust)",
        "reasons_title": "What went wrong? (several allowed)", "submit": "Submit", "thanks": "Thank you for your rating!",
        "thanks_visit": "Thank you for coming", "your_number": "Your number", "staff_no": "Staff no.", "serving_you": "At your service",
        "rate_failed": "The rating was not taken: ",
        "add": "Add account", "name": "Name", "role": "Role", "windows": "Windows", "department": "Department", "save": "Save",
        "disable": "Disable", "enable": "Enable", "disabled": "disabled", "reset": "Reset password", "changes": "Changes",
        "new_password": "New password (shown once, hand it over in person): ", "at": "When", "by": "By", "action": "Action",
        "detail": "Detail", "locked_until": "Locked until", "clerk": "Clerk", "chief": "Chief representative", "manager": "Manager",
        "admin": "Admin", "added": "added", "changed": "changed", "enabled": "enabled", "password_reset": "password reset", "password_set": "password set (command line)",
        "edit": "Edit", "password_optional": "First password (empty: generated)", "saved": "Saved",
    },
}
