"""The hall's settings, as hall.yaml holds them: opening hours, the working calendar, the call
policy, booking rules, the voice, supervision thresholds and awards, devices; and the pieces the
catalogue's models are made of (`Frozen`, `Id`, `TimeRange`). server/domain/catalog.py puts
them together with departments, items, windows and staff.
"""

from __future__ import annotations

import re
import string
import unicodedata
from datetime import date, time
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_serializer, model_validator

Id = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$")]


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

    @model_serializer
    def _as_text(self) -> str:
        """Written back as in the config files ("08:30-12:00"), so an export reads like them."""
        return str(self)

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


class WorkingCalendar(Frozen):
    """The hall's own exceptions to the official calendar: extra closed days (a move, a local
    holiday) and extra working days (a weekend service day). Closed wins over working."""

    closed_days: tuple[date, ...] = ()
    working_days: tuple[date, ...] = ()

    @model_validator(mode="after")
    def _distinct(self) -> WorkingCalendar:
        both = sorted(set(self.closed_days) & set(self.working_days))
        if both:
            raise ValueError(f"working_days: {both[0].isoformat()} is listed as closed too")
        return self


class CallPolicy(Frozen):
    """How a window chooses whom to call next (see server/domain/policy.py)."""

    priority_ratio: int = Field(2, ge=1, le=20, description="priority calls allowed in a row while normal tickets wait")
    ageing_s: int = Field(1800, ge=60, description="no longer used (it demoted the priority lane under load); "
                          "kept so that existing configurations load", deprecated=True)
    no_show_requeue_places: int = Field(3, ge=0, description="a re-queued no-show goes back behind this many waiting tickets")
    max_requeues: int = Field(1, ge=0, description="how often one ticket may be re-queued after a no-show")
    appointment_early_s: int = Field(1800, ge=0, description="how early before its slot an appointment may check in")
    appointment_late_s: int = Field(900, ge=0, description="how late after its slot starts an appointment may check in")


class BookingRules(Frozen):
    """网上预约 and 远程取号: the hall's rules for online appointments and remote tickets."""

    days_ahead: int = Field(7, ge=0, le=60, description="how many days after today may be booked")
    walk_in_share: float = Field(
        0.5, ge=0, le=1, description="share of each window's capacity, and of each item's day (its daily quota or its "
        "windows' capacity), kept for walk-ins (现场取号): bookings and online numbers together take at most the rest",
    )
    max_active_per_phone: int = Field(3, ge=1, le=20, description="bookings one phone number may hold at a time")
    closed_days: tuple[date, ...] = Field((), description="days without appointments besides holidays (e.g. a hall event)")
    confirm_ahead: int = Field(5, ge=0, le=100, description="a remote ticket is asked to confirm arrival when this few are ahead")
    proof_bits: int = Field(
        15, ge=0, le=26, description="work a phone does before a booking or an online number counts: leading zero bits of "
        "a SHA-256 its page must find (15: about a second in a phone's browser; each bit doubles it; 0: no check)",
    )
    proof_ttl_s: int = Field(600, ge=30, le=3600, description="how long a proof-of-work challenge may be answered")
    lookup_failures: int = Field(5, ge=1, le=100, description="unknown booking codes one address may try before it is locked out")
    lookup_lockout_s: int = Field(900, ge=10, le=86400, description="how long an address that tried too many unknown codes is refused")


class Voice(Frozen):
    """How calls are spoken in the lobby (叫号语音)."""

    template: str = Field("请 {number} 号 到 {window} 办理", description="{number} and {window} are filled in")
    repeat: int = Field(2, ge=1, le=5, description="how often each call is spoken")
    screens: tuple[str, ...] = Field((), description="ids of the screens that speak (usually one lobby screen per zone)")
    max_age_s: int = Field(60, ge=1, le=3600, description="a call older than this when a screen hears it (a reconnect "
                           "replaying what it missed) is shown but not spoken")

    @field_validator("template")
    @classmethod
    def _plain_words_and_two_places(cls, value: str) -> str:
        return check_template(value)


VOICE_TEMPLATE_MAX = 80  # characters: a call is one sentence
VOICE_PLACES = ("number", "window")


