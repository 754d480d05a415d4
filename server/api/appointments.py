"""Appointments (网上预约) and remote tickets (远程取号): slots, booking, change, check-in, the day's list.

The booking code is the holder's secret, as a ticket's id is: whoever has it may view,
move or cancel the booking. Answers show the phone number masked (138****1234) and nothing
else of the citizen; the number itself is never stored. A public booking or remote number
carries a solved proof-of-work challenge, and codes are looked up under a per-address
lock-out (server/api/guard.py).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from aiohttp import web

from ..domain import commands as cmd
from ..domain.booking import check_day, places_left, slots_of_day
from ..domain.catalog import Action, Catalog
from ..domain.errors import DomainError, Forbidden, Invalid, NotFound
from ..domain.events import TicketIssued
from ..domain.model import Appointment, HallDay
from ..hall import HallService, new_ticket_id
from ..hall.booking import Bookings, Found, load_secret
from ..hall.sms import SmsOutbox, booking_subject, ticket_subject
from ..domain.sms import HALL_CANCELLED
from ..domain import idcard
from .cards import CARDS
from . import models, schemas
from .context import CTX, allowed, body, bearer, hall_of, json, permits, staff
from .guard import CODE_CHANGES, CODE_LOOKUPS, redeem
from .openapi import contract
from .tickets import ISSUE_LIMIT
from ..feed.views import issued_view, iso, ticket_view
from .windows import _aware

routes = web.RouteTableDef()
BOOKINGS = web.AppKey("hallq-bookings", dict)
SMS = web.AppKey("hallq-sms", dict)  # hall -> SmsOutbox (server/hall/sms.py), made by create_app


def bookings_of(request: web.Request) -> Bookings:
    hall = hall_of(request)
    return request.app[BOOKINGS][hall.hall]


def manage_url(hall: str, code: str) -> str:
    return f"/book/{hall}/{code}"


def appointment_view(hall: HallService, day: date, a: Appointment, state: HallDay | None = None) -> dict[str, Any]:
    """A booking as its holder and staff see it; the phone number only masked."""
    policy = hall.catalog.hall.policy
    ticket = state.tickets.get(a.ticket) if state is not None and a.ticket else None
    return {
        "code": a.code,
        "item": a.item,
        "slot_start": a.slot_start.isoformat(),
        "slot_end": a.slot_end.isoformat(),
        "item_name": hall.catalog.items[a.item].name,
        "day": day.isoformat(),
        "status": a.status,
        "phone": a.phone_masked,
        "channel": a.channel,
        "ticket_number": ticket.number if ticket else None,
        "check_in_from": iso(a.slot_start - timedelta(seconds=policy.appointment_early_s)),
        "check_in_until": iso(a.slot_start + timedelta(seconds=policy.appointment_late_s)),
        "manage_url": manage_url(hall.hall, a.code),
        "qr_url": f"{manage_url(hall.hall, a.code)}/qr.svg",
    }


async def find_code(request: web.Request, code: str, change: bool = False) -> Found:
    """The booking with this code, for whoever holds it: an address that tries too many unknown
    codes is locked out for a while, and one booking is changed only a few times an hour."""
    bookings = bookings_of(request)
    rules = bookings.catalog.hall.booking
    address = f"{bookings.hall.hall}|{request.remote}"
    lookups = request.app[CODE_LOOKUPS]
    lookups.check(address, rules.lookup_lockout_s, rules.lookup_failures, "unknown booking codes")
    try:
        found = await bookings.find(code)
    except NotFound:
        lookups.fail(address, rules.lookup_lockout_s)
        raise
    if change:
        await request.app[CODE_CHANGES].take(f"{bookings.hall.hall}|{found.appointment.code}", "changes of this booking")
    return found


def found_view(bookings: Bookings, found: Found) -> dict[str, Any]:
    return appointment_view(bookings.hall, found.day, found.appointment, found.state)


def _day(value: str | None, default: date) -> date:
    try:
        return date.fromisoformat(value) if value else default
    except ValueError:
        raise Invalid("bad-query", "day is a date written YYYY-MM-DD") from None


def _item(catalog: Catalog, item: str | None) -> str:
    if not item:
        raise Invalid("bad-query", "say which item: ?item=ID")
    if item not in catalog.items:
        raise NotFound("unknown-item", f"no service item {item!r} in this hall")
    return item


@routes.get("/api/v1/halls/{hall}/appointments/slots")
@contract(
    "An item's bookable slots, with capacity and places left, for one day or every bookable day",
    response=schemas.Slots, query=(("item", "the service item", True), ("day", "YYYY-MM-DD, default: every bookable day", False)),
    tags=("appointments",),
)
async def slots(request: web.Request) -> web.Response:
    bookings = bookings_of(request)
    catalog = bookings.catalog
    item = _item(catalog, request.query.get("item"))
    now = bookings.now()
    if "day" in request.query:
        day = _day(request.query["day"], bookings.today())
        check_day(catalog, day, now)
        days = [day]
    else:
        days = bookings.open_days()
    out = []
    for day in days:
        state = await bookings.day_state(day)
        out.append({
            "day": day.isoformat(),
            "slots": [
                {"start": s.start.isoformat(), "end": s.end.isoformat(), "capacity": s.capacity,
                 "left": places_left(state, catalog, item, s, now)}
                for s in slots_of_day(catalog, item, day)
            ],
        })
    conf = catalog.items[item]
    return json({"item": item, "item_name": conf.name, "slot_minutes": conf.booking.slot_minutes, "days": out})


@routes.post("/api/v1/halls/{hall}/appointments")
@contract(
    "Book a slot (预约): {item, slot_start, phone} from anyone; staff may enter today's appointment with their own {code, slot_end}",
    body=models.RegisterAppointment, response=schemas.Appointment, status=201, errors=(401, 403, 409, 429), tags=("appointments",),
)
async def register(request: web.Request) -> web.Response:
    hall = hall_of(request)
    bookings = bookings_of(request)
    req = await body(request, models.RegisterAppointment)
    tz = hall.catalog.hall.timezone
    start = _aware(req.slot_start, tz)
    assert start is not None
    start = start.astimezone(hall.tz)
    if req.code is not None:  # entered by staff for today, any time range (the first release's form)
        who = await allowed(request, Action.manage_appointments, hall)
        end = _aware(req.slot_end, tz)
        if end is None:
            raise Invalid("missing-slot-end", "an appointment entered with its own code needs slot_end")
        await hall.handle(cmd.RegisterAppointment(by=who.user.username, code=req.code, item=req.item, slot_start=start,
                                                  slot_end=end.astimezone(hall.tz)))
        found = await bookings.find(req.code)
        return json(found_view(bookings, found), status=201)
    if req.phone is None:
        raise Invalid("phone-required", "a booking needs the citizen's mobile number (shown only as 138****1234)")
    if req.slot_end is not None:
        raise Invalid("slot-end", "a booking names its slot by slot_start alone")
    by, channel = "online", "online"
    # A bearer token books for a citizen at the counter; a staff session cookie in the same browser
    # as the public page is ignored (the page sends no CSRF token: it books as the citizen).
    if bearer(request):
        who = await allowed(request, Action.issue, hall)
        by, channel = who.user.username, "staff"
    else:
        await request.app[ISSUE_LIMIT].take(f"{hall.hall}|{request.remote}")
        redeem(request, hall, req.proof)
    person_key = None
    if req.id_number is not None:  # found by the card at the kiosk: only the number's keyed hash is kept
        if not idcard.valid(req.id_number):
            raise Invalid("bad-id-number", "this is not a valid ID number (GB 11643 check character)")
        person_key = request.app[CARDS].person_key(req.id_number)
    found = await bookings.book(req.item, start, req.phone, by=by, channel=channel, person_key=person_key)
    outbox: SmsOutbox = request.app[SMS][hall.hall]
    await outbox.remember(booking_subject(found.appointment.code), found.day, req.phone)  # only while a text may be due
    return json(found_view(bookings, found), status=201)


@routes.get("/api/v1/halls/{hall}/appointments")
@contract(
    "A day's bookings per item and slot, with the phone numbers masked (managers, chiefs, admins)",
    response=schemas.DayBookings, auth="manager", query=(("day", "YYYY-MM-DD, default today", False),), tags=("appointments",),
)
async def day_bookings(request: web.Request) -> web.Response:
    hall = hall_of(request)
    await allowed(request, Action.read_figures, hall)
    bookings = bookings_of(request)
    day = _day(request.query.get("day"), bookings.today())
    return json(await day_view(bookings, day))


async def day_view(bookings: Bookings, day: date) -> dict[str, Any]:
    """Every bookable item's slots that day, each with its bookings (also those outside any slot)."""
    hall, catalog = bookings.hall, bookings.catalog
    state = await bookings.day_state(day)
    items = []
    for item in catalog.config.items:
        mine = [a for a in state.appointments.values() if a.item == item.id]
        if not item.booking.slots and not mine:
            continue
        slots = {s.start: (s.end, s.capacity) for s in slots_of_day(catalog, item.id, day)}
        for a in mine:
            slots.setdefault(a.slot_start, (a.slot_end, 0))
        rows = []
        for start in sorted(slots):
            end, capacity = slots[start]
            here = sorted((a for a in mine if a.slot_start == start), key=lambda a: a.booked_at or a.slot_start)
            rows.append({
                "start": start.isoformat(), "end": end.isoformat(), "capacity": capacity,
                "booked": sum(1 for a in here if not a.cancelled),
                "checked_in": sum(1 for a in here if a.status == "checked_in"),
                "missed": sum(1 for a in here if a.status == "missed"),
                "cancelled": sum(1 for a in here if a.cancelled),
                "bookings": [appointment_view(hall, day, a, state) for a in here],
            })
        items.append({"item": item.id, "name": item.name, "slots": rows})
    return {"hall": hall.hall, "day": day.isoformat(), "items": items}


