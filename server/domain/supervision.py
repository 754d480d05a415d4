"""电子监察 (e-supervision): which alerts the hall calls for, and the bad-review loop. Pure.

Alerts escalate warning → yellow → red as a condition lasts, with thresholds per item
(`Item.alerts`) or the hall's (`Hall.supervision`):

- `wait`: a ticket waiting in the hall (`waiting_since`) longer than the item's wait thresholds;
- `service`: a service running (start → now, minus suspensions) longer than its thresholds
  (by default 2×, 3×, 4× the item's expected service time);
- `unattended`: a window paused (离岗) longer than the paused thresholds, or closed during the
  hall's opening hours while someone waits for its items (`closed_s`, see `closed_and_awaited`);
- `idle`: a window open and idle (nobody at its counter) while people wait in the hall for its
  items, longer than the `idle_s` thresholds (see `idle_and_awaited`): a clerk not calling;
- `deadline`: a promised case (承诺件) of an earlier day, not concluded, with
  `deadline_warning_days` working days or fewer left (warning), due today (yellow), overdue (red);
- `review`: a bad review (差评) whose next step is due today (warning), one working day
  late (yellow), or later (red).

`sweep` compares what it finds with the alerts already raised today (passed in the command)
and returns only the changes: raised or escalated, and cleared when the condition ended.

The bad-review loop (差评整改): a score of 1 or 2 opens it; the supervisor assigns it to the
department's chief representative (首席代表); the chief verifies it (核实) within
`review_verify_days` working days, then rectifies (整改) and calls the citizen back (回访)
within `review_rectify_days` of the rating, or appeals it as mistaken (申诉), which a manager
upholds (closing it) or rejects (back to rectification).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any

from . import commands as cmd
from . import events as ev
from .calendar import add_working_days, hall_workday, is_open, items_served_now, national
from .catalog import Catalog, Role, User
from .errors import Conflict, Invalid
from .model import HallDay, Ticket, WindowStatus
from .national import NationalCalendar
from .settings import WorkingCalendar

LEVELS = ("warning", "yellow", "red")
SUPERVISOR = "supervisor"


def rank(level: str | None) -> int:
    return LEVELS.index(level) if level in LEVELS else -1


def level_for(value: float, thresholds: Iterable[float]) -> str | None:
    """The highest level whose threshold `value` has reached, or None."""
    found = None
    for level, limit in zip(LEVELS, thresholds):
        if value >= limit:
            found = level
    return found


def wait_thresholds(catalog: Catalog, item: str) -> tuple[float, float, float]:
    own = catalog.items[item].alerts.wait_s
    return tuple(own or catalog.hall.supervision.wait_s)  # type: ignore[return-value]


def service_thresholds(catalog: Catalog, item: str) -> tuple[float, float, float]:
    i = catalog.items[item]
    if i.alerts.service_s:
        return tuple(i.alerts.service_s)  # type: ignore[return-value]
    return tuple(f * i.expected_service_s for f in catalog.hall.supervision.service_factor)  # type: ignore[return-value]


# The times of a statistics row (server/stats) held against the alert thresholds.
TIMED_FIGURES = ("wait", "service")
DISTRIBUTION = ("mean_s", "p50_s", "p90_s", "max_s")


def items_of_group(catalog: Catalog, by: str, key: str) -> tuple[str, ...]:
    """The items whose tickets a statistics row may count: the item itself, a department's
    items, a window's items; any item of the hall for a clerk, an hour, a day, a channel, the total."""
    if by == "item":
        return (key,) if key in catalog.items else ()
    if by == "department":
        return tuple(i.id for i in catalog.items.values() if i.department == key)
    if by == "window":
        w = catalog.windows.get(key)
        return tuple(i for i in w.items if i in catalog.items) if w else ()
    return tuple(catalog.items)


def group_thresholds(catalog: Catalog, by: str, key: str) -> dict[str, tuple[float, float, float]]:
    """The wait and service thresholds (warning, yellow, red) of a statistics row: the item's own,
    and for a row of several items the most lenient of theirs at each level, so that a figure
    marked past a threshold is past it for every item the row counts (never a false alarm)."""
    items = items_of_group(catalog, by, key)
    if not items:
        return {}
    per_kind = {"wait": [wait_thresholds(catalog, i) for i in items], "service": [service_thresholds(catalog, i) for i in items]}
    return {kind: tuple(max(t[n] for t in limits) for n in range(3)) for kind, limits in per_kind.items()}  # type: ignore[misc]


