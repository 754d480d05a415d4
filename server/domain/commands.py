"""Commands: what someone asks the hall to do, in the imperative. `decide` turns them into events."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime


@dataclass(frozen=True, kw_only=True, slots=True)
class Command:
    by: str  # a username, or the channel/device for citizens' own actions


@dataclass(frozen=True, kw_only=True, slots=True)
class RegisterAppointment(Command):
    code: str
    item: str
    slot_start: datetime
    slot_end: datetime


@dataclass(frozen=True, kw_only=True, slots=True)
class IssueTicket(Command):
    ticket: str  # a fresh unguessable id, chosen outside the pure core
    item: str
    channel: str = "kiosk"
    priority: bool = False
    appointment: str | None = None
    remote: bool = False  # 远程取号 from a phone: needs phone_key, called once arrival is confirmed
    phone_key: str | None = None
    person_key: str | None = None  # taken with an ID card: a keyed hash of its number (server/domain/idcard.py)


@dataclass(frozen=True, kw_only=True, slots=True)
class RecordPrint(Command):
    ticket: str
    ok: bool
    detail: str = ""
    partial: bool = False  # failed after some of the ticket reached the printer: a part may have come out


@dataclass(frozen=True, kw_only=True, slots=True)
class CancelTicket(Command):
    ticket: str


@dataclass(frozen=True, kw_only=True, slots=True)
class Evaluate(Command):
    ticket: str
    score: int
    comment: str = ""
    # The three offline indicators (服务效率, 服务水平, 服务态度), 1..5 each when given, and the
    # reasons of a bad rating (codes of server/domain/ratings.REASONS); see ratings.py.
    efficiency: int | None = None
    proficiency: int | None = None
    attitude: int | None = None
    reasons: tuple[str, ...] = ()
    window: str | None = None  # rated on this window's evaluator: the ticket must be its last served


@dataclass(frozen=True, kw_only=True, slots=True)
class WindowCommand(Command):
    window: str


@dataclass(frozen=True, kw_only=True, slots=True)
class OpenWindow(WindowCommand):
    pass


@dataclass(frozen=True, kw_only=True, slots=True)
class CallNext(WindowCommand):
    pass


@dataclass(frozen=True, kw_only=True, slots=True)
class CallTicket(WindowCommand):
    """指呼: call a chosen waiting or suspended ticket."""

    ticket: str  # its number today, as the clerk sees it, or its id


@dataclass(frozen=True, kw_only=True, slots=True)
class Recall(WindowCommand):
    pass


@dataclass(frozen=True, kw_only=True, slots=True)
class StartService(WindowCommand):
    pass


@dataclass(frozen=True, kw_only=True, slots=True)
class FinishService(WindowCommand):
    case_type: str
    outcome: str = "completed"
    missing: tuple[str, ...] = ()
    note: str = ""


@dataclass(frozen=True, kw_only=True, slots=True)
class NoShow(WindowCommand):
    requeue: bool = False


@dataclass(frozen=True, kw_only=True, slots=True)
class Transfer(WindowCommand):
    to_item: str | None = None
    to_window: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class Suspend(WindowCommand):
    kind: str


@dataclass(frozen=True, kw_only=True, slots=True)
class Pause(WindowCommand):
    reason: str
    until: datetime | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class Resume(WindowCommand):
    pass


@dataclass(frozen=True, kw_only=True, slots=True)
class CloseWindow(WindowCommand):
    pass


@dataclass(frozen=True, kw_only=True, slots=True)
class Handover(WindowCommand):
    """AB岗: the other post's clerk takes the window over."""

    to: str | None = None


# ---------------------------------------------------------------------------------------------
# 电子监察 (e-supervision). Alerts, promised cases and bad reviews reach across hall-days, which
# the hall-day state does not hold: the caller passes what it knows of them in the command, as
# ticket ids are passed in IssueTicket, and the rules in server/domain/supervision.py decide.


@dataclass(frozen=True, kw_only=True, slots=True)
class OpenCase:
    """A promised case (承诺件) accepted on an earlier day and not concluded yet."""

    ticket: str
    number: str
    item: str
    window: str | None
    accepted_on: date
    deadline: date


@dataclass(frozen=True, kw_only=True, slots=True)
class OpenReview:
    """A bad review (差评, score 1–2) whose loop is not closed; `status` is its last step."""

    ticket: str
    number: str
    item: str
    window: str | None
    rated_on: date
    status: str  # new | assigned | verified | rectified | appealed | appeal_rejected


@dataclass(frozen=True, kw_only=True, slots=True)
class Supervise(Command):
    """Look at the hall now: raise, escalate and clear alerts; assign new bad reviews."""

    active: tuple[tuple[str, str], ...] = ()  # (key, level) of today's alerts not cleared
    cases: tuple[OpenCase, ...] = ()
    reviews: tuple[OpenReview, ...] = ()


