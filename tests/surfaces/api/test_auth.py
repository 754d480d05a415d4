"""Accounts: hashed passwords, bearer tokens, logout, roles and halls."""

from __future__ import annotations

import asyncio
import json
import logging

import aiohttp
import pytest

from server.api.context import CTX
from server.auth import Accounts, passwords, sessions


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
    # A chosen password gets argon2's full cost (RFC 9106 low-memory: 64 MiB, 3 passes, 4 lanes);
    # only the public demo password is hashed cheaply.
    assert stored.hash.split("$")[3] == "m=65536,t=3,p=4"
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
    assert "window-2-secret" not in done.stdout + done.stderr
    unknown = subprocess.run(cmd[:5] + ["nobody"] + cmd[6:], input="window-2-secret\n", capture_output=True, text=True)
    assert unknown.returncode == 1 and "no account" in unknown.stderr

    async def check() -> tuple[object, object]:
        engine = make_engine(database_url(data, None))
        accounts = Accounts(engine, load_halls(config_dir))
        await accounts.create()
        try:
            changes = await accounts.changes("t")
            return await accounts.verify("w2a", "window-2-secret"), await accounts.verify("w2a", "demo"), changes
        finally:
            await engine.dispose()

    good, old, changes = asyncio.run(check())
    assert good is not None and good.user.username == "w2a"
    assert old is None
    assert [(c["username"], c["action"], c["by"]) for c in changes] == [("w2a", "password_set", "cli")]


# -- lock-out, cookies and CSRF, passwords in clear -------------------------------------------


async def expect(resp, status: int, code: str | None = None):  # type: ignore[no-untyped-def]
    assert resp.status == status, await resp.text()
    if code is not None:
        assert resp.content_type == "application/problem+json"
        assert (await resp.json())["type"] == f"urn:hallq:problem:{code}"
    return resp


async def test_a_clerk_cannot_act_on_another_clerks_window(client, login):
    w2a = await login("w2a")
    for path in ("windows/w1/open", "windows/w1/call-next"):
        await expect(await client.post(f"/api/v1/halls/t/{path}", headers=w2a), 403, "not-your-window")
    await expect(await client.get("/api/v1/halls/t/windows/w1/queue", headers=w2a), 403, "not-your-window")
    await expect(await client.post("/api/v1/halls/t/windows/w1/evaluator-session", headers=w2a), 403, "role")
    await expect(await client.post("/api/v1/halls/t/windows/w2/open", headers=w2a), 200)


async def test_a_token_after_logout_is_refused_everywhere(client, login):
    h = await login("w1a")
    await expect(await client.get("/api/v1/auth/session", headers=h), 200)
    await expect(await client.post("/api/v1/auth/logout", headers=h), 204)
    await expect(await client.get("/api/v1/auth/session", headers=h), 401, "unauthorized")
    await expect(await client.get("/api/v1/halls/t/windows/w1/queue", headers=h), 401, "unauthorized")
    await expect(await client.post("/api/v1/auth/logout", headers=h), 401)


async def attempt(client, username: str, password: str):  # type: ignore[no-untyped-def]
    return await client.post("/api/v1/auth/login", json={"username": username, "password": password})


async def test_repeated_wrong_passwords_lock_the_account_for_a_while(client, clock):
    for _ in range(4):
        await expect(await attempt(client, "w1a", "guess"), 401, "bad-credentials")
    await expect(await attempt(client, "w1a", "demo"), 200)  # a success before the fifth clears the count
    for _ in range(5):
        await expect(await attempt(client, "w1a", "guess"), 401, "bad-credentials")
    locked = await expect(await attempt(client, "w1a", "demo"), 429, "locked")
    assert 0 < int(locked.headers["Retry-After"]) <= 900
    # the page login is locked too, and an unknown name locks the same way (no name is revealed)
    await expect(await client.post("/api/v1/auth/session", json={"username": "w1a", "password": "demo"}), 429, "locked")
    for _ in range(5):
        await expect(await attempt(client, "nobody", "guess"), 401, "bad-credentials")
    await expect(await attempt(client, "nobody", "guess"), 429, "locked")
    await expect(await attempt(client, "w1b", "demo"), 200)  # other accounts are not affected
    clock.advance(14 * 60)
    await expect(await attempt(client, "w1a", "demo"), 429, "locked")
    clock.advance(61)
    await expect(await attempt(client, "w1a", "demo"), 200)


