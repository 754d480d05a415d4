"""Managers keep the staff accounts: add, re-assign, disable, reset passwords; access follows at once."""

from __future__ import annotations

from server.api import Settings, create_app


async def expect(resp, status: int, code: str | None = None):  # type: ignore[no-untyped-def]
    assert resp.status == status, await resp.text()
    if code is not None:
        assert (await resp.json())["type"] == f"urn:hallq:problem:{code}"
    return await resp.json() if resp.content_type.endswith("json") else None


NEW = {"username": "w2b", "name": "新人", "staff_no": "S22", "role": "clerk", "windows": ["w2"], "post": "B"}


async def test_a_manager_adds_a_clerk_who_then_serves_at_their_window(client, login):
    boss = await login("boss")
    made = await expect(await client.post("/api/v1/halls/t/staff", json=NEW, headers=boss), 201)
    assert (made["username"], made["windows"], made["post"], made["changed"]) == ("w2b", ["w2"], "B", True)
    assert len(made["password"]) >= 12  # generated, answered once
    w2b = await login("w2b", made["password"])
    await expect(await client.post("/api/v1/halls/t/windows/w2/open", headers=w2b), 200)
    await expect(await client.post("/api/v1/halls/t/windows/w1/open", headers=w2b), 403, "not-your-window")
    window = await expect(await client.get("/api/v1/halls/t/windows/w2"), 200)
    assert window["clerk"] == {"name": "新人", "staff_no": "S22", "post": "B"}  # the live set reaches the screens
    users = await expect(await client.get("/api/v1/halls/t/users", headers=boss), 200)
    assert "w2b" in [u["username"] for u in users]
    changes = await expect(await client.get("/api/v1/halls/t/staff/changes", headers=boss), 200)
    assert (changes[0]["username"], changes[0]["action"], changes[0]["by"]) == ("w2b", "added", "boss")
    assert changes[0]["at"].startswith("2026-11-25T09:00:00+08:00")


async def test_the_hall_rules_for_accounts_hold_for_changes_too(client, login):
    boss = await login("boss")
    taken = {**NEW, "post": "A"}  # w2 has an A post already (w2a)
    await expect(await client.post("/api/v1/halls/t/staff", json=taken, headers=boss), 422, "staff-invalid")
    await expect(await client.post("/api/v1/halls/t/staff", json={**NEW, "windows": ["w9"]}, headers=boss), 422, "staff-invalid")
    await expect(await client.post("/api/v1/halls/t/staff", json={**NEW, "username": "w1a"}, headers=boss), 409, "username-taken")
    await expect(await client.post("/api/v1/halls/t/staff", json={**NEW, "password": "short"}, headers=boss), 422, "weak-password")
    await expect(await client.patch("/api/v1/halls/t/staff/w1b", json={"post": "A"}, headers=boss), 422, "staff-invalid")


async def test_re_assigning_a_clerk_moves_their_rights_and_the_handover_with_them(client, login):
    boss = await login("boss")
    await expect(await client.post("/api/v1/halls/t/staff", json={**NEW, "password": "new-clerk-1"}, headers=boss), 201)
    w2b = await login("w2b", "new-clerk-1")
    await expect(await client.post("/api/v1/halls/t/windows/w2/open", headers=w2b), 200)
    await expect(await client.post("/api/v1/halls/t/windows/w2/close", headers=w2b), 200)
    moved = await expect(await client.patch("/api/v1/halls/t/staff/w2b", json={"windows": ["w3"]}, headers=boss), 200)
    assert moved["windows"] == ["w3"]
    # the same session: rights follow the live account
    await expect(await client.post("/api/v1/halls/t/windows/w2/open", headers=w2b), 403, "not-your-window")
    w3a = await login("w3a")
    await expect(await client.post("/api/v1/halls/t/windows/w3/open", headers=w3a), 200)
    window = await expect(await client.post("/api/v1/halls/t/windows/w3/handover", headers=w3a), 200)
    assert window["clerk"]["name"] == "新人"  # AB岗: the B post is now the re-assigned clerk
    changes = await expect(await client.get("/api/v1/halls/t/staff/changes", headers=boss), 200)
    assert changes[0]["action"] == "changed" and changes[0]["detail"] == {"windows": [["w2"], ["w3"]]}


