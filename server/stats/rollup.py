"""Grouping and summing: a day's facts become groups per dimension; groups of many days merge.

A group keeps counts, window seconds and the raw waiting and service times (so that
percentiles over any period are exact, not averages of daily percentiles). Pure, no I/O.
"""

from __future__ import annotations

import math
from array import array
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from ..domain.catalog import Catalog
from .facts import WINDOW_TIMES, DayResult

DIMENSIONS = ("window", "item", "department", "clerk", "hour", "day", "channel")
# How the citizen came (the `channel` dimension): booked online (预约, checked in), a number taken
# from a phone (远程取号 / online), or a walk-in (现场: kiosk or staff).
CHANNELS = ("booked", "remote", "walk_in")
CASE_TYPES = ("immediate", "promised", "joint", "escalated")
OUTCOMES = ("completed", "one_time_notice", "not_accepted", "consultation")
# Every count a group keeps (the derived table has a column for each).
COUNTS = (
    "issued", "called", "served", "no_show", "transferred", "requeued", "cancelled", "unfinished", "rated",
    *(f"score_{s}" for s in range(1, 6)),
    *(f"case_{c}" for c in CASE_TYPES),
    *(f"outcome_{o}" for o in OUTCOMES),
    "alerts", "alerts_warning", "alerts_yellow", "alerts_red",
    "appt_booked", "appt_checked_in", "appt_missed", "appt_cancelled",
)
APPOINTMENT_STATUSES = ("booked", "checked_in", "missed", "cancelled")
# Figures that belong to windows (and so to clerks, hours, days), not to items or departments.
WINDOW_DIMENSIONS = frozenset({"window", "clerk", "hour", "day"})
ISSUE_DIMENSIONS = frozenset({"item", "department", "hour", "day", "channel"})
APPOINTMENT_DIMENSIONS = frozenset({"item", "department", "day", "channel"})
OPEN_STATUSES = frozenset({"waiting", "called", "serving", "suspended"})
# Closed out at the day change (日终作废): counted as `unfinished`, as they were open at the day's end.
LEVELS = ("warning", "yellow", "red")


@dataclass(slots=True)
class Group:
    counts: Counter[str] = field(default_factory=Counter)
    times: list[float] = field(default_factory=lambda: [0.0] * len(WINDOW_TIMES))
    waits: array = field(default_factory=lambda: array("d"))
    services: array = field(default_factory=lambda: array("d"))
    # How many waits and services the group holds, also when only its counts were loaded.
    n_waits: int = 0
    n_services: int = 0

    def merge(self, other: Group) -> None:
        self.counts.update(other.counts)
        for n, v in enumerate(other.times):
            self.times[n] += v
        self.waits.extend(other.waits)
        self.services.extend(other.services)
        self.n_waits += other.n_waits
        self.n_services += other.n_services


Groups = dict[str, dict[str, Group]]  # dimension -> key -> group


def hour_key(at: datetime) -> str:
    return f"{at.hour:02d}"


def channel_key(appointment: bool, channel: str) -> str:
    if appointment:
        return "booked"
    return "remote" if channel == "online" else "walk_in"


