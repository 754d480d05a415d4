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
from server.i18n import both

from .routes import menu

routes = web.RouteTableDef()

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
    config = {"hall": hall.hall, "lang": lang, "code": code, "problem": problem, "timezone": hall.catalog.hall.timezone,
              "id_cards": hall.catalog.hall.id_cards.enabled}
    text = both("book")
    return render("kiosk", "book.html", request, config=config, text=text, menu=booking_menu(hall.catalog),
                  hall_name=hall.catalog.hall.name, t=text[lang])


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
