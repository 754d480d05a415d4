"""WS /ws/v1/halls/{hall}: a snapshot, then every journalled event in order, to every screen.

This module is the asyncio driver of the feed: it owns the sockets, the bus subscription and the
timer, feeds `server.feed.machine.FeedMachine` (which decides what goes to whom, whom to drop,
when to read the journal) and performs what it returns. What each audience receives is
`server.feed.render` (public screens get no ticket ids and no personal data).
A message goes straight into each socket's buffer while the client keeps up; a client whose
buffer is full gets a backlog and a writer task of its own, which tells the machine of each
message written. A gap in the bus (a lost message) is filled from the journal by position.

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
import logging
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from ..auth.devices import SCREEN_KINDS, WINDOW_KINDS
from ..bus import Bus, Published
from ..domain.errors import Forbidden, NotFound
from ..feed import machine, render
from ..hall import HallService
from ..scheduler import Scheduler
from ..tasks import cancel
from .context import CTX, hall_of
from .devices import device, forget, remember

log = logging.getLogger("hallq.realtime")
routes = web.RouteTableDef()

FAST_LIMIT = 32 * 1024  # bytes already waiting in a socket before its messages go to the backlog
# asyncio's default high-water mark of a socket's buffer: a write past it pauses the transport, and
# the next send waits for the client to read. The fast path never goes near it (it would hold the feed).
PAUSE_AT = 64 * 1024


@dataclass(eq=False)
class Client:
    """One websocket, the machine's key for it. Messages go straight to its socket while it keeps
    up (the fast path, no task switch per message); when its socket buffer fills, they wait in its
    backlog for its own writer task, in order."""

    ws: web.WebSocketResponse
    transport: asyncio.BaseTransport | None
    backlog: deque[str] = field(default_factory=deque)
    writer: asyncio.Task[None] | None = None

    def buffered(self) -> int:
        t = self.transport
        if t is None or t.is_closing():
            return -1
        return t.get_write_buffer_size()  # type: ignore[attr-defined]


class Feed:
    """The driver of one hall's feed: bus, sockets and time in; the machine's decisions out."""

    def __init__(self, service: HallService, bus: Bus, history: int, tick_s: float, scheduler: Scheduler | None = None) -> None:
        """history: events kept to replay on resume; tick_s: the heartbeat's period (see Settings);
        scheduler: the app's one scheduler, which then runs the machine's timer (else a task of
        its own). On the scheduler a feed nobody listens to has no timer: the machine's clock
        is brought up to date when the first client comes, so that client sees what it would
        have seen had the timer kept running."""
        self.service = service
        self.scheduler = scheduler
        self.bus = bus
        self._loop = asyncio.get_running_loop()
        self.machine = machine.FeedMachine(service.held().day, service.held().seq, history, tick_s, self._loop.time())
        # One input and its outputs at a time: a client's messages leave in the order decided.
        self._turn = asyncio.Lock()
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def clients(self) -> set[Client]:
        """The sockets that hear the hall (connected, not dropped)."""
        return set(self.machine.listening())  # type: ignore[arg-type]

    @property
    def seq(self) -> int:
        return self.machine.seq

    def hall(self) -> render.HallView:
        s = self.service
        return render.HallView(s.held(), s.catalog, s.clock.now(), s.day_before())

    async def start(self) -> None:
        sub = self.bus.subscribe(self.service.hall, maxsize=10_000)
        self._tasks = [asyncio.create_task(self._listen(sub), name=f"feed-{self.service.hall}")]
        if self.scheduler is None:
            self._tasks.append(asyncio.create_task(self._timer(), name=f"feed-timer-{self.service.hall}"))

    async def stop(self) -> None:
        if self.scheduler is not None:
            await self.scheduler.drop([self._key])
        await cancel(self._tasks)
        await self.close_all()

    async def close_all(self) -> None:
        for client in list(self.machine.clients):
            await client.ws.close(code=1012, message=b"server restart")  # type: ignore[attr-defined]

    # -- inputs --------------------------------------------------------------------------
    async def connect(self, client: Client, **subscription: Any) -> None:
        async with self._turn:
            if self.scheduler is not None and self.scheduler.when(self._key) is None:
                # Nobody listened, so nothing ran the timer: it has nobody to send to now.
                await self._perform(self.machine.timer(self.hall(), self._loop.time()))
            await self._perform(self.machine.connect(client, self.hall(), **subscription))
            self._plan()

    async def receive(self, client: Client, text: str | None) -> machine.Close | None:
        """A frame (None: not text). Returns the client's own close, for its handler to make."""
        async with self._turn:
            outputs = self.machine.receive(client, text, self.hall()) if text is not None else self.machine.receive_binary(client)
            own = next((o for o in outputs if isinstance(o, machine.Close) and o.client is client), None)
            await self._perform([o for o in outputs if o is not own])
            self._plan()
        return own

    async def disconnect(self, client: Client) -> None:
        self.machine.disconnect(client)
        self._plan()
        if client.writer is not None:
            client.writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await client.writer

    async def _listen(self, sub: Any) -> None:
        while True:
            message: Published = await sub.get()
            try:
                async with self._turn:
                    await self._publish(message.day, message.first_seq, message.events)
                    if sub.lagged:  # the bus dropped messages for us: the journal has them
                        sub.lagged = False
                        await self._perform(self.machine.lagged())
            except Exception:
                log.exception("hall %s: feed failed on seq %s", self.service.hall, message.first_seq)

    async def _publish(self, day: Any, first_seq: int, events: tuple[dict[str, Any], ...]) -> None:
        fresh = events[max(0, self.machine.seq + 1 - first_seq):] if day == self.machine.day else events
        if any(e["type"] == "catalog_changed" for e in fresh):
            # the writer of another worker changed it: take the catalogue in force now
            await self.service.follow_catalog()
        await self._perform(self.machine.publish(day, first_seq, events, self.hall()))

    @property
    def _key(self) -> tuple[str, str]:
        return ("feed", self.service.hall)

    def _plan(self) -> None:
        """The timer's next run on the scheduler: at the machine's deadline, while anyone listens."""
        if self.scheduler is None:
            return
        if not self.machine.clients:
            self.scheduler.cancel(self._key)
        elif self.machine.watching():
            self.scheduler.at(self._key, self.machine.deadline(), self._timed)
        else:  # screens that keep up: only the heartbeat (a hall's feed wakes every tick_s, not every second)
            self.scheduler.at(self._key, max(self.machine.deadline(), self.machine.next_tick()), self._timed)

    async def _timed(self) -> None:
        try:
            async with self._turn:
                await self._perform(self.machine.timer(self.hall(), self._loop.time()))
        except Exception:  # a bug must not silence the heartbeat and the drops for good
            log.exception("hall %s: feed timer failed", self.service.hall)
        self._plan()

    async def _timer(self) -> None:
        while True:
            await asyncio.sleep(max(0.0, self.machine.deadline() - self._loop.time()))
            try:
                async with self._turn:
                    await self._perform(self.machine.timer(self.hall(), self._loop.time()))
            except Exception:  # a bug must not silence the heartbeat and the drops for good
                log.exception("hall %s: feed timer failed", self.service.hall)

    # -- outputs -------------------------------------------------------------------------
    async def _perform(self, outputs: list[machine.Output]) -> None:
        for o in outputs:
            if isinstance(o, machine.Send):
                await self._send(o.client, o.payload)  # type: ignore[arg-type]
            elif isinstance(o, machine.Close):
                self._close(o.client, o.code, o.reason)  # type: ignore[arg-type]
            else:
                stored = await self.service.events(o.day, o.since)
                if stored:
                    await self._publish(o.day, stored[0].seq, tuple(s.data for s in stored))

    async def _send(self, client: Client, payload: str) -> None:
        if client.backlog or client.writer is not None:
            client.backlog.append(payload)  # keep its order behind what already waits
            return
        buffered = client.buffered()
        if buffered < 0:
            await self._perform(self.machine.drop(client))
        elif buffered > FAST_LIMIT or buffered + 4 * len(payload) > PAUSE_AT:  # 4: the most bytes a character takes
            client.backlog.append(payload)
            client.writer = self._loop.create_task(self._drain(client))
            if self.scheduler is not None:  # looked at again a second later, as by the timer's task
                self.scheduler.soon(self._key, machine.WATCH_S, self._timed)
        else:
            try:
                await client.ws.send_str(payload)  # lands in the socket buffer: no wait
            except (ConnectionError, RuntimeError):
                await self._perform(self.machine.drop(client))
            else:
                self.machine.sent(client, self._loop.time())

    async def _drain(self, client: Client) -> None:
        try:
            while client.backlog and not client.ws.closed:
                await client.ws.send_str(client.backlog[0])
                client.backlog.popleft()
                self.machine.sent(client, self._loop.time())
        except (ConnectionError, RuntimeError):
            client.backlog.clear()
        finally:
            client.writer = None

    def _close(self, client: Client, code: int, reason: str) -> None:
        client.backlog.clear()
        self._loop.create_task(client.ws.close(code=code, message=reason.encode()))


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
    if ticket is not None and service.ticket_held(ticket) is None:
        raise NotFound("unknown-ticket", "no such ticket today")
    # A phone following its own ticket is no device; screens are, when the hall says so.
    screen = None if staff or ticket is not None else await device(request, service, SCREEN_KINDS)
    if screen is not None and screen.kind in WINDOW_KINDS and window != screen.window:
        raise Forbidden("device-elsewhere", f"this device shows window {screen.window!r}: ask for ?window={screen.window}")

    ws = web.WebSocketResponse(heartbeat=20, max_msg_size=4096, compress=False)
    await ws.prepare(request)
    remember(request, screen, ws)
    client = Client(ws, request.transport)
    since, day = _int(request.query.get("since")), request.query.get("day")
    await feed.connect(client, staff=staff, window=window, ticket=ticket, since=since, day=day)
    try:
        async for msg in ws:
            close = await feed.receive(client, msg.data if msg.type is WSMsgType.TEXT else None)
            if close is not None:
                await ws.close(code=close.code, message=close.reason.encode())
                break
    finally:
        forget(request, screen, ws)
        await feed.disconnect(client)
    return ws


def setup(app: web.Application) -> None:
    """The feeds' table (the app's lifespan starts one Feed per hall after the halls) and the
    sockets' close at shutdown."""
    app[FEEDS] = {}

    async def close_sockets(app: web.Application) -> None:
        for feed in app.get(FEEDS, {}).values():
            await feed.close_all()

    app.on_shutdown.append(close_sockets)
