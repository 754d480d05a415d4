"""Two services deciding for the same hall at once, as two workers do: on SQLite with the
in-process bus, and on PostgreSQL with Redis. Appends stay optimistic (never both win), each
service folds what the other journalled, and each one's screens hear every event in order."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable

import pytest

from server.bus import LocalBus
from server.domain import commands as c
from server.hall import HallService, new_ticket_id
from server.journal import SQLJournal, make_engine
from tests.halls import FakeClock, small_catalog
from tests.services import RedisServer, fresh_hall, postgres_url


@pytest.fixture(params=["sqlite+local", pytest.param("postgres+redis", marks=[pytest.mark.postgres, pytest.mark.redis])])
async def workers(request, tmp_path):  # type: ignore[no-untyped-def]
    """Two services of one hall, each with its own journal connection and bus end."""
    clock = FakeClock()
    hall = fresh_hall()
    catalog = small_catalog(id=hall)  # a fresh stream, so a shared PostgreSQL needs no cleaning
    server = None
    if request.param == "sqlite+local":
        url = f"sqlite+aiosqlite:///{tmp_path / 'j.sqlite3'}"
        bus = LocalBus()
        buses = [bus, bus]
    else:
        from server.bus.redis import RedisBus

        url = await postgres_url()
        server = RedisServer(tmp_path / "redis")
        server.start()
        buses = [RedisBus(server.url), RedisBus(server.url)]
    journals = [SQLJournal(make_engine(url)) for _ in range(2)]
    services = []
    for j, b in zip(journals, buses):
        await j.create()
        await b.start()
        s = HallService(catalog, j, b, clock, shared=True)
        await s.start()
        services.append(s)
    yield services
    for s in services:
        await ends("a service's stop", s.stop())
    for b in {id(b): b for b in buses}.values():
        await ends("a bus's close", b.close())
    for j in journals:
        await ends("a journal's close", j.close())
    if server:
        server.stop()


async def ends(what: str, closing: Awaitable[None]) -> None:
    """Wait for a part to close, but not forever: once (in about 200 runs on a loaded machine) this
    fixture's teardown never ended, with the event loop idle. A part that does not close within a
    minute fails the test with every task's stack, instead of holding the suite."""
    try:
        await asyncio.wait_for(closing, 60)
    except asyncio.TimeoutError:
        for task in asyncio.all_tasks():
            task.print_stack(file=sys.stderr)
        raise AssertionError(f"{what} did not end within 60 s; the tasks' stacks are above") from None


def issue(item: str = "a1") -> c.IssueTicket:
    return c.IssueTicket(by="kiosk", ticket=new_ticket_id(), item=item)


async def test_concurrent_issues_on_two_workers_never_share_a_number(workers):
    w1, w2 = workers
    results = await asyncio.gather(*(w.handle(issue()) for _ in range(30) for w in (w1, w2)))
    numbers = sorted(events[0].number for events in results)
    assert numbers == [f"A{n:03d}" for n in range(1, 61)]
    stored = await w1.journal.read(w1.hall, w1.state.day)
    assert [s.seq for s in stored] == list(range(1, 61))


async def test_a_ticket_issued_on_one_worker_is_known_at_once_on_the_other(workers):
    w1, w2 = workers
    (issued,) = await w1.handle(issue())
    state = await w2.current()  # a phone asking the other worker right after the kiosk
    assert issued.ticket in state.tickets and state.seq == w1.state.seq


async def test_two_workers_calling_at_once_never_call_one_ticket_twice(workers):
    w1, w2 = workers
    for _ in range(12):  # item a2: served by window w1 and by the comprehensive w3
        await w1.handle(issue("a2"))
    await w1.handle(c.OpenWindow(by="w1a", window="w1"))
    await w2.handle(c.OpenWindow(by="w3a", window="w3"))

    async def clerk(w: HallService, who: str, window: str) -> list[str]:
        numbers = []
        for _ in range(6):
            events = await w.handle(c.CallNext(by=who, window=window))
            numbers += [e.number for e in events if e.type == "ticket_called"]
            await w.handle(c.NoShow(by=who, window=window))
        return numbers

    one, two = await asyncio.gather(clerk(w1, "w1a", "w1"), clerk(w2, "w3a", "w3"))
    called = one + two
    assert sorted(called) == [f"B{n:03d}" for n in range(1, 13)], f"called twice or lost: {called}"


async def test_each_workers_screens_hear_every_event_in_order(workers):
    w1, w2 = workers
    subs = [w.local.subscribe(w.hall) for w in workers]
    await asyncio.gather(*(w.handle(issue()) for _ in range(10) for w in (w1, w2)))
    for sub in subs:
        seqs: list[int] = []
        while len(seqs) < 20:
            m = await asyncio.wait_for(sub.get(), 10)
            seqs.extend(range(m.first_seq, m.last_seq + 1))
        assert seqs == list(range(1, 21))
