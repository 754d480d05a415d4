"""A second scripted hall-day, busier, on the small hall (tests/halls.py): every figure by hand.

Thursday 2026-11-26, times in seconds after 09:00:00 (hall time); the day crosses 10:00 at 3600.
It is played after the first scripted day (tests/service/stats/scripted.py, Wednesday) on the same
journal, so the two make a period of two days.

Twelve a1 tickets N01…N12 are issued at 0 and served one after another at w1 (w1a), each
called and started at once; the service times are chosen so that p50, p90 and max differ:

  ticket  called=started  service  finished  case type   outcome        score
  N01        60            300        360    immediate  completed        5
  N02       360             60        420    immediate  completed        4
  N03       420            600       1020    joint      completed        3
  N04      1020            120       1140    escalated  completed        2
  N05      1140            420       1560    immediate  not_accepted     1
  N06      1560            180       1740    immediate  consultation
  N07      1740            900       2640    immediate  completed
  N08      2640            240       2880    immediate  completed
  N09      2880            540       3420    immediate  completed
  N10      3420            360       3780    immediate  completed
  N11      3780            480       4260    immediate  completed
  N12      4260            720       4980    immediate  completed
  w1 closes at 5400.

w2 (w2a), opened at 0:
  P1 b1  issued 0, called 30, no-show re-queued 60, called 90, started 90, finished 390 immediate
  P2 b1  issued 400, called 500, started 520, transferred to window w3 at 580 (pinned to w3)
  w2 paused 3000-4200 (09:50-10:10), closes 4800.
w3 (w3a) opens at 600 with nobody waiting for its items but P2 pinned to it; calls and starts
P2 at 900, finishes it at 1200 (immediate), closes at 1500.
  U1 c1  issued 4500, never called (unfinished at the day's end).

The supervisor sweeps at 1200, 1800, 2700 and 3900 (alerts: see the test).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from server.stats.supervisor import Supervisor
from server.domain import commands as c
from server.hall import HallService
from server.stats.service import Stats
from tests.halls import TZ, FakeClock

BUSY_START = datetime(2026, 11, 26, 9, 0, tzinfo=TZ)
BUSY_END_S = 5400
# (service seconds, case type, outcome, score) of N01…N12, in the order w1 serves them.
N_TICKETS = (
    (300, "immediate", "completed", 5),
    (60, "immediate", "completed", 4),
    (600, "joint", "completed", 3),
    (120, "escalated", "completed", 2),
    (420, "immediate", "not_accepted", 1),
    (180, "immediate", "consultation", None),
    (900, "immediate", "completed", None),
    (240, "immediate", "completed", None),
    (540, "immediate", "completed", None),
    (360, "immediate", "completed", None),
    (480, "immediate", "completed", None),
    (720, "immediate", "completed", None),
)


async def play_busy(service: HallService, stats: Stats, clock: FakeClock) -> dict[str, str]:
    """Drive the service through Thursday; returns the ticket ids by script name."""
    ids: dict[str, str] = {}
    supervisor = Supervisor(service, stats)
    # Every action at its time, in time order (w1's line of tickets interleaves with the rest).
    plan: list[tuple[float, int, object]] = []

    def at(s: float) -> None:
        clock.t = BUSY_START + timedelta(seconds=s)

    async def issue(name: str, item: str) -> None:
        (e,) = await service.handle(c.IssueTicket(by="kiosk", ticket=f"id-{name}", item=item))
        ids[name] = e.ticket

    async def w(window: str, command, **kw) -> list:  # type: ignore[no-untyped-def]
        return await service.handle(command(by=f"{window}a", window=window, **kw))

    def later(s: float, step) -> None:  # type: ignore[no-untyped-def]
        plan.append((s, len(plan), step))

    at(0)
    await service.current()
    await w("w1", c.OpenWindow)
    await w("w2", c.OpenWindow)
    for n in range(1, 13):
        await issue(f"N{n:02d}", "a1")
    await issue("P1", "b1")

    t = 60.0
    for n, (secs, case_type, outcome, score) in enumerate(N_TICKETS, start=1):
        name = f"N{n:02d}"

        async def call(name: str = name) -> None:
            await w("w1", c.CallTicket, ticket=ids[name])
            await w("w1", c.StartService)

        async def finish(name: str = name, case_type: str = case_type, outcome: str = outcome, score: int | None = score) -> None:
            await w("w1", c.FinishService, case_type=case_type, outcome=outcome)
            if score is not None:
                await service.handle(c.Evaluate(by="evaluator", ticket=ids[name], score=score, comment="等候太久" if score <= 2 else ""))

        later(t, call)
        t += secs
        later(t, finish)
    assert t == 4980
    later(5400, lambda: w("w1", c.CloseWindow))

    later(30, lambda: w("w2", c.CallTicket, ticket=ids["P1"]))
    later(60, lambda: w("w2", c.NoShow, requeue=True))
    later(90, lambda: w("w2", c.CallTicket, ticket=ids["P1"]))
    later(90, lambda: w("w2", c.StartService))
    later(390, lambda: w("w2", c.FinishService, case_type="immediate"))
    later(400, lambda: issue("P2", "b1"))
    later(500, lambda: w("w2", c.CallTicket, ticket=ids["P2"]))
    later(520, lambda: w("w2", c.StartService))
    later(580, lambda: w("w2", c.Transfer, to_window="w3"))
    later(3000, lambda: w("w2", c.Pause, reason="会议"))
    later(4200, lambda: w("w2", c.Resume))
    later(4800, lambda: w("w2", c.CloseWindow))

    later(600, lambda: w("w3", c.OpenWindow))
    later(900, lambda: w("w3", c.CallTicket, ticket=ids["P2"]))
    later(900, lambda: w("w3", c.StartService))
    later(1200, lambda: w("w3", c.FinishService, case_type="immediate"))
    later(1500, lambda: w("w3", c.CloseWindow))

    later(4500, lambda: issue("U1", "c1"))
    for s in (1200, 1800, 2700, 3900):
        # After the counters' actions of the same second (the plan is sorted by time, then order).
        plan.append((s, 10_000, supervisor.sweep))

    for s, _, step in sorted(plan, key=lambda x: (x[0], x[1])):
        at(s)
        await step()  # type: ignore[operator]
    at(BUSY_END_S)
    return ids
