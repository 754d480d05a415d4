"""电子监察 rules on the pure core: thresholds, escalation, clearing, cases, reviews, suggestions."""

from __future__ import annotations

from datetime import date

import pytest

from server.domain import commands as c
from server.domain import events as ev
from server.domain.catalog import Catalog
from server.domain.errors import Conflict, Invalid
from server.domain.supervision import AlertBoard, case_level, queue_board, review_level, suggestions
from tests.halls import Engine, small_config


def sweep(e: Engine, board: AlertBoard, **kw) -> list[ev.Event]:  # type: ignore[no-untyped-def]
    events = e.do(c.Supervise(by="supervisor", active=board.known(), **kw))
    for x in events:
        board.fold(x)
    return events


def kinds(events: list[ev.Event]) -> list[tuple[str, str, str]]:
    return [(x.type, x.key.split(":")[0], getattr(x, "level", "")) for x in events]


# Empty windows while people wait raise alerts of their own (tested below): out of the way here.
NO_CLOSED_ALERTS = {"closed_s": [36000, 36001, 36002]}
NO_WAIT_ALERTS = {"wait_s": [36000, 36001, 36002], "idle_s": [36000, 36001, 36002]}  # idle: see its own test


def test_a_long_wait_escalates_warning_yellow_red_and_clears_when_called():
    e = Engine(Catalog(small_config(supervision=NO_CLOSED_ALERTS)))
    board = AlertBoard(e.state.day)
    t = e.issue("a1")
    e.clock.advance(1199)
    assert sweep(e, board) == []
    e.clock.advance(1)  # 20 min: the hall's warning
    (raised,) = sweep(e, board)
    assert (raised.kind, raised.level, raised.value, raised.threshold, raised.number, raised.item) == ("wait", "warning", 1200.0, 1200, "A001", "a1")
    assert sweep(e, board) == []  # known already: nothing new
    e.clock.advance(600)
    assert kinds(sweep(e, board)) == [("alert_raised", "wait", "yellow")]
    e.clock.advance(900)
    assert kinds(sweep(e, board)) == [("alert_raised", "wait", "red")]
    assert board.active[f"wait:{t.id}"].level == "red"
    e.act(c.OpenWindow, "w1")
    e.call_next("w1")
    assert kinds(sweep(e, board)) == [("alert_cleared", "wait", "")]
    assert board.active == {}


def test_an_item_has_its_own_thresholds():
    data = small_config().model_dump(mode="json")
    data["items"][0]["alerts"] = {"wait_s": [60, 120, 180]}
    e = Engine(Catalog(type(small_config()).model_validate(data)))
    board = AlertBoard(e.state.day)
    e.issue("a1")
    e.issue("a2")
    e.clock.advance(130)
    assert [(x.item, x.level) for x in sweep(e, board)] == [("a1", "yellow")]  # a2 keeps the hall's 20 min


def test_a_long_service_counts_from_start_minus_suspensions():
    e = Engine()
    board = AlertBoard(e.state.day)
    e.act(c.OpenWindow, "w1")
    e.issue("a1")
    e.call_next("w1")
    e.act(c.StartService, "w1")
    e.clock.advance(1000)
    e.act(c.Suspend, "w1", kind="fetching_materials")
    e.clock.advance(5000)  # away for a long while: not service time
    e.act(c.CallTicket, "w1", ticket="t1")
    e.act(c.StartService, "w1")
    e.clock.advance(199)
    assert sweep(e, board) == []  # 1199 s served: under 2 × 600
    e.clock.advance(1)
    (raised,) = sweep(e, board)
    assert (raised.kind, raised.level, raised.window, raised.threshold) == ("service", "warning", "w1", 1200.0)
    e.act(c.FinishService, "w1", case_type="immediate")
    assert kinds(sweep(e, board)) == [("alert_cleared", "service", "")]


def test_a_window_paused_too_long_is_unattended():
    e = Engine()
    board = AlertBoard(e.state.day)
    e.act(c.OpenWindow, "w2")
    e.act(c.Pause, "w2", reason="离岗")
    e.clock.advance(900)
    assert [(x.key, x.level) for x in sweep(e, board)] == [("unattended:w2", "warning")]
    e.clock.advance(1800)
    assert [(x.key, x.level) for x in sweep(e, board)] == [("unattended:w2", "red")]
    e.act(c.Resume, "w2")
    assert kinds(sweep(e, board)) == [("alert_cleared", "unattended", "")]


