"""Hall-wide reads: halls, catalogue, queues; and the manager's users, audit journal, appointments."""

from __future__ import annotations

from datetime import date

from aiohttp import web

from ..domain import commands as cmd
from ..domain.access import require_role
from ..domain.catalog import Role
from ..domain.errors import Invalid
from . import models, schemas
from .openapi import contract
from .context import body, ctx, hall_of, json, staff
from .views import catalog_view, queues_view, user_view
from .windows import _aware

routes = web.RouteTableDef()


@routes.get("/api/v1/halls")
@contract("The halls this server runs", response=list[schemas.HallSummary], tags=("halls",))
async def halls(request: web.Request) -> web.Response:
    return json(
        [{"id": h.hall, "name": h.catalog.hall.name, "timezone": h.catalog.hall.timezone} for h in ctx(request).halls.values()]
    )


@routes.get("/api/v1/halls/{hall}/catalog")
@contract("Departments, service items with their six publics, windows", response=schemas.Catalog, tags=("halls",))
async def catalog(request: web.Request) -> web.Response:
    hall = hall_of(request)
    await hall.current()  # after midnight, a revision waiting for today is in force
    return json(catalog_view(hall.catalog, hall.rev))


@routes.get("/api/v1/halls/{hall}/queues")
@contract("Per item: waiting, estimated wait, open windows, issuing now, quota left", response=schemas.Queues, tags=("halls",))
async def queues(request: web.Request) -> web.Response:
    hall = hall_of(request)
    state = await hall.current()
    return json({"hall": hall.hall, "day": state.day.isoformat(), "seq": state.seq, "items": queues_view(state, hall.catalog, hall.clock.now())})


@routes.get("/api/v1/halls/{hall}/users")
@contract("The hall's staff accounts", response=list[schemas.StaffUser], auth="manager", tags=("staff",))
async def users(request: web.Request) -> web.Response:
    hall = hall_of(request)
    who = await staff(request, hall.hall)
    require_role(who.user, Role.manager, Role.admin)
    return json([user_view(u) for u in hall.catalog.config.users])


@routes.get("/api/v1/halls/{hall}/events")
@contract(
    "The hall-day's journal (audit, 电子监察)",
    response=schemas.Journal,
    auth="manager",
    query=(("since", "events after this position", False), ("day", "YYYY-MM-DD, default today", False)),
    tags=("staff",),
)
async def events(request: web.Request) -> web.Response:
    """The audit trail (电子监察): a hall-day's journal as stored, from `since` on."""
    hall = hall_of(request)
    who = await staff(request, hall.hall)
    require_role(who.user, Role.manager, Role.admin)
    try:
        since = int(request.query.get("since", "0"))
        day = date.fromisoformat(request.query["day"]) if "day" in request.query else (await hall.current()).day
    except ValueError:
        raise Invalid("bad-query", "since is a whole number, day is YYYY-MM-DD") from None
    stored = await hall.journal.read(hall.hall, day, max(0, since))
    return json({"hall": hall.hall, "day": day.isoformat(), "events": [{"seq": s.seq, **s.data} for s in stored]})


@routes.post("/api/v1/halls/{hall}/appointments")
@contract("Enter today's appointment (预约) for check-in at the kiosk", body=models.RegisterAppointment, response=schemas.Appointment, status=201, auth="manager", errors=(409,), tags=("staff",))
async def register_appointment(request: web.Request) -> web.Response:
    """Staff enter a booking for today (the online booking system of a later release calls this too)."""
    hall = hall_of(request)
    who = await staff(request, hall.hall)
    require_role(who.user, Role.manager, Role.admin)
    req = await body(request, models.RegisterAppointment)
    tz = hall.catalog.hall.timezone
    start, end = _aware(req.slot_start, tz), _aware(req.slot_end, tz)
    assert start is not None and end is not None
    await hall.handle(cmd.RegisterAppointment(by=who.user.username, code=req.code, item=req.item, slot_start=start, slot_end=end))
    return json({"code": req.code, "item": req.item, "slot_start": start.isoformat(), "slot_end": end.isoformat()}, status=201)
