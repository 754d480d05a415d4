"""Bad input gets a 4xx problem+json and leaves every stored thing intact."""

from __future__ import annotations

import pytest

from server.api.context import CTX

PROBLEM = "application/problem+json"


@pytest.fixture
async def journal_rows(client):  # type: ignore[no-untyped-def]
    async def rows() -> list:
        ctx = client.app[CTX]
        hall = ctx.halls["t"]
        return [(s.seq, s.data) for s in await ctx.journal.read("t", hall.state.day)]

    return rows


@pytest.fixture
async def busy_hall(client, login):  # type: ignore[no-untyped-def]
    """A hall with a ticket waiting, one being served at w1, and w2 open and idle."""
    h = await login("w1a")
    for item in ("a1", "a1", "b1"):
        assert (await client.post("/api/v1/halls/t/tickets", json={"item": item})).status == 201
    for path in ("w1/open", "w1/call-next", "w1/start"):
        assert (await client.post(f"/api/v1/halls/t/windows/{path}", headers=h)).status == 200
    assert (await client.post("/api/v1/halls/t/windows/w2/open", headers=await login("w2a"))).status == 200
    return h


async def expect_problem(resp, status: int, code: str | None = None) -> dict:  # type: ignore[no-untyped-def]
    assert resp.status == status, await resp.text()
    assert resp.content_type == PROBLEM
    body = await resp.json()
    assert body["status"] == status and body["title"] and body["detail"] and body["type"].startswith("urn:hallq:problem:")
    if code:
        assert body["type"] == f"urn:hallq:problem:{code}"
    assert "Traceback" not in await resp.text()
    return body


CASES = [
    # (method, path, kwargs, status, code, who)
    ("POST", "/api/v1/halls/t/tickets", {"data": b"{not json"}, 400, "malformed-json", None),
    ("POST", "/api/v1/halls/t/tickets", {"data": b"[1, 2]"}, 422, "invalid-body", None),
    ("POST", "/api/v1/halls/t/tickets", {"json": {}}, 422, "invalid-body", None),
    ("POST", "/api/v1/halls/t/tickets", {"json": {"item": "a1", "phone": "13800138000"}}, 422, "invalid-body", None),
    ("POST", "/api/v1/halls/t/tickets", {"json": {"item": 7}}, 422, "invalid-body", None),
    ("POST", "/api/v1/halls/t/tickets", {"json": {"item": "nope"}}, 404, "unknown-item", None),
    ("POST", "/api/v1/halls/t/tickets", {"json": {"item": "a1", "channel": "fax"}}, 422, "invalid-body", None),
    ("POST", "/api/v1/halls/t/tickets", {"json": {"item": "a1", "appointment": "NOPE"}}, 404, "unknown-appointment", None),
    ("POST", "/api/v1/halls/t/tickets", {"json": {"item": "a1", "channel": "staff"}}, 401, "unauthorized", None),
    ("POST", "/api/v1/halls/t/tickets", {"json": {"item": "a1", "channel": "online", "priority": True}}, 403, "priority-on-site", None),
    ("POST", "/api/v1/halls/nowhere/tickets", {"json": {"item": "a1"}}, 404, "unknown-hall", None),
    ("POST", "/api/v1/halls/t/tickets", {"data": b'{"item": "' + b"x" * 70_000 + b'"}'}, 413, "body-too-large", None),
    ("GET", "/api/v1/halls/t/tickets/doesnotexist", {}, 404, "unknown-ticket", None),
    ("POST", "/api/v1/halls/t/tickets/doesnotexist/cancel", {}, 404, "unknown-ticket", None),
    ("POST", "/api/v1/halls/t/tickets/doesnotexist/evaluation", {"json": {"score": 5}}, 404, "unknown-ticket", None),
    ("GET", "/api/v1/halls/t/nothing-here", {}, 404, "not-found", None),
    ("DELETE", "/api/v1/halls/t/tickets", {}, 405, "method-not-allowed", None),
    ("POST", "/api/v1/halls/t/windows/w1/call-next", {}, 401, "unauthorized", None),
    ("POST", "/api/v1/halls/t/windows/w1/call-next", {"headers": {"Authorization": "Bearer forged"}}, 401, "unauthorized", None),
    ("POST", "/api/v1/halls/t/windows/w9/open", {}, 404, "unknown-window", "w1a"),
    ("POST", "/api/v1/halls/t/windows/w1/explode", {}, 404, "not-found", "w1a"),
    ("POST", "/api/v1/halls/t/windows/w2/call-next", {}, 403, "not-your-window", "w1a"),
    ("POST", "/api/v1/halls/t/windows/w1/call-next", {}, 409, "window-state", "w1a"),  # serving: finish first
    ("POST", "/api/v1/halls/t/windows/w2/finish", {"json": {"case_type": "immediate"}}, 409, "window-state", "w2a"),  # finish before call
    ("POST", "/api/v1/halls/t/windows/w1/finish", {"json": {"case_type": "quick"}}, 422, "invalid-body", "w1a"),
    ("POST", "/api/v1/halls/t/windows/w1/finish", {"json": {}}, 422, "invalid-body", "w1a"),
    ("POST", "/api/v1/halls/t/windows/w1/finish", {"json": {"case_type": "immediate", "outcome": "one_time_notice"}}, 422, "missing-list", "w1a"),
    ("POST", "/api/v1/halls/t/windows/w1/transfer", {"json": {"item": "a1", "window": "w2"}}, 422, "transfer-target", "w1a"),
    ("POST", "/api/v1/halls/t/windows/w1/transfer", {"json": {"window": "w1"}}, 422, "transfer-target", "w1a"),
    ("POST", "/api/v1/halls/t/windows/w1/suspend", {"json": {"kind": "coffee"}}, 422, "invalid-body", "w1a"),
    ("POST", "/api/v1/halls/t/windows/w2/pause", {"json": {"reason": "x", "until": "2020-01-01T00:00:00+08:00"}}, 422, "pause-until", "w2a"),
    ("POST", "/api/v1/halls/t/windows/w2/call", {"json": {"ticket": "doesnotexist"}}, 404, "unknown-ticket", "w2a"),
    ("POST", "/api/v1/halls/t/windows/w1/finish", {"data": b"{case_type: immediate"}, 400, "malformed-json", "w1a"),
    ("POST", "/api/v1/halls/t/windows/w1/transfer", {"data": b'{"item": "' + b"x" * 70_000 + b'"}'}, 413, "body-too-large", "w1a"),
    ("POST", "/api/v1/halls/t/windows/w2/pause", {"data": b"\xff\xfe not utf-8"}, 400, "malformed-json", "w2a"),
    ("POST", "/api/v1/halls/t/windows/w2/pause", {"json": {"reason": "   "}}, 422, "pause-reason", "w2a"),
    ("POST", "/api/v1/halls/t/windows/w2/call", {"json": {"ticket": ["a"]}}, 422, "invalid-body", "w2a"),
    ("POST", "/api/v1/halls/t/windows/w1/transfer", {"json": {"item": "nope"}}, 404, "unknown-item", "w1a"),
    ("POST", "/api/v1/halls/t/windows/w1/transfer", {"json": {"window": "w9"}}, 404, "unknown-window", "w1a"),
    ("POST", "/api/v1/halls/nowhere/windows/w1/open", {}, 404, "unknown-hall", "w1a"),
    ("GET", "/api/v1/halls/nowhere/tickets/doesnotexist", {}, 404, "unknown-hall", None),
    ("GET", "/api/v1/halls/nowhere/queues", {}, 404, "unknown-hall", None),
    ("GET", "/api/v1/halls/nowhere/catalog", {}, 404, "unknown-hall", None),
    ("GET", "/api/v1/halls/t/events", {}, 403, "role", "w1a"),
    ("GET", "/api/v1/halls/t/users", {}, 403, "role", "w1a"),
    ("GET", "/api/v1/halls/t/events?since=abc", {}, 422, "bad-query", "boss"),
    ("GET", "/api/v1/halls/t/attendance.csv?table=nope", {}, 422, "bad-query", "boss"),
    ("GET", "/api/v1/halls/t/bulletin.csv?table=nope", {}, 422, "bad-query", "boss"),
    ("POST", "/api/v1/halls/t/appointments", {"json": {"code": "X1234", "item": "a1", "slot_start": "soon", "slot_end": "later"}}, 422, "invalid-body", "boss"),
    ("POST", "/api/v1/auth/login", {"json": {"username": "w1a", "password": "wrong"}}, 401, "bad-credentials", None),
    ("POST", "/api/v1/auth/login", {"json": {"username": "ghost", "password": "demo"}}, 401, "bad-credentials", None),
    ("POST", "/api/v1/auth/login", {"data": b"username=w1a"}, 400, "malformed-json", None),
    ("POST", "/api/v1/auth/logout", {}, 401, "unauthorized", None),
]