async def test_failures_spread_over_more_than_a_quarter_hour_do_not_lock(client, clock):
    for _ in range(4):
        await expect(await attempt(client, "w2a", "guess"), 401)
    clock.advance(16 * 60)
    for _ in range(4):
        await expect(await attempt(client, "w2a", "guess"), 401)
    await expect(await attempt(client, "w2a", "demo"), 200)


async def test_passwords_are_never_stored_or_logged_in_clear(client, login, caplog, settings):
    caplog.set_level(logging.DEBUG)
    boss = await login("boss")
    secret, wrong, made, in_name_field = "Counter-7-secret", "Wrong-guess-9", "Made-by-boss-42", "Typed-in-name-5"
    r = await client.post("/api/v1/halls/t/staff/w1a/password", json={"password": secret}, headers=boss)
    assert r.status == 200 and "password" not in await r.json()  # a chosen password is not echoed
    r = await client.post("/api/v1/halls/t/staff", headers=boss, json={
        "username": "w2b", "name": "新人", "role": "clerk", "windows": ["w2"], "post": "B", "password": made})
    assert r.status == 201
    for _ in range(6):
        await attempt(client, "w1a", wrong)
    # a password typed into the name field, as happens at a busy counter
    for _ in range(6):
        await attempt(client, in_name_field, wrong)
    await client.post("/api/v1/auth/session", json={"username": "w2b", "password": made})
    await login("w2b", made)
    dump = b""
    for f in sorted(settings.data_dir.iterdir()):
        if f.is_file():
            dump += f.read_bytes()
    assert dump, "the database files are where the test looks"
    for clear in (secret, wrong, made, in_name_field):
        assert clear.encode() not in dump
        assert clear not in caplog.text
    assert b"$argon2id$" in dump
    changes = await (await client.get("/api/v1/halls/t/staff/changes", headers=boss)).json()
    assert {(c["username"], c["action"], c["by"]) for c in changes} >= {("w1a", "password_reset", "boss"), ("w2b", "added", "boss")}
    assert secret not in str(changes) and made not in str(changes)


async def test_a_page_session_is_an_httponly_strict_cookie_whose_changes_need_its_csrf_token(client):
    r = await client.post("/api/v1/auth/session", json={"username": "w1a", "password": "demo"})
    assert r.status == 200
    body = await r.json()
    assert "token" not in body and len(body["csrf"]) >= 32
    cookie = r.headers["Set-Cookie"]
    assert cookie.startswith("hallq_session=") and "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie  # plain http on the loopback; https gets Secure (below)
    token = r.cookies["hallq_session"].value
    assert token not in json.dumps(body)

    await expect(await client.post("/api/v1/halls/t/windows/w1/open"), 403, "csrf")
    await expect(await client.post("/api/v1/halls/t/windows/w1/open", headers={"X-CSRF-Token": "0" * 64}), 403, "csrf")
    ok = {"X-CSRF-Token": body["csrf"]}
    await expect(await client.post("/api/v1/halls/t/windows/w1/open", headers={**ok, "Origin": "http://evil.example"}), 403, "csrf")
    await expect(await client.post("/api/v1/halls/t/windows/w1/open", headers=ok), 200)
    # reading needs no CSRF token; the session tells the page its token again after a reload
    me = await (await expect(await client.get("/api/v1/auth/session"), 200)).json()
    assert (me["username"], me["csrf"], me["may_act_on"]) == ("w1a", body["csrf"], ["w1"])
    await expect(await client.get("/api/v1/halls/t/windows/w1/queue"), 200)

    await expect(await client.post("/api/v1/auth/logout"), 403, "csrf")
    out = await expect(await client.post("/api/v1/auth/logout", headers=ok), 204)
    assert "hallq_session=" in out.headers["Set-Cookie"] and "Max-Age=0" in out.headers["Set-Cookie"]
    client.session.cookie_jar.update_cookies({"hallq_session": token})  # a stolen, ended session
    await expect(await client.post("/api/v1/halls/t/windows/w1/close", headers=ok), 401, "unauthorized")


async def test_a_page_login_from_another_site_is_refused(client):
    r = await client.post("/api/v1/auth/session", json={"username": "w1a", "password": "demo"},
                          headers={"Origin": "http://evil.example"})
    await expect(r, 403, "csrf")
    assert "Set-Cookie" not in r.headers