@dataclass(frozen=True, kw_only=True, slots=True)
class ConcludeCase(Command):
    """办结 of a promised case accepted on an earlier day."""

    case: OpenCase
    note: str = ""


@dataclass(frozen=True, kw_only=True, slots=True)
class RecordReviewStep(Command):
    review: OpenReview
    step: str
    note: str = ""


# ---------------------------------------------------------------------------------------------
# 好差评 at the counter: the window's evaluator (server/domain/ratings.py). Added with issue 6.


@dataclass(frozen=True, kw_only=True, slots=True)
class RequestEvaluation(WindowCommand):
    """The clerk asks the citizen to rate (主动邀评): the window's evaluator shows the rating again."""


# ---------------------------------------------------------------------------------------------
# 网上预约 and 远程取号 (server/domain/booking.py). Added with online appointments (issue 10).
# A phone number's bookings on other days live in other hall-day streams: the caller counts
# them (`held_elsewhere`), as supervision passes open cases in its command.


@dataclass(frozen=True, kw_only=True, slots=True)
class BookAppointment(Command):
    code: str  # short and random, chosen outside the pure core
    item: str
    slot_start: datetime
    phone_key: str
    phone_masked: str
    channel: str = "online"
    held_elsewhere: int = 0
    moved_from: date | None = None
    person_key: str | None = None  # booked with an ID number: found by the card at the kiosk (its keyed hash)


@dataclass(frozen=True, kw_only=True, slots=True)
class RescheduleAppointment(Command):
    """Move a booking to another slot of the same day."""

    code: str
    slot_start: datetime


@dataclass(frozen=True, kw_only=True, slots=True)
class CancelAppointment(Command):
    code: str
    reason: str = "citizen"


@dataclass(frozen=True, kw_only=True, slots=True)
class ReleaseMissed(Command):
    """Release the bookings whose check-in time is over (爽约), recording each as missed."""


@dataclass(frozen=True, kw_only=True, slots=True)
class ConfirmArrival(Command):
    ticket: str


@dataclass(frozen=True, kw_only=True, slots=True)
class RecordCatalogChange(Command):
    """Record in the day's stream that catalogue revision `rev` was stored (see server/domain/admin.py)."""

    rev: int
    effective: date
    summary: str = ""


@dataclass(frozen=True, kw_only=True, slots=True)
class RecordCatalogWithdrawal(Command):
    """Record in the day's stream that the waiting catalogue revision `rev` was withdrawn."""

    rev: int


# ---------------------------------------------------------------------------------------------
# 日终清号: the day change (server/domain/dayend.py).


@dataclass(frozen=True, kw_only=True, slots=True)
class CloseOutDay(Command):
    """Close out the hall-day that has ended: every ticket still open, every window still open."""


@dataclass(frozen=True, kw_only=True, slots=True)
class CarryOverWindows(Command):
    """Open again, on the new day, the windows the day before left open (window, clerk)."""

    from_day: date
    windows: tuple[tuple[str, str], ...]


# ---------------------------------------------------------------------------------------------
# 好差评 after the day of service (server/domain/ratings.py, `evaluate_late`). Added with issue 18.
# The ticket lives in an earlier hall-day's stream, and a late rating given on another day in
# that day's: the caller reads them from the journal and passes what it found, as supervision
# passes open cases in its command; the rule checks them and today's own late ratings.


@dataclass(frozen=True, kw_only=True, slots=True)
class ServedTicket:
    """A ticket of an earlier hall-day, as its day's journal and the days after hold it."""

    ticket: str
    served_on: date  # the ticket's hall-day
    number: str
    item: str
    channel: str  # kiosk | online | staff
    appointment: bool  # checked in for a booking (预约)
    status: str  # done, or what it ended as (never rated then)
    finished_at: datetime | None
    case_type: str | None
    # Who served each part of the visit, in order: (window, clerk), one per window and clerk
    # (a transferred ticket has several); the rating credits each of them.
    parts: tuple[tuple[str, str | None], ...]
    rated: bool  # rated already: on its own day or, late, on a day before today (一次一评)
    concluded_on: date | None = None  # 办结 of a promised case (承诺件) on a later day


@dataclass(frozen=True, kw_only=True, slots=True)
class EvaluateLate(Command):
    """Rate, on a later day, a ticket served on an earlier one (the mobile ticket page)."""

    served: ServedTicket
    score: int
    comment: str = ""
    efficiency: int | None = None
    proficiency: int | None = None
    attitude: int | None = None
    reasons: tuple[str, ...] = ()
