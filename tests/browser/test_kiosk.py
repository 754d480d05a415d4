"""The kiosk and the mobile ticket in a real headless Chromium, against a real server process,
with the print agent running and a loopback TCP printer recording every byte."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
from pathlib import Path

import aiohttp
import pytest
import yaml
from playwright.async_api import expect

from kiosk.agent import Agent, feed_url
from tests.browser.test_display import text
from tests.browser.waits import until
from tests.server_process import Api
from tests.halls import write_config
from tests.surfaces.kiosk.fakes import FakePrinter, qr_payloads
from tests.server_process import ServerProcess, free_port

DOCS = Path(__file__).resolve().parents[2] / "docs"
PORTRAIT = {"width": 1080, "height": 1920}
PHONE = {"width": 390, "height": 844}


def kiosks_yaml(port: int) -> str:
    return yaml.safe_dump([
        {"id": "k1", "name": "一楼 自助取号机1", "idle_s": 60,
         "printer": {"kind": "network", "address": f"127.0.0.1:{port}", "paper_mm": 80}},
    ], allow_unicode=True)


@pytest.fixture
def printer_port() -> int:
    return free_port()


@pytest.fixture
def config_dir(tmp_path: Path, printer_port: int) -> Path:
    folder = tmp_path / "config"
    write_config(folder)
    (folder / "t" / "kiosks.yaml").write_text(kiosks_yaml(printer_port), encoding="utf-8")
    return folder


@contextlib.asynccontextmanager
async def hall(config: Path, data: Path, printer_port: int, hall_id: str = "t"):  # type: ignore[no-untyped-def]
    """A server process, the loopback printer and the kiosk's print agent, all running."""
    printer = await FakePrinter(printer_port).start()
    server = ServerProcess(config, data)
    await server.start()
    agent = Agent(feed_url(server.url, hall_id, "k1"), data.parent / f"agent-{hall_id}.json", status_every=0, max_backoff=0.3)
    stop = asyncio.Event()
    task = asyncio.create_task(agent.run(stop))
    api = Api(server.url)
    try:
        await asyncio.wait_for(agent.connected.wait(), 10)
        yield server, printer, api
    finally:
        stop.set()
        await asyncio.wait_for(task, 5)
        await api.close()
        server.kill()
        await printer.stop()


async def journal(api: Api, hall_id: str = "t", who: str = "boss") -> list[dict]:
    async with api.http.post(api.url + "/api/v1/auth/login", json={"username": who, "password": "demo"}) as r:
        token = (await r.json())["token"]
    async with api.http.get(f"{api.url}/api/v1/halls/{hall_id}/events", headers={"Authorization": f"Bearer {token}"}) as r:
        return (await r.json())["events"]