def past_thresholds(row: dict[str, Any], thresholds: dict[str, tuple[float, float, float]]) -> dict[str, dict[str, str]]:
    """The times of a statistics row (`wait` and `service`: mean, p50, p90, max in seconds) that
    reached a threshold, with the highest level reached: {"wait": {"max_s": "yellow"}, …}."""
    out: dict[str, dict[str, str]] = {}
    for kind in TIMED_FIGURES:
        limits, figures = thresholds.get(kind), row.get(kind) or {}
        if not limits:
            continue
        found: dict[str, str] = {}
        for f in DISTRIBUTION:
            level = level_for(figures[f], limits) if figures.get(f) is not None else None
            if level:
                found[f] = level
        if found:
            out[kind] = found
    return out


@dataclass(frozen=True, slots=True)
class Finding:
    key: str
    kind: str
    level: str
    value: float
    threshold: float
    ticket: str | None = None
    number: str | None = None
    window: str | None = None
    item: str | None = None


# A sweep asks about every open case and review: the answers for a pair of dates only change
# when the national calendar does, so it is part of the key (an added year gives a new one).
@lru_cache(maxsize=4096)
def _after(start: date, days: int, _known: NationalCalendar, calendar: WorkingCalendar | None) -> date:
    return add_working_days(start, days, calendar)


def _after_working_days(start: date, days: int, calendar: WorkingCalendar | None = None) -> date:
    return _after(start, days, national(), calendar)


@lru_cache(maxsize=4096)
def _between(a: date, b: date, _known: NationalCalendar, calendar: WorkingCalendar | None) -> int:
    n, d = 0, a
    while d < b:
        d = date.fromordinal(d.toordinal() + 1)
        if hall_workday(d, calendar):
            n += 1
    return n


def working_days_between(a: date, b: date, calendar: WorkingCalendar | None = None) -> int:
    """Working days of the hall after `a` up to and including `b` (0 when b <= a): the official
    calendar with the hall's own closed and extra working days."""
    return _between(a, b, national(), calendar)


def waiting_since(t: Ticket) -> datetime | None:
    """When a waiting ticket began to wait in the hall, for live supervision (the board's queues,
    its suggestions and the wait alerts alike): from issue, or for a remote number (远程取号) from
    its holder's arrival; None while that holder has not arrived (the hall keeps nobody waiting,
    and the call policy skips the ticket). Statistics keep their own definition: a ticket's
    waiting time runs from issue to first call (README, Definitions)."""
    if not t.callable:
        return None
    return t.arrived_at or t.issued_at


def hall_waits(state: HallDay, ids: Iterable[str], now: datetime) -> list[float]:
    """Seconds waited so far by those of `ids` who are waiting in the hall (see `waiting_since`)."""
    out = []
    for tid in ids:
        since = waiting_since(state.tickets[tid])
        if since is not None:
            out.append((now - since).total_seconds())
    return out


def closed_and_awaited(state: HallDay, catalog: Catalog, window: str, now: datetime) -> float | None:
    """Seconds a closed window has been closed while someone waited in the hall for it (an item
    it serves at this hour, not pinned to another window, or a ticket pinned to it), or None
    when nobody waits for it or the hall is not open. Counted from the later of its closing and
    the start of the longest wait, so neither a window closed since morning with a queue that
    just formed, nor a long queue with a window closed a minute ago, counts as long."""
    hall = catalog.hall
    if not is_open(hall.opening, now, hall.calendar):
        return None
    oldest = _oldest_waiting_for(state, catalog, window, now)
    if oldest is None:
        return None
    closed = state.window(window).since
    start = oldest if closed is None or closed < oldest else closed
    return (now - start).total_seconds()


def _oldest_waiting_for(state: HallDay, catalog: Catalog, window: str, now: datetime) -> datetime | None:
    """When the longest wait began among those waiting in the hall for this window: an item it
    serves at this hour (not pinned to another window), or a ticket pinned to it."""
    oldest: datetime | None = None
    candidates = [state.tickets[t] for t in state.pinned.get(window, ())]
    for item in items_served_now(catalog, window, now):
        candidates.extend(t for tid in state.waiting.get(item, ()) if (t := state.tickets[tid]).target_window is None)
    for t in candidates:
        since = waiting_since(t)
        if since is not None and (oldest is None or since < oldest):
            oldest = since
    return oldest


