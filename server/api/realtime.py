"""WS /ws/v1/halls/{hall}: a snapshot, then every journalled event in order, to every screen.

One feed per hall listens to the bus and turns each event into one message per audience,
serialised once (public screens get no ticket ids and no personal data; staff get the events
with their clerks' account names but, like public screens, tickets by number: a ticket id is
its holder's secret, and staff at a counter never need it).
A message goes straight into each socket's buffer while the client keeps up; a client whose
buffer is full gets a backlog and a writer task of its own. A screen still QUEUE_SIZE
messages behind at the once-a-second check, or whose send stalls SEND_TIMEOUT_S, is dropped,
never waited for, and comes back with `resume`. A gap in the bus (a lost message) is filled from
the journal by position.

Messages to the client:
  {"type":"snapshot","seq":N,"state":{…}}      on connect, after a day change, or when too far behind
  {"type":"event","seq":N,"event":{…},"windows":[…],"queues":[…],"call":{…}?}
  {"type":"ticket","seq":N,"ticket":{…}}       for a subscription narrowed to one ticket (?ticket=ID)
  {"type":"tick","seq":N,"day":D,"now":…}       every 15 s (Settings.ws_tick_s), so a screen knows it is live
Messages from the client: {"type":"resume","seq":N,"day":D} and {"type":"ping"}.
Query: ?token=… (staff), ?device=… (a registered screen, kiosk or evaluator: needed, except
for staff and one-ticket subscriptions, when the hall requires devices), ?window=ID (only that window's events), ?ticket=ID (one ticket),
?since=N&day=D (resume right away instead of a snapshot).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from ..auth.devices import SCREEN_KINDS, WINDOW_KINDS
from ..bus import Bus, Published
from ..domain.errors import Forbidden, NotFound
from ..hall import HallService
from .context import CTX, hall_of
from .devices import device, forget, remember
from .views import call_view, clerk_view, hall_snapshot, queues_view, staff_event, ticket_view, window_view
from ..tasks import cancel

log = logging.getLogger("hallq.realtime")
routes = web.RouteTableDef()

# Fields of an event that a public screen may see; ticket ids, appointment codes, comments
# and the missing-materials list stay with staff.
# Events of the hall floor that screens show; supervision (alerts, reviews, cases) and
# appointments stay with staff.
PUBLIC_TYPES = {
    "ticket_issued", "ticket_called", "ticket_recalled", "service_started", "service_finished", "ticket_no_show",
    "ticket_transferred", "ticket_suspended", "ticket_cancelled", "ticket_print_recorded", "ticket_evaluated",
    "evaluation_requested", "ticket_closed_out", "window_opened", "window_paused", "window_resumed", "window_closed", "window_handed_over",
    "catalog_changed",
}
PUBLIC_FIELDS = {"type", "at", "window", "number", "item", "to_item", "to_window", "reason", "until", "kind",
                 "case_type", "outcome", "lane", "status", "rev", "effective"}
# Fields that name a clerk by account: public screens get the clerk's name and staff number instead.
CLERK_FIELDS = ("clerk", "from_clerk", "to_clerk")
QUEUE_SIZE = 256  # a client still this far behind at a once-a-second check is dropped
HARD_LIMIT = 8192  # a burst beyond this drops a client at once (memory bound)
SEND_TIMEOUT_S = 5.0  # a send stalled this long (a dead network) drops the client
FAST_LIMIT = 32 * 1024  # bytes already waiting in a socket before its messages go to the backlog


def _dumps(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


@dataclass(eq=False)
class Client:
    """One websocket. Messages go straight to its socket while it keeps up (the fast path, no
    task switch per message); when its socket buffer fills, they wait in its backlog for its
    own writer task, in order, and the feed moves on."""

    ws: web.WebSocketResponse
    transport: asyncio.BaseTransport | None
    staff: bool
    window: str | None = None
    ticket: str | None = None
    seq: int = 0
    dirty: bool = False  # a ticket subscription whose `ahead` may have changed
    backlog: deque[str] = field(default_factory=deque)
    writer: asyncio.Task[None] | None = None
    sending_since: float | None = None  # when the send in progress began (stall detection)
    dropped: bool = False

    def offer(self, payload: str) -> bool:
        """Queue a message behind any already waiting; False when the backlog is full."""
        if len(self.backlog) >= HARD_LIMIT:
            return False
        self.backlog.append(payload)
        if self.writer is None:
            self.writer = asyncio.get_running_loop().create_task(self._drain())
        return True

    async def _drain(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while self.backlog and not self.ws.closed:
                payload = self.backlog[0]
                self.sending_since = loop.time()
                await self.ws.send_str(payload)
                self.sending_since = None
                self.backlog.popleft()
        except (ConnectionError, RuntimeError):
            self.backlog.clear()
        finally:
            self.writer = None
            self.sending_since = None

    def buffered(self) -> int:
        t = self.transport
        if t is None or t.is_closing():
            return -1
        return t.get_write_buffer_size()  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class Outgoing:
    seq: int
    public: str | None  # None: not for public screens
    staff: str
    windows: frozenset[str]
    tickets: frozenset[str]


class Feed:
    """The realtime side of one hall: bus in, per-audience messages out."""

    def __init__(self, service: HallService, bus: Bus, history: int, tick_s: float) -> None:
        """history: events kept to replay on resume; tick_s: the heartbeat's period (see Settings)."""
        self.service = service
        self.bus = bus
        self.tick_s = tick_s
        self.clients: set[Client] = set()
        self.history: deque[Outgoing] = deque(maxlen=history)
        self.day = service.state.day
        self.seq = service.state.seq
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        self.day, self.seq = self.service.state.day, self.service.state.seq
        sub = self.bus.subscribe(self.service.hall, maxsize=10_000)
        self._tasks = [
            asyncio.create_task(self._listen(sub), name=f"feed-{self.service.hall}"),
            asyncio.create_task(self._watch(), name=f"feed-watch-{self.service.hall}"),
            asyncio.create_task(self._heartbeat(), name=f"feed-tick-{self.service.hall}"),
        ]

    async def stop(self) -> None:
        await cancel(self._tasks)
        for client in list(self.clients):
            await client.ws.close(code=1012, message=b"server restart")

    # -- snapshots -----------------------------------------------------------------------
    def snapshot(self, client: Client) -> str:
        state, catalog = self.service.state, self.service.catalog
        if client.ticket is not None:
            found = self.service.days.ticket(client.ticket)  # also closed out with the day before
            view = ticket_view(found[0], catalog, found[1]) if found else None
            return _dumps({"type": "ticket", "seq": state.seq, "ticket": view})
        body = hall_snapshot(state, catalog, self.service.clock.now(), public=not client.staff)
        return _dumps({"type": "snapshot", "seq": state.seq, "state": body})

    def attach(self, client: Client, since: int | None = None, day: str | None = None) -> None:
        """Start a client: replay from `since` when the history covers it, else a snapshot.
        No await here, so nothing is published between the snapshot and the subscription."""
        if since is not None and day == self.day.isoformat() and self._replay(client, since):
            pass
        else:
            client.offer(self.snapshot(client))
            client.seq = self.service.state.seq
        self.clients.add(client)

    def _replay(self, client: Client, since: int) -> bool:
        if since > self.seq:
            return False
        if since < self.seq and (not self.history or self.history[0].seq > since + 1):
            return False
        client.offer(_dumps({"type": "resumed", "seq": since}))
        client.seq = since
        for out in self.history:
            if out.seq > since:
                self._send(client, out)
        return True

    def resume(self, client: Client, since: int, day: str | None) -> None:
        if not (day in (None, self.day.isoformat()) and self._replay(client, since)):
            client.offer(self.snapshot(client))
            client.seq = self.service.state.seq

    # -- events --------------------------------------------------------------------------
    async def _listen(self, sub: Any) -> None:
        while True:
            message: Published = await sub.get()
            try:
                await self._receive(message)
                if sub.lagged:  # the bus dropped messages for us: the journal has them
                    sub.lagged = False
                    await self._catch_up()
            except Exception:
                log.exception("hall %s: feed failed on seq %s", self.service.hall, message.first_seq)

    async def _catch_up(self) -> None:
        stored = await self.service.journal.read(self.service.hall, self.day, self.seq)
        for s in stored:
            await self._publish(s.seq, s.data)

    async def _receive(self, message: Published) -> None:
        if message.day < self.day:
            return
        if message.day > self.day:  # a new hall-day: everyone starts again from a snapshot
            self.day, self.seq = message.day, 0
            self.history.clear()
            for client in list(self.clients):
                self._deliver(client, self.snapshot(client))
                client.seq = self.service.state.seq if self.service.state.day == self.day else 0
        if message.first_seq > self.seq + 1:
            await self._catch_up()  # a gap: fetch what the bus lost
        for n, data in enumerate(message.events):
            seq = message.first_seq + n
            if seq > self.seq:
                await self._publish(seq, data)

    async def _publish(self, seq: int, data: dict[str, Any]) -> None:
        changed = data["type"] == "catalog_changed"
        if changed:  # the writer of another worker changed it: take the catalogue in force now
            await self.service.follow_catalog()
        out = self._outgoing(seq, data)
        self.seq = seq
        self.history.append(out)
        for client in list(self.clients):
            payload = self._select(client, out)
            if payload is not None:
                await self._fast(client, payload)
        if changed:
            self._resnapshot()
        if out.tickets or data["type"] in ("ticket_called", "ticket_cancelled", "ticket_transferred", "ticket_no_show"):
            for client in self.clients:
                if client.ticket is not None and client.ticket not in out.tickets:
                    client.dirty = True

    def _outgoing(self, seq: int, data: dict[str, Any]) -> Outgoing:
        state, catalog = self.service.state, self.service.catalog
        windows = {w for w in (data.get("window"), data.get("to_window")) if w}
        items: set[str] = {i for i in (data.get("item"), data.get("to_item")) if i}
        ticket_id = data.get("ticket")
        t = state.tickets.get(ticket_id) if ticket_id else None
        if t is not None:
            items.add(t.item)
        public_event = {k: v for k, v in data.items() if k in PUBLIC_FIELDS}
        for key in CLERK_FIELDS:
            if key in data:
                public_event[key] = clerk_view(catalog, data[key])
        if t is not None:
            public_event["number"] = t.number
        body: dict[str, Any] = {"type": "event", "seq": seq, "event": public_event}
        staff_body: dict[str, Any] = {"type": "event", "seq": seq, "event": staff_event(state, data)}
        if data["type"] in ("ticket_called", "ticket_recalled"):
            call = call_view(catalog, data["number"], data["window"], data["at"])
            body["call"] = staff_body["call"] = call
        now = self.service.clock.now()
        queues = queues_view(state, catalog, now, only=items) if items else []
        body["queues"] = staff_body["queues"] = queues
        body["windows"] = [window_view(state, catalog, state.window(w), public=True) for w in sorted(windows)]
        staff_body["windows"] = [window_view(state, catalog, state.window(w)) for w in sorted(windows)]
        public = _dumps(body) if data["type"] in PUBLIC_TYPES else None
        return Outgoing(seq, public, _dumps(staff_body), frozenset(windows), frozenset({ticket_id} if ticket_id else ()))

    def _resnapshot(self) -> None:
        """The catalogue changed (windows, names, notice, voice): every screen redraws from a
        fresh snapshot, made once per audience."""
        made: dict[bool, str] = {}
        for client in list(self.clients):
            if client.ticket is not None:
                continue
            if client.staff not in made:
                made[client.staff] = self.snapshot(client)
            self._deliver(client, made[client.staff])
            client.seq = max(client.seq, self.service.state.seq)

    def _select(self, client: Client, out: Outgoing) -> str | None:
        """The message this client gets for `out`, if any (and mark it delivered)."""
        if out.seq <= client.seq:
            return None
        client.seq = out.seq
        if client.ticket is not None:
            if client.ticket not in out.tickets:
                return None
            found = self.service.days.ticket(client.ticket)
            view = ticket_view(found[0], self.service.catalog, found[1]) if found else None
            return _dumps({"type": "ticket", "seq": out.seq, "ticket": view})
        if client.window is not None and client.window not in out.windows:
            return None
        return out.staff if client.staff else out.public

    def _send(self, client: Client, out: Outgoing) -> None:
        """Queue `out` for one client (replays and resumes: the slow, ordered path)."""
        payload = self._select(client, out)
        if payload is not None:
            self._deliver(client, payload)

    async def _fast(self, client: Client, payload: str) -> None:
        if client.dropped:
            return
        if client.backlog or client.writer is not None:
            self._deliver(client, payload)  # keep its order behind what already waits
            return
        buffered = client.buffered()
        if buffered < 0:
            self._drop(client)
        elif buffered > FAST_LIMIT:
            self._deliver(client, payload)
        else:
            try:
                await client.ws.send_str(payload)  # lands in the socket buffer: no wait
            except (ConnectionError, RuntimeError):
                self._drop(client)

    def _deliver(self, client: Client, payload: str) -> None:
        if not client.offer(payload):
            self._drop(client)

    def _drop(self, client: Client) -> None:
        """Too slow to keep up: drop it rather than slow the hall; it will come back and resume."""
        if client.dropped:
            return
        client.dropped = True
        self.clients.discard(client)
        client.backlog.clear()
        asyncio.get_running_loop().create_task(client.ws.close(code=1013, message=b"too slow, resume"))

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(1.0)
            # A burst may fill every backlog for a moment; a client still behind a second later,
            # or whose send has not completed for SEND_TIMEOUT_S, is stuck.
            now = asyncio.get_running_loop().time()
            for client in list(self.clients):
                stalled = client.sending_since is not None and now - client.sending_since > SEND_TIMEOUT_S
                if stalled or len(client.backlog) > QUEUE_SIZE:
                    self._drop(client)
            self._flush_tickets()

    async def _heartbeat(self) -> None:
        """Every tick_s, every client hears the hall is live (and which day and seq it is at)."""
        while True:
            await asyncio.sleep(self.tick_s)
            payload = _dumps({"type": "tick", "seq": self.seq, "day": self.day.isoformat(),
                              "now": self.service.clock.now().isoformat()})
            for client in list(self.clients):
                self._deliver(client, payload)

    def _flush_tickets(self) -> None:
        """Tickets' people-ahead change with every call in their pool: send them once a second."""
        catalog = self.service.catalog
        for client in list(self.clients):
            if client.ticket is not None and client.dirty:
                client.dirty = False
                found = self.service.days.ticket(client.ticket)
                if found is not None:
                    self._deliver(client, _dumps({"type": "ticket", "seq": self.seq, "ticket": ticket_view(found[0], catalog, found[1])}))


