"""The HTTP surface: an aiohttp app factory wiring journal, bus, halls, accounts and routes."""

from __future__ import annotations

import asyncio
import html
import importlib
import logging

from aiohttp import web

from ..auth import Accounts
from ..auth.devices import Devices
from ..auth.evaluators import EvaluatorSessions
from ..bus import Bus, LocalBus
from ..config import load_halls
from ..domain.catalog import HallConfig
from ..hall import HallService
from ..journal import SQLJournal, database_url, make_engine
from ..journal.engine import STARTUP_TIMEOUT_S
from ..journal.revisions import SQLRevisions
from .. import migrations
from ..hall.calendar import NationalCalendarService
from ..journal.calendar import SQLCalendarYears
from ..i18n import words
from . import appointments, auth, calendar, devices, guard, halls, openapi, realtime, tickets, windows
from .connections import GATE, Gate, websockets_capped
from .context import CTX, Context, Settings, calendar_horizon
from .errors import problem_middleware
from .listener import request_heads
from .security import Buckets, security_headers
from .tickets import ISSUE_LIMIT
from ..web import setup_common
from ..tasks import cancel

# Each surface package wires its own routes, templates and static files with setup(app).
SURFACES = ("display", "kiosk", "window_terminal", "dashboard")

__all__ = ["Settings", "create_app"]

log = logging.getLogger("hallq")

INDEX = """<!doctype html><html lang="zh-CN"><meta charset="utf-8"><title>hallq</title>
<link rel="stylesheet" href="/static/common/docs.css">
<body>
<h1>hallq 政务服务中心排队叫号系统</h1>
{halls}
<p>API: <a href="/api/v1/docs">/api/v1/docs</a> · <a href="/api/v1/openapi.json">openapi.json</a></p>
</body></html>"""

HALL_LINKS = """<h2>{name} ({id})</h2><ul>
<li><a href="/display/{id}/lobby">{lobby}</a></li>
<li><a href="/kiosk/{id}">{kiosks}</a> · <a href="/book/{id}">{book}</a></li>
<li><a href="/terminal/{id}">{terminal}</a> · <a href="/terminal/{id}/staff">{staff}</a></li>
<li><a href="/dashboard/{id}/">{supervision}</a> · <a href="/dashboard/{id}/stats">{statistics}</a> ·
<a href="/dashboard/{id}/bulletin">{bulletin}</a> · <a href="/dashboard/{id}/admin">{admin}</a> ·
<a href="/dashboard/{id}/devices">{devices}</a></li>
</ul>"""


async def index(request: web.Request) -> web.Response:
    labels = {k: html.escape(f"{v} {words('en', 'home')[k]}") for k, v in words("zh-CN", "home").items()}  # both languages
    halls = "".join(
        HALL_LINKS.format(id=html.escape(h.hall), name=html.escape(h.catalog.hall.name), **labels) for h in request.app[CTX].halls.values()
    )
    return web.Response(text=INDEX.format(halls=halls), content_type="text/html", charset="utf-8")


ACCOUNTS_REFRESH_S = 2.0


async def _follow_accounts(accounts: Accounts) -> None:
    """With several processes, a manager's change to an account (added, disabled, moved to
    another window) is made in one of them: the others read it within ACCOUNTS_REFRESH_S."""
    while True:
        await asyncio.sleep(ACCOUNTS_REFRESH_S)
        try:
            changed = await accounts.refresh()
            if changed:
                log.info("accounts changed elsewhere in hall(s) %s", ", ".join(sorted(changed)))
        except Exception as exc:  # the database is away: keep the last known set
            log.warning("reading the accounts failed: %r", exc)


def create_app(settings: Settings) -> web.Application:
    """The whole server for these settings; everything starts and stops with the app."""
    catalogs = load_halls(settings.config_dir)
    def always_open(config: HallConfig) -> HallConfig:
        return config.model_copy(update={"hall": config.hall.model_copy(update={"enforce_hours": False})})

    # How this server runs, never what it stores (catalogue revisions).
    adjust = always_open if settings.always_open else None

    settings.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    engine = make_engine(database_url(settings.data_dir, settings.database_url), settings.db_timeout_s)
    request_deadline, engine.timeout_s = engine.timeout_s, STARTUP_TIMEOUT_S  # creating the schema may take longer
    journal = SQLJournal(engine)
    bus: Bus
    if settings.redis_url:
        from ..bus.redis import RedisBus  # only deployments with several processes need redis-py

        bus = RedisBus(settings.redis_url)
    else:
        bus = LocalBus()
    shared = settings.redis_url is not None
    accounts = Accounts(engine, catalogs, settings.demo_password)
    context = Context(settings, journal, bus, accounts, devices=Devices(engine), evaluators=EvaluatorSessions(engine),
                      calendar=NationalCalendarService(SQLCalendarYears(engine), settings.config_dir))
    revisions = SQLRevisions(engine)
    for hall_id, c in catalogs.items():
        service = context.halls[hall_id] = HallService(c, journal, bus, settings.clock, revisions=revisions, adjust=adjust,
                                                       shared=shared)
        service.catalog_listeners.append(accounts.use_catalog)

    app = web.Application(middlewares=[request_heads, security_headers, problem_middleware, websockets_capped], client_max_size=settings.max_body_bytes)
    app[GATE] = Gate(settings.connections)
    app[ISSUE_LIMIT] = Buckets(settings.issue_rate_per_s, settings.issue_burst)
    app[CTX] = context
    app.router.add_get("/", index)
    for module in (auth, calendar, halls, tickets, windows):
        app.router.add_routes(module.routes)

    async def lifecycle(app: web.Application):  # type: ignore[no-untyped-def]
        found = await migrations.prepare(engine, settings.migrate)
        if found.done():
            log.info("%s", found.done())
        await accounts.create()
        assert context.calendar is not None
        await context.calendar.load()
        context.calendar.warn_if_short(*calendar_horizon(context))
        await bus.start()
        for service in context.halls.values():
            await service.start()
            log.info("hall %s (%s): day %s at seq %d", service.hall, service.catalog.hall.name, service.state.day, service.state.seq)
        if accounts.demo_accounts:
            source = "$HALLQ_DEMO_PASSWORD" if settings.demo_password != "demo" else "'demo'"
            log.info(
                "demo accounts %s take the password %s until `hallq user passwd NAME` sets their own",
                ", ".join(accounts.demo_accounts), source,
            )
        follower = asyncio.create_task(_follow_accounts(accounts)) if shared else None
        yield
        await cancel((follower,))
        for service in context.halls.values():
            await service.stop()
        await bus.close()
        await journal.close()

    app.cleanup_ctx.append(lifecycle)
    devices.setup(app, settings.register_rate_per_s, settings.register_burst)
    realtime.setup(app)  # after the halls have started, before the surfaces
    guard.setup(app)
    appointments.setup(app)
    openapi.setup(app)
    setup_common(app)
    for name in SURFACES:
        surface = importlib.import_module(name)
        if hasattr(surface, "setup"):
            surface.setup(app)

    async def serving(_app: web.Application) -> None:
        engine.timeout_s = request_deadline  # from now on a request waits no longer than this on the database

    app.on_startup.append(serving)  # the last startup step: after every cleanup context has started
    return app
