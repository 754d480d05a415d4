"""The kiosk surface (自助取号机): touch ticketing, ESC/POS printing with its print agent, the mobile ticket,
and the public booking pages for phones (网上预约)."""

from __future__ import annotations

from aiohttp import web

from server.api.context import CTX
from server.printing.driver import PRINTING, Printing
from server.web import add_static

from .api import routes as api_routes
from .booking import routes as booking_routes
from .routes import routes as page_routes


def setup(app: web.Application) -> None:
    """Routes, assets, and the print dispatcher (started after the halls, stopped before them)."""
    app.router.add_routes(api_routes)
    app.router.add_routes(page_routes)
    app.router.add_routes(booking_routes)
    add_static(app, "kiosk", "kiosk")

    context = app[CTX]
    app[PRINTING] = dispatcher = Printing(context.halls, context.bus, sweep=context.settings.background)  # the halls are made before the surfaces

    async def printing(app: web.Application):  # type: ignore[no-untyped-def]
        await dispatcher.start()
        yield
        await dispatcher.stop()

    app.cleanup_ctx.append(printing)
