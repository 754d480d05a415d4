"""The kiosk's HTTP and websocket API: issue at a kiosk, reprint, printer state, the print agent's feed.

A kiosk and its print agent are known by the kiosk id from config/<hall>/kiosks.yaml; in a
hall that requires registered devices each also needs its approved device token (server/api/devices.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Annotated, Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from server.api import schemas
from server.api.appointments import BOOKINGS
from server.api.tickets import ISSUE_LIMIT
from server.api.context import CTX, Unauthorized, allowed, body, check, cookie_token, hall_of, json as json_response, staff_credentials
from server.api.devices import device, forget, remember
from server.api.openapi import contract
from server.api.cards import CARDS
from server.feed.views import issued_view
from server.domain import commands as cmd
from server.domain.catalog import Action
from server.domain.model import HallDay, PrintStatus
from server.domain.errors import Invalid, NotFound
from server.domain.events import TicketIssued
from server.domain.tickets import check_in_another_day, ticket_at_counter, ticket_of
from server.hall import HallService, new_ticket_id
from server.printing.driver import PRINTING
from server.printing.jobs import Job, KioskJobs
from server.printing.tickets import mobile_url

routes = web.RouteTableDef()


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class KioskIssue(Body):
    item: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    priority: bool = False
    appointment: Annotated[str, Field(min_length=1, max_length=32)] | None = None
    card: Annotated[str, Field(min_length=1, max_length=64)] | None = Field(
        None, description="刷身份证取号: the one-time token of a card read at this kiosk (POST …/kiosks/{kiosk}/card)")
    booking: Annotated[int, Field(ge=0, le=20)] | None = Field(
        None, description="with `card`: check in the card holder's booking listed at this place of the card read's answer")


class PrintRequest(Body):
    kiosk: Annotated[str, Field(min_length=1, max_length=64)] | None = None


class PrintJob(schemas.Out):
    state: Literal["queued", "none"]  # none: the kiosk has no printer, the ticket is on its screen only
    job: str | None = None
    reprint: bool | None = None


class KioskTicket(schemas.Ticket):
    mobile_url: str
    print: PrintJob


class Reprint(schemas.Out):
    ticket: str
    number: str
    kiosk: str
    print_status: PrintStatus
    print: PrintJob


class PrinterState(schemas.Out):
    state: Literal["ok", "paper_low", "paper_out", "cover_open", "offline", "error", "unknown"]
    message: str
    message_en: str
    since: str | None
    kind: str | None = None
    address: str | None = None
    paper_mm: int | None = None
    detail: str | None = None


class PendingJob(schemas.Out):
    job: str
    ticket: str
    number: str
    reprint: bool


class KioskState(schemas.Out):
    id: str
    name: str
    printer: PrinterState
    agent: bool
    connected: bool | None
    help_at: str | None = None  # a citizen here called for a member of staff, since then
    zone: str | None = None
    pending: list[PendingJob] | None = None


class FailedPrint(schemas.Out):
    ticket: str
    number: str
    item: str
    item_name: str
    status: str
    detail: str
    partial: bool  # the printer got part of it: look for a ticket at the kiosk before reprinting


class Kiosks(schemas.Out):
    hall: str
    kiosks: list[KioskState]
    failed: list[FailedPrint]


def origin(request: web.Request) -> str:
    return f"{request.scheme}://{request.host}"


def kiosk_link(request: web.Request, hall: HallService, kiosk: str | None = None) -> KioskJobs:
    return request.app[PRINTING].kiosk(hall.hall, kiosk or request.match_info["kiosk"])


def job_view(job: Job | None) -> dict[str, object]:
    if job is None:
        return {"state": "none"}  # a kiosk without a printer: the ticket is on screen only
    return {"state": "queued", "job": job.id, "reprint": job.reprint}


async def _appointment_item(request: web.Request, hall: HallService, state: HallDay, code: str) -> tuple[str, str]:
    """The appointment's own code and item, the code typed in any case on the kiosk's keyboard.
    A booking of a later day is told its date and when its check-in opens (409)."""
    appointments = state.appointments
    found = appointments.get(code) or next((a for c, a in appointments.items() if c.upper() == code.upper()), None)
    if found is None:
        later = await request.app[BOOKINGS][hall.hall].find(code)  # NotFound when no bookable day has it
        if later.appointment.cancelled:
            raise NotFound("unknown-appointment", f"no appointment {code!r} today")
        check_in_another_day(hall.catalog, later.appointment.code, later.appointment.slot_start, state.day)
        raise NotFound("unknown-appointment", f"no appointment {code!r} today")
    return found.code, found.item


@routes.post("/api/v1/halls/{hall}/kiosks/{kiosk}/tickets")
@contract("Take a number at a kiosk (by item, or by appointment code alone) and print it there",
          body=KioskIssue, response=KioskTicket, status=201, errors=(401, 403, 409, 429), tags=("kiosks",))
async def issue(request: web.Request) -> web.Response:
    """A ticket taken at a kiosk: issued, journalled, and its print job queued, in one answer."""
    hall = hall_of(request)
    link = kiosk_link(request, hall)
    req = await body(request, KioskIssue)
    await device(request, hall, {"kiosk"}, bound=link.conf.id)
    # One kiosk serves one citizen at a time: bound its tickets like any client address's.
    await request.app[ISSUE_LIMIT].take(f"{hall.hall}|kiosk:{link.conf.id}")
    state = await hall.current()
    item, appointment = req.item, req.appointment
    person_key = None
    if req.card is not None:  # 刷身份证取号: the per-person limits count by the card's keyed hash
        read = request.app[CARDS].take(hall.hall, link.conf.id, req.card)
        person_key = read.person_key
        if req.booking is not None:  # the holder's own booking, found by the card (its code never left the server)
            if req.booking >= len(read.bookings):
                raise Invalid("unknown-booking", "the card read lists no such booking")
            appointment = read.bookings[req.booking]
    elif req.booking is not None:
        raise Invalid("booking-needs-card", "a booking is found by the card: send the card read's token")
    if appointment is not None:
        appointment, booked = await _appointment_item(request, hall, state, appointment)
        item = item or booked
    if item is None:
        raise Invalid("missing-item", "say which item, or give an appointment code")
    ticket_id = new_ticket_id()
    by = f"kiosk:{link.conf.id}"
    done = await hall.answer(
        cmd.IssueTicket(by=by, ticket=ticket_id, item=item, channel="kiosk", priority=req.priority, appointment=appointment,
                        person_key=person_key)
    )
    (issued,) = done.events
    assert isinstance(issued, TicketIssued)
    t = done.ticket(ticket_id)
    told = (issued.ahead, issued.estimated_wait_s)
    view = issued_view(done.hall_day, hall.catalog, issued)
    view["mobile_url"] = url = mobile_url(link.conf, origin(request), ticket_id)
    view["print"] = job_view(request.app[PRINTING].submit(hall, link.conf.id, t, url, by=by, told=told))
    return json_response(view, status=201)


@routes.post("/api/v1/halls/{hall}/tickets/{ticket}/print")
@contract("Print a ticket again (补打): the holder, or any staff with a token", body=PrintRequest, response=Reprint,
          status=202, errors=(401, 403, 409), tags=("kiosks",))
async def reprint(request: web.Request) -> web.Response:
    """补打: print a ticket again, at the kiosk that issued it unless another is named.
    The holder (the kiosk's screen: the ticket id is the secret) or any staff of the hall, who
    name the ticket by its number (staff are never given ids) and are answered with numbers."""
    hall = hall_of(request)
    # Staff: a token, or a staff page's session cookie with its CSRF token (the clerk's terminal).
    who = await allowed(request, Action.issue, hall) if staff_credentials(request) else None
    req = await body(request, PrintRequest)
    state = await hall.current()
    ref = request.match_info["ticket"]
    t = ticket_at_counter(state, ref) if who is not None else ticket_of(state, ref)
    kiosk = req.kiosk or await request.app[PRINTING].issuing_kiosk(hall, t.id)
    if kiosk is None:
        raise Invalid("missing-kiosk", "this ticket was not taken at a kiosk: say at which kiosk to print it")
    link = kiosk_link(request, hall, kiosk)
    by = who.user.username if who else "holder"
    job = request.app[PRINTING].reprint(hall, link.conf.id, t, mobile_url(link.conf, origin(request), t.id), by=by, staff=who is not None)
    return json_response({"ticket": t.number if who is not None else t.id, "number": t.number, "kiosk": link.conf.id, "print_status": t.print_status.value,
                          "print": job_view(job)}, status=202)


@routes.get("/api/v1/halls/{hall}/kiosks")
@contract("Kiosks' printers and agents, open print jobs, today's tickets whose print failed", response=Kiosks,
          auth="manager", tags=("kiosks",))
async def kiosks(request: web.Request) -> web.Response:
    """Every kiosk's printer and agent, the open jobs, and today's tickets whose print failed."""
    hall = hall_of(request)
    await allowed(request, Action.read_records, hall)
    await hall.current()
    await request.app[PRINTING].read_help(hall.hall)  # a call made on another worker
    view = request.app[PRINTING].hall_view(hall)
    view.pop("type")
    return json_response(view)


@routes.get("/api/v1/halls/{hall}/kiosks/{kiosk}")
@contract("A kiosk's printer state, as its own screen shows it", response=KioskState, tags=("kiosks",))
async def kiosk_state(request: web.Request) -> web.Response:
    """One kiosk's printer state, public: the kiosk's own screen shows it (no addresses, no tickets)."""
    hall = hall_of(request)
    return json_response(kiosk_link(request, hall).view(staff=False, now=hall.clock.now().astimezone(hall.tz)))


@routes.post("/api/v1/halls/{hall}/kiosks/{kiosk}/help")
@contract("Call a member of staff to this kiosk (its elderly mode's button): shown live on the board's printers panel",
          body=Body, response=KioskState, status=202, errors=(401, 403, 429), tags=("kiosks",))
async def call_help(request: web.Request) -> web.Response:
    hall = hall_of(request)
    link = kiosk_link(request, hall)
    await body(request, Body)
    await device(request, hall, {"kiosk"}, bound=link.conf.id)
    await request.app[ISSUE_LIMIT].take(f"{hall.hall}|kiosk:{link.conf.id}")
    return json_response((await request.app[PRINTING].call_help(hall, link.conf.id, True)).view(staff=False), status=202)


@routes.delete("/api/v1/halls/{hall}/kiosks/{kiosk}/help")
@contract("A member of staff answered the kiosk's call", response=KioskState, auth="manager", tags=("kiosks",))
async def answer_help(request: web.Request) -> web.Response:
    hall = hall_of(request)
    link = kiosk_link(request, hall)
    await allowed(request, Action.read_records, hall)
    return json_response((await request.app[PRINTING].call_help(hall, link.conf.id, False)).view(staff=False))


@routes.get("/ws/v1/halls/{hall}/kiosks/{kiosk}")
async def agent_feed(request: web.Request) -> web.StreamResponse:
    """The print agent's connection. Server: hello, then {type: job, job, ticket, number, data (base64)}
    for every job not acknowledged yet, and {type: acked, job} once a result is journalled.
    Agent: {type: ack, job, ticket, ok, sent?, state?, detail?} (sent: a failure after bytes had reached the
    printer), {type: status, state, detail?}, {type: ping}."""
    hall = hall_of(request)
    link = kiosk_link(request, hall)
    if not link.conf.agent:
        raise Invalid("no-agent", f"kiosk {link.conf.id} is printed to by the server (agent: false)")
    agent = await device(request, hall, {"print_agent"}, bound=link.conf.id)
    printing = request.app[PRINTING]
    ws = web.WebSocketResponse(heartbeat=20, max_msg_size=16 * 1024)
    await ws.prepare(request)
    remember(request, agent, ws)
    try:
        await printing.serve_agent(hall, link.conf.id, ws)
    finally:
        forget(request, agent, ws)
    return ws


@routes.get("/ws/v1/halls/{hall}/printers")
async def printers_feed(request: web.Request) -> web.StreamResponse:
    """Managers' live view of the kiosks' printers: {type: printers, kiosks, failed} now and on every change.
    ?token=… (a manager's or admin's session)."""
    hall = hall_of(request)
    # ?token=, or the staff pages' session cookie (SameSite=Strict: no other site's page sends it)
    token = request.query.get("token") or cookie_token(request)
    who = await request.app[CTX].accounts.session(token) if token else None
    if who is None:
        raise Unauthorized("unauthorized", "log in first: ?token=<a manager's token>")
    check(request, who, Action.read_records, hall)
    printing = request.app[PRINTING]
    ws = web.WebSocketResponse(heartbeat=20, max_msg_size=4096)
    await ws.prepare(request)
    queue: asyncio.Queue[str] = asyncio.Queue(64)
    await hall.current()
    await printing.read_help(hall.hall)  # a call made on another worker
    queue.put_nowait(json.dumps(printing.hall_view(hall), ensure_ascii=False))
    printing.watchers[queue] = hall.hall

    async def write() -> None:
        while not ws.closed:
            await asyncio.wait_for(ws.send_str(await queue.get()), 5.0)

    writer = asyncio.create_task(write())
    try:
        async for _ in ws:
            pass
    finally:
        printing.watchers.pop(queue, None)
        writer.cancel()
        with contextlib.suppress(asyncio.CancelledError, asyncio.TimeoutError, ConnectionError):
            await writer
    return ws
