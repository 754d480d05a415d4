"""What the handlers share: settings, the halls' services, accounts; and small request helpers."""

from __future__ import annotations

from functools import cached_property
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

from aiohttp import web
from pydantic import BaseModel

from ..auth import Accounts, Staff, csrf_ok
from ..auth.devices import Devices
from ..auth.evaluators import EvaluatorSessions
from ..bus import Bus
from ..config.reading import ImportLimits
from ..domain.access import Actor, Resource, hall_resource, may, refusal, staff_actor
from ..domain.catalog import Action, Catalog, User
from ..domain.errors import DomainError, Forbidden, NotFound
from ..domain.region import Region
from ..hall import Clock, HallService
from ..hall.calendar import NationalCalendarService
from ..journal import Journal
from ..limits import ConnectionLimits


@dataclass
class Settings:
    config_dir: Path
    data_dir: Path
    database_url: str | None = None
    always_open: bool = False  # ignore opening hours and holidays (demos, training, benchmarks)
    demo_password: str = "demo"
    clock: Clock | None = None  # tests give their own
    max_body_bytes: int = 64 * 1024
    issue_rate_per_s: float = 1.0  # tickets per client address per second, 0 for no limit
    issue_burst: int = 30
    register_rate_per_s: float = 0.2  # device registrations per client address per second, 0 for no limit
    register_burst: int = 10
    redis_url: str | None = None  # the bus between processes; None: one process, in-process bus
    worker: str = ""  # this process's name among several ("w1"), in logs and /api/v1/health
    background: bool = True  # run the supervision sweeps and statistics builder (one process of several)
    ws_tick_s: float = 15.0  # how often every websocket hears {"type":"tick"} (screens' liveness)
    db_timeout_s: float | None = None  # the longest a request waits on the database before its 503 (None: 3 s PostgreSQL, 5 s SQLite)
    ws_history: int = 2000  # events a feed keeps to replay on resume; a client further behind gets a snapshot
    migrate: bool = True  # may upgrade the database's schema at start (False: refuse one that is behind)
    imports: ImportLimits = ImportLimits()  # what one catalogue import may hold and take (SECURITY.md)
    connections: ConnectionLimits = field(default_factory=ConnectionLimits)  # caps per address and in total, timeouts
    trusted_proxies: tuple[str, ...] = ()  # reverse proxies whose X-Forwarded-For/-Proto are believed (server/api/proxies.py)


@dataclass
class Context:
    settings: Settings
    journal: Journal
    bus: Bus
    accounts: Accounts
    halls: dict[str, HallService] = field(default_factory=dict)
    devices: Devices | None = None
    evaluators: EvaluatorSessions | None = None
    calendar: NationalCalendarService | None = None

    @cached_property
    def region(self) -> Region:  # the halls are fixed once the app is built
        return Region.of(h.catalog.hall for h in self.halls.values())

    def __post_init__(self) -> None:
        if self.settings.clock is not None:
            clock = self.settings.clock
            self.accounts.clock = lambda: clock.now().timestamp()
            if self.devices is not None:
                self.devices.clock = self.accounts.clock
            if self.evaluators is not None:
                self.evaluators.clock = self.accounts.clock
        self.accounts.listeners.append(self._staff_changed)

    def _staff_changed(self, hall: str, users: tuple[User, ...]) -> None:
        """A manager changed the hall's accounts: the hall's catalogue (posts for handover, the
        clerk named on a window screen) follows the live set from the next command on."""
        service = self.halls.get(hall)
        if service is not None and service.catalog.config.users != users:
            service.catalog = Catalog(service.catalog.config.model_copy(update={"users": users}))


CTX = web.AppKey("hallq", Context)

M = TypeVar("M", bound=BaseModel)


class Unauthorized(DomainError):
    status = 401


def ctx(request: web.Request) -> Context:
    return request.app[CTX]


def hall_of(request: web.Request) -> HallService:
    hall_id = request.match_info["hall"]
    service = ctx(request).halls.get(hall_id)
    if service is None:
        raise NotFound("unknown-hall", f"no hall {hall_id!r}")
    return service


async def body(request: web.Request, model: type[M]) -> M:
    raw = await request.read()
    if not raw.strip():
        raw = b"{}"
    return model.model_validate_json(raw)


def bearer(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


# Pages log in with a session cookie instead of a bearer token: HttpOnly (scripts cannot read
# it), SameSite=Strict (other sites' pages do not send it), Secure over https. State-changing
# requests made with it carry the session's CSRF token in this header.
SESSION_COOKIE = "hallq_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def cookie_token(request: web.Request) -> str | None:
    return request.cookies.get(SESSION_COOKIE) or None


def set_session_cookie(response: web.StreamResponse, request: web.Request, token: str, max_age: int) -> None:
    response.set_cookie(
        SESSION_COOKIE, token, max_age=max_age, path="/", httponly=True, samesite="Strict", secure=is_https(request)
    )


def clear_session_cookie(response: web.StreamResponse, request: web.Request) -> None:
    response.del_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="Strict", secure=is_https(request))