@routes.get("/api/v1/halls/{hall}/appointments/{code}")
@contract("A booking, by its code (the holder's secret); an address that tries too many unknown codes waits (429)",
          response=schemas.Appointment, errors=(429,), tags=("appointments",))
async def read(request: web.Request) -> web.Response:
    bookings = bookings_of(request)
    return json(found_view(bookings, await find_code(request, request.match_info["code"])))


@routes.post("/api/v1/halls/{hall}/appointments/{code}/cancel")
@contract("Cancel a booking (its place is free again)", body=models.Empty, response=schemas.Appointment, errors=(409, 429),
          tags=("appointments",))
async def cancel(request: web.Request) -> web.Response:
    bookings = bookings_of(request)
    await body(request, models.Empty)
    by, reason = "holder", "citizen"
    if bearer(request):  # staff who manage bookings withdraw it for the hall: its holder is told by text
        try:
            who = await staff(request)
        except DomainError:  # a stale token: cancelled as by its holder, as before
            who = None
        if who is not None and permits(request, who, Action.manage_appointments, bookings.hall):
            by, reason = who.user.username, HALL_CANCELLED
    found = await find_code(request, request.match_info["code"], change=True)
    return json(found_view(bookings, await bookings.cancel(found.appointment.code, by=by, reason=reason)))


