"""AB岗: who is on duty at a window, and when the B post is offered the window.

A window names its posts in windows.yaml (`a_post`, `b_post`: usernames of clerks who list the
window). Older configs that give each clerk a `post` (A or B) still read: a window that names no
post takes the clerk of its own with that post (`resolve_posts`, and the config checks
`post_errors` and `post_warnings`, are the catalogue's: server/domain/catalog.py).
Rules (docs/hall-rules.md, "AB posts"):

- an A post is required for every window in use (when the hall lists any clerk at all), and A
  and B are two people; a missing B post is a warning, not an error: a township centre of two
  windows and two people may have nobody to cover, and refusing to open the hall is worse than
  a window without cover. The board shows the gap.
- the window is offered to the other post when the clerk on duty pauses (离岗), and to the B
  post when the window is still closed `attendance_grace_s` after a scheduled opening (A absent
  at opening), or closed again before the session's last `attendance_grace_s`. An offer is
  taken on the terminal: a hand-over (then resume), or opening.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal
from zoneinfo import ZoneInfo

from .calendar import opens_on

if TYPE_CHECKING:
    from .catalog import Catalog
    from .model import HallDay

Post = Literal["A", "B"]


def post_of(catalog: Catalog, window: str, username: str | None) -> Post | None:
    a, b = catalog.posts[window]
    if username is None:
        return None
    return "A" if username == a else "B" if username == b else None


def sessions(catalog: Catalog, window: str, day: date) -> list[tuple[datetime, datetime]]:
    """The window's scheduled sessions on `day` (its own hours, else the hall's), in hall time."""
    conf = catalog.windows[window]
    schedule = conf.hours or catalog.hall.opening
    if conf.retired or not opens_on(schedule, day, catalog.hall.calendar):
        return []
    tz = ZoneInfo(catalog.hall.timezone)
    return [
        (datetime.combine(day, r.start, tz), datetime.combine(day, r.end, tz))
        for r in sorted(schedule.hours, key=lambda r: r.start)
    ]


def session_at(catalog: Catalog, window: str, now: datetime) -> tuple[datetime, datetime] | None:
    now = now.astimezone(ZoneInfo(catalog.hall.timezone))
    for s, e in sessions(catalog, window, now.date()):
        if s <= now < e:
            return s, e
    return None


@dataclass(frozen=True, slots=True)
class Offer:
    """The window offered to `to`: take it over (`take-over`: a hand-over, then resume) or open it."""

    to: str
    reason: Literal["paused", "absent"]
    action: Literal["take-over", "open"]
    since: datetime


@dataclass(frozen=True, slots=True)
class Duty:
    window: str
    a: str | None
    b: str | None
    on_duty: str | None  # the clerk at the window (open or paused), None while closed
    post: Post | None  # the post the clerk on duty holds here (None: someone else of the window)
    offer: Offer | None


def duty(state: HallDay, catalog: Catalog, window: str, now: datetime) -> Duty:
    """Who holds the window now and to whom it is offered (AB岗), as the terminal and board show."""
    from .model import WindowStatus

    a, b = catalog.posts[window]
    w = state.window(window)
    on_duty = w.clerk if w.status is not WindowStatus.closed else None
    offer: Offer | None = None
    if state.closed_out_at is None:
        if w.status is WindowStatus.paused and w.clerk is not None:
            other = b if w.clerk == a else a if w.clerk == b else b
            if other is not None and other != w.clerk:
                offer = Offer(other, "paused", "take-over", w.since or now)
        elif w.status is WindowStatus.closed and b is not None and not catalog.windows[window].retired:
            session = session_at(catalog, window, now)
            grace = timedelta(seconds=catalog.hall.supervision.attendance_grace_s)
            if session is not None and session[0] + grace <= now < session[1] - grace:
                # Not opened since the session began, or closed again before its end: A is away.
                since = max(session[0] + grace, w.since) if w.since is not None else session[0] + grace
                offer = Offer(b, "absent", "open", since)
    return Duty(window, a, b, on_duty, post_of(catalog, window, on_duty), offer)


def duty_view(catalog: Catalog, d: Duty) -> dict[str, Any]:
    """Duty as staff screens show it: names and staff numbers (public by design), no usernames
    beyond the window's own staff's screens (the board and terminal are staff screens)."""

    def person(username: str | None) -> dict[str, Any] | None:
        u = catalog.users.get(username or "")
        return {"username": u.username, "name": u.name, "staff_no": u.staff_no} if u else None

    return {
        "a": person(d.a),
        "b": person(d.b),
        "on_duty": person(d.on_duty),
        "post": d.post,
        "offer": None if d.offer is None else {
            "to": person(d.offer.to), "reason": d.offer.reason, "action": d.offer.action, "since": d.offer.since.isoformat(),
        },
    }