def idle_and_awaited(state: HallDay, catalog: Catalog, window: str, now: datetime) -> float | None:
    """Seconds an open window has stood idle (nobody called to its counter) while someone waited
    in the hall for it, or None: counted from the later of its becoming idle and the start of the
    longest wait, like `closed_and_awaited`."""
    w = state.window(window)
    if w.status is not WindowStatus.idle or w.since is None:
        return None
    if not is_open(catalog.hall.opening, now, catalog.hall.calendar):
        return None  # lunch, evening: the hall's hours, not the clerk's
    oldest = _oldest_waiting_for(state, catalog, window, now)
    if oldest is None:
        return None
    return (now - max(oldest, w.since)).total_seconds()


def _finding(key: str, kind: str, value: float, thresholds: tuple[float, ...], **about: Any) -> Finding | None:
    level = level_for(value, thresholds)
    if level is None:
        return None
    return Finding(key, kind, level, round(value, 1), thresholds[rank(level)], **about)


def case_level(case: cmd.OpenCase, today: date, warning_days: int,
               calendar: WorkingCalendar | None = None) -> tuple[str | None, int]:
    """(level, working days left or, negative, overdue) of a promised case on `today`."""
    if today > case.deadline:
        return "red", -working_days_between(case.deadline, today, calendar)
    left = working_days_between(today, case.deadline, calendar)
    if left == 0:
        return "yellow", 0
    return ("warning" if left <= warning_days else None), left


def review_due(review: cmd.OpenReview, catalog: Catalog) -> date:
    """When the review's next step is due."""
    s = catalog.hall.supervision
    if review.status in ("new", "assigned"):
        return _after_working_days(review.rated_on, s.review_verify_days, catalog.hall.calendar)
    return _after_working_days(review.rated_on, s.review_rectify_days, catalog.hall.calendar)


def review_level(review: cmd.OpenReview, catalog: Catalog, today: date) -> tuple[str | None, int]:
    due = review_due(review, catalog)
    if today < due:
        return None, 0
    late = working_days_between(due, today, catalog.hall.calendar)
    return LEVELS[min(late, 2)], late


def findings(
    state: HallDay,
    catalog: Catalog,
    now: datetime,
    cases: Iterable[cmd.OpenCase] = (),
    reviews: Iterable[cmd.OpenReview] = (),
) -> list[Finding]:
    out: list[Finding] = []
    s = catalog.hall.supervision
    for item, ids in state.waiting.items():
        if item not in catalog.items:
            continue
        limits = wait_thresholds(catalog, item)
        # Most waiting tickets are younger than the first threshold: skip them cheaply, since a
        # sweep runs inside the hall's writer every few seconds, over every waiting ticket.
        cutoff = now - timedelta(seconds=limits[0])
        for tid in ids:
            t = state.tickets[tid]
            since = waiting_since(t)
            if since is None or since > cutoff:
                continue
            f = _finding(f"wait:{t.id}", "wait", (now - since).total_seconds(), limits, ticket=t.id, number=t.number, item=t.item)
            if f:
                out.append(f)
    for w in state.windows.values():
        if w.status is WindowStatus.serving and w.ticket:
            t = state.tickets[w.ticket]
            if t.started_at is not None and t.item in catalog.items:
                served = (now - t.started_at).total_seconds() - t.suspended_s
                f = _finding(
                    f"service:{t.id}", "service", served, service_thresholds(catalog, t.item),
                    ticket=t.id, number=t.number, window=w.id, item=t.item,
                )
                if f:
                    out.append(f)
        elif w.status is WindowStatus.paused and w.since is not None:
            f = _finding(f"unattended:{w.id}", "unattended", (now - w.since).total_seconds(), s.paused_s, window=w.id)
            if f:
                out.append(f)
        elif w.status is WindowStatus.idle and w.id in catalog.windows:
            idle_s = idle_and_awaited(state, catalog, w.id, now)
            if idle_s is not None:
                f = _finding(f"idle:{w.id}", "idle", idle_s, s.idle_s, window=w.id)
                if f:
                    out.append(f)
    # 空岗: an empty window is unattended too when people wait for it during opening hours.
    for wid, conf in catalog.windows.items():
        if conf.retired or state.window(wid).status is not WindowStatus.closed:
            continue
        closed_s = closed_and_awaited(state, catalog, wid, now)
        if closed_s is not None:
            f = _finding(f"unattended:{wid}", "unattended", closed_s, s.closed_s, window=wid)
            if f:
                out.append(f)
    today = now.date()
    for c in cases:
        level, left = case_level(c, today, s.deadline_warning_days, catalog.hall.calendar)
        if level:
            out.append(
                Finding(f"deadline:{c.ticket}", "deadline", level, float(-left), 0.0, ticket=c.ticket, number=c.number, window=c.window, item=c.item)
            )
    for r in reviews:
        if r.status in CLOSED_REVIEW:
            continue
        level, late = review_level(r, catalog, today)
        if level:
            out.append(
                Finding(f"review:{r.ticket}", "review", level, float(late), 0.0, ticket=r.ticket, number=r.number, window=r.window, item=r.item)
            )
    return out