FEEDS = web.AppKey("hallq-feeds", dict)


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


@routes.get("/ws/v1/halls/{hall}")
async def websocket(request: web.Request) -> web.StreamResponse:
    service = hall_of(request)
    feed: Feed = request.app[FEEDS][service.hall]
    token = request.query.get("token")
    who = await request.app[CTX].accounts.session(token) if token else None
    staff = who is not None and (who.hall == service.hall or who.user.role.value == "admin")
    window = request.query.get("window")
    if window is not None and window not in service.catalog.windows:
        raise NotFound("unknown-window", f"no window {window!r} in this hall")
    ticket = request.query.get("ticket")
    if ticket is not None and service.days.ticket(ticket) is None:
        raise NotFound("unknown-ticket", "no such ticket today")
    # A phone following its own ticket is no device; screens are, when the hall says so.
    screen = None if staff or ticket is not None else await device(request, service, SCREEN_KINDS)
    if screen is not None and screen.kind in WINDOW_KINDS and window != screen.window:
        raise Forbidden("device-elsewhere", f"this device shows window {screen.window!r}: ask for ?window={screen.window}")

    ws = web.WebSocketResponse(heartbeat=20, max_msg_size=4096, compress=False)
    await ws.prepare(request)
    remember(request, screen, ws)
    client = Client(ws, request.transport, staff=staff, window=window, ticket=ticket)
    feed.attach(client, _int(request.query.get("since")), request.query.get("day"))
    bad = 0
    try:
        async for msg in ws:
            if msg.type is not WSMsgType.TEXT:
                await ws.close(code=1003, message=b"text frames only")
                break
            try:
                data = json.loads(msg.data)
                kind = data.get("type") if isinstance(data, dict) else None
            except ValueError:
                kind = None
            if kind == "resume" and isinstance(data.get("seq"), int):
                if not client.dropped:
                    feed.clients.add(client)
                feed.resume(client, data["seq"], data.get("day") if isinstance(data.get("day"), str) else None)
            elif kind == "ping":
                client.offer(_dumps({"type": "pong", "seq": feed.seq}))
            else:
                bad += 1
                client.offer(_dumps({"type": "error", "detail": "expected {type: resume|ping}"}))
                if bad >= 10:
                    await ws.close(code=1008, message=b"too many bad messages")
                    break
    finally:
        forget(request, screen, ws)
        feed.clients.discard(client)
        client.dropped = True
        if client.writer is not None:
            client.writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await client.writer
    return ws


def setup(app: web.Application) -> None:
    """The feeds' table (the app's lifespan starts one Feed per hall after the halls) and the
    sockets' close at shutdown."""
    app[FEEDS] = {}

    async def close_sockets(app: web.Application) -> None:
        for feed in app.get(FEEDS, {}).values():
            for client in list(feed.clients):
                await client.ws.close(code=1012, message=b"server restart")

    app.on_shutdown.append(close_sockets)
