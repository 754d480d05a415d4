"""The bus: fan-out of newly journalled events to whoever listens (screens, other workers).

The bus may lose messages (a slow subscriber, a dropped connection): each message carries
its journal position, so a listener that sees a gap reads the missing events from the
journal. In-process by default; a Redis implementation serves several processes.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class Published:
    """Events just appended to one hall-day: their positions are first_seq, first_seq+1, …"""

    hall: str
    day: date
    first_seq: int
    events: tuple[dict[str, Any], ...]

    @property
    def last_seq(self) -> int:
        return self.first_seq + len(self.events) - 1


class Subscription:
    """One listener's bounded queue; when it overflows the listener is marked `lagged`."""

    def __init__(self, bus: Any, hall: str, maxsize: int) -> None:
        self._bus = bus
        self.hall = hall
        self.queue: asyncio.Queue[Published] = asyncio.Queue(maxsize)
        self.lagged = False

    def offer(self, message: Published) -> None:
        try:
            self.queue.put_nowait(message)
        except asyncio.QueueFull:
            self.lagged = True

    def poke(self, day: date) -> None:
        """Wake the listener with an empty message and ask it to catch up from the journal."""
        self.lagged = True
        with contextlib.suppress(asyncio.QueueFull):
            self.queue.put_nowait(Published(self.hall, day, 0, ()))

    async def get(self) -> Published:
        return await self.queue.get()

    async def __aiter__(self) -> AsyncIterator[Published]:
        while True:
            yield await self.queue.get()

    def close(self) -> None:
        self._bus._subs.get(self.hall, set()).discard(self)


Relay = Callable[[dict[str, Any]], Awaitable[None]]


class Flags(Protocol):
    """Small flags kept for every process (server/bus/flags.py)."""

    async def raise_flag(self, key: str, value: str, ttl_s: int) -> str | None: ...

    async def clear(self, key: str) -> bool: ...

    async def read(self, keys: list[str]) -> list[str | None] | None: ...


class Bus(Protocol):
    healthy: bool
    shared: bool  # whether other processes hear what is published (relays need it)
    flags: Flags | None  # state every process sees (None: one process, whose memory is the state)

    async def relay(self, topic: str, message: dict[str, Any]) -> None:
        """Send a small message to the other processes' handlers of `topic` (not to this one)."""

    def on_relay(self, topic: str, handler: Relay) -> None: ...

    async def start(self) -> None: ...

    async def publish(self, message: Published) -> None: ...

    def subscribe(self, hall: str, maxsize: int = 1000) -> Subscription: ...

    async def close(self) -> None: ...


class LocalBus:
    """In-process fan-out: enough for one server process."""

    healthy = True
    shared = False
    flags: Flags | None = None

    def __init__(self) -> None:
        self._subs: dict[str, set[Subscription]] = {}
        self._relays: dict[str, Relay] = {}

    async def relay(self, topic: str, message: dict[str, Any]) -> None:
        pass  # one process: nobody else to tell

    def on_relay(self, topic: str, handler: Relay) -> None:
        self._relays[topic] = handler

    async def start(self) -> None:
        pass

    async def publish(self, message: Published) -> None:
        for sub in tuple(self._subs.get(message.hall, ())):
            sub.offer(message)

    def subscribe(self, hall: str, maxsize: int = 1000) -> Subscription:
        sub = Subscription(self, hall, maxsize)
        self._subs.setdefault(hall, set()).add(sub)
        return sub

    async def close(self) -> None:
        self._subs.clear()
