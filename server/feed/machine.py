"""The feed of one hall as a state machine without I/O (in the manner of websockets' protocol).

Inputs are plain calls: a client connects (with the place it resumes from), sends a frame,
has a message written (`sent`), goes away; the bus publishes events; time passes (`timer`, the
monotonic reading passed in). Each call returns what to do: `Send` a message to a client,
`Close` a client, or `CatchUp` (read the journal after a position and publish what it holds).
Rendering takes a `render.HallView` (the hall-day, catalogue and hall clock reading), passed in.

Clients are the driver's keys (any hashable); the machine never touches them. It counts each
client's messages not yet written: a client QUEUE_SIZE behind at a once-a-second check, HARD_LIMIT
behind at any moment, or whose writing has not moved for SEND_TIMEOUT_S, is dropped (1013),
never waited for, and comes back with `resume`.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Hashable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any, Union

from . import render

QUEUE_SIZE = 256  # a client still this far behind at a once-a-second check is dropped
HARD_LIMIT = 8192  # a burst beyond this drops a client at once (memory bound)
SEND_TIMEOUT_S = 5.0  # no message written for this long while some wait (a dead network): dropped
WATCH_S = 1.0  # how often slow clients are looked for and tickets' people-ahead sent
MAX_BAD = 10  # bad frames before a client is closed (1008)


@dataclass(frozen=True, slots=True)
class Send:
    client: Hashable
    payload: str


@dataclass(frozen=True, slots=True)
class Close:
    client: Hashable
    code: int
    reason: str


@dataclass(frozen=True, slots=True)
class CatchUp:
    """Read the journal of `day` after `since` and `publish` what it holds (the bus lost some)."""

    day: date
    since: int


Output = Union[Send, Close, CatchUp]


@dataclass(eq=False, slots=True)
class Subscriber:
    staff: bool
    window: str | None = None  # only this window's events
    ticket: str | None = None  # only this ticket, as its holder sees it
    seq: int = 0  # the last position this client has been given
    dirty: bool = False  # a ticket subscription whose people-ahead may have changed
    pending: int = 0  # messages handed out, not yet written
    waiting_since: float | None = None  # when writing last made progress while messages waited
    bad: int = 0
    dropped: bool = False


class FeedMachine:
    """The realtime side of one hall: events in, per-audience messages out."""

    def __init__(self, day: date, seq: int, history: int, tick_s: float, now: float, *, queue_size: int = QUEUE_SIZE,
                 hard_limit: int = HARD_LIMIT, send_timeout_s: float = SEND_TIMEOUT_S) -> None:
        """history: events kept to replay on resume; tick_s: the heartbeat's period; now: monotonic seconds."""
        self.day, self.seq = day, seq
        self.tick_s = tick_s
        self.queue_size, self.hard_limit, self.send_timeout_s = queue_size, hard_limit, send_timeout_s
        self.history: deque[render.Outgoing] = deque(maxlen=history)
        self.clients: dict[Hashable, Subscriber] = {}
        self._next_watch = now + WATCH_S
        self._next_tick = now + tick_s

    def listening(self) -> Iterator[Hashable]:
        """The clients that hear the hall (connected and not dropped)."""
        return (key for key, c in self.clients.items() if not c.dropped)

    # -- clients -------------------------------------------------------------------------
    def connect(self, key: Hashable, hall: render.HallView, staff: bool = False, window: str | None = None,
                ticket: str | None = None, since: int | None = None, day: str | None = None) -> list[Output]:
        """A new client: a replay from `since` (of `day`, both needed) when the history covers it,
        else a snapshot."""
        self.clients[key] = Subscriber(staff=staff, window=window, ticket=ticket)
        return self._resume(key, since if day is not None else None, day, hall)

    def disconnect(self, key: Hashable) -> None:
        self.clients.pop(key, None)

    def receive(self, key: Hashable, text: str, hall: render.HallView) -> list[Output]:
        """A text frame from the client: `{"type":"resume","seq":N,"day":D}` or `{"type":"ping"}`."""
        client = self.clients.get(key)
        if client is None:
            return []
        try:
            data = json.loads(text)
            kind = data.get("type") if isinstance(data, dict) else None
        except ValueError:
            kind = None
        if kind == "resume" and isinstance(data.get("seq"), int) and not isinstance(data["seq"], bool):
            return self._resume(key, data["seq"], data.get("day") if isinstance(data.get("day"), str) else None, hall)
        if kind == "ping":
            return self._send(key, render.dumps({"type": "pong", "seq": self.seq}))
        client.bad += 1
        out = self._send(key, render.dumps({"type": "error", "detail": "expected {type: resume|ping}"}))
        if client.bad >= MAX_BAD:
            out.append(Close(key, 1008, "too many bad messages"))
        return out

    def receive_binary(self, key: Hashable) -> list[Output]:
        return [Close(key, 1003, "text frames only")]

    def sent(self, key: Hashable, now: float) -> None:
        """The driver wrote one of the client's messages to its socket."""
        client = self.clients.get(key)
        if client is not None and client.pending:
            client.pending -= 1
            client.waiting_since = now if client.pending else None

    def drop(self, key: Hashable) -> list[Output]:
        """Too slow to keep up (or its socket is going): drop it rather than slow the hall."""
        client = self.clients.get(key)
        if client is None or client.dropped:
            return []
        client.dropped = True
        client.pending, client.waiting_since = 0, None
        return [Close(key, 1013, "too slow, resume")]

    # -- events --------------------------------------------------------------------------
    def publish(self, day: date, first_seq: int, events: tuple[dict[str, Any], ...], hall: render.HallView) -> list[Output]:
        """Events journalled at first_seq, first_seq+1, … of `day` (from the bus or the journal)."""
        out: list[Output] = []
        if day < self.day:
            return out
        if day > self.day:  # a new hall-day: everyone starts again from a snapshot
            self.day, self.seq = day, 0
            self.history.clear()
            for key, client in self._listeners():
                out += self._send(key, self._snapshot(client, hall))
                client.seq = hall.state.seq if hall.state.day == day else 0
        if first_seq > self.seq + 1:
            # A gap: the journal holds all this message carries, and what came before it.
            out.append(CatchUp(self.day, self.seq))
            return out
        for n, data in enumerate(events):
            if first_seq + n > self.seq:
                out += self._event(first_seq + n, data, hall)
        return out

    def lagged(self) -> list[Output]:
        """The bus dropped messages for this feed: the journal has them."""
        return [CatchUp(self.day, self.seq)]

    def _event(self, seq: int, data: dict[str, Any], hall: render.HallView) -> list[Output]:
        message = render.event_message(seq, data, hall)
        self.seq = seq
        self.history.append(message)
        out: list[Output] = []
        for key, client in self._listeners():
            payload = self._select(client, message, hall)
            if payload is not None:
                out += self._send(key, payload)
        if data["type"] == "catalog_changed":
            out += self._resnapshot(hall)
        if message.tickets or data["type"] in render.MOVES_QUEUES:
            for _key, client in self._listeners():
                if client.ticket is not None and client.ticket not in message.tickets:
                    client.dirty = True
        return out

    def _resnapshot(self, hall: render.HallView) -> list[Output]:
        """The catalogue changed (windows, names, notice, voice): every screen redraws from a
        fresh snapshot, made once per audience."""
        made: dict[bool, str] = {}
        out: list[Output] = []
        for key, client in self._listeners():
            if client.ticket is not None:
                continue
            if client.staff not in made:
                made[client.staff] = self._snapshot(client, hall)
            out += self._send(key, made[client.staff])
            client.seq = max(client.seq, hall.state.seq)
        return out

    # -- time ----------------------------------------------------------------------------
    def deadline(self) -> float:
        """When `timer` next has something to do (monotonic seconds)."""
        return min(self._next_watch, self._next_tick)

    def next_tick(self) -> float:
        """When the heartbeat is next due (monotonic seconds)."""
        return self._next_tick

    def watching(self) -> bool:
        """Whether the once-a-second look has anything to look at: a client with messages not
        yet written, or one following a ticket. Otherwise only the heartbeat is due."""
        return any(c.pending or c.waiting_since is not None or c.ticket is not None for c in self.clients.values())

    def timer(self, hall: render.HallView, now: float) -> list[Output]:
        """Time has passed: drop stuck clients, send tickets' new people-ahead, the heartbeat."""
        out: list[Output] = []
        if now >= self._next_watch:
            self._next_watch = now + WATCH_S
            out += self._watch(hall, now)
        if now >= self._next_tick:
            self._next_tick = now + self.tick_s
            # Every client hears the hall is live, and which day and position it is at.
            payload = render.tick_message(self.seq, self.day, hall.now, self.tick_s)
            for key, _client in self._listeners():
                out += self._send(key, payload)
        return out

    def _watch(self, hall: render.HallView, now: float) -> list[Output]:
        # A burst may fill every queue for a moment; a client still behind a second later,
        # or whose writing has not moved for SEND_TIMEOUT_S, is stuck.
        out: list[Output] = []
        for key, client in self._listeners():
            if client.pending and client.waiting_since is None:
                client.waiting_since = now
            stalled = client.waiting_since is not None and now - client.waiting_since > self.send_timeout_s
            if stalled or client.pending > self.queue_size:
                out += self.drop(key)
        # Tickets' people-ahead change with every call in their pool: sent once a second.
        for key, client in self._listeners():
            if client.ticket is not None and client.dirty:
                client.dirty = False
                if hall.ticket(client.ticket) is not None:
                    out += self._send(key, render.ticket_message(self.seq, hall, client.ticket))
        return out

    # -- helpers -------------------------------------------------------------------------
    def _listeners(self) -> list[tuple[Hashable, Subscriber]]:
        return [(key, c) for key, c in self.clients.items() if not c.dropped]

    def _snapshot(self, client: Subscriber, hall: render.HallView) -> str:
        if client.ticket is not None:  # also closed out with the day before
            return render.ticket_message(hall.state.seq, hall, client.ticket)
        return render.snapshot_message(hall, public=not client.staff)

    def _resume(self, key: Hashable, since: int | None, day: str | None, hall: render.HallView) -> list[Output]:
        """Replay from `since` when it is of this day and the history covers it, else a snapshot."""
        client = self.clients[key]
        if since is not None and day in (None, self.day.isoformat()) and self._covers(since):
            out = self._send(key, render.dumps({"type": "resumed", "seq": since}))
            client.seq = since
            for message in self.history:
                payload = self._select(client, message, hall)
                if payload is not None:
                    out += self._send(key, payload)
            return out
        client.seq = hall.state.seq
        return self._send(key, self._snapshot(client, hall))

    def _covers(self, since: int) -> bool:
        if since > self.seq:
            return False
        return since == self.seq or bool(self.history) and self.history[0].seq <= since + 1

    def _select(self, client: Subscriber, message: render.Outgoing, hall: render.HallView) -> str | None:
        """The message this client gets for `message`, if any (and mark it given)."""
        if message.seq <= client.seq:
            return None
        client.seq = message.seq
        if client.ticket is not None:
            if client.ticket not in message.tickets:
                return None
            return render.ticket_message(message.seq, hall, client.ticket)
        if client.window is not None and client.window not in message.windows:
            return None
        return message.staff if client.staff else message.public

    def _send(self, key: Hashable, payload: str) -> list[Output]:
        client = self.clients[key]
        if client.dropped:
            return []
        if client.pending >= self.hard_limit:
            return self.drop(key)
        client.pending += 1
        return [Send(key, payload)]
