"""The window's evaluator: one structured rating per served ticket, for the ticket served last,
for a while after the service; the clerk may ask again; ratings are events in the journal."""

from __future__ import annotations

import asyncio
import json

import aiohttp

from server.domain import events as ev


async def expect(resp, status: int, code: str | None = None):  # type: ignore[no-untyped-def]
    assert resp.status == status, await resp.text()
    if code is not None:
        assert (await resp.json())["type"] == f"urn:hallq:problem:{code}"
    return await resp.json()


async def serve(client, h, item: str = "a1") -> dict:  # type: ignore[no-untyped-def]
    t = await (await client.post("/api/v1/halls/t/tickets", json={"item": item})).json()
    for action, body in (("call", {"ticket": t["id"]}), ("start", {}), ("finish", {"case_type": "immediate"})):
        await expect(await client.post(f"/api/v1/halls/t/windows/w1/{action}", json=body, headers=h), 200)
    return t


async def journal(client, login) -> list[dict]:  # type: ignore[no-untyped-def]
    return (await (await client.get("/api/v1/halls/t/events", headers=await login("admin"))).json())["events"]


RATE = "/api/v1/halls/t/windows/w1/evaluation"


async def evaluator(client, login, window: str = "w1") -> dict[str, str]:  # type: ignore[no-untyped-def]
    """The window's evaluator screen, paired once by the hall's manager: its own credential."""
    boss = await login("boss")
    opened = await expect(await client.post(f"/api/v1/halls/t/windows/{window}/evaluator-session", headers=boss), 201)
    assert (opened["window"], opened["hall"]) == (window, "t")
    return {"X-Evaluator-Token": opened["token"]}


async def test_the_evaluator_rates_the_last_served_ticket_once_with_indicators_and_reasons(client, login):
    h = await login("w1a")
    await client.post("/api/v1/halls/t/windows/w1/open", headers=h)
    ev_ = await evaluator(client, login)
    t = await serve(client, h)
    state = await expect(await client.get(RATE, headers=ev_), 200)
    assert state["rateable"]["number"] == "A001" and state["window"]["clerk"]["name"] == "张一"
    assert "id" not in json.dumps(state["window"]["ticket"] or {})
    await expect(await client.post(RATE, headers=ev_, json={"number": "A001", "score": 2}), 422, "reasons-needed")
    await expect(await client.post(RATE, headers=ev_, json={"number": "A001", "score": 2, "reasons": ["rude"]}), 422, "bad-reason")
    body = {"number": "A001", "score": 2, "efficiency": 1, "proficiency": 3, "attitude": 2, "reasons": ["long_wait", "slow_service"]}
    assert await expect(await client.post(RATE, headers=ev_, json=body), 201) == {"number": "A001", "score": 2}
    await expect(await client.post(RATE, headers=ev_, json={**body, "score": 5}), 409, "already-rated")
    await expect(await client.post(f"/api/v1/halls/t/tickets/{t['id']}/evaluation", json={"score": 5}), 409, "already-rated")
    assert (await expect(await client.get(RATE, headers=ev_), 200))["rateable"] is None
    (rated,) = [e for e in await journal(client, login) if e["type"] == "ticket_evaluated"]
    assert {k: rated[k] for k in ("ticket", "window", "score", "efficiency", "proficiency", "attitude", "reasons", "by")} == {
        "ticket": t["id"], "window": "w1", "score": 2, "efficiency": 1, "proficiency": 3, "attitude": 2,
        "reasons": ["long_wait", "slow_service"], "by": "evaluator-w1"}


async def test_the_evaluator_cannot_rate_an_earlier_citizen_or_after_a_while(client, login, clock):
    h = await login("w1a")
    await client.post("/api/v1/halls/t/windows/w1/open", headers=h)
    ev_ = await evaluator(client, login)
    first = await serve(client, h)
    await serve(client, h)
    await expect(await client.post(RATE, headers=ev_, json={"number": "A001", "score": 5}), 409, "rating-moved-on")
    await expect(await client.post(RATE, headers=ev_, json={"number": "A009", "score": 5}), 404, "unknown-ticket")
    # the earlier citizen still rates from their own ticket page
    await expect(await client.post(f"/api/v1/halls/t/tickets/{first['id']}/evaluation", json={"score": 4}), 201)
    clock.advance(601)
    await expect(await client.post(RATE, headers=ev_, json={"number": "A002", "score": 5}), 409, "rating-closed")
    await expect(await client.post(f"{RATE}/request", headers=h), 409, "rating-closed")


async def test_once_the_next_citizen_is_served_the_evaluator_no_longer_rates_the_one_before(client, login):
    """The rating is for the service just finished: while the next citizen is only called, the one
    served last may still finish rating; once the window serves the next, nobody rates it there."""
    h = await login("w1a")
    await client.post("/api/v1/halls/t/windows/w1/open", headers=h)
    ev_ = await evaluator(client, login)
    await serve(client, h)
    nxt = await (await client.post("/api/v1/halls/t/tickets", json={"item": "a1"})).json()
    await expect(await client.post("/api/v1/halls/t/windows/w1/call", json={"ticket": nxt["id"]}, headers=h), 200)
    assert (await expect(await client.get(RATE, headers=ev_), 200))["rateable"]["number"] == "A001"
    await expect(await client.post(f"{RATE}/request", headers=h), 409, "serving-another")  # not with A002 called
    await expect(await client.post("/api/v1/halls/t/windows/w1/start", headers=h), 200)
    assert (await expect(await client.get(RATE, headers=ev_), 200))["rateable"] is None
    r = await client.post(RATE, headers=ev_, json={"number": "A001", "score": 5})
    assert r.content_type == "application/problem+json"
    assert (await expect(r, 409, "rating-moved-on"))["number"] == "A002"
    refused = await expect(await client.post(f"{RATE}/request", headers=h), 409, "serving-another")
    assert refused["number"] == "A002" and refused["says"]["zh-CN"] == "当前号码尚未办结：办结后再邀请评价"
    assert "evaluation" not in (await expect(await client.get("/api/v1/halls/t/windows/w1/queue", headers=h), 200))["actions"]
    await expect(await client.post("/api/v1/halls/t/windows/w1/finish", json={"case_type": "immediate"}, headers=h), 200)
    assert await expect(await client.post(f"{RATE}/request", headers=h), 200) == {"number": "A002"}
    assert [e["ticket"] for e in await journal(client, login) if e["type"] == "evaluation_requested"] == [nxt["id"]]