def check_template(value: str) -> str:
    """A voice template is plain words with {number} and {window} and nothing else a program
    could read as more: no option for the speech engine (a leading "-"), no control characters,
    no format tricks ({number.attr}, {number:>9999}, {number!r}) that read or inflate the value."""
    if not value.strip():
        raise ValueError("a call needs words")
    if len(value) > VOICE_TEMPLATE_MAX:
        raise ValueError(f"{len(value)} characters: a call is one sentence of at most {VOICE_TEMPLATE_MAX}")
    bad = next((c for c in value if unicodedata.category(c) in ("Cc", "Cf")), None)
    if bad is not None:
        raise ValueError(f"U+{ord(bad):04X}: line breaks, tabs and other control characters are not allowed")
    if value.lstrip().startswith("-"):
        raise ValueError("it may not begin with '-' (a speech engine reads that as an option)")
    try:
        places = [(field, spec, conversion) for _, field, spec, conversion in string.Formatter().parse(value) if field is not None]
    except ValueError as exc:
        raise ValueError(f"only {{number}} and {{window}} may be filled in: {exc}") from None
    for field, spec, conversion in places:
        if field not in VOICE_PLACES or spec or conversion:
            shown = field + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "")
            raise ValueError(f"{{{shown}}}: only {{number}} and {{window}} may be filled in, as they are")
    return value


Thresholds = Annotated[tuple[int, int, int], Field(description="seconds: warning, yellow, red")]


def _ascending(value: tuple[float, ...] | None) -> tuple[float, ...] | None:
    if value is not None and not all(a < b for a, b in zip((0, *value), value)):
        raise ValueError(f"{list(value)}: thresholds are positive and rise from warning to yellow to red")
    return value


# The longest a rating stays open after the day of service or a promised case's conclusion: what
# the service reads back across days to keep one rating per ticket (server/hall/ratings.py).
RATING_DAYS_MAX = 30


class Award(Frozen):
    """优秀窗口: how a window's quarter is scored (see README, Quarterly bulletin).

    score = satisfaction × good_rate + waiting × (1 − min(1, p90 wait ÷ the hall's red wait))
          + volume × served ÷ the most served by a window + alerts × (1 − min(1, alerts per
          100 served ÷ alerts_per_100_zero)); candidates serve at least `min_served` and have a
          bad-review share of at most `max_bad_rate`; the best `candidates` of them are listed.
    """

    satisfaction: float = Field(40, ge=0)
    waiting: float = Field(20, ge=0)
    volume: float = Field(20, ge=0)
    alerts: float = Field(20, ge=0)
    alerts_per_100_zero: float = Field(10, gt=0, description="alerts per 100 served at which the alerts part is 0")
    min_served: int = Field(100, ge=0)
    max_bad_rate: float = Field(0.02, ge=0, le=1)
    candidates: int = Field(3, ge=1, le=50)


class ClerkAward(Frozen):
    """服务标兵: how a clerk's quarter is scored in the bulletin (docs/hall-rules.md, "Clerk ranking").

    score = satisfaction × (mean rating − 1) ÷ 4 + volume × served ÷ the most served by a clerk
          + alerts × (1 − min(1, alerts per 100 served ÷ award.alerts_per_100_zero));
    candidates serve at least award.min_served, have a bad-review share of at most
    award.max_bad_rate and no absence (缺岗) in the quarter; the best `candidates` are listed.
    """

    satisfaction: float = Field(40, ge=0)
    volume: float = Field(30, ge=0)
    alerts: float = Field(30, ge=0)
    candidates: int = Field(3, ge=1, le=50)


