"""Registered devices in a hall that requires them: register → approve → the token works →
revoke → refused, over the real app and its SQLite database; bad input stores nothing."""

from __future__ import annotations

import json
import re
from pathlib import Path

import aiohttp
import pytest
import yaml
from sqlalchemy import select

from server.api.context import CTX
from server.auth.devices import devices as devices_table
from tests.halls import small_config, write_config
from tests.surfaces.kiosk.conftest import kiosks
from tests.proof import proof


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "config"
    write_config(folder, small_config(devices={"required": True}))
    (folder / "t" / "kiosks.yaml").write_text(yaml.safe_dump(kiosks({"k1": 9, "k2": 9}), allow_unicode=True), encoding="utf-8")
    return folder


async def register(client, kind: str = "kiosk", place: str = "k3") -> dict:  # type: ignore[no-untyped-def]
    r = await client.post("/api/v1/halls/t/devices", json={"kind": kind, "place": place})
    assert r.status == 201, await r.text()
    return await r.json()


async def approved(client, login, kind: str = "kiosk", place: str = "k3", name: str = "设备") -> tuple[dict, str]:  # type: ignore[no-untyped-def]
    reg = await register(client, kind, place)
    key = "kiosk" if kind in ("kiosk", "print_agent") else "window" if kind in ("window_screen", "evaluator") else None
    body = {"code": reg["code"], "name": name, **({key: place} if key else {})}
    r = await client.post(f"/api/v1/halls/t/devices/{reg['id']}/approve", json=body, headers=await login("boss"))
    assert r.status == 200, await r.text()
    r = await client.post(f"/api/v1/halls/t/devices/{reg['id']}/claim", json={"claim": reg["claim"]})
    got = await r.json()
    assert r.status == 200 and got["status"] == "approved", got
    return reg, got["token"]


async def rows(client) -> list[tuple]:  # type: ignore[no-untyped-def]
    async with client.app[CTX].devices.engine.connect() as conn:
        return [tuple(r) for r in (await conn.execute(select(devices_table).order_by(devices_table.c.id))).all()]


async def issued(client, login) -> list[dict]:  # type: ignore[no-untyped-def]
    events = (await (await client.get("/api/v1/halls/t/events", headers=await login("boss"))).json())["events"]
    return [e for e in events if e["type"] == "ticket_issued"]


async def test_a_kiosk_registers_is_approved_takes_its_token_once_issues_and_is_refused_once_revoked(client, login):
    r = await client.post("/api/v1/halls/t/kiosks/k3/tickets", json={"item": "a1"})
    assert r.status == 401 and (await r.json())["type"] == "urn:hallq:problem:device-required"
    assert r.content_type == "application/problem+json"

    reg = await register(client)
    assert len(reg["code"]) == 6 and reg["code"].isdigit() and reg["status"] == "pending"
    r = await client.post(f"/api/v1/halls/t/devices/{reg['id']}/claim", json={"claim": reg["claim"]})
    assert (await r.json()) == {"status": "pending", "code": reg["code"]}
    boss = await login("boss")
    (pending,) = await (await client.get("/api/v1/halls/t/devices", headers=boss)).json()
    assert (pending["id"], pending["code"], pending["status"], pending["place"]) == (reg["id"], reg["code"], "pending", "k3")

    r = await client.post(f"/api/v1/halls/t/devices/{reg['id']}/approve", headers=boss,
                          json={"code": reg["code"], "name": "咨询台 平板", "kiosk": "k3"})
    assert r.status == 200, await r.text()
    d = await r.json()
    assert (d["status"], d["name"], d["kiosk"], d["approved_by"], d["token_claimed"]) == ("approved", "咨询台 平板", "k3", "boss", False)
    assert d["approved_at"].startswith("2026-11-25T09:00")

    r = await client.post(f"/api/v1/halls/t/devices/{reg['id']}/claim", json={"claim": reg["claim"]})
    token = (await r.json())["token"]
    assert len(token) >= 40
    r = await client.post(f"/api/v1/halls/t/devices/{reg['id']}/claim", json={"claim": reg["claim"]})
    assert r.status == 409 and (await r.json())["type"].endswith("token-taken")  # handed out once only
    stored = await rows(client)
    assert token not in repr(stored) and reg["claim"] not in repr(stored)  # only digests are kept

    h = {"X-Device-Token": token}
    r = await client.post("/api/v1/halls/t/kiosks/k3/tickets", json={"item": "a1"}, headers=h)
    assert r.status == 201, await r.text()
    r = await client.post("/api/v1/halls/t/kiosks/k1/tickets", json={"item": "a1"}, headers=h)
    assert r.status == 403 and (await r.json())["type"].endswith("device-elsewhere")
    r = await client.post("/api/v1/halls/t/tickets", json={"item": "a1"}, headers=h)  # the generic route, channel kiosk
    assert r.status == 201 and (await r.json())["channel"] == "kiosk"
    assert [e["by"] for e in await issued(client, login)] == ["kiosk:k3", "kiosk:k3"]
    me = await (await client.get("/api/v1/halls/t/devices/self", headers=h)).json()
    assert (me["kind"], me["kiosk"], me["name"]) == ("kiosk", "k3", "咨询台 平板")

    ws = await client.ws_connect(f"/ws/v1/halls/t?device={token}")
    assert (await ws.receive_json(timeout=5))["type"] == "snapshot"
    r = await client.post(f"/api/v1/halls/t/devices/{reg['id']}/revoke", json={}, headers=boss)
    assert r.status == 200 and (await r.json())["revoked_by"] == "boss"
    msg = await ws.receive(timeout=5)
    assert msg.type is aiohttp.WSMsgType.CLOSE and msg.data == 4401  # the open screen is closed at once

    r = await client.post("/api/v1/halls/t/kiosks/k3/tickets", json={"item": "a1"}, headers=h)
    assert r.status == 401 and (await r.json())["type"].endswith("device-unknown")
    assert (await client.get("/api/v1/halls/t/devices/self", headers=h)).status == 401
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await client.ws_connect(f"/ws/v1/halls/t?device={token}")
    assert refused.value.status == 401
    assert len(await issued(client, login)) == 2
    (gone,) = await (await client.get("/api/v1/halls/t/devices", headers=boss)).json()
    assert gone["status"] == "revoked" and gone["revoked_at"] is not None


