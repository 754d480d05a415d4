"""Accounts: hashed passwords, bearer tokens, logout, roles and halls."""

from __future__ import annotations

import logging

from server.api.context import CTX
from server.auth import passwords


async def test_login_answers_role_and_windows_and_logout_ends_the_token(client, login):
    r = await client.post("/api/v1/auth/login", json={"username": "w1a", "password": "demo"})
    body = await r.json()
    assert (body["role"], body["windows"], body["post"], body["hall"]) == ("clerk", ["w1"], "A", "t")
    h = {"Authorization": f"Bearer {body['token']}"}
    assert (await client.post("/api/v1/halls/t/windows/w1/open", headers=h)).status == 200
    assert (await client.post("/api/v1/auth/logout", headers=h)).status == 204
    r = await client.post("/api/v1/halls/t/windows/w1/close", headers=h)
    assert r.status == 401


async def test_admin_and_manager_act_on_any_window_clerks_only_on_theirs(client, login):
    for who in ("admin", "boss"):
        h = await login(who)
        assert (await client.post("/api/v1/halls/t/windows/w2/open", headers=h)).status == 200
        assert (await client.post("/api/v1/halls/t/windows/w2/close", headers=h)).status == 200
    assert (await client.post("/api/v1/halls/t/windows/w2/open", headers=await login("w1a"))).status == 403
    users = await (await client.get("/api/v1/halls/t/users", headers=await login("boss"))).json()
    assert {"username": "w1b", "name": "李一", "staff_no": "S12", "role": "clerk", "windows": ["w1"], "post": "B", "department": None} in users


async def test_set_passwords_are_argon2_hashes_and_never_logged(client, login, caplog):
    caplog.set_level(logging.DEBUG)
    accounts = client.app[CTX].accounts
    await accounts.set_password("w1a", "s3cret-Pa55", by="test")
    async with accounts.engine.connect() as conn:
        (stored,) = (await conn.execute(passwords.select().where(passwords.c.username == "w1a"))).all()
    assert stored.hash.startswith("$argon2id$") and "s3cret-Pa55" not in stored.hash
    r = await client.post("/api/v1/auth/login", json={"username": "w1a", "password": "demo"})
    assert r.status == 401  # the demo password no longer opens this account
    await login("w1a", "s3cret-Pa55")
    assert "s3cret-Pa55" not in caplog.text
