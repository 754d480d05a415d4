"""Statistics by day (Stats.query on a real SQLite journal): one row per calendar day of the period
that has begun, the closed days from the derived tables and today from its events, in order."""

from __future__ import annotations

from datetime import timedelta

from server.domain import commands as c
from tests.halls import FakeClock
from tests.service.stats.scripted import START, play, scripted_hall

WED = START.date()


async def test_every_day_of_the_period_has_a_row_and_the_days_add_up_to_the_total(tmp_path):
    clock = FakeClock(START)
    async with scripted_hall("sqlite", tmp_path, clock) as (service, stats):
        await play(service, clock)  # Wednesday: six tickets, four served
        clock.t = START + timedelta(days=5)  # Monday 09:50; nothing on Thursday, nor the weekend
        await service.current()
        await service.handle(c.IssueTicket(by="kiosk", ticket="id-monday", item="b1"))
        answer = await stats.query(service.hall, WED - timedelta(days=1), WED + timedelta(days=9), "day")
        days = [(WED + timedelta(days=n)).isoformat() for n in range(-1, 6)]  # Tuesday to Monday (today)
        assert [r["key"] for r in answer["rows"]] == days and [r["name"] for r in answer["rows"]] == days
        assert [r["issued"] for r in answer["rows"]] == [0, 6, 0, 0, 0, 0, 1]
        assert [r["served"] for r in answer["rows"]] == [0, 4, 0, 0, 0, 0, 0]
        assert answer["total"]["issued"] == sum(r["issued"] for r in answer["rows"]) == 7
        # A closed day reads the same alone as within the period.
        alone = await stats.query(service.hall, WED, WED, "day")
        assert alone["rows"] == [answer["rows"][1]]
        # A period that has not begun has no day yet; a past one every day of it.
        assert (await stats.query(service.hall, WED + timedelta(days=7), WED + timedelta(days=8), "day"))["rows"] == []
        past = await stats.query(service.hall, WED + timedelta(days=1), WED + timedelta(days=3), "day")
        assert [(r["key"], r["issued"], r["wait"]["count"]) for r in past["rows"]] == [
            ("2026-11-26", 0, 0), ("2026-11-27", 0, 0), ("2026-11-28", 0, 0)]
