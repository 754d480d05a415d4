"""The public booking pages for phones (网上预约, 远程取号): book a slot, see and change a booking.

`/book/{hall}`: department → item → its guide (the six publics and the materials) → a day →
a slot → a mobile number → the booking code and its QR code; or, for items that allow it,
today's number from the phone. `/book/{hall}/{code}`: the booking, its QR code, reschedule,
cancel. Every rule is the server's; the page shows what the API answers.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from server.api.appointments import find_code
from server.api.context import hall_of
from server.api.security import TooMany
from server.domain.catalog import Catalog
from server.domain.errors import NotFound
from server.printing.layout import qr_svg
from server.web import language, render

from .routes import menu

routes = web.RouteTableDef()

BOOK_TEXT = {
    "zh-CN": {
        "title": "网上预约", "lang": "English", "departments": "请选择部门", "items": "请选择办理事项", "back": "返回",
        "publics": "办事指南（六个公开）", "materials": "请备齐以下材料（一次性告知）", "content": "办理内容",
        "legal_basis": "设定依据", "procedure": "办理流程", "requirements": "办理条件", "time_limit": "承诺时限", "fee": "收费标准",
        "book": "预约办理时段", "remote": "在线取号（今日）", "remote_sub": "现在取号，到达大厅后确认，确认后才会叫号",
        "days": "请选择日期", "slots": "请选择时段", "left": "余", "full": "已约满", "no_slots": "不可预约",
        "phone": "手机号码", "phone_hint": "用于预约凭证，页面上只显示为 138****1234", "confirm": "确认预约", "take": "确认取号",
        "your_code": "您的预约码", "code_hint": "请凭预约码或二维码在自助取号机签到，或出示给窗口工作人员",
        "check_in": "签到时间", "status": "状态", "booked": "已预约", "checked_in": "已签到", "missed": "已过时（爽约）",
        "cancelled": "已取消", "reschedule": "改约", "cancel": "取消预约", "cancel_confirm": "确定取消这个预约吗？",
        "yes": "确定取消", "no": "不取消", "manage": "查看或修改预约", "item": "办理事项", "time": "预约时段",
        "loading": "正在加载…", "weekday": "日一二三四五六", "week_prefix": "周", "only_booking": "仅显示可网上预约或在线取号的事项",
        "err_slot-full": "该时段已约满，请选择其他时段", "err_booking-limit": "该手机号的有效预约已达上限，请先使用或取消已有预约",
        "err_already-booked": "该手机号当天已预约此事项", "err_slot-started": "该时段已开始，请选择较晚的时段",
        "err_unknown-slot": "没有这个时段，请重新选择", "err_past-day": "不能预约过去的日期", "err_too-far-ahead": "超出可预约的日期范围",
        "err_invalid-body": "请输入正确的11位手机号码", "err_remote-limit": "该手机号已有此事项的在线号码，请勿重复取号",
        "err_remote-off": "该事项不支持在线取号", "err_closed": "当前不在该事项的取号时间", "err_quota-exhausted": "该事项今日号源已取完",
        "err_same-slot": "已经是这个时段", "err_appointment-used": "该预约已签到", "err_appointment-cancelled": "该预约已取消",
        "err_appointment-missed": "该预约已过时", "err_unknown-appointment": "没有找到这个预约码", "err_rate-limited": "操作太频繁，请稍后再试",
        "error": "操作失败", "offline": "网络不可用，请稍后再试", "ok": "确定",
        "find": "已有预约？输入预约码查看、改约或取消", "find_go": "查看我的预约", "proving": "正在进行安全验证，请稍候…",
        "err_proof-required": "安全验证未通过，请重新提交", "err_proof-invalid": "安全验证未通过，请重新提交",
        "err_proof-expired": "安全验证已过期，请重新提交", "err_proof-used": "安全验证已使用过，请重新提交",
        "err_online-share-exhausted": "该事项当天可在网上预约或取号的名额已满，请选择其他日期或到大厅现场取号",
    },
    "en": {
        "title": "Book online", "lang": "中文", "departments": "Choose a department", "items": "Choose a service", "back": "Back",
        "publics": "Service guide (six publics)", "materials": "Please bring all of these", "content": "What it is",
        "legal_basis": "Legal basis", "procedure": "Procedure", "requirements": "Requirements", "time_limit": "Time limit", "fee": "Fee",
        "book": "Book a time slot", "remote": "Take a number now (today)", "remote_sub": "Confirm on arrival in the hall; you are called only after that",
        "days": "Choose a day", "slots": "Choose a time", "left": "left", "full": "Full", "no_slots": "Not bookable",
        "phone": "Mobile number", "phone_hint": "For your booking; pages show it only as 138****1234", "confirm": "Book", "take": "Take a number",
        "your_code": "Your booking code", "code_hint": "Check in at a kiosk with the code or QR code, or show it at the window",
        "check_in": "Check-in", "status": "Status", "booked": "Booked", "checked_in": "Checked in", "missed": "Missed",
        "cancelled": "Cancelled", "reschedule": "Change time", "cancel": "Cancel booking", "cancel_confirm": "Cancel this booking?",
        "yes": "Cancel it", "no": "Keep it", "manage": "View or change the booking", "item": "Service", "time": "Time",
        "loading": "Loading…", "weekday": "SMTWTFS", "week_prefix": "", "only_booking": "Only services bookable online are listed",
        "err_slot-full": "This time is fully booked: please choose another", "err_booking-limit": "This number holds the most bookings allowed: use or cancel one first",
        "err_already-booked": "This number has booked this service on that day already", "err_slot-started": "This time has begun: choose a later one",
        "err_unknown-slot": "No such time: please choose again", "err_past-day": "That day is past", "err_too-far-ahead": "That day cannot be booked yet",
        "err_invalid-body": "Please enter a valid 11-digit mobile number", "err_remote-limit": "This number holds a number for this service already",
        "err_remote-off": "This service cannot be queued for online", "err_closed": "Numbers for this service are not issued now",
        "err_quota-exhausted": "Today's numbers for this service are all taken", "err_same-slot": "The booking is at this time already",
        "err_appointment-used": "This booking has been checked in", "err_appointment-cancelled": "This booking has been cancelled",
        "err_appointment-missed": "The time of this booking is over", "err_unknown-appointment": "No booking with this code",
        "err_rate-limited": "Too many requests: please try again shortly", "error": "That did not work", "offline": "No connection: please try again",
        "ok": "OK", "find": "Booked already? Enter the code to view, change or cancel", "find_go": "Show my booking",
        "proving": "Running a security check, one moment…",
        "err_proof-required": "The security check did not pass: please try again",
        "err_proof-invalid": "The security check did not pass: please try again",
        "err_proof-expired": "The security check has expired: please try again",
        "err_proof-used": "The security check was used already: please try again",
        "err_online-share-exhausted": "The places of this service that day that can be taken online are all gone: "
                                      "choose another day or take a number in the hall",
    },
}


def booking_menu(catalog: Catalog) -> list[dict[str, Any]]:
    """The kiosk's menu (departments, items, guides) narrowed to what citizens may book or queue for online."""
    out = []
    for d in menu(catalog):
        items = [
            {**i, "slots": catalog.items[i["id"]].booking.slots, "remote": catalog.items[i["id"]].booking.remote}
            for i in d["items"]
            if catalog.items[i["id"]].booking.slots or catalog.items[i["id"]].booking.remote
        ]
        if items:
            out.append({**d, "items": items})
    return out


