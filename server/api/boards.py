"""Answer shapes of the dashboard's API, for the OpenAPI document and its tests."""

from __future__ import annotations

from typing import Any, Literal

from server.api.schemas import Out

Level = Literal["warning", "yellow", "red"]


class Today(Out):
    issued: int
    served: int
    waiting: int
    no_show: int
    open_windows: int


class QueueNow(Out):
    item: str
    name: str
    department: str
    waiting: int
    longest_wait_s: int
    level: Level | None
    thresholds_s: list[float]


class BoardClerk(Out):
    username: str
    name: str
    staff_no: str
    post: Literal["A", "B"] | None


class BoardTicket(Out):
    number: str
    item: str
    item_name: str


class BoardPause(Out):
    reason: str
    until: str | None


class DutyPerson(Out):
    username: str
    name: str
    staff_no: str


class DutyOffer(Out):
    to: DutyPerson | None
    reason: Literal["paused", "absent"]
    action: Literal["take-over", "open"]
    since: str


class Duty(Out):
    """AB岗: the window's posts, who is on duty and whom the window is offered to."""

    a: DutyPerson | None
    b: DutyPerson | None
    on_duty: DutyPerson | None
    post: Literal["A", "B"] | None
    offer: DutyOffer | None


class BoardWindow(Out):
    id: str
    name: str
    kind: Literal["dedicated", "comprehensive"]
    zone: str
    state: Literal["closed", "idle", "called", "serving", "paused"]
    since: str | None
    for_s: int | None
    clerk: BoardClerk | None
    ticket: BoardTicket | None
    pause: BoardPause | None
    duty: Duty


class ActiveAlert(Out):
    key: str
    kind: Literal["wait", "service", "unattended", "idle", "deadline", "review"]
    level: Level
    raised_at: str
    at: str
    value: float
    threshold: float
    number: str | None
    window: str | None
    window_name: str | None
    item: str | None
    item_name: str | None


class WindowToOpen(Out):
    id: str
    name: str
    state: str


class Suggestion(Out):
    item: str
    name: str
    over_threshold: int
    waiting: int
    threshold_s: float
    open: list[WindowToOpen]  # closed or paused windows serving the item: open them
    call: list[WindowToOpen]  # idle windows serving the item now: call it
    off_schedule: list[WindowToOpen]  # idle windows whose schedule keeps the item out now


class Board(Out):
    hall: str
    name: str
    day: str
    now: str
    seq: int
    today: Today
    queues: list[QueueNow]
    windows: list[BoardWindow]
    alerts: list[ActiveAlert]
    log: list[dict[str, Any]]
    suggestions: list[Suggestion]


class AlertEvents(Out):
    hall: str
    day: str
    alerts: list[dict[str, Any]]


class ReviewStep(Out):
    step: str
    at: str
    by: str
    note: str | None
    to: str | None
    by_name: str | None = None  # the person's name (None: the hall's supervision itself)


class Review(Out):
    ticket: str
    number: str
    item: str
    item_name: str
    window: str | None
    window_name: str | None
    clerk: str | None
    rated_on: str
    score: int
    comment: str
    status: str
    closed: bool
    assignee: str | None
    assignee_name: str | None = None
    due: str | None
    steps: list[ReviewStep]


class Reviews(Out):
    hall: str
    reviews: list[Review]
    steps: dict[str, list[str]]


class Case(Out):
    ticket: str
    number: str
    item: str
    item_name: str
    window: str | None
    accepted_on: str
    deadline: str
    working_days_left: int
    level: Level | None


class Cases(Out):
    hall: str
    cases: list[Case]


class Concluded(Out):
    ticket: str
    number: str
    concluded_at: str


class RegionFigures(Out):
    issued: int
    served: int
    waiting: int
    no_show: int
    longest_wait_s: float | None
    mean_wait_s: float | None
    open_windows: int
    windows: int
    alerts_red: int
    alerts_yellow: int
    rated: int
    good_rate: float | None


class RegionHall(Out):
    id: str
    name: str
    level: str
    parent: str | None
    depth: int
    today: RegionFigures


class Region(Out):
    """A hall and every hall below it (市 → 县 → 乡镇), live today, with the sums."""

    hall: str
    name: str
    day: str
    now: str
    halls: list[RegionHall]
    total: RegionFigures