async def test_tapping_department_item_and_take_number_shows_the_ticket_prints_it_and_journals_it(
    browser, config_dir, tmp_path, printer_port
):
    async with hall(config_dir, tmp_path / "data", printer_port) as (server, printer, api):
        page = await (await browser.new_context(viewport=PORTRAIT, locale="zh-CN", has_touch=True)).new_page()
        await page.goto(server.url + "/kiosk/t/k1")
        await page.wait_for_selector("body[data-status=online]")
        assert await page.is_hidden("#banner")  # agent connected, printer fine
        await page.tap("[data-go=departments]")
        await page.tap("[data-department=a]")
        await page.tap("[data-item=a1]")
        assert await text(page, "#item-name") == "甲一"
        assert [await li.text_content() for li in await page.query_selector_all("#materials li")] == ["身份证", "申请表"]
        assert "不收费" in await text(page, "#publics")
        box = await page.locator("#take").bounding_box()
        assert box and box["height"] >= 100  # big enough for elderly fingers
        await page.tap("#take")
        await page.wait_for_selector("body[data-screen=ticket]")
        assert await text(page, "#t-number") == "A001"
        assert "1号窗口" in await text(page, "#t-windows")
        await page.wait_for_selector("body[data-print=printed]", timeout=10000)
        assert await text(page, "#t-print") == "请取走凭条"
        # The pictures load on their own; on a busy machine they may still be on their way.
        await until(page, "document.getElementById('t-qr').naturalWidth > 0", timeout=10)
        await until(page, "document.getElementById('t-preview').naturalWidth === 576 + 48", timeout=10)

        events = await journal(api)
        issued = [e for e in events if e["type"] == "ticket_issued"]
        assert [(e["number"], e["item"], e["by"]) for e in issued] == [("A001", "a1", "kiosk:k1")]
        assert [e["status"] for e in events if e["type"] == "ticket_print_recorded"] == ["printed"]
        assert qr_payloads(printer.data) == [f"{server.url}/t/{issued[0]['ticket']}".encode()] and printer.cuts == 1

        await page.tap("#done")
        await page.wait_for_selector("body[data-screen=home]")
        await page.tap("#lang")
        assert await text(page, "[data-go=departments] .a-title") == "Take a number"
        await page.tap("[data-go=search]")
        await page.tap("#letters [data-key=Y]")
        assert {await b.get_attribute("data-item") for b in await page.query_selector_all("#search-results .tile")} >= {"b1", "a1", "c1"}
        await page.tap("#letters [data-key=Y]")
        assert [await b.get_attribute("data-item") for b in await page.query_selector_all("#search-results .tile")] == ["b1"]


async def test_without_the_server_the_kiosk_says_so_and_issues_nothing(browser, config_dir, tmp_path, printer_port):
    async with hall(config_dir, tmp_path / "data", printer_port) as (server, printer, api):
        page = await (await browser.new_context(viewport=PORTRAIT, locale="zh-CN")).new_page()
        await page.goto(server.url + "/kiosk/t/k1")
        await page.wait_for_selector("body[data-status=online]")
        for sel in ("[data-go=departments]", "[data-department=a]", "[data-item=a1]"):
            await page.click(sel)
        server.kill()
        await page.wait_for_selector("body[data-status=offline]", timeout=5000)
        assert "网络连接中断" in await text(page, "#banner")
        assert await page.is_disabled("#take")
        # A tap that races the outage gets a message, never a ticket on screen.
        await page.evaluate("document.getElementById('take').disabled = false")
        await page.click("#take")
        await page.wait_for_selector("#message:not([hidden])", timeout=10000)
        assert "暂时无法取号" in await text(page, "#message-text")
        assert await page.get_attribute("body", "data-screen") == "item"
        await server.start()
        await page.wait_for_selector("body[data-status=online]", timeout=15000)
        assert [e for e in await journal(api) if e["type"] == "ticket_issued"] == []
        assert printer.cuts == 0


async def test_the_kiosk_goes_back_home_when_left_alone(browser, config_dir, tmp_path, printer_port):
    async with hall(config_dir, tmp_path / "data", printer_port) as (server, printer, api):
        page = await (await browser.new_context(viewport=PORTRAIT, locale="zh-CN")).new_page()
        await page.clock.install()
        await page.goto(server.url + "/kiosk/t/k1")
        await page.wait_for_selector("body[data-status=online]")
        await page.click("[data-go=departments]")
        await page.click("#lang")
        await page.clock.run_for(30_000)
        assert await page.get_attribute("body", "data-screen") == "departments"
        await page.clock.run_for(32_000)
        await page.wait_for_selector("body[data-screen=home]")
        assert await text(page, "[data-go=departments] .a-title") == "取号"  # and back in Chinese


