"""The HTTP contract end to end on the real app (pytest-aiohttp), small hall, injected clock."""

from __future__ import annotations

import json

PUBLIC_TICKET_KEYS = {
    "id", "number", "item", "item_name", "status", "priority", "appointment", "channel", "issued_at", "called_at",
    "ahead", "estimated_wait_s", "estimated_wait_range_s", "window", "window_name", "windows", "recalls", "transfers",
    "print_status", "status_url",
    "window_hint", "suspend_kind", "case_type", "outcome", "missing", "deadline", "rated",
}


async def issue(client, item: str, **extra) -> dict:  # type: ignore[no-untyped-def]
    r = await client.post("/api/v1/halls/t/tickets", json={"item": item, **extra})
    assert r.status == 201, await r.text()
    return await r.json()


async def act(client, headers, window: str, action: str, body: dict | None = None, status: int = 200) -> dict:  # type: ignore[no-untyped-def]
    r = await client.post(f"/api/v1/halls/t/windows/{window}/{action}", json=body, headers=headers)
    assert r.status == status, await r.text()
    return await r.json()


async def test_halls_catalog_and_queues_are_public(client):
    halls = await (await client.get("/api/v1/halls")).json()
    assert halls == [{"id": "t", "name": "测试大厅", "timezone": "Asia/Shanghai"}]
    catalog = await (await client.get("/api/v1/halls/t/catalog")).json()
    assert {i["id"] for i in catalog["items"]} == {"a1", "a2", "b1", "c1"}
    assert set(catalog["items"][0]["publics"]) == {"content", "legal_basis", "procedure", "requirements", "time_limit", "fee"}
    assert {w["id"]: w["kind"] for w in catalog["windows"]} == {"w1": "dedicated", "w2": "dedicated", "w3": "comprehensive"}
    await issue(client, "b1")
    queues = await (await client.get("/api/v1/halls/t/queues")).json()
    b1 = next(q for q in queues["items"] if q["item"] == "b1")
    assert (b1["waiting"], b1["quota_left"], b1["issuing"]) == (1, 2, True)


async def test_a_day_at_the_counters(client, login, clock):
    w1 = await login("w1a")
    w3 = await login("w3a")
    dedicated = await issue(client, "a1")
    assert dedicated["number"] == "A001" and dedicated["window_hint"] == "1号窗口"
    assert dedicated["status_url"] == f"/api/v1/halls/t/tickets/{dedicated['id']}"
    assert set(dedicated) <= PUBLIC_TICKET_KEYS
    shared = await issue(client, "a2")  # served by w1 (dedicated) and w3 (comprehensive)
    assert shared["windows"] == ["w1", "w3"]
    only_comprehensive = await issue(client, "c1")

    await act(client, w1, "w1", "open")
    await act(client, w3, "w3", "open")
    clock.advance(60)
    window = await act(client, w3, "w3", "call-next")
    assert window["state"] == "called" and window["ticket"]["number"] == shared["number"]
    assert window["clerk"] == {"name": "赵三", "staff_no": "S31", "post": "A"}
    await act(client, w3, "w3", "recall")
    await act(client, w3, "w3", "start")
    clock.advance(300)
    window = await act(client, w3, "w3", "finish", {"case_type": "promised"})
    assert window["state"] == "idle" and window["ticket"] is None
    done = await (await client.get(f"/api/v1/halls/t/tickets/{shared['id']}")).json()
    assert (done["status"], done["case_type"], done["deadline"], done["recalls"]) == ("done", "promised", "2026-12-02", 1)

    r = await client.post(f"/api/v1/halls/t/tickets/{shared['id']}/evaluation", json={"score": 5, "comment": "很好"})
    assert r.status == 201
    r = await client.post(f"/api/v1/halls/t/tickets/{shared['id']}/evaluation", json={"score": 1})
    assert r.status == 409

    window = await act(client, w1, "w1", "call-next")
    assert window["ticket"]["number"] == dedicated["number"]
    await act(client, w1, "w1", "start")
    window = await act(client, w1, "w1", "transfer", {"item": "c1"})
    moved = await (await client.get(f"/api/v1/halls/t/tickets/{dedicated['id']}")).json()
    assert (moved["status"], moved["item"], moved["number"]) == ("waiting", "c1", "A001")
    # it keeps its original issue time, so it goes before c1's own ticket at the comprehensive window
    window = await act(client, w3, "w3", "call-next")
    assert window["ticket"]["number"] == dedicated["number"]
    await act(client, w3, "w3", "start")
    window = await act(client, w3, "w3", "suspend", {"kind": "fetching_materials"})
    assert window["state"] == "idle"
    suspended = await (await client.get(f"/api/v1/halls/t/tickets/{dedicated['id']}")).json()
    assert (suspended["status"], suspended["suspend_kind"]) == ("suspended", "fetching_materials")

    window = await act(client, w3, "w3", "call-next")
    assert window["ticket"]["number"] == only_comprehensive["number"]
    window = await act(client, w3, "w3", "no-show")
    assert window["state"] == "idle"
    gone = await (await client.get(f"/api/v1/halls/t/tickets/{only_comprehensive['id']}")).json()
    assert gone["status"] == "no_show"

    window = await act(client, w3, "w3", "call", {"ticket": dedicated["id"]})
    assert window["ticket"]["number"] == dedicated["number"]
    await act(client, w3, "w3", "start")
    await act(client, w3, "w3", "finish", {"case_type": "immediate", "outcome": "one_time_notice", "missing": ["户口簿"]})

    window = await act(client, w1, "w1", "call-next")
    assert window["ticket"] is None and window["state"] == "idle"  # nobody waiting: 200, ticket null
    window = await act(client, w1, "w1", "pause", {"reason": "午间休息", "until": "2026-11-25T13:30:00"})
    assert window["state"] == "paused"
    assert window["pause"] == {"reason": "午间休息", "until": "2026-11-25T13:30:00+08:00"}
    await act(client, w1, "w1", "handover")
    w1b = await login("w1b")
    window = await act(client, w1b, "w1", "resume")
    assert window["state"] == "idle" and window["clerk"]["name"] == "李一"
    # Handed over: A's session no longer acts at the window (issue 19); B, on duty, does.
    r = await client.post("/api/v1/halls/t/windows/w1/close", json={}, headers=w1)
    assert r.status == 403 and (await r.json())["type"].endswith(":not-on-duty")
    assert (await (await client.get("/api/v1/halls/t/windows/w1")).json())["state"] == "idle"
    await act(client, w1b, "w1", "close")

    windows = await (await client.get("/api/v1/halls/t/windows")).json()
    assert [(w["id"], w["state"]) for w in windows] == [("w1", "closed"), ("w2", "closed"), ("w3", "idle")]

    admin = await login("admin")
    journal = await (await client.get("/api/v1/halls/t/events", headers=admin)).json()
    types = [e["type"] for e in journal["events"]]
    assert types.count("ticket_issued") == 3 and "ticket_transferred" in types and "window_handed_over" in types
    assert [e["seq"] for e in journal["events"]] == list(range(1, len(types) + 1))
    assert all(e["by"] and e["at"] for e in journal["events"])


