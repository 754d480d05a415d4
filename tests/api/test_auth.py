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


async def test_a_chief_acts_on_the_windows_of_their_department_only(aiohttp_client, tmp_path, clock):
    from server.api import Settings, create_app
    from tests.halls import small_config, write_config

    config = small_config()
    data = config.model_dump(mode="json")
    data["users"].append({"username": "chief-a", "name": "甲首席", "role": "chief", "department": "a"})
    folder = tmp_path / "cfg"
    write_config(folder, type(config).model_validate(data))
    client = await aiohttp_client(create_app(Settings(config_dir=folder, data_dir=tmp_path / "d", clock=clock)))
    r = await client.post("/api/v1/auth/login", json={"username": "chief-a", "password": "demo"})
    h = {"Authorization": f"Bearer {(await r.json())['token']}"}
    assert (await client.post("/api/v1/halls/t/windows/w1/open", headers=h)).status == 200  # a's items
    assert (await client.post("/api/v1/halls/t/windows/w3/open", headers=h)).status == 200  # serves a2 too
    assert (await client.post("/api/v1/halls/t/windows/w2/open", headers=h)).status == 403  # b's window


def test_hallq_user_passwd_sets_a_password_from_standard_input(config_dir, tmp_path):
    import asyncio
    import subprocess
    import sys

    from server.auth import Accounts
    from server.config import load_halls
    from server.journal import database_url, make_engine

    data = tmp_path / "data"
    cmd = [sys.executable, "-m", "server.cli", "user", "passwd", "w2a", "--config", str(config_dir), "--data", str(data)]
    short = subprocess.run(cmd, input="short\n", capture_output=True, text=True)
    assert short.returncode == 1 and "at least 8" in short.stderr
    done = subprocess.run(cmd, input="window-2-secret\n", capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    unknown = subprocess.run(cmd[:5] + ["nobody"] + cmd[6:], input="window-2-secret\n", capture_output=True, text=True)
    assert unknown.returncode == 1 and "no account" in unknown.stderr

    async def check() -> tuple[object, object]:
        engine = make_engine(database_url(data, None))
        accounts = Accounts(engine, load_halls(config_dir))
        await accounts.create()
        try:
            return await accounts.verify("w2a", "window-2-secret"), await accounts.verify("w2a", "demo")
        finally:
            await engine.dispose()

    good, old = asyncio.run(check())
    assert good is not None and good.user.username == "w2a"
    assert old is None