def _case(deadline: date) -> c.OpenCase:
    return c.OpenCase(ticket="x", number="B001", item="a2", window="w1", accepted_on=date(2026, 11, 20), deadline=deadline)


@pytest.mark.parametrize(
    ("today", "deadline", "expected"),
    [
        (date(2026, 11, 30), date(2026, 12, 2), (None, 2)),  # Monday, due Wednesday: two working days left
        (date(2026, 12, 1), date(2026, 12, 2), ("warning", 1)),
        (date(2026, 12, 2), date(2026, 12, 2), ("yellow", 0)),  # due today
        (date(2026, 12, 3), date(2026, 12, 2), ("red", -1)),
        (date(2026, 11, 27), date(2026, 11, 30), ("warning", 1)),  # Friday, due Monday: the weekend does not count
        (date(2026, 12, 7), date(2026, 12, 2), ("red", -3)),  # Thursday, Friday, Monday late
    ],
)
def test_a_promised_case_nears_and_passes_its_deadline_in_working_days(today, deadline, expected):
    assert case_level(_case(deadline), today, warning_days=1) == expected


def test_the_supervisor_raises_deadline_alerts_for_open_cases():
    e = Engine()  # Wednesday 2026-11-25
    board = AlertBoard(e.state.day)
    due_today, later = _case(date(2026, 11, 25)), _case(date(2026, 12, 9))
    events = sweep(e, board, cases=(due_today,))
    assert [(x.key, x.level, x.window) for x in events] == [("deadline:x", "yellow", "w1")]
    assert sweep(e, board, cases=(later,)) == [ev.AlertCleared(at=e.clock.now(), by="supervisor", key="deadline:x")]


def _review(status: str, rated_on: date = date(2026, 11, 25)) -> c.OpenReview:
    return c.OpenReview(ticket="r1", number="A009", item="a1", window="w1", rated_on=rated_on, status=status)


def test_a_new_bad_review_is_assigned_to_the_departments_chief():
    data = small_config().model_dump(mode="json")
    data["users"].append({"username": "chief-a", "name": "甲首席", "role": "chief", "department": "a"})
    e = Engine(Catalog(type(small_config()).model_validate(data)))
    (assigned,) = sweep(e, AlertBoard(e.state.day), reviews=(_review("new"),))
    assert (assigned.type, assigned.step, assigned.to, assigned.ticket) == ("review_step_recorded", "assigned", "chief-a", "r1")
    other = Engine()  # no chief for department a: assigned to nobody, the managers answer
    (assigned,) = sweep(other, AlertBoard(other.state.day), reviews=(_review("new"),))
    assert assigned.to is None


def test_review_steps_are_due_in_working_days_and_late_ones_escalate():
    catalog = Engine().catalog  # verify within 1 working day, rectify and call back within 3
    rated = date(2026, 11, 27)  # a Friday
    assert review_level(_review("assigned", rated), catalog, date(2026, 11, 27)) == (None, 0)
    assert review_level(_review("assigned", rated), catalog, date(2026, 11, 30)) == ("warning", 0)  # due Monday
    assert review_level(_review("assigned", rated), catalog, date(2026, 12, 1)) == ("yellow", 1)
    assert review_level(_review("assigned", rated), catalog, date(2026, 12, 2)) == ("red", 2)
    assert review_level(_review("verified", rated), catalog, date(2026, 12, 1)) == (None, 0)  # rectify by Wednesday
    assert review_level(_review("verified", rated), catalog, date(2026, 12, 2)) == ("warning", 0)


def test_the_review_loop_moves_only_forward_and_every_step_says_what_was_done():
    e = Engine()
    with pytest.raises(Conflict):
        e.do(c.RecordReviewStep(by="boss", review=_review("assigned"), step="called_back", note="已回访"))
    with pytest.raises(Invalid):
        e.do(c.RecordReviewStep(by="boss", review=_review("assigned"), step="verified", note="  "))
    (step,) = e.do(c.RecordReviewStep(by="boss", review=_review("assigned"), step="verified", note="查看录像属实"))
    assert (step.step, step.note, step.rated_on) == ("verified", "查看录像属实", date(2026, 11, 25))
    with pytest.raises(Conflict):
        e.do(c.RecordReviewStep(by="boss", review=_review("called_back"), step="rectified", note="x"))


