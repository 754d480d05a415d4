"""The kiosk's pages and pictures: the touch page, the mobile ticket behind the QR code, ticket images."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from pypinyin import Style, lazy_pinyin

from server.api.context import CTX, hall_of
from server.api.devices import page_device
from server.api.views import ticket_view
from server.domain import ratings
from server.domain.catalog import Catalog
from server.domain.errors import NotFound
from server.domain.tickets import ticket_of
from server.hall import HallService
from server.web import language, render

from .api import PRINTING, origin
from .jobs import facts, mobile_url
from .printing import preview_png, qr_svg, ticket_layout

routes = web.RouteTableDef()

KIOSK_TEXT = {
    "zh-CN": {
        "title": "自助取号", "take": "取号", "take_sub": "选择办理事项", "checkin": "预约签到", "checkin_sub": "输入预约码",
        "search": "拼音首字母查找", "search_sub": "如 SFZ 查身份证", "lang": "English", "back": "返回", "home": "首页",
        "departments": "请选择部门", "items": "请选择办理事项", "waiting": "等候", "people": "人", "minutes": "分钟",
        "wait_about": "预计等候约", "no_wait": "无需等候", "not_issuing": "当前时段不取号", "quota_out": "今日号源已满",
        "publics": "办事指南（六个公开）", "materials": "请备齐以下材料（一次性告知）", "content": "办理内容",
        "legal_basis": "设定依据", "procedure": "办理流程", "requirements": "办理条件", "time_limit": "承诺时限", "fee": "收费标准",
        "priority": "绿色通道", "priority_sub": "老年人、残疾人、孕妇、现役军人优先办理", "take_number": "确认取号",
        "your_number": "您的号码", "go_to": "请到", "ahead": "前面等候", "printing": "正在打印凭条…",
        "printed": "请取走凭条", "print_failed": "凭条打印失败", "print_failed_sub": "号码已有效。请用手机扫描二维码保存，或点击重新打印。",
        "reprint": "重新打印", "reprinting": "正在重新打印…", "done": "完成", "scan": "手机扫码查看排队进度",
        "preview": "凭条样式", "code": "预约码", "confirm": "确认签到", "clear": "清除", "delete": "删除",
        "offline": "网络连接中断，暂时无法取号。请稍后再试，或咨询导服台工作人员。", "closed": "当前不在取号时间",
        "error": "取号失败", "no_results": "没有找到匹配的事项", "type_initials": "请输入事项名称的拼音首字母",
        "idle": "无操作将自动返回首页", "printer_fault": "打印机暂时不可用，取号后请用手机扫码保存号码",
        "no_printer": "本机不打印凭条，请用手机扫码保存号码", "appointment": "预约", "clock": "",
        "checkin_hint": "请输入短信中的预约码", "ticket_on_screen": "请记下您的号码或扫码",
        "err_closed": "当前不在该事项的取号时间，请在办公时间内取号", "err_quota-exhausted": "该事项今日号源已取完，请明日再来或网上预约",
        "err_unknown-appointment": "未找到该预约码，请核对后重新输入", "err_appointment-used": "该预约已签到，请勿重复取号",
        "err_appointment-early": "尚未到签到时间，请于 {time} 以后签到", "err_appointment-late": "已超过预约签到时间，请取普通号",
        "err_unavailable": "系统繁忙，请稍后再试", "err_reprint-limit": "补打次数已达上限，请到咨询台办理",
        "err_ticket-closed": "该号码已办结或取消，无法补打", "ok": "确定",
    },
    "en": {
        "title": "Take a number", "take": "Take a number", "take_sub": "Choose a service", "checkin": "Appointment",
        "checkin_sub": "Check in with your code", "search": "Search by initials", "search_sub": "Pinyin initials, e.g. SFZ",
        "lang": "中文", "back": "Back", "home": "Home", "departments": "Choose a department", "items": "Choose a service",
        "waiting": "Waiting", "people": "", "minutes": "min", "wait_about": "Wait about", "no_wait": "No wait",
        "not_issuing": "Not issued at this hour", "quota_out": "Today's tickets are all taken",
        "publics": "Service guide (six publics)", "materials": "Please bring all of these", "content": "What it is",
        "legal_basis": "Legal basis", "procedure": "Procedure", "requirements": "Requirements", "time_limit": "Time limit",
        "fee": "Fee", "priority": "Priority lane", "priority_sub": "Elderly, disabled, pregnant, military: served first",
        "take_number": "Take a number", "your_number": "Your number", "go_to": "Go to", "ahead": "Ahead of you",
        "printing": "Printing your ticket…", "printed": "Please take your ticket", "print_failed": "The ticket did not print",
        "print_failed_sub": "Your number is valid. Scan the QR code with your phone, or tap Print again.",
        "reprint": "Print again", "reprinting": "Printing again…", "done": "Done", "scan": "Scan to follow your place",
        "preview": "Your ticket", "code": "Appointment code", "confirm": "Check in", "clear": "Clear", "delete": "Delete",
        "offline": "No connection to the server: no number can be taken now. Please try again shortly or ask at the desk.",
        "closed": "Numbers are not issued now", "error": "No number was taken", "no_results": "No matching service",
        "type_initials": "Type the pinyin initials of the service", "idle": "Returns home when untouched",
        "printer_fault": "The printer is unavailable: scan the QR code to keep your number",
        "no_printer": "This kiosk prints no paper: scan the QR code to keep your number", "appointment": "Appointment",
        "clock": "", "checkin_hint": "Type the code from your booking message", "ticket_on_screen": "Note your number or scan the code",
        "err_closed": "Numbers for this service are not issued at this hour", "err_quota-exhausted": "Today's numbers for this service are all taken",
        "err_unknown-appointment": "No appointment with this code today: please check it", "err_appointment-used": "This appointment has been checked in already",
        "err_appointment-early": "Too early: check-in opens at {time}", "err_appointment-late": "Too late for this slot: please take a normal number",
        "err_unavailable": "The system is busy: please try again", "err_reprint-limit": "No more reprints: please ask at the desk",
        "err_ticket-closed": "This number is finished or cancelled", "ok": "OK",
    },
}

MOBILE_TEXT = {
    "zh-CN": {
        "title": "我的排队号", "number": "排队号", "item": "办理事项", "ahead": "前面等候", "people": "人", "wait": "预计等候",
        "minutes": "分钟", "status": "状态", "waiting": "等候中", "called": "请立即到窗口办理", "serving": "正在办理",
        "suspended": "已挂起，请按窗口工作人员指引", "done": "办理完毕，感谢您的耐心", "no_show": "已过号，请重新取号",
        "cancelled": "已取消",
        "closed_out": "当日办理时间已结束，本号已作废。如需办理，请重新取号。", "closed_out_serving": "办理跨过了当日结束时间，请向窗口工作人员确认办理结果。", "go_to": "请到", "windows": "办理窗口", "notify": "快到号时提醒我", "notify_on": "已开启到号提醒",
        "notify_denied": "浏览器不允许通知，请留意本页面", "cancel": "取消排队", "cancel_confirm": "确定要取消这个号码吗？取消后无法恢复。",
        "rate_prompt": "请对本次服务作出评价（好差评）", "rated_thanks": "感谢您的评价！",
        "indicators_title": "分项评价（可调整）", "reasons_title": "请选择不满意的原因（可多选）",
        "rate_next": "下一步", "rate_confirm": "请确认您的评价", "rate_send": "确认提交", "rate_back": "返回修改",
        "rate_failed": "评价未能提交，请重试", "reasons_none": "未选择原因",
        "yes": "确定取消", "no": "不取消", "offline": "连接中断，正在重连…", "soon": "前面只有 {n} 人，请回到大厅等候叫号",
        "called_notice": "请到 {window} 办理", "issued": "取号时间", "lang": "English", "updated": "实时更新",
        "not_found": "没有找到这个号码：它可能是以前的号码，或链接不完整。",
        "arrive": "我已到达大厅", "arrived": "已确认到达，请留意叫号",
        "remote_wait": "在线取号：到达大厅后请点击“我已到达大厅”。确认前不会叫号，您的号码会保留。",
        "remote_soon": "前面只有 {n} 人，请尽快到达大厅并确认到达，否则不会叫到您的号",
    },
    "en": {
        "title": "My ticket", "number": "Number", "item": "Service", "ahead": "Ahead of you", "people": "", "wait": "Expected wait",
        "minutes": "min", "status": "Status", "waiting": "Waiting", "called": "Please go to the window now", "serving": "Being served",
        "suspended": "On hold: follow the clerk's instructions", "done": "Done. Thank you for your patience",
        "no_show": "Missed: please take a new number", "cancelled": "Cancelled",
        "closed_out": "The hall's day has ended: this number is no longer valid. Please take a new number to be served.",
        "closed_out_serving": "Your service ran past the end of the hall's day: please ask the clerk at the window for the result.", "go_to": "Go to", "windows": "Windows",
        "notify": "Notify me when my turn is near", "notify_on": "You will be notified", "notify_denied": "Notifications are blocked: keep this page open",
        "cancel": "Cancel my number", "cancel_confirm": "Cancel this number? This cannot be undone.",
        "rate_prompt": "Please rate the service you received", "rated_thanks": "Thank you for your rating!",
        "indicators_title": "By aspect (you may adjust)", "reasons_title": "What went wrong? (several allowed)",
        "rate_next": "Next", "rate_confirm": "Please check your rating", "rate_send": "Send it", "rate_back": "Change it",
        "rate_failed": "The rating was not sent: please try again", "reasons_none": "No reason chosen",
        "yes": "Cancel it",
        "no": "Keep it", "offline": "Connection lost, reconnecting…", "soon": "Only {n} ahead of you: please come back to the hall",
        "called_notice": "Please go to {window}", "issued": "Taken at", "lang": "中文", "updated": "Live",
        "not_found": "This number was not found: it may be from another day, or the link is incomplete.",
        "arrive": "I am in the hall", "arrived": "Arrival confirmed: watch for your call",
        "remote_wait": "Taken online: tap “I am in the hall” when you arrive. You are not called before that; your place is kept.",
        "remote_soon": "Only {n} ahead of you: come to the hall and confirm, or you will not be called",
    },
}

# The rating's words come from the domain's one list of levels, indicators and reasons (好差评),
# the same the window's evaluator shows.
for _lang, _levels, _indicators, _reasons in (
    ("zh-CN", ratings.LEVELS, ratings.INDICATORS, ratings.REASONS),
    ("en", ratings.LEVELS_EN, ratings.INDICATORS_EN, ratings.REASONS_EN),
):
    MOBILE_TEXT[_lang] |= {f"score{n}": name for n, name in _levels.items()}
    MOBILE_TEXT[_lang] |= {f"ind_{k}": name for k, name in _indicators.items()}
    MOBILE_TEXT[_lang] |= {f"reason_{k}": name for k, name in _reasons.items()}

NOTIFY_AHEAD = 3  # the mobile page offers a notification when this few people are ahead


def menu(catalog: Catalog) -> list[dict[str, Any]]:
    """Departments with their items, each with the pinyin the kiosk's search matches."""
    out = []
    for d in catalog.config.departments:
        items = [
            {
                "id": i.id,
                "name": i.name,
                "initials": "".join(lazy_pinyin(i.name, style=Style.FIRST_LETTER, errors="ignore")).upper(),
                "pinyin": "".join(lazy_pinyin(i.name, errors="ignore")).upper(),
                "case_type": i.case_type.value,
                "promised_days": i.promised_days,
                "materials": list(i.materials),
                "publics": i.publics.model_dump(),
                "windows": [catalog.windows[w].called_as for w in catalog.windows_of_item[i.id]],
            }
            for i in catalog.config.items
            if i.department == d.id and not i.retired
        ]
        if items and not d.retired:
            out.append({"id": d.id, "name": d.name, "short_name": d.short_name or d.name, "items": items})
    return out


