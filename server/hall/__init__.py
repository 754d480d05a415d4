"""The service layer: load a hall-day, decide, append at the expected position, publish.

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
from collections.abc import Callable
from datetime import date, datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from ..bus import Bus, LocalBus, Published, Subscription
from ..domain import admin
from ..domain import commands as cmd
from ..domain import events as ev
from ..domain.apply import apply
from ..domain.catalog import Catalog, HallConfig
from ..domain.commands import Command
from ..domain.decide import decide
from ..domain.errors import Conflict, DomainError, NotFound
from ..domain.model import HallDay, Ticket
from ..journal import Journal, SequenceConflict, Unavailable, is_timeout
from ..journal.revisions import Revision, RevisionConflict, SQLRevisions
from ..tasks import cancel
from .dayend import DayChange

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


class HallService:
    MAX_CONFLICT_RETRIES = 20

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
        self.local = LocalBus()  # what this service has folded, in order: the screens' source
        self.clock: Clock = clock or SystemClock(catalog.hall.timezone)
        self.tz = ZoneInfo(catalog.hall.timezone)
        self.state = HallDay(self.hall, self._today())
        self._inbox: list[Entry] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._follower: asyncio.Task[None] | None = None
        self._stale = True
        self.conflicts = 0  # appends refused because another process wrote first (health, benchmarks)
        self._durable = 0  # the position of the last event known to be in the journal
        self.days = DayChange(self)
        self._midnight: asyncio.Task[None] | None = None

    def _now(self) -> datetime:
        return self.clock.now().astimezone(self.tz)

    def _today(self) -> date:
        return self._now().date()

    async def start(self) -> None:
        await self._load(self._today())
        self._task = asyncio.create_task(self._run(), name=f"hall-writer-{self.hall}")
        self._wake_up()  # close out what a stop across midnight left open, before anyone asks
        self._midnight = asyncio.create_task(self.days.watch(self._wake_up), name=f"hall-midnight-{self.hall}")
        if self.shared:
            sub = self.bus.subscribe(self.hall, maxsize=1000)
            self._follower = asyncio.create_task(self._follow(sub), name=f"hall-follower-{self.hall}")

    async def stop(self) -> None:
        await cancel((self._midnight, self._follower, self._task))
        self._task = self._follower = self._midnight = None
        for _, fut in self._inbox:
            if fut is not None and not fut.done():
                fut.set_exception(Unavailable("the server is shutting down"))
        self._inbox.clear()

    async def _load(self, day: date) -> None:
        """Fold the hall-day from the journal; what is new to this service goes out on `local`."""
        before = self._durable if self.state.day == day else 0  # published already, also after a failed append
        state = HallDay(self.hall, day)
        fresh: list[dict[str, Any]] = []
        for stored in await self.journal.read(self.hall, day):
            apply(state, ev.from_dict(stored.data), stored.seq)
            if stored.seq > before:
                fresh.append(stored.data)
        await self.follow_catalog(day)
        self.state = state
        self._stale = False
        self._durable = state.seq
        if fresh:
            await self.local.publish(Published(self.hall, day, state.seq - len(fresh) + 1, tuple(fresh)))

    async def _catch_up(self) -> None:
        """Fold what other processes appended since our position (shared halls)."""
        state = self.state
        stored = await self.journal.read(self.hall, state.day, state.seq)
        if not stored:
            return
        for s in stored:
            apply(state, ev.from_dict(s.data), s.seq)
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
        for _attempt in range(self.MAX_CONFLICT_RETRIES):
            if self._stale or self.state.day != self._today():
                await self.days.begin(self._today())
            elif self.shared:
                await self._catch_up()
            base = self.state.seq
            results: list[tuple[asyncio.Future[list[ev.Event]] | None, list[ev.Event] | BaseException]] = []
            decided: list[ev.Event] = []
            if self.days.carry is not None:  # the windows open at midnight, open on the new day
                decided = decide(self.state, self.catalog, self.days.carry, self._now())
                for e in decided:
                    apply(self.state, e)
            for entry, fut in batch:
                if entry is _SYNC or entry is _PREVIOUS:
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
                # (A reload costs a fold of the day, ~15 ms per thousand events: rare in a real hall,
                # where two workers rarely append within the same few milliseconds.)
                self.conflicts += 1
                await self._load(self.state.day)
                continue
            self.days.carry = None
            for fut, result in results:
                if fut is None or fut.done():
                    continue
                if isinstance(result, BaseException):
                    fut.set_exception(result)
                else:
                    fut.set_result(result)
            self._durable = self.state.seq
            if any(isinstance(e, ev.CatalogChanged) for e in decided):
                # Before anyone hears of the change, so whoever refetches gets the new catalogue.
                await self.follow_catalog(self.state.day)
            if dicts:
                message = Published(self.hall, self.state.day, base + 1, dicts)
                await self.local.publish(message)
                await self.bus.publish(message)
            return
        raise Unavailable(f"{self.MAX_CONFLICT_RETRIES} conflicting appends in a row")

    # -- the catalogue in force (hall administration) ---------------------------------------
    async def follow_catalog(self, day: date | None = None) -> bool:
        """Take the catalogue revision in force on `day` (today) if it is not the one held.

        Called on every load of a hall-day and whenever a `catalog_changed` event is folded,
        here or from another worker's stream; True when the catalogue changed."""
        if self.revisions is None:
            return False
        day = day or self._today()
        rev = await self.revisions.in_force_rev(self.hall, day)
        if rev == self.rev:
            return False
        config = self.seed
        if rev:
            stored = await self.revisions.get(self.hall, rev)
            if stored is None or stored.document is None:
                return False
            try:
                config = admin.validate(stored.document, self.catalog.config.users)
            except DomainError as exc:
                log.error("hall %s: revision %d cannot be used (%s); keeping revision %d", self.hall, rev, exc.detail, self.rev)
                return False
        else:
            config = config.model_copy(update={"users": self.catalog.config.users})
        self.config = config
        self.catalog = Catalog(self.adjust(config))
        self.rev = rev
        log.info("hall %s: catalogue revision %d in force from %s", self.hall, rev, day)
        for listener in self.catalog_listeners:
            listener(self.hall, config)
        return True

    async def latest_catalog(self) -> tuple[int, date | None, HallConfig]:
        """The newest revision (in force or waiting for its day), its day, and its catalogue:
        every change is made on top of it."""
        if self.revisions is None:
            return 0, None, self.config
        latest = await self.revisions.latest(self.hall, withdrawn=False)
        if latest == self.rev:
            return self.rev, None if latest == 0 else (await self._revision(latest)).effective, self.config
        stored = await self._revision(latest)
        assert stored.document is not None
        return latest, stored.effective, admin.validate(stored.document, self.catalog.config.users)

    async def _revision(self, rev: int) -> Revision:
        assert self.revisions is not None
        stored = await self.revisions.get(self.hall, rev)
        if stored is None:
            raise Conflict("stale-revision", f"revision {rev} is gone")
        return stored

    async def plan_change(self, base_rev: int, new: HallConfig, effective: date | None) -> dict[str, Any]:
        """What saving `new` (made on top of revision `base_rev`) would do: the diff, the revision
        it would become, from which day; refused (DomainError) exactly as saving would be."""
        if self.revisions is None:
            raise Conflict("read-only", "this hall's catalogue is not stored in a database")
        latest, latest_day, base = await self.latest_catalog()
        if base_rev != latest:
            raise Conflict("stale-revision", f"the catalogue is at revision {latest} now, not {base_rev}: reload and edit again",
                           rev=latest)
        today = (await self.current()).day
        effective = effective or today
        pending = latest_day if latest_day is not None and latest_day > today else None
        admin.check_effective(today, effective, pending)
        admin.check_change(base, new, self.state if effective == today else None)
        d = admin.diff(base, new)
        if admin.is_empty(d):
            raise admin.CatalogInvalid([{"field": "catalog", "message": "nothing would change"}])
        number = await self.revisions.latest(self.hall) + 1  # withdrawn ones keep their numbers
        return {"base": latest, "rev": number, "effective": effective, "diff": d, "summary": admin.summary(d)}

    async def change_catalog(self, base_rev: int, new: HallConfig, effective: date | None, by: str) -> dict[str, Any]:
        """Store `new` as the next revision, record it in the day's stream, and (in force today)
        take it at once. A ticket already issued keeps its item: nothing is ever deleted."""
        async with self._admin:
            plan = await self.plan_change(base_rev, new, effective)
            assert self.revisions is not None
            revision = Revision(self.hall, plan["rev"], self._now().isoformat(), by, plan["effective"], plan["summary"],
                                admin.document(new))
            try:
                await self.revisions.add(revision)
            except RevisionConflict:
                raise Conflict("stale-revision", "another change was saved at the same moment: reload and edit again") from None
            try:
                await self.handle(cmd.RecordCatalogChange(by=by, rev=plan["rev"], effective=plan["effective"], summary=plan["summary"]))
            finally:
                await self.follow_catalog()  # also when the event could not be journalled: the revision is stored
            return plan

    async def withdraw_revision(self, rev: int, by: str) -> Revision:
        """Withdraw the newest revision while it still waits for its day; recorded in the day's stream."""
        if self.revisions is None:
            raise Conflict("read-only", "this hall's catalogue is not stored in a database")
        async with self._admin:
            stored = await self.revisions.get(self.hall, rev) if rev > 0 else None
            if stored is None or stored.withdrawn_at is not None:
                raise Conflict("unknown-revision", f"no revision {rev} to withdraw")
            today = (await self.current()).day
            admin.check_withdraw(rev, await self.revisions.latest(self.hall, withdrawn=False), stored.effective, today)
            if not await self.revisions.withdraw(self.hall, rev, self._now().isoformat(), by):
                raise Conflict("unknown-revision", f"revision {rev} was withdrawn just now")
            await self.handle(cmd.RecordCatalogWithdrawal(by=by, rev=rev))
            withdrawn = await self.revisions.get(self.hall, rev)
            assert withdrawn is not None
            return withdrawn
