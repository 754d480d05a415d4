"""Online booking on a phone-sized Chromium: book a slot, check in at the kiosk with the code, be
called first; take a number remotely and confirm arrival. No full phone number anywhere public."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import shutil
from pathlib import Path

import aiohttp
import pytest
import yaml

from tests.browser.test_display import text
from tests.browser.waits import until
from tests.halls import write_config
from tests.proof import proof

DOCS = Path(__file__).resolve().parents[2] / "docs"
PHONE = {"width": 390, "height": 844}
PORTRAIT = {"width": 1080, "height": 1920}
NUMBER = "13812345678"


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "config"
    write_config(folder)
    (folder / "t" / "kiosks.yaml").write_text(yaml.safe_dump([{"id": "k1", "name": "一楼 自助取号机1"}], allow_unicode=True),
                                               encoding="utf-8")
    return folder


@contextlib.asynccontextmanager
async def public_feed(url: str):  # type: ignore[no-untyped-def]
    """Every message a public screen receives while the block runs."""
    received: list[str] = []
    async with aiohttp.ClientSession() as http, http.ws_connect(url.replace("http", "ws", 1) + "/ws/v1/halls/t") as ws:
        async def read() -> None:
            async for msg in ws:
                received.append(msg.data)

        task = asyncio.create_task(read())
        try:
            yield received, http
        finally:
            await asyncio.sleep(0.3)
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def staff(http: aiohttp.ClientSession, url: str, who: str = "w1a") -> dict[str, str]:
    async with http.post(url + "/api/v1/auth/login", json={"username": who, "password": "demo"}) as r:
        return {"Authorization": f"Bearer {(await r.json())['token']}"}


async def test_book_a_slot_on_a_phone_check_in_at_the_kiosk_and_be_called_first(browser, live, clock, tmp_path):
    async with public_feed(live.url) as (feed, http):
        phone = await (await browser.new_context(viewport=PHONE, locale="zh-CN", has_touch=True, is_mobile=True)).new_page()
        posted: list = []
        phone.on("request", lambda req: posted.append((req.url, req.post_data)) if req.method == "POST" else None)
        await phone.goto(live.url + "/book/t")
        await phone.tap("#b-dept-list button:has-text('甲局')")
        await phone.tap("#b-item-list button:has-text('甲一')")
        assert [await li.text_content() for li in await phone.query_selector_all("#b-materials li")] == ["身份证", "申请表"]
        assert "不收费" in await text(phone, "#b-publics")
        assert await phone.is_hidden("#b-remote")  # a1 is booked, not queued for remotely
        await phone.tap("#b-book")
        await phone.wait_for_selector("[data-day='2026-11-25']")
        assert await phone.is_disabled("[data-day='2026-11-28']")  # Saturday: no slots
        await phone.tap("[data-day='2026-11-25']")
        assert await phone.is_disabled("[data-slot='2026-11-25T08:30:00+08:00']")  # begun
        await phone.tap("[data-slot='2026-11-25T09:30:00+08:00']")
        await phone.fill("#b-phone-input", "1381234567")  # one digit short
        await phone.tap("#b-confirm")
        await phone.wait_for_selector("#b-error:not([hidden])")
        assert "11位手机号码" in await text(phone, "#b-error")
        await phone.fill("#b-phone-input", NUMBER)
        await phone.tap("#b-confirm")
        await phone.wait_for_selector("body[data-screen=booking]")
        code = await text(phone, "#b-code")
        assert re.fullmatch(r"[2-9A-HJ-NP-Z]{8}", code)
        # The page worked out a proof for each attempt (the refused short number spent nothing but its own).
        booked = [json.loads(body) for url, body in posted if url.endswith("/api/v1/halls/t/appointments")]
        assert len(booked) == 2 and booked[0]["proof"]["challenge"] != booked[1]["proof"]["challenge"]
        assert all(b["proof"]["challenge"].startswith("v1.t.") and b["proof"]["answer"].isdigit() for b in booked)
        assert len([u for u, _ in posted if u.endswith("/api/v1/halls/t/challenge")]) >= 2
        assert await text(phone, "#b-b-phone") == "138****5678"
        assert "09:30–10:00" in await text(phone, "#b-b-time") and await text(phone, "#b-status") == "已预约"
        await until(phone, "document.getElementById('b-qr').naturalWidth > 0")
        assert phone.url.endswith(f"/book/t/{code}")
        box = await phone.locator("#b-reschedule").bounding_box()
        assert box and box["height"] >= 48 and box["width"] >= 300  # a thumb's target on a phone
        pages = {"booking": await phone.content()}
        shot = tmp_path / "booking.png"
        await phone.screenshot(path=str(shot), full_page=True)
        if os.environ.get("HALLQ_SCREENSHOTS"):  # the README's picture (docs/booking.png)
            shutil.copy(shot, DOCS / "booking.png")
        await phone.tap("#b-lang")
        assert await text(phone, "#b-status") == "Booked"
        await phone.reload()  # the booking's own page, from its address
        await phone.wait_for_selector("body[data-screen=booking]")
        pages["manage"] = await phone.content()

        # A walk-in came earlier; the booking checks in at the kiosk inside its slot.
        async with http.post(live.url + "/api/v1/halls/t/tickets", json={"item": "a1"}) as r:
            walk_in = await r.json()
        clock.advance(31 * 60)
        kiosk = await (await browser.new_context(viewport=PORTRAIT, locale="zh-CN", has_touch=True)).new_page()
        await kiosk.goto(live.url + "/kiosk/t/k1")
        await kiosk.wait_for_selector("body[data-status=online]")
        await kiosk.tap("[data-go=checkin]")
        for ch in code:
            await kiosk.tap(f"#code-keys [data-key='{ch}']")
        await kiosk.tap("#checkin-go")
        await kiosk.wait_for_selector("body[data-screen=ticket]")
        number = await text(kiosk, "#t-number")
        # the ticket's own address, as its QR gives it to the citizen's phone (clerks never see it)
        held = (await kiosk.get_attribute("#t-qr", "src")).split("/tickets/")[1].split("/")[0]
        assert "预约" in await text(kiosk, "#t-item")
        pages["kiosk"] = await kiosk.content()

        h = await staff(http, live.url)
        async with http.post(live.url + "/api/v1/halls/t/windows/w1/open", headers=h):
            pass
        async with http.post(live.url + "/api/v1/halls/t/windows/w1/call-next", headers=h) as r:
            called = (await r.json())["ticket"]
        assert called["number"] == number != walk_in["number"] and called["appointment"] is True
        await phone.goto(f"{live.url}/t/{held}")
        await phone.wait_for_selector("#m-call:not([hidden])")
        assert "1号窗口" in await text(phone, "#m-call")
        await phone.goto(f"{live.url}/book/t/{code}")
        await until(phone, "document.getElementById('b-status').textContent === '已签到'")
        pages["ticket"] = await phone.content()

        public = {}
        for path in (f"/api/v1/halls/t/appointments/{code}", "/api/v1/halls/t/appointments/slots?item=a1",
                     f"/api/v1/halls/t/tickets/{held}", "/api/v1/halls/t/queues", "/api/v1/halls/t/windows",
                     "/api/v1/halls/t/catalog", f"/book/t/{code}/qr.svg"):
            async with http.get(live.url + path) as r:
                assert r.status == 200, path
                public[path] = await r.text()
    assert feed and any('"ticket_called"' in m for m in feed)
    assert '"appointment_registered"' not in "".join(feed)  # bookings stay off public screens
    for where, content in {**pages, **public, "feed": "\n".join(feed)}.items():
        assert NUMBER not in content, where
    assert "138****5678" in public[f"/api/v1/halls/t/appointments/{code}"]
    assert json.loads(public[f"/api/v1/halls/t/appointments/{code}"])["status"] == "checked_in"


async def test_a_remote_number_taken_on_a_phone_is_called_once_its_holder_confirms_arrival(browser, live):
    async with public_feed(live.url) as (feed, http):
        phone = await (await browser.new_context(viewport=PHONE, locale="zh-CN", has_touch=True, is_mobile=True)).new_page()
        await phone.goto(live.url + "/book/t")
        await phone.tap("#b-dept-list button:has-text('甲局')")
        await phone.tap("#b-item-list button:has-text('甲二')")
        assert await phone.is_hidden("#b-book")
        await phone.tap("#b-remote")
        await phone.fill("#b-phone-input", NUMBER)
        await phone.tap("#b-confirm")
        await phone.wait_for_url(re.compile(r"/t/[\w-]+$"))
        await phone.wait_for_selector("#m-arrive:not([hidden])")
        assert "前面只有 0 人" in await text(phone, "#m-arrive-text")
        assert await phone.get_attribute("body", "data-arrival") == "asked"
        h = await staff(http, live.url)
        async with http.post(live.url + "/api/v1/halls/t/windows/w1/open", headers=h):
            pass
        async with http.post(live.url + "/api/v1/halls/t/windows/w1/call-next", headers=h) as r:
            assert (await r.json())["ticket"] is None  # not here yet: skipped, not called
        await phone.tap("#m-arrive-go")
        await until(phone, "document.body.dataset.arrival === 'confirmed'")
        assert await phone.is_hidden("#m-arrive-go")
        async with http.post(live.url + "/api/v1/halls/t/windows/w1/call-next", headers=h) as r:
            called = (await r.json())["ticket"]
        assert await text(phone, "#m-number") == called["number"]  # the phone follows the ticket just called
        await phone.wait_for_selector("#m-call:not([hidden])")
        content = await phone.content()
    assert NUMBER not in content and NUMBER not in "\n".join(feed)


async def test_a_booking_is_moved_and_cancelled_on_the_phone_and_the_manager_sees_the_day(browser, live, clock):
    async with aiohttp.ClientSession() as http:
        async with http.post(live.url + "/api/v1/halls/t/appointments",
                             json={"item": "a1", "slot_start": "2026-11-25T09:30:00+08:00", "phone": NUMBER,
                                   "proof": await proof(http, live.url)}) as r:
            code = (await r.json())["code"]
        phone = await (await browser.new_context(viewport=PHONE, locale="zh-CN", has_touch=True, is_mobile=True)).new_page()
        missing = await phone.goto(f"{live.url}/book/t/NOPE2345")
        assert missing.status == 404
        await phone.wait_for_selector("#b-error:not([hidden])")
        assert "没有找到这个预约码" in await text(phone, "#b-error")
        await phone.goto(f"{live.url}/book/t")
        await phone.fill("#b-find-input", "NOPE2345")
        await phone.tap("#b-find")
        await phone.wait_for_selector("#b-error:not([hidden])")
        assert "没有找到这个预约码" in await text(phone, "#b-error")
        await phone.fill("#b-find-input", code.lower())
        await phone.tap("#b-find")
        await phone.wait_for_selector("body[data-screen=booking]")
        assert phone.url.endswith(f"/book/t/{code}")
        await phone.tap("#b-reschedule")
        await phone.tap("[data-day='2026-11-26']")
        await phone.tap("[data-slot='2026-11-26T14:00:00+08:00']")
        await phone.wait_for_selector("body[data-screen=booking]")
        await until(phone, "document.getElementById('b-b-time').textContent.includes('14:00–14:30')")
        assert await text(phone, "#b-code") == code and "11月26日" in await text(phone, "#b-b-time")

        # The manager's page for Thursday lists it, phone masked.
        manager = await (await browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN")).new_page()
        await manager.goto(f"{live.url}/dashboard/t/appointments")
        await manager.fill("input[name=username]", "boss")
        await manager.fill("input[name=password]", "demo")
        await manager.click("#login-form button[type=submit]")
        await manager.fill("#appt-day", "2026-11-26")
        await manager.click("#appt-form button[type=submit]")
        row = "tr[data-item=a1][data-slot='2026-11-26T14:00:00+08:00']"
        await manager.wait_for_selector(row)
        assert f"{code} 138****5678 已预约" in await text(manager, row)
        assert NUMBER not in await manager.content()

        await phone.tap("#b-cancel")
        await phone.tap("#b-yes")
        await until(phone, "document.body.dataset.bookingStatus === 'cancelled'")
        assert await phone.is_hidden("#b-reschedule") and await text(phone, "#b-status") == "已取消"

        # A kiosk's QR scanner types a code and Enter on the home screen: the check-in follows.
        async with http.post(live.url + "/api/v1/halls/t/appointments",
                             json={"item": "a1", "slot_start": "2026-11-25T10:00:00+08:00", "phone": NUMBER,
                                   "proof": await proof(http, live.url)}) as r:
            code = (await r.json())["code"]
        clock.advance(40 * 60)
        kiosk = await (await browser.new_context(viewport=PORTRAIT, locale="zh-CN")).new_page()
        await kiosk.goto(live.url + "/kiosk/t/k1")
        await kiosk.wait_for_selector("body[data-status=online]")
        await kiosk.keyboard.type(code)
        await kiosk.keyboard.press("Enter")
        await kiosk.wait_for_selector("body[data-screen=ticket]")
        assert await text(kiosk, "#t-number") == "A001"


async def test_the_pages_own_sha256_for_plain_http_agrees_with_the_servers(browser, live):
    """On plain HTTP inside a hall's intranet the browser has no crypto.subtle: the page hashes itself."""
    import hashlib

    page = await (await browser.new_context(viewport=PHONE, locale="zh-CN")).new_page()
    await page.goto(live.url + "/book/t")
    texts = ["", "abc", "v1.t.1764032400.8.0f:123", "预约" * 40, "x" * 1000]
    got = await page.evaluate("""async (texts) => {
        const m = await import("/static/kiosk/proof.js");
        const hex = (b) => [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
        return texts.map((t) => hex(m.sha256(new TextEncoder().encode(t))));
    }""", texts)
    assert got == [hashlib.sha256(t.encode()).hexdigest() for t in texts]