async def test_bad_approvals_and_revocations_are_problems_and_store_nothing(client, login):
    reg = await register(client)
    boss, clerk = await login("boss"), await login("w1a")
    before = await rows(client)
    url = f"/api/v1/halls/t/devices/{reg['id']}/approve"
    good = {"code": reg["code"], "name": "k3", "kiosk": "k3"}
    wrong = str((int(reg["code"]) + 1) % 10**6).zfill(6)
    cases = [
        ("/api/v1/halls/t/devices/nope/approve", good, boss, 404, "unknown-device"),
        (url, {**good, "code": wrong}, boss, 409, "wrong-code"),
        (url, {**good, "code": "12ab56"}, boss, 422, "invalid-body"),
        (url, {**good, "kiosk": "k9"}, boss, 422, "unknown-kiosk"),
        (url, {**good, "name": ""}, boss, 422, "invalid-body"),
        (url, good, clerk, 403, "role"),
        (url, good, {}, 401, "unauthorized"),
        ("/api/v1/halls/t/devices/nope/revoke", {}, boss, 404, "unknown-device"),
        (f"/api/v1/halls/t/devices/{reg['id']}/revoke", {}, clerk, 403, "role"),
        ("/api/v1/halls/t/devices/nope/claim", {"claim": reg["claim"]}, {}, 404, "unknown-device"),
        (f"/api/v1/halls/t/devices/{reg['id']}/claim", {"claim": "x" * 20}, {}, 404, "unknown-device"),
        ("/api/v1/halls/t/devices", {"kind": "toaster"}, {}, 422, "invalid-body"),
        ("/api/v1/halls/t/devices", {"kind": "evaluator", "place": "w9"}, {}, 422, "unknown-window"),
        ("/api/v1/halls/nowhere/devices", {"kind": "kiosk"}, {}, 404, "unknown-hall"),
    ]
    for path, body, headers, status, code in cases:
        r = await client.post(path, json=body, headers=headers)
        assert (r.status, (await r.json())["type"]) == (status, f"urn:hallq:problem:{code}"), (path, body)
        assert r.content_type == "application/problem+json"
        assert await rows(client) == before, (path, body)

    r = await client.post(url, json=good, headers=boss)
    assert r.status == 200
    after = await rows(client)
    r = await client.post(url, json=good, headers=boss)  # approving twice
    assert r.status == 409 and (await r.json())["type"].endswith("device-approved")
    assert await rows(client) == after
    await client.post(f"/api/v1/halls/t/devices/{reg['id']}/revoke", json={}, headers=boss)
    revoked = await rows(client)
    r = await client.post(f"/api/v1/halls/t/devices/{reg['id']}/revoke", json={}, headers=boss)
    assert r.status == 409 and await rows(client) == revoked
    r = await client.post(f"/api/v1/halls/t/devices/{reg['id']}/claim", json={"claim": reg["claim"]})
    assert r.status == 409 and (await r.json())["type"].endswith("device-revoked")


