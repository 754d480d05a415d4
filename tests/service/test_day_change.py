"""The day change on a real SQLite journal: what is open at midnight is closed out once, never lost."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from server.bus import LocalBus
from server.domain import commands as c
from server.domain.errors import Conflict
from server.domain.model import TicketStatus, WindowStatus
from server.hall import HallService, new_ticket_id
from server.journal import SQLJournal, make_engine
from tests.halls import FakeClock, small_catalog

CATALOG = small_catalog(enforce_hours=False)  # a hall open round the clock meets midnight with people in it


@pytest.fixture
async def journal(tmp_path):  # type: ignore[no-untyped-def]
    j = SQLJournal(make_engine(f"sqlite+aiosqlite:///{tmp_path / 'hall.sqlite3'}"))
    await j.create()
    yield j
    await j.close()


async def started(journal: SQLJournal, clock: FakeClock, shared: bool = False) -> HallService:
    s = HallService(CATALOG, journal, LocalBus(), clock, shared=shared)
    await s.start()
    return s


def issue(item: str) -> c.IssueTicket:
    return c.IssueTicket(by="kiosk", ticket=new_ticket_id(), item=item)


async def busy_evening(s: HallService, clock: FakeClock) -> dict[str, str]:
    """At 23:59: A001 served at w1, C001 called at w2, B001 suspended at w3, A002 waiting."""
    for window in ("w1", "w2", "w3"):
        await s.handle(c.OpenWindow(by=f"{window}a", window=window))
    ids = {}
    for item in ("a1", "a1", "b1", "a2"):
        (e,) = await s.handle(issue(item))
        ids[e.number] = e.ticket
    await s.handle(c.CallTicket(by="w1a", window="w1", ticket=ids["A001"]))
    await s.handle(c.StartService(by="w1a", window="w1"))
    await s.handle(c.CallNext(by="w2a", window="w2"))
    await s.handle(c.CallTicket(by="w3a", window="w3", ticket=ids["B001"]))
    await s.handle(c.StartService(by="w3a", window="w3"))
    await s.handle(c.Suspend(by="w3a", window="w3", kind="fetching_materials"))
    clock.t = clock.t.replace(hour=23, minute=59)
    state = await s.current()
    assert {n: state.tickets[i].status.value for n, i in ids.items()} == {
        "A001": "serving", "A002": "waiting", "C001": "called", "B001": "suspended"}
    return ids


def past_midnight(clock: FakeClock, seconds: float = 30) -> None:
    clock.t = clock.t.replace(hour=0, minute=0, second=0) + timedelta(days=1, seconds=seconds)


async def test_midnight_closes_out_every_open_ticket_and_the_windows_go_on(journal):
    clock = FakeClock()
    s = await started(journal, clock)
    try:
        ids = await busy_evening(s, clock)
        old_day = clock.t.date()
        past_midnight(clock)
        state = await s.current()
        assert state.day == old_day + timedelta(days=1)

        stored = [x.data for x in await journal.read("t", old_day)]
        tail = stored[-8:]
        assert [e["type"] for e in tail] == ["ticket_closed_out"] * 4 + ["window_closed"] * 3 + ["day_closed_out"]
        closed = {e["number"]: (e["status"], e["window"], e["clerk"]) for e in tail[:4]}
        assert closed == {"A001": ("serving", "w1", "w1a"), "A002": ("waiting", None, None),
                          "C001": ("called", "w2", "w2a"), "B001": ("suspended", "w3", "w3a")}
        assert all(e["at"] == "2026-11-26T00:00:00+08:00" for e in tail)  # the day's end, whenever noticed
        assert tail[-1]["tickets"] == 4 and tail[-1]["windows"] == ["w1", "w2", "w3"]

        # Not lost: every old ticket is still found, closed out, with what it was.
        for number, ticket in ids.items():
            day, t = await s.find_ticket(ticket)
            assert (day.day, t.status, t.closed_out_from) == (old_day, TicketStatus.closed_out, closed[number][0])

        # The new day: the windows open at midnight are open, idle, same clerks, and call again.
        assert {w: (state.window(w).status, state.window(w).clerk) for w in ("w1", "w2", "w3")} == {
            "w1": (WindowStatus.idle, "w1a"), "w2": (WindowStatus.idle, "w2a"), "w3": (WindowStatus.idle, "w3a")}
        (fresh,) = await s.handle(issue("a1"))
        assert fresh.number == "A001"
        (called,) = await s.handle(c.CallNext(by="w1a", window="w1"))
        assert called.ticket == fresh.ticket
    finally:
        await s.stop()


async def test_a_service_that_ran_over_midnight_is_finished_late_in_its_own_day(journal):
    clock = FakeClock()
    s = await started(journal, clock)
    try:
        ids = await busy_evening(s, clock)
        old_day = clock.t.date()
        past_midnight(clock, 180)
        await s.current()
        (late,) = await s.handle(c.FinishService(by="w1a", window="w1", case_type="promised"))
        assert late.type == "service_finished_late" and late.ticket == ids["A001"]
        stored = await journal.read("t", old_day)
        assert stored[-1].data["type"] == "service_finished_late" and stored[-1].data["case_type"] == "promised"
        assert await journal.read("t", old_day + timedelta(days=1), types=("service_finished_late",)) == []
        _, t = await s.find_ticket(ids["A001"])
        assert (t.status, t.case_type, t.closed_out_from) == (TicketStatus.done, "promised", "serving")
        assert t.deadline is not None and t.deadline > old_day  # a 承诺件's deadline is tracked
        # Once only; and a called ticket closed out was never being served: nothing to finish.
        for window, by in (("w1", "w1a"), ("w2", "w2a")):
            with pytest.raises(Conflict) as refused:
                await s.handle(c.FinishService(by=by, window=window, case_type="immediate"))
            assert refused.value.code == "window-state"
        assert s.state.window("w1").status is WindowStatus.idle  # the new day's window is untouched
    finally:
        await s.stop()


async def test_a_window_that_served_someone_today_finishes_todays_citizen_not_last_nights(journal):
    clock = FakeClock()
    s = await started(journal, clock)
    try:
        ids = await busy_evening(s, clock)
        past_midnight(clock)
        await s.current()
        await s.handle(issue("a1"))
        await s.handle(c.CallNext(by="w1a", window="w1"))
        await s.handle(c.NoShow(by="w1a", window="w1"))
        with pytest.raises(Conflict):
            await s.handle(c.FinishService(by="w1a", window="w1", case_type="immediate"))
        _, t = await s.find_ticket(ids["A001"])
        assert t.status is TicketStatus.closed_out
    finally:
        await s.stop()


async def count(journal: SQLJournal, day, kind: str) -> int:  # type: ignore[no-untyped-def]
    return len(await journal.read("t", day, types=(kind,)))


async def test_a_restart_across_midnight_closes_out_the_old_day_exactly_once(journal):
    clock = FakeClock()
    s = await started(journal, clock)
    ids = await busy_evening(s, clock)
    old_day = clock.t.date()
    await s.stop()  # stopped at 23:59 …
    clock.t = clock.t.replace(hour=8, minute=0) + timedelta(days=1)  # … started the next morning
    workers = [await started(journal, clock, shared=True) for _ in range(2)]
    try:
        states = await asyncio.gather(*(w.current() for w in workers))
        assert await count(journal, old_day, "day_closed_out") == 1
        assert await count(journal, old_day, "ticket_closed_out") == 4
        for w in workers:
            day, t = await w.find_ticket(ids["A002"])
            assert (day.day, t.status) == (old_day, TicketStatus.closed_out)
        # Eight hours after midnight nobody can tell who is at the counter: the windows start closed.
        assert all(st.window("w1").status is WindowStatus.closed for st in states)
        assert await journal.read("t", old_day + timedelta(days=1)) == []
    finally:
        for w in workers:
            await w.stop()
    again = await started(journal, clock)
    try:
        await again.current()
        assert await count(journal, old_day, "day_closed_out") == 1
    finally:
        await again.stop()


async def test_two_workers_at_midnight_carry_the_windows_over_once(journal):
    clock = FakeClock()
    workers = [await started(journal, clock, shared=True) for _ in range(2)]
    try:
        await busy_evening(workers[0], clock)
        old_day = clock.t.date()
        await workers[1].current()
        past_midnight(clock)
        await asyncio.gather(*(w.current() for w in workers))
        await asyncio.gather(*(w.current() for w in workers))
        assert await count(journal, old_day, "day_closed_out") == 1
        assert await count(journal, old_day + timedelta(days=1), "window_opened") == 3
        await workers[1].handle(c.CloseWindow(by="w2a", window="w2"))
        restarted = await started(journal, clock)  # the clerk closed w2: a restart does not reopen it
        try:
            assert (await restarted.current()).window("w2").status is WindowStatus.closed
            assert await count(journal, old_day + timedelta(days=1), "window_opened") == 3
        finally:
            await restarted.stop()
    finally:
        for w in workers:
            await w.stop()