@routes.get("/kiosk/{hall}")
async def kiosk_index(request: web.Request) -> web.Response:
    hall = hall_of(request)
    return render("kiosk", "index.html", request, hall_name=hall.catalog.hall.name, hall=hall.hall,
                  kiosks=hall.catalog.config.kiosks)


@routes.get("/kiosk/{hall}/{kiosk}")
async def kiosk_page(request: web.Request) -> web.Response:
    hall = hall_of(request)
    link = request.app[PRINTING].link(hall.hall, request.match_info["kiosk"])
    lang = language(request)
    config = {"hall": hall.hall, "kiosk": link.conf.id, "idle_s": link.conf.idle_s, "lang": lang,
              "printer": link.conf.printer.kind != "none", "timezone": hall.catalog.hall.timezone,
              "device": page_device(hall, "kiosk", link.conf.id, link.conf.name)}
    return render("kiosk", "kiosk.html", request, config=config, text=KIOSK_TEXT, menu=menu(hall.catalog),
                  hall_name=hall.catalog.hall.name, kiosk_name=link.conf.name, t=KIOSK_TEXT[lang])


@routes.get("/kiosk/{hall}/{kiosk}/menu")
async def kiosk_menu(request: web.Request) -> web.Response:
    """The menu again, for a kiosk page that heard the catalogue change (no reload: a citizen may be mid-way)."""
    hall = hall_of(request)
    request.app[PRINTING].link(hall.hall, request.match_info["kiosk"])  # 404 for an unknown kiosk
    await hall.current()
    return web.json_response({"rev": hall.rev, "menu": menu(hall.catalog)}, dumps=_dumps, headers={"Cache-Control": "no-store"})


