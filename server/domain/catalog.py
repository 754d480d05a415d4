"""The hall's catalogue: departments, service items, windows, staff and rules, validated.

These models are both the schema of the files in `config/` and the read-only catalogue the
engine decides with, so a config file, the API's documents and the engine cannot disagree.
"""

from __future__ import annotations

import re
from enum import StrEnum
from functools import cached_property
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from .settings import (
    BookingRules, CallPolicy, Devices, Frozen, Id, IdCards, ItemAlerts, Provincial, Schedule, Sms, Staffing, Supervision, Voice, WorkingCalendar,
)


class CaseType(StrEnum):
    """四件管理: every finished service is one of these."""

    immediate = "immediate"  # 即办件
    promised = "promised"  # 承诺件
    joint = "joint"  # 联办件
    escalated = "escalated"  # 上报件


class Action(StrEnum):
    """What someone does in a hall, as server/domain/access.py decides who may."""

    read_figures = "read-figures"  # boards, statistics, bulletins, reviews, cases, the region table
    read_records = "read-records"  # the audit journal, staff and device lists, kiosks, catalogue revisions
    operate = "operate"  # a window's counter actions and queue (开窗, 叫号, 办结 …)
    issue = "issue"  # take a number or book for a citizen at the counter, reprint a ticket
    conclude = "conclude"  # 办结 of a promised case
    supervise = "supervise"  # the steps of a bad review's loop
    manage_staff = "manage-staff"  # add and change accounts, reset passwords
    manage_devices = "manage-devices"  # approve and revoke kiosks, screens, evaluators, agents
    manage_appointments = "manage-appointments"  # enter bookings with their own code
    edit_catalog = "edit-catalog"  # the catalogue, windows, schedules, notices (后台管理)
    pair_evaluator = "pair-evaluator"  # open a window's evaluator screen (评价器)
    rate = "rate"  # 好差评 of a ticket
    cancel = "cancel"  # a citizen leaves the queue


# Reading is what a hall above always may; rating and cancelling belong to the citizen.
DELEGABLE = frozenset(Action) - {Action.read_figures, Action.read_records, Action.rate, Action.cancel}


class Hall(Frozen):
    """A service hall (政务服务中心): its name, time zone, opening hours and rules."""

    id: Id
    name: str = Field(min_length=1)
    timezone: str = "Asia/Shanghai"
    opening: Schedule = Schedule()
    enforce_hours: bool = Field(True, description="refuse tickets outside opening hours and on holidays")
    demo: bool = Field(False, description="accounts without a set password take the demo password")
    policy: CallPolicy = CallPolicy()
    notice: str = Field("", max_length=500, description="the scrolling notice of the lobby screens")
    supervision: Supervision = Supervision()
    staffing: Staffing = Staffing()
    voice: Voice = Voice()
    booking: BookingRules = BookingRules()
    devices: Devices = Devices()
    provincial: Provincial = Provincial()
    sms: Sms = Sms()
    id_cards: IdCards = IdCards()
    level: Literal["province", "city", "county", "township"] = Field(
        "city", description="where the hall sits in the region: 市级中心, 县级中心, 乡镇(街道)便民服务中心")
    parent: Id | None = Field(None, description="the hall one level up (a county's city hall); its managers see this hall too")
    managers_above: tuple[Action, ...] = Field(
        (), description="what the managers of the halls above may do here besides reading (default: read only); "
                        "any of " + ", ".join(sorted(a.value for a in DELEGABLE)))
    catalog_from: Id | None = Field(
        None, description="take departments and items from this hall's catalogue (the shared 事项清单); "
                          "this hall's own departments.yaml and items.yaml add local ones")
    calendar: WorkingCalendar = WorkingCalendar()

    @field_validator("managers_above")
    @classmethod
    def _delegable(cls, value: tuple[Action, ...]) -> tuple[Action, ...]:
        refused = [a.value for a in value if a not in DELEGABLE]
        if refused:
            raise ValueError(f"{', '.join(refused)}: halls above always read, and only citizens rate and cancel")
        return value

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
    retired: bool = Field(False, description="no longer in the hall; kept so its history reads")


class Publics(Frozen):
    """六个公开: the six things published for every service item."""

    content: str = Field(min_length=1, description="审批内容")
    legal_basis: str = Field(min_length=1, description="法律依据")
    procedure: str = Field(min_length=1, description="办理程序")
    requirements: str = Field(min_length=1, description="办事条件 / 申请材料")
    time_limit: str = Field(min_length=1, description="承诺时限")
    fee: str = Field(min_length=1, description="收费标准")