def _page(request: web.Request, code: str | None, problem: str | None = None) -> web.Response:
    hall = hall_of(request)
    lang = language(request)
    config = {"hall": hall.hall, "lang": lang, "code": code, "problem": problem, "timezone": hall.catalog.hall.timezone}
    return render("kiosk", "book.html", request, config=config, text=BOOK_TEXT, menu=booking_menu(hall.catalog),
                  hall_name=hall.catalog.hall.name, t=BOOK_TEXT[lang])


@routes.get("/book/{hall}")
async def book_page(request: web.Request) -> web.Response:
    return _page(request, None)


@routes.get("/book/{hall}/{code}")
async def booking_page(request: web.Request) -> web.Response:
    """A booking's page (the code is the secret); the booking itself is read from the API. An
    unknown code is said so by the page itself, so that one wrong address counts one failure."""
    try:
        found = await find_code(request, request.match_info["code"])
    except (NotFound, TooMany) as exc:  # the page says so in the citizen's language, and offers to book
        resp = _page(request, None, problem=exc.code)
        resp.set_status(exc.status)
        return resp
    return _page(request, found.appointment.code)


@routes.get("/book/{hall}/{code}/qr.svg")
async def booking_qr(request: web.Request) -> web.Response:
    """The booking code as a QR code: a kiosk's scanner types it into the check-in screen."""
    found = await find_code(request, request.match_info["code"])
    return web.Response(body=qr_svg(found.appointment.code), content_type="image/svg+xml",
                        headers={"Cache-Control": "no-store"})
