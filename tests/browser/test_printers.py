"""Printer faults and reprints (补打) on the staff's screens, in a real headless Chromium, against a
real server process with the kiosk's print agent and a loopback TCP printer recording every byte:
the manager's board shows a fault as it happens and reprints a flagged ticket; a clerk reprints
the ticket at the counter with one key."""

from __future__ import annotations

from tests.browser.test_kiosk import config_dir, hall, journal, printer_port  # noqa: F401 (fixtures)
from tests.browser.test_terminal import log_in_with_the_keyboard, text
from tests.browser.waits import until, press
from tests.surfaces.kiosk.fakes import qr_payloads


async def test_a_manager_sees_a_printer_fault_appear_live_and_reprints_the_flagged_ticket(
    browser, config_dir, tmp_path, printer_port  # noqa: F811
):
    async with hall(config_dir, tmp_path / "data", printer_port) as (server, printer, api):
        page = await (await browser.new_context(viewport={"width": 1600, "height": 1200}, locale="zh-CN")).new_page()
        await page.goto(f"{server.url}/dashboard/t/")
        await page.fill("input[name=username]", "boss")
        await page.fill("input[name=password]", "demo")
        await page.click("#login-form button[type=submit]")
        await page.wait_for_selector("#printers-panel[data-status=online]")
        await page.wait_for_selector('#printers li[data-kiosk=k1][data-state=ok]', timeout=10000)
        assert "打印机正常" in await text(page, '#printers li[data-kiosk=k1]')
        assert await text(page, "#print-failed") == "没有打印失败的号码"

        await printer.stop()  # switched off: the next ticket cannot print
        issued = await api.post("/api/v1/halls/t/kiosks/k1/tickets", {"item": "a1"})
        # Nobody reloads: the fault and the flagged ticket come over the printers' feed.
        await page.wait_for_selector('#printers li[data-kiosk=k1][data-state=offline]', timeout=10000)
        assert "打印机未连接" in await text(page, '#printers li[data-kiosk=k1]')
        row = page.locator(f'#print-failed tr[data-ticket="{issued["id"]}"]')
        await row.wait_for(timeout=10000)
        assert ["A001", "甲一"] == (await row.inner_text()).split()[:2] and "offline" in await row.inner_text()

        await printer.start()  # back on
        await row.locator("button.reprint").click()
        await printer.wait_for_cuts(1, timeout=10)
        await page.wait_for_selector(f'#print-failed tr[data-ticket="{issued["id"]}"]', state="detached", timeout=10000)
        assert "A001 号已送去 k1 补打" in await text(page, "#printers-message")
        assert "补打".encode("gb18030") in printer.data and qr_payloads(printer.data) == [issued["mobile_url"].encode()]
        await page.wait_for_timeout(500)
        assert printer.cuts == 1
        recorded = [(e["status"], e["by"]) for e in await journal(api) if e["type"] == "ticket_print_recorded"]
        assert recorded == [("failed", "kiosk:k1"), ("reprinted", "kiosk:k1")]
        assert await text(page, "#print-failed") == "没有打印失败的号码"


async def test_a_clerk_reprints_the_current_ticket_whose_print_failed_with_the_d_key(
    browser, config_dir, tmp_path, printer_port  # noqa: F811
):
    async with hall(config_dir, tmp_path / "data", printer_port) as (server, printer, api):
        await printer.stop()
        issued = await api.post("/api/v1/halls/t/kiosks/k1/tickets", {"item": "a1"})
        await until_flagged(api, issued["id"])
        await printer.start()

        page = await (await browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")).new_page()
        await log_in_with_the_keyboard(page, server.url + "/terminal/t", "w1a")
        await page.wait_for_selector("body[data-state=closed][data-status=online]:not(.busy)")
        assert await page.is_disabled('#actions button[data-action=reprint]')
        assert await text(page, '#actions button[data-action=reprint] kbd') == "D"  # the key, on its button
        await press(page, "o")
        await page.wait_for_selector("body[data-state=idle]:not(.busy)")
        await press(page, "n")
        await page.wait_for_selector("body[data-state=called]:not(.busy)")
        assert await text(page, "#number") == "A001"
        assert "凭条打印失败" in await text(page, "#ticket-status")
        await page.wait_for_selector('#actions button[data-action=reprint]:not([disabled])')

        await press(page, "d")
        await printer.wait_for_cuts(1, timeout=10)
        assert "A001 号凭条已送去补打" in await text(page, "#message")
        # The print is recorded: the flag and the key go away by themselves.
        await page.wait_for_selector('#actions button[data-action=reprint][disabled]', timeout=10000)
        await until(page, "!document.getElementById('ticket-status').textContent.includes('凭条打印失败')")
        await press(page, "d")  # nothing to reprint now
        await page.wait_for_timeout(500)
        assert printer.cuts == 1 and "补打".encode("gb18030") in printer.data
        recorded = [e for e in await journal(api) if e["type"] == "ticket_print_recorded"]
        assert [e["status"] for e in recorded] == ["failed", "reprinted"]


async def until_flagged(api, ticket_id: str) -> None:  # type: ignore[no-untyped-def]
    import asyncio
    import time

    deadline = time.monotonic() + 10
    while (await api.get(f"/api/v1/halls/t/tickets/{ticket_id}"))["print_status"] != "failed":
        assert time.monotonic() < deadline, "the ticket was not flagged"
        await asyncio.sleep(0.1)