def _dumps(data: Any) -> str:
    import json

    return json.dumps(data, ensure_ascii=False)


async def _ticket_at(request: web.Request) -> tuple[HallService, Any, Any]:
    hall = hall_of(request)
    link = request.app[PRINTING].link(hall.hall, request.match_info["kiosk"])
    return hall, link, ticket_of(await hall.current(), request.match_info["ticket"])


@routes.get("/kiosk/{hall}/{kiosk}/tickets/{ticket}/preview.png")
async def preview(request: web.Request) -> web.Response:
    """The paper ticket as a picture (the ticket id is the holder's secret, as everywhere)."""
    hall, link, t = await _ticket_at(request)
    blocks = ticket_layout(facts(hall, link.conf, t, mobile_url(link.conf, origin(request), t.id), None, False))
    return web.Response(body=preview_png(blocks, link.conf.printer.paper_mm), content_type="image/png",
                        headers={"Cache-Control": "no-store"})


@routes.get("/kiosk/{hall}/{kiosk}/tickets/{ticket}/qr.svg")
async def qr(request: web.Request) -> web.Response:
    """The on-screen QR code to the mobile ticket: the same address as on the paper."""
    hall, link, t = await _ticket_at(request)
    return web.Response(body=qr_svg(mobile_url(link.conf, origin(request), t.id)), content_type="image/svg+xml",
                        headers={"Cache-Control": "no-store"})


