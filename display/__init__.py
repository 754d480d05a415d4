"""Lobby and window screens (大厅屏 / 窗口屏) and their voice: pages, assets and call audio."""

from __future__ import annotations

from aiohttp import web

from server.web import add_static

from .routes import SPEECH, routes
from .voice import SpeechCache


def setup(app: web.Application) -> None:
    app.router.add_routes(routes)
    app[SPEECH] = SpeechCache()
    add_static(app, "display", "display")
