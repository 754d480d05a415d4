"""The hall's catalogue: departments, service items, windows, staff and rules, validated.

These models are both the schema of the files in `config/` and the read-only catalogue the
engine decides with, so a config file, the API's documents and the engine cannot disagree.
"""

from __future__ import annotations

import re
from datetime import time
from enum import StrEnum
from functools import cached_property
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Id = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$")]


class CaseType(StrEnum):
    """四件管理: every finished service is one of these."""

    immediate = "immediate"  # 即办件
    promised = "promised"  # 承诺件
    joint = "joint"  # 联办件
    escalated = "escalated"  # 上报件


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


_RANGE = re.compile(r"^(\d{2}):(\d{2})-(\d{2}):(\d{2})$")


class TimeRange(Frozen):
    """A range of clock time within one day, written "08:30-12:00" in config files."""

    start: time
    end: time

    @model_validator(mode="before")
    @classmethod
    def _parse(cls, value: object) -> object:
        if isinstance(value, str):
            m = _RANGE.match(value.strip())
            if not m:
                raise ValueError(f"{value!r} is not a time range like '08:30-12:00'")
            h1, m1, h2, m2 = (int(g) for g in m.groups())
            if h2 == 24 and m2 == 0:
                h2, m2 = 23, 59
            try:
                return {"start": time(h1, m1), "end": time(h2, m2)}
            except ValueError as exc:
                raise ValueError(f"{value!r}: {exc}") from None
        return value

    @model_validator(mode="after")
    def _ordered(self) -> TimeRange:
        if self.end <= self.start:
            raise ValueError(f"ends at {self.end:%H:%M}, before it starts at {self.start:%H:%M}")
        return self

    def contains(self, t: time) -> bool:
        return self.start <= t < self.end

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"


Weekday = Annotated[int, Field(ge=1, le=7)]


class Schedule(Frozen):
    """When something is open: weekdays (1 = Monday) and clock ranges on those days.

    `follow_holidays` makes statutory holidays closed and swapped working days open
    (the official Chinese calendar), which is how halls work.
    """

    weekdays: tuple[Weekday, ...] = (1, 2, 3, 4, 5)
    hours: tuple[TimeRange, ...] = Field(("08:30-12:00", "13:30-17:30"), min_length=1, validate_default=True)
    follow_holidays: bool = True


class CallPolicy(Frozen):
    """How a window chooses whom to call next (see server/domain/policy.py)."""

    priority_ratio: int = Field(2, ge=1, le=20, description="priority calls allowed in a row while normal tickets wait")
    ageing_s: int = Field(1800, ge=60, description="a ticket waiting this long is called before younger ones of any lane")
    no_show_requeue_places: int = Field(3, ge=0, description="a re-queued no-show goes back behind this many waiting tickets")
    max_requeues: int = Field(1, ge=0, description="how often one ticket may be re-queued after a no-show")
    appointment_early_s: int = Field(1800, ge=0, description="how early before its slot an appointment may check in")
    appointment_late_s: int = Field(900, ge=0, description="how late after its slot starts an appointment may check in")


class Voice(Frozen):
    """How calls are spoken in the lobby (叫号语音)."""

    template: str = Field("请 {number} 号 到 {window} 办理", description="{number} and {window} are filled in")
    repeat: int = Field(2, ge=1, le=5, description="how often each call is spoken")
    screens: tuple[str, ...] = Field((), description="ids of the screens that speak (usually one lobby screen per zone)")

    @field_validator("template")
    @classmethod
    def _placeholders(cls, value: str) -> str:
        try:
            value.format(number="A001", window="1号窗口")
        except (KeyError, IndexError, ValueError) as exc:
            raise ValueError(f"only {{number}} and {{window}} may be filled in: {exc}") from None
        return value