def is_https(request: web.Request) -> bool:
    """Served over TLS, here or at the proxy in front (a false claim only makes the cookie stricter)."""
    return request.secure or request.headers.get("X-Forwarded-Proto", "").lower() == "https"


def same_origin(request: web.Request) -> bool:
    """A browser names the page that sent a request in Origin; it must be this server."""
    origin = request.headers.get("Origin")
    if origin is None:
        return True
    from yarl import URL

    try:
        return URL(origin).raw_authority.lower() == request.host.lower()
    except ValueError:
        return False


def check_csrf(request: web.Request, token: str) -> None:
    if request.method in SAFE_METHODS:
        return
    if not same_origin(request):
        raise Forbidden("csrf", "this request comes from another site's page")
    if not csrf_ok(token, request.headers.get(CSRF_HEADER)):
        raise Forbidden("csrf", f"a page request that changes something carries the {CSRF_HEADER} header of its session")


async def staff(request: web.Request, hall: str | None = None) -> Staff:
    """The logged-in member of staff (401 without a valid token or session cookie; 403 for a
    cookie without its CSRF token on a state-changing request); with `hall`, 403 unless they
    belong to it, or may read it from above (what they may do there is `allowed`'s question)."""
    token = bearer(request)
    via_cookie = False
    if token is None:
        token = cookie_token(request)
        via_cookie = token is not None
    who = await ctx(request).accounts.session(token) if token else None
    if who is None:
        raise Unauthorized("unauthorized", "log in first: Authorization: Bearer <token>")
    if via_cookie:
        assert token is not None
        check_csrf(request, token)
    if hall is not None and hall in ctx(request).halls:
        resource = Resource(hall)
        if not (may(actor(request, who), Action.read_records, resource) or who.hall == hall):
            raise Forbidden("other-hall", f"{who.user.username} belongs to another hall")
    return who


def actor(request: web.Request, who: Staff) -> Actor:
    """A member of staff as server/domain/access.py sees them: role, hall, windows, the halls below."""
    context = ctx(request)
    own = context.halls.get(who.hall)
    below = frozenset(context.region.below(who.hall)[1:]) if own is not None else frozenset()
    return staff_actor(who.user, who.hall, own.catalog if own is not None else None, below)


def resource(hall: HallService, window: str | None = None, ticket: str | None = None, item: str | None = None) -> Resource:
    return hall_resource(hall.catalog, window, ticket, item)


def permits(request: web.Request, who: Staff, action: Action, hall: HallService, window: str | None = None,
            ticket: str | None = None, item: str | None = None) -> bool:
    return may(actor(request, who), action, resource(hall, window, ticket, item))


async def allowed(request: web.Request, action: Action, hall: HallService, window: str | None = None,
                  ticket: str | None = None, item: str | None = None) -> Staff:
    """The one check at the edge: the logged-in member of staff, if the access policy lets them
    take `action` on this hall (its window, its ticket of `item`); 401 or 403 problem+json if not."""
    return check(request, await staff(request), action, hall, window, ticket, item)


def check(request: web.Request, who: Staff, action: Action, hall: HallService, window: str | None = None,
          ticket: str | None = None, item: str | None = None) -> Staff:
    """`allowed` for a member of staff already known (a websocket's token)."""
    a, r = actor(request, who), resource(hall, window, ticket, item)
    if not may(a, action, r):
        raise refusal(a, action, r)
    return who


def staff_credentials(request: web.Request) -> bool:
    """The request comes from a member of staff: a bearer token, or a staff page's CSRF header
    (a citizen's page sends neither, even in a browser where someone is logged in)."""
    return bool(request.headers.get("Authorization") or request.headers.get(CSRF_HEADER))


async def page_staff(request: web.Request) -> tuple[Staff, str] | None:
    """For a page (GET): the member of staff of the session cookie and the token, or None."""
    token = cookie_token(request)
    who = await ctx(request).accounts.session(token) if token else None
    return (who, token) if who is not None and token is not None else None


def json(data: Any, status: int = 200) -> web.Response:
    import json as _json

    return web.Response(
        text=_json.dumps(data, ensure_ascii=False), status=status, content_type="application/json", charset="utf-8"
    )


def calendar_horizon(context: Context) -> tuple[date, int]:
    """Today in the first hall's time zone and the furthest any hall books ahead: what the
    national calendar must cover (log at start, health, the dashboard's banner)."""
    first = next(iter(context.halls.values()))
    today = first.clock.now().astimezone(first.tz).date()
    return today, max(h.catalog.hall.booking.days_ahead for h in context.halls.values())
