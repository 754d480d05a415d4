"""Authority below a hall and at the counter, through the real app (security finding 4): the
managers of a hall above read below it and act only where the lower hall says so; clerks work
with ticket numbers and never see the ids that are citizens' secrets; only a ticket's holder or
the window's evaluator rates, and a manager, never the clerk it rates, pairs the evaluator."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
from pathlib import Path

import pytest

from server.api import Settings, create_app
from server.config import default_config_dir
from tests.halls import FakeClock

DEMO = default_config_dir()
TOWN = "/api/v1/halls/demo-town"


async def refused(resp, code: str) -> dict:  # type: ignore[no-untyped-def]
    assert resp.status == 403, await resp.text()
    assert resp.content_type == "application/problem+json"
    problem = await resp.json()
    assert problem["type"] == f"urn:hallq:problem:{code}"
    return problem


def demo_app(aiohttp_client, tmp_path: Path, config: Path = DEMO):  # type: ignore[no-untyped-def]
    settings = Settings(config_dir=config, data_dir=tmp_path / "data", clock=FakeClock(), issue_rate_per_s=0, always_open=True)
    return aiohttp_client(create_app(settings))


async def log_in(client, username: str, password: str = "demo") -> dict[str, str]:  # type: ignore[no-untyped-def]
    r = await client.post("/api/v1/auth/login", json={"username": username, "password": password})
    assert r.status == 200, await r.text()
    return {"Authorization": f"Bearer {(await r.json())['token']}"}


async def catalogue(client, h) -> dict:  # type: ignore[no-untyped-def]
    r = await client.get(f"{TOWN}/admin/catalog", headers=h)
    assert r.status == 200, await r.text()
    return await r.json()


async def test_a_county_manager_reads_a_township_but_may_not_act_in_it(aiohttp_client, tmp_path):
    client = await demo_app(aiohttp_client, tmp_path)
    county, city, town = [await log_in(client, u) for u in ("county-manager", "manager", "town-manager")]
    r = await client.post(f"{TOWN}/tickets", json={"item": "hrss_card"})
    assert r.status == 201

    # Reading below: the figures, the region, the board, the audit journal.
    for path in ("/stats", "/region", "/supervision", "/events"):
        for above in (county, city):
            assert (await client.get(TOWN + path, headers=above)).status == 200, path
    doc = await catalogue(client, county)

    # Acting below: refused, and nothing changes.
    await refused(await client.post(f"{TOWN}/staff/t01a/password", json={"password": "taken-over-by-county"}, headers=county),
                  "read-only-below")
    await refused(await client.post(f"{TOWN}/staff/t01a/password", json={}, headers=city), "read-only-below")
    await refused(await client.patch(f"{TOWN}/staff/t01a", json={"disabled": True}, headers=county), "read-only-below")
    change = {"base_rev": doc["rev"], "hall": {**doc["document"]["hall"], "notice": "县里改的通知"}}
    await refused(await client.post(f"{TOWN}/admin/catalog", json=change, headers=county), "read-only-below")
    for action in ("open", "call-next"):
        await refused(await client.post(f"{TOWN}/windows/t01/{action}", headers=county), "read-only-below")
    await refused(await client.get(f"{TOWN}/windows/t01/queue", headers=county), "read-only-below")
    await refused(await client.post(f"{TOWN}/windows/t01/evaluator-session", headers=county), "read-only-below")
    await refused(await client.post(f"{TOWN}/tickets", json={"item": "hrss_card", "channel": "staff"}, headers=county),
                  "read-only-below")
    assert (await log_in(client, "t01a"))  # the clerk's password is still theirs
    assert (await catalogue(client, town))["rev"] == doc["rev"]
    windows = await (await client.get(f"{TOWN}/windows")).json()
    assert {w["id"]: w["state"] for w in windows} == {"t01": "closed", "t02": "closed"}

    # The township's own manager does all of it; a township manager reads nothing above.
    assert (await client.post(f"{TOWN}/windows/t01/open", headers=town)).status == 200
    assert (await client.post(f"{TOWN}/staff/t01a/password", json={"password": "a-fresh-township-pass"}, headers=town)).status == 200
    await refused(await client.get("/api/v1/halls/demo-county/stats", headers=town), "other-hall")


async def test_a_township_may_let_the_halls_above_run_its_windows_and_nothing_more(aiohttp_client, tmp_path):
    config = tmp_path / "config"
    shutil.copytree(DEMO, config)
    hall_yaml = config / "demo-town" / "hall.yaml"
    hall_yaml.write_text(hall_yaml.read_text(encoding="utf-8") + "managers_above: [operate]\n", encoding="utf-8")
    client = await demo_app(aiohttp_client, tmp_path, config)
    county = await log_in(client, "county-manager")
    assert (await client.post(f"{TOWN}/windows/t01/open", headers=county)).status == 200
    await refused(await client.post(f"{TOWN}/staff/t01a/password", json={}, headers=county), "read-only-below")
    await refused(await client.post(f"{TOWN}/windows/t01/evaluator-session", headers=county), "read-only-below")


def ticket_ids_in(text: str, ids: list[str]) -> list[str]:
    return [i for i in ids if re.search(re.escape(i), text)]


async def test_a_clerk_works_with_numbers_and_never_sees_a_citizens_ticket_id(client, login):
    h = await login("w3a")
    staff_ws = await client.ws_connect("/ws/v1/halls/t?token=" + h["Authorization"].split()[1])
    messages = [await staff_ws.receive_json()]
    tickets = [await (await client.post("/api/v1/halls/t/tickets", json={"item": item})).json() for item in ("a2", "b1", "c1", "b1")]
    ids = [t["id"] for t in tickets]
    answers = [await (await client.post("/api/v1/halls/t/windows/w3/open", headers=h)).json()]
    queue = await (await client.get("/api/v1/halls/t/windows/w3/queue", headers=h)).json()
    answers.append(queue)
    called = await (await client.post("/api/v1/halls/t/windows/w3/call-next", headers=h)).json()
    assert called["state"] == "called" and called["ticket"]["number"] == queue["queue"][0]["number"]
    answers.append(called)
    for action, body in (("start", {}), ("suspend", {"kind": "fetching_materials"})):
        answers.append(await (await client.post(f"/api/v1/halls/t/windows/w3/{action}", json=body, headers=h)).json())
    answers.append(await (await client.get("/api/v1/halls/t/windows/w3/queue", headers=h)).json())
    answers.append(await (await client.post("/api/v1/halls/t/windows/w3/call-next", headers=h)).json())
    answers.append(await (await client.get("/api/v1/auth/session", headers=h)).json())
    seq = (await (await client.get("/api/v1/halls/t/events", headers=await login("boss"))).json())["events"][-1]["seq"]
    while messages[-1].get("seq") != seq:
        messages.append(await asyncio.wait_for(staff_ws.receive_json(), 5))
    late = await client.ws_connect("/ws/v1/halls/t?token=" + h["Authorization"].split()[1])
    messages.append(await late.receive_json())  # a staff snapshot, with a ticket at the window
    await staff_ws.close()
    await late.close()
    assert any(m.get("event", {}).get("type") == "ticket_called" for m in messages)
    assert any(w["ticket"] for m in messages if m["type"] == "snapshot" for w in m["state"]["windows"])
    text = json.dumps(answers) + json.dumps(messages)
    assert ticket_ids_in(text, ids) == []
    assert all(t["number"] in text for t in tickets)


async def test_a_clerk_may_neither_rate_nor_cancel_a_citizens_ticket(client, login):
    h = await login("w1a")
    boss = await login("boss")
    served = await (await client.post("/api/v1/halls/t/tickets", json={"item": "a1"})).json()
    other = await (await client.post("/api/v1/halls/t/tickets", json={"item": "b1"})).json()  # another department's
    for action, body in (("open", {}), ("call-next", {}), ("start", {}), ("finish", {"case_type": "immediate"})):
        assert (await client.post(f"/api/v1/halls/t/windows/w1/{action}", json=body, headers=h)).status == 200
    before = (await (await client.get("/api/v1/halls/t/events", headers=boss)).json())["events"]
    for who in (h, boss):
        await refused(await client.post(f"/api/v1/halls/t/tickets/{served['id']}/evaluation", json={"score": 5}, headers=who),
                      "holder-only")
        for t in (served, other):
            await refused(await client.post(f"/api/v1/halls/t/tickets/{t['id']}/cancel", headers=who), "holder-only")
    assert (await (await client.get("/api/v1/halls/t/events", headers=boss)).json())["events"] == before
    # The holders themselves still do.
    assert (await client.post(f"/api/v1/halls/t/tickets/{served['id']}/evaluation", json={"score": 5})).status == 201
    assert (await client.post(f"/api/v1/halls/t/tickets/{other['id']}/cancel")).status == 200


async def test_the_clerk_it_rates_may_not_pair_the_windows_evaluator(client, login):
    r = await client.post("/api/v1/halls/t/windows/w1/evaluator-session", headers=await login("w1a"))
    problem = await refused(r, "role")
    assert "manager" in problem["detail"]
    r = await client.post("/api/v1/halls/t/windows/w1/evaluator-session", headers=await login("boss"))
    assert r.status == 201 and (await r.json())["window"] == "w1"


@pytest.mark.parametrize("ref", ["number", "id"])
async def test_call_takes_the_number_the_terminal_sends_or_an_id(client, login, ref):
    h = await login("w1a")
    await client.post("/api/v1/halls/t/tickets", json={"item": "a1"})
    chosen = await (await client.post("/api/v1/halls/t/tickets", json={"item": "a1"})).json()
    await client.post("/api/v1/halls/t/windows/w1/open", headers=h)
    r = await client.post("/api/v1/halls/t/windows/w1/call", json={"ticket": "A999"}, headers=h)
    assert r.status == 404 and (await r.json())["type"] == "urn:hallq:problem:unknown-ticket"
    r = await client.post("/api/v1/halls/t/windows/w1/call", json={"ticket": chosen[ref]}, headers=h)
    assert r.status == 200, await r.text()
    assert (await r.json())["ticket"]["number"] == chosen["number"] == "A002"