async def test_a_disabled_account_loses_its_sessions_and_cannot_log_in(client, login):
    boss = await login("boss")
    w1b = await login("w1b")
    out = await expect(await client.patch("/api/v1/halls/t/staff/w1b", json={"disabled": True}, headers=boss), 200)
    assert out["disabled"] is True
    await expect(await client.get("/api/v1/auth/session", headers=w1b), 401)
    await expect(await client.post("/api/v1/auth/login", json={"username": "w1b", "password": "demo"}), 401, "bad-credentials")
    w1a = await login("w1a")
    await expect(await client.post("/api/v1/halls/t/windows/w1/open", headers=w1a), 200)
    await expect(await client.post("/api/v1/halls/t/windows/w1/handover", headers=w1a), 409, "no-other-post")
    listed = await expect(await client.get("/api/v1/halls/t/staff", headers=boss), 200)
    assert next(a for a in listed if a["username"] == "w1b")["disabled"] is True
    await expect(await client.patch("/api/v1/halls/t/staff/w1b", json={"disabled": False}, headers=boss), 200)
    await login("w1b")
    actions = [c["action"] for c in await expect(await client.get("/api/v1/halls/t/staff/changes", headers=boss), 200)]
    assert actions[:2] == ["enabled", "disabled"]


async def test_a_password_reset_ends_sessions_and_lifts_a_lock_out(client, login):
    boss = await login("boss")
    old = await login("w1a")
    for _ in range(5):
        await client.post("/api/v1/auth/login", json={"username": "w1a", "password": "nope"})
    listed = await expect(await client.get("/api/v1/halls/t/staff", headers=boss), 200)
    assert next(a for a in listed if a["username"] == "w1a")["locked_until"] is not None
    reset = await expect(await client.post("/api/v1/halls/t/staff/w1a/password", headers=boss), 200)
    await expect(await client.get("/api/v1/auth/session", headers=old), 401)
    await expect(await client.post("/api/v1/auth/login", json={"username": "w1a", "password": "demo"}), 401)
    await login("w1a", reset["password"])


async def test_who_may_manage_whom(client, login):
    boss, clerk, admin = await login("boss"), await login("w1a"), await login("admin")
    await expect(await client.get("/api/v1/halls/t/staff", headers=clerk), 403, "role")
    await expect(await client.post("/api/v1/halls/t/staff", headers=clerk, json=NEW), 403, "role")
    await expect(await client.post("/api/v1/halls/t/staff", headers=boss, json={**NEW, "role": "manager", "windows": [], "post": None}),
                 403, "staff-role")
    await expect(await client.patch("/api/v1/halls/t/staff/w1a", headers=boss, json={"role": "admin"}), 403, "staff-role")
    await expect(await client.patch("/api/v1/halls/t/staff/admin", headers=boss, json={"name": "x"}), 403, "staff-role")
    await expect(await client.post("/api/v1/halls/t/staff/admin/password", headers=boss), 403, "staff-role")
    await expect(await client.patch("/api/v1/halls/t/staff/boss", headers=admin, json={"disabled": True}), 200)
    await expect(await client.patch("/api/v1/halls/t/staff/admin", headers=admin, json={"disabled": True}), 409, "disable-self")
    await expect(await client.patch("/api/v1/halls/t/staff/nobody", headers=admin, json={"name": "x"}), 404, "unknown-user")


async def test_staff_changes_outlive_a_restart(aiohttp_client, settings: Settings, login, client):
    boss = await login("boss")
    await expect(await client.post("/api/v1/halls/t/staff", json={**NEW, "password": "new-clerk-1"}, headers=boss), 201)
    await expect(await client.patch("/api/v1/halls/t/staff/w1b", json={"disabled": True}, headers=boss), 200)
    await client.close()
    again = await aiohttp_client(create_app(settings))
    r = await again.post("/api/v1/auth/login", json={"username": "w2b", "password": "new-clerk-1"})
    h = {"Authorization": f"Bearer {(await r.json())['token']}"}
    await expect(await again.post("/api/v1/halls/t/windows/w2/open", headers=h), 200)
    await expect(await again.post("/api/v1/auth/login", json={"username": "w1b", "password": "demo"}), 401)
    r = await again.post("/api/v1/auth/login", json={"username": "boss", "password": "demo"})
    h = {"Authorization": f"Bearer {(await r.json())['token']}"}
    changes = await expect(await again.get("/api/v1/halls/t/staff/changes", headers=h), 200)
    assert [c["action"] for c in changes] == ["disabled", "added"]