async def test_the_clerk_asks_for_a_rating_and_the_evaluator_hears_it_without_ticket_ids(client, login):
    h = await login("w1a")
    await client.post("/api/v1/halls/t/windows/w1/open", headers=h)
    await expect(await client.post(f"{RATE}/request", headers=h), 409, "nothing-to-rate")
    ws = await client.ws_connect("/ws/v1/halls/t?window=w1")
    assert json.loads((await ws.receive()).data)["type"] == "snapshot"
    t = await serve(client, h)
    assert await expect(await client.post(f"{RATE}/request", headers=h), 200) == {"number": "A001"}
    seen = []
    while not seen or seen[-1]["event"]["type"] != "evaluation_requested":
        msg = await asyncio.wait_for(ws.receive(), 3)
        assert msg.type is aiohttp.WSMsgType.TEXT
        assert t["id"] not in msg.data
        seen.append(json.loads(msg.data))
    types = [m["event"]["type"] for m in seen]
    assert "service_finished" in types
    asked = seen[-1]["event"]
    assert (asked["window"], asked["number"]) == ("w1", "A001")
    await ws.close()
    (logged,) = [e for e in await journal(client, login) if e["type"] == "evaluation_requested"]
    assert (logged["by"], logged["ticket"]) == ("w1a", t["id"])
    await expect(await client.post(RATE, headers=await evaluator(client, login), json={"number": "A001", "score": 5}), 201)
    await expect(await client.post(f"{RATE}/request", headers=h), 409, "already-rated")


async def test_the_evaluator_is_paired_by_a_manager_only(client, login):
    await expect(await client.post(RATE, json={"number": "A001", "score": 5}), 403, "evaluator-only")
    await expect(await client.get(RATE), 401)
    await expect(await client.post("/api/v1/halls/t/windows/w1/evaluator-session"), 401)
    for clerk in ("w2a", "w1a"):  # not another window's clerk, nor the clerk it rates
        await expect(await client.post("/api/v1/halls/t/windows/w1/evaluator-session", headers=await login(clerk)), 403, "role")
    await expect(await client.get(RATE, headers={"X-Evaluator-Token": "made-up"}), 401, "evaluator-unknown")


async def test_a_clerk_cannot_rate_their_own_service_only_the_evaluator_can(client, login):
    h = await login("w1a")
    await client.post("/api/v1/halls/t/windows/w1/open", headers=h)
    ev_ = await evaluator(client, login)
    await serve(client, h)
    before = await journal(client, login)
    for who in (h, await login("admin")):
        r = await client.post(RATE, headers=who, json={"number": "A001", "score": 5})
        assert r.content_type == "application/problem+json"
        await expect(r, 403, "evaluator-only")
    assert await journal(client, login) == before

    # The evaluator's credential does nothing but show its window and rate there.
    bearer = {"Authorization": f"Bearer {ev_['X-Evaluator-Token']}"}
    for creds in (ev_, bearer):
        for path in ("windows/w1/close", "windows/w1/call-next", "windows/w1/evaluation/request", "windows/w1/evaluator-session"):
            await expect(await client.post(f"/api/v1/halls/t/{path}", headers=creds), 401)
        await expect(await client.get("/api/v1/halls/t/windows/w1/queue", headers=creds), 401)
        await expect(await client.get("/api/v1/auth/session", headers=creds), 401)
    await expect(await client.post("/api/v1/auth/logout", headers=ev_), 401)
    await expect(await client.post("/api/v1/halls/t/windows/w2/evaluation", headers=ev_, json={"number": "A001", "score": 5}),
                 403, "evaluator-elsewhere")

    # It outlives the clerk's logout: the citizen still rates.
    assert (await client.post("/api/v1/auth/logout", headers=h)).status == 204
    assert (await expect(await client.get(RATE, headers=ev_), 200))["rateable"]["number"] == "A001"
    await expect(await client.post(RATE, headers=ev_, json={"number": "A001", "score": 5}), 201)
    (rated,) = [e for e in await journal(client, login) if e["type"] == "ticket_evaluated"]
    assert (rated["by"], rated["score"]) == ("evaluator-w1", 5)


async def test_an_evaluator_session_ends_after_a_day(client, login, clock):
    ev_ = await evaluator(client, login)
    clock.advance(24 * 3600 + 1)
    await expect(await client.get(RATE, headers=ev_), 401, "evaluator-unknown")


def test_ratings_from_older_journals_still_load():
    old = {"type": "ticket_evaluated", "at": "2026-11-24T10:00:00+08:00", "by": "holder", "ticket": "x", "window": "w1",
           "score": 4, "comment": "快"}
    e = ev.from_dict(old)
    assert isinstance(e, ev.TicketEvaluated) and (e.score, e.efficiency, e.reasons) == (4, None, ())
    assert ev.from_dict(ev.to_dict(e)) == e