def test_the_board_suggests_opening_closed_windows_for_a_crowded_item():
    e = Engine()
    for _ in range(5):
        e.issue("a2")  # served by w1 (dedicated) and w3 (comprehensive)
    e.act(c.OpenWindow, "w1")
    e.act(c.Pause, "w1", reason="会议")
    e.clock.advance(1199)
    assert suggestions(e.state, e.catalog, e.clock.now()) == []
    e.clock.advance(1)
    (s,) = suggestions(e.state, e.catalog, e.clock.now())
    assert (s["item"], s["over_threshold"], s["waiting"], s["open"]) == ("a2", 5, 5, ["w1", "w3"])  # paused, closed


def test_concluding_a_case_of_today_is_refused():
    e = Engine()
    case = c.OpenCase(ticket="t", number="B001", item="a2", window="w1", accepted_on=e.state.day, deadline=date(2026, 12, 2))
    with pytest.raises(Conflict):
        e.do(c.ConcludeCase(by="boss", case=case))


def test_a_remote_number_counts_on_the_board_and_in_alerts_only_from_its_holders_arrival():
    """One definition (supervision.waiting_since) for the queues, the suggestions and the alerts."""
    data = small_config(supervision={"suggest_after": 1, **NO_CLOSED_ALERTS}).model_dump(mode="json")
    e = Engine(Catalog(type(small_config()).model_validate(data)))
    board = AlertBoard(e.state.day)
    remote = e.issue("a2", remote=True, phone_key="p1")  # 远程取号: its holder is still at home
    e.clock.advance(1300)  # past a2's 20 min warning since issue
    a2 = next(q for q in queue_board(e.state, e.catalog, e.clock.now()) if q["item"] == "a2")
    assert (a2["waiting"], a2["longest_wait_s"], a2["level"]) == (0, 0, None)
    assert suggestions(e.state, e.catalog, e.clock.now()) == [] and sweep(e, board) == []
    e.do(c.ConfirmArrival(by="online", ticket=remote.id))
    e.clock.advance(1199)  # 1199 s in the hall: not yet
    a2 = next(q for q in queue_board(e.state, e.catalog, e.clock.now()) if q["item"] == "a2")
    assert (a2["waiting"], a2["longest_wait_s"], a2["level"]) == (1, 1199, None)
    assert suggestions(e.state, e.catalog, e.clock.now()) == [] and sweep(e, board) == []
    e.clock.advance(1)  # 1200 s since arrival: all three say so at once
    a2 = next(q for q in queue_board(e.state, e.catalog, e.clock.now()) if q["item"] == "a2")
    assert (a2["waiting"], a2["longest_wait_s"], a2["level"]) == (1, 1200, "warning")
    (s,) = suggestions(e.state, e.catalog, e.clock.now())
    assert (s["item"], s["over_threshold"], s["waiting"]) == ("a2", 1, 1)
    assert [(x.kind, x.level, x.value) for x in sweep(e, board)] == [("wait", "warning", 1200.0)]


def test_the_board_suggests_idle_windows_that_could_take_a_crowded_item():
    data = small_config().model_dump(mode="json")
    # w3 (comprehensive) serves a2 only in the afternoon (综合定时办理); the test runs at 09:00.
    data["windows"][2]["scheduled"] = [{"items": ["a2"], "schedule": {"weekdays": [1, 2, 3, 4, 5], "hours": ["13:00-17:00"]}}]
    e = Engine(Catalog(type(small_config()).model_validate(data)))
    for w in ("w1", "w2", "w3"):
        e.act(c.OpenWindow, w)  # all idle; w2 does not serve a2 at all
    for _ in range(5):
        e.issue("a2")
    e.clock.advance(1200)
    (s,) = suggestions(e.state, e.catalog, e.clock.now())
    # w1 serves a2 now and stands idle: it should call; w3 has a2 but not at this hour.
    assert (s["item"], s["open"], s["call"], s["off_schedule"]) == ("a2", [], ["w1"], ["w3"])
    e.act(c.Pause, "w1", reason="会议")  # paused: to be resumed, no longer idle
    (s,) = suggestions(e.state, e.catalog, e.clock.now())
    assert (s["open"], s["call"], s["off_schedule"]) == (["w1"], [], ["w3"])