@routes.post("/api/v1/halls/{hall}/appointments/{code}/reschedule")
@contract("Move a booking to another slot of its item (改约), on the same or another day", body=models.Reschedule,
          response=schemas.Appointment, errors=(409, 429), tags=("appointments",))
async def reschedule(request: web.Request) -> web.Response:
    bookings = bookings_of(request)
    req = await body(request, models.Reschedule)
    start = _aware(req.slot_start, bookings.catalog.hall.timezone)
    assert start is not None
    code = (await find_code(request, request.match_info["code"], change=True)).appointment.code
    found = await bookings.reschedule(code, start.astimezone(bookings.hall.tz))
    return json(found_view(bookings, found))


@routes.post("/api/v1/halls/{hall}/appointments/{code}/check-in")
@contract("Check a booking in at the counter (a clerk of a window serving its item, chiefs, managers): its ticket",
          body=models.Empty, response=schemas.Ticket, status=201, auth="staff", errors=(409,), tags=("appointments",))
async def check_in(request: web.Request) -> web.Response:
    hall = hall_of(request)
    who = await staff(request, hall.hall)
    await body(request, models.Empty)
    state = await hall.current()
    code = request.match_info["code"].strip()
    a = state.appointments.get(code) or state.appointments.get(code.upper())
    if a is None:
        raise NotFound("unknown-appointment", f"no appointment {code!r} today")
    if not any(permits(request, who, Action.operate, hall, w) for w in hall.catalog.windows_of_item[a.item]):
        raise Forbidden("not-your-item", f"{who.user.username} serves no window of {hall.catalog.items[a.item].name}")
    done = await hall.answer(cmd.IssueTicket(by=who.user.username, ticket=new_ticket_id(), item=a.item,
                                             channel="staff", appointment=a.code))
    (issued,) = done.events
    assert isinstance(issued, TicketIssued)
    return json(issued_view(done.hall_day, hall.catalog, issued), status=201)


