"""The hall-day repository on every journal (SQLite, PostgreSQL): a write is stored at the
hall-day's position or not at all, a conflict catches up from that position and decides
again, and what is stored is published once, in order; two services on one journal keep one
numbering of the day."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Collection
from datetime import date

import pytest

from server.bus import LocalBus, Published
from server.domain import commands as c
from server.domain import events as ev
from server.domain.apply import apply
from server.domain.decide import decide
from server.domain.errors import DomainError
from server.domain.model import HallDay
from server.hall import HallService, new_ticket_id
from server.hall.repository import HallDays
from server.journal import SQLJournal, Stored, Unavailable, make_engine
from tests.halls import FakeClock, small_catalog
from tests.services import fresh_hall, postgres_url


class Reads:
    """A real journal that remembers from which position each read started."""

    def __init__(self, journal: SQLJournal) -> None:
        self.journal = journal
        self.since: list[int] = []

    async def read(self, hall: str, day: date, since: int = 0, types: Collection[str] | None = None) -> list[Stored]:
        self.since.append(since)
        return await self.journal.read(hall, day, since, types)

    def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
        return getattr(self.journal, name)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def url(request, tmp_path) -> str:  # type: ignore[no-untyped-def]
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'j.sqlite3'}"
    return await postgres_url()


@pytest.fixture
async def journals(url):  # type: ignore[no-untyped-def]
    """Two connections to one journal, as two workers have."""
    pair = [SQLJournal(make_engine(url)) for _ in range(2)]
    for j in pair:
        await j.create()
    yield pair
    for j in pair:
        await j.close()


@pytest.fixture
def catalog():  # type: ignore[no-untyped-def]
    return small_catalog(id=fresh_hall())  # a fresh stream, so a shared PostgreSQL needs no cleaning


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def issuing(catalog, clock, item: str = "a1"):  # type: ignore[no-untyped-def]
    """A decision: one ticket for `item`, with the decisions made remembered (what they saw)."""
    seen: list[int] = []

    def decide_issue(state: HallDay) -> list[ev.Event]:
        seen.append(state.seq)
        return decide(state, catalog, c.IssueTicket(by="kiosk", ticket=new_ticket_id(), item=item), clock.now())

    decide_issue.seen = seen  # type: ignore[attr-defined]
    return decide_issue


async def test_a_written_hall_day_loads_back_as_the_same_fold(journals, catalog, clock):
    repo = HallDays(journals[0], catalog.hall.id)
    state = HallDay(catalog.hall.id, clock.now().date())
    for _ in range(3):
        await repo.write(state, issuing(catalog, clock))
    loaded = await HallDays(journals[1], catalog.hall.id).load(state.day)
    assert loaded.seq == state.seq == 3
    assert sorted(t.number for t in loaded.tickets.values()) == ["A001", "A002", "A003"]
    assert [s.seq for s in await repo.read(state.day, since=1)] == [2, 3]


async def test_what_is_stored_is_published_once_with_its_position_and_a_refusal_stores_nothing(journals, catalog, clock):
    local = LocalBus()
    sub = local.subscribe(catalog.hall.id)
    repo = HallDays(journals[0], catalog.hall.id, (local,))
    state = HallDay(catalog.hall.id, clock.now().date())
    commit = await repo.write(state, issuing(catalog, clock))
    message: Published = await asyncio.wait_for(sub.get(), 5)
    assert (message.first_seq, message.last_seq) == (1, 1) and message.events == commit.stored
    with pytest.raises(DomainError):
        await repo.write(state, issuing(catalog, clock, item="no-such-item"))
    assert state.seq == 1 and await repo.last_seq(state.day) == 1
    assert sub.queue.empty()


async def test_a_conflict_catches_up_from_the_position_and_decides_again(journals, catalog, clock):
    day = clock.now().date()
    first = HallDays(journals[0], catalog.hall.id)
    reads = Reads(journals[1])
    second = HallDays(reads, catalog.hall.id)  # type: ignore[arg-type]
    mine = await second.load(day)
    await second.write(mine, issuing(catalog, clock))  # A001
    ahead = await first.load(day)
    for _ in range(2):
        await first.write(ahead, issuing(catalog, clock))  # another worker takes A002, A003
    reads.since.clear()
    decision = issuing(catalog, clock)
    commit = await second.write(mine, decision)
    assert decision.seen == [1, 3], "decided on the stale day, then again on what the other wrote"
    assert reads.since == [1], "caught up from its own position, once"
    assert second.conflicts == 1
    (issued,) = commit.events
    assert isinstance(issued, ev.TicketIssued) and issued.number == "A004" and mine.seq == 4
    assert [s.data["number"] for s in await first.read(day)] == ["A001", "A002", "A003", "A004"]


async def test_a_tentative_decision_is_rebuilt_after_a_conflict_not_caught_up(journals, catalog, clock):
    day = clock.now().date()
    first, second = HallDays(journals[0], catalog.hall.id), HallDays(journals[1], catalog.hall.id)
    await first.write(HallDay(catalog.hall.id, day), issuing(catalog, clock))
    held = {"state": HallDay(catalog.hall.id, day)}  # stale: it has not seen A001

    def tentatively(state: HallDay) -> list[ev.Event]:
        events = issuing(catalog, clock)(state)
        for e in events:
            apply(state, e)
        return events

    async def rebuild(stale: HallDay) -> None:
        held["state"] = await second.load(stale.day)

    async def at() -> HallDay:
        return held["state"]

    commit = await second.write(at, tentatively, tentative=True, conflicted=rebuild)
    assert commit.base == 1 and held["state"].seq == 2
    assert sorted(t.number for t in held["state"].tickets.values()) == ["A001", "A002"]


def starved(journals, catalog, clock, budget_s: float, first: int):  # type: ignore[no-untyped-def]
    """A writer allowed 3 attempts and `budget_s` seconds, whose stale hall-day another worker
    always writes first, the first `first` times (then it reads the day as it is)."""
    day = clock.now().date()
    other = HallDays(journals[0], catalog.hall.id)
    repo = HallDays(journals[1], catalog.hall.id)
    repo.MAX_CONFLICT_RETRIES = 3
    repo.CONFLICT_BUDGET_S = budget_s
    theirs = HallDay(catalog.hall.id, day)
    decided: list[int] = []

    async def stale() -> HallDay:
        decided.append(len(decided) + 1)
        if len(decided) <= first:
            await other.write(theirs, issuing(catalog, clock))  # the other worker is first
            return HallDay(catalog.hall.id, day)
        return await repo.load(day)

    return repo, stale, decided


async def test_a_hall_day_always_taken_first_gives_up_unavailable(journals, catalog, clock):
    repo, stale, decided = starved(journals, catalog, clock, budget_s=0.0, first=1000)
    with pytest.raises(Unavailable):
        await repo.write(stale, issuing(catalog, clock))
    assert len(decided) == 3 and repo.conflicts == 3
    assert await repo.last_seq(clock.now().date()) == 3


async def test_a_writer_that_lost_its_attempts_keeps_trying_within_its_time_budget(journals, catalog, clock):
    """Past the attempts, the budget in time decides: a starved writer keeps trying while the
    hall moves on, and stores once the others let it."""
    repo, stale, decided = starved(journals, catalog, clock, budget_s=60.0, first=5)
    commit = await repo.write(stale, issuing(catalog, clock))
    assert len(decided) == 6 and repo.conflicts == 5 and commit.base == 5
    assert await repo.last_seq(clock.now().date()) == 6


async def test_two_services_on_one_journal_fold_each_others_tickets_after_a_conflict(journals, catalog, clock):
    """Two workers that do not hear each other (no shared bus): the second's append conflicts,
    it folds the first's tickets, numbers on from there, and its screens hear them all in order."""
    services = [HallService(catalog, j, LocalBus(), clock) for j in journals]
    for s in services:
        await s.start()
    try:
        one, two = services
        screens = two.local.subscribe(two.hall)
        await two.current()
        for _ in range(2):
            await one.handle(c.IssueTicket(by="kiosk", ticket=new_ticket_id(), item="a1"))
        done = await two.answer(c.IssueTicket(by="kiosk", ticket=new_ticket_id(), item="a1"))
        (issued,) = done.events
        assert isinstance(issued, ev.TicketIssued) and issued.number == "A003"
        assert done.ticket(issued.ticket).number == "A003" and done.hall_day.seq == 3
        assert two.conflicts == 1 and one.conflicts == 0
        seqs: list[int] = []
        while len(seqs) < 3:
            m = await asyncio.wait_for(screens.get(), 10)
            seqs.extend(range(m.first_seq, m.last_seq + 1))
        assert seqs == [1, 2, 3]
        audit = await one.events(since=1)
        assert [s.data["number"] for s in audit] == ["A002", "A003"]
        assert await one.last_seq(done.hall_day.day) == 3
    finally:
        for s in services:
            await s.stop()


