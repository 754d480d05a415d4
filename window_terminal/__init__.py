"""The window terminal (窗口叫号终端), the evaluator facing the citizen (评价器) and the manager's
staff page: pages and their assets (the API they use is in server/api)."""

from __future__ import annotations

from aiohttp import web

from server.web import add_static

from .routes import routes as page_routes


def setup(app: web.Application) -> None:
    app.router.add_routes(page_routes)
    add_static(app, "window_terminal", "terminal")
