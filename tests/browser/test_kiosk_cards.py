"""刷身份证取号 in a real Chromium: a card put on the (simulated GA 467) reader of the kiosk PC
reaches the kiosk page through the print agent's relay; the citizen takes three numbers with it,
seniors offered the priority lane, and the fourth is refused with a clear message. The page
never holds the whole number."""

from __future__ import annotations

import asyncio

import pytest_asyncio

from kiosk.cardreader import FIND, GA467Reader
from kiosk.cardrelay import CardRelay
from tests.browser.test_display import text
from tests.cardsim import SimulatedReader
from tests.surfaces.kiosk.test_cards import SENIOR, card_port, config_dir  # noqa: F401  (the kiosk with a card reader)

PORTRAIT = {"width": 1080, "height": 1920}


@pytest_asyncio.fixture(loop_scope="session")
async def reader(live, card_port):  # type: ignore[no-untyped-def]
    sim = SimulatedReader()
    stop = asyncio.Event()
    relay = CardRelay(lambda: GA467Reader(sim.port, timeout=2), live.url, "t", "k3", card_port)
    task = asyncio.create_task(relay.run(stop))
    await asyncio.wait_for(relay.listening.wait(), 10)
    yield sim
    stop.set()
    await asyncio.wait_for(task, 10)
    sim.close()


async def put_card(sim: SimulatedReader) -> None:
    sim.card = SENIOR


async def take_card_away(sim: SimulatedReader) -> None:
    sim.card = None
    seen = len(sim.frames)
    async with asyncio.timeout(10):
        while FIND not in sim.frames[seen:]:
            await asyncio.sleep(0.05)


async def test_a_card_takes_three_numbers_and_the_fourth_is_refused_with_a_clear_message(browser, live, reader):
    page = await (await browser.new_context(viewport=PORTRAIT, locale="zh-CN", has_touch=True)).new_page()
    await page.goto(live.url + "/kiosk/t/k3")
    await page.wait_for_selector("body[data-status=online][data-card-reader=online]")
    numbers = []
    for department, item in (("a", "a1"), ("b", "b1"), ("c", "c1"), ("a", "a1")):
        await put_card(reader)
        await page.wait_for_selector("#card:not([hidden])")
        await page.wait_for_selector("body[data-screen=departments]")
        banner = await text(page, "#card")
        assert "110*************2X" in banner and "老年人优先" in banner
        await page.tap(f"[data-department={department}]")
        await page.tap(f"[data-item={item}]")
        assert await page.get_attribute("#priority", "aria-pressed") == "true"  # offered to a senior
        await page.tap("#take")
        if len(numbers) < 3:
            await page.wait_for_selector("body[data-screen=ticket]")
            numbers.append(await text(page, "#t-number"))
            await page.tap("#done")
            await page.wait_for_selector("body[data-screen=home]")
            assert await page.is_hidden("#card")
        else:
            await page.wait_for_selector("#message:not([hidden])")
            message = await text(page, "#message-text")
            assert message == "该身份证今日已取满3个号，如需帮助请到咨询台。"
        html = await page.content()
        assert SENIOR not in html and "19491231" not in html
        await take_card_away(reader)
    assert numbers == ["A001", "C001", "D001"]


async def test_the_card_finds_the_holders_booking_and_checks_it_in_with_a_tap(browser, live, reader):
    import aiohttp

    from tests.proof import solved

    async with aiohttp.ClientSession() as http:
        async with http.post(f"{live.url}/api/v1/halls/t/challenge") as r:
            challenge = solved(await r.json())
        body = {"item": "a1", "slot_start": "2026-11-25T09:30:00+08:00", "phone": "13812345678", "id_number": SENIOR,
                "proof": challenge}
        async with http.post(f"{live.url}/api/v1/halls/t/appointments", json=body) as r:
            assert r.status == 201, await r.text()
            code = (await r.json())["code"]
    page = await (await browser.new_context(viewport=PORTRAIT, locale="zh-CN", has_touch=True)).new_page()
    await page.goto(live.url + "/kiosk/t/k3")
    await page.wait_for_selector("body[data-status=online][data-card-reader=online]")
    await put_card(reader)
    tile = page.locator("#card-bookings [data-booking='0']")
    await tile.wait_for()
    assert "预约签到" in await tile.text_content() and "09:30" in await tile.text_content()
    await tile.tap()
    await page.wait_for_selector("body[data-screen=ticket]")
    assert await text(page, "#t-number") == "A001" and "预约" in await text(page, "#t-item")
    html = await page.content()
    assert SENIOR not in html and code not in html  # the code stays the holder's secret
    await take_card_away(reader)
