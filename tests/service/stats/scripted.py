"""A scripted hall-day on the small hall (tests/halls.py), every figure worked out by hand.

Times are seconds after 09:50:00 on Wednesday 2026-11-25 (hall time), so the day crosses
10:00 and the hour groups split. Windows: w1 serves a1 and a2 (clerks w1a, then w1b after a
handover), w2 serves b1 (w2a), w3 never opens. Tickets:

  T1 a1  issued    0, called w1  120, started  150, finished  450 immediate            rated 5
  T2 a1  issued   60, called w1  480, started  540, suspended  600,
                      called w1  960, started  990, finished 1110 one-time notice      rated 2
  T3 b1  issued  120, called w2  450, recalled 510, no-show    570
  T4 a2  issued  600, called w1  660, started  690, finished  900 promised
  T5 b1  issued  600, called w2  620, started  640, transferred to a1 at 700,
                      called w1 1200, started 1230, finished 1530 immediate
  T6 c1  issued 1300, cancelled 1400
  w2 paused 800-1100, closed 1500; w1 handed over to w1b at 1600, closed 1800.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

from server.bus import LocalBus
from server.domain import commands as c
from server.hall import HallService
from server.journal import SQLJournal, make_engine
from server.stats.service import Stats
from tests.halls import MORNING, FakeClock, small_catalog

START = MORNING.replace(minute=50)
END_S = 1800


@asynccontextmanager
async def scripted_hall(kind: str, tmp_path: Path, clock: FakeClock) -> AsyncIterator[tuple[HallService, Stats]]:
    """The small hall's service and statistics on a real journal: a SQLite file (`kind` sqlite),
    or PostgreSQL (a fresh hall id each time, so a shared server needs no cleaning)."""
    if kind == "sqlite":
        catalog = small_catalog()
        journal = SQLJournal(make_engine(f"sqlite+aiosqlite:///{tmp_path / 'hall.sqlite3'}"))
        await journal.create()
    else:
        from tests.adapters.test_journal import _postgres

        catalog = small_catalog(id="s" + uuid.uuid4().hex[:12])
        journal = await _postgres()
    service = HallService(catalog, journal, LocalBus(), clock)
    await service.start()
    stats = Stats(journal, {catalog.hall.id: service})
    await stats.create()
    try:
        yield service, stats
    finally:
        await service.stop()
        await journal.close()


async def play(service: HallService, clock: FakeClock) -> dict[str, str]:
    """Drive the service through the day; returns the ticket ids by script name."""
    ids: dict[str, str] = {}

    def at(s: float) -> None:
        clock.t = START + timedelta(seconds=s)

    async def issue(name: str, item: str) -> None:
        (e,) = await service.handle(c.IssueTicket(by="kiosk", ticket=f"id-{name}", item=item))
        ids[name] = e.ticket

    async def w(window: str, command, by: str | None = None, **kw) -> list:  # type: ignore[no-untyped-def]
        return await service.handle(command(by=by or f"{window}a", window=window, **kw))

    at(0)
    await w("w1", c.OpenWindow)
    await w("w2", c.OpenWindow)
    await issue("T1", "a1")
    at(60)
    await issue("T2", "a1")
    at(120)
    await issue("T3", "b1")
    (called,) = await w("w1", c.CallNext)
    assert called.ticket == ids["T1"]
    at(150)
    await w("w1", c.StartService)
    at(450)
    await w("w1", c.FinishService, case_type="immediate")
    (called,) = await w("w2", c.CallNext)
    assert called.ticket == ids["T3"]
    at(460)
    await service.handle(c.Evaluate(by="evaluator", ticket=ids["T1"], score=5))
    at(480)
    (called,) = await w("w1", c.CallNext)
    assert called.ticket == ids["T2"]
    at(510)
    await w("w2", c.Recall)
    at(540)
    await w("w1", c.StartService)
    at(570)
    await w("w2", c.NoShow)
    at(600)
    await w("w1", c.Suspend, kind="fetching_materials")
    await issue("T4", "a2")
    await issue("T5", "b1")
    at(620)
    (called,) = await w("w2", c.CallNext)
    assert called.ticket == ids["T5"]
    at(640)
    await w("w2", c.StartService)
    at(660)
    (called,) = await w("w1", c.CallNext)
    assert called.ticket == ids["T4"]
    at(690)
    await w("w1", c.StartService)
    at(700)
    await w("w2", c.Transfer, to_item="a1")
    at(800)
    await w("w2", c.Pause, reason="会议")
    at(900)
    await w("w1", c.FinishService, case_type="promised")
    at(960)
    await w("w1", c.CallTicket, ticket=ids["T2"])
    at(990)
    await w("w1", c.StartService)
    at(1100)
    await w("w2", c.Resume)
    at(1110)
    await w("w1", c.FinishService, case_type="immediate", outcome="one_time_notice", missing=("营业执照副本",))
    at(1120)
    await service.handle(c.Evaluate(by="evaluator", ticket=ids["T2"], score=2, comment="材料清单不清楚"))
    at(1200)
    (called,) = await w("w1", c.CallNext)
    assert called.ticket == ids["T5"]
    at(1230)
    await w("w1", c.StartService)
    at(1300)
    await issue("T6", "c1")
    at(1400)
    await service.handle(c.CancelTicket(by="kiosk", ticket=ids["T6"]))
    at(1500)
    await w("w2", c.CloseWindow)
    at(1530)
    await w("w1", c.FinishService, case_type="immediate")
    at(1600)
    await w("w1", c.Handover)
    at(END_S)
    await w("w1", c.CloseWindow, by="w1b")
    return ids
