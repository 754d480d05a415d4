"""The board's idle-while-waiting alert (issue 19): window 2 open and calling nobody while a
citizen waits for its item raises 空岗不叫号 after 5 minutes; calling clears it. The rule is in
server/domain/supervision.py (idle_and_awaited); this walks it on the real board in Chromium."""

from __future__ import annotations

from server.api.context import CTX
from server.api.supervision import SUPERVISORS
from server.domain import commands as c


async def test_an_idle_window_with_people_waiting_is_an_alert_on_the_board(live, page, clock):
    service = live.app[CTX].halls["t"]
    await service.handle(c.OpenWindow(by="w2a", window="w2"))
    await service.handle(c.IssueTicket(by="kiosk", ticket="tk-idle-1", item="b1", channel="kiosk"))
    clock.advance(5 * 60)
    await live.app[SUPERVISORS]["t"].sweep()

    await page.goto(f"{live.url}/dashboard/t/")
    await page.fill("input[name=username]", "boss")
    await page.fill("input[name=password]", "demo")
    await page.click("#login-form button[type=submit]")
    alert = page.locator('#alerts li.alert[data-key="idle:w2"]')
    await alert.wait_for(timeout=10000)
    text = await alert.inner_text()
    assert "空岗不叫号" in text and "2号窗口" in text and "5" in text

    await service.handle(c.CallNext(by="w2a", window="w2"))
    await live.app[SUPERVISORS]["t"].sweep()
    await alert.wait_for(state="detached", timeout=10000)
