"""The composition root: `create_app(settings)` builds every service, the one route table of the
API, the surfaces' pages, and the one lifespan that starts and stops everything in order."""

from __future__ import annotations

import asyncio
import html
from datetime import timedelta
import importlib
import logging

from aiohttp import web

from .. import migrations
from ..auth import Accounts
from ..auth.devices import Devices
from ..auth.evaluators import EvaluatorSessions
from ..bus import Bus, LocalBus
from ..config import load_halls
from ..domain.catalog import HallConfig
from ..hall import HallService
from ..i18n import words
from ..hall.calendar import NationalCalendarService
from ..journal import database_url, make_engine
from ..journal.calendar import SQLCalendarYears
from ..journal.engine import STARTUP_TIMEOUT_S
from ..journal.outbox import RatingUploads
from ..journal.revisions import SQLRevisions
from ..hall.uploads import RatingUploader
from ..hall.booking import load_secret
from ..hall.dayend import LOOKBACK_DAYS
from ..hall.sms import SmsOutbox
from ..journal.sms import SmsStore
from ..printing.driver import PRINTING, Printing
from ..scheduler import Scheduler
from ..stats import tasks as stats_tasks
from ..stats.ledger import LOOKBACK_DAYS as LEDGER_DAYS
from ..stats.service import Stats
from ..stats.supervisor import Supervisor
from ..web import setup_common
from . import admin, appointments, devices, guard, openapi, realtime
from .connections import GATE, Gate, websockets_capped
from .context import CTX, Context, Settings, calendar_horizon
from .errors import problem_middleware
from .lifespan import LIFESPAN, SCHEDULER, Lifespan
from .listener import request_heads
from .metrics import FIGURES, Figures, TimedJournal
from .observe import REFUSALS, Refusals, observe
from .proxies import PROXIES, TrustedProxies
from .outbound import Outbound
from .cards import CARDS, CardReads
from .routes import api_routes
from .security import Buckets, security_headers
from .stats import STATS
from .supervision import SUPERVISORS
from .plan import PLANS
from .tickets import ISSUE_LIMIT
from .uploads import UPLOADERS


