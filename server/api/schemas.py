"""Answer shapes: what the API returns, as models, for the OpenAPI document and its tests.

The views in views.py build plain dicts for speed; these models describe them (extra fields
forbidden), and the schema tests check every answer against them, so the document cannot
drift from what the server sends.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from ..domain.model import PrintStatus, TicketStatus


class Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Problem(Out):
    model_config = ConfigDict(extra="allow")
    type: str
    title: str
    status: int
    detail: str


class Ticket(Out):
    id: str
    number: str
    item: str
    item_name: str
    status: TicketStatus
    priority: bool
    appointment: bool
    channel: Literal["kiosk", "online", "staff"]
    issued_at: str
    called_at: str | None
    ahead: int
    estimated_wait_s: int
    window: str | None
    window_name: str | None
    windows: list[str]
    recalls: int
    transfers: int
    print_status: PrintStatus
    status_url: str
    window_hint: str | None = None
    suspend_kind: str | None = None
    case_type: str | None = None
    outcome: str | None = None
    missing: list[str] | None = None
    deadline: str | None = None
    rated: bool | None = None


class PublicTicket(Out):
    number: str
    item: str
    item_name: str
    status: TicketStatus
    window: str | None
    window_name: str | None
    called_at: str | None


class Clerk(Out):
    name: str
    staff_no: str
    post: Literal["A", "B"] | None


class Pause(Out):
    reason: str
    until: str | None


class Window(Out):
    id: str
    name: str
    called_as: str
    kind: Literal["dedicated", "comprehensive"]
    zone: str
    state: Literal["closed", "idle", "called", "serving", "paused"]
    since: str | None
    ticket: Ticket | PublicTicket | None
    clerk: Clerk | None
    pause: Pause | None


class QueueRow(Out):
    item: str
    name: str
    department: str
    prefix: str
    waiting: int
    ahead_of_newcomer: int
    estimated_wait_s: int
    open_windows: int
    issuing: bool
    quota_left: int | None


class Queues(Out):
    hall: str
    day: str
    seq: int
    items: list[QueueRow]


class HallSummary(Out):
    id: str
    name: str
    timezone: str


class Publics(Out):
    content: str
    legal_basis: str
    procedure: str
    requirements: str
    time_limit: str
    fee: str


class CatalogItem(Out):
    id: str
    name: str
    department: str
    prefix: str
    case_type: Literal["immediate", "promised", "joint", "escalated"]
    promised_days: int | None
    daily_quota: int | None
    materials: list[str]
    publics: Publics


class CatalogWindow(Out):
    id: str
    name: str
    kind: Literal["dedicated", "comprehensive"]
    zone: str
    items: list[str]


class CatalogHall(Out):
    id: str
    name: str
    timezone: str
    notice: str


class Department(Out):
    id: str
    name: str


class Catalog(Out):
    hall: CatalogHall
    rev: int = 0  # the catalogue revision in force (0: the config files)
    departments: list[Department]
    items: list[CatalogItem]
    windows: list[CatalogWindow]


class Evaluation(Out):
    ticket: str
    score: int


class Appointment(Out):
    code: str
    item: str
    slot_start: str
    slot_end: str


class StaffUser(Out):
    username: str
    name: str
    staff_no: str
    role: Literal["clerk", "chief", "manager", "admin"]
    windows: list[str]
    post: Literal["A", "B"] | None
    department: str | None


class JournalEvent(Out):
    model_config = ConfigDict(extra="allow")
    seq: int
    type: str
    at: str
    by: str


class Journal(Out):
    hall: str
    day: str
    events: list[JournalEvent]


# -- hall administration (dashboard/admin.py) ---------------------------------------------------
class FieldChange(Out):
    field: str
    before: Any = None
    after: Any = None


class EntryLabel(Out):
    id: str
    name: str


class EntryChange(Out):
    id: str
    name: str
    fields: list[FieldChange]


class ListDiff(Out):
    added: list[EntryLabel]
    removed: list[EntryLabel]
    retired: list[EntryLabel]
    restored: list[EntryLabel]
    changed: list[EntryChange]


class CatalogDiff(Out):
    hall: list[FieldChange]
    departments: ListDiff
    items: ListDiff
    windows: ListDiff
    kiosks: ListDiff


class CatalogPlan(Out):
    """What a change does (a preview) or did (saved): the revision, from when, the diff."""

    hall: str
    saved: bool
    base: int
    rev: int
    effective: str
    summary: str
    diff: CatalogDiff
    ignored: list[str] = []


class Withdrawal(Out):
    at: str
    by: str


class RevisionInfo(Out):
    rev: int
    at: str | None
    by: str
    effective: str | None
    summary: str
    in_force: bool
    pending: bool
    withdrawn: Withdrawal | None


class AdminCatalog(Out):
    """The catalogue an administrator edits: the newest revision (in force or waiting for its day)."""

    hall: str
    rev: int
    in_force: int
    effective: str | None
    today: str
    document: dict[str, Any]
    revisions: list[RevisionInfo]


class RevisionDetail(RevisionInfo):
    document: dict[str, Any]
    diff: CatalogDiff
