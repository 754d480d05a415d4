"""The clerk's terminal at 1366×768 (issue 19): E asks only for the ticket just finished, the
one-time-notice dialog keeps its error and its OK button in sight, transfer offers only windows
that serve the ticket's item, and Enter on a select confirms. Real Chromium, the real app."""

from __future__ import annotations

import aiohttp

from tests.browser.waits import until

SCREEN = {"width": 1366, "height": 768}


class Clerk:
    """The same clerk's API session beside the page (the page has its own cookie session)."""

    def __init__(self, url: str, http: aiohttp.ClientSession) -> None:
        self.url, self.http, self.headers = url, http, {}

    async def login(self, who: str) -> Clerk:
        async with self.http.post(self.url + "/api/v1/auth/login", json={"username": who, "password": "demo"}) as r:
            self.headers = {"Authorization": f"Bearer {(await r.json())['token']}"}
        return self

    async def post(self, path: str, body: dict | None = None) -> dict:
        async with self.http.post(self.url + path, json=body or {}, headers=self.headers) as r:
            assert r.status < 300, await r.text()
            return await r.json() if r.status != 204 else {}

    async def events(self) -> list[dict]:
        boss = await Clerk(self.url, self.http).login("boss")
        async with self.http.get(self.url + "/api/v1/halls/t/events", headers=boss.headers) as r:
            return (await r.json())["events"]


async def terminal(browser, url: str):  # type: ignore[no-untyped-def]
    page = await (await browser.new_context(viewport=SCREEN, locale="zh-CN")).new_page()
    await page.goto(url + "/terminal/t")
    await page.fill("#username", "w1a")
    await page.fill("#password", "demo")
    await page.press("#password", "Enter")
    await page.wait_for_url("**/terminal/t/window/w1")
    await page.wait_for_selector("body[data-status=online]")
    return page


def in_sight(box: dict | None) -> bool:
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= SCREEN["height"] and box["height"] > 0


async def test_e_asks_only_for_the_ticket_just_finished(browser, live):
    async with aiohttp.ClientSession() as http:
        for item in ("a1", "a2"):
            await Clerk(live.url, http).post("/api/v1/halls/t/tickets", {"item": item})
        clerk = await Clerk(live.url, http).login("w1a")
        for action, body in (("open", {}), ("call-next", {}), ("start", {}), ("finish", {"case_type": "immediate"})):
            await clerk.post(f"/api/v1/halls/t/windows/w1/{action}", body)
        page = await terminal(browser, live.url)
        await page.keyboard.press("e")
        await until(page, "document.getElementById('message').textContent.includes('A001')")
        assert await page.text_content("#message") == "已请 A001 号评价"

        await clerk.post("/api/v1/halls/t/windows/w1/call-next")  # B001 (甲二) comes to the counter
        await until(page, "document.body.textContent.includes('B001')")
        await page.keyboard.press("e")
        await until(page, "document.getElementById('message').classList.contains('error')")
        assert await page.text_content("#message") == "当前号码尚未办结：办结后再邀请评价"
        asked = [e["number"] for e in await clerk.events() if e["type"] == "evaluation_requested"]
        assert asked == ["A001"]  # never A001 again while B001 is being served


async def test_the_one_time_notice_dialog_fits_1366x768_and_transfer_offers_only_serving_windows(browser, live):
    async with aiohttp.ClientSession() as http:
        await Clerk(live.url, http).post("/api/v1/halls/t/tickets", {"item": "a2"})  # 甲二: windows 1 and 3
        clerk = await Clerk(live.url, http).login("w1a")
        for action in ("open", "call-next", "start"):
            await clerk.post(f"/api/v1/halls/t/windows/w1/{action}")
        page = await terminal(browser, live.url)
        await until(page, "document.body.dataset.state === 'serving'")

        await page.keyboard.press("f")
        await page.wait_for_selector("#dlg-finish[open]")
        await page.check("#dlg-finish input[name=outcome][value=one_time_notice]")
        await page.click("#dlg-finish button[type=submit]")  # no missing material ticked: refused, in words
        error = page.locator("#dlg-finish .dlg-error")
        await until(page, "document.querySelector('#dlg-finish .dlg-error').textContent.length > 0")
        assert await error.text_content() == "一次性告知须列出所缺的每一项材料"
        assert in_sight(await error.bounding_box())
        assert in_sight(await page.locator("#dlg-finish button[type=submit]").bounding_box())
        await page.keyboard.press("Escape")

        await page.keyboard.press("t")
        await page.wait_for_selector("#dlg-transfer[open]")
        offered = await page.evaluate("[...document.querySelectorAll('#dlg-transfer select[name=window] option')]"
                                      ".filter((o) => !o.disabled).map((o) => o.value)")
        assert offered == ["w3"]  # window 2 does not serve 甲二
        await page.keyboard.press("2")  # to a window
        await page.focus("#dlg-transfer select[name=window]")
        await page.keyboard.press("Enter")  # Enter on the select confirms
        await until(page, "!document.getElementById('dlg-transfer').open")
        transferred = [e for e in await clerk.events() if e["type"] == "ticket_transferred"]
        assert [(e["window"], e["to_item"], e["to_window"]) for e in transferred] == [("w1", "a2", "w3")]


async def test_a_one_time_notice_is_printed_for_the_citizen(browser, live):
    async with aiohttp.ClientSession() as http:
        await Clerk(live.url, http).post("/api/v1/halls/t/tickets", {"item": "a1"})
        clerk = await Clerk(live.url, http).login("w1a")
        for action in ("open", "call-next", "start"):
            await clerk.post(f"/api/v1/halls/t/windows/w1/{action}")
        page = await terminal(browser, live.url)
        await until(page, "document.body.dataset.state === 'serving'")
        await page.keyboard.press("f")
        await page.wait_for_selector("#dlg-finish[open]")
        await page.check("#dlg-finish input[name=outcome][value=one_time_notice]")
        await page.check("#dlg-finish input[name=missing][value=申请表]")
        await page.click("#dlg-finish button[type=submit]")
        link = page.locator("#notice-link")
        await link.wait_for()
        async with page.context.expect_page() as opened:
            await link.click()
        sheet = await opened.value
        await sheet.wait_for_load_state()
        assert await sheet.text_content("h2") == "一次性告知单"
        assert [await li.text_content() for li in await sheet.query_selector_all("#notice-missing li")] == ["申请表"]
        assert "A001" in (await sheet.text_content(".notice-head") or "")
        async with http.get(live.url + "/terminal/t/notice/A001") as r:  # not signed in: to the login page
            assert "/terminal/t/login" in str(r.url)
