"""The kiosk surface (自助取号机): touch ticketing pages, the ticket's preview and QR, the mobile ticket,
and the public booking pages for phones (网上预约). Its API (server/api/kiosks.py) and print
dispatcher (server/printing/) are wired by the app (server/api/app.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the print agent runs this file on a kiosk PC without aiohttp
    from aiohttp import web


def setup(app: web.Application) -> None:
    """Pages and their assets."""
    # Imported here: the print agent (kiosk/agent.py) runs this package's __init__ on a kiosk PC,
    # which must not load the server's pages and everything they use.
    from server.web import add_static

    from .booking import routes as booking_routes
    from .care import SPEECH, SpeechCache, routes as care_routes
    from .routes import routes as page_routes

    app[SPEECH] = SpeechCache(64)
    app.router.add_routes(page_routes)
    app.router.add_routes(care_routes)
    app.router.add_routes(booking_routes)
    add_static(app, "kiosk", "kiosk")
