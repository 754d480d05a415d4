"""季度通报 on the real app: ranking, excellent-window candidates and most alerts of a period
checked by hand, and the bulletin's workbook against its JSON.

The period is the two scripted days (tests/service/stats/scripted.py, Wednesday, and
tests/service/stats/scripted_busy.py, Thursday) in a hall whose award asks for 10 served and at most
half bad reviews (the default 100 served is far beyond a two-day script).
"""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from server.api import Settings, create_app
from server.api.context import CTX
from server.api.stats import STATS
from tests.halls import FakeClock, small_config, write_config
from tests.service.stats.scripted import START, play
from tests.service.stats.scripted_busy import play_busy

HALL = "/api/v1/halls/t"
AWARD = {"min_served": 10, "max_bad_rate": 0.5}


@pytest.fixture
async def bulletin_client(aiohttp_client, tmp_path):  # type: ignore[no-untyped-def]
    clock = FakeClock(START)
    folder = tmp_path / "cfg"
    write_config(folder, small_config(supervision={"award": AWARD}))
    # No background sweeps: the script sweeps by itself at its own times.
    app = create_app(Settings(config_dir=folder, data_dir=tmp_path / "d", clock=clock, background=False))
    client = await aiohttp_client(app)
    service = app[CTX].halls["t"]
    await service.current()
    await play(service, clock)
    await play_busy(service, app[STATS], clock)
    r = await client.post("/api/v1/auth/login", json={"username": "boss", "password": "demo"})
    return client, {"Authorization": f"Bearer {(await r.json())['token']}"}


async def test_a_window_is_a_candidate_by_the_formula_and_the_ranking_is_by_score(bulletin_client):
    client, boss = bulletin_client
    b = await (await client.get(f"{HALL}/bulletin?quarter=2026Q4", headers=boss)).json()
    assert (b["from"], b["to"], b["formula"]["most_served"], b["formula"]["red_wait_s"]) == ("2026-10-01", "2026-11-26", 16, 2700.0)
    # Weights 40 / 20 / 20 / 20; the most served by one window is w1's 16.
    # w1: good rate 4/7 (scores 5,2 | 5,4,3,2,1); p90 wait 3780 s ≥ the red 2700 s → 0; volume
    #     16/16; 1 alert (the review) per 16 served = 6.25 per 100 → 1 − 6.25/10 = 0.375:
    #     40 × 0.5714 + 0 + 20 + 7.5 = 50.4. Served 16 ≥ 10, bad 3/7 = 0.43 ≤ 0.5: a candidate.
    # w3: nobody rated (0), no waits (0), volume 1/16 → 1.25, no alerts → 20: 21.25, shown 21.2.
    #     Served 1 < 10: not a candidate.
    # w2: unrated (0); waits 20, 30, 100, 330 → p90 = 4th = 330 → 20 × (1 − 330/2700) = 17.56;
    #     volume 1/16 → 1.25; 1 alert per 1 served → 0: 18.8. Not a candidate.
    ranking = [(w["key"], w["award"]["rank"], w["award"]["score"], w["award"]["eligible"]) for w in b["windows"]]
    assert ranking == [("w1", 1, 50.4, True), ("w3", 2, 21.2, False), ("w2", 3, 18.8, False)]
    assert b["windows"][0]["award"]["parts"] == {"satisfaction": 0.5714, "waiting": 0.0, "volume": 1.0, "alerts": 0.375}
    assert [c["key"] for c in b["candidates"]] == ["w1"]
    # w1 (the review alert) and w2 (unattended) have one alert each, none red: by key.
    assert [(r["key"], r["alerts"]["total"]) for r in b["most_alerts"]] == [("w1", 1), ("w2", 1)]