class Hall(Frozen):
    """A service hall (政务服务中心): its name, time zone, opening hours and rules."""

    id: Id
    name: str = Field(min_length=1)
    timezone: str = "Asia/Shanghai"
    opening: Schedule = Schedule()
    enforce_hours: bool = Field(True, description="refuse tickets outside opening hours and on holidays")
    demo: bool = Field(False, description="accounts without a set password take the demo password")
    policy: CallPolicy = CallPolicy()
    notice: str = ""
    voice: Voice = Voice()

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo

        try:
            ZoneInfo(value)
        except Exception:
            raise ValueError(f"unknown time zone {value!r}") from None
        return value


class Department(Frozen):
    """部门 / 进驻单位: owns service items and windows."""

    id: Id
    name: str = Field(min_length=1)
    short_name: str = ""


class Publics(Frozen):
    """六个公开: the six things published for every service item."""

    content: str = Field(min_length=1, description="审批内容")
    legal_basis: str = Field(min_length=1, description="法律依据")
    procedure: str = Field(min_length=1, description="办理程序")
    requirements: str = Field(min_length=1, description="办事条件 / 申请材料")
    time_limit: str = Field(min_length=1, description="承诺时限")
    fee: str = Field(min_length=1, description="收费标准")


class Item(Frozen):
    """事项: what a citizen comes for, with its six publics and ticket rules."""

    id: Id
    name: str = Field(min_length=1)
    department: Id
    prefix: str = Field(pattern=r"^[A-Z]{1,2}$", description="ticket number prefix, unique in the hall")
    case_type: CaseType = CaseType.immediate
    promised_days: int | None = Field(None, ge=1, le=365, description="working days to complete a promised case")
    daily_quota: int | None = Field(None, ge=1, le=9999)
    hours: Schedule | None = Field(None, description="issuing hours; the hall's opening hours when absent")
    expected_service_s: int = Field(600, ge=30, le=4 * 3600, description="used for estimates until the day has figures")
    materials: tuple[str, ...] = ()
    publics: Publics

    @model_validator(mode="after")
    def _promised_needs_days(self) -> Item:
        if self.case_type is CaseType.promised and self.promised_days is None:
            raise ValueError("a promised (承诺件) item needs promised_days")
        return self


class ScheduledService(Frozen):
    """综合定时办理: some items of a comprehensive window are served only at set hours."""

    departments: tuple[Id, ...] = ()
    items: tuple[Id, ...] = ()
    schedule: Schedule


class Window(Frozen):
    """A counter. 专窗 (dedicated) serves one department; 综合窗口 (comprehensive) several."""

    id: Id
    name: str = Field(min_length=1)
    kind: Literal["dedicated", "comprehensive"]
    items: tuple[Id, ...] = Field(min_length=1)
    scheduled: tuple[ScheduledService, ...] = ()
    zone: str = ""
    call_name: str = Field("", description="how calls name the window (default: the first word of name, e.g. 5号窗口)")

    @property
    def called_as(self) -> str:
        return self.call_name or self.name.split()[0]


class Role(StrEnum):
    clerk = "clerk"
    chief = "chief"  # 首席代表
    manager = "manager"
    admin = "admin"


class User(Frozen):
    """A member of staff. Clerks hold posts at windows (AB岗); a chief answers for a department."""

    username: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_.-]{1,39}$")]
    name: str = Field(min_length=1)
    staff_no: str = ""
    role: Role
    windows: tuple[Id, ...] = ()
    post: Literal["A", "B"] | None = None
    department: Id | None = None


