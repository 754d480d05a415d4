"""季度通报: the quarterly bulletin's figures, ranking and excellent-window candidates (pure).

The award formula (优秀窗口) is `Hall.supervision.award` (server/domain/catalog.py):

    score = satisfaction × good_rate
          + waiting      × (1 − min(1, p90 wait ÷ the hall's red wait threshold))
          + volume       × served ÷ the most served by one window in the quarter
          + alerts       × (1 − min(1, alerts per 100 served ÷ alerts_per_100_zero))

with the default weights 40 / 20 / 20 / 20 (a perfect window scores 100). A candidate has
served at least `min_served` tickets and its bad reviews (差评) are at most `max_bad_rate` of
its ratings; the best `candidates` by score are listed. Windows are ranked by score.

服务标兵, the clerks' ranking (`Hall.supervision.clerk_award`, docs/hall-rules.md):

    score = satisfaction × (mean rating − 1) ÷ 4
          + volume       × served ÷ the most served by one clerk in the quarter
          + alerts       × (1 − min(1, alerts per 100 served ÷ alerts_per_100_zero))

with the default weights 40 / 30 / 30; the alerts are those raised at a window while the clerk
held it (server/stats/attendance.py). A candidate serves at least `award.min_served`, has at
most `award.max_bad_rate` bad reviews and no absence (缺岗) in the quarter.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

from ..domain.catalog import Catalog
from ..domain.settings import Award
from ..domain.errors import Invalid

_QUARTER = re.compile(r"^(\d{4})[Qq]([1-4])$")


def quarter_of(day: date) -> str:
    return f"{day.year}Q{(day.month - 1) // 3 + 1}"


def quarter_period(quarter: str) -> tuple[date, date]:
    m = _QUARTER.match(quarter.strip())
    if not m:
        raise Invalid("bad-query", "quarter is written like 2026Q4")
    year, q = int(m.group(1)), int(m.group(2))
    if not 2000 <= year <= 2999:
        raise Invalid("bad-query", "a quarter of the years 2000 to 2999")
    start = date(year, 3 * q - 2, 1)
    end = (date(year + 1, 1, 1) if q == 4 else date(year, 3 * q + 1, 1)) - timedelta(days=1)
    return start, end


def quarter_label(quarter: str, lang: str) -> str:
    start, _ = quarter_period(quarter)
    q = (start.month - 1) // 3 + 1
    return f"Q{q} {start.year}" if lang == "en" else f"{start.year}年第{'一二三四'[q - 1]}季度"


def previous_quarter(quarter: str) -> str:
    start, _ = quarter_period(quarter)
    return quarter_of(start - timedelta(days=1))


def award_parts(row: dict[str, Any], most_served: int, red_wait_s: float, award: Award) -> dict[str, float]:
    served = row["served"]
    p90 = row["wait"]["p90_s"]
    alerts = row["alerts"]["total"]
    return {
        "satisfaction": row["satisfaction"]["good_rate"] or 0.0,
        "waiting": 0.0 if p90 is None else 1 - min(1.0, p90 / red_wait_s),
        "volume": served / most_served if most_served else 0.0,
        "alerts": 0.0 if not served else 1 - min(1.0, alerts * 100 / served / award.alerts_per_100_zero),
    }


def award_score(parts: dict[str, float], award: Award) -> float:
    return round(sum(getattr(award, k) * v for k, v in parts.items()), 1)


def bad_rate(row: dict[str, Any]) -> float:
    rated = row["satisfaction"]["rated"]
    return row["satisfaction"]["bad"] / rated if rated else 0.0


def clerk_parts(row: dict[str, Any], alerts: int, most_served: int, award: Award) -> dict[str, float]:
    served = row["served"]
    sat = row["satisfaction"]
    mean = sum(int(s) * n for s, n in sat["scores"].items()) / sat["rated"] if sat["rated"] else None  # unrounded
    return {
        "satisfaction": 0.0 if mean is None else (mean - 1) / 4,
        "volume": served / most_served if most_served else 0.0,
        "alerts": 0.0 if not served else 1 - min(1.0, alerts * 100 / served / award.alerts_per_100_zero),
    }


def clerk_ranking(catalog: Catalog, by_clerk: dict[str, Any], attendance: dict[str, Any]) -> dict[str, Any]:
    """服务标兵: the clerks ranked by served counts, ratings and alerts; candidates also need no absence."""
    award, weights = catalog.hall.supervision.award, catalog.hall.supervision.clerk_award
    present = {r["key"]: r for r in attendance["clerks"]}
    rows = [r for r in by_clerk["rows"] if r["key"] in catalog.users and catalog.users[r["key"]].role == "clerk"]
    most = max((r["served"] for r in rows), default=0)
    ranked = []
    for r in rows:
        a = present.get(r["key"], {})
        alerts, absent = int(a.get("alerts", 0)), int(a.get("absent", 0))
        parts = clerk_parts(r, alerts, most, award)
        score = round(sum(getattr(weights, k) * v for k, v in parts.items()), 1)
        eligible = r["served"] >= award.min_served and bad_rate(r) <= award.max_bad_rate and absent == 0
        ranked.append({
            "key": r["key"], "name": catalog.users[r["key"]].name, "staff_no": catalog.users[r["key"]].staff_no,
            "served": r["served"], "rated": r["satisfaction"]["rated"], "mean_score": r["satisfaction"]["mean_score"],
            "bad": r["satisfaction"]["bad"], "alerts": alerts, "absent": absent,
            "late": int(a.get("late", 0)), "early": int(a.get("early", 0)),
            "award": {"parts": {k: round(v, 4) for k, v in parts.items()}, "score": score, "eligible": eligible},
        })
    ranked.sort(key=lambda r: (-r["award"]["score"], r["key"]))
    for n, r in enumerate(ranked, start=1):
        r["award"]["rank"] = n
    return {
        "clerks": ranked,
        "clerk_candidates": [r for r in ranked if r["award"]["eligible"]][: weights.candidates],
        "clerk_formula": {
            "weights": {k: getattr(weights, k) for k in ("satisfaction", "volume", "alerts")},
            "most_served": most, "alerts_per_100_zero": award.alerts_per_100_zero, "min_served": award.min_served,
            "max_bad_rate": award.max_bad_rate, "candidates": weights.candidates,
        },
    }


def bulletin(
    catalog: Catalog, quarter: str, by_department: dict[str, Any], by_window: dict[str, Any],
    by_clerk: dict[str, Any] | None = None, attendance: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The bulletin from the quarter's statistics by department, window and clerk, and its attendance."""
    award = catalog.hall.supervision.award
    red_wait = float(catalog.hall.supervision.wait_s[2])
    windows = [r for r in by_window["rows"] if r["key"] in catalog.windows]
    most = max((r["served"] for r in windows), default=0)
    scored = []
    for r in windows:
        parts = award_parts(r, most, red_wait, award)
        eligible = r["served"] >= award.min_served and bad_rate(r) <= award.max_bad_rate
        scored.append({**r, "award": {"parts": {k: round(v, 4) for k, v in parts.items()}, "score": award_score(parts, award), "eligible": eligible}})
    ranking = sorted(scored, key=lambda r: (-r["award"]["score"], r["key"]))
    for n, r in enumerate(ranking, start=1):
        r["award"]["rank"] = n
    most_alerts = sorted((r for r in scored if r["alerts"]["total"]), key=lambda r: (-r["alerts"]["total"], -r["alerts"]["red"], r["key"]))[:5]
    candidates = [r for r in ranking if r["award"]["eligible"]][: award.candidates]
    return {
        "hall": catalog.hall.id,
        "hall_name": catalog.hall.name,
        "quarter": quarter,
        "from": by_window["from"],
        "to": by_window["to"],
        "total": by_window["total"],
        "departments": by_department["rows"],
        "windows": ranking,
        "most_alerts": most_alerts,
        "candidates": candidates,
        "formula": {
            "weights": {k: getattr(award, k) for k in ("satisfaction", "waiting", "volume", "alerts")},
            "red_wait_s": red_wait,
            "most_served": most,
            "alerts_per_100_zero": award.alerts_per_100_zero,
            "min_served": award.min_served,
            "max_bad_rate": award.max_bad_rate,
            "candidates": award.candidates,
        },
        "attendance": attendance,
        **(clerk_ranking(catalog, by_clerk, attendance) if by_clerk is not None and attendance is not None else {}),
    }
