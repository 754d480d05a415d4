"""The arrival forecast on synthetic journals with a known profile: weekdays, half hours, the
days around breaks, month ends, trend, bookings, and an interval that holds what it says."""

from __future__ import annotations

import math
import random
from datetime import date, timedelta

import pytest

from server.domain.calendar import is_workday
from server.domain.forecast import DayCounts, day_kinds, fit, issuing_only, mape, naive, opening_days
from tests.halls import small_catalog

SLOTS = (510, 540, 570, 600, 630, 660, 690, 810, 840, 870, 900, 930, 960, 990, 1020)
SHAPE = {s: 1.0 + (1.5 if s in (570, 600) else 0.6 if s in (870, 900) else 0.0) for s in SLOTS}
WEEKDAY = {1: 1.3, 2: 1.0, 3: 1.0, 4: 0.95, 5: 0.75}
ITEMS = {"a1": 0.6, "b1": 0.3, "c1": 0.1}
KIND = {"after_break": 1.6, "month_end": 1.25}


def truth(day: date, base: float = 300.0, growth: float = 0.0) -> dict[str, dict[int, float]]:
    """The known arrival process: the mean count per item and half hour."""
    level = base * (1 + growth * (day - date(2026, 1, 1)).days / 365)
    f = WEEKDAY.get(day.isoweekday(), 1.0)
    for k in day_kinds(day):
        f *= KIND.get(k, 1.0)
    norm = sum(SHAPE.values())
    return {i: {s: level * f * share * SHAPE[s] / norm for s in SLOTS} for i, share in ITEMS.items()}


def journal(start: date, end: date, noise: bool, growth: float = 0.0, seed: int = 7, base: float = 300.0) -> list[DayCounts]:
    rng = random.Random(seed)
    days, d = [], start
    while d <= end:
        if is_workday(d):
            mean = truth(d, base, growth)
            days.append(DayCounts(d, {i: {s: (_poisson(rng, m) if noise else round(m)) for s, m in row.items()} for i, row in mean.items()}))
        d += timedelta(days=1)
    return days


def _poisson(rng: random.Random, mean: float) -> int:
    limit, k, p = math.exp(-mean), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def test_the_days_around_breaks_and_month_ends_are_told_apart():
    assert day_kinds(date(2026, 10, 8)) == {"after_break"}  # after 国庆 (1–7 October)
    assert day_kinds(date(2026, 9, 30)) == {"before_break", "month_end", "quarter_end"}
    assert day_kinds(date(2026, 10, 10)) == {"swapped"}  # a Saturday worked for 国庆
    assert day_kinds(date(2026, 11, 25)) == frozenset()
    assert day_kinds(date(2026, 11, 23)) == frozenset()  # an ordinary weekend is no break


def test_a_noiseless_journal_gives_back_its_profile():
    model = fit(journal(date(2026, 4, 1), date(2026, 11, 20), noise=False, base=3000))  # rounding lost in the crowd
    for day in (date(2026, 11, 23), date(2026, 11, 25), date(2026, 11, 30)):  # Monday, Wednesday, a month end
        want = truth(day, 3000)
        got = model.predict(day, SLOTS)
        assert sum(got[i][s].mean for i in ITEMS for s in SLOTS) == pytest.approx(sum(sum(r.values()) for r in want.values()), rel=0.05)
        for i in ITEMS:
            for s in SLOTS:
                assert got[i][s].mean == pytest.approx(want[i][s], rel=0.06)
    assert model.kinds["after_break"] == pytest.approx(1.6, rel=0.15)
    assert model.kinds["month_end"] == pytest.approx(1.25, rel=0.1)


def test_after_a_break_comes_the_crowd():
    model = fit(journal(date(2025, 10, 1), date(2026, 9, 30), noise=True))
    after = sum(e.mean for r in model.predict(date(2026, 10, 8), SLOTS).values() for e in r.values())
    ordinary = sum(e.mean for r in model.predict(date(2026, 10, 15), SLOTS).values() for e in r.values())
    assert after / ordinary == pytest.approx(1.6 * 1.0 / 0.95, rel=0.15)  # a Thursday after 国庆 against a Thursday


def test_the_trend_is_followed():
    history = journal(date(2025, 11, 1), date(2026, 11, 20), noise=False, growth=0.3)
    model = fit(history)
    day = date(2026, 11, 25)
    got = sum(e.mean for r in model.predict(day, SLOTS).values() for e in r.values())
    assert got == pytest.approx(sum(sum(r.values()) for r in truth(day, growth=0.3).values()), rel=0.04)


def test_on_noisy_weeks_the_forecast_beats_same_weekday_last_week_and_its_interval_holds():
    history = journal(date(2025, 11, 1), date(2026, 11, 20), noise=True)
    held_out = [h for h in journal(date(2026, 11, 23), date(2026, 12, 18), noise=True, seed=8)]
    model = fit(history)
    ours, theirs, inside, n = [], [], 0, 0
    known = history[:]
    for h in held_out:
        got = model.predict(h.day, SLOTS)
        last_week = naive(known, h.day)
        assert last_week is not None
        for s in SLOTS:
            actual = sum(h.counts[i][s] for i in ITEMS)
            ours.append((sum(got[i][s].mean for i in ITEMS), actual))
            theirs.append((sum(last_week[i][s] for i in ITEMS), actual))
        for i in ITEMS:
            for s in SLOTS:
                n += 1
                inside += got[i][s].low <= h.counts[i][s] <= got[i][s].high
        known.append(h)
    assert mape(ours) < mape(theirs)
    assert 0.7 <= inside / n <= 0.97  # an 80 % interval (Poisson counts are lumpy)


def test_bookings_are_known_arrivals_and_closed_hours_get_none():
    catalog = small_catalog()
    model = fit(journal(date(2026, 9, 1), date(2026, 11, 20), noise=False))
    day = date(2026, 11, 25)
    plain = model.predict(day, SLOTS)
    booked = model.predict(day, SLOTS, {"a1": {600: 4}})
    assert booked["a1"][600].mean == pytest.approx(plain["a1"][600].mean + 4)
    assert booked["a1"][600].low == pytest.approx(plain["a1"][600].low + 4)
    afternoon = issuing_only(catalog, day, plain)["c1"]  # 丙一 takes tickets in the morning only
    assert afternoon[900].mean == 0 and afternoon[600].mean == plain["c1"][600].mean


def test_same_weekday_last_week_skips_a_holiday_week():
    history = journal(date(2026, 9, 1), date(2026, 10, 16), noise=False)
    last = naive(history, date(2026, 10, 8))  # 1 October was a holiday: 24 September then
    assert last is not None and sum(last["a1"].values()) == sum(h.counts["a1"][s] for h in history if h.day == date(2026, 9, 24) for s in SLOTS)
    assert naive([], date(2026, 10, 8)) is None


def test_the_next_opening_days_skip_weekends_and_holidays():
    catalog = small_catalog()
    # 10 October is a Saturday worked for 国庆 (调休)
    assert opening_days(catalog, date(2026, 9, 30), 4) == [date(2026, 10, 8), date(2026, 10, 9), date(2026, 10, 10), date(2026, 10, 12)]
