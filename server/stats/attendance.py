"""考勤 report: late openings, early closings, absences and cover, per window, clerk and day.

Derived from the journal's window events on demand (no derived table): a quarter of a hall is a
few thousand such events. The rules are server/domain/attendance.py; this module reads the
days, sums the sessions and attributes alerts to the clerk who held the window when they were
raised (for the clerk ranking of the bulletin, server/stats/bulletin.py).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import date, datetime, time, timedelta
from typing import Any

from ..domain import events as ev
from ..domain.attendance import EVENT_TYPES, FIGURES, DutyLog, Session, charges, sessions_of_day, window_figures
from ..domain.catalog import Catalog
from ..hall import HallService
from ..journal import SQLJournal

ALERT = ev.AlertRaised.type


def day_sessions(catalog: Catalog, day: date, events: list[ev.Event], now: datetime) -> tuple[list[Session], Counter[str]]:
    """One day's sessions over by `now`, and the distinct alerts raised at each clerk's window."""
    log = DutyLog()
    alerts: dict[str, str] = {}
    for e in events:
        log.feed(e)
        if isinstance(e, ev.AlertRaised) and e.window in catalog.windows and e.key not in alerts:
            clerk = log.clerk_at(e.window, e.at) or catalog.posts[e.window][0]
            if clerk:
                alerts[e.key] = clerk
    return sessions_of_day(catalog, day, log, now), Counter(alerts.values())


def _row() -> dict[str, float]:
    return {f: 0.0 if f.endswith("_s") else 0 for f in FIGURES}


def _finish(row: dict[str, Any]) -> dict[str, Any]:
    for f in ("late_s", "early_s"):
        row[f] = round(row[f], 1)
    n = row["sessions"]
    row["on_time_rate"] = round(row["on_time"] / n, 4) if n else None
    return row


def report(catalog: Catalog, days: list[tuple[date, list[ev.Event], datetime]], start: date, end: date, generated_at: datetime) -> dict[str, Any]:
    """The attendance report of [start, end] from each day's window events (and the moment up
    to which that day counts: its end, or now for today)."""
    windows = {w: _row() for w in catalog.windows}
    clerks: dict[str, dict[str, float]] = {}
    by_day: dict[str, dict[str, float]] = {}
    alerts: Counter[str] = Counter()
    incidents: list[dict[str, Any]] = []
    for day, events, now in days:
        sessions, raised = day_sessions(catalog, day, events, now)
        alerts.update(raised)
        for s in sessions:
            figures = window_figures(s)
            today = by_day.setdefault(day.isoformat(), _row())
            for f, v in figures.items():
                windows[s.window][f] += v
                today[f] += v
            for clerk, f, v in charges(s):
                clerks.setdefault(clerk, _row())[f] += v
            if not figures["on_time"] or figures["covered"]:
                incidents.append(session_view(catalog, s))
    for clerk in alerts:
        clerks.setdefault(clerk, _row())
    total = _row()
    for row in windows.values():
        for f in FIGURES:
            total[f] += row[f]
    return {
        "hall": catalog.hall.id,
        "from": start.isoformat(),
        "to": end.isoformat(),
        "generated_at": generated_at.isoformat(),
        "grace_s": catalog.hall.supervision.attendance_grace_s,
        "windows": [
            _finish({"key": w, "name": catalog.windows[w].name, "a_post": _name(catalog, catalog.posts[w][0]),
                     "b_post": _name(catalog, catalog.posts[w][1]), **row})
            for w, row in windows.items() if row["sessions"] or not catalog.windows[w].retired
        ],
        "clerks": [
            _finish({"key": c, "name": _name(catalog, c), "staff_no": _staff_no(catalog, c), **row, "alerts": alerts[c]})
            for c, row in sorted(clerks.items())
        ],
        "days": [_finish({"key": d, "name": d, **row}) for d, row in sorted(by_day.items())],
        "sessions": incidents,
        "total": _finish({"key": "total", "name": "合计", **total}),
    }


def session_view(catalog: Catalog, s: Session) -> dict[str, Any]:
    def hm(t: datetime | None) -> str | None:
        return None if t is None else t.strftime("%H:%M:%S")

    return {
        "day": s.day.isoformat(),
        "window": s.window,
        "window_name": catalog.windows[s.window].name,
        "session": f"{s.start:%H:%M}-{s.end:%H:%M}",
        "a_post": _name(catalog, s.a_post),
        "opened_at": hm(s.opened_at),
        "closed_at": hm(s.closed_at),
        "closed_by": _name(catalog, s.closed_by),
        "late_s": round(s.late_s, 1),
        "early_s": round(s.early_s, 1),
        "absent": s.absent,
        "on_duty": [_name(catalog, c) for c in s.on_duty],
    }


def _name(catalog: Catalog, username: str | None) -> str | None:
    if username is None:
        return None
    u = catalog.users.get(username)
    return u.name if u else username


def _staff_no(catalog: Catalog, username: str) -> str:
    u = catalog.users.get(username)
    return u.staff_no if u else ""


async def attendance(journal: SQLJournal, service: HallService, start: date, end: date) -> dict[str, Any]:
    """The report of [start, end] for one hall: closed days whole, today up to now. Days before
    the hall's first journalled day are not counted (the hall was not running yet)."""
    now = service.clock.now().astimezone(service.tz)
    today = now.date()
    end = min(end, today)
    catalog = service.catalog
    stored: list[tuple[date, list[dict[str, Any]], datetime]] = []
    if end >= start:
        first = await journal.days(service.hall, date(2000, 1, 1), end)
        if first:
            day = max(start, min(first))
            while day <= end:
                rows = await service.events(day, 0, (*EVENT_TYPES, ALERT))
                until = now if day == today else datetime.combine(day + timedelta(days=1), time(0), service.tz)
                stored.append((day, [r.data for r in rows], until))
                day += timedelta(days=1)

    def build() -> dict[str, Any]:  # a quarter is tens of thousands of events: off the event loop
        days = [(d, [ev.from_dict(e) for e in events], until) for d, events, until in stored]
        return report(catalog, days, start, end, now)

    return await asyncio.to_thread(build)
