"""Many halls in one deployment: the region's rules, the shared catalogue, who sees which hall,
and the region's live table (the demo deployment is a city, a county and a township)."""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import pytest
import yaml

from server.api import Settings, create_app
from server.config import ConfigError, default_config_dir, load_halls
from server.domain.catalog import Hall
from server.domain.region import Region, RegionError
from tests.halls import FakeClock

DEMO = default_config_dir()


def hall(id: str, level: str = "city", parent: str | None = None) -> Hall:
    return Hall(id=id, name=id, level=level, parent=parent)  # type: ignore[arg-type]


def test_the_region_orders_halls_and_says_who_covers_whom():
    r = Region.of([hall("city"), hall("c1", "county", "city"), hall("c2", "county", "city"),
                   hall("t1", "township", "c1"), hall("other")])
    assert r.below("city") == ["city", "c1", "t1", "c2"]
    assert r.ancestors("t1") == ["c1", "city"]
    assert r.covers("city", "t1") and r.covers("c1", "t1") and r.covers("t1", "t1")
    assert not r.covers("c2", "t1") and not r.covers("t1", "c1") and not r.covers("other", "t1")


def test_a_provinces_tree_is_walked_depth_first_with_children_in_id_order():
    """The children are found once for the whole region (thousands of halls); the walk must
    still be the plain recursive definition, checked here against it on a shuffled province."""
    rng = random.Random(7)
    halls = [hall("city")] + [hall(f"c{n:02d}", "county", "city") for n in range(14)]
    halls += [hall(f"t{n:04d}", "township", f"c{rng.randrange(14):02d}") for n in range(600)]
    rng.shuffle(halls)
    r = Region.of(halls)

    def below(h: str) -> list[str]:
        return [h] + [x for c in sorted(x.id for x in halls if x.parent == h) for x in below(c)]

    for top in ["city", "c03", "t0042"]:
        assert r.below(top) == below(top)
        assert r.below(top) == below(top)  # asked again: the same answer, not a copy to be changed
    r.below("city").clear()
    assert len(r.below("city")) == 615


@pytest.mark.parametrize("halls, message", [
    ([hall("c1", "county", "nowhere")], "no hall 'nowhere'"),
    ([hall("city"), hall("c1", "county", "city"), hall("x", "city", "c1")], "not above"),
    ([hall("a", "county", "b"), hall("b", "county", "a")], "not above"),
])
def test_a_broken_region_is_refused_with_the_hall_named(halls, message):
    with pytest.raises(RegionError, match=message):
        Region.of(halls)


def test_the_demo_deployment_is_a_city_a_county_and_a_township():
    halls = load_halls(DEMO)
    region = Region.of(c.hall for c in halls.values())
    assert region.below("demo") == ["demo", "demo-county", "demo-town"]
    city, county, town = halls["demo"], halls["demo-county"], halls["demo-town"]
    # The township offers exactly the shared items its windows serve, with the city's texts.
    assert set(town.items) == {"hrss_card", "medical_remote", "medical_reimburse", "police_residence", "civil_elder_care"}
    assert town.items["hrss_card"] == city.items["hrss_card"]
    assert set(town.departments) == {city.items[i].department for i in town.items}
    # The county adds a local item and department of its own.
    assert "county_land_contract" in county.items and "county_land_contract" not in city.items
    assert county.items["county_land_contract"].department == "county_agri"


def copy_demo(tmp_path: Path) -> Path:
    folder = tmp_path / "config"
    shutil.copytree(DEMO, folder)
    return folder


