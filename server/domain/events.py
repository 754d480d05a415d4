"""Events: what happened in the hall, in the past tense; the journal stores exactly these.

Every event says when (`at`) and who (`by`: a username, or a device/channel name for
citizens' own actions). One codec turns them into JSON-ready dicts and back, versioned by
the `type` field.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from typing import Any, ClassVar


@dataclass(frozen=True, kw_only=True, slots=True)
class Event:
    type: ClassVar[str] = ""
    at: datetime
    by: str


@dataclass(frozen=True, kw_only=True, slots=True)
class AppointmentRegistered(Event):
    type: ClassVar[str] = "appointment_registered"
    code: str
    item: str
    slot_start: datetime
    slot_end: datetime
    # Added with online booking (issue 10); staff-entered appointments have none of these.
    # Never the phone number itself: a keyed hash (for the per-phone limits) and its masked form.
    channel: str = "staff"
    phone_key: str | None = None
    phone_masked: str | None = None
    moved_from: date | None = None  # rescheduled from another day (改约)
    person_key: str | None = None  # booked with an ID number: a keyed hash of it, never the number


@dataclass(frozen=True, kw_only=True, slots=True)
class TicketIssued(Event):
    type: ClassVar[str] = "ticket_issued"
    ticket: str
    number: str
    item: str
    channel: str
    priority: bool = False
    appointment: str | None = None
    ahead: int = 0  # the estimate given to the citizen, kept to audit estimates
    estimated_wait_s: int = 0
    model_wait_s: int | None = None  # the estimate before the day's own calibration (server/domain/estimates.py)
    remote: bool = False  # 远程取号: taken from a phone, called only once the citizen confirms arrival
    phone_key: str | None = None  # a keyed hash of the phone number of a remote ticket (one per item)
    person_key: str | None = None  # taken with an ID card: a keyed hash of its number, never the number


@dataclass(frozen=True, kw_only=True, slots=True)
class TicketPrintRecorded(Event):
    type: ClassVar[str] = "ticket_print_recorded"
    ticket: str
    status: str  # printed | failed | reprinted
    detail: str = ""
    # A failure after some of the ticket had reached the printer: part of it (or all) may have
    # come out, so nothing prints it again by itself; a person looks, then may ask for a reprint.
    partial: bool = False


@dataclass(frozen=True, kw_only=True, slots=True)
class TicketCancelled(Event):
    type: ClassVar[str] = "ticket_cancelled"
    ticket: str


@dataclass(frozen=True, kw_only=True, slots=True)
class TicketEvaluated(Event):
    type: ClassVar[str] = "ticket_evaluated"
    ticket: str
    window: str | None
    score: int
    comment: str = ""
    # Added with the evaluator (issue 6); older journals have none of these.
    efficiency: int | None = None  # 服务效率 1..5
    proficiency: int | None = None  # 服务水平 1..5
    attitude: int | None = None  # 服务态度 1..5
    reasons: tuple[str, ...] = ()  # why not satisfied: codes of server/domain/ratings.REASONS


@dataclass(frozen=True, kw_only=True, slots=True)
class WindowOpened(Event):
    type: ClassVar[str] = "window_opened"
    window: str
    clerk: str
    carried_from: date | None = None  # reopened by the day change: open when that day ended


@dataclass(frozen=True, kw_only=True, slots=True)
class TicketCalled(Event):
    type: ClassVar[str] = "ticket_called"
    window: str
    ticket: str
    number: str
    lane: str


@dataclass(frozen=True, kw_only=True, slots=True)
class TicketRecalled(Event):
    type: ClassVar[str] = "ticket_recalled"
    window: str
    ticket: str
    number: str


@dataclass(frozen=True, kw_only=True, slots=True)
class ServiceStarted(Event):
    type: ClassVar[str] = "service_started"
    window: str
    ticket: str


@dataclass(frozen=True, kw_only=True, slots=True)
class ServiceFinished(Event):
    type: ClassVar[str] = "service_finished"
    window: str
    ticket: str
    case_type: str
    outcome: str
    missing: tuple[str, ...] = ()
    note: str = ""
    deadline: date | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class TicketNoShow(Event):
    type: ClassVar[str] = "ticket_no_show"
    window: str
    ticket: str
    requeued_at: datetime | None = None  # its new place in the queue when re-queued …
    requeued_ordinal: float | None = None  # … and the tie-breaker that slots it between two tickets


@dataclass(frozen=True, kw_only=True, slots=True)
class TicketTransferred(Event):
    type: ClassVar[str] = "ticket_transferred"
    window: str
    ticket: str
    to_item: str
    to_window: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class TicketSuspended(Event):
    type: ClassVar[str] = "ticket_suspended"
    window: str
    ticket: str
    kind: str


@dataclass(frozen=True, kw_only=True, slots=True)
class WindowPaused(Event):
    type: ClassVar[str] = "window_paused"
    window: str
    reason: str
    until: datetime | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class WindowResumed(Event):
    type: ClassVar[str] = "window_resumed"
    window: str


@dataclass(frozen=True, kw_only=True, slots=True)
class WindowClosed(Event):
    type: ClassVar[str] = "window_closed"
    window: str


@dataclass(frozen=True, kw_only=True, slots=True)
class WindowHandedOver(Event):
    type: ClassVar[str] = "window_handed_over"
    window: str
    from_clerk: str | None
    to_clerk: str


def _plain(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value


def to_dict(event: Event) -> dict[str, Any]:
    """The event as a JSON-ready dict, with its `type` first."""
    out: dict[str, Any] = {"type": event.type}
    for f in dataclasses.fields(event):
        out[f.name] = _plain(getattr(event, f.name))
    return out


_HINTS: dict[type[Event], dict[str, Any]] = {}


def _converter(hint: Any) -> Any:
    args = typing.get_args(hint)
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        inner = [_converter(a) for a in args if a is not type(None)]
        conv = inner[0]
        return lambda v: None if v is None else conv(v)
    if hint is datetime:
        return datetime.fromisoformat
    if hint is date:
        return date.fromisoformat
    if typing.get_origin(hint) is tuple:
        if args and typing.get_origin(args[0]) is tuple:  # pairs, as (window, clerk)
            return lambda v: tuple(tuple(x) for x in v)
        return tuple
    return lambda v: v


def from_dict(data: dict[str, Any]) -> Event:
    """The inverse of `to_dict`; unknown fields are an error, not silently dropped."""
    cls = EVENT_TYPES[data["type"]]
    hints = _HINTS.get(cls)
    if hints is None:
        hints = _HINTS[cls] = {
            name: _converter(h) for name, h in typing.get_type_hints(cls).items() if name != "type"
        }
    return cls(**{k: hints[k](v) for k, v in data.items() if k != "type"})


# ---------------------------------------------------------------------------------------------
# 电子监察 (e-supervision): alerts, promised cases, the bad-review loop. Added with the dashboard.


@dataclass(frozen=True, kw_only=True, slots=True)
class AlertRaised(Event):
    """An alert raised or escalated (warning → yellow → red); `key` names what it is about."""

    type: ClassVar[str] = "alert_raised"
    key: str
    kind: str  # wait | service | unattended | idle | deadline | review
    level: str  # warning | yellow | red
    value: float = 0.0  # seconds (wait, service, unattended, idle) or working days overdue (deadline, review)
    threshold: float = 0.0
    ticket: str | None = None
    number: str | None = None
    window: str | None = None
    item: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class AlertCleared(Event):
    """The condition of an alert ended (the ticket was called, the service finished, the window came back)."""

    type: ClassVar[str] = "alert_cleared"
    key: str


@dataclass(frozen=True, kw_only=True, slots=True)
class CaseConcluded(Event):
    """办结: a promised case (承诺件) accepted on an earlier day is completed."""

    type: ClassVar[str] = "case_concluded"
    ticket: str
    accepted_on: date
    number: str
    item: str
    note: str = ""


@dataclass(frozen=True, kw_only=True, slots=True)
class ReviewStepRecorded(Event):
    """差评整改: one step of a bad review's closed loop (assigned, verified, rectified, called back, appealed …)."""

    type: ClassVar[str] = "review_step_recorded"
    ticket: str
    rated_on: date
    step: str
    note: str = ""
    to: str | None = None  # the chief representative it is assigned to (step "assigned")



