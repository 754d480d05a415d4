"""Midnight in a real headless Chromium: the number open at 00:00 says it is void on the phone, and
the clerk whose service ran over midnight finishes it at the terminal."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import aiohttp
import pytest

from tests.browser.waits import until, press
from tests.halls import small_config, write_config

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "config"
    write_config(folder, small_config(enforce_hours=False))
    return folder


async def test_the_mobile_ticket_says_it_was_closed_out_at_midnight_in_both_languages(browser, live, clock):
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{live.url}/api/v1/halls/t/tickets", json={"item": "a1"}) as r:
            mine = await r.json()
        context = await browser.new_context(viewport=PHONE, locale="zh-CN", is_mobile=True, has_touch=True)
        page = await context.new_page()
        await page.goto(f"{live.url}/t/{mine['id']}")
        await page.wait_for_selector("body[data-ticket-status=waiting]")

        clock.t = clock.t.replace(hour=0, minute=0, second=5) + timedelta(days=1)
        async with http.get(f"{live.url}/api/v1/halls/t/queues") as r:  # any request after midnight runs the day change
            assert r.status == 200
        # The open page hears it from its feed ...
        await until(page, "document.body.dataset.ticketStatus === 'closed_out'")
        assert "本号已作废" in await page.inner_text("#m-status")
        assert await page.is_hidden("#m-cancel")
        # ... and a page opened afterwards shows it from the server, in either language.
        await page.goto(f"{live.url}/t/{mine['id']}?lang=en")
        await page.wait_for_selector("body[data-ticket-status=closed_out]")
        assert "no longer valid" in await page.inner_text("#m-status")
        await page.click("#m-lang")
        assert "本号已作废" in await page.inner_text("#m-status")
        assert await page.is_hidden("#m-cancel") and await page.is_hidden("#m-rate")
        await context.close()


async def test_the_clerk_finishes_at_the_terminal_a_service_that_ran_over_midnight(browser, live, clock):
    clock.t = clock.t.replace(hour=23, minute=50)
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{live.url}/api/v1/halls/t/tickets", json={"item": "a2"}) as r:
            mine = await r.json()
        context = await browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
        terminal = await context.new_page()
        await terminal.goto(f"{live.url}/terminal/t")
        await terminal.fill("#username", "w1a")
        await terminal.fill("#password", "demo")
        await terminal.press("#password", "Enter")
        await terminal.wait_for_url("**/terminal/t/window/w1")
        await terminal.wait_for_selector("body[data-state=closed][data-status=online]:not(.busy)")
        for key, state in (("o", "idle"), ("n", "called"), ("s", "serving")):
            await press(terminal, key)
            await terminal.wait_for_selector(f"body[data-state={state}]:not(.busy)")

        clock.t = clock.t.replace(hour=0, minute=0, second=10) + timedelta(days=1)
        async with http.get(f"{live.url}/api/v1/halls/t/queues") as r:  # any request after midnight runs the day change
            assert r.status == 200
        # The new day: the window is open and idle, and offers to finish last night's service.
        await terminal.wait_for_selector("body[data-state=idle] [data-action=finish]:enabled", timeout=5000)
        assert (await terminal.text_content("#number")).strip() == mine["number"]
        assert "跨日办理" in await terminal.text_content("#ticket-status")
        await press(terminal, "f")
        await terminal.wait_for_selector("#dlg-finish[open]")
        await press(terminal, "Enter")  # the item's case type: promised
        await terminal.wait_for_selector("[data-action=finish]:disabled", state="attached", timeout=5000)
        assert (await terminal.text_content("#number")).strip() == "—"
        async with http.get(f"{live.url}/api/v1/halls/t/tickets/{mine['id']}") as r:
            done = await r.json()
        assert (done["status"], done["case_type"], done["closed_out_from"]) == ("done", "promised", "serving")
        await context.close()


async def test_the_mobile_ticket_of_an_earlier_day_offers_its_rating_and_sends_it(browser, live, clock):
    """好差评 after the day of service: the phone page of a ticket served two days ago (another day
    with events in between) still rates it, and says until when."""
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{live.url}/api/v1/auth/login", json={"username": "w1a", "password": "demo"}) as r:
            w1 = {"Authorization": f"Bearer {(await r.json())['token']}"}
        async with http.post(f"{live.url}/api/v1/halls/t/tickets", json={"item": "a1"}) as r:
            mine = await r.json()
        for action, body in (("open", None), ("call-next", None), ("start", None), ("finish", {"case_type": "immediate"})):
            async with http.post(f"{live.url}/api/v1/halls/t/windows/w1/{action}", json=body, headers=w1) as r:
                assert r.status == 200, await r.text()
        served_on = clock.t.date()
        clock.t += timedelta(days=1)
        async with http.post(f"{live.url}/api/v1/halls/t/tickets", json={"item": "b1"}) as r:
            assert r.status == 201
        clock.t += timedelta(days=1)

        context = await browser.new_context(viewport=PHONE, locale="zh-CN", is_mobile=True, has_touch=True)
        page = await context.new_page()
        await page.goto(f"{live.url}/t/{mine['id']}")
        await page.wait_for_selector("body[data-ticket-status=done] #m-rate:not([hidden])")
        closes = (served_on + timedelta(days=7)).isoformat()
        assert await page.inner_text("#m-rate-until") == f"本次服务可评价至 {closes}"
        await page.tap("#m-levels [data-score='5']")
        await page.tap("#m-rate-next")
        await page.tap("#m-rate-send")
        await page.wait_for_selector("#m-rated:not([hidden])", timeout=5000)
        assert await page.is_hidden("#m-rate")
        async with http.get(f"{live.url}/api/v1/halls/t/tickets/{mine['id']}") as r:
            assert (await r.json())["rated"] is True
        await page.goto(f"{live.url}/t/{mine['id']}?lang=en")  # rated: offered no more
        await page.wait_for_selector("body[data-ticket-status=done] #m-rated:not([hidden])")
        assert await page.is_hidden("#m-rate")
        await context.close()
