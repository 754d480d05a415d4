"""Midnight on the real app: tickets open at 00:00 are closed out and say so; nothing answers 404 or 500."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from pathlib import Path

import aiohttp
import pytest

from tests.halls import small_config, write_config


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "config"
    write_config(folder, small_config(enforce_hours=False))  # open round the clock: midnight finds people in it
    return folder


async def issue(client, item: str) -> dict:  # type: ignore[no-untyped-def]
    r = await client.post("/api/v1/halls/t/tickets", json={"item": item})
    assert r.status == 201, await r.text()
    return await r.json()


async def act(client, headers, window: str, action: str, body: dict | None = None, status: int = 200) -> dict:  # type: ignore[no-untyped-def]
    r = await client.post(f"/api/v1/halls/t/windows/{window}/{action}", json=body, headers=headers)
    assert r.status == status, await r.text()
    if status >= 400:
        assert r.content_type == "application/problem+json"
    return await r.json()


async def ticket(client, ticket_id: str) -> dict:  # type: ignore[no-untyped-def]
    r = await client.get(f"/api/v1/halls/t/tickets/{ticket_id}")
    assert r.status == 200, await r.text()
    return await r.json()


async def test_tickets_open_at_midnight_are_closed_out_and_their_pages_say_so(client, login, clock):
    w1, w2 = await login("w1a"), await login("w2a")
    served = await issue(client, "a1")
    waiting = await issue(client, "a1")
    called = await issue(client, "b1")
    await act(client, w1, "w1", "open")
    await act(client, w2, "w2", "open")
    await act(client, w1, "w1", "call", {"ticket": served["id"]})
    await act(client, w1, "w1", "start")
    await act(client, w2, "w2", "call-next")
    old_day = clock.t.date()
    clock.t = clock.t.replace(hour=23, minute=59)
    assert [(await ticket(client, t["id"]))["status"] for t in (served, waiting, called)] == ["serving", "waiting", "called"]

    clock.t = clock.t.replace(hour=0, minute=1) + timedelta(days=1)
    w1, w2, boss = await login("w1a"), await login("w2a"), await login("boss")  # sessions end after hours idle

    # GET ticket: 200, closed out, with what it was.
    views = [await ticket(client, t["id"]) for t in (served, waiting, called)]
    assert [(v["status"], v["closed_out_from"], v["day"]) for v in views] == [
        ("closed_out", "serving", old_day.isoformat()), ("closed_out", "waiting", old_day.isoformat()),
        ("closed_out", "called", old_day.isoformat())]
    # The mobile ticket page says so, in both languages, instead of a 404.
    page = await client.get(f"/t/{waiting['id']}")
    assert page.status == 200
    assert "当日办理时间已结束，本号已作废" in await page.text()
    page = await client.get(f"/t/{waiting['id']}?lang=en")
    assert page.status == 200 and "this number is no longer valid" in await page.text()
    page = await client.get(f"/t/{served['id']}?lang=en")
    assert "ran past the end of the hall" in await page.text()

    # The old day's journal ends with the close-out.
    r = await client.get(f"/api/v1/halls/t/events?day={old_day.isoformat()}", headers=boss)
    assert r.status == 200, await r.text()
    kinds = [e["type"] for e in (await r.json())["events"]]
    assert kinds[-6:] == ["ticket_closed_out"] * 3 + ["window_closed"] * 2 + ["day_closed_out"]

    # The window of the new day is open and idle, and calls.
    window = await (await client.get("/api/v1/halls/t/windows/w1")).json()
    assert window["state"] == "idle"
    fresh = await issue(client, "a1")
    assert fresh["number"] == "A001"
    # w2 never served its called citizen: nothing to finish, a clear 409.
    problem = await act(client, w2, "w2", "finish", {"case_type": "immediate"}, status=409)
    assert problem["type"].endswith("window-state")
    # w1's service ran over midnight: its finish is recorded, in its own day, once.
    window = await act(client, w1, "w1", "finish", {"case_type": "promised"})
    assert window["state"] == "idle" and window["ticket"] is None
    finished = await ticket(client, served["id"])
    assert (finished["status"], finished["case_type"], finished["closed_out_from"]) == ("done", "promised", "serving")
    await act(client, w1, "w1", "finish", {"case_type": "promised"}, status=409)
    r = await client.post(f"/api/v1/halls/t/tickets/{served['id']}/evaluation", json={"score": 5})
    assert r.status == 201, await r.text()  # its citizen rates it on the phone, in its own day too
    window = await act(client, w1, "w1", "call-next")
    assert window["ticket"]["number"] == fresh["number"]  # clerks see numbers, never the citizen's id

    # Statistics of the old day: the finished one served, the others neither served nor no-shows.
    r = await client.get(f"/api/v1/halls/t/stats?from={old_day.isoformat()}&to={old_day.isoformat()}&by=item", headers=boss)
    assert r.status == 200, await r.text()
    total = (await r.json())["total"]
    assert (total["issued"], total["served"], total["no_show"], total["unfinished"]) == (3, 1, 0, 2)
    assert total["case_types"]["promised"] == 1


async def test_a_closed_out_ticket_cannot_be_cancelled_or_rated_and_says_why(client, clock):
    waiting = await issue(client, "a1")
    clock.t = clock.t.replace(hour=0, minute=1) + timedelta(days=1)
    for path, body in (("cancel", {}), ("evaluation", {"score": 5})):
        r = await client.post(f"/api/v1/halls/t/tickets/{waiting['id']}/{path}", json=body)
        assert r.status == 409 and r.content_type == "application/problem+json", await r.text()
    assert (await ticket(client, waiting["id"]))["status"] == "closed_out"  # and nothing changed


async def test_a_phone_following_its_ticket_hears_it_closed_out_at_midnight(client, clock):
    mine = await issue(client, "a1")
    ws = await client.ws_connect(f"/ws/v1/halls/t?ticket={mine['id']}")
    assert (await recv(ws))["ticket"]["status"] == "waiting"
    clock.t = clock.t.replace(hour=0, minute=0, second=5) + timedelta(days=1)
    await ticket(client, mine["id"])  # anyone's request after midnight (or the midnight timer) runs the day change
    while (m := await recv(ws))["type"] != "ticket" or m["ticket"]["status"] != "closed_out":
        pass
    assert m["ticket"]["closed_out_from"] == "waiting"
    await ws.close()
    # A phone that comes back later still finds it, closed out.
    ws = await client.ws_connect(f"/ws/v1/halls/t?ticket={mine['id']}")
    assert (await recv(ws))["ticket"]["status"] == "closed_out"
    await ws.close()


async def recv(ws, timeout: float = 5.0) -> dict:  # type: ignore[no-untyped-def]
    msg = await asyncio.wait_for(ws.receive(), timeout)
    assert msg.type is aiohttp.WSMsgType.TEXT, msg
    return json.loads(msg.data)
