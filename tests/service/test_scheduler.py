"""The one scheduler of every hall's timed work (server/scheduler.py), on a clock moved by hand:
nothing here waits for real time."""

from __future__ import annotations

import asyncio

import pytest

from server.scheduler import Scheduler


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def clock() -> Clock:
    return Clock()


def test_entries_run_in_deadline_order_once_each_when_due(clock: Clock) -> None:
    s = Scheduler(clock)
    ran: list[str] = []
    for name, delay in (("c", 3.0), ("a", 1.0), ("b", 2.0)):
        s.after(name, delay, lambda name=name: ran.append(name))
    assert s.run_due() == 0 and ran == []
    clock.t += 2.0
    assert s.run_due() == 2 and ran == ["a", "b"]
    clock.t += 10.0
    assert s.run_due() == 1 and ran == ["a", "b", "c"]
    assert s.run_due() == 0 and s.pending() == 0 and s.next_due() == float("inf")


def test_a_key_holds_one_entry_the_latest_given(clock: Clock) -> None:
    s = Scheduler(clock)
    ran: list[str] = []
    s.after("hall", 1.0, lambda: ran.append("first"))
    s.after("hall", 5.0, lambda: ran.append("second"))  # replaces: later
    clock.t += 2.0
    assert s.run_due() == 0 and s.when("hall") == 1005.0
    clock.t += 3.0
    assert s.run_due() == 1 and ran == ["second"]
    s.after("hall", 1.0, lambda: ran.append("third"))
    s.cancel("hall")
    clock.t += 5.0
    assert s.run_due() == 0 and ran == ["second"]


def test_an_event_brings_a_quiet_entry_forward_but_never_puts_one_back(clock: Clock) -> None:
    s = Scheduler(clock)
    ran: list[str] = []
    s.after("sweep", 300.0, lambda: ran.append("sweep"))  # a quiet hall: swept again in 5 minutes
    s.soon("sweep", 5.0, lambda: ran.append("sweep"))  # a ticket was issued: within 5 s
    assert s.when("sweep") == 1005.0
    s.soon("sweep", 60.0, lambda: ran.append("late"))  # later than what is pending: no change
    assert s.when("sweep") == 1005.0
    s.soon("other", 5.0, lambda: ran.append("other"))  # nothing pending: scheduled
    clock.t += 5.0
    assert s.run_due() == 2 and sorted(ran) == ["other", "sweep"]


async def test_coroutine_work_runs_as_its_own_task_and_an_event_meanwhile_is_its_own(clock: Clock) -> None:
    s = Scheduler(clock)
    gate = asyncio.Event()
    runs: list[float] = []

    async def sweep() -> None:
        runs.append(clock.t)
        await gate.wait()
        s.after("sweep", 5.0, sweep)  # periodic work schedules its next run when done

    s.after("sweep", 0.0, sweep)
    assert s.run_due() == 1
    await asyncio.sleep(0)
    s.soon("sweep", 0.0, sweep)  # its own events, heard while it runs: no second run
    assert s.run_due() == 0 and s.when("sweep") is None
    gate.set()
    await s.idle()
    assert s.when("sweep") == clock.t + 5.0 and runs == [1000.0]


async def test_drop_cancels_a_run_under_way_and_what_was_pending(clock: Clock) -> None:
    s = Scheduler(clock)
    ended: list[str] = []

    async def slow() -> None:
        try:
            await asyncio.Event().wait()
        finally:
            ended.append("slow")

    s.after("slow", 0.0, slow)
    s.after("later", 10.0, lambda: ended.append("later"))
    s.run_due()
    await asyncio.sleep(0)
    await s.drop(["slow", "later"])
    clock.t += 20.0
    assert s.run_due() == 0 and ended == ["slow"]


async def test_a_failing_entry_is_logged_and_the_others_run(clock: Clock, caplog: pytest.LogCaptureFixture) -> None:
    s = Scheduler(clock)
    ran: list[str] = []

    def broken() -> None:
        raise RuntimeError("a bug")

    async def broken_later() -> None:
        raise RuntimeError("another bug")

    s.after("a", 0.0, broken)
    s.after("b", 0.0, broken_later)
    s.after("c", 0.0, lambda: ran.append("c"))
    assert s.run_due() == 3
    await s.idle()
    assert ran == ["c"] and "timed work 'a' failed" in caplog.text and "timed work 'b' failed" in caplog.text


async def test_the_task_sleeps_until_the_earliest_deadline_and_wakes_for_an_earlier_one() -> None:
    """The one task with the real clock, without waiting: an entry due now runs at once even
    while the task sleeps towards one an hour away."""
    s = Scheduler()
    done = asyncio.Event()
    s.after("far", 3600.0, lambda: None)
    await s.start()
    try:
        await asyncio.sleep(0)
        s.after("now", 0.0, done.set)
        await asyncio.wait_for(done.wait(), 5)
        assert s.keys() == ["far"]
    finally:
        await s.stop()
    assert s._task is None
