"""The hall's rules, one behaviour per test, on the pure core."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from server.domain import commands as c
from server.domain import estimates
from server.domain import events as ev
from server.domain.errors import Conflict, Invalid, NotFound
from server.domain.model import PrintStatus, TicketStatus, WindowStatus
from tests.halls import MORNING, Engine, FakeClock, small_catalog


def opened(*windows: str) -> Engine:
    e = Engine()
    for w in windows:
        e.act(c.OpenWindow, w)
    return e


def test_numbers_count_per_prefix_and_restart_on_a_new_day():
    e = Engine()
    assert [e.issue("a1").number for _ in range(3)] == ["A001", "A002", "A003"]
    assert e.issue("a2").number == "B001"
    tomorrow = Engine(clock=FakeClock(MORNING + timedelta(days=1)))
    assert tomorrow.issue("a1").number == "A001"


def test_a_ticket_carries_its_issue_time_and_an_estimate():
    e = opened("w1")
    first = e.issue("a1")
    e.clock.advance(60)
    (issued,) = e.do(c.IssueTicket(by="kiosk", ticket="x", item="a1"))
    assert first.issued_at == MORNING
    assert issued.at == MORNING + timedelta(seconds=60)
    assert issued.ahead == 1
    assert issued.estimated_wait_s == 600  # one ahead, the item's expected 600 s, one window open


def test_the_expected_wait_counts_the_ticket_itself_and_the_days_own_service_times_over_the_open_windows():
    e = Engine()  # a2 is served by w1 (dedicated) and w3 (comprehensive)
    assert e.do(c.IssueTicket(by="kiosk", ticket="x0", item="a2"))[0].model_wait_s == 0  # nobody ahead
    e.do(c.CancelTicket(by="holder", ticket="x0"))
    e.act(c.OpenWindow, "w1")
    for service_s in (200, 400):  # the day's own times, drawn towards the item's expected 600 s
        e.issue("a2")
        e.call_next("w1")
        e.act(c.StartService, "w1")
        e.clock.advance(service_s)
        e.act(c.FinishService, "w1", case_type="promised")
    service = (200 + 400 + estimates.PRIOR_SERVICES * 600) / (2 + estimates.PRIOR_SERVICES)
    # x0 gave up before its call: of a2's tickets ahead, the share expected to stay
    stay = 1 - 1 / (1 + 2 + estimates.PRIOR_SERVICES)
    assert estimates.staying_share(e.state, "a2") == stay
    for _ in range(4):
        e.issue("a2")
    (one,) = e.do(c.IssueTicket(by="kiosk", ticket="x1", item="a2"))
    # w1 is free: the first of the four goes at once, then three services, then this one
    assert (one.ahead, one.model_wait_s) == (4, round((4 * stay + 1 - 1) * service))
    e.call_next("w1")
    (busy,) = e.do(c.IssueTicket(by="kiosk", ticket="x2", item="a2"))
    assert (busy.ahead, busy.model_wait_s) == (4, round((4 * stay + 1) * service))  # and w1's own service
    e.act(c.OpenWindow, "w3")
    (two,) = e.do(c.IssueTicket(by="kiosk", ticket="x3", item="a2"))
    assert (two.ahead, two.model_wait_s) == (5, round((5 * stay + 1 - 1) * service / 2))  # w3 is free
    e.act(c.Pause, "w3", reason="午休")
    e.act(c.StartService, "w1")
    e.act(c.FinishService, "w1", case_type="promised")
    e.act(c.Pause, "w1", reason="午休")
    (none,) = e.do(c.IssueTicket(by="kiosk", ticket="x4", item="a2"))
    # none working: told as from the opening of both windows, never a division by zero
    service = (200 + 400 + 0 + estimates.PRIOR_SERVICES * 600) / (3 + estimates.PRIOR_SERVICES)  # and one of 0 s
    assert estimates.mean_service_s(e.state, e.catalog, "a2") == service
    stay = 1 - 1 / (1 + 3 + estimates.PRIOR_SERVICES)
    assert (none.ahead, none.model_wait_s) == (6, round((6 * stay + 1 - 2) * service / 2))
    # what the citizen is told: the model scaled by the day's own calibration
    assert none.estimated_wait_s == round((6 * stay + 1 - 2) * service / 2 * estimates.calibration(e.state))


def test_the_estimate_calibrates_itself_on_the_waits_of_the_day():
    e = opened("w1")
    assert estimates.calibration(e.state) == 1.0
    for _ in range(4):
        e.issue("a1")
    e.clock.advance(1)
    modelled = sum(t.model_wait_s for t in e.state.tickets.values())
    waited = 0.0
    for _ in range(4):  # every service takes twice the item's expected time
        t = e.call_next("w1")
        waited += (e.clock.now() - t.issued_at).total_seconds()
        e.act(c.StartService, "w1")
        e.clock.advance(2 * e.catalog.items["a1"].expected_service_s)
        e.act(c.FinishService, "w1", case_type="immediate")
    assert waited > modelled
    prior = estimates.PRIOR_WAIT_S
    assert estimates.calibration(e.state) == pytest.approx((waited + prior) / (modelled + prior))
    (issued,) = e.do(c.IssueTicket(by="kiosk", ticket="x", item="a1"))
    assert issued.estimated_wait_s == round(issued.model_wait_s * estimates.calibration(e.state))


def test_a_ticket_of_an_item_some_of_whose_windows_are_not_ours_counts_for_its_share_of_ours():
    e = Engine()  # b1 is served by w2 and w3; a2 by w1 and w3
    e.act(c.OpenWindow, "w1")
    e.act(c.OpenWindow, "w2")
    e.act(c.OpenWindow, "w3")
    for w in ("w1", "w2", "w3"):  # every window busy
        e.issue("a2" if w != "w2" else "b1")
        e.call_next(w)
    for _ in range(2):  # b1's daily quota is 3
        e.issue("b1")
    (issued,) = e.do(c.IssueTicket(by="kiosk", ticket="x", item="a2"))
    b1, a2 = e.catalog.items["b1"].expected_service_s, e.catalog.items["a2"].expected_service_s
    # two b1 tickets ahead; w2 serves b1 alone, w3 (ours) three items: a quarter of b1's service
    # falls on w3 (each window weighs as one over the items it serves); then one a2 service
    assert (issued.ahead, issued.model_wait_s) == (2, round((2 * b1 / 4 + a2) / 2))


def test_a_ticket_transferred_to_one_window_is_not_ahead_of_a_newcomer_in_its_items_queue():
    e = opened("w1")
    e.act(c.OpenWindow, "w3")
    e.issue("a2")
    moved = e.call_next("w1")
    e.act(c.StartService, "w1")
    e.act(c.Transfer, "w1", to_window="w3")  # now waits for w3 alone
    e.act(c.Pause, "w3", reason="午休")
    (issued,) = e.do(c.IssueTicket(by="kiosk", ticket="x", item="a2"))
    assert e.state.tickets[moved.id].target_window == "w3"
    assert issued.ahead == 0 == estimates.ahead(e.state, e.catalog, e.state.tickets["x"])


def test_daily_quota_refuses_the_ticket_after_the_last():
    e = Engine()
    for _ in range(3):
        e.issue("b1")
    with pytest.raises(Conflict) as err:
        e.issue("b1")
    assert err.value.code == "quota-exhausted"


def test_tickets_are_refused_outside_issuing_hours_and_on_holidays():
    afternoon = Engine(clock=FakeClock(MORNING.replace(hour=14)))
    afternoon.issue("a1")  # hall hours
    with pytest.raises(Conflict, match="not issued"):
        afternoon.issue("c1")  # c1 is a morning-only item
    national_day = Engine(clock=FakeClock(MORNING.replace(month=10, day=1)))
    with pytest.raises(Conflict):
        national_day.issue("a1")
    always = Engine(small_catalog(enforce_hours=False), FakeClock(MORNING.replace(month=10, day=1, hour=22)))
    assert always.issue("a1").number == "A001"


def test_a_swapped_working_saturday_is_open():
    # 2026-10-10 was a Saturday worked in exchange for the National Day holiday (调休).
    saturday = MORNING.replace(month=10, day=10)
    assert saturday.isoweekday() == 6
    import chinese_calendar

    if not chinese_calendar.is_workday(saturday.date()):
        pytest.skip("the installed calendar has no swapped working Saturday on 2026-10-10")
    assert Engine(clock=FakeClock(saturday)).issue("a1").number == "A001"


def test_unknown_item_is_not_found():
    with pytest.raises(NotFound):
        Engine().issue("nope")


def test_call_next_with_nobody_waiting_decides_nothing():
    e = opened("w1")
    assert e.call_next("w1") is None
    assert e.state.windows["w1"].status is WindowStatus.idle


def test_a_window_calls_only_the_items_it_serves():
    e = opened("w2")
    e.issue("a1")
    assert e.call_next("w2") is None
    b = e.issue("b1")
    assert e.call_next("w2").id == b.id


def test_an_item_served_by_a_dedicated_and_a_comprehensive_window_goes_to_whichever_calls_first():
    e = opened("w1", "w3")
    t1, t2 = e.issue("a2"), e.issue("a2")
    assert e.call_next("w3").id == t1.id
    assert e.call_next("w1").id == t2.id


def test_the_longest_waiting_ticket_across_queues_is_called():
    e = opened("w3")
    old = e.issue("b1")
    e.clock.advance(30)
    e.issue("a2")
    assert e.call_next("w3").id == old.id


def test_priority_is_called_before_normal_but_normal_gets_its_turn():
    e = opened("w1")
    normal = e.issue("a1")
    prio = [e.issue("a1", priority=True) for _ in range(4)]
    called = []
    for _ in range(3):
        called.append(e.call_next("w1"))
        e.act(c.StartService, "w1")
        e.act(c.FinishService, "w1", case_type="immediate")
    # priority_ratio is 2: two priority tickets, then the waiting normal one.
    assert [t.id for t in called] == [prio[0].id, prio[1].id, normal.id]


def test_a_long_wait_does_not_put_a_normal_ticket_before_a_priority_one():
    e = opened("w1")
    old = e.issue("a1")
    e.clock.advance(2 * 3600)  # still in the morning's hours
    prio = e.issue("a1", priority=True)
    t = e.call_next("w1")
    assert t.id == prio.id and e.log[-1].lane == "priority"
    e.act(c.StartService, "w1")
    e.act(c.FinishService, "w1", case_type="immediate")
    assert e.call_next("w1").id == old.id and e.log[-1].lane == "normal"


def test_an_appointment_is_called_before_walk_ins_and_priority_once_its_slot_begins():
    e = opened("w1")
    slot = MORNING + timedelta(minutes=10)
    e.do(c.RegisterAppointment(by="boss", code="APT1", item="a1", slot_start=slot, slot_end=slot + timedelta(minutes=30)))
    e.issue("a1")
    e.issue("a1", priority=True)
    booked = e.issue("a1", appointment="APT1")
    e.clock.t = slot
    assert e.call_next("w1").id == booked.id
    assert e.log[-1].lane == "appointment"


def test_an_appointment_checked_in_before_its_slot_waits_its_turn_as_a_walk_in_until_the_slot_begins():
    def day():  # type: ignore[no-untyped-def]
        e = opened("w1")
        e.do(c.RegisterAppointment(by="boss", code="APT1", item="a1", slot_start=slot, slot_end=slot + timedelta(minutes=30)))
        first = e.issue("a1")
        e.clock.advance(60)
        booked = e.issue("a1", appointment="APT1")
        e.clock.advance(60)
        later = e.issue("a1")
        return e, [first.id, booked.id, later.id]

    slot = MORNING + timedelta(minutes=20)
    # Ten minutes before the slot the booked citizen is called in check-in order, as a walk-in.
    e, (first, booked, later) = day()
    e.clock.t = slot - timedelta(minutes=10)
    called = []
    for _ in range(3):
        called.append((e.call_next("w1").id, e.log[-1].lane))
        e.act(c.StartService, "w1")
        e.act(c.FinishService, "w1", case_type="immediate")
    assert called == [(first, "normal"), (booked, "normal"), (later, "normal")]
    # Once the slot begins the booked citizen goes before everyone.
    e, (first, booked, later) = day()
    e.clock.t = slot
    assert e.call_next("w1").id == booked and e.log[-1].lane == "appointment"

def test_appointment_check_in_refuses_too_early_too_late_reuse_and_wrong_item():
    e = Engine()
    slot = MORNING + timedelta(hours=2)
    e.do(c.RegisterAppointment(by="boss", code="APT1", item="a1", slot_start=slot, slot_end=slot + timedelta(minutes=30)))
    with pytest.raises(Conflict, match="opens at"):
        e.issue("a1", appointment="APT1")
    e.clock.advance(2 * 3600 + 901)
    with pytest.raises(Conflict, match="closed at"):
        e.issue("a1", appointment="APT1")
    e.clock.t = slot
    with pytest.raises(Conflict):
        e.issue("a2", appointment="APT1")
    e.issue("a1", appointment="APT1")
    with pytest.raises(Conflict, match="already"):
        e.issue("a1", appointment="APT1")
    with pytest.raises(NotFound):
        e.issue("a1", appointment="NOPE")


def test_window_actions_follow_the_state_machine():
    e = Engine()
    e.issue("a1")
    with pytest.raises(Conflict):
        e.call_next("w1")  # closed
    e.act(c.OpenWindow, "w1")
    with pytest.raises(Conflict):
        e.act(c.FinishService, "w1", case_type="immediate")  # finish before call
    e.call_next("w1")
    with pytest.raises(Conflict):
        e.call_next("w1")  # one citizen at a time
    with pytest.raises(Conflict):
        e.act(c.CloseWindow, "w1")
    e.act(c.Recall, "w1")
    e.act(c.StartService, "w1")
    with pytest.raises(Conflict):
        e.act(c.NoShow, "w1")  # they came
    e.act(c.FinishService, "w1", case_type="immediate")
    e.act(c.CloseWindow, "w1")
    assert e.state.windows["w1"].status is WindowStatus.closed


def test_finish_records_case_type_outcome_and_a_promised_deadline_in_working_days():
    e = opened("w1")
    t = e.issue("a2")
    e.call_next("w1")
    e.act(c.StartService, "w1")
    (done,) = e.act(c.FinishService, "w1", case_type="promised")
    # five working days after Wednesday 2026-11-25: Thursday … the next Wednesday
    assert done.deadline == date(2026, 12, 2)
    assert t.status is TicketStatus.done and t.case_type == "promised"


def test_one_time_notice_needs_the_complete_missing_list():
    e = opened("w1")
    e.issue("a1")
    e.call_next("w1")
    e.act(c.StartService, "w1")
    with pytest.raises(Invalid):
        e.act(c.FinishService, "w1", case_type="immediate", outcome="one_time_notice")
    (done,) = e.act(c.FinishService, "w1", case_type="immediate", outcome="one_time_notice", missing=("户口簿", "近期照片"))
    assert done.missing == ("户口簿", "近期照片")


def test_no_show_ends_the_ticket_or_requeues_it_behind_n_others_once():
    e = opened("w1")
    t = e.issue("a1")
    others = [e.issue("a1") for _ in range(5)]
    e.call_next("w1")
    e.act(c.NoShow, "w1", requeue=True)
    assert t.status is TicketStatus.waiting and t.requeues == 1
    order = []
    for _ in range(6):
        order.append(e.call_next("w1").id)
        e.act(c.NoShow, "w1")
    assert order.index(t.id) == 3  # behind three others (no_show_requeue_places)
    assert t.status is TicketStatus.no_show
    assert all(o.status is TicketStatus.no_show for o in others)
    e2 = opened("w1")
    e2.issue("a1")
    e2.call_next("w1")
    e2.act(c.NoShow, "w1", requeue=True)
    e2.call_next("w1")
    with pytest.raises(Conflict, match="re-queued"):
        e2.act(c.NoShow, "w1", requeue=True)


def test_cancel_is_told_apart_from_no_show():
    e = opened("w1")
    t = e.issue("a1")
    e.do(c.CancelTicket(by="holder", ticket=t.id))
    assert t.status is TicketStatus.cancelled
    assert e.call_next("w1") is None
    with pytest.raises(Conflict):
        e.do(c.CancelTicket(by="holder", ticket=t.id))


def test_transfer_to_an_item_keeps_the_original_issue_time():
    e = opened("w1", "w2")
    t = e.issue("a1")
    e.clock.advance(300)
    later = e.issue("b1")
    e.call_next("w1")
    e.act(c.StartService, "w1")
    e.clock.advance(60)  # transferred after `later` was issued
    e.act(c.Transfer, "w1", to_item="b1")
    assert t.item == "b1" and t.status is TicketStatus.waiting and t.number == "A001"
    assert t.queued_at == t.issued_at == MORNING
    assert e.call_next("w2").id == t.id  # before `later`, who came after
    assert later.status is TicketStatus.waiting


def test_a_chosen_call_is_refused_for_a_ticket_not_served_here_pinned_elsewhere_or_no_longer_waiting():
    e = opened("w1", "w2", "w3")
    other_item = e.issue("b1")  # w2 and w3 serve b1, w1 does not
    with pytest.raises(Conflict) as err:
        e.act(c.CallTicket, "w1", ticket=other_item.id)
    assert err.value.code == "not-served-here"
    pinned = e.issue("a2")  # w1 and w3 serve a2
    e.act(c.CallTicket, "w1", ticket=pinned.id)
    e.act(c.Transfer, "w1", to_window="w3")
    with pytest.raises(Conflict) as err:
        e.act(c.CallTicket, "w1", ticket=pinned.id)  # it waits for w3 alone now
    assert err.value.code == "not-served-here"
    done = e.issue("a1")
    e.act(c.CallTicket, "w1", ticket=done.id)
    e.act(c.StartService, "w1")
    e.act(c.FinishService, "w1", case_type="immediate")
    for status_now in ("done", "cancelled"):
        if status_now == "cancelled":
            done = e.issue("a1")
            e.do(c.CancelTicket(by="holder", ticket=done.id))
        with pytest.raises(Conflict) as err:
            e.act(c.CallTicket, "w1", ticket=done.id)
        assert err.value.code == "not-callable" and done.status.value == status_now
    with pytest.raises(NotFound):
        e.act(c.CallTicket, "w1", ticket="nope")
    assert e.act(c.CallTicket, "w3", ticket=pinned.id)[0].lane == "chosen"


def test_transfer_to_a_window_pins_the_ticket_to_it():
    e = opened("w1", "w2", "w3")
    t = e.issue("a1")
    e.call_next("w1")
    e.act(c.Transfer, "w1", to_window="w2")
    assert e.call_next("w3") is None
    assert e.call_next("w2").id == t.id


def test_suspend_frees_the_window_and_the_ticket_is_called_back_by_choice():
    e = opened("w1")
    t = e.issue("a1")
    nxt = e.issue("a1")
    e.call_next("w1")
    e.act(c.StartService, "w1")
    e.clock.advance(120)
    e.act(c.Suspend, "w1", kind="fetching_materials")
    assert t.status is TicketStatus.suspended
    assert e.call_next("w1").id == nxt.id  # a suspended ticket is not called by call-next
    e.act(c.StartService, "w1")
    e.act(c.FinishService, "w1", case_type="immediate")
    e.clock.advance(600)
    e.act(c.CallTicket, "w1", ticket=t.id)
    e.act(c.StartService, "w1")
    e.clock.advance(60)
    e.act(c.FinishService, "w1", case_type="immediate")
    assert t.suspended_s == 600
    # service time is start to finish minus the time away: 780 - 0 - 600 = 180 s (+ 0 s for `nxt`)
    assert e.state.figures["a1"].total_s == pytest.approx(180)


def test_pause_needs_a_reason_and_shows_until_when():
    e = opened("w1")
    with pytest.raises(Invalid):
        e.act(c.Pause, "w1", reason=" ")
    back = MORNING + timedelta(minutes=20)
    e.act(c.Pause, "w1", reason="会议", until=back)
    w = e.state.windows["w1"]
    assert (w.status, w.pause_reason, w.pause_until) == (WindowStatus.paused, "会议", back)
    with pytest.raises(Conflict):
        e.call_next("w1")
    e.act(c.Resume, "w1")
    assert w.status is WindowStatus.idle and w.pause_reason is None


def test_handover_gives_the_window_to_the_other_post():
    e = opened("w1")
    assert e.state.windows["w1"].clerk == "w1a"
    e.act(c.Handover, "w1")
    assert e.state.windows["w1"].clerk == "w1b"
    e.act(c.Handover, "w1", by="w1b")
    assert e.state.windows["w1"].clerk == "w1a"
    with pytest.raises(Conflict):
        e.act(c.Handover, "w2")  # closed window
    e2 = opened("w2")
    with pytest.raises(Conflict, match="other post"):
        e2.act(c.Handover, "w2")


def test_print_status_is_part_of_the_ticket_history():
    e = Engine()
    t = e.issue("a1")
    e.do(c.RecordPrint(by="kiosk-1", ticket=t.id, ok=False, detail="paper out"))
    assert t.print_status is PrintStatus.failed
    e.do(c.RecordPrint(by="kiosk-1", ticket=t.id, ok=True))
    assert t.print_status is PrintStatus.reprinted
    assert [x.status for x in e.log if isinstance(x, ev.TicketPrintRecorded)] == ["failed", "reprinted"]


def test_one_rating_per_served_ticket():
    e = opened("w1")
    t = e.issue("a1")
    with pytest.raises(Conflict):
        e.do(c.Evaluate(by="holder", ticket=t.id, score=5))
    e.call_next("w1")
    e.act(c.StartService, "w1")
    e.act(c.FinishService, "w1", case_type="immediate")
    (rated,) = e.do(c.Evaluate(by="holder", ticket=t.id, score=4, comment="快"))
    assert rated.window == "w1"
    with pytest.raises(Conflict):
        e.do(c.Evaluate(by="holder", ticket=t.id, score=1))


def test_a_dissatisfied_rating_says_why_on_every_channel():
    from server.domain.errors import Invalid

    e = opened("w1")
    t = e.issue("a1")
    e.call_next("w1")
    e.act(c.StartService, "w1")
    e.act(c.FinishService, "w1", case_type="immediate")
    for by, window in (("holder", None), ("evaluator-w1", "w1")):  # the phone, the window's evaluator
        with pytest.raises(Invalid, match="says why"):
            e.do(c.Evaluate(by=by, ticket=t.id, score=2, window=window))
    (rated,) = e.do(c.Evaluate(by="holder", ticket=t.id, score=2, attitude=1, reasons=("poor_attitude",)))
    assert (rated.score, rated.attitude, rated.reasons) == (2, 1, ("poor_attitude",))


def test_scheduled_items_are_served_only_at_their_hours():
    from server.domain.catalog import Catalog, HallConfig
    from tests.halls import small_config

    data = small_config().model_dump(mode="json")
    data["windows"][2]["scheduled"] = [{"departments": ["c"], "schedule": {"weekdays": [3], "hours": ["14:00-17:00"]}}]
    cat = Catalog(HallConfig.model_validate(data))
    e = Engine(cat)
    e.act(c.OpenWindow, "w3")
    e.issue("c1")
    assert e.call_next("w3") is None  # Wednesday morning: c's items wait for the afternoon
    e.clock.t = MORNING.replace(hour=14, minute=5)
    assert e.call_next("w3").item == "c1"


def test_events_round_trip_through_the_codec():
    e = opened("w1")
    e.issue("a1")
    e.call_next("w1")
    e.act(c.Transfer, "w1", to_window="w3")
    e.act(c.Pause, "w1", reason="培训", until=MORNING.replace(hour=11))
    assert len(e.log) == 5
    for x in e.log:
        assert ev.from_dict(ev.to_dict(x)) == x


def test_service_time_counts_only_the_time_at_a_counter():
    e = opened("w1", "w2")
    t = e.issue("a1")
    e.call_next("w1")
    e.act(c.StartService, "w1")
    e.clock.advance(100)
    e.act(c.Transfer, "w1", to_item="b1")  # 100 s at w1, then a wait that is not service
    e.clock.advance(500)
    e.call_next("w2")
    e.act(c.StartService, "w2")
    e.clock.advance(40)
    e.act(c.FinishService, "w2", case_type="immediate")
    assert t.service_s == 140
    assert e.state.figures["b1"].total_s == 140


def test_a_print_that_failed_after_the_printer_got_bytes_is_flagged_as_partial_and_a_success_never_is():
    e = Engine()
    t = e.issue("a1")
    e.do(c.RecordPrint(by="kiosk-1", ticket=t.id, ok=False, partial=True, detail="connection reset while printing"))
    assert t.print_status is PrintStatus.failed
    e.do(c.RecordPrint(by="kiosk-1", ticket=t.id, ok=True, partial=True))
    recorded = [x for x in e.log if isinstance(x, ev.TicketPrintRecorded)]
    assert [(x.status, x.partial) for x in recorded] == [("failed", True), ("reprinted", False)]
    assert ev.from_dict(ev.to_dict(recorded[0])) == recorded[0]
