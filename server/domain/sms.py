"""SMS to holders of bookings and remote numbers: which message is due, what it says, and how long
the phone number may be kept. Pure; the outbox (server/hall/sms.py) asks and sends.

Three messages, each at most once per booking or ticket (its key is kind and subject):
- `reminder`: the day before a booking, from `Sms.reminder_hour` o'clock on (a booking made later
  that evening is still reminded; one made on the day itself is not: its holder just booked);
- `near`: "your turn is near", when a remote number or a booking's ticket has at most
  `Sms.near_ahead` people ahead while it waits;
- `cancelled`: the hall cancelled the booking (not its holder, not a move to another day).

The phone number is kept (encrypted) only while one of these may still become due: `plan`
says whether to keep it; once the subject's day is over it goes whatever happened.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from .settings import Sms

KINDS = ("reminder", "near", "cancelled")
HALL_CANCELLED = "hall"  # AppointmentCancelled.reason when staff withdraw a booking

TEXTS: dict[str, str] = {
    "reminder": "【{sign}】您已预约{date} {time}在{hall}办理“{item}”，预约码{code}。请按时到场取号。",
    "near": "【{sign}】您在{hall}取的{number}号前面还有{ahead}人，请尽快到场。",
    "cancelled": "【{sign}】很抱歉，您预约的{date} {time}“{item}”已被{hall}取消，请重新预约。",
}


@dataclass(frozen=True, slots=True)
class Subject:
    """What the outbox knows of a booking or a ticket when it asks (status as the fold has it)."""

    day: date  # the booking's slot day, or the ticket's hall-day
    status: str  # booking: booked | checked_in | cancelled | missed; ticket: waiting | called | … | done
    slot_start: datetime | None = None  # bookings
    cancel_reason: str | None = None  # bookings
    ticket_status: str | None = None  # a booking's ticket once checked in; a ticket's own status
    ahead: int | None = None  # people ahead of the waiting ticket


@dataclass(frozen=True, slots=True)
class Plan:
    send: tuple[str, ...]  # kinds due now and not sent or queued yet
    keep: bool  # whether the phone number must stay: a message may still become due


def key(kind: str, subject: str) -> str:
    return f"{kind}:{subject}"


def reminder_due(slot_start: datetime, now: datetime, hour: int) -> bool:
    """From `hour` o'clock of the day before the slot until the slot starts."""
    eve = datetime.combine(slot_start.date() - timedelta(days=1), datetime.min.time(), tzinfo=slot_start.tzinfo)
    return eve + timedelta(hours=hour) <= now < slot_start


def near_due(ticket_status: str | None, ahead: int | None, s: Sms) -> bool:
    return ticket_status == "waiting" and ahead is not None and ahead <= s.near_ahead


def plan(subject: Subject, queued: frozenset[str], now: datetime, s: Sms, booked_at: datetime | None = None) -> Plan:
    """The messages due now for this subject, and whether its phone number is still needed.

    `queued`: the kinds already queued or sent for it (each is sent once)."""
    if now.date() > subject.day:
        return Plan((), False)  # the day is over: nothing more is sent, the number goes
    due: list[str] = []
    later: list[str] = []  # kinds that may still become due
    if subject.slot_start is not None:  # a booking
        if subject.status == "cancelled":
            if subject.cancel_reason == HALL_CANCELLED:
                due.append("cancelled")
        elif subject.status == "booked":
            booked_late = booked_at is not None and booked_at.date() >= subject.slot_start.date()
            if not booked_late:
                (due if reminder_due(subject.slot_start, now, s.reminder_hour) else later).append("reminder")
            later.append("near")  # once checked in, its ticket waits
        elif subject.status == "checked_in" and subject.ticket_status in ("waiting", None):
            (due if near_due(subject.ticket_status, subject.ahead, s) else later).append("near")
    elif subject.ticket_status == "waiting":  # a remote number
        (due if near_due(subject.ticket_status, subject.ahead, s) else later).append("near")
    send = tuple(k for k in due if k not in queued)
    return Plan(send, any(k not in queued for k in later) or bool(send))


def text(kind: str, s: Sms, **fields: object) -> str:
    """The message as sent: the hall's signature (签名) and the subject's own words, nothing personal."""
    values = {"sign": s.sign, **{k: "" if v is None else v for k, v in fields.items()}}
    return TEXTS[kind].format(**values)
