"""The window terminal (窗口叫号终端), the evaluator facing the citizen (评价器) and the manager's
staff page: pages, their assets, and the few API routes they need beyond the window actions."""

from __future__ import annotations

from aiohttp import web

from server.web import add_static

from .api import routes as api_routes
from .routes import routes as page_routes


def setup(app: web.Application) -> None:
    app.router.add_routes(api_routes)
    app.router.add_routes(page_routes)
    add_static(app, "window_terminal", "terminal")