class Supervision(Frozen):
    """电子监察: when alerts are raised, and the rules of the bad-review loop (差评整改)."""

    sweep_s: float = Field(5, gt=0, le=300, description="how often the supervisor looks")
    wait_s: Thresholds = (1200, 1800, 2700)
    service_factor: tuple[float, float, float] = Field(
        (2.0, 3.0, 4.0), description="a service longer than these multiples of the item's expected_service_s"
    )
    paused_s: Thresholds = (900, 1800, 2700)
    closed_s: Thresholds = Field(
        (900, 1800, 2700),
        description="a window closed during opening hours while people wait for its items this long (seconds) is unattended",
    )
    idle_s: Thresholds = Field(
        (300, 600, 900),
        description="a window open but calling nobody while people wait for its items this long (seconds) is idle",
    )
    deadline_warning_days: int = Field(1, ge=0, description="working days left when a promised case raises a warning")
    suggest_after: int = Field(5, ge=1, description="people waiting past an item's warning threshold before the board suggests opening windows")
    review_verify_days: int = Field(1, ge=0, description="working days to verify a bad review (核实)")
    review_rectify_days: int = Field(3, ge=0, description="working days to rectify and call the citizen back (整改、回访)")
    rating_days: int = Field(
        7, ge=0, le=RATING_DAYS_MAX,
        description="days after the day of service (and after a promised case's conclusion) a citizen may still rate it "
                    "from the mobile ticket; 0: the day of service only")
    attendance_grace_s: int = Field(
        300, ge=0, le=3600,
        description="考勤: a window opened this long after its scheduled start is on time, closed this long before its end too; "
                    "past it the B post is offered the window")
    award: Award = Award()
    clerk_award: ClerkAward = ClerkAward()

    @field_validator("wait_s", "service_factor", "paused_s", "closed_s", "idle_s")
    @classmethod
    def _rising(cls, value: tuple[float, ...]) -> tuple[float, ...]:
        return _ascending(value)  # type: ignore[return-value]


class Staffing(Frozen):
    """排班建议: what the staffing plan (server/domain/staffing.py) keeps each half hour under."""

    target_wait_s: int = Field(900, ge=60, le=4 * 3600, description="the expected mean wait the plan keeps each half hour under")
    p90_wait_s: int | None = Field(
        None, ge=60, le=4 * 3600,
        description="the 90th percentile wait the plan keeps under (default: each item's first wait alert threshold)")
    history_weeks: int = Field(26, ge=2, le=104, description="how many weeks of the journal the arrival forecast learns from")


# hallq's names for what a rating carries; `Provincial.fields` maps them to the platform's.
RATING_FIELDS: tuple[str, ...] = (
    "rating_id", "hall_code", "region_code", "channel", "number", "item", "item_code", "window",
    "score", "level", "efficiency", "proficiency", "attitude", "reasons", "comment", "rated_at",
)

# The default mapping follows the field names of the national 好差评 interface as most provinces
# publish it (评价编号, 评价渠道, 评价等级 …); a province that names them otherwise says so in hall.yaml.
DEFAULT_FIELDS: dict[str, str] = {
    "rating_id": "evaluateId",
    "hall_code": "deptCode",
    "region_code": "areaCode",
    "channel": "pf",
    "number": "projectNo",
    "item": "taskName",
    "item_code": "taskCode",
    "window": "windowName",
    "score": "alternate",
    "level": "evaluateLevel",
    "efficiency": "efficiencyLevel",
    "proficiency": "proficiencyLevel",
    "attitude": "attitudeLevel",
    "reasons": "evaluateReason",
    "comment": "writingEvaluation",
    "rated_at": "assessTime",
}

_URL = re.compile(r"^https?://[^\s/?#]+(/[^\s]*)?$")