class RacedOnce(Reads):
    """A real journal whose next append, once armed, lets another worker append first (the race
    two workers of one hall run when both commit within the same few milliseconds)."""

    def __init__(self, journal: SQLJournal) -> None:
        super().__init__(journal)
        self.first: Callable[[], Awaitable[object]] | None = None

    async def append(self, hall, day, expected, events):  # type: ignore[no-untyped-def]
        first, self.first = self.first, None
        if first is not None:
            await first()
        await self.journal.append(hall, day, expected, events)


async def test_a_shared_writer_that_lost_a_race_reads_only_what_the_other_appended(journals, catalog, clock):
    """The writer folds its batch tentatively; refused, it goes back to its durable copy of the
    day and reads from that position, instead of folding the whole day again, and its batch is
    decided again on what the other wrote. Several rounds: the copy stays in step."""
    raced = RacedOnce(journals[1])
    one = HallService(catalog, journals[0], LocalBus(), clock, shared=True)
    two = HallService(catalog, raced, LocalBus(), clock, shared=True)  # type: ignore[arg-type]
    for s in (one, two):
        await s.start()
    try:
        for _ in range(3):
            await two.handle(c.IssueTicket(by="kiosk", ticket=new_ticket_id(), item="a1"))
        numbers: list[str] = []
        for round_ in range(3):
            durable = two.held().seq

            async def the_other_first() -> None:
                for _ in range(2):
                    await one.handle(c.IssueTicket(by="kiosk", ticket=new_ticket_id(), item="a1"))

            raced.first = the_other_first
            raced.since.clear()
            batch = await asyncio.gather(*(two.answer(c.IssueTicket(by="kiosk", ticket=new_ticket_id(), item="a1"))
                                           for _ in range(2)))
            assert min(raced.since) == durable, f"round {round_}: read from {raced.since}, not from {durable}"
            numbers += [o.events[0].number for o in batch]  # type: ignore[attr-defined]
        assert two.conflicts == 3 and two.reloads == 0
        assert numbers == ["A006", "A007", "A010", "A011", "A014", "A015"]
        day = two.held().day
        assert two.held() == await HallDays(journals[0], catalog.hall.id).load(day), "the same fold as the journal's"
        await one.current()
        assert one.held() == two.held()
    finally:
        for s in (one, two):
            await s.stop()


