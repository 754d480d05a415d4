"""Registered devices in a real headless Chromium: a kiosk page shows its registration code, a
manager approves it on the dashboard's 设备管理 page in another browser context, the kiosk goes
on by itself and issues a ticket; revoked, it shows the registration page again. A lobby screen
registers the same way."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from server.api.context import CTX
from tests.browser.test_display import text
from tests.browser.waits import until
from tests.halls import small_config, write_config
from tests.proof import solved

PORTRAIT = {"width": 1080, "height": 1920}


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "config"
    write_config(folder, small_config(devices={"required": True}))
    kiosks = [{"id": "k1", "name": "一楼 自助取号机1"}, {"id": "k2", "name": "二楼 自助取号机2"}]
    (folder / "t" / "kiosks.yaml").write_text(yaml.safe_dump(kiosks, allow_unicode=True), encoding="utf-8")
    return folder


async def registration_code(page) -> str:  # type: ignore[no-untyped-def]
    await page.wait_for_selector("#device-registration .dr-code[data-code]", timeout=10000)
    return await until(page, "document.querySelector('#device-registration .dr-code').dataset.code", timeout=10)


async def manager_page(browser, url: str):  # type: ignore[no-untyped-def]
    context = await browser.new_context(viewport={"width": 1600, "height": 1000}, locale="zh-CN")
    page = await context.new_page()
    page.on("dialog", lambda dialog: dialog.accept())
    await page.goto(f"{url}/dashboard/t/devices")
    await page.wait_for_selector("form#login")  # not logged in: the staff login, then back here
    await page.fill("#username", "boss")
    await page.fill("#password", "demo")
    await page.click("form#login button[type=submit]")
    await page.wait_for_url(f"{url}/dashboard/t/devices", timeout=10000)
    await page.wait_for_selector("#main:not([hidden])")
    return page


async def test_a_kiosk_registers_is_approved_on_the_dashboard_issues_and_falls_back_when_revoked(browser, live):
    kiosk = await (await browser.new_context(viewport=PORTRAIT, locale="zh-CN", has_touch=True)).new_page()
    await kiosk.goto(live.url + "/kiosk/t/k1")
    code = await registration_code(kiosk)
    assert len(code) == 6 and code.isdigit()
    assert await kiosk.get_attribute("body", "data-device") == "registering"
    assert "自助取号机" in await text(kiosk, "#device-registration .dr-what")
    assert "一楼 自助取号机1" in await text(kiosk, "#device-registration .dr-what")
    assert await text(kiosk, "#device-registration .dr-code") == f"{code[:3]} {code[3:]}"

    manager = await manager_page(browser, live.url)
    row = f"#pending tr[data-code='{code}']"
    await manager.wait_for_selector(row, timeout=10000)
    assert "自助取号机" in await text(manager, row)
    assert await manager.input_value(f"{row} select[name=bind]") == "k1"
    await manager.click(f"{row} button.approve")
    await manager.wait_for_selector("#known tr[data-status=approved]", timeout=10000)
    assert "boss" in await text(manager, "#known tr[data-status=approved]")

    # The kiosk goes on by itself: no reload, no touch.
    await kiosk.wait_for_selector("body[data-device=approved][data-status=online]", timeout=15000)
    assert await kiosk.query_selector("#device-registration") is None
    assert await until(kiosk, "localStorage.getItem('hallq.device.t.kiosk')")
    for sel in ("[data-go=departments]", "[data-department=a]", "[data-item=a1]", "#take"):
        await kiosk.tap(sel)
    await kiosk.wait_for_selector("body[data-screen=ticket]", timeout=10000)
    assert await text(kiosk, "#t-number") == "A001"
    hall = live.app[CTX].halls["t"]
    events = await hall.journal.read("t", hall.state.day)
    assert [(e.data["number"], e.data["by"]) for e in events if e.data["type"] == "ticket_issued"] == [("A001", "kiosk:k1")]

    await manager.click("#known tr[data-status=approved] button.revoke")
    await manager.wait_for_selector("#known tr[data-status=revoked]", timeout=10000)
    # Its websocket is closed at once and the page shows a new registration code.
    new_code = await registration_code(kiosk)
    assert new_code != code
    assert await kiosk.get_attribute("body", "data-device") == "registering"
    assert await until(kiosk, "localStorage.getItem('hallq.device.t.kiosk') === null")


async def test_a_lobby_screen_registers_and_shows_the_hall_once_approved(browser, live):
    lobby = await (await browser.new_context(viewport={"width": 1920, "height": 1080}, locale="zh-CN")).new_page()
    await lobby.goto(live.url + "/display/t/lobby")
    code = await registration_code(lobby)
    assert "大厅叫号屏" in await text(lobby, "#device-registration .dr-what")
    manager = await manager_page(browser, live.url)
    row = f"#pending tr[data-code='{code}']"
    await manager.wait_for_selector(row, timeout=10000)
    await manager.fill(f"{row} input[name=name]", "一楼大厅 叫号屏")
    await manager.click(f"{row} button.approve")
    await lobby.wait_for_selector("body[data-device=approved][data-status=online]", timeout=15000)
    assert await until(lobby, "document.querySelectorAll('#windows li').length") == 3
    assert await lobby.query_selector("#device-registration") is None
    await manager.wait_for_selector("#known tr[data-status=approved]")
    assert "一楼大厅 叫号屏" in await text(manager, "#known tr[data-status=approved]")


async def test_an_evaluator_device_needs_no_clerk_login_and_rates_with_its_token(browser, live):
    from tests.server_process import Api

    api = Api(live.url)
    try:
        page = await (await browser.new_context(viewport={"width": 1024, "height": 600}, locale="zh-CN")).new_page()
        await page.goto(live.url + "/terminal/t/evaluator/w1")
        code = await registration_code(page)
        assert "评价器" in await text(page, "#device-registration .dr-what")
        (pending,) = await api.get("/api/v1/halls/t/devices", who="boss")
        assert (pending["code"], pending["kind"], pending["place"]) == (code, "evaluator", "w1")
        await api.post(f"/api/v1/halls/t/devices/{pending['id']}/approve", {"code": code, "name": "1号窗口 评价器", "window": "w1"}, who="boss")
        await page.wait_for_selector("body[data-device=approved][data-status=online][data-mode=idle]", timeout=15000)

        online = solved(await api.post("/api/v1/halls/t/challenge"))
        t = await api.post("/api/v1/halls/t/tickets", {"item": "a1", "channel": "online", "proof": online})
        for action, body in (("open", {}), ("call-next", {}), ("start", {}), ("finish", {"case_type": "immediate"})):
            await api.post(f"/api/v1/halls/t/windows/w1/{action}", body, who="w1a")
        await page.wait_for_selector(f"body[data-mode=rate][data-rating={t['number']}]", timeout=10000)
        await page.click("#levels [data-score='5']")
        await page.click("#submit")
        await page.wait_for_selector("body[data-mode=thanks]", timeout=10000)
        events = (await api.get("/api/v1/halls/t/events", who="boss"))["events"]
        assert [(e["ticket"], e["score"], e["by"]) for e in events if e["type"] == "ticket_evaluated"] == [(t["id"], 5, "evaluator-w1")]
    finally:
        await api.close()