def test_the_session_cookie_is_secure_over_https():
    import ssl

    from aiohttp import web
    from aiohttp.test_utils import make_mocked_request

    from server.api.context import set_session_cookie

    for request in (
        make_mocked_request("POST", "/api/v1/auth/session", sslcontext=ssl.create_default_context()),
        make_mocked_request("POST", "/api/v1/auth/session", headers={"X-Forwarded-Proto": "https"}),
    ):
        resp = web.Response()
        set_session_cookie(resp, request, "x", 60)
        assert "Secure" in resp.cookies["hallq_session"].output()


async def test_concurrent_wrong_passwords_cannot_pass_the_lock_out(client):
    # Twenty guesses at once: each is counted before its (slow) password check, so no more than
    # the limit are checked at all; the others are refused without a check.
    answers = await asyncio.gather(*(attempt(client, "w1a", f"guess-{i}") for i in range(20)))
    statuses = sorted(r.status for r in answers)
    assert statuses.count(401) <= Accounts.MAX_FAILURES and statuses.count(429) >= 20 - Accounts.MAX_FAILURES
    assert set(statuses) == {401, 429}
    await expect(await attempt(client, "w1a", "demo"), 429, "locked")  # and the right one is locked out too


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
async def test_workers_sharing_one_database_share_the_lock_out(aiohttp_client, settings, database):
    # Two apps on one database, as `--workers 2` runs them: the limit holds across both.
    import dataclasses

    from server.api import create_app
    from tests.services import PostgresDatabase

    pg = PostgresDatabase() if database == "postgresql" else None
    if pg is not None:
        settings = dataclasses.replace(settings, database_url=await pg.create())
    try:
        one = await aiohttp_client(create_app(settings))
        two = await aiohttp_client(create_app(settings))
        answers = await asyncio.gather(*(attempt(c, "w2a", f"guess-{i}") for i in range(10) for c in (one, two)))
        assert [r.status for r in answers].count(401) <= Accounts.MAX_FAILURES
        for c in (one, two):
            await expect(await attempt(c, "w2a", "demo"), 429, "locked")
        await one.close()
        await two.close()
    finally:
        if pg is not None:
            await pg.drop()


async def test_the_real_server_process_never_prints_a_password(config_dir, tmp_path):
    import subprocess
    import sys

    from tests.server_process import ServerProcess

    data = tmp_path / "data"
    set_by_cli, demo, typed = "Set-by-cli-8", "Demo-env-pass-6", "Typed-in-name-7"
    cli = subprocess.run(
        [sys.executable, "-m", "server.cli", "user", "passwd", "w2a", "--config", str(config_dir), "--data", str(data)],
        input=set_by_cli + "\n", capture_output=True, text=True,
    )
    assert cli.returncode == 0 and set_by_cli not in cli.stdout + cli.stderr
    server = ServerProcess(config_dir, data, env={"HALLQ_DEMO_PASSWORD": demo})
    await server.start()
    try:
        async with aiohttp.ClientSession(server.url) as http:
            for username, password, status in ((typed, "whatever-1", 401), ("w1a", "Wrong-guess-9", 401),
                                               ("w1a", demo, 200), ("w2a", set_by_cli, 200), (typed, demo, 401)):
                async with http.post("/api/v1/auth/login", json={"username": username, "password": password}) as r:
                    assert r.status == status
    finally:
        server.stop()
    printed = server.log.read_text()
    assert "failed login for an unknown username" in printed and "login w1a" in printed  # it does log logins
    for clear in (set_by_cli, demo, typed, "Wrong-guess-9", "whatever-1"):
        assert clear not in printed


async def test_expired_sessions_are_deleted_from_the_database(client, login, clock):
    accounts = client.app[CTX].accounts

    async def stored() -> list[str]:
        async with accounts.engine.connect() as conn:
            return sorted(r.username for r in (await conn.execute(sessions.select())).all())

    old = await login("w1a")
    await login("w2a")
    clock.advance(accounts.SESSION_TTL_S - 60)
    await login("w1b")
    assert await stored() == ["w1a", "w1b", "w2a"]  # none has ended yet
    clock.advance(120)
    await expect(await client.get("/api/v1/auth/session", headers=old), 401)
    await login("boss")
    assert await stored() == ["boss", "w1b"]
