"""到访预测: arrivals per item and half hour on a coming working day, learnt from the hall's history. Pure.

The model is multiplicative and small enough to explain to a hall manager:

    arrivals(item, half hour) = level(day) × weekday(day) × Π day-kind factors(day)
                                × share of the item that weekday × share of the half hour

- `level`: a straight line (least squares) through the recent days' totals once the weekday
  and day-kind factors are divided out: the trend;
- `weekday`: the weekday's mean against the other weekdays (a swapped working day 调休 on a
  weekend counts as an ordinary weekday, with its own factor);
- day kinds, each with its own factor learnt from the history's days of that kind and drawn
  towards 1 while there are few: the first working day after a break of three days or more
  (`after_break`: the crowd after 国庆 or 春节), the last one before such a break
  (`before_break`), a swapped working day (`swapped`), the last two working days of a month
  (`month_end`) and of a quarter (`quarter_end`, on top of month_end);
- the item's share of the weekday and each half hour's share of the item's weekday, each drawn
  towards the next coarser profile (the item's share over all weekdays, the hall's half-hour
  profile) while the item has few tickets.

Bookings already made are known arrivals: they are added as they are, not forecast. How sure
the forecast is: the days' totals in the history scatter around the model's fit by a share
`sigma` (log scale); a half hour's count is then Poisson around its mean times that day-level
error, and the interval is the central `LEVEL` of it (a normal approximation, never below 0).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from .calendar import hall_workday, item_issuing, opens_on
from .catalog import Catalog
from .settings import Schedule, WorkingCalendar

SLOT_MIN = 30
LEVEL = 0.8  # the share of days the interval should hold
Z = 1.2816  # the normal quantile of (1 + LEVEL) / 2
KINDS = ("after_break", "before_break", "swapped", "month_end", "quarter_end")
PRIOR_DAYS = 1.0  # a day-kind factor is drawn towards 1 as if by one more day at 1
PRIOR_TICKETS = 30.0  # a profile is drawn towards the coarser one as if by this many tickets
BREAK_DAYS = 3  # days off in a row that make a break (an ordinary weekend is two)


@dataclass(frozen=True, slots=True)
class DayCounts:
    """One past hall-day: walk-in arrivals per item and half hour (minutes after midnight)."""

    day: date
    counts: Mapping[str, Mapping[int, int]]

    @property
    def total(self) -> int:
        return sum(sum(slots.values()) for slots in self.counts.values())


@dataclass(frozen=True, slots=True)
class Estimate:
    """A forecast count with its interval (`low`, `high`: the central LEVEL)."""

    mean: float
    low: float
    high: float

    def as_dict(self) -> dict[str, float]:
        return {"mean": round(self.mean, 2), "low": round(self.low, 2), "high": round(self.high, 2)}


def slots_of(schedule: Schedule) -> tuple[int, ...]:
    """The half hours (their start, minutes after midnight) in which the schedule is open."""
    found: set[int] = set()
    for r in schedule.hours:
        start, end = r.start.hour * 60 + r.start.minute, r.end.hour * 60 + r.end.minute
        found.update(m // SLOT_MIN * SLOT_MIN for m in range(start, end))
    return tuple(sorted(found))


def slot_label(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def _off_run(day: date, step: int, calendar: WorkingCalendar | None) -> int:
    """Days off in a row next to `day` (before it with step -1, after it with +1)."""
    n, d = 0, day + timedelta(days=step)
    while not hall_workday(d, calendar) and n < 30:
        n += 1
        d += timedelta(days=step)
    return n


def _last_workdays_of_month(day: date, calendar: WorkingCalendar | None, n: int = 2) -> bool:
    d, left = day + timedelta(days=1), n - 1
    while d.month == day.month:
        if hall_workday(d, calendar):
            left -= 1
            if left < 0:
                return False
        d += timedelta(days=1)
    return True


def day_kinds(day: date, calendar: WorkingCalendar | None = None) -> frozenset[str]:
    """The kinds of a working day that move its crowd (see the module's docstring)."""
    kinds = set()
    if day.isoweekday() > 5:
        kinds.add("swapped")
    if _off_run(day, -1, calendar) >= BREAK_DAYS:
        kinds.add("after_break")
    if _off_run(day, 1, calendar) >= BREAK_DAYS:
        kinds.add("before_break")
    if _last_workdays_of_month(day, calendar):
        kinds.add("month_end")
        if day.month % 3 == 0:
            kinds.add("quarter_end")
    return frozenset(kinds)


def opening_days(catalog: Catalog, after: date, n: int) -> list[date]:
    """The next `n` days after `after` on which the hall opens."""
    out, d = [], after
    while len(out) < n and d < after + timedelta(days=400):
        d += timedelta(days=1)
        if opens_on(catalog.hall.opening, d, catalog.hall.calendar):
            out.append(d)
    return out


def _weekday(day: date) -> int:
    """1–5; a swapped weekend working day counts as a weekday (0: the pooled weekday)."""
    return day.isoweekday() if day.isoweekday() <= 5 else 0


@dataclass
class Model:
    """The fitted model; `predict` gives a day's forecast."""

    calendar: WorkingCalendar | None
    origin: date
    intercept: float = 0.0
    slope: float = 0.0
    weekday: dict[int, float] = field(default_factory=dict)
    kinds: dict[str, float] = field(default_factory=dict)
    item_share: dict[int, dict[str, float]] = field(default_factory=dict)  # weekday (0 pooled) -> item -> share
    profile: dict[tuple[int, str], dict[int, float]] = field(default_factory=dict)  # (weekday, item) -> slot -> share
    sigma: float = 0.25
    days: int = 0

    def level(self, day: date) -> float:
        return max(0.0, self.intercept + self.slope * (day - self.origin).days)

    def day_factor(self, day: date) -> float:
        f = self.weekday.get(_weekday(day), 1.0)
        for k in day_kinds(day, self.calendar):
            f *= self.kinds.get(k, 1.0)
        return f

    def day_total(self, day: date) -> float:
        return self.level(day) * self.day_factor(day)

    def predict(self, day: date, slots: Iterable[int], known: Mapping[str, Mapping[int, int]] | None = None) -> dict[str, dict[int, Estimate]]:
        """item -> half hour -> the forecast arrivals (walk-ins forecast plus `known` bookings)."""
        total = self.day_total(day)
        wd = _weekday(day)
        shares = self.item_share.get(wd) or self.item_share.get(0, {})
        slots = tuple(slots)
        out: dict[str, dict[int, Estimate]] = {}
        known = known or {}
        for item in sorted(set(shares) | set(known)):
            prof = self.profile.get((wd, item)) or self.profile.get((0, item), {})
            row = {}
            for s in slots:
                mu = total * shares.get(item, 0.0) * prof.get(s, 0.0)
                booked = known.get(item, {}).get(s, 0)
                row[s] = _interval(mu, self.sigma, booked)
            out[item] = row
        return out


def _interval(mu: float, sigma: float, known: float = 0.0) -> Estimate:
    sd = math.sqrt(mu + (sigma * mu) ** 2)
    return Estimate(mu + known, max(0.0, mu - Z * sd) + known, mu + Z * sd + known)


def total_interval(mu: float, sigma: float, known: float = 0.0) -> Estimate:
    """The interval of a sum of forecast counts (a day's, or a half hour's over all items)."""
    return _interval(mu, sigma, known)


def fit(history: list[DayCounts], calendar: WorkingCalendar | None = None) -> Model:
    """Fit the model to past hall-days (days without a ticket left out: the hall was not using hallq)."""
    days = sorted((h for h in history if h.total > 0), key=lambda h: h.day)
    origin = days[-1].day if days else date.today()
    model = Model(calendar, origin, days=len(days))
    if not days:
        return model
    totals = {h.day: float(h.total) for h in days}
    kinds = {h.day: day_kinds(h.day, calendar) for h in days}
    t = {h.day: float((h.day - origin).days) for h in days}
    model.intercept = sum(totals.values()) / len(totals)
    for _ in range(8):  # backfitting: trend, weekdays and day kinds each given the others
        _fit_trend(model, totals, t)
        _fit_weekdays(model, totals, kinds)
        _fit_kinds(model, totals, kinds)
    _fit_shares(model, days)
    logs = [math.log(totals[d] / p) for d in totals if (p := model.day_total(d)) > 0]
    if len(logs) >= 5:
        m = sum(logs) / len(logs)
        model.sigma = max(0.03, math.sqrt(sum((x - m) ** 2 for x in logs) / (len(logs) - 1)))
    return model


def _fit_trend(model: Model, totals: dict[date, float], t: dict[date, float]) -> None:
    xs, ys = [], []
    for d, y in totals.items():
        f = model.day_factor(d)
        if f > 0:
            xs.append(t[d])
            ys.append(y / f)
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx if n >= 10 and sxx > 0 else 0.0
    model.slope = slope
    model.intercept = my - slope * mx  # the level at the origin (the last day of the history)


def _fit_weekdays(model: Model, totals: dict[date, float], kinds: dict[date, frozenset[str]]) -> None:
    sums: dict[int, list[float]] = {}
    for d, y in totals.items():
        if kinds[d] or d.isoweekday() > 5:
            continue
        base = model.level(d)
        if base > 0:
            sums.setdefault(d.isoweekday(), []).append(y / base)
    ratios = {wd: sum(v) / len(v) for wd, v in sums.items()}
    if not ratios:
        model.weekday = {}
        return
    norm = sum(ratios.values()) / len(ratios)
    model.weekday = {wd: r / norm for wd, r in ratios.items()}


def _fit_kinds(model: Model, totals: dict[date, float], kinds: dict[date, frozenset[str]]) -> None:
    found: dict[str, float] = {}
    for k in KINDS:
        actual = expected = 0.0
        n = 0
        for d, y in totals.items():
            if k not in kinds[d]:
                continue
            others = model.level(d) * model.weekday.get(_weekday(d), 1.0)
            for other in kinds[d] - {k}:
                others *= model.kinds.get(other, 1.0)
            actual += y
            expected += others
            n += 1
        if n and expected > 0:
            ratio = actual / expected
            found[k] = (n * ratio + PRIOR_DAYS) / (n + PRIOR_DAYS)
    model.kinds = found


def _fit_shares(model: Model, days: list[DayCounts]) -> None:
    by_wd: dict[int, dict[str, float]] = {}
    slots_by: dict[tuple[int, str], dict[int, float]] = {}
    hall_slots: dict[int, float] = {}
    for h in days:
        for wd in {0, _weekday(h.day)}:
            items = by_wd.setdefault(wd, {})
            for item, slots in h.counts.items():
                n = sum(slots.values())
                items[item] = items.get(item, 0.0) + n
                prof = slots_by.setdefault((wd, item), {})
                for s, c in slots.items():
                    prof[s] = prof.get(s, 0.0) + c
                    if wd == 0:
                        hall_slots[s] = hall_slots.get(s, 0.0) + c
    hall_n = sum(hall_slots.values()) or 1.0
    hall_prof = {s: c / hall_n for s, c in hall_slots.items()}
    pooled = by_wd.get(0, {})
    pooled_n = sum(pooled.values()) or 1.0
    pooled_share = {i: c / pooled_n for i, c in pooled.items()}
    model.item_share = {0: pooled_share}
    for wd, items in by_wd.items():
        if wd == 0:
            continue
        n = sum(items.values())
        model.item_share[wd] = {i: (items.get(i, 0.0) + PRIOR_TICKETS * s) / (n + PRIOR_TICKETS) for i, s in pooled_share.items()}
    for (wd, item), prof in sorted(slots_by.items()):
        n = sum(prof.values())
        coarser = hall_prof if wd == 0 else model.profile.get((0, item), hall_prof)
        keys = set(prof) | set(coarser)
        model.profile[(wd, item)] = {s: (prof.get(s, 0.0) + PRIOR_TICKETS * coarser.get(s, 0.0)) / (n + PRIOR_TICKETS) for s in keys}


def issuing_only(catalog: Catalog, day: date, forecast: dict[str, dict[int, Estimate]],
                 known: Mapping[str, Mapping[int, int]] | None = None) -> dict[str, dict[int, Estimate]]:
    """The forecast with no walk-ins where the item takes no tickets (its hours, a retired item):
    the profiles, drawn towards coarser ones, would otherwise put a few there."""
    tz = ZoneInfo(catalog.hall.timezone)
    known = known or {}
    out = {}
    for item, row in forecast.items():
        if item not in catalog.items:
            continue
        out[item] = {
            s: e if item_issuing(catalog, item, datetime.combine(day, time(s // 60, s % 60), tz) + timedelta(minutes=SLOT_MIN / 2))
            else _interval(0.0, 0.0, known.get(item, {}).get(s, 0))
            for s, e in row.items()
        }
    return out


def naive(history: list[DayCounts], day: date) -> dict[str, dict[int, float]] | None:
    """"Same weekday last week": the counts of the latest hall-day 7 days before `day`, or of the
    latest same weekday before it (a holiday week has none); None without one."""
    by_day = {h.day: h for h in history}
    for back in range(7, 7 * 6, 7):
        h = by_day.get(day - timedelta(days=back))
        if h is not None and h.total > 0:
            return {i: {s: float(c) for s, c in slots.items()} for i, slots in h.counts.items()}
    return None


def ape(forecast: float, actual: float) -> float | None:
    """Absolute percentage error; None where nothing arrived (MAPE leaves such half hours out)."""
    return None if actual <= 0 else abs(forecast - actual) / actual


def mape(pairs: Iterable[tuple[float, float]]) -> float | None:
    errors = [e for f, a in pairs if (e := ape(f, a)) is not None]
    return sum(errors) / len(errors) if errors else None


__all__ = [
    "DayCounts", "Estimate", "KINDS", "LEVEL", "Model", "SLOT_MIN", "ape", "day_kinds", "fit", "issuing_only", "mape", "naive",
    "opening_days", "slot_label", "slots_of", "total_interval",
]