def test_a_local_item_may_not_reuse_a_shared_id(tmp_path):
    folder = copy_demo(tmp_path)
    items = yaml.safe_load((folder / "demo-county" / "items.yaml").read_text(encoding="utf-8"))
    items[0]["id"] = "hrss_card"
    (folder / "demo-county" / "items.yaml").write_text(yaml.safe_dump(items, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"demo-county/items.yaml: hrss_card: is in the shared catalogue"):
        load_halls(folder)


def test_a_window_may_not_serve_an_item_the_shared_catalogue_lacks(tmp_path):
    folder = copy_demo(tmp_path)
    path = folder / "demo-town" / "windows.yaml"
    windows = yaml.safe_load(path.read_text(encoding="utf-8"))
    windows[0]["items"].append("no_such_item")
    path.write_text(yaml.safe_dump(windows, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"demo-town/windows.yaml: windows\[0\] \(t01\).items: unknown item .no_such_item."):
        load_halls(folder)


def test_a_missing_shared_catalogue_or_parent_is_named(tmp_path):
    folder = copy_demo(tmp_path)
    path = folder / "demo-town" / "hall.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("catalog_from: demo", "catalog_from: nowhere"), encoding="utf-8")
    with pytest.raises(ConfigError, match="demo-town/hall.yaml: catalog_from: no hall 'nowhere'"):
        load_halls(folder)
    path.write_text(text.replace("parent: demo-county", "parent: nowhere"), encoding="utf-8")
    with pytest.raises(ConfigError, match="hall 'demo-town': parent: no hall 'nowhere'"):
        load_halls(folder)


@pytest.fixture
async def demo(aiohttp_client, tmp_path):  # type: ignore[no-untyped-def]
    settings = Settings(config_dir=DEMO, data_dir=tmp_path / "data", clock=FakeClock(), issue_rate_per_s=0, always_open=True)
    client = await aiohttp_client(create_app(settings))

    async def login(username: str) -> dict[str, str]:
        r = await client.post("/api/v1/auth/login", json={"username": username, "password": "demo"})
        assert r.status == 200, await r.text()
        return {"Authorization": f"Bearer {(await r.json())['token']}"}

    return client, login


async def test_managers_see_the_halls_below_theirs_and_no_others(demo):
    client, login = demo
    city, county, town_h, clerk = [await login(u) for u in ("manager", "county-manager", "town-manager", "w01a")]
    assert (await client.get("/api/v1/halls/demo-town/supervision", headers=county)).status == 200
    assert (await client.get("/api/v1/halls/demo-county/supervision", headers=town_h)).status == 403
    assert (await client.get("/api/v1/halls/demo/region", headers=town_h)).status == 403
    assert (await client.get("/api/v1/halls/demo-town/region", headers=town_h)).status == 200
    r = await client.get("/api/v1/halls/demo-town/supervision", headers=clerk)
    assert r.status == 403 and r.content_type == "application/problem+json"
    assert (await client.get("/api/v1/halls/demo-town/region", headers=city)).status == 200


async def test_the_region_table_sums_its_halls(demo):
    client, login = demo
    for hall_id, item, n in (("demo", "hrss_card", 3), ("demo-county", "county_land_contract", 2), ("demo-town", "medical_remote", 4)):
        for _ in range(n):
            r = await client.post(f"/api/v1/halls/{hall_id}/tickets", json={"item": item})
            assert r.status == 201, await r.text()
    r = await client.post("/api/v1/halls/demo-county/tickets", json={"item": "police_record"})
    assert r.status in (404, 409, 422), "the county offers only what its windows serve"
    headers = await login("manager")
    body = await (await client.get("/api/v1/halls/demo/region", headers=headers)).json()
    rows = {h["id"]: h for h in body["halls"]}
    assert [h["id"] for h in body["halls"]] == ["demo", "demo-county", "demo-town"]
    assert [rows[h]["depth"] for h in rows] == [0, 1, 2]
    assert {h: rows[h]["today"]["issued"] for h in rows} == {"demo": 3, "demo-county": 2, "demo-town": 4}
    assert body["total"]["issued"] == 9 and body["total"]["waiting"] == 9
    assert body["total"]["windows"] == 12 + 3 + 2
    county = await (await client.get("/api/v1/halls/demo-county/region", headers=await login("county-manager"))).json()
    assert [h["id"] for h in county["halls"]] == ["demo-county", "demo-town"] and county["total"]["issued"] == 6
