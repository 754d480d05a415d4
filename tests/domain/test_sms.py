"""短信提醒 rules: which message is due when, each once, and how long the number is kept."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from pydantic import ValidationError

from server.domain import sms
from server.domain.settings import Sms
from tests.halls import TZ

S = Sms(enabled=True, reminder_hour=18, near_ahead=3)
SLOT = datetime(2026, 11, 26, 9, 30, tzinfo=TZ)
EVE = datetime(2026, 11, 25, 18, 0, tzinfo=TZ)
BOOKED_EARLY = datetime(2026, 11, 20, 10, 0, tzinfo=TZ)


def booking(status: str = "booked", **kw: object) -> sms.Subject:
    return sms.Subject(day=SLOT.date(), status=status, slot_start=SLOT, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(("now", "due"), [
    (EVE - timedelta(seconds=1), False), (EVE, True), (SLOT - timedelta(minutes=1), True), (SLOT, False),
])
def test_the_reminder_is_due_from_the_evening_before_until_the_slot(now: datetime, due: bool) -> None:
    assert sms.reminder_due(SLOT, now, 18) is due
    p = sms.plan(booking(), frozenset(), now, S, BOOKED_EARLY)
    assert (p.send == ("reminder",)) is due and p.keep


def test_each_message_once_and_no_reminder_for_a_booking_made_on_its_day() -> None:
    assert sms.plan(booking(), frozenset({"reminder"}), EVE, S, BOOKED_EARLY) == sms.Plan((), True)  # near may come
    made_today = SLOT.replace(hour=8)
    assert sms.plan(booking(), frozenset(), SLOT.replace(hour=8, minute=5), S, made_today).send == ()


@pytest.mark.parametrize(("ahead", "status", "send", "keep"), [
    (5, "waiting", (), True), (3, "waiting", ("near",), True), (0, "waiting", ("near",), True),
    (None, "called", (), False), (None, "done", (), False),
])
def test_near_turn_for_a_waiting_ticket_only(ahead, status, send, keep) -> None:  # type: ignore[no-untyped-def]
    t = sms.Subject(day=SLOT.date(), status=status, ticket_status=status, ahead=ahead)
    assert sms.plan(t, frozenset(), SLOT, S) == sms.Plan(send, keep)
    checked_in = booking("checked_in", ticket_status=status, ahead=ahead)
    assert sms.plan(checked_in, frozenset(), SLOT, S, BOOKED_EARLY) == sms.Plan(send, keep)


def test_after_the_near_message_the_number_is_not_needed() -> None:
    t = sms.Subject(day=SLOT.date(), status="waiting", ticket_status="waiting", ahead=1)
    assert sms.plan(t, frozenset({"near"}), SLOT, S) == sms.Plan((), False)


def test_only_the_halls_cancellation_is_told() -> None:
    assert sms.plan(booking("cancelled", cancel_reason=sms.HALL_CANCELLED), frozenset(), EVE, S) == sms.Plan(("cancelled",), True)
    assert sms.plan(booking("cancelled", cancel_reason=sms.HALL_CANCELLED), frozenset({"cancelled"}), EVE, S) == sms.Plan((), False)
    assert sms.plan(booking("cancelled", cancel_reason="citizen"), frozenset(), EVE, S) == sms.Plan((), False)
    assert sms.plan(booking("missed"), frozenset(), SLOT, S) == sms.Plan((), False)


def test_after_the_day_nothing_is_sent_and_nothing_kept() -> None:
    waiting = sms.Subject(day=SLOT.date(), status="waiting", ticket_status="waiting", ahead=0)
    assert sms.plan(waiting, frozenset(), SLOT + timedelta(days=1), S) == sms.Plan((), False)


def test_the_text_carries_the_signature_and_no_phone() -> None:
    text = sms.text("reminder", S, hall="测试大厅", item="甲一", code="ABC123", date="11月26日", time="09:30")
    assert text.startswith("【政务服务中心】") and "ABC123" in text and "09:30" in text


@pytest.mark.parametrize("bad", [{"enabled": True, "gateway": "http"}, {"gateway": "smtp"}, {"sign": "x"},
                                 {"reminder_hour": 24}, {"endpoint": "file:///etc/passwd"}])
def test_settings_refuse_what_cannot_work(bad: dict) -> None:
    with pytest.raises(ValidationError):
        Sms.model_validate(bad)
