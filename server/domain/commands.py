"""Commands: what someone asks the hall to do, in the imperative. `decide` turns them into events."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


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


@dataclass(frozen=True, kw_only=True, slots=True)
class RecordPrint(Command):
    ticket: str
    ok: bool
    detail: str = ""


@dataclass(frozen=True, kw_only=True, slots=True)
class CancelTicket(Command):
    ticket: str


@dataclass(frozen=True, kw_only=True, slots=True)
class Evaluate(Command):
    ticket: str
    score: int
    comment: str = ""


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

    ticket: str


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