def test_a_window_closed_in_opening_hours_while_people_wait_for_it_is_unattended():
    e = Engine(Catalog(small_config(supervision={"closed_s": [600, 1200, 1800], **NO_WAIT_ALERTS})))  # Wednesday 09:00
    board = AlertBoard(e.state.day)
    e.act(c.OpenWindow, "w1")
    e.issue("b1")  # served by w2 (dedicated) and w3 (comprehensive), both closed
    e.clock.advance(599)
    assert sweep(e, board) == []
    e.clock.advance(1)
    assert [(x.key, x.kind, x.level, x.value, x.threshold) for x in sweep(e, board)] == [
        ("unattended:w2", "unattended", "warning", 600.0, 600), ("unattended:w3", "unattended", "warning", 600.0, 600),
    ]
    assert "unattended:w1" not in board.active  # w1 is open; nobody waits for a1 or a2 anyway
    e.act(c.OpenWindow, "w2")
    assert [(x.type, x.key) for x in sweep(e, board)] == [("alert_cleared", "unattended:w2")]
    e.clock.advance(600)
    assert [(x.key, x.level) for x in sweep(e, board)] == [("unattended:w3", "yellow")]
    e.call_next("w2")  # nobody waits for w3 any more
    assert [(x.type, x.key) for x in sweep(e, board)] == [("alert_cleared", "unattended:w3")]


def test_a_closed_window_is_not_unattended_outside_opening_hours_or_for_a_short_closure():
    e = Engine(Catalog(small_config(supervision=NO_WAIT_ALERTS)))  # closed_s 15/30/45 min; open 08:30-12:00, 13:30-17:30
    board = AlertBoard(e.state.day)
    e.issue("b1")
    e.act(c.OpenWindow, "w2")
    e.act(c.OpenWindow, "w3")
    e.clock.advance(1200)
    e.act(c.CloseWindow, "w2")  # closed with someone waiting 20 min; w3 still open
    e.clock.advance(899)
    assert [x.key for x in sweep(e, board)] == []  # closed for 899 s only
    e.clock.advance(1)
    assert [(x.key, x.level, x.value) for x in sweep(e, board)] == [("unattended:w2", "warning", 900.0)]
    e.act(c.CloseWindow, "w3")
    e.clock.t = e.clock.t.replace(hour=12, minute=10)  # lunch: the hall is closed
    assert [(x.type, x.key) for x in sweep(e, board)] == [("alert_cleared", "unattended:w2")]


def test_an_item_has_its_own_service_thresholds():
    data = small_config(supervision=NO_CLOSED_ALERTS).model_dump(mode="json")
    data["items"][0]["alerts"] = {"service_s": [300, 600, 900]}  # a1; a2 keeps 2×/3×/4× its 600 s
    e = Engine(Catalog(type(small_config()).model_validate(data)))
    board = AlertBoard(e.state.day)
    e.act(c.OpenWindow, "w1")
    e.act(c.OpenWindow, "w3")
    e.issue("a1")
    e.issue("a2")
    assert e.call_next("w1").item == "a1"
    assert e.call_next("w3").item == "a2"
    e.act(c.StartService, "w1")
    e.act(c.StartService, "w3")
    e.clock.advance(299)
    assert sweep(e, board) == []
    e.clock.advance(1)
    assert [(x.window, x.item, x.level, x.threshold) for x in sweep(e, board)] == [("w1", "a1", "warning", 300)]
    e.clock.advance(600)  # 900 s: a1 red; a2 still under its 1200 s
    assert [(x.window, x.level, x.threshold) for x in sweep(e, board)] == [("w1", "red", 900)]
    e.clock.advance(300)
    assert [(x.window, x.item, x.level, x.threshold) for x in sweep(e, board)] == [("w3", "a2", "warning", 1200.0)]