# Each surface's setup(app) adds its pages, templates and static files, nothing else.
SURFACES = ("display", "kiosk", "window_terminal", "dashboard")

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

    # -- the services ---------------------------------------------------------------------------
    settings.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    engine = make_engine(database_url(settings.data_dir, settings.database_url), settings.db_timeout_s)
    request_deadline, engine.timeout_s = engine.timeout_s, STARTUP_TIMEOUT_S  # creating the schema may take longer
    figures = Figures()
    journal = TimedJournal(engine, histogram=figures.append_seconds)
    bus: Bus
    if settings.redis_url:
        from ..bus.redis import RedisBus  # only deployments with several processes need redis-py

        bus = RedisBus(settings.redis_url)
    else:
        bus = LocalBus()
    shared = settings.redis_url is not None
    accounts = Accounts(engine, catalogs, settings.demo_password)
    calendar = NationalCalendarService(SQLCalendarYears(engine), settings.config_dir)
    context = Context(settings, journal, bus, accounts, devices=Devices(engine), evaluators=EvaluatorSessions(engine),
                      calendar=calendar)
    revisions = SQLRevisions(engine)
    scheduler = Scheduler()  # every hall's timed work: day changes, sweeps, feed timers, print deadlines
    for hall_id, c in catalogs.items():
        service = context.halls[hall_id] = HallService(c, journal, bus, settings.clock, revisions=revisions, adjust=adjust,
                                                       shared=shared, scheduler=scheduler)
        service.catalog_listeners.append(accounts.use_catalog)
    stats = Stats(journal, context.halls)  # type: ignore[arg-type]
    supervisors = {hall: Supervisor(service, stats) for hall, service in context.halls.items()}
    printing = Printing(context.halls, bus, sweep=settings.background, scheduler=scheduler)
    sweeps = stats_tasks.Sweeps(scheduler, context.halls, supervisors)
    outbound = Outbound()  # calls to the provincial platform
    rating_uploads = RatingUploads(engine)
    uploaders = {hall: RatingUploader(service, rating_uploads, outbound.post_json, outbound.get_json)
                 for hall, service in context.halls.items()}
    for hall, uploader in uploaders.items():  # bad ratings sent back join the review loop at the next sweep
        uploader.returned_listeners.append(supervisors[hall].invalidate)

    # -- the app: middlewares, shared state, routes ----------------------------------------------
    proxies = TrustedProxies(settings.trusted_proxies)
    # The client's address is settled first (the proxies' headers): everything after sees the citizen.
    app = web.Application(middlewares=[request_heads, proxies.middleware, observe, security_headers, problem_middleware,
                                       websockets_capped], client_max_size=settings.max_body_bytes)
    app[CTX] = context
    app[PROXIES] = proxies
    app[FIGURES] = figures
    app[REFUSALS] = refusals = Refusals(settings.connections.refusal_log_interval_s)
    app[GATE] = Gate(settings.connections, unlimited=proxies.trusts)
    app[ISSUE_LIMIT] = Buckets(settings.issue_rate_per_s, settings.issue_burst)
    app[STATS] = stats
    app[SUPERVISORS] = supervisors
    app[PRINTING] = printing
    app[UPLOADERS] = uploaders
    app[SCHEDULER] = scheduler
    app[PLANS] = {}  # staffing plans, kept a few minutes per hall, day and bookings
    devices.setup(app, settings.register_rate_per_s, settings.register_burst)
    realtime.setup(app)
    guard.setup(app)
    appointments.setup(app)
    secret = load_secret(settings.data_dir)
    sms_store = SmsStore(engine, secret)  # the phone hashes' secret encrypts the numbers
    app[CARDS] = CardReads(secret)  # and keys the ID cards' hashes
    app[appointments.SMS] = {hall: SmsOutbox(service, app[appointments.BOOKINGS][hall], sms_store, outbound.post_json)
                             for hall, service in context.halls.items()}
    admin.setup(app, settings.imports)
    openapi.setup(app)

    if shared:  # several processes: the per-address limits hold for all of them, through the bus's Redis
        from ..bus.limits import RedisBuckets

        store = RedisBuckets(bus.redis)  # type: ignore[attr-defined]
        for key, name in ((ISSUE_LIMIT, "issue"), (devices.REGISTER_LIMIT, "register"), (guard.CODE_CHANGES, "code-changes")):
            app[key].share(store, name)

    app.router.add_get("/", index)
    app.router.add_routes(api_routes())
    setup_common(app)
    for name in SURFACES:
        importlib.import_module(name).setup(app)

    # -- the lifespan: started in this order, stopped in the reverse ----------------------------
    life = app[LIFESPAN] = Lifespan()

    async def prepare_database() -> None:
        found = await migrations.prepare(engine, settings.migrate)
        if found.done():
            log.info("%s", found.done())

    async def load_accounts() -> None:
        await accounts.create()
        if accounts.demo_accounts:
            source = "$HALLQ_DEMO_PASSWORD" if settings.demo_password != "demo" else "'demo'"
            log.info(
                "demo accounts %s take the password %s until `hallq user passwd NAME` sets their own",
                ", ".join(accounts.demo_accounts), source,
            )

    async def load_calendar() -> None:
        await calendar.load()
        calendar.warn_if_short(*calendar_horizon(context))

    async def start_halls() -> None:
        # One query for every hall: a hall with nothing journalled in the days a start looks
        # back over, and no catalogue revision, has nothing to load or close out.
        oldest = min(s.held().day for s in context.halls.values()) - timedelta(days=LOOKBACK_DAYS)
        busy = await journal.halls_since(oldest) | await revisions.halls()
        # And for the statistics' ledgers (open cases and reviews of the closed days): which
        # halls have nothing journalled in all the days they look back over.
        start = min(s.held().day for s in context.halls.values()) - timedelta(days=LEDGER_DAYS)
        ever = await journal.halls_since(start)
        for service in context.halls.values():
            if service.hall not in ever:
                stats.nothing_before(service.hall, start, service.held().day - timedelta(days=1))
        empty = []
        for service in context.halls.values():
            await service.start(empty=service.hall not in busy)
            if service.hall in busy:
                log.info("hall %s (%s): day %s at seq %d", service.hall, service.catalog.hall.name, service.held().day, service.held().seq)
            else:
                empty.append(service)
        if len(empty) <= 10:  # a hall's operator sees their halls named; a province, a count
            for service in empty:
                log.info("hall %s (%s): day %s, nothing journalled yet", service.hall, service.catalog.hall.name, service.held().day)
        else:
            log.info("%d halls with nothing journalled since %s", len(empty), oldest)

    async def stop_halls() -> None:
        for service in context.halls.values():
            await service.stop()

    async def start_feeds() -> None:
        for hall_id, service in context.halls.items():
            feed = realtime.Feed(service, service.local,  # what the hall has folded, in order
                                 history=settings.ws_history, tick_s=settings.ws_tick_s, scheduler=scheduler)
            await feed.start()
            app[realtime.FEEDS][hall_id] = feed

    async def stop_feeds() -> None:
        for feed in app[realtime.FEEDS].values():
            await feed.stop()

    async def start_bookings() -> None:
        for b in app[appointments.BOOKINGS].values():
            await b.start(scheduler)

    async def stop_bookings() -> None:
        for b in app[appointments.BOOKINGS].values():
            await b.stop()

    async def serve() -> None:
        engine.timeout_s = request_deadline  # from now on a request waits no longer than this on the database

    async def close_imports() -> None:
        app[admin.IMPORTS].close()

    life.add("database", prepare_database, journal.close)
    life.add("catalogue imports", stop=close_imports)
    life.add("refusals log", stop=refusals.close)
    life.add("accounts", load_accounts)
    life.add("calendar", load_calendar)
    life.add("bus", bus.start, bus.close)
    life.add("scheduler", scheduler.start, scheduler.stop)
    life.add("halls", start_halls, stop_halls)
    if shared:
        life.add_tasks("accounts follower", lambda: {"accounts-follower": _follow_accounts(accounts)})
    life.add_tasks("device sweep", lambda: {"device-sweep": devices.sweep(app)})
    life.add("feeds", start_feeds, stop_feeds)
    life.add("booking sweeps", start_bookings, stop_bookings)
    life.add("print dispatcher", printing.start, printing.stop)
    life.add("statistics", stats.create)
    if settings.background:  # else another process of the deployment sweeps and derives
        life.add("supervision sweeps", sweeps.start, sweeps.stop)
        life.add_tasks("statistics builder", lambda: {"stats-builder": stats_tasks.derive(stats, context.halls)})
    life.add("outbound", outbound.start, outbound.stop)
    if settings.background:  # one process sends, in order per hall; each hall's outbox is a scheduler entry

        async def start_outboxes() -> None:
            for outbox in (*uploaders.values(), *app[appointments.SMS].values()):
                outbox.schedule(scheduler)

        async def stop_outboxes() -> None:
            await scheduler.drop([(kind, hall) for hall in context.halls for kind in ("uploads", "sms")])

        life.add("outboxes", start_outboxes, stop_outboxes)
    life.add("serving", serve)
    app.cleanup_ctx.append(life.run)
    return app
