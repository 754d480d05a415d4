"""The hall-day repository: the one way the service layer loads, catches up and appends a hall-day.

A hall-day is the fold of its events; a write is a unit of work: take the hall-day as the
journal holds it, decide, append at its position (the journal refuses a position another
worker took first), and only once that is stored, fold and publish. After a conflict the
hall-day is caught up from its own position, not loaded again, and the decision is made
again on what the other worker wrote. Every writer goes through `HallDays.write` (the hall's
writer task, later days' bookings, the day change) or, for whole days written offline (the
simulator), through `HallDays.append`.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

from ..bus import Published
from ..domain import events as ev
from ..domain.apply import apply
from ..domain.model import HallDay
from ..journal import Journal, SequenceConflict, Stored, Unavailable


class Publisher(Protocol):
    async def publish(self, message: Published) -> None: ...


@dataclass(frozen=True, slots=True)
class Commit:
    """Events stored on the stream of `day` at positions base+1, base+2 …"""

    hall: str
    day: date
    base: int
    events: tuple[ev.Event, ...]
    stored: tuple[dict[str, Any], ...]

    @property
    def message(self) -> Published | None:
        """What the bus carries of it (nothing for an empty decision)."""
        return Published(self.hall, self.day, self.base + 1, self.stored) if self.stored else None


HallDayAt = HallDay | Callable[[], Awaitable[HallDay]]


class HallDays:
    """One hall's days in the journal, with the bus ends that hear what is appended."""

    # A write decided again after each refused append gives up (503) after this many attempts
    # and this long, whichever comes later. Four workers writing one busy hall lose about every
    # other retry (measured: a write's losses fall off as 2^-k), and on a machine short of CPU an
    # attempt takes 50-100 ms while the others append: 20 attempts were once all lost. A random
    # wait between attempts was tried and changed nothing; the budget in time keeps a starved
    # writer trying while the hall as a whole moves on.
    MAX_CONFLICT_RETRIES = 20
    CONFLICT_BUDGET_S = 3.0

    def __init__(self, journal: Journal, hall: str, publishers: Sequence[Publisher] = ()) -> None:
        self.journal = journal
        self.hall = hall
        self.publishers = tuple(publishers)
        self.conflicts = 0  # appends refused because another worker wrote first (health, benchmarks)

    # -- reading -------------------------------------------------------------------------------
    async def load(self, day: date) -> HallDay:
        """The hall-day folded from its first event."""
        state = HallDay(self.hall, day)
        await self.catch_up(state)
        return state

    async def catch_up(self, state: HallDay, beside: HallDay | None = None) -> list[Stored]:
        """Fold into `state` what the journal holds beyond its position; returns what was folded.
        `beside`: another hall-day at the same position that folds the same events (a writer's
        durable copy, server/hall/__init__.py)."""
        fresh = [s for s in await self.journal.read(self.hall, state.day, state.seq) if s.seq > state.seq]
        for s in fresh:  # (`> state.seq` again: another reader of the same state may have folded meanwhile)
            event = ev.from_dict(s.data)
            apply(state, event, s.seq)
            if beside is not None:
                apply(beside, event, s.seq)
        return fresh

    async def read(self, day: date, since: int = 0, types: Collection[str] | None = None) -> list[Stored]:
        """The events of a hall-day as stored, after `since` (only these `types`, if given)."""
        return await self.journal.read(self.hall, day, since, types)

    async def last_seq(self, day: date) -> int:
        return await self.journal.last_seq(self.hall, day)

    async def days(self, start: date, end: date, types: Collection[str] | None = None) -> dict[date, int]:
        """The hall-days in [start, end] that hold events (of these `types`), with their last position."""
        return await self.journal.days(self.hall, start, end, types)  # type: ignore[attr-defined, no-any-return]

    # -- writing -------------------------------------------------------------------------------
    async def append(self, day: date, base: int, events: Sequence[ev.Event | dict[str, Any]]) -> Commit:
        """Store `events` at positions base+1 … in one transaction, or raise SequenceConflict.
        Nothing to store asks nothing of the journal."""
        stored = tuple(e if isinstance(e, dict) else ev.to_dict(e) for e in events)
        decided = tuple(e for e in events if not isinstance(e, dict))
        if stored:
            await self.journal.append(self.hall, day, base, stored)
        return Commit(self.hall, day, base, decided, stored)

    async def publish(self, commit: Commit) -> None:
        message = commit.message
        if message is not None:
            for publisher in self.publishers:
                await publisher.publish(message)

    async def write(
        self,
        at: HallDayAt,
        decide: Callable[[HallDay], Sequence[ev.Event]],
        *,
        tentative: bool = False,
        conflicted: Callable[[HallDay], Awaitable[object]] | None = None,
        committed: Callable[[Commit], Awaitable[object]] | None = None,
        publish: bool = True,
    ) -> Commit:
        """The unit of work, decided again after each conflict; the retry loop of every writer.

        `at` is the hall-day to decide on (or a coroutine function giving it, called before each
        attempt). `decide` returns the events; a DomainError it raises goes to the caller, nothing
        stored. `tentative`: `decide` folds its events into the hall-day as it goes (a batch of
        commands, each seeing the ones before), so after a conflict the hall-day cannot be caught
        up and `conflicted` must rebuild it; otherwise the events are folded once stored, and a
        conflict catches the hall-day up from its position. Once stored, `committed` runs (the
        writer answers its callers), then the events are published, in that order."""
        started, attempt = time.monotonic(), 0
        while True:
            attempt += 1
            state = at if isinstance(at, HallDay) else await at()
            base = state.seq
            events = tuple(decide(state))
            try:
                commit = await self.append(state.day, base, events)
            except SequenceConflict:
                self.conflicts += 1
                if attempt >= self.MAX_CONFLICT_RETRIES and time.monotonic() - started >= self.CONFLICT_BUDGET_S:
                    raise Unavailable(f"{attempt} conflicting appends in a row") from None
                if conflicted is not None:
                    await conflicted(state)
                elif not tentative:
                    await self.catch_up(state)
                else:
                    raise
                continue
            if not tentative:
                # At their own positions, and only those not folded yet: a reader of the same
                # hall-day (a booking's checks catch it up outside the writer) may have read
                # them from the journal while this append was being answered. Folded twice,
                # the position would run ahead of the journal, and the next catch-up would
                # skip another worker's event there.
                for n, e in enumerate(events, start=1):
                    if base + n > state.seq:
                        apply(state, e, base + n)
            if committed is not None:
                await committed(commit)
            if publish:
                await self.publish(commit)
            return commit