@routes.get("/t/{ticket}")
async def mobile_ticket(request: web.Request) -> web.Response:
    """The mobile ticket behind the QR code: any hall's ticket of today (or, closed out, of the day
    before), found by its id."""
    ticket_id = request.match_info["ticket"]
    lang = language(request)
    for hall in request.app[CTX].halls.values():
        try:
            state, t = await hall.find_ticket(ticket_id)
        except NotFound:
            continue
        windows = {w.id: w.called_as for w in hall.catalog.config.windows}
        config = {"hall": hall.hall, "ticket": t.id, "lang": lang, "notify_ahead": NOTIFY_AHEAD, "windows": windows,
                  "timezone": hall.catalog.hall.timezone, "indicators": list(ratings.INDICATORS),
                  "bad_at_most": ratings.BAD_AT_MOST,
                  # A ticket of an ended day changes no more: the page shows it without a feed.
                  "final": ticket_view(state, hall.catalog, t) if state.day != hall.held().day else None}
        # The words of a final state in the page itself: readable before (or without) the script.
        closed = "closed_out_serving" if t.closed_out_from == "serving" and t.status == "closed_out" else t.status.value
        status = MOBILE_TEXT[lang].get(closed, "") if config["final"] else ""
        return render("kiosk", "mobile.html", request, config=config, text=MOBILE_TEXT,
                      hall_name=hall.catalog.hall.name, number=t.number, t=MOBILE_TEXT[lang], status=status,
                      levels=list(ratings.LEVELS), indicators=list(ratings.INDICATORS), reasons=list(ratings.REASONS))
    resp = render("kiosk", "mobile_missing.html", request, t=MOBILE_TEXT[lang])
    resp.set_status(404)
    return resp

