"""The national holiday calendar: what this server knows (public), and a year added by an admin."""

from __future__ import annotations

from aiohttp import web

from ..domain.access import require_role
from ..domain.catalog import Role
from ..domain.national import CalendarYear
from . import schemas
from .context import body, calendar_horizon, ctx, json, staff
from .openapi import contract

routes = web.RouteTableDef()


def _view(request: web.Request) -> dict[str, object]:
    context = ctx(request)
    assert context.calendar is not None
    return {"years": context.calendar.years(), "coverage": context.calendar.coverage(*calendar_horizon(context))}


@routes.get("/api/v1/calendar")
@contract("The years of the national holiday calendar this server knows, and how far ahead that reaches",
          response=schemas.NationalCalendar, tags=("halls",))
async def show(request: web.Request) -> web.Response:
    return json(_view(request))


@routes.post("/api/v1/calendar/years")
@contract("Add (or correct) one year of the national holiday calendar, as the State Council published it (admins)",
          body=CalendarYear, response=schemas.NationalCalendar, status=201, auth="staff", errors=(400, 401, 403),
          tags=("halls",))
async def add_year(request: web.Request) -> web.Response:
    who = await staff(request)
    require_role(who.user, Role.admin)
    year = await body(request, CalendarYear)
    context = ctx(request)
    assert context.calendar is not None
    first = next(iter(context.halls.values()))
    at = first.clock.now().astimezone(first.tz).isoformat(timespec="seconds")
    await context.calendar.add(year, at, who.user.username)
    return json(_view(request), status=201)