class ItemBooking(Frozen):
    """How an item may be booked (网上预约) or queued for remotely (远程取号); both off by default."""

    slots: bool = Field(False, description="citizens may book a time slot online")
    slot_minutes: int = Field(30, ge=5, le=240, description="length of a slot")
    capacity: int | None = Field(
        None, ge=1, le=500,
        description="bookings per slot; by default the slot's share of the serving windows' capacity left after walk-ins",
    )
    remote: bool = Field(False, description="citizens may take today's ticket from their phone and confirm on arrival")


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
    alerts: ItemAlerts = ItemAlerts()
    booking: ItemBooking = ItemBooking()
    retired: bool = Field(False, description="no new tickets; its tickets are still served and counted")

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
    a_post: str | None = Field(None, description="AB岗: the clerk who holds the window (username)")
    b_post: str | None = Field(None, description="AB岗: the clerk offered the window when A pauses or is absent at opening")
    hours: Schedule | None = Field(None, description="when the window is staffed (attendance); the hall's opening hours when absent")
    retired: bool = Field(False, description="no longer opened; kept so its history reads")

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


class Printer(Frozen):
    """A kiosk's ESC/POS ticket printer (热敏小票打印机).

    `address` by kind: network "host" or "host:port" (port 9100 by default); usb
    "vendor:product" in hex ("0x0416:0x5011"); serial "device" or "device@baud"; file a path
    (a printer device such as /dev/usb/lp0, or a plain file for trials); win32raw the printer's
    name as Windows lists it (installed with its driver, sent raw ESC/POS through the spooler);
    cups a CUPS queue, "queue" or "queue@server" (a raw queue). The last two only with `agent: true`
    on a kiosk PC of that system, or on the server's own host.
    """

    kind: Literal["network", "usb", "serial", "file", "win32raw", "cups", "none"] = "none"
    address: str = ""
    paper_mm: Literal[58, 80] = 80
    encoding: Literal["gb18030", "gbk"] = Field("gb18030", description="the printer's Chinese code page")
    mode: Literal["text", "image"] = Field("text", description="image: for printers without a Chinese font")

    @model_validator(mode="after")
    def _address(self) -> Printer:
        if self.kind != "none" and not self.address.strip():
            raise ValueError(f"a {self.kind} printer needs an address")
        if self.kind == "network":
            host, _, port = self.address.rpartition(":") if ":" in self.address else (self.address, "", "9100")
            if not host or not port.isdigit() or not 0 < int(port) < 65536:
                raise ValueError(f"{self.address!r} is not host or host:port")
        if self.kind == "usb" and not re.fullmatch(r"(0x)?[0-9a-fA-F]{1,4}:(0x)?[0-9a-fA-F]{1,4}", self.address):
            raise ValueError(f"{self.address!r} is not vendor:product in hex, like 0x0416:0x5011")
        return self


class Kiosk(Frozen):
    """自助取号机: a touch kiosk in the hall and the ticket printer beside it.

    A kiosk is known by its id from this file; in a hall that requires registered devices its
    page and print agent also need an approved device token bound to this id.
    """

    id: Id
    name: str = Field(min_length=1)
    zone: str = ""
    printer: Printer = Printer()
    agent: bool = Field(True, description="a print agent on the kiosk PC prints; false: the server prints to a network printer")
    ticket_url: str = Field("", description="base URL phones open from the QR code; empty: the address the kiosk uses")
    notice: str = Field("请留意叫号屏和语音提示，过号请重新取号", max_length=60, description="the short line at the ticket's foot")
    ack_timeout_s: int = Field(20, ge=2, le=600, description="a job not printed by then is flagged failed and not sent again")
    idle_s: int = Field(60, ge=10, le=600, description="the kiosk page goes back home after this long untouched")
    card_port: int | None = Field(None, ge=1024, le=65535, description="刷身份证取号: the port on the kiosk PC where its "
                                  "print agent hands card reads to the page (the agent's --card-port); none: no card reader")

    @model_validator(mode="after")
    def _reachable(self) -> Kiosk:
        if not self.agent and self.printer.kind in ("usb", "serial"):
            raise ValueError(f"a {self.printer.kind} printer is attached to the kiosk PC: it needs the print agent (agent: true)")
        if self.ticket_url and not re.match(r"^https?://[^/\s]+", self.ticket_url):
            raise ValueError(f"ticket_url {self.ticket_url!r} is not an http(s) URL")
        return self


