"""The day change of one hall, for its HallService: close out the days that ended, keep the last
one at hand, carry its open windows over, and record the late finish of a service that ran
over midnight (the rules are server/domain/dayend.py).

Runs inside the hall's writer task, before the first command of a new day and at start, so
nothing of the new day is decided before the old one is closed. Each close-out is appended at
the expected position of the old day's stream: a second worker, or a process restarted across
midnight, either finds the day closed already or loses the race, folds the winner's events and
decides again, which then changes nothing. So a day is closed out exactly once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from ..domain import commands as cmd
from ..domain import dayend
from ..domain import events as ev
from ..domain.decide import decide
from ..domain.errors import DomainError
from ..domain.model import HallDay, Ticket

if TYPE_CHECKING:
    from . import HallService

log = logging.getLogger("hallq.hall")

# How far back a start looks for days that ended without their close-out (the server was
# stopped over them). Long enough for the longest public holiday, short enough to read at once.
LOOKBACK_DAYS = 31
Entry = tuple[object, "asyncio.Future[Any] | None"]


class DayChange:
    def __init__(self, service: HallService) -> None:
        self.service = service
        self.previous: HallDay | None = None  # the last hall-day before today that holds events
        self.settled: date | None = None  # the day whose start was settled (close-outs, carry-over)
        self.carry: cmd.CarryOverWindows | None = None  # due on today's stream, decided with the next batch

    async def begin(self, today: date) -> None:
        """Bring the service to `today`: at a new hall-day (and at start), first close out the
        days that ended, so nothing of the new day is decided before."""
        s = self.service
        if self.settled != today:
            await self.settle(today, s.state if not s._stale and s.state.day < today else None)
        if s._stale or s.state.day != today:
            await s._load(today)

    async def settle(self, today: date, old: HallDay | None) -> None:
        """Close out every ended day that is not closed yet (`old`: the fold of the day that just
        ended, when the service holds it), then keep the latest as `previous`."""
        s = self.service
        start, end = today - timedelta(days=LOOKBACK_DAYS), today - timedelta(days=1)
        days = await s.repo.days(start, end)
        closed = await s.repo.days(start, end, types=(ev.DayClosedOut.type,))
        previous = None
        for day in sorted(days):
            latest = day == max(days)
            if day in closed and not latest:
                continue
            state = old if old is not None and old.day == day and old.seq == days[day] else await s.repo.load(day)
            if day not in closed:
                state = await self._close_out(state)
            if latest:
                previous = state
        self.previous = previous
        self.carry = None
        if previous is not None and previous.left_open and previous.day == end:
            windows = tuple((w, previous.window(w).clerk or "") for w in previous.left_open)
            self.carry = cmd.CarryOverWindows(by="system", from_day=previous.day, windows=windows)
        self.settled = today

    async def _close_out(self, state: HallDay) -> HallDay:
        """Close out an ended day, unless another worker (or an earlier run) did: then there is
        nothing left to decide. Pages following one of its tickets hear it was closed out."""
        s = self.service
        commit = await s.repo.write(state, lambda day: decide(day, s.catalog, cmd.CloseOutDay(by="system"), s._now()))
        if commit.events:
            closed = commit.events[-1]
            assert isinstance(closed, ev.DayClosedOut)
            log.info("hall %s: day %s closed out: %d ticket(s) still open, window(s) %s", s.hall, state.day,
                     closed.tickets, ", ".join(closed.windows) or "none")
        return state

    # -- the day after -----------------------------------------------------------------------
    def ticket(self, ticket_id: str) -> tuple[HallDay, Ticket] | None:
        """A ticket of today or of the day before (closed out, or finished before it ended), as held now."""
        for state in (self.service.state, self.previous):
            t = state.tickets.get(ticket_id) if state is not None else None
            if t is not None:
                return state, t
        return None

    async def catch_up(self) -> None:
        """Fold what other workers appended to the day before (a late finish) since we read it."""
        if self.previous is not None:
            await self.service.repo.catch_up(self.previous)

    async def route(self, batch: list[Entry], today: HallDay, fold: object) -> list[Entry]:
        """Answer the entries meant for the day before and return today's. Those are `fold` (what
        other workers appended there), the late finish of a service that ran over midnight, and
        a citizen's or a printer's command about a ticket of that day (a rating, a cancel, a
        print that ended after midnight): decided there, by the same rules, a refusal included."""
        rest: list[Entry] = []
        for entry, fut in batch:
            result: list[ev.Event] | BaseException
            p = self.previous
            if entry is fold:
                await self.catch_up()
                result = []
            elif (isinstance(entry, cmd.FinishService) and p is not None
                  and dayend.overnight_case(p, today, entry.window) is not None):
                result = await self._decide_before(entry, lambda day, c, now: dayend.finish_late(day, self.service.catalog, c, now))
            elif (not isinstance(entry, cmd.WindowCommand) and p is not None and isinstance(getattr(entry, "ticket", None), str)
                  and entry.ticket not in today.tickets and entry.ticket in p.tickets):  # type: ignore[attr-defined]
                result = await self._decide_before(entry, lambda day, c, now: decide(day, self.service.catalog, c, now))
            else:
                rest.append((entry, fut))
                continue
            if fut is not None and not fut.done():
                if isinstance(result, BaseException):
                    fut.set_exception(result)
                else:
                    fut.set_result(result)
        return rest

    async def _decide_before(self, command: Any, decider: Callable[..., list[ev.Event]]) -> list[ev.Event] | BaseException:
        """Decide `command` on the day before and append there, deciding again after a conflict.
        Not published: the screens follow today's stream."""
        s = self.service
        p = self.previous
        assert p is not None
        refused: list[BaseException] = []

        def decide_there(day: HallDay) -> list[ev.Event]:
            refused.clear()
            try:
                return decider(day, command, s._now())
            except DomainError as exc:
                refused.append(exc)
            except Exception as exc:  # a bug in a rule must not stop the hall
                log.exception("hall %s: decide failed on the day before for %r", s.hall, command)
                refused.append(exc)
            return []

        commit = await s.repo.write(p, decide_there, publish=False)
        return refused[0] if refused else list(commit.events)

    def until_end(self) -> float:
        """Seconds until the hall-day ends (a little after), at most an hour: the clock is read
        again hourly (clock jumps)."""
        now = self.service._now()
        delay = (dayend.day_end(now.date(), self.service.catalog) - now).total_seconds()
        return min(max(delay, 0.0) + 0.05, 3600.0)

    def ended(self) -> bool:
        return self.service.state.day != self.service._today()

    async def watch(self, wake: Callable[[], None]) -> None:
        """Wake the writer when the hall-day ends, so the close-out does not wait for a command
        (a service without the app's scheduler)."""
        while True:
            await asyncio.sleep(self.until_end())
            if self.ended():
                wake()
