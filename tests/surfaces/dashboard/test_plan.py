"""排班建议 on the real app and the CLI: a small hall's simulated weeks, the plan of tomorrow,
today's forecast against arrivals, past accuracy, roles and bad input; a plan played through
the domain core opens only the planned windows."""

from __future__ import annotations

import asyncio
import csv
import io
import shutil
from datetime import date

import jsonschema
import pytest

from server.api import create_app
from server.cli import main
from server.stats.plan_sim import PlanDaySim, play, slot_waits
from server.stats.simulate import run as simulate
from tests.halls import small_catalog, write_config
from tests.surfaces.dashboard.test_exports import in_one_language, read_csv

HALL = "/api/v1/halls/t"
TUESDAY = date(2026, 11, 24)  # the fake clock's today is Wednesday 25 November 2026, 09:00


@pytest.fixture(scope="module")
def simulated(tmp_path_factory):  # type: ignore[no-untyped-def]
    """12 simulated working days of the small hall, played once for the module's tests."""
    folder = tmp_path_factory.mktemp("plan")
    write_config(folder / "config")
    asyncio.run(simulate(folder / "config", folder / "data", None, "t", 12, seed=5, end=TUESDAY, load=0.5, say=lambda _: None))
    return folder / "data"


@pytest.fixture
async def planned(aiohttp_client, settings, simulated):  # type: ignore[no-untyped-def]
    """The app over a copy of the simulated journal."""
    shutil.copytree(simulated, settings.data_dir)
    return await aiohttp_client(create_app(settings))


async def login(client, username: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    r = await client.post("/api/v1/auth/login", json={"username": username, "password": "demo"})
    assert r.status == 200
    return {"Authorization": f"Bearer {(await r.json())['token']}"}


async def problem(r, status: int) -> dict:  # type: ignore[no-untyped-def]
    assert r.status == status, await r.text()
    assert r.content_type == "application/problem+json"
    body = await r.json()
    assert body["status"] == status and body["title"]
    return body


async def test_the_plan_of_tomorrow_says_how_many_windows_each_half_hour(planned):
    boss = await login(planned, "boss")
    r = await planned.get(f"{HALL}/plan", headers=boss)
    plan = await r.json()
    assert r.status == 200, plan
    assert plan["day"] == "2026-11-26" and plan["weekday"] == 4
    assert plan["history"]["days"] == 12 and plan["history"]["to"] == "2026-11-24"
    assert [s["start"] for s in plan["slots"]][:2] == ["08:30", "09:00"] and len(plan["slots"]) == 15
    assert [g["key"] for g in plan["groups"]] == ["w1", "w2", "w3"]
    assert 10 < plan["total"]["mean"] < 200 and plan["total"]["low"] < plan["total"]["mean"] < plan["total"]["high"]
    assert sum(s["arrivals"]["mean"] for s in plan["slots"]) == pytest.approx(plan["total"]["mean"], rel=0.01)
    for s in plan["slots"]:
        assert s["windows"] == sum(s["open"].values()) == len(s["open_windows"])
        assert all(0 <= n <= 1 for n in s["open"].values())  # one window in each group
        assert s["simulated"] is not None
    afternoon = [s for s in plan["slots"] if s["start"] >= "13:30"]
    assert all(s["open"]["w3"] >= 0 for s in afternoon)
    assert plan["check"]["rounds"] >= 1 and plan["check"]["met_share"] is not None
    await documented(planned, "/api/v1/halls/{hall}/plan", plan)


async def documented(client, path: str, answer: dict) -> None:  # type: ignore[no-untyped-def]
    """The answer has the shape the OpenAPI document gives the route."""
    spec = await (await client.get("/api/v1/openapi.json")).json()
    schema = spec["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    jsonschema.validate(answer, {**schema, "components": spec["components"]}, cls=jsonschema.Draft202012Validator)


async def test_the_plan_exports_as_csv_one_line_per_half_hour(planned):
    boss = await login(planned, "boss")
    r = await planned.get(f"{HALL}/plan.csv?day=2026-11-26", headers=boss)
    assert r.status == 200 and r.content_type == "text/csv"
    assert 'filename="hallq-t-plan-2026-11-26.csv"' in r.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO((await r.text()).lstrip("\ufeff"))))
    assert rows[0][:4] == ["day", "start", "end", "arrivals"] and rows[0][-1] == "open 3号窗口"
    assert len(rows) == 16 and rows[1][:3] == ["2026-11-26", "08:30", "09:00"]


