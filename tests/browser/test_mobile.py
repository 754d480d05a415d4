"""The phone's ticket page in a real headless Chromium at 390×844: the expected wait in plain
words with the range the server gives (`estimated_wait_range_s`), in both languages, live."""

from __future__ import annotations

import math
import os
from typing import Any

import aiohttp

from tests.browser.waits import until

PHONE = {"width": 390, "height": 844}


def minutes(s: float) -> int:
    return math.floor(s / 60 + 0.5)  # as the page rounds (Math.round)


def words(ticket: dict[str, Any], lang: str) -> str:
    """What the page should say for the ticket's wait, from the server's figures."""
    m = minutes(ticket["estimated_wait_s"])
    lo, hi = (minutes(s) for s in ticket["estimated_wait_range_s"])
    lo, hi = min(lo, m), max(hi, m)
    assert m >= 1 and hi > m  # the cases below: a wait of minutes, and a range around it
    if lang == "zh-CN":
        return f"约 {m} 分钟（最多 {hi} 分钟）" if lo < 1 else f"约 {m} 分钟（{lo}–{hi} 分钟）"
    return f"about {m} min (at most {hi} min)" if lo < 1 else f"about {m} min ({lo}–{hi} min)"


async def test_the_phone_tells_the_wait_with_its_range_in_both_languages(browser, live):
    async with aiohttp.ClientSession() as http:
        async def ticket(tid: str) -> dict[str, Any]:
            async with http.get(f"{live.url}/api/v1/halls/t/tickets/{tid}") as r:
                assert r.status == 200
                return await r.json()

        issued = []
        for _ in range(13):
            async with http.post(f"{live.url}/api/v1/halls/t/tickets", json={"item": "a1"}) as r:
                assert r.status == 201, await r.text()
                issued.append((await r.json())["id"])
        async with http.post(f"{live.url}/api/v1/auth/login", json={"username": "w1a", "password": "demo"}) as r:
            staff = {"Authorization": f"Bearer {(await r.json())['token']}"}
        for action in ("open", "call-next"):  # w1, the one window of a1, busy with A001
            async with http.post(f"{live.url}/api/v1/halls/t/windows/w1/{action}", json={}, headers=staff) as r:
                assert r.status in (200, 201), await r.text()

        context = await browser.new_context(viewport=PHONE, locale="zh-CN", is_mobile=True, has_touch=True)
        page = await context.new_page()
        # Far down the queue: eleven ahead, a range that no longer starts at zero.
        far = issued[-1]
        await page.goto(f"{live.url}/t/{far}")
        await page.wait_for_selector("body[data-ticket-status=waiting]")
        mine = await ticket(far)
        assert mine["ahead"] == 11 and mine["estimated_wait_range_s"][0] >= 60
        await until(page, f"document.getElementById('m-wait').textContent === {words(mine, 'zh-CN')!r}")
        # The range sits under the wait, inside its box, and nothing is wider than the phone.
        assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        assert await page.evaluate("(() => { const d = document.getElementById('m-wait'); return d.scrollWidth <= d.clientWidth; })()")
        box = await page.locator("#m-wait").bounding_box()
        span = await page.locator("#m-wait-range").bounding_box()
        assert box and span and span["y"] > box["y"] and span["y"] + span["height"] <= box["y"] + box["height"] + 1
        await page.click("#m-lang")
        assert await page.inner_text("#m-wait") != ""
        await until(page, f"document.getElementById('m-wait').textContent === {words(mine, 'en')!r}")
        assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

        # Near the front: the wait may come at any moment, so the range says how long at most.
        near = issued[2]
        await page.goto(f"{live.url}/t/{near}?lang=zh-CN")
        await page.wait_for_selector("body[data-ticket-status=waiting]")
        mine = await ticket(near)
        assert mine["ahead"] == 1 and mine["estimated_wait_range_s"][0] < 30
        await until(page, f"document.getElementById('m-wait').textContent === {words(mine, 'zh-CN')!r}")

        # Live: the window finishes A001 and calls A002; the page follows the feed to the new figures.
        before = words(mine, "zh-CN")
        for action, body in (("start", {}), ("finish", {"case_type": "immediate"}), ("call-next", {})):
            async with http.post(f"{live.url}/api/v1/halls/t/windows/w1/{action}", json=body, headers=staff) as r:
                assert r.status in (200, 201), await r.text()
        mine = await ticket(near)
        assert mine["ahead"] == 0
        now = words(mine, "zh-CN")  # nobody ahead, the window busy calling A002: minutes, and at most a service
        assert now != before
        await until(page, f"document.getElementById('m-wait').textContent === {now!r}")
        if os.environ.get("HALLQ_MOBILE_SHOT"):  # a picture to look at: HALLQ_MOBILE_SHOT=/tmp/mobile.png
            await page.screenshot(path=os.environ["HALLQ_MOBILE_SHOT"])
        await context.close()