def test_review_deadlines_follow_the_halls_own_numbers_of_working_days_across_a_holiday():
    # Verify within 2 working days, rectify within 4, rated on Wednesday 30 September 2026, the
    # eve of National Day: 1-7 October are holidays and Saturday 10 October a working day (调休).
    catalog = Catalog(small_config(supervision={"review_verify_days": 2, "review_rectify_days": 4}))
    rated = date(2026, 9, 30)
    # Verification due 2 working days later: Thursday 8, Friday 9 October.
    assert review_level(_review("assigned", rated), catalog, date(2026, 10, 8)) == (None, 0)
    assert review_level(_review("assigned", rated), catalog, date(2026, 10, 9)) == ("warning", 0)
    assert review_level(_review("assigned", rated), catalog, date(2026, 10, 10)) == ("yellow", 1)  # the swapped Saturday
    assert review_level(_review("assigned", rated), catalog, date(2026, 10, 12)) == ("red", 2)
    # Rectification due 4 working days later: 8, 9, 10 (Saturday), 12 October.
    assert review_level(_review("verified", rated), catalog, date(2026, 10, 10)) == (None, 0)
    assert review_level(_review("verified", rated), catalog, date(2026, 10, 12)) == ("warning", 0)
    assert review_level(_review("verified", rated), catalog, date(2026, 10, 13)) == ("yellow", 1)


@pytest.mark.parametrize(
    ("today", "deadline", "expected"),
    [
        (date(2026, 9, 30), date(2026, 10, 8), ("warning", 1)),  # the holiday week does not count (Mon-Fri would give 6)
        (date(2026, 10, 9), date(2026, 10, 8), ("red", -1)),
        (date(2026, 10, 12), date(2026, 10, 8), ("red", -3)),  # Friday 9, Saturday 10 (调休) and Monday 12
    ],
)
def test_a_promised_case_counts_no_holiday_and_every_swapped_working_day(today, deadline, expected):
    assert case_level(_case(deadline), today, warning_days=1) == expected


def test_a_promised_cases_deadline_skips_the_holidays():
    from datetime import datetime

    from tests.halls import TZ, FakeClock

    e = Engine(clock=FakeClock(datetime(2026, 9, 30, 9, 0, tzinfo=TZ)))  # the eve of National Day
    e.act(c.OpenWindow, "w1")
    e.issue("a2")  # promised, 5 working days
    e.call_next("w1")
    e.act(c.StartService, "w1")
    (done,) = e.act(c.FinishService, "w1", case_type="promised")
    assert done.deadline == date(2026, 10, 13)  # 5 working days: 8, 9, 10 (调休 Saturday), 12, 13 October
    # A hall's own closed day (calendar.closed_days) is skipped too: 8, 10, 12, 13, 14 October.
    e = Engine(Catalog(small_config(calendar={"closed_days": ["2026-10-09"]})), FakeClock(datetime(2026, 9, 30, 9, 0, tzinfo=TZ)))
    e.act(c.OpenWindow, "w1")
    e.issue("a2")
    e.call_next("w1")
    e.act(c.StartService, "w1")
    (done,) = e.act(c.FinishService, "w1", case_type="promised")
    assert done.deadline == date(2026, 10, 14)


def test_a_window_open_but_calling_nobody_while_people_wait_raises_idle():
    """Windows 1 and 2 sat idle 10-11 minutes with 6 people waiting, and nothing said so (issue 19)."""
    e = Engine()
    board = AlertBoard(e.state.day)
    e.act(c.OpenWindow, "w2")
    e.clock.advance(600)
    assert sweep(e, board) == []  # idle with nobody waiting is no fault
    e.issue("b1")
    e.clock.advance(299)
    assert sweep(e, board) == []
    e.clock.advance(1)  # idle 5 minutes since the first person began to wait
    (raised,) = sweep(e, board)
    assert (raised.key, raised.kind, raised.level, raised.window, raised.threshold) == ("idle:w2", "idle", "warning", "w2", 300.0)
    e.clock.advance(300)
    assert [(x.key, x.level) for x in sweep(e, board)] == [("idle:w2", "yellow")]
    e.act(c.CallNext, "w2")
    assert kinds(sweep(e, board)) == [("alert_cleared", "idle", "")]
