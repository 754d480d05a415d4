"""The manager's dashboard (电子监察): the pages of statistics, the live supervision board, the
bulletin, administration and devices, with their templates and static files.

The API they read (server/api: stats, supervision, region, admin) and the background work
(server/stats/tasks.py: supervision sweeps, statistics builder) are wired by the app.
"""

from __future__ import annotations

from aiohttp import web

from server.web import add_static, environment

from . import routes


def _minutes(seconds: float | None) -> str:
    return "—" if seconds is None else f"{seconds / 60:.1f}′"


def _hours(seconds: float | None) -> str:
    return "—" if seconds is None else f"{seconds / 3600:.1f} h"


def _pct(share: float | None) -> str:
    return "—" if share is None else f"{100 * share:.1f}%"


def setup(app: web.Application) -> None:
    env = environment("dashboard")
    env.filters.update(minutes=_minutes, hours=_hours, pct=_pct)
    app.router.add_routes(routes.routes)
    add_static(app, "dashboard", "dashboard")
