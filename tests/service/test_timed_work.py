"""Every hall's timed work on the one scheduler (server/scheduler.py), with the scheduler's clock
moved by hand: a quiet hall's supervision sweep waits for its next event, a busy one runs every
`sweep_s`; the day change is an entry of the scheduler, not a task per hall."""

from __future__ import annotations

import pytest

from server.bus import LocalBus
from server.domain import commands as c
from server.hall import HallService
from server.journal import SQLJournal, make_engine
from server.scheduler import Scheduler
from server.stats.service import Stats
from server.stats.supervisor import Supervisor
from server.stats.tasks import Sweeps
from tests.halls import FakeClock, small_catalog


class Monotonic:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
async def hall(tmp_path):  # type: ignore[no-untyped-def]
    clock, mono = FakeClock(), Monotonic()
    scheduler = Scheduler(mono)
    journal = SQLJournal(make_engine(f"sqlite+aiosqlite:///{tmp_path / 'hall.sqlite3'}"))
    await journal.create()
    catalog = small_catalog()
    service = HallService(catalog, journal, LocalBus(), clock, scheduler=scheduler)
    await service.start(empty=True)
    stats = Stats(journal, {service.hall: service})
    await stats.create()
    sweeps = Sweeps(scheduler, {service.hall: service}, {service.hall: Supervisor(service, stats)})
    await sweeps.start()
    try:
        yield service, scheduler, mono, clock, sweeps
    finally:
        await sweeps.stop()
        await service.stop()
        await journal.close()


async def run(scheduler: Scheduler) -> int:
    ran = scheduler.run_due()
    await scheduler.idle()
    return ran


async def test_a_quiet_hall_is_swept_again_at_its_next_event_and_a_busy_one_every_period(hall) -> None:
    service, scheduler, mono, _clock, _sweeps = hall
    key, period = ("supervise", service.hall), service.catalog.hall.supervision.sweep_s
    assert ("day", service.hall) in scheduler.keys()  # the day change waits on the scheduler too
    assert await run(scheduler) >= 1  # the first sweep, at start
    assert scheduler.when(key) == mono.t + Sweeps.QUIET_S  # nobody waits, nothing open: quiet

    mono.t += period
    assert await run(scheduler) == 0  # quiet: no sweep every period
    await service.handle(c.IssueTicket(by="kiosk", ticket="t-1", item="a1"))
    assert scheduler.when(key) == mono.t + period  # the event brought the sweep forward

    mono.t += period
    assert await run(scheduler) == 1
    assert scheduler.when(key) == mono.t + period  # somebody waits: swept every period

    await service.handle(c.CancelTicket(by="holder", ticket="t-1"))
    mono.t += period
    assert await run(scheduler) == 1
    assert scheduler.when(key) == mono.t + Sweeps.QUIET_S  # quiet again


async def test_stopping_the_sweeps_leaves_nothing_on_the_scheduler_and_no_listener(hall) -> None:
    service, scheduler, _mono, _clock, sweeps = hall
    heard = len(service.local.listeners)  # the sweeps' and the supervisor's own
    assert ("supervise", service.hall) in scheduler.keys()
    scheduler.run_due()  # a sweep under way is cancelled and waited for
    await sweeps.stop()
    assert ("supervise", service.hall) not in scheduler.keys() and len(service.local.listeners) == heard - 1
    await service.handle(c.IssueTicket(by="kiosk", ticket="t-2", item="a1"))
    assert ("supervise", service.hall) not in scheduler.keys()  # nobody listens any more


async def test_an_empty_start_asks_nothing_and_answers_an_empty_day(hall) -> None:
    service, _scheduler, _mono, clock, _sweeps = hall
    state = await service.current()
    assert state.seq == 0 and state.day == clock.now().date() and not state.tickets
    (e,) = await service.handle(c.IssueTicket(by="kiosk", ticket="t-3", item="a1"))
    assert (await service.current()).seq == 1 and e.ticket == "t-3"
