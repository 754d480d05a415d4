"""The terminal's view of its window: the queue in call order, what the state allows, the materials."""

from __future__ import annotations

import json


async def issue(client, item: str, **kw) -> dict:  # type: ignore[no-untyped-def]
    r = await client.post("/api/v1/halls/t/tickets", json={"item": item, **kw})
    assert r.status == 201, await r.text()
    return await r.json()


async def queue(client, h, window: str = "w1") -> dict:  # type: ignore[no-untyped-def]
    r = await client.get(f"/api/v1/halls/t/windows/{window}/queue", headers=h)
    assert r.status == 200, await r.text()
    return await r.json()


async def act(client, h, action: str, body: dict | None = None, window: str = "w1") -> dict:  # type: ignore[no-untyped-def]
    r = await client.post(f"/api/v1/halls/t/windows/{window}/{action}", json=body or {}, headers=h)
    assert r.status == 200, await r.text()
    return await r.json()


async def test_the_queue_lists_tickets_in_the_order_call_next_calls_them(client, login, clock):
    for item, kw in [("a1", {}), ("a2", {}), ("a1", {"priority": True}), ("a2", {"priority": True}),
                     ("a1", {"priority": True}), ("a1", {}), ("b1", {})]:
        await issue(client, item, **kw)
        clock.advance(30)
    h = await login("w1a")
    await act(client, h, "open")
    listed = await queue(client, h)
    order = [q["number"] for q in listed["queue"]]
    assert listed["waiting"] == 6 and "C001" not in order  # b1 is not served at w1
    assert [q["lane"] for q in listed["queue"]][:3] == ["priority", "priority", "normal"]  # 2 in a row, then a normal
    called = []
    for _ in order:
        w = await act(client, h, "call-next")
        called.append(w["ticket"]["number"])
        await act(client, h, "start")
        await act(client, h, "finish", {"case_type": "immediate"})
    assert called == order
    assert (await queue(client, h))["queue"] == []


async def test_the_state_decides_which_actions_the_terminal_offers(client, login):
    h = await login("w1a")
    assert (await queue(client, h))["actions"] == ["open"]
    await act(client, h, "open")
    assert (await queue(client, h))["actions"] == ["call-next", "call", "pause", "close", "handover"]
    t = await issue(client, "a1")
    await act(client, h, "call-next")
    called = await queue(client, h)
    assert called["actions"] == ["recall", "start", "no-show", "transfer"]
    assert called["window"]["ticket"]["number"] == t["number"]  # staff name tickets by number
    assert t["id"] not in json.dumps(called)  # the id is the holder's secret
    assert called["item"]["materials"] == ["身份证", "申请表"]
    await act(client, h, "start")
    assert (await queue(client, h))["actions"] == ["finish", "transfer", "suspend"]
    await act(client, h, "suspend", {"kind": "fetching_materials"})
    idle = await queue(client, h)
    assert [(s["number"], s["kind"]) for s in idle["suspended"]] == [("A001", "fetching_materials")]
    w = await act(client, h, "call", {"ticket": idle["suspended"][0]["number"]})
    assert w["ticket"]["number"] == "A001"
    await act(client, h, "start")
    await act(client, h, "finish", {"case_type": "immediate"})
    done = await queue(client, h)
    assert "evaluation" in done["actions"] and done["rateable"]["number"] == "A001"


async def test_the_queue_is_for_the_windows_staff_only(client, login):
    assert (await client.get("/api/v1/halls/t/windows/w1/queue")).status == 401
    assert (await client.get("/api/v1/halls/t/windows/w1/queue", headers=await login("w2a"))).status == 403
    assert (await client.get("/api/v1/halls/t/windows/w9/queue", headers=await login("w1a"))).status == 404
    for who in ("w1b", "boss", "admin"):
        assert (await client.get("/api/v1/halls/t/windows/w1/queue", headers=await login(who))).status == 200