@pytest.mark.parametrize("method,path,kwargs,status,code,who", CASES, ids=[f"{c[3]}-{c[4]}-{n}" for n, c in enumerate(CASES)])
async def test_bad_requests_get_a_problem_and_change_nothing(client, login, busy_hall, journal_rows, method, path, kwargs, status, code, who):
    before = await journal_rows()
    kwargs = dict(kwargs)
    if who:
        kwargs["headers"] = {**kwargs.get("headers", {}), **(await login(who))}
    resp = await client.request(method, path, **kwargs)
    await expect_problem(resp, status, code)
    assert await journal_rows() == before


async def test_a_served_ticket_cannot_be_cancelled_or_rated_twice(client, login, busy_hall, journal_rows):
    serving = client.app[CTX].halls["t"].state.window("w1").ticket
    before = await journal_rows()
    await expect_problem(await client.post(f"/api/v1/halls/t/tickets/{serving}/cancel"), 409, "not-waiting")
    await expect_problem(await client.post(f"/api/v1/halls/t/tickets/{serving}/evaluation", json={"score": 4}), 409, "not-served")
    await expect_problem(await client.post(f"/api/v1/halls/t/tickets/{serving}/evaluation", json={"score": 9}), 422, "invalid-body")
    assert await journal_rows() == before


async def test_ticket_issue_is_rate_limited_per_address_with_retry_after(aiohttp_client, settings):
    from dataclasses import replace

    from server.api import create_app

    limited = await aiohttp_client(create_app(replace(settings, issue_rate_per_s=0.5, issue_burst=3)))
    statuses = [(await limited.post("/api/v1/halls/t/tickets", json={"item": "a1"})).status for _ in range(3)]
    assert statuses == [201, 201, 201]
    r = await limited.post("/api/v1/halls/t/tickets", json={"item": "a1"})
    body = await expect_problem(r, 429, "rate-limited")
    assert r.headers["Retry-After"] == "2" and body["retry_after"] == 2


async def test_every_answer_carries_the_security_headers(client):
    for path in ("/", "/api/v1/halls", "/api/v1/halls/t/tickets/nope", "/display/t/lobby"):
        r = await client.get(path)
        csp = r.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
        assert r.headers["X-Content-Type-Options"] == "nosniff"
