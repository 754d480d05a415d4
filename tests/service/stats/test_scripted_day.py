"""Statistics of the scripted day (tests/service/stats/scripted.py) against figures worked out by hand.

The engine is the real one (HallService on a SQLite file, injected clock); the expected
values below are computed in the comments from the script's timeline, not by the code.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import delete, select

from server.stats import store
from server.stats.facts import facts_of_day
from tests.halls import FakeClock
from tests.service.stats.scripted import END_S, START, play, scripted_hall

DAY = START.date()


def dist(count: int, mean: float | None, p50: float | None, p90: float | None, mx: float | None) -> dict:
    return {"count": count, "mean_s": mean, "p50_s": p50, "p90_s": p90, "max_s": mx}


NONE = dist(0, None, None, None, None)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def hall(request, tmp_path):  # type: ignore[no-untyped-def]
    """The scripted day played on a real journal: a SQLite file, or PostgreSQL (a fresh hall id
    each time, so a shared server needs no cleaning)."""
    clock = FakeClock(START)
    async with scripted_hall(request.param, tmp_path, clock) as (service, stats):
        ids = await play(service, clock)
        yield service, stats, clock, ids


def rows_by_key(answer: dict) -> dict[str, dict]:
    return {r["key"]: r for r in answer["rows"]}


async def test_windows_figures_match_the_hand_count(hall):
    service, stats, clock, _ = hall
    answer = await stats.query(service.hall, DAY, DAY, "window")
    assert [r["key"] for r in answer["rows"]] == ["w1", "w2", "w3"]  # every window, even an empty one
    w1, w2, w3 = (rows_by_key(answer)[k] for k in ("w1", "w2", "w3"))

    # w1 first called T1 (waited 120 s), T2 (420), T4 (60): sorted 60, 120, 420.
    assert w1["called"] == 3
    assert w1["wait"] == dist(3, 200.0, 120.0, 420.0, 420.0)
    # w1 finished T1 (300 s), T4 (210), T2 (60 + 120 = 180, the suspension stops the clock),
    # T5 (60 at w2 before the transfer + 300 at w1 = 360): sorted 180, 210, 300, 360.
    assert w1["served"] == 4
    assert w1["service"] == dist(4, 262.5, 210.0, 360.0, 360.0)
    assert (w1["no_show"], w1["no_show_rate"], w1["transferred"], w1["issued"]) == (0, 0.0, 0, None)
    assert w1["satisfaction"] == {
        "rated": 2, "rated_rate": 0.5, "scores": {"1": 0, "2": 1, "3": 0, "4": 0, "5": 1},
        "good_rate": 0.5, "bad": 1, "mean_score": 3.5,
    }
    assert w1["case_types"] == {"immediate": 3, "promised": 1, "joint": 0, "escalated": 0}
    assert w1["outcomes"] == {"completed": 3, "one_time_notice": 1, "not_accepted": 0, "consultation": 0}
    # w1 was open 0-1800. Idle 0-120 (T1 waiting), 450-480 (T2), 600-660 (T4), 900-960 (T5,
    # back in a1 since 700), 1110-1200 (T5) = 360 s with someone waiting, plus 1530-1800 alone.
    # Calling 120-150, 480-540, 660-690, 960-990, 1200-1230 = 180; serving 300+60+210+120+300.
    assert w1["window_time"] == {
        "open_s": 1800.0, "idle_s": 630.0, "calling_s": 180.0, "serving_s": 990.0, "paused_s": 0.0, "idle_waiting_s": 360.0,
    }

    # w2 first called T3 (waited 450 - 120 = 330 s) and T5 (20 s); T3 a no-show, T5 transferred out.
    assert (w2["called"], w2["served"], w2["no_show"], w2["no_show_rate"], w2["transferred"]) == (2, 0, 1, 1.0, 1)
    assert w2["wait"] == dist(2, 175.0, 20.0, 330.0, 330.0)
    assert w2["service"] == NONE
    # w2 open 0-1500: idle 0-120 alone, 120-450 with T3 waiting, 570-600 alone, 600-620 with T5,
    # 700-800 and 1100-1500 alone; calling 450-570 (the recall changes nothing) and 620-640;
    # serving 640-700; paused 800-1100.
    assert w2["window_time"] == {
        "open_s": 1500.0, "idle_s": 1000.0, "calling_s": 140.0, "serving_s": 60.0, "paused_s": 300.0, "idle_waiting_s": 350.0,
    }
    assert w2["satisfaction"]["rated"] == 0 and w2["satisfaction"]["good_rate"] is None

    assert (w3["called"], w3["served"], w3["wait"], w3["window_time"]["open_s"]) == (0, 0, NONE, 0.0)


async def test_items_and_departments_match_the_hand_count(hall):
    service, stats, clock, _ = hall
    items = rows_by_key(await stats.query(service.hall, DAY, DAY, "item"))
    a1, a2, b1, c1 = (items[k] for k in ("a1", "a2", "b1", "c1"))
    # a1: issued T1, T2 (T5 was issued for b1); waits 120, 420; finished T1, T2 and T5 (now a1).
    assert (a1["issued"], a1["called"], a1["served"], a1["transferred"]) == (2, 2, 3, 0)
    assert a1["wait"] == dist(2, 270.0, 120.0, 420.0, 420.0)
    assert a1["service"] == dist(3, 280.0, 300.0, 360.0, 360.0)  # 180, 300, 360
    assert a1["outcomes"]["one_time_notice"] == 1 and a1["window_time"] is None
    assert (a2["issued"], a2["served"], a2["wait"], a2["service"]) == (1, 1, dist(1, 60.0, 60.0, 60.0, 60.0), dist(1, 210.0, 210.0, 210.0, 210.0))
    assert a2["case_types"]["promised"] == 1
    # b1: T3 (no-show) and T5 (transferred out to a1, counted as b1's transfer).
    assert (b1["issued"], b1["called"], b1["served"], b1["no_show"], b1["transferred"]) == (2, 2, 0, 1, 1)
    assert b1["wait"] == dist(2, 175.0, 20.0, 330.0, 330.0)
    assert (c1["issued"], c1["called"], c1["cancelled"], c1["unfinished"]) == (1, 0, 1, 0)

    depts = rows_by_key(await stats.query(service.hall, DAY, DAY, "department"))
    a = depts["a"]
    assert (a["issued"], a["called"], a["served"]) == (3, 3, 4)
    assert a["wait"] == dist(3, 200.0, 120.0, 420.0, 420.0)  # 60, 120, 420
    assert a["service"] == dist(4, 262.5, 210.0, 360.0, 360.0)
    assert (depts["b"]["issued"], depts["b"]["no_show"], depts["c"]["cancelled"]) == (2, 1, 1)


async def test_clerks_hours_and_the_total_match_the_hand_count(hall):
    service, stats, clock, _ = hall
    clerks = rows_by_key(await stats.query(service.hall, DAY, DAY, "clerk"))
    assert set(clerks) == {"w1a", "w1b", "w2a"}
    assert clerks["w1a"]["name"] == "张一 (S11)"
    assert (clerks["w1a"]["called"], clerks["w1a"]["served"]) == (3, 4)
    # The handover at 1600 splits w1's last idle stretch: w1a 1530-1600, w1b 1600-1800.
    assert clerks["w1a"]["window_time"]["open_s"] == 1600.0 and clerks["w1a"]["window_time"]["idle_s"] == 430.0
    assert clerks["w1b"]["window_time"] == {
        "open_s": 200.0, "idle_s": 200.0, "calling_s": 0.0, "serving_s": 0.0, "paused_s": 0.0, "idle_waiting_s": 0.0,
    }
    assert (clerks["w2a"]["no_show"], clerks["w2a"]["transferred"]) == (1, 1)

    hours = rows_by_key(await stats.query(service.hall, DAY, DAY, "hour"))
    assert list(hours) == ["09", "10"]
    h9, h10 = hours["09"], hours["10"]
    assert h9["name"] == "09:00-10:00"
    # Issued before 10:00 (t < 600): T1, T2, T3, waits 120, 420, 330; from 10:00: T4, T5, T6.
    assert (h9["issued"], h9["called"], h10["issued"], h10["called"]) == (3, 3, 3, 2)
    assert h9["wait"] == dist(3, 290.0, 330.0, 420.0, 420.0)
    assert h10["wait"] == dist(2, 40.0, 20.0, 60.0, 60.0)
    # Finished before 10:00: T1; after: T4, T2, T5. The no-show (570) before, the transfer after.
    assert (h9["served"], h10["served"], h9["no_show"], h10["transferred"], h10["cancelled"]) == (1, 3, 1, 1, 1)
    # w1 in the 09 hour: idle 0-120 and 450-480 (both with someone waiting), calling 120-150 and
    # 480-540, serving 150-450 and 540-600; w2: idle 0-450 (330 waiting) and 570-600, calling 450-570.
    assert h9["window_time"] == {
        "open_s": 1200.0, "idle_s": 630.0, "calling_s": 210.0, "serving_s": 360.0, "paused_s": 0.0, "idle_waiting_s": 480.0,
    }
    assert h10["window_time"]["open_s"] == 2100.0  # w1 600-1800, w2 600-1500

    answer = await stats.query(service.hall, DAY, DAY, "day")
    (day,) = answer["rows"]
    total = answer["total"]
    for row in (day, total):
        assert (row["issued"], row["called"], row["served"], row["no_show"], row["transferred"], row["cancelled"]) == (6, 5, 4, 1, 1, 1)
        assert row["wait"] == dist(5, 190.0, 120.0, 420.0, 420.0)  # 20, 60, 120, 330, 420
        assert row["service"] == dist(4, 262.5, 210.0, 360.0, 360.0)
        assert row["no_show_rate"] == 0.2  # 1 of 5 that ended at a counter
        assert row["window_time"]["open_s"] == 3300.0
    assert day["key"] == "2026-11-25" and total["name"] == "合计"


async def test_ticket_facts_of_the_day(hall):
    service, stats, clock, ids = hall
    events = [(s.seq, s.data) for s in await service.journal.read(service.hall, DAY)]
    facts = {f.ticket: f for f in facts_of_day(service.catalog, DAY, events).tickets}
    t2, t5 = facts[ids["T2"]], facts[ids["T5"]]
    assert (t2.wait_s, t2.service_s, t2.status, t2.outcome, t2.score, t2.comment) == (420.0, 180.0, "done", "one_time_notice", 2, "材料清单不清楚")
    assert (t5.item_issued, t5.item, t5.first_window, t5.window, t5.transfers, t5.service_s) == ("b1", "a1", "w2", "w1", 1, 360.0)
    assert facts[ids["T4"]].deadline.isoformat() == "2026-12-02"  # 5 working days after Wednesday 25th
    assert facts[ids["T3"]].recalls == 1 and facts[ids["T3"]].status == "no_show"


async def test_a_closed_day_from_the_derived_tables_equals_the_live_day(hall):
    service, stats, clock, _ = hall
    live = {by: await stats.query(service.hall, DAY, DAY, by) for by in ("window", "item", "clerk", "hour", "day")}
    clock.t = START + timedelta(days=1, hours=-1)  # Thursday 08:50: the scripted day is closed
    await service.current()
    for by, before in live.items():
        after = await stats.query(service.hall, DAY, DAY + timedelta(days=1), by)
        if by == "day":  # one row per day of the period: Thursday begun, with nothing in it yet
            thursday = after["rows"].pop()
            assert (thursday["key"], thursday["issued"], thursday["served"]) == ((DAY + timedelta(days=1)).isoformat(), 0, 0)
        assert after["rows"] == before["rows"] and after["total"] == before["total"], by
    async with stats.engine.connect() as conn:
        days = store.stat_days
        (row,) = (await conn.execute(select(days).where(days.c.hall == service.hall, days.c.day == DAY))).all()
        n_tickets = len((await conn.execute(select(store.stat_tickets.c.ticket).where(store.stat_tickets.c.hall == service.hall))).all())
    assert (row.version, row.last_seq) == (store.VERSION, await service.journal.last_seq(service.hall, DAY))
    assert n_tickets == 6
    # Derived rows are only a cache of the journal: drop them and the same answer comes back.
    async with stats.engine.begin() as conn:
        for table in (store.stat_days, store.stat_groups, store.stat_tickets):
            await conn.execute(delete(table).where(table.c.hall == service.hall))
    again = await stats.query(service.hall, DAY, DAY, "window")
    assert again["rows"] == live["window"]["rows"]


async def test_open_windows_count_until_now_on_the_current_day(hall):
    service, stats, clock, _ = hall
    from server.domain import commands as c

    await service.handle(c.OpenWindow(by="w2a", window="w2"))
    clock.advance(100)
    w2 = rows_by_key(await stats.query(service.hall, DAY, DAY, "window"))["w2"]
    assert w2["window_time"]["open_s"] == 1600.0 and w2["window_time"]["idle_s"] == 1100.0
    assert END_S == 1800
