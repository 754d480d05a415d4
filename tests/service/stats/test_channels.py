"""Statistics by channel: booked (预约), remote (远程取号) and walk-in citizens apart, each with its wait."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
import yaml

from server.api.appointments import BOOKINGS
from tests.halls import write_config
from tests.proof import proof

URL = "/api/v1/halls/t/stats"


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "config"
    write_config(folder)
    (folder / "t" / "kiosks.yaml").write_text(yaml.safe_dump([{"id": "k1", "name": "取号机"}], allow_unicode=True), encoding="utf-8")
    return folder


async def test_booked_remote_and_walk_in_citizens_are_counted_apart_with_their_waits(client, login, clock):
    # 09:00: a walk-in for a1 and a remote ticket for a2; two bookings at 09:30, one of them never comes.
    await client.post("/api/v1/halls/t/tickets", json={"item": "a1"})
    remote = await (await client.post("/api/v1/halls/t/tickets/remote", json={"item": "a2", "phone": "13812345678", "proof": await proof(client)})).json()
    came = await (await client.post("/api/v1/halls/t/appointments",
                                    json={"item": "a1", "slot_start": "2026-11-25T09:30:00+08:00", "phone": "13900000001",
                                          "proof": await proof(client)})).json()
    await client.post("/api/v1/halls/t/appointments",
                      json={"item": "a1", "slot_start": "2026-11-25T09:30:00+08:00", "phone": "13900000002", "proof": await proof(client)})
    h = await login("w1a")
    await client.post("/api/v1/halls/t/windows/w1/open", headers=h)

    async def serve() -> dict:
        called = await (await client.post("/api/v1/halls/t/windows/w1/call-next", headers=h)).json()
        await client.post("/api/v1/halls/t/windows/w1/start", headers=h)
        clock.advance(60)
        await client.post("/api/v1/halls/t/windows/w1/finish", headers=h, json={"case_type": "immediate"})
        return called["ticket"]

    clock.advance(300)  # 09:05: the walk-in waited 5 min
    assert (await serve())["channel"] == "kiosk"
    clock.advance(24 * 60)  # 09:30: the booking checks in and is called 2 min later
    assert (await client.post("/api/v1/halls/t/kiosks/k1/tickets", json={"appointment": came["code"]})).status == 201
    clock.advance(120)
    assert (await serve())["appointment"] is True
    await client.post(f"/api/v1/halls/t/tickets/{remote['id']}/arrive")
    clock.advance(60)
    assert (await serve())["number"] == remote["number"]  # waited from 09:00 to 09:34
    clock.advance(20 * 60)  # 09:56: the other booking's check-in closed at 09:45
    assert len(await client.app[BOOKINGS]["t"].sweep()) == 1

    body = await (await client.get(URL + "?by=channel", headers=await login("boss"))).json()
    rows = {r["key"]: r for r in body["rows"]}
    assert [r["key"] for r in body["rows"]] == ["booked", "remote", "walk_in"]
    assert {k: (r["issued"], r["called"], r["served"], r["wait"]["mean_s"]) for k, r in rows.items()} == {
        "booked": (1, 1, 1, 120.0), "remote": (1, 1, 1, 2040.0), "walk_in": (1, 1, 1, 300.0),
    }
    assert rows["booked"]["appointments"] == {"booked": 0, "checked_in": 1, "missed": 1, "cancelled": 0}
    assert rows["walk_in"]["appointments"] == {"booked": 0, "checked_in": 0, "missed": 0, "cancelled": 0}
    assert body["total"]["appointments"]["missed"] == 1

    # The same figures once the day is closed and derived into the stored tables.
    clock.t = clock.t + timedelta(days=1)
    again = await (await client.get(URL + "?by=channel&from=2026-11-25", headers=await login("boss"))).json()
    assert again["rows"] == body["rows"]


async def test_a_booking_never_swept_counts_as_missed_once_its_check_in_time_or_day_is_over(client, login, clock):
    r = await client.post("/api/v1/halls/t/appointments",
                          json={"item": "a1", "slot_start": "2026-11-25T16:30:00+08:00", "phone": "13900000001",
                                "proof": await proof(client)})
    assert r.status == 201
    h = await login("boss")
    today = await (await client.get(URL + "?by=channel", headers=h)).json()
    assert today["rows"][0]["appointments"] == {"booked": 1, "checked_in": 0, "missed": 0, "cancelled": 0}
    clock.t = clock.t + timedelta(days=1)  # no sweep ran: the server was down that afternoon
    closed = await (await client.get(URL + "?by=channel&from=2026-11-25", headers=await login("boss"))).json()
    assert closed["rows"][0]["appointments"] == {"booked": 0, "checked_in": 0, "missed": 1, "cancelled": 0}
