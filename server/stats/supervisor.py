"""One hall's supervisor: keeps today's alert board and submits `Supervise` every few seconds.

The board is folded from the journal (so a restart loses nothing), the rules are the
domain's (server/domain/supervision.py); this class only gathers what the rules need from
other days (open promised cases, open bad reviews) and hands it over in the command.
"""

from __future__ import annotations

import asyncio
import time
from datetime import date

from server.bus import Published
from server.domain import commands as cmd
from server.domain import events as ev
from server.domain import supervision
from server.domain.supervision import SUPERVISOR, AlertBoard, quiet
from server.hall import HallService
from server.stats import ledger
from server.stats.service import Stats, hall_today
from server.stats.facts import DayFacts, DayResult

LEDGER_TTL_S = 30.0
BOARD_TYPES = frozenset({"alert_raised", "alert_cleared"})
# Events that may open or close a promised case or a bad review today.
TODAY_LEDGER_TYPES = frozenset({"service_finished", "ticket_evaluated", "ticket_rated_late", "review_step_recorded", "case_concluded"})


class Supervisor:
    def __init__(self, service: HallService, stats: Stats) -> None:
        self.service = service
        self.stats = stats
        self.hall = service.hall
        self.board = AlertBoard(date.min)
        self._seq = 0
        self._lock = asyncio.Lock()
        self._cases: tuple[cmd.OpenCase, ...] = ()
        self._reviews: tuple[cmd.OpenReview, ...] = ()
        self._ledger_at = 0.0
        self._ledger_day: date | None = None
        self._stored_cases: list[cmd.OpenCase] = []
        self._stored_reviews: dict[str, ledger.Review] = {}
        self._today_dirty = True  # today's cases or reviews may have changed since the last look
        # One process: what the hall publishes says whether the board's events moved, so a sweep
        # reads the journal only then (a province's thousands of halls with tickets and no alert).
        self._news = True
        self._ledger_days: set[date] = set()  # days a service, rating or review step was heard on
        listeners = getattr(service.local, "listeners", None)
        if listeners is not None:
            listeners.append(self._heard)

    def _heard(self, message: Published) -> None:
        if any(e["type"] in TODAY_LEDGER_TYPES for e in message.events):
            self._ledger_days.add(message.day)
            self._news = True
        elif message.day != self.board.day or any(e["type"] in BOARD_TYPES for e in message.events):
            self._news = True
        self._current: DayResult | None = None

    def invalidate(self) -> None:
        """Read the cases and reviews again at the next sweep (after a step was recorded)."""
        self._ledger_at = 0.0
        self._today_dirty = True

    async def catch_up(self) -> AlertBoard:
        """Fold the alert events journalled since the last look (a new board each day)."""
        async with self._lock:
            return await self._catch_up()

    async def _catch_up(self) -> AlertBoard:
        state = await self.service.current()
        if self.board.day != state.day:
            self.board = AlertBoard(state.day)
            self._seq = 0
        if not self.service.shared:  # one process: the fold is whole, and what it published was heard
            if self._seq == state.seq:
                self._news = False  # nothing journalled since the last look: nothing unread either
                return self.board
            if not self._news:
                self._seq = state.seq  # journalled since, but nothing for the board or the ledgers
                return self.board
            self._news = False
        # Only the few events the board needs: a busy hall journals thousands between sweeps.
        last = await self.service.last_seq(state.day)
        for stored in await self.service.events(state.day, self._seq, types=BOARD_TYPES | TODAY_LEDGER_TYPES):
            kind = stored.data["type"]
            if kind in BOARD_TYPES:
                self.board.fold(ev.from_dict(stored.data))
            else:
                self._today_dirty = True
            last = max(last, stored.seq)
        self._seq = max(self._seq, last)
        return self.board

    async def _ledgers(self) -> None:
        """Open cases and reviews: the closed days' part kept a while, today's laid over it each time."""
        today = hall_today(self.service)
        # One process: the closed days' cases and reviews change with the day (the ledger
        # derives what it reads) or by a step recorded here (`invalidate`); with several, another
        # process may have recorded one: read them again every LEDGER_TTL_S.
        expired = self.service.shared and time.monotonic() - self._ledger_at >= LEDGER_TTL_S
        refreshed = self._ledger_day != today or self._ledger_at == 0.0 or expired
        if refreshed:
            s = self.service.catalog.hall.supervision
            horizon = ledger.warning_horizon(today, s.deadline_warning_days)
            self._stored_cases = await ledger.stored_cases(self.stats, self.hall, today, due_by=horizon)
            self._stored_reviews = await ledger.stored_reviews(self.stats, self.hall, today)
            self._ledger_at = time.monotonic()
            self._ledger_day = today
        if self._today_dirty or self._current is None or self._current.day != today:
            # Today's facts cost time in proportion to the day's tickets: recount them only when
            # a service, a rating or a review step may have opened or closed a case or review.
            self._today_dirty = False
            if not self.service.shared and today not in self._ledger_days:
                # One process, and nothing today that opens or closes a case or review: today's
                # part is empty, without reading or counting the day.
                self._current = DayFacts(self.service.catalog, today).result(self.service.clock.now())
            else:
                self._current = await self.stats.today(self.hall)
        elif not refreshed:
            return
        current = self._current
        self._cases = tuple(ledger.cases_now(self._stored_cases, current))
        self._reviews = tuple(r.open() for r in ledger.reviews_now(self._stored_reviews, current) if not r.closed)

    def quiet(self) -> bool:
        """Whether the next sweep may wait for the hall's next event (server/domain/supervision.py)."""
        return quiet(self.service.held(), self.board, self._cases, self._reviews)

    async def sweep(self) -> list[ev.Event]:
        async with self._lock:
            await self._catch_up()
            await self._ledgers()
            command = cmd.Supervise(by=SUPERVISOR, active=self.board.known(), cases=self._cases, reviews=self._reviews)
            if not self.service.shared and not supervision.sweep(self.service.held(), self.service.catalog, command,
                                                                    self.service.clock.now().astimezone(self.service.tz)):
                # One process holds the whole fold: the rules find nothing new now, so the writer
                # is not asked (thousands of halls with a queue, swept every few seconds).
                return []
            events = await self.service.handle(command)
            await self._catch_up()
            if any(isinstance(e, ev.ReviewStepRecorded) for e in events):
                self.invalidate()
            return events
