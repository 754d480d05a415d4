"""The service layer on a real SQLite journal: durability, group commit, optimistic concurrency."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest

from server.bus import LocalBus
from server.domain import commands as c
from server.domain.errors import Conflict
from server.hall import HallService, Unavailable, new_ticket_id
from server.journal import SQLJournal, make_engine
from tests.domain.test_properties import _projection
from tests.halls import small_catalog

CATALOG = small_catalog()


class CountingJournal(SQLJournal):
    """The real SQLite journal, counting its appends (to see group commit happen)."""

    appends = 0

    async def append(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        self.appends += 1
        return await super().append(*args, **kwargs)


async def make_journal(path: Path, cls: type[SQLJournal] = SQLJournal) -> SQLJournal:
    journal = cls(make_engine(f"sqlite+aiosqlite:///{path}"))
    await journal.create()
    return journal


@pytest.fixture
async def journal(tmp_path):  # type: ignore[no-untyped-def]
    j = await make_journal(tmp_path / "hall.sqlite3", CountingJournal)
    yield j
    await j.close()


@pytest.fixture
async def service(journal, clock):  # type: ignore[no-untyped-def]
    s = HallService(CATALOG, journal, LocalBus(), clock)
    await s.start()
    yield s
    await s.stop()


def issue(item: str = "a1", **kw) -> c.IssueTicket:  # type: ignore[no-untyped-def]
    return c.IssueTicket(by="kiosk", ticket=new_ticket_id(), item=item, **kw)


async def test_concurrent_tickets_share_appends_and_all_are_journalled(service, journal):
    results = await asyncio.gather(*(service.handle(issue("a1")) for _ in range(200)))
    numbers = [events[0].number for events in results]
    assert sorted(numbers) == [f"A{n:03d}" for n in range(1, 201)]
    assert len(await journal.read("t", service.state.day)) == 200
    assert journal.appends < 200  # group commit: several tickets per append


async def test_a_restart_rebuilds_exactly_the_same_state(service, journal, clock):
    await service.handle(c.OpenWindow(by="w1a", window="w1"))
    for _ in range(5):
        await service.handle(issue("a1"))
    await service.handle(issue("a2", priority=True))
    await service.handle(c.CallNext(by="w1a", window="w1"))
    await service.handle(c.StartService(by="w1a", window="w1"))
    clock.advance(90)
    await service.handle(c.FinishService(by="w1a", window="w1", case_type="promised"))
    await service.handle(c.CallNext(by="w1a", window="w1"))
    await service.handle(c.NoShow(by="w1a", window="w1", requeue=True))
    await service.handle(c.Pause(by="w1a", window="w1", reason="取材料", until=clock.now() + timedelta(minutes=5)))
    again = HallService(CATALOG, journal, LocalBus(), clock)
    await again.start()
    try:
        assert _projection(again.state) == _projection(service.state)
    finally:
        await again.stop()


async def test_a_refused_command_stores_nothing(service, journal):
    await service.handle(issue("a1"))
    with pytest.raises(Conflict):
        await service.handle(c.FinishService(by="w1a", window="w1", case_type="immediate"))
    assert len(await journal.read("t", service.state.day)) == 1


async def test_two_workers_on_one_journal_never_reuse_a_number(tmp_path, clock):
    path = tmp_path / "shared.sqlite3"
    j1, j2 = await make_journal(path), await make_journal(path)
    w1 = HallService(CATALOG, j1, LocalBus(), clock)
    w2 = HallService(CATALOG, j2, LocalBus(), clock)
    await w1.start()
    await w2.start()
    try:
        results = await asyncio.gather(*(w.handle(issue("a1")) for _ in range(40) for w in (w1, w2)))
        numbers = [events[0].number for events in results]
        assert len(set(numbers)) == 80
        stored = await j1.read("t", w1.state.day)
        assert [s.seq for s in stored] == list(range(1, 81))
        assert sorted(s.data["number"] for s in stored) == sorted(numbers)
    finally:
        await w1.stop()
        await w2.stop()
        await j1.close()
        await j2.close()


async def test_events_are_published_with_their_positions_after_they_are_stored(service, journal):
    sub = service.bus.subscribe("t")
    await service.handle(issue("a1"))
    await service.handle(issue("b1"))
    first, second = await sub.get(), await sub.get()
    assert (first.first_seq, second.first_seq) == (1, 2)
    assert second.events[0]["number"] == "C001"
    stored = await journal.read("t", service.state.day)
    assert [s.data for s in stored] == [first.events[0], second.events[0]]


async def test_midnight_starts_a_new_hall_day(service, clock):
    (first,) = await service.handle(issue("a1"))
    clock.t = clock.t.replace(hour=23, minute=59)
    clock.advance(24 * 3600 - 23 * 3600 - 59 * 60 + 9 * 3600)  # the next morning, 09:00
    state = await service.current()
    assert state.day == first.at.date() + timedelta(days=1)
    assert state.tickets == {}
    (next_day,) = await service.handle(issue("a1"))
    assert next_day.number == "A001"


class BrokenDisk(SQLJournal):
    """The real journal, on a disk that fails (what is outside our reach)."""

    fail = False

    async def append(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        if self.fail:
            raise OSError("disk I/O error")
        return await super().append(*args, **kwargs)


async def test_a_failing_journal_answers_unavailable_and_forgets_the_undurable(tmp_path, clock):
    journal = await make_journal(tmp_path / "d.sqlite3", BrokenDisk)
    service = HallService(CATALOG, journal, LocalBus(), clock)
    await service.start()
    try:
        await service.handle(issue("a1"))
        journal.fail = True
        with pytest.raises(Unavailable):
            await service.handle(issue("a1"))
        assert len(service.state.tickets) == 1  # the tentative ticket is gone with the failed append
        journal.fail = False
        (again,) = await service.handle(issue("a1"))
        assert again.number == "A002"
    finally:
        await service.stop()
        await journal.close()