# ---------------------------------------------------------------------------------------------
# 好差评 at the counter (server/domain/ratings.py). Added with the window terminal and evaluator.


@dataclass(frozen=True, kw_only=True, slots=True)
class EvaluationRequested(Event):
    """The clerk asked the citizen of `ticket` to rate the service on the window's evaluator."""

    type: ClassVar[str] = "evaluation_requested"
    window: str
    ticket: str
    number: str



# ---------------------------------------------------------------------------------------------
# 网上预约 and 远程取号 (server/domain/booking.py). Added with online appointments (issue 10).


@dataclass(frozen=True, kw_only=True, slots=True)
class AppointmentRescheduled(Event):
    """改约 within the same day: the booking moves to another slot of its item."""

    type: ClassVar[str] = "appointment_rescheduled"
    code: str
    slot_start: datetime
    slot_end: datetime


@dataclass(frozen=True, kw_only=True, slots=True)
class AppointmentCancelled(Event):
    """The booking is withdrawn (by its holder, or moved to another day: reason "rescheduled")."""

    type: ClassVar[str] = "appointment_cancelled"
    code: str
    reason: str = "citizen"


@dataclass(frozen=True, kw_only=True, slots=True)
class AppointmentMissed(Event):
    """爽约: nobody checked in before the slot's late tolerance ran out; the booking is released."""

    type: ClassVar[str] = "appointment_missed"
    code: str


