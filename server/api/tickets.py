"""Tickets: issue (kiosk, online, staff), read, cancel, rate (also after the day of service). The ticket id is the
holder's secret."""

from __future__ import annotations

from datetime import date

from aiohttp import web

from ..domain import commands as cmd
from ..domain.access import HOLDER, Actor, may, refusal
from ..domain.catalog import Action
from ..domain.commands import ServedTicket
from ..domain.errors import Forbidden, NotFound
from ..domain.model import HallDay, Ticket
from ..domain.events import TicketIssued
from ..hall import HallService, new_ticket_id
from . import models, schemas
from .openapi import contract
from .security import Buckets
from .context import actor, allowed, body, hall_of, json, resource, staff, staff_credentials
from .devices import device
from .guard import redeem
from ..feed.views import earlier_ticket_view, issued_view, ticket_view
from ..stats.ledger import service_day
from .stats import STATS

routes = web.RouteTableDef()
ISSUE_LIMIT = web.AppKey("issue-limit", Buckets)


@routes.post("/api/v1/halls/{hall}/tickets")
@contract("Take a number for a service item", body=models.IssueTicket, response=schemas.Ticket, status=201, errors=(401, 403, 409, 429), tags=("tickets",))
async def issue(request: web.Request) -> web.Response:
    hall = hall_of(request)
    req = await body(request, models.IssueTicket)
    # Kiosks anyone can touch and a public online channel: bound the tickets per client address.
    await request.app[ISSUE_LIMIT].take(f"{hall.hall}|{request.remote}")
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


async def earlier_ticket(request: web.Request, hall: HallService, ticket_id: str) -> tuple[HallDay, Ticket, ServedTicket] | None:
    """A ticket of an earlier hall-day its holder may still want to rate: the day before's, held
    by the hall, or one the statistics find within the rating days (or concluded within them)."""
    today = (await hall.current()).day
    held = hall.ticket_held(ticket_id)
    if held is not None:
        if held[0].day == today:
            return None
        day: date | None = held[0].day
    else:
        day = await service_day(request.app[STATS], hall.hall, ticket_id)
    if day is None or day >= today:
        return None
    try:
        return await hall.served_ticket(day, ticket_id)
    except NotFound:
        return None


@routes.get("/api/v1/halls/{hall}/tickets/{ticket}")
@contract("A ticket's status, people ahead and window (the id is the holder's secret); a ticket of an earlier day "
          "while it may still be rated", response=schemas.Ticket, tags=("tickets",))
async def read(request: web.Request) -> web.Response:
    hall = hall_of(request)
    ticket_id = request.match_info["ticket"]
    earlier = await earlier_ticket(request, hall, ticket_id)
    if earlier is not None:
        state, t, served = earlier
        return json(earlier_ticket_view(state, hall.catalog, t, served, (await hall.current()).day))
    state, t = await hall.find_ticket(ticket_id)
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
    rating = dict(score=req.score, comment=req.comment, efficiency=req.efficiency, proficiency=req.proficiency,
                  attitude=req.attitude, reasons=tuple(req.reasons))
    earlier = await earlier_ticket(request, hall, ticket_id)
    if earlier is not None:  # served on an earlier day: rated today, for that day's windows and clerks
        await hall.handle(cmd.EvaluateLate(by="holder", served=earlier[2], **rating))  # type: ignore[arg-type]
    else:
        await hall.handle(cmd.Evaluate(by="holder", ticket=ticket_id, **rating))  # type: ignore[arg-type]
    return json({"ticket": ticket_id, "score": req.score}, status=201)