async def test_registrations_are_rate_limited_per_address(client):
    for _ in range(10):
        await register(client, "lobby_screen", "")
    r = await client.post("/api/v1/halls/t/devices", json={"kind": "lobby_screen"})
    assert r.status == 429 and int(r.headers["Retry-After"]) >= 1
    assert "registrations" in (await r.json())["detail"]
    assert len(await rows(client)) == 10


async def test_screens_need_a_device_of_their_window_while_staff_and_phones_stay_as_they_were(client, login):
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await client.ws_connect("/ws/v1/halls/t")
    assert refused.value.status == 401
    _, lobby = await approved(client, login, "lobby_screen", "")
    ws = await client.ws_connect(f"/ws/v1/halls/t?device={lobby}")
    assert (await ws.receive_json(timeout=5))["type"] == "snapshot"
    await ws.close()
    _, screen = await approved(client, login, "window_screen", "w1")
    ws = await client.ws_connect(f"/ws/v1/halls/t?window=w1&device={screen}")
    assert (await ws.receive_json(timeout=5))["type"] == "snapshot"
    await ws.close()
    with pytest.raises(aiohttp.WSServerHandshakeError) as elsewhere:
        await client.ws_connect(f"/ws/v1/halls/t?window=w2&device={screen}")
    assert elsewhere.value.status == 403
    _, agent = await approved(client, login, "print_agent", "k1")
    with pytest.raises(aiohttp.WSServerHandshakeError) as kind:
        await client.ws_connect(f"/ws/v1/halls/t?device={agent}")
    assert kind.value.status == 403

    boss = await login("boss")
    ws = await client.ws_connect(f"/ws/v1/halls/t?token={boss['Authorization'][7:]}")  # staff as before
    assert (await ws.receive_json(timeout=5))["type"] == "snapshot"
    await ws.close()
    # The online channel and the phone's own ticket are no devices.
    r = await client.post("/api/v1/halls/t/tickets", json={"item": "a1", "channel": "online", "proof": await proof(client)})
    assert r.status == 201
    t = await r.json()
    ws = await client.ws_connect(f"/ws/v1/halls/t?ticket={t['id']}")
    assert (await ws.receive_json(timeout=5))["type"] == "ticket"
    await ws.close()
    assert (await client.get(f"/t/{t['id']}")).status == 200


async def test_only_the_windows_evaluator_device_rates_in_a_hall_that_requires_devices(client, login):
    clerk = await login("w1a")
    t = await (await client.post("/api/v1/halls/t/tickets", json={"item": "a1", "channel": "online", "proof": await proof(client)})).json()
    for action, body in (("open", {}), ("call-next", {}), ("start", {}), ("finish", {"case_type": "immediate"})):
        r = await client.post(f"/api/v1/halls/t/windows/w1/{action}", json=body, headers=clerk)
        assert r.status == 200, await r.text()
    rating = {"number": t["number"], "score": 5}
    r = await client.post("/api/v1/halls/t/windows/w1/evaluation", json=rating, headers=clerk)
    assert r.status == 401 and (await r.json())["type"].endswith("device-required")
    _, other = await approved(client, login, "evaluator", "w2")
    r = await client.post("/api/v1/halls/t/windows/w1/evaluation", json=rating, headers={"X-Device-Token": other})
    assert r.status == 403 and (await r.json())["type"].endswith("device-elsewhere")
    _, mine = await approved(client, login, "evaluator", "w1")
    state = await (await client.get("/api/v1/halls/t/windows/w1/evaluation", headers={"X-Device-Token": mine})).json()
    assert state["rateable"]["number"] == t["number"]
    r = await client.post("/api/v1/halls/t/windows/w1/evaluation", json=rating, headers={"X-Device-Token": mine})
    assert r.status == 201, await r.text()


