"""The service layer: load a hall-day, decide, append at the expected position, publish.

One writer task per hall takes commands from an inbox. Commands that arrive while an
append is on its way to disk wait and go together in the next append (group commit): one
fsync serves many tickets, and nobody is answered before their events are durable.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from datetime import date, datetime
from typing import Protocol
from zoneinfo import ZoneInfo

from ..bus import Bus, Published
from ..domain import events as ev
from ..domain.apply import apply
from ..domain.catalog import Catalog
from ..domain.commands import Command
from ..domain.decide import decide
from ..domain.errors import DomainError
from ..domain.model import HallDay
from ..journal import Journal, SequenceConflict

log = logging.getLogger("hallq.hall")


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def __init__(self, tz: str) -> None:
        self.tz = ZoneInfo(tz)

    def now(self) -> datetime:
        return datetime.now(self.tz)


class Unavailable(Exception):
    """The journal could not be reached: nothing was stored, the client may try again."""


def new_ticket_id() -> str:
    """A ticket's id is the citizen's secret (it opens the mobile ticket): 96 random bits."""
    return secrets.token_urlsafe(12)


_SYNC = object()  # an inbox entry that only brings the hall-day up to date


class HallService:
    MAX_CONFLICT_RETRIES = 20

    def __init__(self, catalog: Catalog, journal: Journal, bus: Bus, clock: Clock | None = None) -> None:
        self.catalog = catalog
        self.hall = catalog.hall.id
        self.journal = journal
        self.bus = bus
        self.clock: Clock = clock or SystemClock(catalog.hall.timezone)
        self.tz = ZoneInfo(catalog.hall.timezone)
        self.state = HallDay(self.hall, self._today())
        self._inbox: list[tuple[object, asyncio.Future[list[ev.Event]]]] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stale = True

    def _now(self) -> datetime:
        return self.clock.now().astimezone(self.tz)

    def _today(self) -> date:
        return self._now().date()

    async def start(self) -> None:
        await self._load(self._today())
        self._task = asyncio.create_task(self._run(), name=f"hall-writer-{self.hall}")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None
        for _, fut in self._inbox:
            if not fut.done():
                fut.set_exception(Unavailable("the server is shutting down"))
        self._inbox.clear()

    async def _load(self, day: date) -> None:
        state = HallDay(self.hall, day)
        for stored in await self.journal.read(self.hall, day):
            apply(state, ev.from_dict(stored.data), stored.seq)
        self.state = state
        self._stale = False

    def _drop_tentative(self) -> None:
        """The journal cannot even be read: hold nothing unstored, and reload before deciding again."""
        self.state = HallDay(self.hall, self.state.day)
        self._stale = True

    async def handle(self, command: Command) -> list[ev.Event]:
        """Decide and store; returns the events once they are durable, or raises DomainError."""
        return await self._submit(command)

    async def current(self) -> HallDay:
        """The state of today, after a day rollover if midnight has passed since the last command."""
        if self.state.day != self._today():
            await self._submit(_SYNC)
        return self.state

    async def _submit(self, entry: object) -> list[ev.Event]:
        if self._task is None or self._task.done():
            raise Unavailable("the hall is not running")
        fut: asyncio.Future[list[ev.Event]] = asyncio.get_running_loop().create_future()
        self._inbox.append((entry, fut))
        self._wake.set()
        return await fut

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._inbox:
                batch, self._inbox = self._inbox, []
                try:
                    await self._commit(batch)
                except Exception as exc:  # the journal failed: nothing of this batch is stored
                    log.error("hall %s: append failed: %r", self.hall, exc)
                    # Forget the tentative events before anyone hears of the failure.
                    try:
                        await self._load(self.state.day)
                    except Exception as reload_exc:
                        log.error("hall %s: reload failed: %r", self.hall, reload_exc)
                        self._drop_tentative()
                    for _, fut in batch:
                        if not fut.done():
                            fut.set_exception(Unavailable("the journal is unavailable, please try again"))

    async def _commit(self, batch: list[tuple[object, asyncio.Future[list[ev.Event]]]]) -> None:
        for _attempt in range(self.MAX_CONFLICT_RETRIES):
            if self._stale or self.state.day != self._today():
                await self._load(self._today())
            base = self.state.seq
            results: list[tuple[asyncio.Future[list[ev.Event]], list[ev.Event] | BaseException]] = []
            decided: list[ev.Event] = []
            for entry, fut in batch:
                if entry is _SYNC:
                    results.append((fut, []))
                    continue
                try:
                    events = decide(self.state, self.catalog, entry, self._now())  # type: ignore[arg-type]
                except DomainError as exc:
                    results.append((fut, exc))
                    continue
                except Exception as exc:  # a bug in a rule must not stop the hall
                    log.exception("hall %s: decide failed for %r", self.hall, entry)
                    results.append((fut, exc))
                    continue
                for e in events:
                    apply(self.state, e)  # tentative until the append returns
                decided.extend(events)
                results.append((fut, events))
            dicts = tuple(ev.to_dict(e) for e in decided)
            try:
                await self.journal.append(self.hall, self.state.day, base, dicts)
            except SequenceConflict:
                # Another worker appended first: fold what it wrote, then decide again.
                await self._load(self.state.day)
                continue
            for fut, result in results:
                if fut.done():
                    continue
                if isinstance(result, BaseException):
                    fut.set_exception(result)
                else:
                    fut.set_result(result)
            if dicts:
                message = Published(self.hall, self.state.day, base + 1, dicts)
                await self.bus.publish(message)
            return
        raise Unavailable(f"{self.MAX_CONFLICT_RETRIES} conflicting appends in a row")
