"""The manager's dashboard (电子监察): statistics, live supervision board, charts, bulletin.

`setup(app)` wires the statistics API (server/stats), the supervision API, the pages and
their static files, and the background tasks (one supervisor per hall that journals alerts
every few seconds, and a builder of the derived statistics of closed days). The tasks are
started and cancelled by the app's lifecycle.
"""

from __future__ import annotations

from aiohttp import web

from server.api.context import CTX
from server.stats import api as stats_api
from server.stats.service import Stats
from server.web import add_static, environment

from . import admin, api, plan, region, routes, tasks


def _minutes(seconds: float | None) -> str:
    return "—" if seconds is None else f"{seconds / 60:.1f}′"


def _hours(seconds: float | None) -> str:
    return "—" if seconds is None else f"{seconds / 3600:.1f} h"


def _pct(share: float | None) -> str:
    return "—" if share is None else f"{100 * share:.1f}%"


def setup(app: web.Application) -> None:
    context = app[CTX]
    stats = Stats(context.journal, context.halls)  # type: ignore[arg-type]
    app[stats_api.STATS] = stats
    env = environment("dashboard")
    env.filters.update(minutes=_minutes, hours=_hours, pct=_pct)
    app.router.add_routes(stats_api.routes)
    app.router.add_routes(api.routes)
    app.router.add_routes(admin.routes)
    admin.install(app, context.settings.imports)
    app.router.add_routes(region.routes)
    plan.setup(app)
    app.router.add_routes(routes.routes)
    add_static(app, "dashboard", "dashboard")
    tasks.install(app, stats)
