"""Statistics of the busy scripted day (tests/service/stats/scripted_busy.py) and of the two-day period
it makes with the first scripted day, against figures worked out by hand in the comments.

Percentiles are nearest rank (README, Definitions): of n sorted values, pN is the value at rank
ceil(N/100 × n). With 12 values p50 is the 6th and p90 the 11th (not the max, the 12th); with
15 values the 8th and the 14th; with 16 the 8th and the 15th; with 19 the 10th and the 18th.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from server.hall import HallService
from server.stats.service import Stats
from tests.halls import FakeClock
from tests.service.stats.scripted import START, play, scripted_hall
from tests.service.stats.scripted_busy import BUSY_START, play_busy

WED = START.date()
THU = BUSY_START.date()


def dist(count: int, mean: float | None, p50: float | None, p90: float | None, mx: float | None) -> dict:
    return {"count": count, "mean_s": mean, "p50_s": p50, "p90_s": p90, "max_s": mx}


def wt(open_s: float, idle: float, calling: float, serving: float, paused: float, idle_waiting: float) -> dict:
    return {"open_s": open_s, "idle_s": idle, "calling_s": calling, "serving_s": serving, "paused_s": paused, "idle_waiting_s": idle_waiting}


def alerts(warning: int = 0, yellow: int = 0, red: int = 0) -> dict:
    return {"total": warning + yellow + red, "warning": warning, "yellow": yellow, "red": red}


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def days(request, tmp_path):  # type: ignore[no-untyped-def]
    """Wednesday's scripted day, then Thursday's busy one, on one real journal; the clock stays
    at Thursday 10:30, so Wednesday is a closed day (derived tables) and Thursday the live one."""
    clock = FakeClock(START)
    async with scripted_hall(request.param, tmp_path, clock) as (service, stats):
        await play(service, clock)
        ids = await play_busy(service, stats, clock)
        yield service, stats, clock, ids


async def by(stats: Stats, service: HallService, dim: str, start=THU, end=THU) -> dict[str, dict]:  # type: ignore[no-untyped-def]
    answer = await stats.query(service.hall, start, end, dim)
    return {**{r["key"]: r for r in answer["rows"]}, "total": answer["total"]}


async def test_twelve_waits_and_services_have_a_p90_below_the_max(days):
    service, stats, _, _ = days
    # Waits of N01…N12 (issued at 0, called at): 60, 360, 420, 1020, 1140, 1560, 1740, 2640,
    # 2880, 3420, 3780, 4260; sum 23280, mean 1940; p50 = 6th = 1560; p90 = 11th = 3780.
    # Services sorted: 60, 120, 180, 240, 300, 360, 420, 480, 540, 600, 720, 900; sum 4920,
    # mean 410; p50 = 6th = 360; p90 = 11th = 720.
    waits, services = dist(12, 1940.0, 1560.0, 3780.0, 4260.0), dist(12, 410.0, 360.0, 720.0, 900.0)
    for dim, key in (("window", "w1"), ("clerk", "w1a"), ("item", "a1"), ("department", "a")):
        row = (await by(stats, service, dim))[key]
        assert (row["called"], row["served"], row["wait"], row["service"]) == (12, 12, waits, services), dim
    # Hour 09 holds every wait of the day (all issued before 10:00): the twelve and P1's 30,
    # P2's 100 → 30, 60, 100, 360, 420, 1020, 1140, 1560, 1740, 2640, 2880, 3420, 3780, 4260;
    # sum 23410, mean 1672.1; p50 = 7th = 1140; p90 = ceil(12.6) = 13th = 3780.
    h9 = (await by(stats, service, "hour"))["09"]
    assert h9["wait"] == dist(14, 1672.1, 1140.0, 3780.0, 4260.0)


async def test_satisfaction_counts_scores_three_to_five_as_good(days):
    service, stats, _, _ = days
    # N01…N05 were rated 5, 4, 3, 2, 1, all finished before 10:00 at w1 by w1a, items a1.
    # good = scores 3-5 = 3 of 5 (counting 4-5 would give 0.4, only 5 would give 0.2).
    five = {
        "rated": 5, "rated_rate": 0.4167, "scores": {"1": 1, "2": 1, "3": 1, "4": 1, "5": 1},
        "good_rate": 0.6, "bad": 2, "mean_score": 3.0,
    }
    windows, items, depts, clerks, hours, day = [
        await by(stats, service, d) for d in ("window", "item", "department", "clerk", "hour", "day")
    ]
    assert windows["w1"]["satisfaction"] == five  # 5 of 12 served rated
    assert clerks["w1a"]["satisfaction"] == five
    assert items["a1"]["satisfaction"] == five
    assert depts["a"]["satisfaction"] == five
    # The day served 14 (12 at w1, P1 at w2, P2 at w3): rated 5 of 14.
    whole = {**five, "rated_rate": 0.3571}
    assert hours["09"]["satisfaction"] == {**five, "rated_rate": round(5 / 11, 4)}  # 11 finished before 10:00
    assert hours["10"]["satisfaction"]["rated"] == 0
    assert day[THU.isoformat()]["satisfaction"] == whole and day["total"]["satisfaction"] == whole
    assert windows["w2"]["satisfaction"]["good_rate"] is None


async def test_case_types_outcomes_requeues_and_unfinished_are_counted_where_they_belong(days):
    service, stats, _, _ = days
    windows, items = await by(stats, service, "window"), await by(stats, service, "item")
    w1, w2, w3 = windows["w1"], windows["w2"], windows["w3"]
    assert w1["case_types"] == {"immediate": 10, "promised": 0, "joint": 1, "escalated": 1}
    assert w1["outcomes"] == {"completed": 10, "one_time_notice": 0, "not_accepted": 1, "consultation": 1}
    # P1: called at w2 (30 s), a no-show re-queued (not a no-show), called again and served 300 s.
    # P2: called at w2 (100 s), served 60 s there, transferred to window w3, served 300 s more.
    assert (w2["called"], w2["served"], w2["no_show"], w2["requeued"], w2["transferred"]) == (2, 1, 0, 1, 1)
    assert w2["wait"] == dist(2, 65.0, 30.0, 100.0, 100.0)
    assert w2["service"] == dist(1, 300.0, 300.0, 300.0, 300.0)
    assert (w3["called"], w3["served"], w3["service"]) == (0, 1, dist(1, 360.0, 360.0, 360.0, 360.0))
    b1 = items["b1"]
    assert (b1["issued"], b1["called"], b1["served"], b1["requeued"], b1["transferred"], b1["no_show"]) == (2, 2, 2, 1, 1, 0)
    assert b1["service"] == dist(2, 330.0, 300.0, 360.0, 360.0)
    assert (items["c1"]["issued"], items["c1"]["unfinished"], items["c1"]["called"]) == (1, 1, 0)
    clerks = await by(stats, service, "clerk")
    assert (clerks["w2a"]["requeued"], clerks["w2a"]["wait"], clerks["w2a"]["service"]) == (1, w2["wait"], w2["service"])
    assert clerks["w3a"]["service"] == w3["service"] and clerks["w3a"]["wait"]["count"] == 0
    total = (await by(stats, service, "day"))["total"]
    assert (total["issued"], total["called"], total["served"], total["requeued"], total["unfinished"]) == (15, 14, 14, 1, 1)


async def test_window_time_by_hour_day_and_clerk_and_idle_while_a_pinned_ticket_waits(days):
    service, stats, _, _ = days
    windows = await by(stats, service, "window")
    # w1 0-5400: idle 0-60 with N01… waiting, serving 60-4980 without a break, idle 4980-5400 alone.
    assert windows["w1"]["window_time"] == wt(5400, 480, 0, 4920, 0, 60)
    # w2 0-4800: idle 0-30 (P1 waiting), calling 30-60, idle 60-90 (P1 re-queued), serving
    # 90-390, idle 390-400 alone, 400-500 with P2, calling 500-520, serving 520-580, idle
    # 580-3000 alone, paused 3000-4200, idle 4200-4800 alone.
    # idle 30 + 30 + 10 + 100 + 2420 + 600 = 3190; waiting 30 + 30 + 100 = 160.
    w2 = wt(4800, 3190, 50, 360, 1200, 160)
    assert windows["w2"]["window_time"] == w2
    # w3 600-1500: idle 600-900 while P2, pinned to it by the transfer, waits (nobody else waits
    # for a2, b1 or c1), serving 900-1200, idle 1200-1500 alone.
    assert windows["w3"]["window_time"] == wt(900, 600, 0, 300, 0, 300)
    clerks = await by(stats, service, "clerk")
    assert clerks["w2a"]["window_time"] == w2 and clerks["w3a"]["window_time"] == windows["w3"]["window_time"]

    hours = await by(stats, service, "hour")
    # 09: w1 open 3600 (idle 60 waiting, serving 3540); w2 open 3600 (idle 30+30+10+100+2420 =
    # 2590, calling 50, serving 360, paused 3000-3600 = 600, waiting 160); w3 as a whole.
    assert hours["09"]["window_time"] == wt(8100, 3250, 50, 4200, 600, 520)
    # 10: w1 3600-5400 (serving 3600-4980 = 1380, idle 420); w2 3600-4800 (paused 600, idle 600).
    assert hours["10"]["window_time"] == wt(3000, 1020, 0, 1380, 600, 0)
    day = (await by(stats, service, "day"))[THU.isoformat()]
    assert day["window_time"] == wt(11100, 4270, 50, 5580, 1200, 520)


async def test_alerts_count_once_at_their_highest_level(days):
    service, stats, _, _ = days
    # Sweeps at 1200, 1800, 2700, 3900. At 1200 N06…N12 wait 1200 s (warning); at 1800 N08…N12
    # wait 1800 (yellow; N06, N07 were called); at 2700 N09…N12 wait 2700 (red); at 3900 w2 has
    # been paused 900 s (unattended, warning). Wednesday's bad review of T2 (w1, a1), never
    # verified, is due Thursday: a review warning at the first sweep. So a1 has N06, N07 and the
    # review at warning, N08 at yellow, N09…N12 at red: 7 wait alerts, not 7 + 5 + 4 raisings.
    items, windows, hours = await by(stats, service, "item"), await by(stats, service, "window"), await by(stats, service, "hour")
    assert items["a1"]["alerts"] == alerts(warning=3, yellow=1, red=4)
    assert windows["w1"]["alerts"] == alerts(warning=1)  # the review; waits belong to no window
    assert windows["w2"]["alerts"] == alerts(warning=1)  # unattended
    assert hours["09"]["alerts"] == alerts(warning=3, yellow=1, red=4)  # hour first raised
    assert hours["10"]["alerts"] == alerts(warning=1)
    assert (await by(stats, service, "day"))["total"]["alerts"] == alerts(warning=4, yellow=1, red=4)


async def test_a_period_of_two_days_combines_their_figures(days):
    service, stats, clock, _ = days
    windows = await by(stats, service, "window", WED, THU)
    w1 = windows["w1"]
    # w1's first calls: Wednesday 60, 120, 420 and Thursday's twelve → 15 waits, sorted
    # 60, 60, 120, 360, 420, 420, 1020, 1140, 1560, 1740, 2640, 2880, 3420, 3780, 4260;
    # sum 600 + 23280 = 23880, mean 1592; p50 = ceil(7.5) = 8th = 1140; p90 = ceil(13.5) = 14th = 3780.
    assert w1["wait"] == dist(15, 1592.0, 1140.0, 3780.0, 4260.0)
    # Services: Wednesday 180, 210, 300, 360 and Thursday's twelve → 16, sorted 60, 120, 180,
    # 180, 210, 240, 300, 300, 360, 360, 420, 480, 540, 600, 720, 900; sum 1050 + 4920 = 5970,
    # mean 373.125 (shown 373.1); p50 = 8th = 300; p90 = ceil(14.4) = 15th = 720.
    assert w1["service"] == dist(16, 373.1, 300.0, 720.0, 900.0)
    # Scores: Wednesday 5, 2; Thursday 5, 4, 3, 2, 1 → 7 rated of 16 served, good 4 (3-5), bad 3,
    # mean 22 / 7 = 3.14.
    assert w1["satisfaction"] == {
        "rated": 7, "rated_rate": 0.4375, "scores": {"1": 1, "2": 2, "3": 1, "4": 1, "5": 2},
        "good_rate": 0.5714, "bad": 3, "mean_score": 3.14,
    }
    assert w1["window_time"] == wt(7200, 1110, 180, 5910, 0, 420)  # Wednesday's + Thursday's
    assert (w1["served"], w1["called"]) == (16, 15)
    total = windows["total"]
    # All first calls: Wednesday 20, 60, 120, 330, 420 and Thursday's 14 → 19, sorted 20, 30, 60,
    # 60, 100, 120, 330, 360, 420, 420, 1020, …, 3780, 4260; sum 950 + 23410 = 24360, mean
    # 1282.1; p50 = ceil(9.5) = 10th = 420; p90 = ceil(17.1) = 18th = 3780.
    assert total["wait"] == dist(19, 1282.1, 420.0, 3780.0, 4260.0)
    assert (total["issued"], total["served"], total["no_show"], total["no_show_rate"], total["requeued"]) == (21, 18, 1, 0.0526, 1)
    assert (total["transferred"], total["cancelled"], total["unfinished"]) == (2, 1, 1)
    # The same answer once Thursday is closed too (both days from the derived tables).
    clock.t = BUSY_START + timedelta(days=1)
    await service.current()
    assert await by(stats, service, "window", WED, THU) == windows
