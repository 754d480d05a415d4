"""When citizens come to the simulated hall, and for which items.

A day's volume is about as many tickets as the windows can serve at `load`, more on Mondays,
fewer on Fridays. Through the day the rate follows a base shape, a morning peak near 10:00 and
an afternoon one near 15:00 over a floor, and a rush at each opening:

- **the opening rush.** People queue at the door before the hall opens and take their tickets
  in its first minutes; more keep coming early. The rush adds to the base rate
  `A·exp(−(t − opening)/RUSH_DECAY_S)`, with `A` such that the first half hour brings
  `OPENING_RUSH` (1.5) times the tickets of a half hour at the morning's peak rate: at the
  moment of opening about four times the peak rate, back near the base within the hour;
- **after lunch** (a hall that closes at noon) the same shape, for those who came during the
  closure or timed their visit for the reopening: the first half hour brings `AFTER_LUNCH_RUSH`
  (1.0) times a half hour at the afternoon's peak rate.

The rushes reshape the day; they do not add to its volume. Their size is an assumption, not a
measurement: no published arrival counts of Chinese service halls per half hour were found;
reports of halls describe queues at the door before opening (and before the afternoon
reopening), which is the shape above. A hall's own journal replaces it where it matters: the
forecast (server/domain/forecast.py) learns each half hour's arrivals from the hall's days.

The item mix follows the windows' capacity, short items being more frequent. Items outside
their issuing hours or over their daily quota are refused at the kiosk, as in real life:
nobody gets a ticket.
"""

from __future__ import annotations

import math
import random
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from ...domain.calendar import item_issuing
from ...domain.catalog import Catalog

WEEKDAY_FACTOR = {1: 1.15, 2: 1.0, 3: 1.0, 4: 0.95, 5: 0.9, 6: 0.8, 7: 0.8}
TURNAROUND_S = 75  # what a window spends between two services (calling, the citizen walking up)
OPENING_RUSH = 1.5  # the first half hour's arrivals ÷ those of a half hour at the morning's peak rate
AFTER_LUNCH_RUSH = 1.0  # the same for the first half hour after a midday closure, against the afternoon's peak
RUSH_DECAY_S = 600.0  # the rush fades with this time constant
HALF_HOUR_S = 1800.0
STEP_S = 60.0


def secs(t: time) -> float:
    """Seconds after midnight of a time of day."""
    return t.hour * 3600 + t.minute * 60


def opening_ranges(catalog: Catalog) -> list[tuple[float, float]]:
    """The hall's opening hours as (start, end) seconds after midnight."""
    return [(secs(r.start), secs(r.end)) for r in catalog.hall.opening.hours]


def base_weight(hour: float) -> float:
    """The relative arrival rate at `hour` (a fraction of the day's hours), without the rushes."""
    return 0.3 + math.exp(-(((hour - 10.0) / 0.8) ** 2)) + 0.8 * math.exp(-(((hour - 15.0) / 0.9) ** 2))


class Profile:
    """The day's relative arrival rate at `t` seconds after midnight: the base shape and, from the
    start of each opening range, a rush that fades (see the module's docstring)."""

    def __init__(self, ranges: list[tuple[float, float]]) -> None:
        self.rushes: list[tuple[float, float, float]] = []  # (start, end, amplitude)
        for k, (a, b) in enumerate(ranges):
            ratio = OPENING_RUSH if k == 0 else AFTER_LUNCH_RUSH
            span = min(b - a, HALF_HOUR_S)
            peak = max(base_weight(t / 3600) for t in _grid(a, b))
            first = sum(base_weight(t / 3600) for t in _grid(a, a + span)) * STEP_S  # the base's own arrivals then
            amplitude = (ratio * peak * span - first) / (RUSH_DECAY_S * (1 - math.exp(-span / RUSH_DECAY_S)))
            self.rushes.append((a, b, max(0.0, amplitude)))
        self.peak = max(self(t) for a, b in ranges for t in _grid(a, b))

    def __call__(self, t: float) -> float:
        w = base_weight(t / 3600)
        for a, b, amplitude in self.rushes:
            if a <= t < b:
                w += amplitude * math.exp(-(t - a) / RUSH_DECAY_S)
        return w


def _grid(a: float, b: float) -> list[float]:
    """Minutes from `a` up to `b` (the middle of each)."""
    return [a + STEP_S * (k + 0.5) for k in range(max(1, int((b - a) // STEP_S)))] + [a]


def demand(catalog: Catalog, load: float) -> dict[str, float]:
    """Tickets a day per item that the windows could serve at `load`."""
    pop = {i: 600.0 / it.expected_service_s for i, it in catalog.items.items()}
    open_s = sum(b - a for a, b in opening_ranges(catalog))
    out = {i: 0.0 for i in catalog.items}
    for w in catalog.config.windows:
        total_p = sum(pop[i] for i in w.items)
        mean_s = sum(pop[i] * catalog.items[i].expected_service_s for i in w.items) / total_p
        capacity = open_s * load / (mean_s + TURNAROUND_S)
        for i in w.items:
            out[i] += capacity * pop[i] / total_p
    return out


def arrivals(catalog: Catalog, day: date, load: float, rng: random.Random) -> list[tuple[float, str]]:
    """(seconds after midnight, item) of each citizen who gets a ticket, in the order drawn."""
    tz = ZoneInfo(catalog.hall.timezone)
    midnight = datetime(day.year, day.month, day.day, tzinfo=tz)
    want = demand(catalog, load)
    factor = WEEKDAY_FACTOR[day.isoweekday()] * rng.gauss(1.0, 0.05)
    n = int(sum(want.values()) * factor)
    items = list(want)
    weights = [want[i] for i in items]
    ranges = opening_ranges(catalog)
    profile = Profile(ranges)
    span = sum(b - a for a, b in ranges)
    issuing: dict[tuple[str, int], bool] = {}
    out: list[tuple[float, str]] = []
    made = 0
    while made < n:
        x = rng.uniform(0, span)
        for a, b in ranges:
            if x < b - a:
                t = a + x
                break
            x -= b - a
        if rng.random() * profile.peak > profile(t):
            continue
        made += 1
        item = rng.choices(items, weights)[0]
        key = (item, int(t // 900))
        if key not in issuing:
            issuing[key] = item_issuing(catalog, item, midnight + timedelta(seconds=t))
        if issuing[key]:
            out.append((t, item))
    return out