@dataclass(frozen=True, kw_only=True, slots=True)
class ArrivalConfirmed(Event):
    """The holder of a remote ticket says they are in the hall: from now on it may be called."""

    type: ClassVar[str] = "arrival_confirmed"
    ticket: str



# Hall administration (server/domain/admin.py). Added with the admin pages.


@dataclass(frozen=True, kw_only=True, slots=True)
class CatalogChanged(Event):
    """The hall's catalogue got revision `rev` (stored beside the journal), in force from `effective`.

    Whoever folds this event re-reads the catalogue in force: that is how every worker and
    screen learns of an administrator's change.
    """

    type: ClassVar[str] = "catalog_changed"
    rev: int
    effective: date
    summary: str = ""



@dataclass(frozen=True, kw_only=True, slots=True)
class CatalogRevisionWithdrawn(Event):
    """Catalogue revision `rev`, still waiting for its day, was withdrawn: it will never be in force."""

    type: ClassVar[str] = "catalog_withdrawn"
    rev: int


# 日终清号: the day change closes out what is still open (server/domain/dayend.py).


@dataclass(frozen=True, kw_only=True, slots=True)
class TicketClosedOut(Event):
    """The hall-day ended with the ticket still open: it is void from then on, never lost.

    `status` is where it stood at the day's end (waiting, called, serving, suspended), `window`
    and `clerk` who held it then, so the record says which service ran over midnight.
    """

    type: ClassVar[str] = "ticket_closed_out"
    ticket: str
    number: str
    item: str
    status: str
    window: str | None = None
    clerk: str | None = None
    reason: str = "day_ended"


@dataclass(frozen=True, kw_only=True, slots=True)
class DayClosedOut(Event):
    """The last event of a closed hall-day: what it closed out, and the windows it left open.

    `at` is the day's end (midnight); `recorded_at` when the server got to it (later after a
    restart across midnight). Its presence is what makes the close-out happen once.
    """

    type: ClassVar[str] = "day_closed_out"
    tickets: int
    windows: tuple[str, ...] = ()  # open at the day's end, each closed by a window_closed before this
    recorded_at: datetime | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class ServiceFinishedLate(ServiceFinished):
    """办结 of a service that ran over midnight: the clerk finished it after its ticket was closed
    out. Journalled in the ticket's own (earlier) hall-day, so its case type and outcome count
    there; the window of the new day is not touched."""

    type: ClassVar[str] = "service_finished_late"



# 好差评 after the day of service (server/domain/ratings.py, `evaluate_late`). Added with issue 18.


@dataclass(frozen=True, kw_only=True, slots=True)
class TicketRatedLate(Event):
    """A rating given on a later day than the service, journalled on the day it was given (the
    ticket's own day is closed): which ticket of which day, and who served each part of it, so
    the statistics credit those windows and clerks. Never public (it names clerks)."""

    type: ClassVar[str] = "ticket_rated_late"
    ticket: str
    served_on: date
    number: str
    item: str
    channel: str  # kiosk | online | staff
    appointment: bool
    finished_at: datetime | None
    parts: tuple[tuple[str, str | None], ...]
    score: int
    comment: str = ""
    efficiency: int | None = None
    proficiency: int | None = None
    attitude: int | None = None
    reasons: tuple[str, ...] = ()
    concluded_on: date | None = None  # rated after the conclusion of a promised case on that day



def _by_type(*classes: type[Event]) -> dict[str, type[Event]]:
    table: dict[str, type[Event]] = {}
    for cls in classes:
        if not cls.type or cls.type in table:
            raise TypeError(f"{cls.__name__}: event type {cls.type!r} is empty or taken")
        table[cls.type] = cls
    return table


# Every event the journal may hold, by its `type`: what `from_dict` decodes. A new event is
# added here (tests/domain/test_registries.py checks that none is missing).
EVENT_TYPES: dict[str, type[Event]] = _by_type(
    AppointmentRegistered, TicketIssued, TicketPrintRecorded, TicketCancelled, TicketEvaluated,
    WindowOpened, TicketCalled, TicketRecalled, ServiceStarted, ServiceFinished, TicketNoShow,
    TicketTransferred, TicketSuspended, WindowPaused, WindowResumed, WindowClosed, WindowHandedOver,
    AlertRaised, AlertCleared, CaseConcluded, ReviewStepRecorded,
    EvaluationRequested,
    AppointmentRescheduled, AppointmentCancelled, AppointmentMissed, ArrivalConfirmed,
    CatalogChanged, CatalogRevisionWithdrawn,
    TicketClosedOut, DayClosedOut, ServiceFinishedLate,
    TicketRatedLate,
)