async def test_the_mobile_ticket_updates_by_itself_when_called_and_can_be_cancelled(browser, config_dir, tmp_path, printer_port):
    async with hall(config_dir, tmp_path / "data", printer_port) as (server, printer, api):
        first = await api.post("/api/v1/halls/t/kiosks/k1/tickets", {"item": "a1"})
        mine = await api.post("/api/v1/halls/t/kiosks/k1/tickets", {"item": "a1"})
        page = await (await browser.new_context(viewport=PHONE, locale="zh-CN", is_mobile=True, has_touch=True)).new_page()
        await page.goto(mine["mobile_url"])
        await page.wait_for_selector("body[data-ticket-status=waiting]")
        assert await text(page, "#m-number") == "A002"
        assert await text(page, "#m-ahead") == "1 人"
        assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        await api.post("/api/v1/halls/t/windows/w1/open", who="w1a")
        await api.post("/api/v1/halls/t/windows/w1/call-next", who="w1a")  # calls A001: I am next
        await expect(page.locator("#m-ahead")).to_have_text("0 人", timeout=5000)
        assert "前面只有 0 人" in await text(page, "#m-soon")
        await api.post("/api/v1/halls/t/windows/w1/no-show", who="w1a")
        await api.post("/api/v1/halls/t/windows/w1/call-next", who="w1a")  # now me
        await page.wait_for_selector("body[data-ticket-status=called]", timeout=5000)
        assert await text(page, "#m-call") == "请到 1号窗口 办理"
        assert await page.is_hidden("#m-cancel")
        await api.post("/api/v1/halls/t/windows/w1/start", who="w1a")
        await api.post("/api/v1/halls/t/windows/w1/finish", {"case_type": "immediate"}, who="w1a")
        await page.wait_for_selector("body[data-ticket-status=done]", timeout=5000)
        # 好差评 from the phone asks what the window's evaluator asks, and one tap is not final.
        await page.tap("#m-levels [data-score='2']")  # 不满意
        await page.wait_for_selector("#m-reasons:not([hidden])")
        assert await page.is_disabled("#m-rate-next")  # a dissatisfied rating says why
        assert [await text(page, f".m-indicator[data-indicator={i}] .m-ind-name") for i in ("efficiency", "proficiency", "attitude")] == [
            "服务效率", "服务水平", "服务态度"]
        await page.tap(".m-indicator[data-indicator=attitude] [data-score='1']")
        await page.tap("#m-reasons input[value=poor_attitude]")
        await page.tap("#m-rate-next")
        await page.wait_for_selector("#m-rate-check:not([hidden])")
        summary = await text(page, "#m-rate-summary")
        assert "不满意" in summary and "服务态度非常不满意" in summary and "服务态度不好" in summary
        assert [e for e in await journal(api) if e["type"] == "ticket_evaluated"] == []  # nothing sent before the confirm
        await page.tap("#m-rate-back")
        await page.tap(".m-indicator[data-indicator=efficiency] [data-score='3']")
        await page.tap("#m-rate-next")
        await page.tap("#m-rate-send")
        await page.wait_for_selector("#m-rated:not([hidden])", timeout=5000)
        assert await page.is_hidden("#m-rate")
        rated = [e for e in await journal(api) if e["type"] == "ticket_evaluated"]
        assert [(e["ticket"], e["score"], e["efficiency"], e["proficiency"], e["attitude"], e["reasons"]) for e in rated] == [
            (mine["id"], 2, 3, 2, 1, ["poor_attitude"])]

        other = await api.post("/api/v1/halls/t/kiosks/k1/tickets", {"item": "a2"})
        await page.goto(other["mobile_url"])
        await page.wait_for_selector("body[data-ticket-status=waiting]")
        await page.tap("#m-cancel")
        await page.tap("#m-yes")
        await page.wait_for_selector("body[data-ticket-status=cancelled]", timeout=5000)
        async with api.http.get(f"{server.url}/api/v1/halls/t/tickets/{other['id']}") as r:
            assert (await r.json())["status"] == "cancelled"
        assert first["number"] == "A001"


