"""The state of one hall-day: tickets, windows and appointments, as folded from events."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from typing import Any, TypeVar
from datetime import date, datetime
from enum import StrEnum


class TicketStatus(StrEnum):
    waiting = "waiting"
    called = "called"
    serving = "serving"
    suspended = "suspended"  # 挂起: fetching materials, documents left, waiting on a step
    done = "done"
    no_show = "no_show"  # 过号: called and did not come
    cancelled = "cancelled"  # left before being called
    closed_out = "closed_out"  # 日终作废: still open when the hall-day ended (server/domain/dayend.py)


OPEN_STATUSES = frozenset({TicketStatus.waiting, TicketStatus.called, TicketStatus.serving, TicketStatus.suspended})


class WindowStatus(StrEnum):
    closed = "closed"
    idle = "idle"  # open, nobody at the counter
    called = "called"
    serving = "serving"
    paused = "paused"  # 暂停服务 with a leave notice


class Channel(StrEnum):
    kiosk = "kiosk"
    online = "online"
    staff = "staff"


class Outcome(StrEnum):
    completed = "completed"  # accepted / handled
    one_time_notice = "one_time_notice"  # 一次性告知: sent away with the full list of missing materials
    not_accepted = "not_accepted"  # 不予受理
    consultation = "consultation"  # 咨询 only


class SuspendKind(StrEnum):
    fetching_materials = "fetching_materials"  # 补取材料
    documents_left = "documents_left"  # 材料留存, citizen comes back later today
    waiting_step = "waiting_step"  # 等待其他环节 (payment, another department)


class PrintStatus(StrEnum):
    unprinted = "unprinted"
    printed = "printed"
    failed = "failed"
    reprinted = "reprinted"


class Lane(StrEnum):
    """Why a ticket was called: the rule of the call policy that chose it."""

    appointment = "appointment"
    aged = "aged"
    priority = "priority"
    normal = "normal"
    chosen = "chosen"  # 指呼: the clerk picked it


@dataclass(slots=True)
class Ticket:
    id: str
    number: str
    item: str
    ordinal: float  # the seq of its issue event, a tie-breaker (a re-queue slots it between two)
    issued_at: datetime
    queued_at: datetime  # its place in the queue; keeps the issue time across transfers
    channel: Channel
    priority: bool = False
    appointment: str | None = None
    slot_start: datetime | None = None
    status: TicketStatus = TicketStatus.waiting
    window: str | None = None  # the window holding it (called, serving, suspended)
    target_window: str | None = None  # pinned by a transfer to a window
    called_at: datetime | None = None
    last_called_at: datetime | None = None  # the latest call or recall, for the screens' recent calls
    started_at: datetime | None = None
    finished_at: datetime | None = None
    calls: int = 0
    recalls: int = 0
    requeues: int = 0
    transfers: int = 0
    suspend_kind: SuspendKind | None = None
    suspended_at: datetime | None = None
    suspended_s: float = 0.0
    segment_start: datetime | None = None  # the service under way at a window began then
    service_s: float = 0.0  # time served so far, over every start → finish/suspend/transfer
    case_type: str | None = None
    outcome: Outcome | None = None
    missing: tuple[str, ...] = ()
    deadline: date | None = None
    print_status: PrintStatus = PrintStatus.unprinted
    prints: int = 0  # prints recorded (printed, failed or reprinted): what the holder's reprint limit counts
    score: int | None = None
    remote: bool = False  # 远程取号: skipped by the call policy until arrived_at is set
    arrived_at: datetime | None = None
    phone_key: str | None = None
    person_key: str | None = None  # taken with an ID card: the per-person limits count by it
    closed_out_from: str | None = None  # the status it had when the day ended and closed it out
    model_wait_s: int | None = None  # the uncalibrated wait estimate it was given at issue
    # Who served it, part by part: (window, clerk) at each start of a service, once each pair
    # (a transferred ticket has several); a rating credits every one (server/domain/ratings.py).
    served_by: tuple[tuple[str, str | None], ...] = ()

    @property
    def front(self) -> bool:
        """Counted in HallDay.front: an appointment or a priority ticket, ahead of walk-ins."""
        return self.priority or self.appointment is not None

    @property
    def callable(self) -> bool:
        """Whether the call policy may call it: a remote ticket waits for its holder's arrival."""
        return not self.remote or self.arrived_at is not None


@dataclass(slots=True)
class WindowState:
    id: str
    status: WindowStatus = WindowStatus.closed
    clerk: str | None = None
    ticket: str | None = None
    since: datetime | None = None
    pause_reason: str | None = None
    pause_until: datetime | None = None
    priority_streak: int = 0  # priority calls in a row, for the interleave ratio
    calls: int = 0  # tickets called here this hall-day (a late finish is about last night only before the first)