async def test_the_bulletin_workbook_holds_the_same_figures_as_the_json(bulletin_client):
    client, boss = bulletin_client
    b = await (await client.get(f"{HALL}/bulletin?quarter=2026Q4", headers=boss)).json()
    r = await client.get(f"{HALL}/bulletin.xlsx?quarter=2026Q4", headers=boss)
    assert r.status == 200
    wb = load_workbook(io.BytesIO(await r.read()), read_only=True)
    assert wb.sheetnames == ["departments", "windows", "candidates", "most alerts", "clerks", "attendance", "attendance by clerk"]

    def sheet(name: str) -> list[dict]:
        rows = list(wb[name].iter_rows(values_only=True))
        return [dict(zip(rows[0], line)) for line in rows[1:]]

    windows = sheet("windows")
    assert [(w["key"], w["award_rank"], w["award_score"], w["award_eligible"]) for w in windows] == [
        (w["key"], w["award"]["rank"], w["award"]["score"], w["award"]["eligible"]) for w in b["windows"]
    ]
    assert [(w["served"], w["wait_p90_s"], w["satisfaction_good_rate"]) for w in windows] == [
        (w["served"], w["wait"]["p90_s"], w["satisfaction"]["good_rate"]) for w in b["windows"]
    ]
    assert [w["key"] for w in sheet("candidates")] == [c["key"] for c in b["candidates"]] == ["w1"]
    assert [(w["key"], w["alerts_total"], w["alerts_red"]) for w in sheet("most alerts")] == [
        (r["key"], r["alerts"]["total"], r["alerts"]["red"]) for r in b["most_alerts"]
    ]
    assert [(c["key"], c["award_rank"], c["award_score"], c["absent"]) for c in sheet("clerks")] == [
        (c["key"], c["award"]["rank"], c["award"]["score"], c["absent"]) for c in b["clerks"]
    ]
    assert [(w["key"], w["late"], w["late_s"], w["absent"]) for w in sheet("attendance")] == [
        *((w["key"], w["late"], w["late_s"], w["absent"]) for w in b["attendance"]["windows"]),
        ("total", b["attendance"]["total"]["late"], b["attendance"]["total"]["late_s"], b["attendance"]["total"]["absent"]),
    ]
    assert [c["key"] for c in sheet("attendance by clerk")] == [c["key"] for c in b["attendance"]["clerks"]]
    departments = sheet("departments")
    assert [(d["key"], d["issued"], d["served"]) for d in departments] == [
        *((d["key"], d["issued"], d["served"]) for d in b["departments"]), ("total", b["total"]["issued"], b["total"]["served"])
    ]


async def test_the_clerks_ranking_and_attendance_of_the_quarter_by_hand(bulletin_client):
    client, boss = bulletin_client
    b = await (await client.get(f"{HALL}/bulletin?quarter=2026Q4", headers=boss)).json()
    # 考勤, Wednesday only (Thursday's sessions are not over at 10:30): the hall's hours
    # 08:30-12:00 and 13:30-17:30. w1 and w2 opened at 09:50 (4800 s late); w1 closed at
    # 10:20 (6000 s early, by w1b after the hand-over: covered), w2 at 10:15 (6300 s early);
    # nobody opened in the afternoon (absent); w3 never opened (absent twice).
    rows = {r["key"]: (r["sessions"], r["late_s"], r["early_s"], r["absent"], r["covered"]) for r in b["attendance"]["windows"]}
    assert rows == {"w1": (2, 4800.0, 6000.0, 1, 1), "w2": (2, 4800.0, 6300.0, 1, 0), "w3": (2, 0.0, 0.0, 2, 0)}
    # 服务标兵, weights 40 / 30 / 30; the most served by a clerk is w1a's 16.
    # w1a: mean rating 22/7 → (22/7 − 1)/4 = 0.5357 → 21.43; volume 1 → 30; the review alert at
    #      w1 → 1 per 16 served: 1 − 6.25/10 = 0.375 → 11.25: 62.7. Served 16, bad 3/7, but
    #      absent on Wednesday afternoon: no candidate.
    # w3a: unrated 0; volume 1/16 → 1.875; no alert → 30: 31.9.  w2a: the unattended alert at
    #      w2 per 1 served → 0; volume 1.875: 1.9.  w1b: served nothing: 0.
    ranking = [(c["key"], c["award"]["rank"], c["award"]["score"], c["absent"], c["alerts"]) for c in b["clerks"]]
    assert ranking == [("w1a", 1, 62.7, 1, 1), ("w3a", 2, 31.9, 2, 0), ("w2a", 3, 1.9, 1, 1), ("w1b", 4, 0.0, 0, 0)]
    assert b["clerks"][0]["award"]["parts"] == {"satisfaction": 0.5357, "volume": 1.0, "alerts": 0.375}
    assert b["clerk_candidates"] == []
    assert b["clerk_formula"]["weights"] == {"satisfaction": 40, "volume": 30, "alerts": 30}