async def test_the_plan_for_people_is_worded_in_the_pages_language(planned):
    """?words=1: columns in words, waits in minutes, met as yes or no, the windows to open by name;
    the groups' columns keep the hall's names of them."""
    boss = await login(planned, "boss")
    machine = await read_csv(planned, "plan.csv", boss, day="2026-11-26")
    busy = next(n for n, line in enumerate(machine) if n and line[9])  # a half hour with windows to open
    plain = dict(zip(machine[0], machine[busy]))
    assert plain["met"] in ("True", "False") and plain["open_windows"].split()[0] == "w1"
    groups = tuple(h.removeprefix("open ") for h in machine[0] if h.startswith("open "))
    for lang, first, wait, met, which, yes in (
        ("zh-CN", ["日期", "开始", "结束", "预计到访"], "公式估算 平均 等候（分钟）", "达标", "开哪些窗口", "是"),
        ("en", ["day", "start", "end", "expected arrivals"], "formula mean wait (minutes)", "met", "which windows", "yes"),
    ):
        worded = await read_csv(planned, "plan.csv", boss, day="2026-11-26", words="1", lang=lang)
        assert worded[0][:4] == first and len(worded) == len(machine)
        in_one_language(worded[0], lang, groups)
        line = dict(zip(worded[0], worded[busy]))
        assert float(line[wait]) == round(float(plain["erlang_mean_wait_s"]) / 60, 1)
        assert (line[met] == yes) == (plain["met"] == "True")
        assert line[which].startswith("1号窗口")


async def test_today_shows_the_forecast_against_the_arrivals_so_far(planned, clock):
    boss = await login(planned, "boss")
    for _ in range(3):
        assert (await planned.post(f"{HALL}/tickets", json={"item": "a1"})).status == 201
    clock.advance(45 * 60)  # 09:45
    today = await (await planned.get(f"{HALL}/plan/today", headers=boss)).json()
    assert today["day"] == "2026-11-25" and today["open"] is True
    await documented(planned, "/api/v1/halls/{hall}/plan/today", today)
    by_start = {s["start"]: s for s in today["slots"]}
    assert by_start["09:00"]["actual"] == 3 and by_start["08:30"]["actual"] == 0
    assert by_start["09:30"]["actual"] == 0 and by_start["10:00"]["actual"] is None  # not yet begun
    assert today["so_far"]["actual"] == 3 and today["so_far"]["forecast"] > 0
    clock.advance(3 * 24 * 3600)  # Saturday: the hall is closed, nobody is expected
    saturday = await (await planned.get(f"{HALL}/plan/today", headers=await login(planned, "boss"))).json()
    assert saturday["day"] == "2026-11-28" and saturday["open"] is False and saturday["total"]["mean"] == 0


async def test_accuracy_over_past_days_beside_the_naive_forecast(planned):
    boss = await login(planned, "boss")
    acc = await (await planned.get(f"{HALL}/plan/accuracy?days=5", headers=boss)).json()
    await documented(planned, "/api/v1/halls/{hall}/plan/accuracy", acc)
    assert [d["day"] for d in acc["days"]] == ["2026-11-18", "2026-11-19", "2026-11-20", "2026-11-23", "2026-11-24"]
    for d in acc["days"]:
        assert d["actual"] > 0 and 0 <= d["mape_half_hour"] < 2 and d["error_day"] < 1
        assert d["naive"]["error_day"] >= 0 and 0 <= d["waits_met_share"] <= 1


async def test_bookings_are_counted_as_known_arrivals(planned):
    boss = await login(planned, "boss")
    before = await (await planned.get(f"{HALL}/plan?day=2026-11-27", headers=boss)).json()
    r = await planned.post(f"{HALL}/appointments", headers=boss,  # booked at the counter for a citizen
                           json={"item": "a1", "slot_start": "2026-11-27T10:30:00+08:00", "phone": "13800138000"})
    assert r.status == 201, await r.text()
    after = await (await planned.get(f"{HALL}/plan?day=2026-11-27", headers=boss)).json()
    assert after["booked"] == before["booked"] + 1
    slot = next(s for s in after["slots"] if s["start"] == "10:30")
    assert slot["booked"] == 1