class HallConfig(Frozen):
    """Everything that describes one hall; cross-references are checked here."""

    hall: Hall
    departments: tuple[Department, ...] = Field(min_length=1)
    items: tuple[Item, ...] = Field(min_length=1)
    windows: tuple[Window, ...] = Field(min_length=1)
    users: tuple[User, ...] = ()
    kiosks: tuple[Kiosk, ...] = ()

    @model_validator(mode="after")
    def _references(self) -> HallConfig:
        _unique("departments", "id", [d.id for d in self.departments])
        _unique("kiosks", "id", [k.id for k in self.kiosks])
        _unique("items", "id", [i.id for i in self.items])
        # A retired item frees its prefix: today's numbers go on per prefix, so none repeats.
        prefixes: dict[str, str] = {}
        for n, i in enumerate(self.items):
            if i.retired:
                continue
            if i.prefix in prefixes:
                raise ValueError(f"items[{n}] ({i.id}).prefix: {i.prefix!r} appears twice (item {prefixes[i.prefix]!r} has it)")
            prefixes[i.prefix] = i.id
        _unique("windows", "id", [w.id for w in self.windows])
        _unique("users", "username", [u.username for u in self.users])
        departments = {d.id for d in self.departments}
        retired_departments = {d.id for d in self.departments if d.retired}
        items = {i.id: i for i in self.items}
        for n, item in enumerate(self.items):
            if item.department not in departments:
                raise ValueError(f"items[{n}] ({item.id}).department: unknown department {item.department!r}")
            if item.department in retired_departments and not item.retired:
                raise ValueError(f"items[{n}] ({item.id}).department: department {item.department!r} is retired")
        served: set[str] = set()
        for n, window in enumerate(self.windows):
            for item_id in window.items:
                if item_id not in items:
                    raise ValueError(f"windows[{n}] ({window.id}).items: unknown item {item_id!r}")
            if not window.retired:  # a retired window is never opened again: it calls nobody
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
        unserved = [i for i, item in items.items() if i not in served and not item.retired]
        if unserved:
            n = list(items).index(unserved[0])
            raise ValueError(f"items[{n}] ({unserved[0]}): no window serves {unserved}; their tickets could never be called")
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
        errors = post_errors(self)
        if errors:
            raise ValueError(errors[0])
        return self


# -- AB岗: each window's A and B posts (server/domain/posts.py says who is on duty) -------------
def _clerk(users: dict[str, User], username: str | None) -> User | None:
    u = users.get(username or "")
    return u if u is not None and u.role is Role.clerk else None


def resolve_posts(window: Window, users: dict[str, User]) -> tuple[str | None, str | None]:
    """The usernames holding the window's A and B posts among `users` (the live accounts):
    those it names, else (an older config) its clerks whose own `post` says A or B."""
    out: list[str | None] = []
    for post, named in (("A", window.a_post), ("B", window.b_post)):
        if named is not None:
            u = _clerk(users, named)
            out.append(u.username if u is not None and window.id in u.windows else None)
            continue
        legacy = [u for u in users.values() if u.role is Role.clerk and u.post == post and window.id in u.windows]
        out.append(legacy[0].username if legacy else None)
    a, b = out
    return a, (b if b != a else None)


def post_errors(config: HallConfig) -> list[str]:
    """What makes the posts of a hall's config wrong, each message naming its file's entry."""
    users = {u.username: u for u in config.users}
    clerks_listed = any(u.role is Role.clerk for u in config.users)
    errors: list[str] = []
    for n, w in enumerate(config.windows):
        where = f"windows[{n}] ({w.id})"
        for field, named in (("a_post", w.a_post), ("b_post", w.b_post)):
            if named is None:
                continue
            u = users.get(named)
            if u is None:
                errors.append(f"{where}.{field}: no account {named!r} in users.yaml")
            elif u.role is not Role.clerk:
                errors.append(f"{where}.{field}: {named!r} is a {u.role}, not a clerk")
            elif w.id not in u.windows:
                errors.append(f"{where}.{field}: {named!r} does not list {w.id!r} among their windows in users.yaml")
            elif u.post is not None and u.post != field[0].upper():
                errors.append(f"{where}.{field}: {named!r} has post {u.post} in users.yaml; leave it out or make it agree")
        if w.a_post is not None and w.a_post == w.b_post:
            errors.append(f"{where}.b_post: {w.a_post!r} holds the A post already; the B post is another person")
        if not w.retired and clerks_listed and w.a_post is None and resolve_posts(w, users)[0] is None:
            errors.append(f"{where}.a_post: the window has no A post (AB岗): name the clerk who holds it")
    return errors


def post_warnings(config: HallConfig) -> list[str]:
    """Windows in use without a B post: accepted, and shown, but nobody covers them."""
    users = {u.username: u for u in config.users}
    if not any(u.role is Role.clerk for u in config.users):
        return []
    return [
        f"windows[{n}] ({w.id}).b_post: no B post (AB岗): nobody is offered the window when {a or 'A'} is away"
        for n, w in enumerate(config.windows)
        if not w.retired and (a := resolve_posts(w, users)[0]) is not None and resolve_posts(w, users)[1] is None
    ]


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
        self.kiosks = {k.id: k for k in config.kiosks}

    @cached_property
    def windows_of_item(self) -> dict[str, tuple[str, ...]]:
        """Item id -> the windows that may serve it (at some hour); a retired window serves no more."""
        out: dict[str, list[str]] = {i: [] for i in self.items}
        for w in self.config.windows:
            if w.retired:
                continue
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

    @cached_property
    def posts(self) -> dict[str, tuple[str | None, str | None]]:
        """Window id -> the usernames on its A and B posts (AB岗) among the live accounts."""
        return {w.id: resolve_posts(w, self.users) for w in self.config.windows}

    def clerks_of_window(self, window: str) -> list[User]:
        """The window's clerks: its A post, its B post, then the others in the config's order."""
        order = {u: n for n, u in enumerate(self.posts.get(window, ())) if u}
        clerks = [u for u in self.config.users if u.role is Role.clerk and window in u.windows]
        return sorted(clerks, key=lambda u: order.get(u.username, len(order)))