class HallConfig(Frozen):
    """Everything that describes one hall; cross-references are checked here."""

    hall: Hall
    departments: tuple[Department, ...] = Field(min_length=1)
    items: tuple[Item, ...] = Field(min_length=1)
    windows: tuple[Window, ...] = Field(min_length=1)
    users: tuple[User, ...] = ()

    @model_validator(mode="after")
    def _references(self) -> HallConfig:
        _unique("departments", "id", [d.id for d in self.departments])
        _unique("items", "id", [i.id for i in self.items])
        _unique("items", "prefix", [i.prefix for i in self.items])
        _unique("windows", "id", [w.id for w in self.windows])
        _unique("users", "username", [u.username for u in self.users])
        departments = {d.id for d in self.departments}
        items = {i.id: i for i in self.items}
        for n, item in enumerate(self.items):
            if item.department not in departments:
                raise ValueError(f"items[{n}] ({item.id}).department: unknown department {item.department!r}")
        served: set[str] = set()
        for n, window in enumerate(self.windows):
            for item_id in window.items:
                if item_id not in items:
                    raise ValueError(f"windows[{n}] ({window.id}).items: unknown item {item_id!r}")
            served.update(window.items)
            owners = {items[i].department for i in window.items}
            if window.kind == "dedicated" and len(owners) > 1:
                raise ValueError(
                    f"windows[{n}] ({window.id}).kind: a dedicated window serves one department, "
                    f"these items belong to {sorted(owners)}"
                )
            if window.kind == "comprehensive" and len(owners) < 2:
                raise ValueError(f"windows[{n}] ({window.id}).kind: a comprehensive window serves several departments")
            for s in window.scheduled:
                for d in s.departments:
                    if d not in departments:
                        raise ValueError(f"windows[{n}] ({window.id}).scheduled: unknown department {d!r}")
                for i in s.items:
                    if i not in window.items:
                        raise ValueError(f"windows[{n}] ({window.id}).scheduled: item {i!r} is not served here")
        unserved = [i for i in items if i not in served]
        if unserved:
            raise ValueError(f"items: no window serves {unserved}; their tickets could never be called")
        windows = {w.id for w in self.windows}
        posts: set[tuple[str, str]] = set()
        for n, user in enumerate(self.users):
            for w in user.windows:
                if w not in windows:
                    raise ValueError(f"users[{n}] ({user.username}).windows: unknown window {w!r}")
                if user.role is Role.clerk and user.post:
                    if (w, user.post) in posts:
                        raise ValueError(f"users[{n}] ({user.username}).post: window {w!r} has a post {user.post} already")
                    posts.add((w, user.post))
            if user.role is Role.clerk and not user.windows:
                raise ValueError(f"users[{n}] ({user.username}).windows: a clerk needs at least one window")
            if user.role is Role.chief and user.department not in departments:
                raise ValueError(f"users[{n}] ({user.username}).department: a chief needs a known department")
        return self


def _unique(where: str, field: str, values: list[str]) -> None:
    seen: set[str] = set()
    for n, v in enumerate(values):
        if v in seen:
            raise ValueError(f"{where}[{n}].{field}: {v!r} appears twice")
        seen.add(v)


class Catalog:
    """Read-only lookups over one hall's config, computed once."""

    def __init__(self, config: HallConfig) -> None:
        self.config = config
        self.hall = config.hall
        self.departments = {d.id: d for d in config.departments}
        self.items = {i.id: i for i in config.items}
        self.windows = {w.id: w for w in config.windows}
        self.users = {u.username: u for u in config.users}

    @cached_property
    def windows_of_item(self) -> dict[str, tuple[str, ...]]:
        """Item id -> the windows that may serve it (at some hour)."""
        out: dict[str, list[str]] = {i: [] for i in self.items}
        for w in self.config.windows:
            for i in w.items:
                out[i].append(w.id)
        return {i: tuple(ws) for i, ws in out.items()}

    @cached_property
    def pool_of_item(self) -> dict[str, frozenset[str]]:
        """Item id -> the items whose tickets compete with it for the same windows."""
        return {
            i: frozenset(j for w in ws for j in self.windows[w].items)
            for i, ws in self.windows_of_item.items()
        }

    def clerks_of_window(self, window: str) -> list[User]:
        return [u for u in self.config.users if u.role is Role.clerk and window in u.windows]
