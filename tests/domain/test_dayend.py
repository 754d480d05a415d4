"""The day change's rules, decided by hand on the pure core (server/domain/dayend.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from server.domain import commands as c
from server.domain.apply import apply
from server.domain import dayend
from server.domain import events as ev
from server.domain.errors import Conflict
from server.domain.model import HallDay, TicketStatus, WindowStatus
from tests.halls import Engine, FakeClock, small_catalog

CATALOG = small_catalog(enforce_hours=False)


def evening() -> Engine:
    e = Engine(CATALOG, FakeClock())
    e.act(c.OpenWindow, "w1")
    e.issue("a1")
    e.call_next("w1")
    e.act(c.StartService, "w1")
    e.issue("a1")
    return e


def test_a_day_is_not_closed_out_before_it_ends():
    e = evening()
    e.clock.t = dayend.day_end(e.state.day, CATALOG) - timedelta(seconds=1)
    with pytest.raises(Conflict) as refused:
        e.do(c.CloseOutDay(by="system"))
    assert refused.value.code == "day-not-over"


def test_a_closed_day_takes_no_new_ticket_call_or_window_action():
    e = evening()
    e.clock.t = dayend.day_end(e.state.day, CATALOG) + timedelta(seconds=3)
    events = e.do(c.CloseOutDay(by="system"))
    assert [type(x).__name__ for x in events] == ["TicketClosedOut", "TicketClosedOut", "WindowClosed", "DayClosedOut"]
    assert events[-1].recorded_at == e.clock.t and all(x.at == dayend.day_end(e.state.day, CATALOG) for x in events)
    for command in (c.IssueTicket(by="kiosk", ticket="late", item="a1"), c.OpenWindow(by="w1a", window="w1"),
                    c.CallNext(by="w1a", window="w1"), c.FinishService(by="w1a", window="w1", case_type="immediate")):
        with pytest.raises(Conflict) as refused:
            e.do(command)
        assert refused.value.code == "day-closed"
    assert e.do(c.CloseOutDay(by="system")) == []


def test_windows_carry_over_only_to_the_next_day_soon_after_midnight_and_once():
    old = evening()
    end = dayend.day_end(old.state.day, CATALOG)
    carry = c.CarryOverWindows(by="system", from_day=old.state.day, windows=(("w1", "w1a"),))
    new_day = HallDay("t", old.state.day + timedelta(days=1))
    assert dayend.carry_over(new_day, CATALOG, carry, end + timedelta(seconds=dayend.CARRY_OVER_S + 1)) == []
    later = HallDay("t", old.state.day + timedelta(days=2))
    assert dayend.carry_over(later, CATALOG, carry, end + timedelta(seconds=60)) == []
    (opened,) = dayend.carry_over(new_day, CATALOG, carry, end + timedelta(seconds=60))
    assert isinstance(opened, ev.WindowOpened) and (opened.window, opened.clerk, opened.carried_from) == ("w1", "w1a", old.state.day)
    apply(new_day, opened)
    assert new_day.window("w1").status is WindowStatus.idle
    assert dayend.carry_over(new_day, CATALOG, carry, end + timedelta(seconds=61)) == []


def test_only_the_service_under_way_at_midnight_is_finished_late_and_once():
    e = evening()
    served = e.state.window("w1").ticket
    e.clock.t = dayend.day_end(e.state.day, CATALOG) + timedelta(minutes=5)
    e.do(c.CloseOutDay(by="system"))
    today = HallDay("t", e.state.day + timedelta(days=1))
    assert dayend.overnight_case(e.state, today, "w1").id == served
    assert dayend.overnight_case(e.state, today, "w2") is None
    (late,) = dayend.finish_late(e.state, CATALOG, c.FinishService(by="w1b", window="w1", case_type="joint"), e.clock.t)
    apply(e.state, late)
    t = e.state.tickets[served]
    assert (t.status, t.case_type, t.closed_out_from) == (TicketStatus.done, "joint", "serving")
    assert dayend.overnight_case(e.state, today, "w1") is None
    with pytest.raises(Conflict):
        dayend.finish_late(e.state, CATALOG, c.FinishService(by="w1b", window="w1", case_type="joint"), e.clock.t)