def day_groups(result: DayResult, catalog: Catalog) -> Groups:
    """One day's facts, each figure attributed once per dimension (see server/stats/__init__.py)."""
    out: Groups = {d: {} for d in DIMENSIONS}
    day = result.day.isoformat()
    tz = ZoneInfo(catalog.hall.timezone)

    def groups(**keys: str | None) -> Iterable[Group]:
        for dim, key in keys.items():
            if key:
                g = out[dim].get(key)
                if g is None:
                    g = out[dim][key] = Group()
                yield g

    def dept(item: str) -> str | None:
        i = catalog.items.get(item)
        return i.department if i else None

    def rate(score: int, parts: Iterable[tuple[str | None, str | None]], item: str, at: datetime | None, channel: str) -> None:
        """A rating counts once for its item, department, hour (of the service's end), day and
        channel, and once for every window and every clerk that served a part of the visit."""
        windows = {w: None for w, _ in parts if w}
        clerks = {c: None for _, c in parts if c}
        keyed = [g for w in windows for g in groups(window=w)] + [g for c in clerks for g in groups(clerk=c)]
        once = list(groups(item=item, department=dept(item), hour=hour_key(at) if at else None, day=day, channel=channel))
        for g in keyed + once:
            g.counts["rated"] += 1
            g.counts[f"score_{score}"] += 1

    channels: dict[str, str] = {}
    for t in result.tickets:
        channel = channels[t.ticket] = channel_key(t.appointment, t.channel)
        for g in groups(item=t.item_issued, department=dept(t.item_issued), hour=hour_key(t.issued_at), day=day, channel=channel):
            g.counts["issued"] += 1
        wait = t.wait_s
        if wait is not None:
            for g in groups(
                window=t.first_window, clerk=t.first_clerk, item=t.item_issued,
                department=dept(t.item_issued), hour=hour_key(t.issued_at), day=day, channel=channel,
            ):
                g.counts["called"] += 1
                g.waits.append(wait)
        if t.status == "done":
            assert t.ended_at is not None
            for g in groups(
                window=t.window, clerk=t.clerk, item=t.item, department=dept(t.item), hour=hour_key(t.ended_at), day=day,
                channel=channel,
            ):
                c = g.counts
                c["served"] += 1
                c[f"case_{t.case_type}"] += 1
                c[f"outcome_{t.outcome}"] += 1
                if t.started_at is not None:
                    g.services.append(t.service_s)
            if t.score is not None:
                rate(t.score, ((t.window, t.clerk), *t.parts), t.item, t.ended_at, channel)
        elif t.status == "no_show":
            assert t.ended_at is not None
            for g in groups(
                window=t.window, clerk=t.clerk, item=t.item, department=dept(t.item), hour=hour_key(t.ended_at), day=day,
                channel=channel,
            ):
                g.counts["no_show"] += 1
        elif t.status == "cancelled":
            assert t.ended_at is not None
            for g in groups(item=t.item, department=dept(t.item), hour=hour_key(t.ended_at), day=day, channel=channel):
                g.counts["cancelled"] += 1
        elif t.status in OPEN_STATUSES or t.status == "closed_out":
            for g in groups(item=t.item, department=dept(t.item), hour=hour_key(t.issued_at), day=day, channel=channel):
                g.counts["unfinished"] += 1

    # 好差评 after the day of service: counted on the day it was given (that day's ratings), for
    # the windows and clerks that served the ticket on its own day.
    for _, e in result.ledger:
        if e["type"] == "ticket_rated_late":
            finished = datetime.fromisoformat(e["finished_at"]).astimezone(tz) if e.get("finished_at") else None
            parts = [(w, c) for w, c in e["parts"]]
            rate(e["score"], parts, e["item"], finished, channel_key(e["appointment"], e["channel"]))

    for h in result.handoffs:
        for g in groups(window=h.window, clerk=h.clerk, item=h.item, department=dept(h.item), hour=hour_key(h.at), day=day,
                        channel=channels.get(h.ticket)):
            g.counts[h.kind] += 1

    # 网上预约: the day's bookings by how they ended (booked = still to come, or the day closed open).
    for item, status in result.appointments:
        for g in groups(item=item, department=dept(item), day=day, channel="booked"):
            g.counts[f"appt_{status}"] += 1

    for (window, clerk, hour), secs in result.window_hours.items():
        for g in groups(window=window, clerk=clerk or None, hour=f"{hour:02d}", day=day):
            for n, v in enumerate(secs):
                g.times[n] += v

    # An alert counts once, at the highest level it reached, where and when it was first raised.
    worst: dict[str, tuple[int, Any]] = {}
    for a in result.alerts:
        rank = LEVELS.index(a.level) if a.level in LEVELS else 0
        first = worst[a.key][1] if a.key in worst else a
        worst[a.key] = (max(rank, worst[a.key][0]) if a.key in worst else rank, first)
    for rank, a in worst.values():
        for g in groups(window=a.window, clerk=a.clerk or None, item=a.item, department=dept(a.item) if a.item else None,
                        hour=hour_key(a.at), day=day):
            g.counts["alerts"] += 1
            g.counts[f"alerts_{LEVELS[rank]}"] += 1
    for keys in out.values():
        for g in keys.values():
            g.n_waits, g.n_services = len(g.waits), len(g.services)
    return out


def merge(into: Groups, more: Groups) -> Groups:
    for dim, keys in more.items():
        target = into.setdefault(dim, {})
        for key, g in keys.items():
            if key in target:
                target[key].merge(g)
            else:
                copy = Group()
                copy.merge(g)
                target[key] = copy
    return into


# ---------------------------------------------------------------------- summaries


def percentile(sorted_values: list[float], p: float) -> float | None:
    """Nearest rank: the smallest value with at least p % of the values at or below it."""
    n = len(sorted_values)
    if n == 0:
        return None
    k = max(1, math.ceil(p / 100 * n - 1e-9))
    return sorted_values[k - 1]


