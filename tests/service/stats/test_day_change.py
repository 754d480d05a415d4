"""Statistics of a day the day change closed out: the same figures as before it, and no ticket lost."""

from __future__ import annotations

from datetime import timedelta

from server.domain import commands as c
from server.domain import dayend
from server.domain import events as ev
from server.domain.apply import apply
from server.stats.facts import facts_of_day
from server.stats.rollup import day_groups, summary
from tests.halls import Engine, FakeClock, small_catalog

CATALOG = small_catalog(enforce_hours=False)


def day_left_open() -> Engine:
    """w1 serves one ticket and stays open (the clerk forgot to close it), w2 serves one past
    17:00 and is still at it at midnight, one ticket waits, one was called at w3 and never came."""
    e = Engine(CATALOG, FakeClock())
    for w in ("w1", "w2", "w3"):
        e.act(c.OpenWindow, w)
    e.issue("a1")
    e.call_next("w1")
    e.act(c.StartService, "w1")
    e.clock.advance(600)
    e.act(c.FinishService, "w1", case_type="immediate")
    e.issue("b1")
    e.issue("b1")
    e.issue("a1")
    e.call_next("w2")
    e.act(c.StartService, "w2")
    e.clock.advance(300)
    e.call_next("w3")
    e.clock.t = e.clock.t.replace(hour=17, minute=30)
    e.issue("a1")  # the day's last activity
    return e


def facts(events: list[ev.Event], day):  # type: ignore[no-untyped-def]
    return facts_of_day(CATALOG, day, [(n, ev.to_dict(x)) for n, x in enumerate(events, start=1)])


def test_a_closed_out_day_counts_as_it_did_and_its_open_tickets_as_unfinished():
    e = day_left_open()
    before = facts(e.log, e.state.day)
    e.clock.t = dayend.day_end(e.state.day, CATALOG) + timedelta(hours=8)  # noticed after a restart
    closing = e.do(c.CloseOutDay(by="system"))
    after = facts(e.log, e.state.day)

    assert after.window_hours == before.window_hours  # no window grows open till midnight
    statuses = {t.number: (t.status, round(t.service_s)) for t in after.tickets}
    assert statuses == {"A001": ("done", 600), "C001": ("closed_out", 30000), "C002": ("closed_out", 0),
                        "A002": ("closed_out", 0), "A003": ("closed_out", 0)}
    groups, old = day_groups(after, CATALOG), day_groups(before, CATALOG)
    total, was = summary("day", "x", groups["day"][e.state.day.isoformat()]), summary("day", "x", old["day"][e.state.day.isoformat()])
    assert (total["served"], total["no_show"], total["unfinished"], total["issued"]) == (1, 0, 4, 5)
    assert {k: v for k, v in total.items() if k != "key"} == {k: v for k, v in was.items() if k != "key"}

    # The service that ran over midnight is finished late: served, at its window; no window time grows.
    (late,) = dayend.finish_late(e.state, CATALOG, c.FinishService(by="w2a", window="w2", case_type="promised"), e.clock.t)
    apply(e.state, late)
    finished = facts([*e.log, late], e.state.day)
    total = summary("day", "x", day_groups(finished, CATALOG)["day"][e.state.day.isoformat()])
    assert (total["served"], total["unfinished"], total["case_types"]["promised"]) == (2, 3, 1)
    assert finished.window_hours == before.window_hours
    assert len(closing) == 4 + 3 + 1
