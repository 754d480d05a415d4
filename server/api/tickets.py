"""Tickets: issue (kiosk, online, staff), read, cancel, rate. The ticket id is the holder's secret."""

from __future__ import annotations

from aiohttp import web

from ..domain import commands as cmd
from ..domain.access import HOLDER, Actor, may, refusal
from ..domain.catalog import Action
from ..domain.errors import Forbidden
from ..domain.events import TicketIssued
from ..hall import HallService, new_ticket_id
from . import models, schemas
from .openapi import contract
from .security import Buckets
from .context import actor, allowed, body, hall_of, json, resource, staff, staff_credentials
from .devices import device
from .guard import redeem
from ..feed.views import issued_view, ticket_view

routes = web.RouteTableDef()
ISSUE_LIMIT = web.AppKey("issue-limit", Buckets)


@routes.post("/api/v1/halls/{hall}/tickets")
@contract("Take a number for a service item", body=models.IssueTicket, response=schemas.Ticket, status=201, errors=(401, 403, 409, 429), tags=("tickets",))
async def issue(request: web.Request) -> web.Response:
    hall = hall_of(request)
    req = await body(request, models.IssueTicket)
    # Kiosks anyone can touch and a public online channel: bound the tickets per client address.
    request.app[ISSUE_LIMIT].take(f"{hall.hall}|{request.remote}")
    by = req.channel
    if req.channel == "staff":
        by = (await allowed(request, Action.issue, hall)).user.username
    elif req.priority and req.channel == "online":
        raise Forbidden("priority-on-site", "the priority lane (绿色通道) is granted on site, not online")
    elif req.channel == "online":
        redeem(request, hall, req.proof)
    elif req.channel == "kiosk":
        kiosk = await device(request, hall, {"kiosk"})  # None unless the hall requires registered devices
        if kiosk is not None:
            by = f"kiosk:{kiosk.kiosk}"
    ticket_id = new_ticket_id()
    done = await hall.answer(
        cmd.IssueTicket(by=by, ticket=ticket_id, item=req.item, channel=req.channel, priority=req.priority, appointment=req.appointment)
    )
    (issued,) = done.events
    assert isinstance(issued, TicketIssued)
    view = issued_view(done.hall_day, hall.catalog, issued)
    return json(view, status=201)


@routes.get("/api/v1/halls/{hall}/tickets/{ticket}")
@contract("A ticket's status, people ahead and window (the id is the holder's secret)", response=schemas.Ticket, tags=("tickets",))
async def read(request: web.Request) -> web.Response:
    hall = hall_of(request)
    state, t = await hall.find_ticket(request.match_info["ticket"])  # closed out: the day before's
    return json(ticket_view(state, hall.catalog, t))


async def _holder(request: web.Request, action: Action, hall: HallService, ticket_id: str) -> None:
    """Who presents the id is its holder, unless they come as staff: a clerk who learnt a
    citizen's ticket id does not rate or cancel it for them."""
    if staff_credentials(request):
        who = await staff(request)
        a = actor(request, who)
    else:
        a = Actor(HOLDER, hall.hall, ticket=ticket_id)
    r = resource(hall, ticket=ticket_id)
    if not may(a, action, r):
        raise refusal(a, action, r)


@routes.post("/api/v1/halls/{hall}/tickets/{ticket}/cancel")
@contract("Cancel a waiting ticket (the citizen leaves); staff credentials are refused (401 if stale, 403)", body=models.Empty,
          response=schemas.Ticket, errors=(401, 403, 409), tags=("tickets",))
async def cancel(request: web.Request) -> web.Response:
    hall = hall_of(request)
    await body(request, models.Empty)
    ticket_id = request.match_info["ticket"]
    await _holder(request, Action.cancel, hall, ticket_id)
    done = await hall.answer(cmd.CancelTicket(by="holder", ticket=ticket_id))
    return json(ticket_view(done.hall_day, hall.catalog, done.ticket(ticket_id)))


@routes.post("/api/v1/halls/{hall}/tickets/{ticket}/evaluation")
@contract("Rate a served ticket once (好差评); staff credentials are refused (401 if stale, 403)", body=models.Evaluation,
          response=schemas.Evaluation, status=201, errors=(401, 403, 409), tags=("tickets",))
async def evaluate(request: web.Request) -> web.Response:
    hall = hall_of(request)
    req = await body(request, models.Evaluation)
    ticket_id = request.match_info["ticket"]
    await _holder(request, Action.rate, hall, ticket_id)
    await hall.handle(
        cmd.Evaluate(
            by="holder", ticket=ticket_id, score=req.score, comment=req.comment, efficiency=req.efficiency,
            proficiency=req.proficiency, attitude=req.attitude, reasons=tuple(req.reasons),
        )
    )
    return json({"ticket": ticket_id, "score": req.score}, status=201)
