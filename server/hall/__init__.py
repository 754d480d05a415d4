"""The service layer: load a hall-day, decide, append at the expected position, publish.

The loading, catching up, appending and publishing are the hall-day repository's
(repository.py), the one place of the retry on conflict; what handlers render comes back from
the service's queries and answers (views.py), never from its fold or the journal directly.

One writer task per hall takes commands from an inbox. Commands that arrive while an
append is on its way to disk wait and go together in the next append (group commit): one
fsync serves many tickets, and nobody is answered before their events are durable.

Several processes may serve the same hall (`shared`): each keeps its own fold of the hall-day
and appends at the position it believes is next; the journal refuses a stale position, and
the loser folds what the winner wrote and decides again. A shared service also follows the
bus: another process's events wake the writer, which folds them from the journal, and every
read first folds what the journal holds beyond its position, so an answer is never older than
the last acknowledged command. What a service folds, its own commands' events and the
others', it publishes in order on `local`, the bus of this process's screens.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Callable, Collection
from datetime import date, datetime
from typing import Protocol
from zoneinfo import ZoneInfo

from ..bus import Bus, LocalBus, Published, Subscription
from ..domain import commands as cmd
from ..domain import events as ev
from ..domain.apply import apply
from ..domain.catalog import Catalog, HallConfig
from ..domain.commands import Command
from ..domain.decide import decide
from ..domain.errors import DomainError, NotFound
from ..domain.model import HallDay, Ticket
from ..journal import Journal, Stored, Unavailable, is_timeout
from ..journal.revisions import SQLRevisions
from ..scheduler import Scheduler
from ..tasks import cancel
from .catalogs import CatalogRevisions
from .dayend import DayChange
from .ratings import served_ticket
from .repository import Commit, HallDays
from .views import Outcome

log = logging.getLogger("hallq.hall")


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def __init__(self, tz: str) -> None:
        self.tz = ZoneInfo(tz)

    def now(self) -> datetime:
        return datetime.now(self.tz)


def new_ticket_id() -> str:
    """A ticket's id is the citizen's secret (it opens the mobile ticket): 96 random bits."""
    return secrets.token_urlsafe(12)


_SYNC = object()  # an inbox entry that only brings the hall-day up to date
_PREVIOUS = object()  # an inbox entry that folds what others appended to the day before
Entry = tuple[object, "asyncio.Future[list[ev.Event]] | None"]


def _fail(entries: list[Entry], error: BaseException) -> None:
    unavailable = error if isinstance(error, Unavailable) else Unavailable("the journal is unavailable, please try again")
    for _, fut in entries:
        if fut is not None and not fut.done():
            fut.set_exception(unavailable)


class HeardBus(LocalBus):
    """The service's own bus (`local`), which also tells plain functions what it carries: the
    scheduler's users hear of a hall's events without a task per hall waiting on a queue."""

    def __init__(self) -> None:
        super().__init__()
        self.listeners: list[Callable[[Published], None]] = []

    async def publish(self, message: Published) -> None:
        for listener in tuple(self.listeners):
            try:
                listener(message)
            except Exception:  # a listener's bug must not stop the hall
                log.exception("hall %s: a listener failed", message.hall)
        await super().publish(message)


class HallService(CatalogRevisions):
    POLL_S = 1.0  # how often a shared service reads the journal while the bus is down

    def __init__(
        self,
        catalog: Catalog,
        journal: Journal,
        bus: Bus,
        clock: Clock | None = None,
        revisions: SQLRevisions | None = None,
        adjust: Callable[[HallConfig], HallConfig] | None = None,
        *,
        shared: bool = False,
        scheduler: Scheduler | None = None,
    ) -> None:
        # `adjust`: how this server runs a catalogue without storing it so (--always-open);
        # `config` is the catalogue as stored, what administrators edit.
        self.adjust = adjust or (lambda config: config)
        self.seed = self.config = catalog.config  # the config files: revision 0
        self.catalog = Catalog(self.adjust(catalog.config)) if adjust else catalog
        self.rev = 0  # the catalogue revision in force (server/journal/revisions.py)
        self.revisions = revisions
        self.catalog_listeners: list[Callable[[str, HallConfig], None]] = []
        self._admin = asyncio.Lock()
        self.hall = catalog.hall.id
        self.journal = journal
        self.bus = bus
        self.shared = shared
        self.local = HeardBus()  # what this service has folded, in order: the screens' source
        self.scheduler = scheduler  # the day change's timer (else a task of its own)
        self.repo = HallDays(journal, self.hall, (self.local, bus))
        self.clock: Clock = clock or SystemClock(catalog.hall.timezone)
        self.tz = ZoneInfo(catalog.hall.timezone)
        self.state = HallDay(self.hall, self._today())
        self._inbox: list[Entry] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._follower: asyncio.Task[None] | None = None
        self._stale = True
        self._durable = 0  # the position of the last event known to be in the journal
        # A shared hall's day at its durable position, beside the one the writer folds its batch
        # into tentatively: after a conflict the writer goes back to it and reads only what the
        # other worker appended (`_conflict`); None until the next load when out of step.
        self._before: HallDay | None = None
        self.reloads = 0  # whole hall-days folded again after a conflict (tests, benchmarks)
        self.days = DayChange(self)
        self.earlier: dict[date, HallDay] = {}  # ended days folded for late ratings (ratings.py), oldest first
        self._midnight: asyncio.Task[None] | None = None

    def _now(self) -> datetime:
        return self.clock.now().astimezone(self.tz)

    def _today(self) -> date:
        return self._now().date()

    async def start(self, empty: bool = False) -> None:
        """`empty`: the journal holds nothing of this hall's recent days (LOOKBACK_DAYS) and no
        catalogue revision (the app asks once for every hall): nothing to load or close out."""
        if empty:
            self.state = HallDay(self.hall, self._today())
            self._stale = False
            self.days.settled = self.state.day
        else:
            await self._load(self._today())
        self._task = asyncio.create_task(self._run(), name=f"hall-writer-{self.hall}")
        if not empty:
            self._wake_up()  # close out what a stop across midnight left open, before anyone asks
        if self.scheduler is not None:
            self._day_timer()
        else:
            self._midnight = asyncio.create_task(self.days.watch(self._wake_up), name=f"hall-midnight-{self.hall}")
        if self.shared:
            sub = self.bus.subscribe(self.hall, maxsize=1000)
            self._follower = asyncio.create_task(self._follow(sub), name=f"hall-follower-{self.hall}")

    def _day_timer(self) -> None:
        """The day change on the scheduler: wake the writer when the hall-day has ended."""
        assert self.scheduler is not None

        def check() -> None:
            if self.days.ended():
                self._wake_up()
            self._day_timer()

        self.scheduler.after(("day", self.hall), self.days.until_end(), check)

    async def stop(self) -> None:
        if self.scheduler is not None:
            self.scheduler.cancel(("day", self.hall))
        await cancel((self._midnight, self._follower, self._task))
        self._task = self._follower = self._midnight = None
        for _, fut in self._inbox:
            if fut is not None and not fut.done():
                fut.set_exception(Unavailable("the server is shutting down"))
        self._inbox.clear()

    @property
    def conflicts(self) -> int:
        """Appends refused because another process wrote first (health, benchmarks)."""
        return self.repo.conflicts

    async def _load(self, day: date) -> None:
        """Fold the hall-day from the journal; what is new to this service goes out on `local`."""
        before = self._durable if self.state.day == day else 0  # published already, also after a failed append
        state = HallDay(self.hall, day)
        stored = await self.repo.catch_up(state)
        fresh = [s.data for s in stored if s.seq > before]
        await self.follow_catalog(day)
        self.state = state
        self._before = state.copy() if self.shared else None
        self._stale = False
        self._durable = state.seq
        if fresh:
            await self.local.publish(Published(self.hall, day, state.seq - len(fresh) + 1, tuple(fresh)))

    async def _catch_up(self) -> None:
        """Fold what other processes appended since our position (shared halls)."""
        state = self.state
        stored = await self.repo.catch_up(state, self._copy_at(state.day, state.seq))
        if not stored:
            return
        self._durable = state.seq
        if any(s.data["type"] in ("catalog_changed", "catalog_withdrawn") for s in stored):
            await self.follow_catalog(state.day)  # an administrator's change made on another worker
        await self.local.publish(Published(self.hall, state.day, stored[0].seq, tuple(s.data for s in stored)))

    async def _follow(self, sub: Subscription) -> None:
        """Another process journalled for this hall: have the writer fold it. While the bus is
        down, look at the journal every POLL_S instead."""
        while True:
            try:
                message = await asyncio.wait_for(sub.get(), None if self.bus.healthy else self.POLL_S)
            except asyncio.TimeoutError:
                message = None
            state = self.state
            if message is not None and not sub.lagged and message.day == state.day and message.last_seq <= state.seq:
                continue  # our own, or folded already
            sub.lagged = False
            self._inbox.append((_SYNC, None))
            self._wake.set()

    def _drop_tentative(self) -> None:
        """The journal failed: hold nothing unstored, and reload before deciding or answering again."""
        self.state = HallDay(self.hall, self.state.day)
        self._before = None
        self._stale = True

    async def handle(self, command: Command) -> list[ev.Event]:
        """Decide and store; returns the events once they are durable, or raises DomainError."""
        return await self._submit(command)

    async def current(self) -> HallDay:
        """The state of today, after a day rollover if midnight has passed since the last command,
        and, for a shared hall, with everything other processes have journalled."""
        if self.shared or self._stale or self.state.day != self._today() or self.days.settled != self.state.day:
            await self._submit(_SYNC)
        return self.state

    async def answer(self, command: Command) -> Outcome:
        """Decide and store, like `handle`; with the hall-day the command was decided on, to render."""
        events = await self._submit(command)
        state = self.state
        ticket = getattr(command, "ticket", None)
        if isinstance(ticket, str) and ticket not in state.tickets:
            found = self.days.ticket(ticket)  # a late command about a ticket of the day before
            if found is not None:
                state = found[0]
        return Outcome(events, state)

    def held(self) -> HallDay:
        """Today's hall-day as folded now, without asking the writer (health, which day a page shows)."""
        return self.state

    def ticket_held(self, ticket_id: str) -> tuple[HallDay, Ticket] | None:
        """A ticket of today or of the day before as held now, without asking the writer (feeds)."""
        return self.days.ticket(ticket_id)

    def day_before(self) -> HallDay | None:
        """The last hall-day before today that holds events, as held now (a service that ran over midnight)."""
        return self.days.previous

    async def served_ticket(self, day: date, ticket_id: str) -> tuple[HallDay, Ticket, cmd.ServedTicket]:
        """A ticket of an earlier day as its day's journal holds it, with its conclusion and any
        late rating on the days after (a rating after the day of service: ratings.py)."""
        return await served_ticket(self, day, ticket_id)

    async def events(self, day: date | None = None, since: int = 0, types: Collection[str] | None = None) -> list[Stored]:
        """A hall-day's events as journalled (today's by default) after `since`, only these `types`
        if given: the audit trail, the alerts, who issued a ticket."""
        if day is None:
            day = (await self.current()).day
        return await self.repo.read(day, max(0, since), types)

    async def last_seq(self, day: date) -> int:
        """The position of a hall-day's last event in the journal."""
        return await self.repo.last_seq(day)

    async def find_ticket(self, ticket_id: str) -> tuple[HallDay, Ticket]:
        """A ticket of today or of the day before (closed out, or finished): NotFound otherwise."""
        await self.current()
        found = self.days.ticket(ticket_id)
        if found is None:
            raise NotFound("unknown-ticket", f"no ticket {ticket_id!r} today")
        if self.shared and found[0] is not self.state:
            await self._submit(_PREVIOUS)  # a late finish another worker recorded
        return found

    def _wake_up(self) -> None:
        self._inbox.append((_SYNC, None))
        self._wake.set()

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
                    await self._recover(batch, exc)

    async def _recover(self, batch: list[Entry], exc: BaseException) -> None:
        """Forget the tentative events before anyone hears of the failure, and fold the journal
        again. When the database did not answer in time, a reload would keep the clients
        waiting a second deadline: they hear at once, and so do those who queued meanwhile
        (they waited on the same dead database), and those who queue during the reload hear
        when it fails. Nobody waits much more than one deadline."""
        timed_out = is_timeout(exc)
        if timed_out:
            self._drop_tentative()
            waiting, self._inbox = self._inbox, []
            _fail(batch + waiting, exc)
        try:
            await self._load(self.state.day)
        except Exception as reload_exc:
            log.error("hall %s: reload failed: %r", self.hall, reload_exc)
            self._drop_tentative()
            if timed_out:
                waiting, self._inbox = self._inbox, []
                _fail(waiting, reload_exc)
        _fail(batch, exc)

    async def _commit(self, batch: list[Entry]) -> None:
        await self.days.begin(self._today())
        if self.days.previous is not None:
            if self.shared and any(isinstance(e, cmd.FinishService) for e, _ in batch):
                await self._catch_up()  # whether the window took somebody today, as of now
            batch = await self.days.route(batch, self.state, _PREVIOUS)
        results: list[tuple[asyncio.Future[list[ev.Event]] | None, list[ev.Event] | BaseException]] = []

        async def current() -> HallDay:
            if self._stale or self.state.day != self._today():
                await self.days.begin(self._today())
            elif self.shared:
                await self._catch_up()
            return self.state

        def decide_batch(state: HallDay) -> list[ev.Event]:
            results.clear()
            decided: list[ev.Event] = []
            if self.days.carry is not None:  # the windows open at midnight, open on the new day
                decided = decide(state, self.catalog, self.days.carry, self._now())
                for e in decided:
                    apply(state, e)
            for entry, fut in batch:
                if entry is _SYNC or entry is _PREVIOUS:
                    results.append((fut, []))
                    continue
                try:
                    events = decide(state, self.catalog, entry, self._now())  # type: ignore[arg-type]
                except DomainError as exc:
                    results.append((fut, exc))
                    continue
                except Exception as exc:  # a bug in a rule must not stop the hall
                    log.exception("hall %s: decide failed for %r", self.hall, entry)
                    results.append((fut, exc))
                    continue
                for e in events:
                    apply(state, e)  # tentative until the append returns
                decided.extend(events)
                results.append((fut, events))
            return decided

        async def answer(commit: Commit) -> None:
            self.days.carry = None
            before = self._copy_at(commit.day, commit.base)
            if before is not None:
                for e in commit.events:
                    apply(before, e)
            for fut, result in results:
                if fut is None or fut.done():
                    continue
                if isinstance(result, BaseException):
                    fut.set_exception(result)
                else:
                    fut.set_result(result)
            self._durable = self.state.seq
            if any(isinstance(e, ev.CatalogChanged) for e in commit.events):
                # Before anyone hears of the change, so whoever refetches gets the new catalogue.
                await self.follow_catalog(self.state.day)

        await self.repo.write(current, decide_batch, tentative=True, conflicted=self._conflict, committed=answer)

    def _copy_at(self, day: date, seq: int) -> HallDay | None:
        """The durable copy if it stands at this position; else it is forgotten (out of step:
        the next load makes another)."""
        before = self._before
        if before is not None and (before.day != day or before.seq != seq):
            before = self._before = None
        return before

    async def _conflict(self, state: HallDay) -> None:
        """Another worker appended first. The batch was folded into `state` tentatively: go back
        to the durable copy and fold only what the other worker wrote, then decide again. With
        no copy in step (a single process's hall, or after a failure), fold the whole day again
        (about 15 ms per thousand events)."""
        before = self._copy_at(state.day, self._durable)
        if before is not None:
            self.state, self._before = before, None
            await self._catch_up()
            self._before = self.state.copy()
        else:
            self.reloads += 1
            await self._load(state.day)
