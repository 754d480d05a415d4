"""Refusals a page shows carry their words in each page language (`says`), so a Chinese page never
shows pydantic's English ("String should have at least 1 character") and an English page never
shows Chinese; the English `detail` stays for machines. Nothing is stored by a refused request."""

from __future__ import annotations

import re

CJK = re.compile(r"[\u4e00-\u9fff]")


def one_language(says: dict[str, str]) -> None:
    assert set(says) == {"zh-CN", "en"}
    assert CJK.search(says["zh-CN"]) and not re.search(r"[A-Za-z]{3,}", says["zh-CN"]), says
    assert not CJK.search(says["en"]), says


async def test_a_validation_error_is_worded_in_both_languages_with_its_limit(client):
    r = await client.post("/api/v1/auth/login", json={"username": "", "password": "x" * 201})
    assert r.status == 422
    p = await r.json()
    assert "at least 1 character" in p["detail"]  # for machines, as before
    assert p["says"]["zh-CN"] == "至少 1 个字符；最多 200 个字符"
    assert p["says"]["en"] == "at least 1 character(s); at most 200 character(s)"
    assert [f["says"]["zh-CN"] for f in p["errors"]] == ["至少 1 个字符", "最多 200 个字符"]
    for f in p["errors"]:
        one_language(f["says"])


async def test_the_one_time_notice_refusal_is_worded(client, login):
    clerk = await login("w1a")
    assert (await client.post("/api/v1/halls/t/tickets", json={"item": "a1"})).status == 201
    for action in ("open", "call-next", "start"):
        r = await client.post(f"/api/v1/halls/t/windows/w1/{action}", json={}, headers=clerk)
        assert r.status < 300, await r.text()
    r = await client.post("/api/v1/halls/t/windows/w1/finish", json={"case_type": "immediate", "outcome": "one_time_notice", "missing": []},
                          headers=clerk)
    assert r.status == 422
    p = await r.json()
    assert p["type"].endswith(":missing-list")
    one_language(p["says"])
    assert p["says"]["zh-CN"] == "一次性告知须列出所缺的每一项材料"
    window = await (await client.get("/api/v1/halls/t/windows/w1", headers=clerk)).json()
    assert window["state"] == "serving"  # refused: nothing changed


async def test_the_favicon_is_served(client):
    r = await client.get("/favicon.ico")
    assert r.status == 200 and r.content_type == "image/svg+xml" and b"<svg" in await r.read()
