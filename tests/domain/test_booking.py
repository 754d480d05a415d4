"""网上预约 and 远程取号 in the pure core: slots, capacity, limits, check-in, remote arrival."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server.domain import commands as c
from server.domain.booking import booked_in, mask_phone, slots_of_day, valid_phone
from server.domain.catalog import Catalog, HallConfig
from server.domain.errors import Conflict, DomainError, Invalid, NotFound
from tests.halls import MORNING, TZ, Engine, FakeClock, small_catalog, small_config

CATALOG = small_catalog()


def book(e: Engine, code: str, start: datetime, phone: str = "k1", item: str = "a1", **kw: object):  # type: ignore[no-untyped-def]
    return e.do(c.BookAppointment(by="online", code=code, item=item, slot_start=start, phone_key=phone,
                                  phone_masked="138****0000", **kw))


def at(hh: int, mm: int, day: date | None = None) -> datetime:
    d = day or MORNING.date()
    return datetime(d.year, d.month, d.day, hh, mm, tzinfo=TZ)


def catalog_with(**booking: object) -> Catalog:
    data = small_config().model_dump(mode="json", exclude_defaults=True)
    data["hall"]["booking"] = booking
    return Catalog(HallConfig.model_validate(data))


def test_phone_numbers_are_validated_and_masked():
    assert valid_phone("13812341234") and valid_phone("19900000000")
    for bad in ("12812341234", "1381234123", "138123412345", "+8613812341234", "1381234123a", "", "13812341234\n",
                "1381234123\u0664"):
        assert not valid_phone(bad)
    assert mask_phone("13812341234") == "138****1234"


def test_slots_follow_the_item_hours_and_skip_the_lunch_break():
    slots = slots_of_day(CATALOG, "a1", MORNING.date())
    starts = [s.start.strftime("%H:%M") for s in slots]
    assert starts[:2] == ["08:30", "09:00"] and starts[6] == "11:30" and starts[7] == "13:30" and starts[-1] == "17:00"
    assert "12:00" not in starts and all(s.capacity == 2 for s in slots)
    assert slots_of_day(CATALOG, "b1", MORNING.date()) == []  # not bookable


def test_a_holiday_has_no_slots_and_a_swapped_working_saturday_has_them():
    assert slots_of_day(CATALOG, "a1", date(2026, 10, 1)) == []  # 国庆节
    assert slots_of_day(CATALOG, "a1", date(2026, 10, 11)) == []  # an ordinary Sunday
    saturday = date(2026, 10, 10)  # 调休上班
    assert saturday.isoweekday() == 6
    assert len(slots_of_day(CATALOG, "a1", saturday)) == 15


def test_a_closed_day_of_the_hall_has_no_slots():
    catalog = catalog_with(closed_days=["2026-11-26"])
    assert slots_of_day(catalog, "a1", date(2026, 11, 26)) == []
    assert slots_of_day(catalog, "a1", date(2026, 11, 27))


def test_default_capacity_is_the_windows_share_left_after_walk_ins():
    data = small_config().model_dump(mode="json", exclude_defaults=True)
    for item in data["items"]:
        if item["id"] == "a1":
            item["booking"] = {"slots": True, "slot_minutes": 60}
    data["hall"]["booking"] = {"walk_in_share": 0.5}
    catalog = Catalog(HallConfig.model_validate(data))
    # w1 alone serves a1: 3600 s ÷ 600 s × (1 − 0.5) = 3 a slot.
    assert {s.capacity for s in slots_of_day(catalog, "a1", MORNING.date())} == {3}
    data["hall"]["booking"] = {"walk_in_share": 1.0}
    assert slots_of_day(Catalog(HallConfig.model_validate(data)), "a1", MORNING.date()) == []


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    ops=st.lists(
        st.tuples(st.sampled_from(["book", "cancel", "move"]), st.integers(0, 3), st.integers(0, 9), st.integers(0, 30)),
        max_size=60,
    )
)
def test_slot_capacity_is_never_exceeded(ops):  # type: ignore[no-untyped-def]
    e = Engine(CATALOG, FakeClock(MORNING))
    slots = [s for s in slots_of_day(CATALOG, "a1", e.state.day) if s.start > MORNING][:4]
    codes: list[str] = []
    for n, (op, slot, phone, which) in enumerate(ops):
        try:
            if op == "book":
                code = f"C{n}"
                book(e, code, slots[slot].start, phone=f"p{phone}")
                codes.append(code)
            elif op == "cancel" and codes:
                e.do(c.CancelAppointment(by="holder", code=codes[which % len(codes)]))
            elif op == "move" and codes:
                e.do(c.RescheduleAppointment(by="holder", code=codes[which % len(codes)], slot_start=slots[slot].start))
        except DomainError:
            pass
        for s in slots:
            assert booked_in(e.state, "a1", s.start) <= s.capacity


def test_a_full_slot_says_so_and_another_slot_is_free():
    e = Engine(CATALOG, FakeClock(MORNING))
    book(e, "AAAA2222", at(9, 30), phone="p1")
    book(e, "AAAA3333", at(9, 30), phone="p2")
    with pytest.raises(Conflict) as exc:
        book(e, "AAAA4444", at(9, 30), phone="p3")
    assert exc.value.code == "slot-full" and "fully booked" in exc.value.detail
    book(e, "AAAA4444", at(10, 0), phone="p3")


def test_bad_slots_and_days_are_refused():
    e = Engine(CATALOG, FakeClock(MORNING))
    with pytest.raises(NotFound) as exc:
        book(e, "X1", at(9, 10))
    assert exc.value.code == "unknown-slot"
    with pytest.raises(Conflict) as exc2:
        book(e, "X1", at(8, 30))
    assert exc2.value.code == "slot-started"
    with pytest.raises(Invalid) as exc3:
        book(e, "X1", at(9, 30, date(2026, 11, 24)))
    assert exc3.value.code == "past-day"
    with pytest.raises(Conflict) as exc4:
        book(e, "X1", at(9, 30), item="b1")
    assert exc4.value.code == "not-bookable"
    assert e.state.appointments == {}


def test_a_phone_number_holds_a_bounded_number_of_bookings():
    e = Engine(CATALOG, FakeClock(MORNING))
    book(e, "B1", at(9, 30), phone="same")
    with pytest.raises(Conflict) as exc:
        book(e, "B2", at(10, 0), phone="same")  # the same item on the same day
    assert exc.value.code == "already-booked"
    with pytest.raises(Conflict) as exc2:
        book(e, "B2", at(10, 0), phone="same", held_elsewhere=2)  # two more on other days: 3 in all
    assert exc2.value.code == "booking-limit" and "3 bookings" in exc2.value.detail
    e.do(c.CancelAppointment(by="holder", code="B1"))
    book(e, "B2", at(10, 0), phone="same", held_elsewhere=2)


def test_a_late_arrival_beyond_tolerance_is_refused_with_a_clear_message():
    e = Engine(CATALOG, FakeClock(MORNING))
    book(e, "LATE2345", at(9, 30))
    e.clock.t = at(9, 30) + timedelta(seconds=CATALOG.hall.policy.appointment_late_s + 1)
    with pytest.raises(Conflict) as exc:
        e.issue("a1", appointment="LATE2345")
    assert exc.value.code == "appointment-late"
    assert exc.value.detail == "check-in for this slot closed at 09:45; please take a normal ticket"
    # The sweep releases it as a no-show (爽约), once.
    (missed,) = e.do(c.ReleaseMissed(by="system"))
    assert missed.code == "LATE2345" and e.state.appointments["LATE2345"].status == "missed"
    assert e.do(c.ReleaseMissed(by="system")) == []


def test_an_appointment_checked_in_inside_its_slot_is_called_before_walk_ins():
    e = Engine(CATALOG, FakeClock(MORNING))
    book(e, "EARLY234", at(9, 30))
    walk_ins = [e.issue("a1") for _ in range(3)]
    e.clock.t = at(9, 35)
    booked = e.issue("a1", appointment="EARLY234")
    assert booked.issued_at > max(t.issued_at for t in walk_ins)
    e.do(c.OpenWindow(by="w1a", window="w1"))
    assert e.call_next("w1").id == booked.id and e.log[-1].lane == "appointment"


def test_a_cancelled_appointment_cannot_check_in_or_be_changed():
    e = Engine(CATALOG, FakeClock(MORNING))
    book(e, "GONE2345", at(9, 30))
    e.do(c.CancelAppointment(by="holder", code="GONE2345"))
    with pytest.raises(Conflict) as exc:
        e.issue("a1", appointment="GONE2345")
    assert exc.value.code == "appointment-cancelled"
    with pytest.raises(Conflict):
        e.do(c.RescheduleAppointment(by="holder", code="GONE2345", slot_start=at(10, 0)))
    assert booked_in(e.state, "a1", at(9, 30)) == 0


def test_an_unconfirmed_remote_ticket_is_skipped_not_lost_and_called_once_confirmed():
    e = Engine(CATALOG, FakeClock(MORNING))
    remote = e.issue("a2", remote=True, phone_key="p1")
    e.clock.advance(60)
    walk_in = e.issue("a2")
    e.do(c.OpenWindow(by="w1a", window="w1"))
    assert e.call_next("w1").id == walk_in.id  # the remote one is skipped …
    assert remote.status.value == "waiting"  # … not lost
    e.do(c.StartService(by="w1a", window="w1"))
    e.do(c.FinishService(by="w1a", window="w1", case_type="promised"))
    assert e.call_next("w1") is None
    e.do(c.ConfirmArrival(by="holder", ticket=remote.id))
    assert e.do(c.ConfirmArrival(by="holder", ticket=remote.id)) == []  # twice: nothing new
    assert e.call_next("w1").id == remote.id


def test_one_open_remote_ticket_per_phone_and_item_and_only_where_allowed():
    e = Engine(CATALOG, FakeClock(MORNING))
    e.issue("a2", remote=True, phone_key="p1")
    with pytest.raises(Conflict) as exc:
        e.issue("a2", remote=True, phone_key="p1")
    assert exc.value.code == "remote-limit"
    e.issue("a2", remote=True, phone_key="p2")
    with pytest.raises(Conflict) as exc2:
        e.issue("a1", remote=True, phone_key="p1")
    assert exc2.value.code == "remote-off"
    with pytest.raises(Conflict) as exc3:
        e.do(c.ConfirmArrival(by="holder", ticket=e.issue("a1").id))
    assert exc3.value.code == "not-remote"


def test_a_remote_ticket_raises_no_wait_alert_before_arrival_and_counts_from_arrival():
    from server.domain.supervision import findings

    e = Engine(CATALOG, FakeClock(MORNING))
    remote = e.issue("a2", remote=True, phone_key="p1")
    e.clock.advance(3600)  # an hour away from the hall
    assert [f for f in findings(e.state, CATALOG, e.clock.now()) if f.kind == "wait"] == []
    e.do(c.ConfirmArrival(by="holder", ticket=remote.id))
    e.clock.advance(1300)  # past the 20-minute warning, counted from arrival
    (wait,) = [f for f in findings(e.state, CATALOG, e.clock.now()) if f.kind == "wait"]
    assert wait.value == 1300 and wait.level == "warning"
