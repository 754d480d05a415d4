"""A generated province for bench/province.py: the demo city (config/demo) with `counties` county
centres below it and `towns` township centres (便民服务中心) spread over the counties, each of
2–4 windows, linked by `parent:` and sharing the city's catalogue (`catalog_from: demo`), as
config/demo-county and config/demo-town are.

Every hall has a manager and one clerk per window (`<hall>-m`, `<hall>-<window>`), all on the
demo password. Window 1 of every township serves `hrss_card` (no daily quota), which the bench
issues and calls there.
"""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import yaml

from server.config import default_config_dir

CITY = "demo"
CITY_ITEMS = ["hrss_card", "tax_invoice", "market_individual", "police_hukou", "estate_query", "fund_account", "civil_social_org"]
TOWN_ITEM = "hrss_card"  # served by window t01 of every township; no daily quota
COUNTY_ITEM = "hrss_card"  # served by window c02 of every county
# What the windows of a township may serve (items of the shared catalogue without a daily quota).
TOWN_WINDOWS = [
    ["hrss_card", "medical_remote", "medical_reimburse"],
    ["police_residence", "civil_elder_care"],
    ["tax_invoice", "market_individual"],
    ["estate_query", "fund_account"],
]


def _dump(path: Path, data: object) -> None:
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def county_id(n: int) -> str:
    return f"county-{n:02d}"


def town_id(n: int) -> str:
    return f"town-{n:04d}"


def generate(folder: Path, counties: int = 14, towns: int = 1500, seed: int = 20) -> dict[str, str]:
    """Write the province's config under `folder`; returns {hall id: an item it serves without quota}."""
    demo = default_config_dir()
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copytree(demo / CITY, folder / CITY)
    halls = {CITY: CITY_ITEMS[0]}
    county_hall = yaml.safe_load((demo / "demo-county" / "hall.yaml").read_text(encoding="utf-8"))
    county_windows = yaml.safe_load((demo / "demo-county" / "windows.yaml").read_text(encoding="utf-8"))
    town_hall = yaml.safe_load((demo / "demo-town" / "hall.yaml").read_text(encoding="utf-8"))
    for c in range(1, counties + 1):
        hid = county_id(c)
        d = folder / hid
        d.mkdir()
        for name in ("departments.yaml", "items.yaml"):
            shutil.copy(demo / "demo-county" / name, d / name)
        _dump(d / "hall.yaml", {**county_hall, "id": hid, "name": f"示范第{c}县政务服务中心", "parent": CITY})
        _staff(d, hid, "县中心管理员", [{k: v for k, v in w.items() if k not in ("a_post", "b_post")} for w in county_windows])
        halls[hid] = COUNTY_ITEM
    for t in range(1, towns + 1):
        hid = town_id(t)
        d = folder / hid
        d.mkdir()
        parent = county_id((t - 1) % counties + 1) if counties else CITY
        _dump(d / "hall.yaml", {**town_hall, "id": hid, "name": f"示范第{t}镇便民服务中心", "parent": parent})
        windows = [{"id": f"t{n + 1:02d}", "name": f"{n + 1}号窗口", "kind": "comprehensive", "items": items}
                   for n, items in enumerate(TOWN_WINDOWS[: rng.randint(2, 4)])]
        _staff(d, hid, "镇中心管理员", windows)
        halls[hid] = TOWN_ITEM
    return halls


def _staff(d: Path, hid: str, manager: str, windows: list[dict]) -> None:
    """One clerk a window, A post of their own and B post of the next (互为AB岗, as small halls do)."""
    clerks = [f"{hid}-{w['id']}" for w in windows]
    n = len(windows)
    _dump(d / "windows.yaml", [{**w, "a_post": clerks[i], "b_post": clerks[(i + 1) % n]} if n > 1 else {**w, "a_post": clerks[i]}
                               for i, w in enumerate(windows)])
    _dump(d / "users.yaml", [{"username": f"{hid}-m", "name": manager, "role": "manager"}] + [
        {"username": clerks[i], "name": f"{w['id']}号窗口", "role": "clerk",
         "windows": [w["id"]] + ([windows[(i - 1) % n]["id"]] if n > 1 else [])}
        for i, w in enumerate(windows)])