async def test_kiosk_screenshot_and_ticket_preview_of_the_demo_hall(browser, tmp_path):
    """The demo hall's kiosk after taking a number (HALLQ_SCREENSHOTS=1 writes docs/kiosk.png and docs/ticket.png)."""
    from server.config import default_config_dir

    config = tmp_path / "config"
    shutil.copytree(default_config_dir(), config)
    port = free_port()
    (config / "demo" / "kiosks.yaml").write_text(yaml.safe_dump([
        {"id": "k1", "name": "一楼A区 自助取号机1", "printer": {"kind": "network", "address": f"127.0.0.1:{port}", "paper_mm": 80}},
    ], allow_unicode=True), encoding="utf-8")
    async with hall(config, tmp_path / "demo-data", port, hall_id="demo") as (server, printer, api):
        for _ in range(7):
            await api.post("/api/v1/halls/demo/tickets", {"item": "police_id_card"})
        page = await (await browser.new_context(viewport=PORTRAIT, locale="zh-CN")).new_page()
        await page.goto(server.url + "/kiosk/demo/k1")
        await page.wait_for_selector("body[data-status=online]")
        await page.click("[data-go=departments]")
        await page.click("[data-department=police]")
        await page.click("[data-item=police_id_card]")
        await page.click("#take")
        await page.wait_for_selector("body[data-print=printed]", timeout=10000)
        await until(page, "document.getElementById('t-preview').complete && document.getElementById('t-qr').complete")
        shot = tmp_path / "kiosk.png"
        await page.screenshot(path=str(shot))
        number = await text(page, "#t-number")
        preview = await page.evaluate("document.getElementById('t-preview').src")
        async with aiohttp.ClientSession() as http, http.get(preview) as r:
            ticket_png = await r.read()
        assert number == "PA008" and shot.stat().st_size > 50_000 and ticket_png[:4] == b"\x89PNG"
        if os.environ.get("HALLQ_SCREENSHOTS"):
            DOCS.mkdir(exist_ok=True)
            shutil.copy(shot, DOCS / "kiosk.png")
            (DOCS / "ticket.png").write_bytes(ticket_png)


async def test_a_ticket_that_did_not_print_is_flagged_on_the_kiosk_with_its_qr_and_reprinted_once_from_there(
    browser, config_dir, tmp_path, printer_port
):
    async with hall(config_dir, tmp_path / "data", printer_port) as (server, printer, api):
        await printer.stop()  # switched off
        page = await (await browser.new_context(viewport=PORTRAIT, locale="zh-CN", has_touch=True)).new_page()
        await page.goto(server.url + "/kiosk/t/k1")
        await page.wait_for_selector("body[data-status=online]")
        for sel in ("[data-go=departments]", "[data-department=a]", "[data-item=a1]", "#take"):
            await page.tap(sel)
        await page.wait_for_selector("body[data-screen=ticket]")
        await page.wait_for_selector("body[data-print=failed]", timeout=10000)
        assert await text(page, "#t-print") == "凭条打印失败"
        assert "扫描二维码" in await text(page, "#t-print-sub")
        assert await page.is_visible("#reprint") and await text(page, "#t-number") == "A001"
        await until(page, "document.getElementById('t-qr').naturalWidth > 0", timeout=10)  # the number on a phone instead
        assert await page.is_visible("#t-qr")

        await printer.start()  # back on
        await page.tap("#reprint")
        await page.wait_for_selector("body[data-print=printed]", timeout=10000)
        assert await text(page, "#t-print") == "请取走凭条" and await page.is_hidden("#reprint")
        await page.wait_for_timeout(500)
        ticket_id = next(e["ticket"] for e in await journal(api) if e["type"] == "ticket_issued")
        assert printer.cuts == 1 and "补打".encode("gb18030") in printer.data
        assert qr_payloads(printer.data) == [f"{server.url}/t/{ticket_id}".encode()]
        assert [e["status"] for e in await journal(api) if e["type"] == "ticket_print_recorded"] == ["failed", "reprinted"]