@routes.post("/api/v1/halls/{hall}/tickets/remote")
@contract("Take today's number from a phone (远程取号) for an item that allows it; it is called once arrival is confirmed",
          body=models.RemoteTicket, response=schemas.Ticket, status=201, errors=(403, 409, 429), tags=("tickets",))
async def remote_ticket(request: web.Request) -> web.Response:
    hall = hall_of(request)
    bookings = bookings_of(request)
    req = await body(request, models.RemoteTicket)
    await request.app[ISSUE_LIMIT].take(f"{hall.hall}|{request.remote}")
    redeem(request, hall, req.proof)
    done = await hall.answer(cmd.IssueTicket(by="online", ticket=new_ticket_id(), item=req.item, channel="online",
                                             remote=True, phone_key=bookings.phone_key(req.phone)))
    (issued,) = done.events
    assert isinstance(issued, TicketIssued)
    await request.app[SMS][hall.hall].remember(ticket_subject(issued.ticket), done.hall_day.day, req.phone)
    view = issued_view(done.hall_day, hall.catalog, issued)
    view["mobile_url"] = f"/t/{issued.ticket}"
    return json(view, status=201)


@routes.post("/api/v1/halls/{hall}/sms/opt-out")
@contract("短信退订: no more text messages for a booking (its code) or a remote number (its id); the number is deleted",
          body=models.OptOut, response=None, errors=(404, 429), tags=("appointments",))
async def opt_out(request: web.Request) -> web.Response:
    hall = hall_of(request)
    req = await body(request, models.OptOut)
    if (req.code is None) == (req.ticket is None):
        raise Invalid("opt-out", "name either the booking's code or the ticket")
    if req.code is not None:
        subject = booking_subject((await find_code(request, req.code)).appointment.code)
    else:
        assert req.ticket is not None
        if hall.ticket_held(req.ticket) is None:
            raise NotFound("unknown-ticket", "no such ticket today")
        subject = ticket_subject(req.ticket)
    await request.app[SMS][hall.hall].opt_out(subject)
    return json({"opted_out": True})


@routes.post("/api/v1/halls/{hall}/tickets/{ticket}/arrive")
@contract("The holder of a remote ticket confirms arrival in the hall: from now on it may be called", body=models.Empty,
          response=schemas.Ticket, errors=(409,), tags=("tickets",))
async def arrive(request: web.Request) -> web.Response:
    hall = hall_of(request)
    await body(request, models.Empty)
    ticket_id = request.match_info["ticket"]
    done = await hall.answer(cmd.ConfirmArrival(by="holder", ticket=ticket_id))
    return json(ticket_view(done.hall_day, hall.catalog, done.ticket(ticket_id)))


def setup(app: web.Application) -> None:
    """One Bookings per hall; the app's lifespan starts their no-show sweeps after the halls."""
    context = app[CTX]
    secret = load_secret(context.settings.data_dir)
    app[BOOKINGS] = {hall_id: Bookings(service, secret) for hall_id, service in context.halls.items()}


__all__ = ["BOOKINGS", "SMS", "appointment_view", "day_view", "find_code", "setup"]