async def test_device_pages_open_without_a_login_and_say_they_must_register(client):
    for path, kind, place in (("/kiosk/t/k1", "kiosk", "k1"), ("/display/t/lobby?screen=s1", "lobby_screen", "s1"),
                              ("/display/t/window/w2", "window_screen", "w2"), ("/terminal/t/evaluator/w1", "evaluator", "w1")):
        r = await client.get(path, allow_redirects=False)
        assert r.status == 200, path  # the evaluator needs no clerk's login when it is a device
        page = await r.text()
        config = json.loads(re.search(r'<script type="application/json" id="config">(.*?)</script>', page, re.S).group(1))
        assert {k: config["device"][k] for k in ("required", "kind", "place")} == {"required": True, "kind": kind, "place": place}


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
async def test_a_token_approved_on_one_worker_works_on_another_and_its_revocation_closes_sockets_there(
    aiohttp_client, settings, backend
):
    """Two whole apps on one database, as two workers: device state is in the database, not in memory."""
    from dataclasses import replace

    from server.api import create_app
    from tests.services import PostgresDatabase

    database = PostgresDatabase() if backend == "postgresql" else None
    if database is not None:
        settings = replace(settings, database_url=await database.create())
    try:
        one, other = await aiohttp_client(create_app(settings)), await aiohttp_client(create_app(settings))

        async def login(who: str) -> dict[str, str]:
            r = await one.post("/api/v1/auth/login", json={"username": who, "password": "demo"})
            return {"Authorization": f"Bearer {(await r.json())['token']}"}

        reg, token = await approved(one, login, "lobby_screen", "")
        r = await other.get("/api/v1/halls/t/devices/self", headers={"X-Device-Token": token})
        assert r.status == 200 and (await r.json())["id"] == reg["id"]
        ws = await other.ws_connect(f"/ws/v1/halls/t?device={token}")
        assert (await ws.receive_json(timeout=5))["type"] == "snapshot"
        r = await one.post(f"/api/v1/halls/t/devices/{reg['id']}/revoke", json={}, headers=await login("boss"))
        assert r.status == 200
        while True:  # ticks and nothing else, until the other worker's sweep closes it (within SWEEP_S)
            msg = await ws.receive(timeout=5)
            if msg.type is not aiohttp.WSMsgType.TEXT:
                break
        assert msg.type is aiohttp.WSMsgType.CLOSE and msg.data == 4401
        assert (await other.get("/api/v1/halls/t/devices/self", headers={"X-Device-Token": token})).status == 401
        await one.close()
        await other.close()
    finally:
        if database is not None:
            await database.drop()


async def test_a_registration_nobody_approves_expires_and_is_forgotten(client, login, clock):
    old = await register(client)
    clock.advance(24 * 3600 + 1)
    boss = await login("boss")
    r = await client.post(f"/api/v1/halls/t/devices/{old['id']}/approve", headers=boss,
                          json={"code": old["code"], "name": "k3", "kiosk": "k3"})
    assert r.status == 409 and (await r.json())["type"].endswith("registration-expired")
    r = await client.post(f"/api/v1/halls/t/devices/{old['id']}/claim", json={"claim": old["claim"]})
    assert r.status == 404  # the page registers again and shows a new code
    assert await (await client.get("/api/v1/halls/t/devices", headers=boss)).json() == []
    new = await register(client)
    assert [row[0] for row in await rows(client)] == [new["id"]]


async def test_device_answers_match_their_documented_schemas(client, login):
    from tests.surfaces.api.test_openapi import validator

    spec = await (await client.get("/api/v1/openapi.json")).json()
    base = "/api/v1/halls/{hall}/devices"
    assert spec["paths"][base + "/self"]["get"]["security"] == [{"device": []}]
    boss = await login("boss")
    r = await client.post("/api/v1/halls/t/devices", json={"kind": "evaluator", "place": "w1", "name": "1号窗口 评价器"})
    reg = await r.json()
    validator(spec, base, "post", 201)(reg)
    claim = f"/api/v1/halls/t/devices/{reg['id']}/claim"
    validator(spec, base + "/{device}/claim", "post", 200)(await (await client.post(claim, json={"claim": reg["claim"]})).json())
    validator(spec, base, "get", 200)(await (await client.get("/api/v1/halls/t/devices", headers=boss)).json())
    done = await client.post(f"/api/v1/halls/t/devices/{reg['id']}/approve", headers=boss,
                             json={"code": reg["code"], "name": "1号窗口 评价器", "window": "w1"})
    validator(spec, base + "/{device}/approve", "post", 200)(await done.json())
    got = await (await client.post(claim, json={"claim": reg["claim"]})).json()
    validator(spec, base + "/{device}/claim", "post", 200)(got)
    me = await client.get("/api/v1/halls/t/devices/self", headers={"X-Device-Token": got["token"]})
    validator(spec, base + "/self", "get", 200)(await me.json())
    gone = await client.post(f"/api/v1/halls/t/devices/{reg['id']}/revoke", json={}, headers=boss)
    validator(spec, base + "/{device}/revoke", "post", 200)(await gone.json())
    refused = await client.get("/api/v1/halls/t/devices/self", headers={"X-Device-Token": got["token"]})
    validator(spec, base + "/self", "get", 401)(await refused.json())
