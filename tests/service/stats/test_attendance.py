"""考勤 on a scripted day of the small hall, every figure worked out by hand.

Wednesday 2026-11-25; the hall's hours 08:30-12:00 and 13:30-17:30 (two sessions a window),
grace 300 s. Posts: w1 A w1a / B w1b, w2 A w2a, w3 A w3a.

  w1  08:32 w1a opens (2 min: on time)        10:00 w1a pauses (离岗)
      10:01 w1b takes it over (hand-over to self, resume)
      10:05 a ticket, called and started by w1b at 10:06, finished 10:40
      10:30 supervision: the service has run 1440 s > 2 × 600 s: a service alert at w1 (w1b's)
      11:50 w1b closes: 600 s early (w1b's)
      13:45 w1b opens: 900 s late (A w1a's: opening is A's; w1b covers)
      17:28 w1b closes: 120 s early, within grace: on time
  w2  08:40 w2a opens: 600 s late (w2a's); open over lunch, so on time at 13:30; 17:28 closes
  w3  never opens: absent both sessions (w3a's); a c1 ticket waits for it from 09:00, so at
      10:30 supervision raises an unattended-window alert at w3 (charged to A, w3a, as nobody
      held it)

By window:  w1 sessions 2, on time 0, late 1 (900 s), early 1 (600 s), covered 2
            w2 sessions 2, on time 1, late 1 (600 s)
            w3 sessions 2, absent 2
By clerk:   w1a sessions 2, late 1 (900 s);  w1b early 1 (600 s), covered 2, alerts 1
            w2a sessions 2, on time 1, late 1 (600 s);  w3a sessions 2, absent 2, alerts 1
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from server.domain import commands as c
from server.stats.attendance import attendance
from tests.halls import TZ, FakeClock
from tests.service.stats.scripted import scripted_hall

DAY = datetime(2026, 11, 25, tzinfo=TZ)


def at(clock: FakeClock, hh: int, mm: int) -> None:
    clock.t = DAY.replace(hour=hh, minute=mm)


async def play(service, clock: FakeClock) -> None:  # type: ignore[no-untyped-def]
    async def w(window: str, command, by: str | None = None, **kw):  # type: ignore[no-untyped-def]
        return await service.handle(command(by=by or f"{window}a", window=window, **kw))

    at(clock, 8, 32)
    await w("w1", c.OpenWindow)
    at(clock, 8, 40)
    await w("w2", c.OpenWindow)
    at(clock, 9, 0)
    await service.handle(c.IssueTicket(by="kiosk", ticket="t-c1", item="c1"))
    at(clock, 10, 0)
    await w("w1", c.Pause, reason="离岗")
    at(clock, 10, 1)
    await w("w1", c.Handover, by="w1b", to="w1b")
    await w("w1", c.Resume, by="w1b")
    at(clock, 10, 5)
    await service.handle(c.IssueTicket(by="kiosk", ticket="t-a1", item="a1"))
    at(clock, 10, 6)
    await w("w1", c.CallNext, by="w1b")
    await w("w1", c.StartService, by="w1b")
    at(clock, 10, 30)
    raised = await service.handle(c.Supervise(by="system"))
    assert {(e.kind, e.window) for e in raised} >= {("service", "w1"), ("unattended", "w3")}
    at(clock, 10, 40)
    await w("w1", c.FinishService, by="w1b", case_type="immediate")
    at(clock, 11, 50)
    await w("w1", c.CloseWindow, by="w1b")
    at(clock, 13, 45)
    await w("w1", c.OpenWindow, by="w1b")
    at(clock, 17, 28)
    await w("w1", c.CloseWindow, by="w1b")
    await w("w2", c.CloseWindow)


def figures(row: dict, *names: str) -> dict:
    return {n: row[n] for n in names}


F = ("sessions", "on_time", "late", "late_s", "early", "early_s", "absent", "covered")


def check(report: dict) -> None:
    windows = {r["key"]: figures(r, *F) for r in report["windows"]}
    assert windows == {
        "w1": {"sessions": 2, "on_time": 0, "late": 1, "late_s": 900.0, "early": 1, "early_s": 600.0, "absent": 0, "covered": 2},
        "w2": {"sessions": 2, "on_time": 1, "late": 1, "late_s": 600.0, "early": 0, "early_s": 0.0, "absent": 0, "covered": 0},
        "w3": {"sessions": 2, "on_time": 0, "late": 0, "late_s": 0.0, "early": 0, "early_s": 0.0, "absent": 2, "covered": 0},
    }
    clerks = {r["key"]: figures(r, *F, "alerts") for r in report["clerks"]}
    zero = dict.fromkeys(F, 0) | {"alerts": 0}
    assert clerks == {
        "w1a": zero | {"sessions": 2, "late": 1, "late_s": 900.0},
        "w1b": zero | {"early": 1, "early_s": 600.0, "covered": 2, "alerts": 1},
        "w2a": zero | {"sessions": 2, "on_time": 1, "late": 1, "late_s": 600.0},
        "w3a": zero | {"sessions": 2, "absent": 2, "alerts": 1},
    }
    total = {"sessions": 6, "on_time": 1, "late": 2, "late_s": 1500.0, "early": 1, "early_s": 600.0, "absent": 2, "covered": 2}
    assert figures(report["total"], *F) == total
    assert report["total"]["on_time_rate"] == round(1 / 6, 4)
    assert [figures(r, "key", *F) for r in report["days"]] == [{"key": "2026-11-25", **total}]
    assert [(s["window"], s["session"], s["late_s"], s["early_s"], s["absent"], s["on_duty"]) for s in report["sessions"]] == [
        ("w1", "08:30-12:00", 0.0, 600.0, False, ["张一", "李一"]),
        ("w1", "13:30-17:30", 900.0, 0.0, False, ["李一"]),
        ("w2", "08:30-12:00", 600.0, 0.0, False, ["王二"]),
        ("w3", "08:30-12:00", 0.0, 0.0, True, []),
        ("w3", "13:30-17:30", 0.0, 0.0, True, []),
    ]
    w1_morning = report["sessions"][0]
    assert (w1_morning["opened_at"], w1_morning["closed_at"], w1_morning["closed_by"]) == ("08:32:00", "11:50:00", "李一")


@pytest.mark.asyncio
async def test_attendance_of_a_scripted_day_checked_by_hand(tmp_path):
    clock = FakeClock(DAY.replace(hour=8))
    async with scripted_hall("sqlite", tmp_path, clock) as (service, stats):
        await play(service, clock)
        at(clock, 12, 10)  # only the morning is over: its sessions count, the afternoon's not yet
        morning = await attendance(stats.journal, service, DAY.date(), DAY.date())
        assert morning["total"]["sessions"] == 3 and morning["total"]["absent"] == 1
        at(clock, 18, 0)  # today, the day over
        check(await attendance(stats.journal, service, DAY.date(), DAY.date()))
        clock.t = DAY + timedelta(days=1, hours=9)  # the next morning: a closed day, read again
        report = await attendance(stats.journal, service, DAY.date() - timedelta(days=3), DAY.date())
        check(report)  # the days before the hall's first journalled day are not counted
        assert report["from"] == "2026-11-22"