async def test_only_managers_read_the_plan_and_bad_input_is_a_problem(planned):
    assert (await problem(await planned.get(f"{HALL}/plan"), 401))
    clerk = await login(planned, "w1a")
    await problem(await planned.get(f"{HALL}/plan", headers=clerk), 403)
    await problem(await planned.get(f"{HALL}/plan.csv", headers=clerk), 403)
    await problem(await planned.get(f"{HALL}/plan/today", headers=clerk), 403)
    await problem(await planned.get(f"{HALL}/plan/accuracy", headers=clerk), 403)
    boss = await login(planned, "boss")
    for bad in ("day=tomorrow", "day=2026-11-24", "day=2027-03-01", "day=2026-11-28"):
        body = await problem(await planned.get(f"{HALL}/plan?{bad}", headers=boss), 422)
        assert body["detail"]
    for bad in ("days=0", "days=61", "days=x"):
        await problem(await planned.get(f"{HALL}/plan/accuracy?{bad}", headers=boss), 422)
    await problem(await planned.get("/api/v1/halls/nope/plan", headers=boss), 404)
    admin = await login(planned, "admin")
    assert (await planned.get(f"{HALL}/plan?day=2026-11-25", headers=admin)).status == 200


async def test_hallq_plan_prints_the_plan(tmp_path, config_dir, capsys):
    data = tmp_path / "cli"
    await simulate(config_dir, data, None, "t", 10, seed=2, end=TUESDAY, load=0.5, say=lambda _: None)
    args = ["plan", "--config", str(config_dir), "--data", str(data), "--hall", "t", "--day", "2026-11-26"]
    assert await asyncio.to_thread(main, args) == 0
    out = capsys.readouterr().out
    assert "t 2026-11-26 (weekday 4)" in out and "learnt from 10 days" in out
    assert "08:30-09:00" in out and "17:00-17:30" in out and "w3" in out
    assert await asyncio.to_thread(main, [*args, "--csv", "--no-check"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("day,start,end,arrivals") and len(lines) == 16
    assert await asyncio.to_thread(main, [*args[:-1], "2026-11-28"]) == 2  # a Saturday: closed
    assert "does not open" in capsys.readouterr().out


def test_a_played_plan_opens_only_its_windows_and_more_windows_mean_shorter_waits():
    catalog = small_catalog()
    day = date(2026, 11, 25)
    slots = [510 + 30 * n for n in range(7)]
    arrivals = {"a1": {s: 6.0 for s in slots}, "a2": {s: 2.0 for s in slots}}
    one = {s: frozenset({"w1"}) for s in slots}
    sim = PlanDaySim(catalog, day, 1, arrivals, one)
    sim.run()
    called_at = {e["window"] for _, e in sim.out if e["type"] == "ticket_called"}
    assert called_at == {"w1"}
    opened = {e["window"] for _, e in sim.out if e["type"] == "window_opened"}
    assert opened == {"w1"}
    waits_one = slot_waits(sim, slots)
    assert sum(len(w.waits) for w in waits_one.values()) > 35  # 8 an half hour expected
    both = play(catalog, day, arrivals, {s: frozenset({"w1", "w3"}) for s in slots}, seeds=(1,))
    assert sum(w.mean_s or 0 for w in both.values()) < sum(w.mean_s or 0 for w in waits_one.values())


async def test_hallq_plan_reads_a_postgresql_journal_as_it_reads_sqlite(tmp_path, config_dir, capsys):
    """The same simulated days in PostgreSQL (times come back in UTC) and in SQLite (the hall's
    wall clock) give the same plan, half hour by half hour."""
    from tests.services import PostgresDatabase

    pg = PostgresDatabase()
    url = await pg.create()
    try:
        outs = []
        for database in (None, url):
            await simulate(config_dir, tmp_path / "lite", database, "t", 6, seed=3, end=TUESDAY, load=0.5, say=lambda _: None)
            args = ["plan", "--config", str(config_dir), "--data", str(tmp_path / "lite"), "--hall", "t", "--day", "2026-11-26", "--csv"]
            assert await asyncio.to_thread(main, [*args, *(["--database", database] if database else [])]) == 0
            outs.append(capsys.readouterr().out)
        assert outs[0] == outs[1] and len(outs[0].splitlines()) == 16
    finally:
        await pg.drop()
