"""好差评 upload in the running app: a rating given on the phone reaches the stand-in provincial
platform through the lifespan's task, and the dashboard's panel counts pending, sent and refused."""

from __future__ import annotations

import asyncio

import pytest

from server.api import Settings, create_app
from server.domain import provincial
from tests.halls import small_config, write_config
from tests.standins import Platform
from tests.surfaces.api.test_flow import act, issue
from server.api.uploads import UPLOADERS


@pytest.fixture
async def platform():  # type: ignore[no-untyped-def]
    p = Platform()
    await p.start()
    yield p
    await p.stop()


@pytest.fixture
def config_dir(tmp_path, platform):  # type: ignore[no-untyped-def]
    folder = tmp_path / "config"
    write_config(folder, small_config(supervision={"sweep_s": 0.2}, provincial={"enabled": True, "endpoint": platform.url, "hall_code": "H-1",
                                                  "returns_endpoint": platform.returns_url,
                                                  "timeout_s": 2, "retry_s": 1, "retry_max_s": 1}))
    return folder


async def served(client, login) -> dict:  # type: ignore[no-untyped-def]
    t = await issue(client, "a1")
    h = await login("w1a")
    for action in ("open", "call-next", "start"):
        await act(client, h, "w1", action)
    await act(client, h, "w1", "finish", {"case_type": "immediate"})
    return t


async def until(condition, timeout: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    async with asyncio.timeout(timeout):
        while not await condition():
            await asyncio.sleep(0.05)


async def test_a_rating_reaches_the_platform_and_the_panel_counts_it(client, login, platform):
    t = await served(client, login)
    platform.refuse = set()
    r = await client.post(f"/api/v1/halls/t/tickets/{t['id']}/evaluation", json={"score": 2, "reasons": ["long_wait"]})
    assert r.status == 201

    async def arrived() -> bool:
        return len(platform.taken) == 1

    await until(arrived)
    assert platform.ids == [provincial.rating_id(t["id"])]
    assert platform.taken[0]["pf"] == "2" and platform.taken[0]["evaluateLevel"] == "不满意"

    boss = await login("boss")
    panel = await (await client.get("/api/v1/halls/t/uploads", headers=boss)).json()
    assert panel["enabled"] and panel["counts"] == {"pending": 0, "sent": 1, "refused": 0}
    assert t["id"] not in str(panel)


async def test_refused_ratings_are_listed_without_who_rated(client, login, platform):
    t = await served(client, login)
    platform.refuse = {provincial.rating_id(t["id"])}
    r = await client.post(f"/api/v1/halls/t/tickets/{t['id']}/evaluation", json={"score": 1, "comment": "电话13800138000找我"})
    assert r.status == 201
    boss = await login("boss")

    async def refused() -> bool:
        panel = await (await client.get("/api/v1/halls/t/uploads", headers=boss)).json()
        return panel["counts"]["refused"] == 1

    await until(refused)
    panel = await (await client.get("/api/v1/halls/t/uploads", headers=boss)).json()
    (row,) = panel["refused"]
    assert (row["number"], row["last_status"], row["score"]) == (t["number"], 400, 1)
    assert "13800138000" not in str(panel) and t["id"] not in str(panel)  # no comment, no ticket id


async def test_the_panel_is_for_managers(client, login):
    assert (await client.get("/api/v1/halls/t/uploads")).status == 401
    clerk = await login("w2a")
    assert (await client.get("/api/v1/halls/t/uploads", headers=clerk)).status == 403


async def test_a_hall_without_upload_says_so(tmp_path, aiohttp_client, clock):  # type: ignore[no-untyped-def]
    folder = tmp_path / "plain"
    write_config(folder)
    client = await aiohttp_client(create_app(Settings(config_dir=folder, data_dir=tmp_path / "d", clock=clock, issue_rate_per_s=0)))
    r = await client.post("/api/v1/auth/login", json={"username": "boss", "password": "demo"})
    boss = {"Authorization": f"Bearer {(await r.json())['token']}"}
    panel = await (await client.get("/api/v1/halls/t/uploads", headers=boss)).json()
    assert not panel["enabled"] and panel["counts"] == {"pending": 0, "sent": 0, "refused": 0}
    assert panel["sms"] == {"enabled": False, "gateway": "log", "counts": {"pending": 0, "sent": 0, "failed": 0, "dropped": 0}}


async def test_bad_ratings_sent_back_by_the_platform_join_the_follow_up_loop(client, login, platform):
    ours = await served(client, login)
    r = await client.post(f"/api/v1/halls/t/tickets/{ours['id']}/evaluation", json={"score": 1, "reasons": ["poor_attitude"]})
    assert r.status == 201
    platform.returns = [
        {"evaluateId": "hcp-20261125-0007", "alternate": 2, "assessTime": "2026-11-25T08:40:00+08:00",
         "writingEvaluation": "在省政务服务网评价：材料一次没说清", "projectNo": "A009", "taskCode": "a1"},
        {"evaluateId": "hcp-20261125-0008", "alternate": 5, "assessTime": "2026-11-25T08:41:00+08:00"},  # not bad
        {"evaluateId": provincial.rating_id(ours["id"]), "alternate": 1, "assessTime": "2026-11-25T09:00:00+08:00"},  # hallq's own
        {"garbage": True},
    ]
    uploader = client.app[UPLOADERS]["t"]
    async with uploader.lock:  # as a step does: the journal's ratings first, then what came back
        await uploader.collect()
        assert await uploader.pull() == 1
        assert await uploader.pull() == 0  # each once
    assert platform.returns_asked[-1] == "H-1"
    boss = await login("boss")

    async def in_the_loop() -> bool:
        reviews = (await (await client.get("/api/v1/halls/t/reviews", headers=boss)).json())["reviews"]
        return {r["ticket"]: r["status"] for r in reviews} == {"province:hcp-20261125-0007": "assigned", ours["id"]: "assigned"}

    await until(in_the_loop, 20)  # the supervisor's sweep assigns it to the department's chief, as its own
    reviews = (await (await client.get("/api/v1/halls/t/reviews", headers=boss)).json())["reviews"]
    sent_back = next(r for r in reviews if r["ticket"].startswith("province:"))
    assert (sent_back["number"], sent_back["item_name"], sent_back["score"]) == ("A009", "甲一", 2)
    step = await client.post("/api/v1/halls/t/reviews/province:hcp-20261125-0007/steps", headers=boss,
                             json={"step": "verified", "note": "核实：窗口未一次性告知"})
    assert step.status == 201, await step.text()
    assert (await step.json())["status"] == "verified"