def chief_of(catalog: Catalog, item: str) -> User | None:
    """The department's chief representative (首席代表) for an item, if the hall has one."""
    dept = catalog.items[item].department if item in catalog.items else None
    for u in catalog.config.users:
        if u.role is Role.chief and u.department == dept:
            return u
    return None


def sweep(state: HallDay, catalog: Catalog, c: cmd.Supervise, now: datetime) -> list[ev.Event]:
    """The alerts that changed since the last sweep, and assignments of new bad reviews."""
    active = dict(c.active)
    found = {f.key: f for f in findings(state, catalog, now, c.cases, c.reviews)}
    out: list[ev.Event] = []
    for key, f in found.items():
        if rank(f.level) > rank(active.get(key)):
            out.append(
                ev.AlertRaised(
                    at=now, by=c.by, key=key, kind=f.kind, level=f.level, value=f.value, threshold=f.threshold,
                    ticket=f.ticket, number=f.number, window=f.window, item=f.item,
                )
            )
    for key in active:
        if key not in found:
            out.append(ev.AlertCleared(at=now, by=c.by, key=key))
    for r in c.reviews:
        if r.status == "new":
            chief = chief_of(catalog, r.item)
            out.append(
                ev.ReviewStepRecorded(
                    at=now, by=c.by, ticket=r.ticket, rated_on=r.rated_on, step="assigned",
                    to=chief.username if chief else None,  # None: no chief in the hall, its managers answer
                )
            )
    return out


def conclude_case(state: HallDay, catalog: Catalog, c: cmd.ConcludeCase, now: datetime) -> list[ev.Event]:
    case = c.case
    if case.accepted_on >= state.day:
        raise Conflict("case-today", "a case accepted today is concluded at the counter (finish), not here")
    if case.item not in catalog.items:
        raise Invalid("unknown-item", f"no service item {case.item!r} in this hall")
    return [ev.CaseConcluded(at=now, by=c.by, ticket=case.ticket, accepted_on=case.accepted_on, number=case.number, item=case.item, note=c.note.strip())]


# ------------------------------------------------------------------------- the bad-review loop

REVIEW_STEPS: dict[str, tuple[str, ...]] = {
    # status -> the steps that may follow
    "new": ("assigned",),
    "assigned": ("verified", "appealed"),
    "verified": ("rectified", "appealed"),
    "rectified": ("called_back",),
    "appealed": ("appeal_upheld", "appeal_rejected"),
    "appeal_rejected": ("rectified",),
}
CLOSED_REVIEW = frozenset({"called_back", "appeal_upheld"})
MANAGER_STEPS = frozenset({"appeal_upheld", "appeal_rejected"})
NOTE_NEEDED = frozenset({"verified", "rectified", "called_back", "appealed", "appeal_upheld", "appeal_rejected"})


def may_record_step(user: User, catalog: Catalog, review: cmd.OpenReview, step: str) -> bool:
    """Chiefs act on their department's reviews; managers and admins on all, and decide appeals."""
    if user.role in (Role.manager, Role.admin):
        return True
    if step in MANAGER_STEPS:
        return False
    item = catalog.items.get(review.item)
    return user.role is Role.chief and item is not None and item.department == user.department


def record_review_step(state: HallDay, catalog: Catalog, c: cmd.RecordReviewStep, now: datetime) -> list[ev.Event]:
    r = c.review
    allowed = REVIEW_STEPS.get(r.status, ())
    if c.step not in allowed:
        raise Conflict(
            "review-step",
            f"a review that is {r.status} goes on with {', '.join(allowed) or 'nothing (it is closed)'}",
            review_status=r.status,
        )
    note = c.note.strip()
    if c.step in NOTE_NEEDED and not note:
        raise Invalid("review-note", "say what was found or done (every step of the loop is recorded)")
    return [ev.ReviewStepRecorded(at=now, by=c.by, ticket=r.ticket, rated_on=r.rated_on, step=c.step, note=note)]


# ------------------------------------------------------------------------- boards (folds)


@dataclass(slots=True)
class ActiveAlert:
    key: str
    kind: str
    level: str
    raised_at: datetime  # first raised
    at: datetime  # last raised or escalated
    value: float
    threshold: float
    ticket: str | None
    number: str | None
    window: str | None
    item: str | None


