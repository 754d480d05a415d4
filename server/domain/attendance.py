"""考勤: each window's scheduled sessions against when it was really open, and who answers for it.

A window's schedule is its own `hours`, else the hall's opening hours, on the days that schedule
opens (the hall calendar; server/domain/calendar.py). Each scheduled range ("08:30-12:00") is a
session. A window is on duty while it is open, paused included (a pause is a notice of leave,
measured and alerted on its own). With the grace `supervision.attendance_grace_s` (g):

- late opening (迟开窗): first on duty in the session more than g after its start; the delay
  counts whole (a window opened at 08:45 for 08:30 is 900 s late). Charged to the A post: opening
  the window is A's duty, and a B post who opens it covers for A.
- early closing (早关窗): last on duty more than g before the session's end; charged to the
  clerk who was at the window when it closed.
- absence (缺岗): never on duty in the session; charged to the A post.
- cover (顶岗): a session in which someone other than the A post sat at the window.

A session counts once it is over (`now` past its end): today's figures grow as the day goes.
Pure: fed the day's window events, it reads no clock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from . import events as ev
from .posts import sessions

if TYPE_CHECKING:
    from .catalog import Catalog

WINDOW_EVENTS = (ev.WindowOpened, ev.WindowHandedOver, ev.WindowClosed)
EVENT_TYPES = tuple(e.type for e in WINDOW_EVENTS)


@dataclass(slots=True)
class Segment:
    """A stretch of time one clerk held the window (open or paused)."""

    clerk: str
    start: datetime
    end: datetime | None = None


@dataclass(slots=True)
class DutyLog:
    """Who held each window when, folded from the day's window events in journal order."""

    segments: dict[str, list[Segment]] = field(default_factory=dict)

    def feed(self, e: ev.Event) -> None:
        if not isinstance(e, WINDOW_EVENTS):
            return
        runs = self.segments.setdefault(e.window, [])
        current = runs[-1] if runs and runs[-1].end is None else None
        if isinstance(e, ev.WindowOpened):
            if current is None:
                runs.append(Segment(e.clerk, e.at))
        elif current is not None:
            current.end = e.at
            if isinstance(e, ev.WindowHandedOver):
                runs.append(Segment(e.to_clerk or current.clerk, e.at))

    def clerk_at(self, window: str, at: datetime) -> str | None:
        for s in self.segments.get(window, ()):
            if s.start <= at and (s.end is None or at < s.end):
                return s.clerk
        return None


@dataclass(frozen=True, slots=True)
class Session:
    """One scheduled session of one window, as it went."""

    window: str
    day: date
    start: datetime
    end: datetime
    a_post: str | None
    opened_at: datetime | None  # first on duty in the session (None: absent)
    closed_at: datetime | None  # last on duty in the session
    closed_by: str | None  # the clerk at the window when it closed
    late_s: float  # 0 when on time
    early_s: float  # 0 when on time
    on_duty: tuple[str, ...]  # the clerks who held the window in the session, in order

    @property
    def absent(self) -> bool:
        return self.opened_at is None

    @property
    def covered_by(self) -> tuple[str, ...]:
        return tuple(c for c in self.on_duty if c != self.a_post)


def sessions_of_day(catalog: Catalog, day: date, log: DutyLog, now: datetime) -> list[Session]:
    """Every window's sessions of `day` that are over by `now`, in catalogue order."""
    grace = timedelta(seconds=catalog.hall.supervision.attendance_grace_s)
    out: list[Session] = []
    for window in catalog.windows:
        a_post = catalog.posts[window][0]
        for start, end in sessions(catalog, window, day):
            if now < end:
                continue
            held = [(max(s.start, start), min(s.end or end, end), s.clerk) for s in log.segments.get(window, ())
                    if s.start < end and (s.end is None or s.end > start)]
            held = [h for h in held if h[1] > h[0]]
            if not held:
                out.append(Session(window, day, start, end, a_post, None, None, None, 0.0, 0.0, ()))
                continue
            opened_at = min(h[0] for h in held)
            last = max(held, key=lambda h: h[1])
            late = (opened_at - start).total_seconds()
            early = (end - last[1]).total_seconds()
            on_duty = tuple(dict.fromkeys(h[2] for h in sorted(held)))
            out.append(Session(
                window, day, start, end, a_post, opened_at, last[1], last[2],
                late if late > grace.total_seconds() else 0.0,
                early if early > grace.total_seconds() else 0.0,
                on_duty,
            ))
    return out


FIGURES = ("sessions", "on_time", "late", "late_s", "early", "early_s", "absent", "covered")


def charges(s: Session) -> list[tuple[str, str, float]]:
    """(clerk, figure, amount) of one session: what each clerk answers for (the rules above)."""
    out: list[tuple[str, str, float]] = []
    if s.a_post is not None:
        out.append((s.a_post, "sessions", 1))
        if s.absent:
            out.append((s.a_post, "absent", 1))
        if s.late_s:
            out += [(s.a_post, "late", 1), (s.a_post, "late_s", s.late_s)]
        if not (s.absent or s.late_s or s.early_s):
            out.append((s.a_post, "on_time", 1))
    if s.early_s and s.closed_by is not None:
        out += [(s.closed_by, "early", 1), (s.closed_by, "early_s", s.early_s)]
    out += [(c, "covered", 1) for c in s.covered_by]
    return out


def window_figures(s: Session) -> dict[str, float]:
    """One session's figures for its window (and its day)."""
    return {
        "sessions": 1,
        "on_time": 0 if (s.absent or s.late_s or s.early_s) else 1,
        "late": 1 if s.late_s else 0,
        "late_s": s.late_s,
        "early": 1 if s.early_s else 0,
        "early_s": s.early_s,
        "absent": 1 if s.absent else 0,
        "covered": 1 if s.covered_by else 0,
    }
