"""The dashboard's pages: shells that log in with the API and fetch their figures as JSON.

Pages carry no inline script (a later hardening issue adds a CSP): their settings and words
travel as JSON data blocks, their code is ES modules in dashboard/static.
"""

from __future__ import annotations

from aiohttp import web

from urllib.parse import quote

from server.api.context import calendar_horizon, ctx, hall_of, page_staff, permits
from server.auth import csrf_token
from server.domain.catalog import Action, Role
from server.stats.bulletin import quarter_of
from server.stats.service import hall_today
from server.web import language, render
from server.i18n import words

from . import forms


routes = web.RouteTableDef()

PAGES = {"board": "board.html", "stats": "stats.html", "bulletin": "bulletin.html", "reviews": "reviews.html",
         "appointments": "appointments.html", "region": "region.html", "admin": "admin.html", "devices": "devices.html",
         "plan": "plan.html"}


@routes.get("/dashboard")
@routes.get("/dashboard/")
async def index(request: web.Request) -> web.Response:
    first = next(iter(ctx(request).halls))
    suffix = "?lang=en" if language(request) == "en" else ""
    raise web.HTTPFound(f"/dashboard/{first}/{suffix}")


async def _page(request: web.Request, page: str, **extra: object) -> web.Response:
    hall = hall_of(request)
    lang = language(request)
    today = hall_today(hall)
    config = {
        "hall": hall.hall,
        "hall_name": hall.catalog.hall.name,
        "timezone": hall.catalog.hall.timezone,
        "lang": lang,
        "page": page,
        "today": today.isoformat(),
        "quarter": quarter_of(today),
        **extra,
    }
    context = ctx(request)
    assert context.calendar is not None
    text = words(lang, "dashboard")
    return render(
        "dashboard", PAGES[page], request, config=config, text=text, t=text, hall=hall.hall,
        hall_name=hall.catalog.hall.name, page=page, today=today.isoformat(),
        calendar=context.calendar.coverage(*calendar_horizon(context)),
    )


def _plain(page: str):  # type: ignore[no-untyped-def]
    async def handler(request: web.Request) -> web.Response:
        return await _page(request, page)

    handler.__name__ = page
    return handler


# Pages that are shells only: they log in with the API and fetch their figures as JSON.
# (后台管理 admin: the catalogue, windows, schedules, calendar and notices, managers and admins.)
for _name, _path in (("board", ""), ("stats", "stats"), ("bulletin", "bulletin"), ("reviews", "reviews"),
                     ("appointments", "appointments"), ("region", "region"), ("plan", "plan")):
    routes.get(f"/dashboard/{{hall}}/{_path}")(_plain(_name))


@routes.get("/dashboard/{hall}/admin")
async def admin(request: web.Request) -> web.Response:
    """The admin page, with the JSON schema of the models its forms edit: their limits come from there."""
    return await _page(request, "admin", schemas=forms.schemas())


@routes.get("/dashboard/{hall}/devices")
async def devices(request: web.Request) -> web.Response:
    """设备管理: approve and revoke the hall's devices. Like the staff page, it works with the
    session cookie and its CSRF token; managers and admins only."""
    hall = hall_of(request)
    found = await page_staff(request)
    if found is None or (found[0].hall != hall.hall and found[0].user.role is not Role.admin):
        raise web.HTTPFound(f"/terminal/{hall.hall}/login?next={quote(request.path_qs, safe='')}")
    who, token = found
    if not permits(request, who, Action.manage_devices, hall):
        raise web.HTTPForbidden(text="managers only")
    catalog = hall.catalog
    return await _page(
        request, "devices", csrf=csrf_token(token), user={"username": who.user.username, "name": who.user.name},
        required=catalog.hall.devices.required,
        kiosks=[{"id": k.id, "name": k.name} for k in catalog.config.kiosks],
        windows=[{"id": w.id, "name": w.name} for w in catalog.config.windows],
    )
