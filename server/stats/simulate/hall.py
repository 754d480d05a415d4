"""Which days the simulated hall opens, and the hall made bigger for benchmarks."""

from __future__ import annotations

from datetime import date, timedelta

from ...domain.calendar import opens_on
from ...domain.catalog import Catalog, HallConfig


def hall_days(catalog: Catalog, end: date, n: int) -> list[date]:
    """The last `n` days up to `end` on which the hall opens (working days, its weekdays)."""
    days: list[date] = []
    d = end
    while len(days) < n:
        if opens_on(catalog.hall.opening, d, catalog.hall.calendar):
            days.append(d)
        d -= timedelta(days=1)
    return sorted(days)


def default_end(catalog: Catalog, today: date) -> date:
    """The last day before `today` on which the hall opened."""
    return hall_days(catalog, today - timedelta(days=1), 1)[0]


def scaled_config(config: HallConfig, copies: int) -> HallConfig:
    """The hall with every window (and its clerks) `copies` times and quotas to match: a big
    city centre's volume (a benchmark's ~3,300 tickets a day) on the demo's items."""
    if copies <= 1:
        return config
    data = config.model_dump(mode="json", exclude_defaults=True)
    windows, users = [], []
    clerk_windows = {u["username"]: u for u in data.get("users", []) if u.get("role") == "clerk"}
    for w in data["windows"]:
        for k in range(1, copies + 1):
            copy = {**w, "id": w["id"] if k == 1 else f"{w['id']}-{k}", "name": w["name"] if k == 1 else f"{w['name']}（{k}）"}
            for post in ("a_post", "b_post"):  # the window's A and B clerks are copied with it
                if k > 1 and copy.get(post):
                    copy[post] = f"{copy[post]}-{k}"
            windows.append(copy)
    for u in data.get("users", []):
        if u["username"] not in clerk_windows:
            users.append(u)
            continue
        for k in range(1, copies + 1):
            users.append(
                {
                    **u,
                    "username": u["username"] if k == 1 else f"{u['username']}-{k}",
                    "staff_no": (u.get("staff_no", "") + (f"-{k}" if k > 1 else "")),
                    "windows": [w if k == 1 else f"{w}-{k}" for w in u.get("windows", [])],
                }
            )
    for i in data["items"]:
        if i.get("daily_quota"):
            i["daily_quota"] = min(9999, i["daily_quota"] * copies)
    data["windows"], data["users"] = windows, users
    return HallConfig.model_validate(data)
