"""Hall-wide reads: halls, catalogue, queues; and the manager's users and audit journal.

Appointments moved to appointments.py with online booking."""

from __future__ import annotations

from datetime import date

from aiohttp import web

from .. import __version__, migrations
from ..domain.catalog import Action
from ..domain.errors import Invalid
from ..hall import Unavailable
from . import schemas
from .openapi import contract
from .connections import GATE
from .context import allowed, calendar_horizon, ctx, hall_of, json
from ..feed.views import catalog_view, queues_view, user_view

routes = web.RouteTableDef()


@routes.get("/api/v1/health")
@contract("Is this process able to serve: journal writable, bus connected, connections open against their limits (load balancers, monitoring)",
          response=schemas.Health, tags=("halls",))
async def health(request: web.Request) -> web.Response:
    context = ctx(request)
    # A write that keeps nothing: a journal that still reads but cannot take a ticket (a disk
    # turned read-only, a standby after failover) is no journal a load balancer should send to.
    try:
        await context.journal.check_writable()
    except Unavailable as exc:
        raise Unavailable(f"the journal is not writable: {exc}") from None
    bus_ok = bool(context.bus.healthy)
    assert context.calendar is not None
    body = {"status": "ok" if bus_ok else "degraded", "worker": context.settings.worker, "journal": True, "bus": bus_ok,
            "halls": {h: s.held().seq for h, s in context.halls.items()}, "version": __version__,
            "schema_revision": migrations.head(), "calendar": context.calendar.coverage(*calendar_horizon(context)),
            "connections": request.app[GATE].figures()}
    return json(body)


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
    await allowed(request, Action.read_records, hall)
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
    await allowed(request, Action.read_records, hall)
    try:
        since = int(request.query.get("since", "0"))
        day = date.fromisoformat(request.query["day"]) if "day" in request.query else (await hall.current()).day
    except ValueError:
        raise Invalid("bad-query", "since is a whole number, day is YYYY-MM-DD") from None
    stored = await hall.events(day, since)
    return json({"hall": hall.hall, "day": day.isoformat(), "events": [{"seq": s.seq, **s.data} for s in stored]})