async def test_a_writer_without_a_durable_copy_folds_the_day_again_after_a_conflict(journals, catalog, clock):
    """A hall of one process keeps no copy (it has no one to race): two services on one journal
    without a shared bus still number on correctly, by folding the day again."""
    raced = RacedOnce(journals[1])
    one = HallService(catalog, journals[0], LocalBus(), clock)
    two = HallService(catalog, raced, LocalBus(), clock)  # type: ignore[arg-type]
    for s in (one, two):
        await s.start()
    try:
        await two.handle(c.IssueTicket(by="kiosk", ticket=new_ticket_id(), item="a1"))

        async def the_other_first() -> None:
            await one.handle(c.IssueTicket(by="kiosk", ticket=new_ticket_id(), item="a1"))

        raced.first = the_other_first
        raced.since.clear()
        done = await two.answer(c.IssueTicket(by="kiosk", ticket=new_ticket_id(), item="a1"))
        assert done.events[0].number == "A003"  # type: ignore[attr-defined]
        assert two.conflicts == 1 and two.reloads == 1 and raced.since == [0]
    finally:
        for s in (one, two):
            await s.stop()


class ReadsAfterStoring:
    """A real journal whose append, once stored, lets another reader of the same hall-day catch
    it up before the writer hears the answer (as a booking's checks do, outside the writer)."""

    def __init__(self, journal: SQLJournal) -> None:
        self.journal = journal
        self.reader: tuple[HallDays, HallDay] | None = None

    async def append(self, hall, day, expected, events):  # type: ignore[no-untyped-def]
        await self.journal.append(hall, day, expected, events)
        if self.reader is not None:
            repo, state = self.reader
            await repo.catch_up(state)

    def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
        return getattr(self.journal, name)


async def test_a_write_caught_up_by_another_reader_meanwhile_is_not_folded_twice(journals, catalog, clock):
    day = clock.now().date()
    racing = ReadsAfterStoring(journals[0])
    mine = HallDays(racing, catalog.hall.id)  # type: ignore[arg-type]
    state = await mine.load(day)
    racing.reader = (mine, state)
    await mine.write(state, issuing(catalog, clock))  # A001, read back by the other reader first
    assert state.seq == 1, "folded once: the position is the journal's"
    other = HallDays(journals[1], catalog.hall.id)
    await other.write(await other.load(day), issuing(catalog, clock))  # another worker takes A002
    racing.reader = None
    await mine.catch_up(state)
    assert state.seq == 2 and sorted(t.number for t in state.tickets.values()) == ["A001", "A002"]