async def test_cancel_by_the_holder(client):
    t = await issue(client, "a1")
    r = await client.post(f"/api/v1/halls/t/tickets/{t['id']}/cancel")
    assert r.status == 200 and (await r.json())["status"] == "cancelled"
    r = await client.post(f"/api/v1/halls/t/tickets/{t['id']}/cancel")
    assert r.status == 409


async def test_priority_lane_and_ahead_estimates(client, login):
    normal = await issue(client, "a1")
    prio = await issue(client, "a1", priority=True)
    assert (normal["ahead"], prio["ahead"]) == (0, 0)
    later = await issue(client, "a1")
    assert later["ahead"] == 2
    h = await login("w1a")
    await act(client, h, "w1", "open")
    window = await act(client, h, "w1", "call-next")
    assert window["ticket"]["number"] == prio["number"]


async def test_appointments_checked_in_at_the_kiosk_go_first(client, login):
    boss = await login("boss")
    r = await client.post(
        "/api/v1/halls/t/appointments",
        json={"code": "BK2026", "item": "a1", "slot_start": "2026-11-25T09:00:00+08:00", "slot_end": "2026-11-25T09:30:00+08:00"},
        headers=boss,
    )
    assert r.status == 201, await r.text()
    await issue(client, "a1")
    booked = await issue(client, "a1", appointment="BK2026")
    assert booked["appointment"] is True
    h = await login("w1a")
    await act(client, h, "w1", "open")
    assert (await act(client, h, "w1", "call-next"))["ticket"]["number"] == booked["number"]


async def test_public_window_answers_show_numbers_not_ticket_ids(client, login):
    t = await issue(client, "a1")
    h = await login("w1a")
    await act(client, h, "w1", "open")
    staff_view = await act(client, h, "w1", "call-next")
    assert staff_view["ticket"]["number"] == t["number"]
    assert t["id"] not in json.dumps(staff_view)  # nor the clerk's own: the id is the holder's secret
    for path in ("/api/v1/halls/t/windows", "/api/v1/halls/t/windows/w1"):
        text = await (await client.get(path)).text()
        assert "A001" in text and t["id"] not in text


async def test_the_holder_rates_with_the_three_indicators_and_reasons(client, login):
    t = await issue(client, "a1")
    h = await login("w1a")
    for action in ("open", "call-next", "start"):
        await act(client, h, "w1", action)
    await act(client, h, "w1", "finish", {"case_type": "immediate"})
    r = await client.post(f"/api/v1/halls/t/tickets/{t['id']}/evaluation", json={"score": 1, "reasons": ["nonsense"]})
    assert r.status == 422
    r = await client.post(f"/api/v1/halls/t/tickets/{t['id']}/evaluation", json={"score": 2, "attitude": 2})
    assert r.status == 422 and (await r.json())["type"].endswith("reasons-needed")  # as at the window's evaluator
    r = await client.post(f"/api/v1/halls/t/tickets/{t['id']}/evaluation",
                          json={"score": 2, "efficiency": 2, "proficiency": 4, "attitude": 3, "reasons": ["long_wait"]})
    assert r.status == 201, await r.text()
    journal = await (await client.get("/api/v1/halls/t/events", headers=await login("boss"))).json()
    rated = [e for e in journal["events"] if e["type"] == "ticket_evaluated"][0]
    assert (rated["score"], rated["efficiency"], rated["proficiency"], rated["attitude"], rated["reasons"]) == (2, 2, 4, 3, ["long_wait"])


async def test_the_front_page_links_every_surface_of_each_hall(client):
    page = await (await client.get("/")).text()
    for path in ("/display/t/lobby", "/kiosk/t", "/terminal/t", "/dashboard/t/", "/api/v1/docs"):
        assert f'href="{path}"' in page
        assert (await client.get(path, allow_redirects=False)).status in (200, 302)
