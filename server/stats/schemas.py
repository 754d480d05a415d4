"""Answer shapes of the statistics and the bulletin, for the OpenAPI document and its tests."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from ..api.schemas import Out

From = Annotated[str, Field(alias="from")]


class Distribution(Out):
    count: int
    mean_s: float | None
    p50_s: float | None
    p90_s: float | None
    max_s: float | None


class Satisfaction(Out):
    rated: int
    rated_rate: float | None
    scores: dict[str, int]
    good_rate: float | None
    bad: int
    mean_score: float | None


class WindowTime(Out):
    open_s: float
    idle_s: float
    calling_s: float
    serving_s: float
    paused_s: float
    idle_waiting_s: float


class Alerts(Out):
    total: int
    warning: int
    yellow: int
    red: int


class AppointmentFigures(Out):
    """The day's bookings (网上预约) by how they ended: still booked, checked in, missed (爽约), cancelled."""

    booked: int
    checked_in: int
    missed: int
    cancelled: int


class StatsRow(Out):
    key: str
    name: str
    issued: int | None
    called: int
    served: int
    no_show: int
    no_show_rate: float | None
    transferred: int
    requeued: int
    cancelled: int | None
    unfinished: int | None
    wait: Distribution
    service: Distribution
    satisfaction: Satisfaction
    case_types: dict[str, int]
    outcomes: dict[str, int]
    window_time: WindowTime | None
    alerts: Alerts
    appointments: AppointmentFigures | None = None  # items, departments, days and channels
    # The statistics answer only: the wait and service thresholds the row is held against
    # (seconds: warning, yellow, red) and its times past them, with the level reached.
    thresholds: dict[str, list[float]] | None = None
    over: dict[str, dict[str, Literal["warning", "yellow", "red"]]] | None = None




class StatsAnswer(Out):
    hall: str
    from_: From
    to: str
    by: str
    generated_at: str
    rows: list[StatsRow]
    total: StatsRow


class Award(Out):
    parts: dict[str, float]
    score: float
    eligible: bool
    rank: int


class RankedWindow(StatsRow):
    award: Award


class Bulletin(Out):
    hall: str
    hall_name: str
    quarter: str
    from_: From
    to: str
    total: StatsRow
    departments: list[StatsRow]
    windows: list[RankedWindow]
    most_alerts: list[RankedWindow]
    candidates: list[RankedWindow]
    formula: dict[str, Any]
    attendance: Attendance | None = None
    clerks: list[RankedClerk] = []
    clerk_candidates: list[RankedClerk] = []
    clerk_formula: dict[str, Any] = {}


class AttendanceRow(Out):
    """考勤 of a window, clerk, day or the whole (server/domain/attendance.py)."""

    key: str
    name: str | None
    sessions: int
    on_time: int
    late: int
    late_s: float
    early: int
    early_s: float
    absent: int
    covered: int
    on_time_rate: float | None
    a_post: str | None = None  # windows
    b_post: str | None = None  # windows
    staff_no: str | None = None  # clerks
    alerts: int | None = None  # clerks: distinct alerts raised while they held a window


class AttendanceSession(Out):
    """A session that was not on time, or that someone other than the A post held."""

    day: str
    window: str
    window_name: str
    session: str
    a_post: str | None
    opened_at: str | None
    closed_at: str | None
    closed_by: str | None
    late_s: float
    early_s: float
    absent: bool
    on_duty: list[str | None]


class Attendance(Out):
    hall: str
    from_: From
    to: str
    generated_at: str
    grace_s: int
    windows: list[AttendanceRow]
    clerks: list[AttendanceRow]
    days: list[AttendanceRow]
    sessions: list[AttendanceSession]
    total: AttendanceRow


class ClerkAward(Out):
    parts: dict[str, float]
    score: float
    eligible: bool
    rank: int


class RankedClerk(Out):
    """服务标兵: a clerk's quarter, ranked (server/stats/bulletin.py)."""

    key: str
    name: str | None
    staff_no: str | None
    served: int
    rated: int
    mean_score: float | None
    bad: int
    alerts: int
    absent: int
    late: int
    early: int
    award: ClerkAward

Bulletin.model_rebuild()