def _r(x: float | None) -> float | None:
    return None if x is None else round(x, 1)


def _rank(p: float, n: int) -> int:
    return max(1, math.ceil(p / 100 * n - 1e-9))


def distribution(values: array) -> dict[str, Any]:
    """Count, mean, p50, p90 (nearest rank, as `percentile`) and max; numpy selects the ranks
    without sorting (a quarter holds hundreds of thousands of times)."""
    n = len(values)
    if n == 0:
        return {"count": 0, "mean_s": None, "p50_s": None, "p90_s": None, "max_s": None}
    x = np.frombuffer(values, dtype=np.float64) if isinstance(values, array) else np.asarray(values, dtype=np.float64)
    k50, k90 = _rank(50, n) - 1, _rank(90, n) - 1
    part = np.partition(x, (k50, k90, n - 1))
    return {
        "count": n,
        "mean_s": _r(float(np.mean(x))),
        "p50_s": _r(float(part[k50])),
        "p90_s": _r(float(part[k90])),
        "max_s": _r(float(part[n - 1])),
    }


def _rate(a: int, b: int) -> float | None:
    return round(a / b, 4) if b else None


def summary(dim: str, key: str, g: Group) -> dict[str, Any]:
    c = g.counts
    served, no_show = c["served"], c["no_show"]
    rated = c["rated"]
    scores = {str(s): c[f"score_{s}"] for s in range(1, 6)}
    total_score = sum(s * c[f"score_{s}"] for s in range(1, 6))
    good = sum(c[f"score_{s}"] for s in (3, 4, 5))
    row: dict[str, Any] = {
        "key": key,
        "issued": c["issued"] if dim in ISSUE_DIMENSIONS else None,
        "called": c["called"],
        "served": served,
        "no_show": no_show,
        "no_show_rate": _rate(no_show, served + no_show),
        "transferred": c["transferred"],
        "requeued": c["requeued"],
        "cancelled": c["cancelled"] if dim in ISSUE_DIMENSIONS else None,
        "unfinished": c["unfinished"] if dim in ISSUE_DIMENSIONS else None,
        "wait": distribution(g.waits),
        "service": distribution(g.services),
        "satisfaction": {
            "rated": rated,
            "rated_rate": _rate(rated, served),
            "scores": scores,
            "good_rate": _rate(good, rated),
            "bad": scores["1"] + scores["2"],
            "mean_score": round(total_score / rated, 2) if rated else None,
        },
        "case_types": {k: c[f"case_{k}"] for k in CASE_TYPES},
        "outcomes": {k: c[f"outcome_{k}"] for k in OUTCOMES},
        "window_time": {name: round(g.times[n], 1) for n, name in enumerate(WINDOW_TIMES)} if dim in WINDOW_DIMENSIONS else None,
        "alerts": {"total": c["alerts"], **{lv: c[f"alerts_{lv}"] for lv in LEVELS}},
        "appointments": {s: c[f"appt_{s}"] for s in APPOINTMENT_STATUSES} if dim in APPOINTMENT_DIMENSIONS else None,
    }
    return row


def total_of(groups: Groups, by: str = "day") -> Group:
    """Every figure is attributed to exactly one day, so the days add up to the whole.

    The days' groups may have been loaded without their times (they are many): every wait and
    service is also attributed to exactly one key of `by`, so the whole's times are those of
    `by`'s groups, when they add up to the days' counts (they may not if the config changed)."""
    total = Group()
    for g in groups.get("day", {}).values():
        total.merge(g)
    if by != "day" and (len(total.waits), len(total.services)) != (total.n_waits, total.n_services):
        waits, services = array("d"), array("d")
        for g in groups.get(by, {}).values():
            waits.extend(g.waits)
            services.extend(g.services)
        if (len(waits), len(services)) != (total.n_waits, total.n_services):
            raise ValueError("the times of the days were not loaded and the groups do not add up to them")
        total.waits, total.services = waits, services
    return total


def flatten(row: dict[str, Any]) -> dict[str, Any]:
    """A summary row as one level of columns (for CSV and XLSX)."""
    out: dict[str, Any] = {}
    for k, v in row.items():
        if isinstance(v, dict):
            for k2, v2 in v.items():
                if isinstance(v2, dict):
                    for k3, v3 in v2.items():
                        out[f"{k}_{k2}_{k3}"] = v3
                else:
                    out[f"{k}_{k2}"] = v2
        elif v is None and k in ("window_time", "appointments"):
            continue
        else:
            out[k] = v
    return out
