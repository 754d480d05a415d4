"""When citizens come to the simulated hall, and for which items.

A day's volume is about as many tickets as the windows can serve at `load`, more on Mondays,
fewer on Fridays, spread over the opening hours with a morning peak near 10:00 and an afternoon
one near 15:00. The item mix follows the windows' capacity, short items being more frequent.
Items outside their issuing hours or over their daily quota are refused at the kiosk, as in real
life: nobody gets a ticket.
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


def secs(t: time) -> float:
    """Seconds after midnight of a time of day."""
    return t.hour * 3600 + t.minute * 60


def opening_ranges(catalog: Catalog) -> list[tuple[float, float]]:
    """The hall's opening hours as (start, end) seconds after midnight."""
    return [(secs(r.start), secs(r.end)) for r in catalog.hall.opening.hours]


def weight(hour: float) -> float:
    """The relative arrival rate at `hour` (a fraction of the day's hours)."""
    return 0.3 + math.exp(-(((hour - 10.0) / 0.8) ** 2)) + 0.8 * math.exp(-(((hour - 15.0) / 0.9) ** 2))


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
    peak = max(weight(h / 10) for h in range(80, 180))
    ranges = opening_ranges(catalog)
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
        if rng.random() * peak > weight(t / 3600):
            continue
        made += 1
        item = rng.choices(items, weights)[0]
        key = (item, int(t // 900))
        if key not in issuing:
            issuing[key] = item_issuing(catalog, item, midnight + timedelta(seconds=t))
        if issuing[key]:
            out.append((t, item))
    return out
