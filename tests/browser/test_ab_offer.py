"""AB岗 on the clerk's terminal in a real headless Chromium (1366×768): the B post's terminal
offers the window when A pauses (live, from the hall's feed) and when A has not opened it at the
start of its hours; one click takes it over, and the terminal then says B is on duty."""

from __future__ import annotations

from datetime import datetime

from server.api.context import CTX
from server.domain import commands as c
from tests.browser.test_terminal import log_in_with_the_keyboard, text
from tests.halls import TZ


async def b_terminal(browser, live):  # type: ignore[no-untyped-def]
    context = await browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    page = await context.new_page()
    await log_in_with_the_keyboard(page, live.url + "/terminal/t", "w1b")
    await page.wait_for_url("**/terminal/t/window/w1")
    await page.wait_for_selector("body[data-status=online]")
    return page


async def fits(page) -> None:  # type: ignore[no-untyped-def]
    """The offer bar pushes nothing off the 1366×768 screen: the action buttons stay in view."""
    box = await page.locator("#actions").bounding_box()
    assert box is not None and box["y"] + box["height"] <= 768


async def test_b_takes_over_a_window_a_paused(browser, live, clock):
    service = live.app[CTX].halls["t"]
    await service.handle(c.OpenWindow(by="w1a", window="w1"))
    page = await b_terminal(browser, live)
    await page.wait_for_selector("body[data-state=idle]")
    assert await page.is_hidden("#offer")
    await service.handle(c.Pause(by="w1a", window="w1", reason="临时离岗"))
    await page.wait_for_selector("#offer:not([hidden])")  # the feed's event, no reload
    assert await text(page, "#offer-text") == "张一（A岗）已暂停离岗：请接管窗口"
    assert await text(page, "#take-over") == "接管窗口"
    await fits(page)
    await page.click("#take-over")
    await page.wait_for_selector("body[data-state=idle]")
    await page.wait_for_selector("#offer[hidden]", state="attached")
    assert await text(page, "#on-duty") == "当班 李一 · B岗"
    w = service.state.window("w1")
    assert (w.status.value, w.clerk) == ("idle", "w1b")


async def test_b_opens_a_window_a_has_not_opened(browser, live, clock):
    clock.t = datetime(2026, 11, 25, 8, 36, tzinfo=TZ)  # the hall opens at 08:30; grace 5 minutes
    page = await b_terminal(browser, live)
    await page.wait_for_selector("#offer:not([hidden])")
    assert await text(page, "#offer-text") == "张一 未按时开窗（应于 08:35）：请以B岗身份开窗"
    assert await text(page, "#take-over") == "开窗接岗"
    await fits(page)
    await page.click("#take-over")
    await page.wait_for_selector("body[data-state=idle]")
    assert await page.is_hidden("#offer")
    assert await text(page, "#on-duty") == "当班 李一 · B岗"