@dataclass(slots=True)
class AlertBoard:
    """Today's alerts, folded from the journal's alert events."""

    day: date
    active: dict[str, ActiveAlert] = field(default_factory=dict)
    history: list[dict[str, Any]] = field(default_factory=list)  # every alert event of the day, in order

    def fold(self, e: ev.Event) -> None:
        if isinstance(e, ev.AlertRaised):
            cur = self.active.get(e.key)
            self.active[e.key] = ActiveAlert(
                e.key, e.kind, e.level, cur.raised_at if cur else e.at, e.at, e.value, e.threshold, e.ticket, e.number, e.window, e.item
            )
            self.history.append(ev.to_dict(e))
        elif isinstance(e, ev.AlertCleared):
            self.active.pop(e.key, None)
            self.history.append(ev.to_dict(e))

    def known(self) -> tuple[tuple[str, str], ...]:
        return tuple((k, a.level) for k, a in self.active.items())


def quiet(state: HallDay, board: AlertBoard, cases: Iterable[cmd.OpenCase] = (), reviews: Iterable[cmd.OpenReview] = ()) -> bool:
    """Whether a sweep can find nothing new until the hall-day changes (an event) or the day
    does: nobody waits or is served, no window is paused, no alert is active, no promised case
    or bad review is open. Every finding of `findings` needs one of those; so a quiet hall's
    sweeps may wait for its next event instead of running every `sweep_s`."""
    if board.active or any(state.waiting.values()) or any(state.pinned.values()):
        return False
    if any(w.status in (WindowStatus.serving, WindowStatus.paused) for w in state.windows.values()):
        return False
    return not any(True for _ in cases) and not any(r.status not in CLOSED_REVIEW for r in reviews)


def suggestions(state: HallDay, catalog: Catalog, now: datetime) -> list[dict[str, Any]]:
    """Items with many people waiting past their warning threshold, and the windows that could
    take them — the advice of the board, not journalled:

    - `open`: windows with the item in their set that are closed or paused (open or resume them);
    - `call`: open windows standing idle that serve the item at this hour, e.g. a comprehensive
      window idle on its other items. The call policy would give them the crowded item's
      tickets at their next call, so the advice is to call (their clerk may be busy otherwise);
    - `off_schedule`: idle windows with the item in their set whose 综合定时办理 schedule keeps it
      out at this hour: the call policy cannot give it to them, but a manager may extend the
      schedule or send its clerk over. A window without the item in its set cannot serve it at
      all, and is never suggested.
    """
    s = catalog.hall.supervision
    out = []
    for item, ids in state.waiting.items():
        if item not in catalog.items or not ids:
            continue
        warning = wait_thresholds(catalog, item)[0]
        waits = hall_waits(state, ids, now)
        over = sum(1 for s in waits if s >= warning)
        if over < s.suggest_after:
            continue
        openable, call, off_schedule = [], [], []
        for w in catalog.windows_of_item[item]:
            status = state.window(w).status
            if status in (WindowStatus.closed, WindowStatus.paused):
                openable.append(w)
            elif status is WindowStatus.idle:
                (call if item in items_served_now(catalog, w, now) else off_schedule).append(w)
        out.append(
            {
                "item": item, "over_threshold": over, "waiting": len(waits), "threshold_s": warning,
                "open": openable, "call": call, "off_schedule": off_schedule,
            }
        )
    out.sort(key=lambda x: -x["over_threshold"])
    return out


def queue_board(state: HallDay, catalog: Catalog, now: datetime) -> list[dict[str, Any]]:
    """Per item: people waiting in the hall and the longest wait now (as the wait alerts count
    them, `waiting_since`), with the item's wait thresholds."""
    rows = []
    for item in catalog.config.items:
        waits = hall_waits(state, state.waiting.get(item.id, {}), now)
        longest = max(waits, default=0.0)
        limits = wait_thresholds(catalog, item.id)
        rows.append(
            {
                "item": item.id,
                "name": item.name,
                "department": item.department,
                "waiting": len(waits),
                "longest_wait_s": round(longest),
                "level": level_for(longest, limits),
                "thresholds_s": list(limits),
            }
        )
    return rows


# The commands decided here, gathered by server/domain/decide.py: (state, catalog, command, now)
# and (state, command, now).
WITH_CATALOG: dict[type[cmd.Command], Callable[..., list[ev.Event]]] = {
    cmd.Supervise: sweep,
    cmd.ConcludeCase: conclude_case,
    cmd.RecordReviewStep: record_review_step,
}
STATE_ONLY: dict[type[cmd.Command], Callable[..., list[ev.Event]]] = {}
