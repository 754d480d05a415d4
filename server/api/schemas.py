"""Answer shapes: what the API returns, as models, for the OpenAPI document and its tests.

The views in views.py build plain dicts for speed; these models describe them (extra fields
forbidden), and the schema tests check every answer against them, so the document cannot
drift from what the server sends.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ..domain.model import PrintStatus, TicketStatus


class Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Problem(Out):
    model_config = ConfigDict(extra="allow")
    type: str
    title: str
    status: int
    detail: str
    request_id: str | None = Field(None, description="the id of this request in the server's log lines (X-Request-Id)")


class CounterTicket(Out):
    """A ticket as the staff at a counter see it: by number, without what only its holder may know."""

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
    estimated_wait_range_s: list[int] = Field(
        min_length=2, max_length=2,
        description="an 80 % interval around the estimate, wider while the day has few services to learn from")
    window: str | None
    window_name: str | None
    windows: list[str]
    recalls: int
    transfers: int
    print_status: PrintStatus
    window_hint: str | None = None
    suspend_kind: str | None = None
    case_type: str | None = None
    outcome: str | None = None
    missing: list[str] | None = None
    deadline: str | None = None
    rated: bool | None = None
    remote: bool | None = None  # 远程取号: called only once `arrived`
    arrived: bool | None = None
    confirm_ahead: int | None = None
    mobile_url: str | None = None  # the mobile ticket page (/t/{id}), in the answer to a remote number
    closed_out_from: TicketStatus | None = None  # 日终作废: what it was when its hall-day ended
    day: str | None = None  # the hall-day of a closed-out ticket (the day before), or of any ticket of an earlier day


class Ticket(CounterTicket):
    """A ticket as its holder sees it: its id is the secret that opens, cancels and rates it."""

    id: str
    status_url: str
    # A ticket of an earlier day (好差评 after the day of service): whether its holder may rate it
    # now, and the last day they may.
    rating_open: bool | None = None
    rating_closes: str | None = None


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
    ticket: CounterTicket | PublicTicket | None
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
    opens_at: str | None = None  # not issuing now: when it issues next (within a month)
    quota_left: int | None


class Queues(Out):
    hall: str
    day: str
    seq: int
    items: list[QueueRow]


class CalendarCoverage(Out):
    covered_until: str = Field(description="the last day of the national holiday calendar this server knows")
    days_left: int = Field(description="days from today to covered_until")
    warning: bool = Field(description="fewer than 60 days are known, or bookings reach past them: add next year's table")
    next_year: int = Field(description="the year to add")


class NationalCalendar(Out):
    years: list[int] = Field(description="the years whose official holidays and swapped working days are known")
    coverage: CalendarCoverage


class Connections(Out):
    descriptors: int = Field(description="the process's file-descriptor limit (RLIMIT_NOFILE), read at start")
    open: int = Field(description="client connections open now")
    limit: int = Field(description="client connections this process holds at most (below `descriptors`)")
    per_address: int = Field(description="connections one client address may hold (0: no cap)")
    websockets: int = Field(description="websockets open now")
    websockets_limit: int = Field(description="websockets this process holds at most")
    websockets_per_address: int = Field(description="websockets one client address may hold (0: no cap)")
    refused: int = Field(description="connections and websockets refused since start")


class Health(Out):
    status: Literal["ok", "degraded"] = Field(description="degraded: the bus is down, screens on other workers lag by up to a second")
    worker: str = Field(description="this process among several (empty: the only one)")
    journal: bool = Field(description="the journal took a write just now (one that keeps nothing); when it cannot, health is 503")
    bus: bool = Field(description="the bus between processes is connected (always true in one process)")
    halls: dict[str, int] = Field(description="per hall, the last journal position this process has folded")
    version: str = Field(description="the hallq release this process runs")
    schema_revision: str = Field(description="the newest database schema revision this code knows (the database is at it once serving)")
    calendar: CalendarCoverage
    connections: Connections = Field(description="this process's connections against their limits (see SECURITY.md)")


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
    """A booking as its holder (the code is the secret) and staff see it: the phone masked."""

    code: str
    item: str
    slot_start: str
    slot_end: str
    item_name: str | None = None
    day: str | None = None
    status: Literal["booked", "checked_in", "missed", "cancelled"] | None = None
    phone: str | None = None  # masked, 138****1234
    channel: str | None = None
    ticket_number: str | None = None
    check_in_from: str | None = None
    check_in_until: str | None = None
    manage_url: str | None = None
    qr_url: str | None = None


class Slot(Out):
    start: str
    end: str
    capacity: int
    left: int


class SlotDay(Out):
    day: str
    slots: list[Slot]


class Challenge(Out):
    challenge: str
    bits: int
    expires_at: str


class Slots(Out):
    item: str
    item_name: str
    slot_minutes: int
    days: list[SlotDay]


class SlotBookings(Out):
    start: str
    end: str
    capacity: int
    booked: int
    checked_in: int
    missed: int
    cancelled: int
    bookings: list[Appointment]


class ItemBookings(Out):
    item: str
    name: str
    slots: list[SlotBookings]


class DayBookings(Out):
    hall: str
    day: str
    items: list[ItemBookings]


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


# -- hall administration (server/api/admin.py) --------------------------------------------------
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