@dataclass(slots=True)
class Appointment:
    """预约: booked for a slot; checked in at the kiosk, which issues its ticket."""

    code: str
    item: str
    slot_start: datetime
    slot_end: datetime
    ticket: str | None = None
    channel: str = "staff"
    phone_key: str | None = None
    phone_masked: str | None = None
    booked_at: datetime | None = None
    cancelled: bool = False
    missed: bool = False  # 爽约: released after its check-in time ran out
    person_key: str | None = None  # booked with an ID number (its keyed hash): the card finds it at the kiosk

    @property
    def status(self) -> str:
        if self.cancelled:
            return "cancelled"
        if self.ticket is not None:
            return "checked_in"
        if self.missed:
            return "missed"
        return "booked"


@dataclass(slots=True)
class ServiceFigures:
    """Running sums of the day's finished services for one item, for estimates."""

    count: int = 0
    total_s: float = 0.0
    left: int = 0  # tickets that left the queue before they were called (cancelled while waiting)


@dataclass(slots=True)
class HallDay:
    """One hall's state for one day, the fold of that day's events (seq = last applied)."""

    hall: str
    day: date
    seq: int = 0
    tickets: dict[str, Ticket] = field(default_factory=dict)
    last_number: dict[str, int] = field(default_factory=dict)  # prefix -> last number issued
    issued: dict[str, int] = field(default_factory=dict)  # item -> tickets issued today
    waiting: dict[str, dict[str, None]] = field(default_factory=dict)  # item -> waiting ticket ids
    pinned: dict[str, dict[str, None]] = field(default_factory=dict)  # window -> waiting ids pinned to it
    front: dict[str, int] = field(default_factory=dict)  # item -> waiting appointment and priority tickets
    windows: dict[str, WindowState] = field(default_factory=dict)
    appointments: dict[str, Appointment] = field(default_factory=dict)
    figures: dict[str, ServiceFigures] = field(default_factory=dict)
    # Walk-ins called today: the sum of their uncalibrated estimates and of the waits they had,
    # from which the estimates calibrate themselves (server/domain/estimates.py).
    modelled_wait_s: float = 0.0
    waited_s: float = 0.0
    last_at: datetime | None = None  # when the last event folded happened: the day's own "now"
    # The estimates' memo of the day's calibration at a position: (seq, last_at, factor); derived
    # from the fields above and the waiting tickets, never journalled.
    calibrated: tuple[int, datetime | None, float] | None = field(default=None, compare=False, repr=False)
    # The day change (server/domain/dayend.py): when this day was closed out, the windows it left
    # open, the services that ran over midnight (window -> ticket, until finished late), and,
    # for a new day, the day whose open windows it took over.
    closed_out_at: datetime | None = None
    left_open: tuple[str, ...] = ()
    overnight: dict[str, str] = field(default_factory=dict)
    carried_from: date | None = None
    # Tickets of earlier days rated late today (好差评 after the day of service): one rating each.
    rated_late: set[str] = field(default_factory=set)

    def copy(self) -> HallDay:
        """An independent hall-day at the same position: what a writer goes back to when the
        events it folded tentatively were refused (another worker appended first), without
        reading and folding the whole day again. Every container is new and every ticket,
        window, appointment and figure is copied; their own fields hold only immutable values."""
        return replace(
            self,
            tickets={k: _clone_ticket(t) for k, t in self.tickets.items()},
            last_number=dict(self.last_number),
            issued=dict(self.issued),
            waiting={k: dict(v) for k, v in self.waiting.items()},
            pinned={k: dict(v) for k, v in self.pinned.items()},
            front=dict(self.front),
            windows={k: _clone_window(w) for k, w in self.windows.items()},
            appointments={k: _clone_appointment(a) for k, a in self.appointments.items()},
            figures={k: _clone_figures(f) for k, f in self.figures.items()},
            overnight=dict(self.overnight),
            rated_late=set(self.rated_late),
        )

    def window(self, window_id: str) -> WindowState:
        """A window's state for reading: a window never opened today is closed (nothing is stored)."""
        return self.windows.get(window_id) or WindowState(window_id)

    def window_for_update(self, window_id: str) -> WindowState:
        w = self.windows.get(window_id)
        if w is None:
            w = self.windows[window_id] = WindowState(window_id)
        return w

    def waiting_count(self, item: str) -> int:
        return len(self.waiting.get(item, ()))


T = TypeVar("T")


def _cloner(cls: type[T]) -> Callable[[T], T]:
    """A shallow copy of a slotted dataclass that assigns each field by name: about 30 times
    faster than copy.copy (a busy day holds thousands of tickets). The function's source is
    made from the class's own fields, as dataclasses makes __init__."""
    body = "".join(f"    n.{f.name} = o.{f.name}\n" for f in fields(cls))  # type: ignore[arg-type]
    namespace: dict[str, Any] = {"new": object.__new__, "cls": cls}
    exec(f"def clone(o):\n    n = new(cls)\n{body}    return n\n", namespace)  # noqa: S102 - our own field names
    return namespace["clone"]  # type: ignore[no-any-return]


_clone_ticket = _cloner(Ticket)
_clone_window = _cloner(WindowState)
_clone_appointment = _cloner(Appointment)
_clone_figures = _cloner(ServiceFigures)