class Provincial(Frozen):
    """好差评 upload: where the hall's ratings go on the province's platform, and under which names
    (server/domain/provincial.py says what a rating carries)."""

    enabled: bool = Field(False, description="send every rating to the provincial 好差评 platform")
    endpoint: str = Field("", max_length=300, description="the platform's URL that takes a rating (http or https)")
    returns_endpoint: str = Field("", max_length=300, description="the platform's URL listing bad ratings sent back to this "
                                  "hall for follow-up (差评回传); empty: none are pulled back")
    hall_code: str = Field("", max_length=40, description="this hall's code on the platform (办事大厅编码)")
    region_code: str = Field("", pattern=r"^(\d{6})?$", description="the hall's administrative division code (行政区划代码, 6 digits)")
    fields: dict[str, str] | None = Field(
        None, description="hallq's rating fields and the platform's names for them (default: the national interface's)")
    timeout_s: float = Field(10, gt=0, le=120, description="how long one upload waits for the platform's answer")
    returns_every_s: float = Field(300, ge=10, le=86400, description="how often the bad ratings sent back are asked for")
    retry_s: float = Field(5, gt=0, le=3600, description="the first wait before trying again; it doubles each time")
    retry_max_s: float = Field(600, gt=0, le=86400, description="the longest wait between two tries")

    @field_validator("endpoint", "returns_endpoint")
    @classmethod
    def _url(cls, value: str) -> str:
        if value and not _URL.match(value):
            raise ValueError(f"{value!r} is not an http(s) URL")
        return value

    @field_validator("fields")
    @classmethod
    def _known_fields(cls, value: dict[str, str] | None) -> dict[str, str] | None:
        if value is None:
            return value
        unknown = sorted(set(value) - set(RATING_FIELDS))
        if unknown:
            raise ValueError(f"{', '.join(unknown)}: hallq's rating fields are {', '.join(RATING_FIELDS)}")
        names = [v.strip() for v in value.values()]
        if not all(names) or len(set(names)) != len(names):
            raise ValueError("each field has its own non-empty name on the platform")
        return value

    @model_validator(mode="after")
    def _where(self) -> Provincial:
        if self.enabled and not self.endpoint:
            raise ValueError("endpoint: an enabled upload needs the platform's URL")
        return self

    def mapping(self) -> dict[str, str]:
        return dict(self.fields) if self.fields is not None else dict(DEFAULT_FIELDS)


class IdCards(Frozen):
    """刷身份证取号: numbers taken with a second-generation ID card on a kiosk's reader (server/domain/idcard.py)."""

    enabled: bool = Field(False, description="kiosks with a card reader take numbers by ID card")
    per_day: int = Field(3, ge=1, le=50, description="numbers one ID card may take a day (防黄牛)")
    per_item: int = Field(2, ge=1, le=50, description="numbers one ID card may take a day for one item")
    senior_age: int = Field(60, ge=50, le=100, description="age from which the card's holder is offered the priority lane")


class Sms(Frozen):
    """短信提醒: reminders of bookings and "your turn is near" for remote numbers (server/domain/sms.py)."""

    enabled: bool = Field(False, description="text holders of bookings and remote numbers")
    gateway: Literal["log", "http"] = Field("log", description="log: write what would be sent (no gateway); http: the endpoint")
    endpoint: str = Field("", max_length=300, description="the SMS gateway's URL (http gateway)")
    sign: str = Field("政务服务中心", min_length=2, max_length=12, description="the signature (签名) the messages begin with")
    reminder_hour: int = Field(18, ge=0, le=23, description="the hour of the day before a booking from which it is reminded")
    near_ahead: int = Field(3, ge=0, le=50, description="people ahead at which the holder is told the turn is near")
    timeout_s: float = Field(10, gt=0, le=120, description="how long one message waits for the gateway's answer")
    retry_s: float = Field(30, gt=0, le=3600, description="the first wait before trying again; it doubles each time")
    retry_max_s: float = Field(900, gt=0, le=86400, description="the longest wait between two tries")

    @field_validator("endpoint")
    @classmethod
    def _url(cls, value: str) -> str:
        if value and not _URL.match(value):
            raise ValueError(f"{value!r} is not an http(s) URL")
        return value

    @model_validator(mode="after")
    def _where(self) -> Sms:
        if self.enabled and self.gateway == "http" and not self.endpoint:
            raise ValueError("endpoint: the http gateway needs its URL")
        return self


class ItemAlerts(Frozen):
    """An item's own e-supervision thresholds (seconds: warning, yellow, red); the hall's when absent."""

    wait_s: Thresholds | None = None
    service_s: Thresholds | None = None

    @field_validator("wait_s", "service_s")
    @classmethod
    def _rising(cls, value: tuple[int, ...] | None) -> tuple[int, ...] | None:
        return _ascending(value)  # type: ignore[return-value]


class Devices(Frozen):
    """Registered devices: kiosks, lobby and window screens, evaluators and print agents.

    With `required`, each of them shows a registration code until a manager approves it and
    then works with its own revocable token; without it (the default, as before) any browser on
    the network may open a screen or a kiosk page. Production halls should require devices.
    """

    required: bool = Field(False, description="kiosks, screens, evaluators and print agents need an approved device token")
    pending_ttl_s: int = Field(24 * 3600, ge=60, le=30 * 24 * 3600, description="an unapproved registration expires after this long")
