"""Issuing at a kiosk, reprints, the server's own printing, managers' live view of the printers, pages and pictures."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime

import aiohttp

from tests.surfaces.kiosk.conftest import wait_until
from tests.surfaces.kiosk.fakes import qr_payloads


async def issue(client, kiosk: str = "k3", **body) -> dict:  # type: ignore[no-untyped-def]
    r = await client.post(f"/api/v1/halls/t/kiosks/{kiosk}/tickets", json={"item": "a1", **body})
    assert r.status == 201, await r.text()
    return await r.json()


async def test_a_kiosk_ticket_is_journalled_as_issued_by_that_kiosk(client, login):
    t = await issue(client, "k3", priority=True)
    assert t["channel"] == "kiosk" and t["priority"] and t["window_hint"] == "1号窗口"
    assert t["print"] == {"state": "none"}  # k3 has no printer: the ticket is on its screen only
    events = (await (await client.get("/api/v1/halls/t/events", headers=await login("boss"))).json())["events"]
    assert [(e["type"], e["by"], e["ticket"]) for e in events] == [("ticket_issued", "kiosk:k3", t["id"])]


async def test_an_appointment_is_checked_in_by_its_code_alone_typed_in_any_case(client, login):
    r = await client.post("/api/v1/halls/t/appointments", headers=await login("boss"),
                          json={"code": "Ab12cd", "item": "a2", "slot_start": "2026-11-25T09:00:00", "slot_end": "2026-11-25T09:30:00"})
    assert r.status == 201
    t = await issue(client, "k3", item=None, appointment="AB12CD")
    assert t["item"] == "a2" and t["appointment"] is True
    r = await client.post("/api/v1/halls/t/kiosks/k3/tickets", json={"appointment": "AB12CD"})
    assert r.status == 409 and (await r.json())["type"].endswith("appointment-used")
    r = await client.post("/api/v1/halls/t/kiosks/k3/tickets", json={"appointment": "NOPE99"})
    assert r.status == 404 and (await r.json())["type"].endswith("unknown-appointment")


async def test_closed_hours_quota_unknown_kiosks_and_bad_bodies_are_refused_as_problems(client, clock):
    for _ in range(3):
        await issue(client, "k3", item="b1")
    r = await client.post("/api/v1/halls/t/kiosks/k3/tickets", json={"item": "b1"})
    assert r.status == 409 and (await r.json())["type"].endswith("quota-exhausted")
    clock.advance(4 * 3600)  # 13:00: c1 is issued only 08:30-12:00
    r = await client.post("/api/v1/halls/t/kiosks/k3/tickets", json={"item": "c1"})
    assert r.status == 409 and (await r.json())["type"].endswith("closed")
    r = await client.post("/api/v1/halls/t/kiosks/k9/tickets", json={"item": "a1"})
    assert r.status == 404 and r.content_type == "application/problem+json"
    r = await client.post("/api/v1/halls/t/kiosks/k3/tickets", json={})
    assert r.status == 422 and (await r.json())["type"].endswith("missing-item")
    r = await client.post("/api/v1/halls/t/kiosks/k3/tickets", json={"item": "a1", "channel": "online"})
    assert r.status == 422


async def test_the_server_prints_itself_to_a_kiosk_network_printer_in_gbk_on_58mm(client, printer2):
    t = await issue(client, "k2")
    await printer2.wait_for_cuts(1)
    assert "甲一".encode("gbk") in printer2.data and qr_payloads(printer2.data) == [t["mobile_url"].encode()]
    await wait_until(lambda: _print_status(client, t["id"], "printed"))


async def _print_status(client, ticket_id: str, status: str) -> bool:  # type: ignore[no-untyped-def]
    return (await (await client.get(f"/api/v1/halls/t/tickets/{ticket_id}")).json())["print_status"] == status


async def test_managers_see_a_printer_fault_live(client, server, printer2, login):
    boss = (await login("boss"))["Authorization"].split()[1]
    async with aiohttp.ClientSession() as http:
        async with http.ws_connect(f"{server.ws}/ws/v1/halls/t/printers?token={boss}") as ws:
            first = json.loads((await ws.receive(timeout=3)).data)
            assert first["type"] == "printers" and {k["id"] for k in first["kiosks"]} == {"k1", "k2", "k3"}
            printer2.paper = "out"
            t = await issue(client, "k2")
            while True:
                view = json.loads((await ws.receive(timeout=5)).data)
                if view["failed"]:
                    break
            assert view["failed"][0]["ticket"] == t["id"] and "paper_out" in view["failed"][0]["detail"]
            assert next(k for k in view["kiosks"] if k["id"] == "k2")["printer"]["state"] == "paper_out"
        clerk = (await login("w1a"))["Authorization"].split()[1]
        for token, status in (("", 401), (clerk, 403)):
            async with http.get(f"{server.base}/ws/v1/halls/t/printers?token={token}") as r:
                assert r.status == status
    r = await client.get("/api/v1/halls/t/kiosks", headers=await login("w1a"))
    assert r.status == 403


async def test_a_double_tap_on_reprint_prints_once_staff_may_name_another_kiosk_and_a_closed_ticket_is_refused(client, login):
    t = await issue(client, "k1")  # no agent: the job waits for it
    for _ in range(4):  # taps while its job is open: the same job, nothing more on paper, nothing counted
        r = await client.post(f"/api/v1/halls/t/tickets/{t['id']}/print")
        assert r.status == 202 and (await r.json())["print"]["job"] == t["print"]["job"]
    r = await client.post(f"/api/v1/halls/t/tickets/{t['id']}/print", headers=await login("boss"), json={"kiosk": "k2"})
    assert r.status == 202 and (await r.json())["kiosk"] == "k2"
    await client.post(f"/api/v1/halls/t/tickets/{t['id']}/cancel")
    r = await client.post(f"/api/v1/halls/t/tickets/{t['id']}/print", headers=await login("boss"))
    assert r.status == 409 and (await r.json())["type"].endswith("ticket-closed")
    other = await (await client.post("/api/v1/halls/t/tickets", json={"item": "a1"})).json()
    r = await client.post(f"/api/v1/halls/t/tickets/{other['id']}/print", headers=await login("boss"))
    assert r.status == 422 and (await r.json())["type"].endswith("missing-kiosk")
    r = await client.post(f"/api/v1/halls/t/tickets/{t['id']}/print", headers={"Authorization": "Bearer nope"})
    assert r.status == 401


async def test_a_holder_reprints_three_times_then_is_sent_to_the_staff(client, login):
    """Over the wire: the agent's acks journal the prints, and the limit counts them
    (tests/service/printing/test_driver.py shows it holds after a restart)."""
    t = await issue(client, "k1")
    agent = await client.ws_connect("/ws/v1/halls/t/kiosks/k1")  # the print agent, by hand
    assert (await agent.receive_json(timeout=5))["type"] == "hello"
    for reprints in range(4):  # printed at issue, then reprinted three times at the holder's request
        job = await agent.receive_json(timeout=5)
        await agent.send_json({"type": "ack", "job": job["job"], "ticket": t["id"], "ok": True})
        assert await agent.receive_json(timeout=5) == {"type": "acked", "job": job["job"]}
        if reprints < 3:
            assert (await client.post(f"/api/v1/halls/t/tickets/{t['id']}/print")).status == 202
    r = await client.post(f"/api/v1/halls/t/tickets/{t['id']}/print")
    assert r.status == 409 and (await r.json())["type"].endswith("reprint-limit")
    r = await client.post(f"/api/v1/halls/t/tickets/{t['number']}/print", headers=await login("w1a"))
    assert r.status == 202 and (await r.json())["kiosk"] == "k1"  # staff may print it again
    await agent.close()


async def test_the_kiosk_page_the_pictures_and_the_mobile_ticket_are_served_without_any_outside_asset(client):
    page = await (await client.get("/kiosk/t/k1")).text()
    menu = json.loads(page.split('<script type="application/json" id="menu">')[1].split("</script>")[0])
    a1 = next(i for d in menu for i in d["items"] if i["id"] == "a1")
    assert (a1["name"], a1["initials"], a1["pinyin"]) == ("甲一", "JY", "JIAYI")  # searched by pinyin initials
    assert a1["materials"] == ["身份证", "申请表"] and a1["publics"]["fee"] == "不收费"
    assert "http://" not in page.replace('xmlns="http://www.w3.org', "") and "<script>" not in page
    t = await issue(client, "k3")
    r = await client.get(f"/kiosk/t/k3/tickets/{t['id']}/preview.png")
    assert r.status == 200 and r.content_type == "image/png" and (await r.read())[:4] == b"\x89PNG"
    r = await client.get(f"/kiosk/t/k3/tickets/{t['id']}/qr.svg")
    assert r.status == 200 and r.content_type == "image/svg+xml" and b"<svg" in await r.read()
    r = await client.get(f"/t/{t['id']}")
    assert r.status == 200 and t["number"] in await r.text()
    r = await client.get("/t/not-a-ticket")
    assert r.status == 404 and "没有找到" in await r.text()
    r = await client.get("/kiosk/t/k3/tickets/nope/qr.svg")
    assert r.status == 404


async def test_a_ticket_page_subscription_hears_its_print_status(client, server, clock):
    t = await issue(client, "k1")
    async with aiohttp.ClientSession() as http:
        async with http.ws_connect(f"{server.ws}/ws/v1/halls/t?ticket={t['id']}") as ws:
            assert json.loads((await ws.receive(timeout=3)).data)["ticket"]["print_status"] == "unprinted"
            clock.advance(3)  # the job's deadline passes on the hall's clock: no agent
            msg = json.loads((await ws.receive(timeout=5)).data)
            assert msg["type"] == "ticket" and msg["ticket"]["print_status"] == "failed"
    await asyncio.sleep(0)


async def test_a_call_for_staff_keeps_its_time_is_answered_once_and_lapses_after_half_an_hour(client, login, clock):
    """One server process: its memory holds the call (several workers: tests/system/test_help_calls.py)."""
    boss = await login("boss")

    async def board() -> dict[str, str | None]:
        r = await client.get("/api/v1/halls/t/kiosks", headers=boss)
        assert r.status == 200
        return {k["id"]: k["help_at"] for k in (await r.json())["kiosks"]}

    r = await client.post("/api/v1/halls/t/kiosks/k1/help", json={})
    assert r.status == 202
    called = (await r.json())["help_at"]
    assert called is not None and (await board())["k1"] == called
    clock.advance(60)
    r = await client.post("/api/v1/halls/t/kiosks/k1/help", json={})  # pressed again: still the first call
    assert (await r.json())["help_at"] == called
    assert (await client.delete("/api/v1/halls/t/kiosks/k1/help")).status == 401
    r = await client.delete("/api/v1/halls/t/kiosks/k1/help", headers=boss)
    assert r.status == 200 and (await r.json())["help_at"] is None
    assert (await board())["k1"] is None

    ws = await client.ws_connect(f"/ws/v1/halls/t/printers?token={boss['Authorization'].split()[1]}")
    await ws.receive(timeout=3)
    await client.post("/api/v1/halls/t/kiosks/k2/help", json={})
    clock.advance(29 * 60)
    assert (await board())["k2"] is not None
    clock.advance(61)  # nobody answered it on the board in half an hour: the citizen was helped or left
    assert (await board())["k2"] is None
    while True:  # the open board hears it lapse too
        view = json.loads((await ws.receive(timeout=3)).data)
        if next(k for k in view["kiosks"] if k["id"] == "k2")["help_at"] is None:
            break
    await ws.close()
    assert (await (await client.get("/api/v1/halls/t/kiosks/k2")).json())["help_at"] is None
    r = await client.post("/api/v1/halls/t/kiosks/k2/help", json={})  # a new call, with its own time
    assert datetime.fromisoformat((await r.json())["help_at"]) == clock.now()
