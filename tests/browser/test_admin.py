"""Hall administration in a real headless Chromium, against a real server process: an item added
to the comprehensive window on the admin page reaches a kiosk that is already open, is issued
and called there; retired, it leaves the kiosk and its ticket stays in the statistics; invalid
edits are refused next to their fields and change nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.browser.test_display import text
from tests.browser.waits import until, press
from tests.halls import write_config

PORTRAIT = {"width": 1080, "height": 1920}


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "config"
    write_config(folder)
    kiosks = [{"id": "k1", "name": "一楼 自助取号机1", "printer": {"kind": "none"}}]
    (folder / "t" / "kiosks.yaml").write_text(yaml.safe_dump(kiosks, allow_unicode=True), encoding="utf-8")
    return folder


async def log_in(page, url: str) -> None:  # type: ignore[no-untyped-def]
    await page.goto(url + "/dashboard/t/admin")
    await page.fill("#login-form [name=username]", "admin")
    await page.fill("#login-form [name=password]", "demo")
    await page.click("#login-form [type=submit]")
    await page.wait_for_selector("body[data-rev='0']")


async def fill_item(page) -> None:  # type: ignore[no-untyped-def]
    await page.click("[data-tab=items]")
    await page.click("#list [data-action=add]")
    form = "#editor"
    await page.fill(f"{form} [name=id]", "c2")
    await page.fill(f"{form} [name=name]", "丙二 新事项")
    await page.select_option(f"{form} [name=department]", "c")
    await page.fill(f"{form} [name=prefix]", "E")
    await page.check(f"{form} [data-checks=_windows] input[value=w3]")
    await page.fill(f"{form} [name=materials]", "身份证\n申请书")
    for field, value in (("content", "新事项审批"), ("legal_basis", "某条例"), ("procedure", "申请、受理、决定"),
                         ("requirements", "身份证"), ("time_limit", "即时办结"), ("fee", "不收费")):
        await page.fill(f"{form} [name='publics.{field}']", value)


async def confirm_and_save(page, rev: int) -> None:  # type: ignore[no-untyped-def]
    await page.wait_for_selector("#confirm:not([hidden])")
    await page.click("#save")
    await page.wait_for_selector(f"body[data-rev='{rev}']")
    assert f"第 {rev} 版" in await text(page, "#status")


async def test_an_item_added_on_the_admin_page_reaches_the_open_kiosk_is_called_then_retired(browser, server, api):
    kiosk = await (await browser.new_context(viewport=PORTRAIT, locale="zh-CN", has_touch=True)).new_page()
    await kiosk.goto(server.url + "/kiosk/t/k1")
    await kiosk.wait_for_selector("body[data-status=online]")
    await kiosk.tap("[data-go=departments]")
    await kiosk.tap("[data-department=c]")
    assert [await b.get_attribute("data-item") for b in await kiosk.query_selector_all("#item-grid .tile")] == ["c1"]

    admin = await (await browser.new_context(viewport={"width": 1600, "height": 1000}, locale="zh-CN")).new_page()
    await log_in(admin, server.url)
    await fill_item(admin)
    await admin.click("#preview")
    await admin.wait_for_selector("#confirm:not([hidden])")
    assert "丙二 新事项 (c2)" in await text(admin, "[data-diff=items] [data-what=added]")
    assert "c2" in await text(admin, "[data-diff=windows] [data-changed=w3] [data-field=items] .after")
    await confirm_and_save(admin, 1)

    # The kiosk, still open on department 丙局, offers the new item without a reload.
    await until(kiosk, "document.body.dataset.menuRev === '1'")
    await kiosk.wait_for_selector("#item-grid [data-item=c2]")
    await kiosk.tap("#item-grid [data-item=c2]")
    assert await text(kiosk, "#item-name") == "丙二 新事项"
    await kiosk.tap("#take")
    await kiosk.wait_for_selector("body[data-screen=ticket]")
    assert await text(kiosk, "#t-number") == "E001"
    assert "3号窗口" in await text(kiosk, "#t-windows")

    await api.post("/api/v1/halls/t/windows/w3/open", who="w3a")
    called = await api.post("/api/v1/halls/t/windows/w3/call-next", who="w3a")
    assert (called["ticket"]["number"], called["ticket"]["window"]) == ("E001", "w3")

    # Retired on the admin page: gone from the kiosk, its ticket still in the statistics.
    await admin.click("[data-tab=items]")
    await admin.click("[data-list=items] tr[data-id=c2] [data-action=retire]")
    await admin.wait_for_selector("#confirm:not([hidden])")
    assert "丙二 新事项 (c2)" in await text(admin, "[data-diff=items] [data-what=retired]")
    await confirm_and_save(admin, 2)
    assert "已停用" in await text(admin, "[data-list=items] tr[data-id=c2]")
    await until(kiosk, "document.body.dataset.menuRev === '2'")
    await kiosk.tap("#done")
    await kiosk.tap("[data-go=departments]")
    await kiosk.tap("[data-department=c]")
    assert [await b.get_attribute("data-item") for b in await kiosk.query_selector_all("#item-grid .tile")] == ["c1"]

    today = (await api.get("/api/v1/halls/t/admin/catalog", who="admin"))["today"]
    rows = (await api.get(f"/api/v1/halls/t/stats?from={today}&to={today}&by=item", who="boss"))["rows"]
    c2 = next(r for r in rows if r["key"] == "c2")
    assert (c2["name"], c2["issued"], c2["called"]) == ("丙二 新事项", 1, 1)
    changes = [e for e in (await api.get("/api/v1/halls/t/events", who="boss"))["events"] if e["type"] == "catalog_changed"]
    assert [(e["rev"], e["by"]) for e in changes] == [(1, "admin"), (2, "admin")]


async def field_error(page, field: str) -> str:  # type: ignore[no-untyped-def]
    await page.wait_for_selector(f"#fields [data-field='{field}'].invalid")
    return await text(page, f"#fields [data-field='{field}'] .field-error")


async def test_invalid_edits_are_refused_next_to_their_fields_and_nothing_changes(browser, server, api):
    admin = await (await browser.new_context(viewport={"width": 1600, "height": 1000}, locale="zh-CN")).new_page()
    await log_in(admin, server.url)
    before = await api.get("/api/v1/halls/t/catalog")

    # A prefix another item has.
    await admin.click("[data-tab=items]")
    await admin.click("[data-list=items] tr[data-id=c1] [data-action=edit]")
    await admin.fill("#editor [name=prefix]", "A")
    await admin.click("#preview")
    assert "appears twice" in await field_error(admin, "prefix")
    assert await admin.is_hidden("#confirm")

    # Issuing hours that end before they start.
    await admin.fill("#editor [name=prefix]", "D")
    await admin.fill("#editor [name='hours.hours']", "12:00-08:30")
    await admin.click("#preview")
    assert "before it starts" in await field_error(admin, "hours.hours")
    assert await admin.is_hidden("#fields [data-field=prefix] .field-error")
    await admin.click("#cancel")

    # A window with no items.
    await admin.click("[data-tab=windows]")
    await admin.click("[data-list=windows] tr[data-id=w2] [data-action=edit]")
    await admin.uncheck("#editor [data-checks=items] input[value=b1]")
    await admin.click("#preview")
    assert "at least 1 item" in await field_error(admin, "items")
    assert await admin.is_hidden("#confirm")

    assert await admin.get_attribute("body", "data-rev") == "0"
    assert await api.get("/api/v1/halls/t/catalog") == before
    assert (await api.get("/api/v1/halls/t/admin/catalog", who="admin"))["rev"] == 0
    assert [e for e in (await api.get("/api/v1/halls/t/events", who="boss"))["events"] if e["type"] == "catalog_changed"] == []


async def test_a_lobby_screen_takes_the_new_notice_and_voice_settings_without_a_reload(page, server, api):
    await page.goto(server.url + "/display/t/lobby?screen=s2")
    await page.wait_for_selector("body[data-voice=on]")
    assert await page.evaluate("[hallqAnnouncer.repeat, hallqAnnouncer.maxAgeMs]") == [2, 60000]
    doc = await api.get("/api/v1/halls/t/admin/catalog", who="admin")
    voice = {**doc["document"]["hall"]["voice"], "screens": ["s1"], "repeat": 3, "max_age_s": 30}
    hall = {**doc["document"]["hall"], "notice": "本周六正常上班", "voice": voice}
    await api.post("/api/v1/halls/t/admin/catalog", {"base_rev": 0, "hall": hall}, who="boss", status=201)
    await page.wait_for_selector("body[data-voice=off]")
    assert await text(page, "#notice") == "本周六正常上班"
    assert await page.evaluate("[hallqAnnouncer.repeat, hallqAnnouncer.maxAgeMs]") == [3, 30000]


async def test_an_open_terminal_takes_the_new_item_into_its_transfer_list_and_queue_without_a_reload(browser, server, api):
    from tests.browser.test_terminal import log_in_with_the_keyboard

    context = await browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    terminal = await context.new_page()
    await log_in_with_the_keyboard(terminal, server.url + "/terminal/t", "w1a")
    await terminal.wait_for_url("**/terminal/t/window/w1")
    await terminal.wait_for_selector("body[data-status=online]")
    options = "[...document.querySelectorAll('#dlg-transfer select[name=item] option')].map((o) => o.value)"
    assert await terminal.evaluate(options) == ["a1", "a2", "b1", "c1"]

    doc = await api.get("/api/v1/halls/t/admin/catalog", who="admin")
    new = {"id": "a3", "name": "甲三 新事项", "department": "a", "prefix": "F",
           "publics": next(i for i in doc["document"]["items"] if i["id"] == "a1")["publics"]}
    w1 = next(w for w in doc["document"]["windows"] if w["id"] == "w1")
    a1 = next(i for i in doc["document"]["items"] if i["id"] == "a1")
    await api.post("/api/v1/halls/t/admin/catalog", {"base_rev": 0, "items": [new, {**a1, "retired": True}],
                                                     "windows": [{**w1, "items": [*w1["items"], "a3"]}]}, who="admin", status=201)
    await terminal.wait_for_selector("body[data-catalog-rev='1']")
    assert await terminal.evaluate(options) == ["a2", "b1", "c1", "a3"]  # a1 retired: no transfers to it
    await api.post("/api/v1/halls/t/tickets", {"item": "a3"})
    await press(terminal, "o")
    await terminal.wait_for_selector("body[data-state=idle]:not(.busy)")
    await press(terminal, "n")
    await terminal.wait_for_selector("body[data-state=called]:not(.busy)")
    assert await text(terminal, "#number") == "F001"


async def test_a_scheduled_change_is_listed_as_pending_and_withdrawn_from_the_history(browser, server, api):
    from datetime import date, timedelta

    doc = await api.get("/api/v1/halls/t/admin/catalog", who="admin")
    tomorrow = (date.fromisoformat(doc["today"]) + timedelta(days=1)).isoformat()
    hall = {**doc["document"]["hall"], "notice": "明日起新通知"}
    await api.post("/api/v1/halls/t/admin/catalog", {"base_rev": 0, "effective": tomorrow, "hall": hall}, who="admin", status=201)

    admin = await (await browser.new_context(viewport={"width": 1600, "height": 1000}, locale="zh-CN")).new_page()
    admin.on("dialog", lambda dialog: dialog.accept())
    await admin.goto(server.url + "/dashboard/t/admin")
    await admin.fill("#login-form [name=username]", "admin")
    await admin.fill("#login-form [name=password]", "demo")
    await admin.click("#login-form [type=submit]")
    await admin.wait_for_selector("body[data-rev='1']")
    assert f"第 1 版将于 {tomorrow} 起生效" in await text(admin, "#rev-line")
    await admin.click("[data-tab=history]")
    assert "待生效" in await text(admin, "[data-list=history] tr[data-rev='1']")
    await admin.click("[data-list=history] tr[data-rev='1'] [data-action=withdraw]")
    await admin.wait_for_selector("body[data-rev='0']")
    assert "已撤回 (admin)" in await text(admin, "[data-list=history] tr[data-rev='1']")
    assert await admin.query_selector("[data-action=withdraw]") is None
    assert (await api.get("/api/v1/halls/t/admin/catalog", who="admin"))["rev"] == 0
