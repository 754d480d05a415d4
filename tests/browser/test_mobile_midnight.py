"""The mobile ticket in a real headless Chromium across midnight: the number open at 00:00 says it is void."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import aiohttp
import pytest

from tests.browser.waits import until
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
