"""Printer faults and reprints (补打) on the staff's screens, in a real headless Chromium, against a
real server process with the kiosk's print agent and a loopback TCP printer recording every byte:
the manager's board shows a fault as it happens and reprints a flagged ticket."""

from __future__ import annotations

from tests.browser.test_kiosk import config_dir, hall, journal, printer_port  # noqa: F401 (fixtures)
from tests.browser.test_terminal import text
from tests.kiosk.fakes import qr_payloads


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
        assert "A001" in await row.inner_text() and "offline" in await row.inner_text()

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

