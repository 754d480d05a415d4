"""The clerk's terminal, the evaluator and the staff page in a real headless Chromium, against a
real server process: keyboard only at the counter, one rating per ticket, the leave notice."""

from __future__ import annotations

import asyncio
import os
import shutil
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo


from tests.browser.waits import press, until
from tests.server_process import Api, ServerProcess

DOCS = Path(__file__).resolve().parents[2] / "docs"


async def text(page, selector: str) -> str:  # type: ignore[no-untyped-def]
    return (await page.text_content(selector) or "").strip()


async def log_in_with_the_keyboard(page, url: str, username: str, password: str = "demo") -> None:  # type: ignore[no-untyped-def]
    await page.goto(url)
    await page.wait_for_selector("#username:focus")
    await page.keyboard.type(username)
    await press(page, "Tab")
    await page.keyboard.type(password)
    await press(page, "Enter")


async def test_a_clerk_serves_a_ticket_with_the_keyboard_alone_and_the_evaluator_takes_one_rating(browser, server, api):
    ticket = await api.post("/api/v1/halls/t/tickets", {"item": "a1"})
    context = await browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    terminal = await context.new_page()
    await log_in_with_the_keyboard(terminal, server.url + "/terminal/t", "w1a")
    # one post, one window: straight to the terminal of w1
    await terminal.wait_for_url("**/terminal/t/window/w1")
    await terminal.wait_for_selector("body[data-state=closed][data-status=online]:not(.busy)")
    cookie = next(c for c in await context.cookies() if c["name"] == "hallq_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"

    # The evaluator: a second screen on the clerk's computer, facing the citizen. The clerk it
    # rates may not pair it: the screen says a manager opens it.
    evaluator = await context.new_page()
    await evaluator.set_viewport_size({"width": 1024, "height": 600})
    await evaluator.goto(server.url + "/terminal/t/evaluator/w1")
    await evaluator.wait_for_selector("#ev-notice:text-is('评价器须由大厅管理员登录开启。')")
    assert await evaluator.evaluate("localStorage.getItem('hallq-evaluator:t:w1')") is None
    await evaluator.close()
    evaluator_context, evaluator = await open_evaluator(browser, server)

    await press(terminal, "o")
    await terminal.wait_for_selector("body[data-state=idle]:not(.busy)")
    await press(terminal, "n")
    await terminal.wait_for_selector("body[data-state=called]:not(.busy)")
    assert await text(terminal, "#number") == ticket["number"] == "A001"
    assert await text(terminal, "#materials") == "身份证申请表"  # the item's materials list
    await evaluator.wait_for_selector("#ev-number:text-is('A001')")
    assert "张一" in await text(evaluator, "#ev-clerk") and "S11" in await text(evaluator, "#ev-clerk")
    await press(terminal, "s")
    await terminal.wait_for_selector("body[data-state=serving]:not(.busy)")
    await press(terminal, "f")
    await terminal.wait_for_selector("#dlg-finish[open]")
    await press(terminal, "Enter")  # the defaults: completed, the item's case type
    await terminal.wait_for_selector("body[data-state=idle]:not(.busy)")
    assert not await terminal.is_visible("#dlg-finish")

    # The citizen rates once on the evaluator.
    await evaluator.wait_for_selector("body[data-mode=rate][data-rating=A001]")
    await evaluator.click("#levels [data-score='5']")
    await evaluator.click("tr[data-indicator=attitude] [data-score='4']")
    await evaluator.click("#submit")
    await evaluator.wait_for_selector("body[data-mode=thanks]")

    # The clerk asks again (E): refused, the ticket is rated; the evaluator stays quiet.
    await terminal.wait_for_selector("[data-action=evaluation]:disabled", state="attached")
    await press(terminal, "e")
    await terminal.wait_for_selector("#message.error")
    # A second rating through the evaluator's own credential (the one its page holds) is refused;
    # the clerk's session cannot rate at all.
    evaluator_token = await evaluator.evaluate("localStorage.getItem('hallq-evaluator:t:w1')")
    second = {"number": "A001", "score": 1, "reasons": ["long_wait"]}
    rate = server.url + "/api/v1/halls/t/windows/w1/evaluation"
    async with api.http.post(rate, json=second, headers={"X-Evaluator-Token": evaluator_token}) as r:
        assert r.status == 409 and (await r.json())["type"].endswith("already-rated")
    async with api.http.post(rate, json=second, headers=await api._headers("w1a")) as r:
        assert r.status == 403 and (await r.json())["type"].endswith("evaluator-only")
    journal = await api.get("/api/v1/halls/t/events", who="admin")
    rated = [e for e in journal["events"] if e["type"] == "ticket_evaluated"]
    assert len(rated) == 1
    assert (rated[0]["ticket"], rated[0]["score"], rated[0]["efficiency"], rated[0]["attitude"], rated[0]["by"]) == (
        ticket["id"], 5, 5, 4, "evaluator-w1")
    finished = [e for e in journal["events"] if e["type"] == "service_finished"]
    assert [(e["case_type"], e["outcome"], e["by"]) for e in finished] == [("immediate", "completed", "w1a")]

    # The clerk logs out: the citizen's screen stays the evaluator (its own session), never the staff login.
    await terminal.click("#logout")
    await terminal.wait_for_url("**/terminal/t/login")
    await evaluator.reload()
    await evaluator.wait_for_selector("body[data-status=online][data-mode=idle]")
    assert evaluator.url.endswith("/terminal/t/evaluator/w1")
    await context.close()
    await evaluator_context.close()


async def open_evaluator(browser, server, query: str = ""):  # type: ignore[no-untyped-def]
    """The evaluator of w1, paired once by the hall's manager, who signs in on its screen; the
    screen keeps its own evaluator session and ends the manager's login there."""
    context = await browser.new_context(viewport={"width": 1024, "height": 600}, locale="zh-CN")
    page = await context.new_page()
    await log_in_with_the_keyboard(page, server.url + "/terminal/t/login?next=/terminal/t/evaluator/w1" + query, "boss")
    await page.wait_for_url("**/terminal/t/evaluator/w1*")
    await page.wait_for_selector("body[data-status=online][data-mode=idle]")
    deadline = asyncio.get_running_loop().time() + 5
    while any(c["name"] == "hallq_session" for c in await context.cookies()):
        assert asyncio.get_running_loop().time() < deadline, "the manager's login stayed on the evaluator screen"
        await asyncio.sleep(0.05)
    return context, page


async def serve_one(api) -> dict:  # type: ignore[no-untyped-def]
    t = await api.post("/api/v1/halls/t/tickets", {"item": "a1"})
    for action, body in (("call", {"ticket": t["id"]}), ("start", {}), ("finish", {"case_type": "immediate"})):
        await api.post(f"/api/v1/halls/t/windows/w1/{action}", body, who="w1a")
    return t


async def test_a_reloaded_evaluator_still_offers_the_rating_it_owes(browser, server, api):
    await api.post("/api/v1/halls/t/windows/w1/open", who="w1a")
    context, evaluator = await open_evaluator(browser, server)
    await serve_one(api)
    await evaluator.wait_for_selector("body[data-mode=rate][data-rating=A001]")
    await evaluator.reload()  # a power cut, a crashed tab: the citizen is still at the counter
    await evaluator.wait_for_selector("body[data-mode=rate][data-rating=A001]", timeout=5000)
    await evaluator.click("#levels [data-score='4']")
    await evaluator.click("#submit")
    await evaluator.wait_for_selector("body[data-mode=thanks]")
    journal = await api.get("/api/v1/halls/t/events", who="admin")
    assert [(e["score"], e["by"]) for e in journal["events"] if e["type"] == "ticket_evaluated"] == [(4, "evaluator-w1")]
    await context.close()


async def test_the_evaluator_gives_up_politely_after_its_timeout_and_on_escape(browser, server, api):
    import time

    await api.post("/api/v1/halls/t/windows/w1/open", who="w1a")
    context, evaluator = await open_evaluator(browser, server, "?timeout=3")
    await serve_one(api)
    await evaluator.wait_for_selector("body[data-mode=rate][data-rating=A001]")
    asked = time.monotonic()
    await evaluator.click("#levels [data-score='2']")  # a touch re-arms the timeout, then nothing more
    await evaluator.wait_for_selector("body[data-mode=thanks]", timeout=8000)
    assert time.monotonic() - asked >= 2.5
    assert await text(evaluator, "#thanks-text") == "感谢您的光临，欢迎再来"

    await serve_one(api)
    await evaluator.wait_for_selector("body[data-mode=rate][data-rating=A002]")
    await press(evaluator, "Escape")
    await evaluator.wait_for_selector("body[data-mode=thanks]", timeout=1500)  # at once, not after the timeout
    journal = await api.get("/api/v1/halls/t/events", who="admin")
    assert [e for e in journal["events"] if e["type"] == "ticket_evaluated"] == []  # declining leaves no rating
    rateable = await api.get("/api/v1/halls/t/windows/w1/queue", who="w1a")
    assert rateable["rateable"]["number"] == "A002"  # the citizen may still rate from the ticket page or when asked
    await context.close()


async def test_the_terminal_queue_follows_tickets_issued_elsewhere_without_the_clerk_acting(browser, server, api):
    import time

    context = await browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    terminal = await context.new_page()
    await log_in_with_the_keyboard(terminal, server.url + "/terminal/t", "w1a")
    await terminal.wait_for_url("**/terminal/t/window/w1")
    await terminal.wait_for_selector("body[data-status=online]")
    await terminal.wait_for_selector("#waiting:text-is('0')")
    for expected, item in ((1, "a1"), (2, "a1")):
        issued = time.monotonic()
        ticket = await api.post("/api/v1/halls/t/tickets", {"item": item})  # a kiosk, not the clerk
        await terminal.wait_for_selector(f"#waiting:text-is('{expected}')", timeout=3000)  # its poll is every 30 s
        await terminal.wait_for_selector(f"#queue [data-ticket='{ticket['number']}']", timeout=3000)
        assert time.monotonic() - issued < 3
    await api.post(f"/api/v1/halls/t/tickets/{ticket['id']}/cancel")  # the citizen gives up: gone from the queue too
    await terminal.wait_for_selector("#waiting:text-is('1')", timeout=3000)
    await context.close()


async def test_a_pause_from_the_terminal_shows_the_leave_notice_on_the_window_screen(browser, server):
    context = await browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    terminal = await context.new_page()
    await log_in_with_the_keyboard(terminal, server.url + "/terminal/t", "w2a")
    await terminal.wait_for_selector("body[data-state=closed][data-status=online]:not(.busy)")
    screen = await (await browser.new_context(viewport={"width": 800, "height": 480})).new_page()
    await screen.goto(server.url + "/display/t/window/w2")
    await screen.wait_for_selector("body[data-status=online]")

    await press(terminal, "o")
    await terminal.wait_for_selector("body[data-state=idle]:not(.busy)")
    await press(terminal, "p")
    await terminal.wait_for_selector("#dlg-pause[open]")
    await press(terminal, "3")  # 业务培训
    await press(terminal, "Tab")  # to the other-reason field …
    await press(terminal, "Tab")  # … and on to the return time
    back = (datetime.now(ZoneInfo("Asia/Shanghai")) + timedelta(minutes=90)).strftime("%H:%M")
    await terminal.keyboard.type(back.replace(":", ""))
    await press(terminal, "Enter")
    await terminal.wait_for_selector("body[data-state=paused]:not(.busy)")
    assert "业务培训" in await text(terminal, "#pause-notice")

    await screen.wait_for_selector("body[data-state=paused]:not(.busy)", timeout=5000)
    notice = await text(screen, "#ws-notice")
    assert "业务培训" in notice and back in notice
    await press(terminal, "u")  # back
    await screen.wait_for_selector("body[data-state=idle]:not(.busy)", timeout=5000)
    assert not await screen.is_visible("#ws-notice")
    await context.close()


async def test_every_counter_action_has_its_key(browser, server, api):
    for _ in range(3):
        await api.post("/api/v1/halls/t/tickets", {"item": "a1"})
    context = await browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    page = await context.new_page()
    await log_in_with_the_keyboard(page, server.url + "/terminal/t", "w1a")
    await page.wait_for_selector("body[data-state=closed][data-status=online]:not(.busy)")

    async def state(name: str) -> None:
        await page.wait_for_selector(f"body[data-state={name}]:not(.busy)")
        await page.wait_for_selector("dialog[open]", state="detached")

    await press(page, "o")
    await state("idle")
    await press(page, "n")  # A001 …
    await state("called")
    await press(page, "t")
    await page.wait_for_selector("#dlg-transfer[open]")
    await press(page, "Escape")  # … Escape cancels a dialog and changes nothing
    await page.wait_for_selector("#dlg-transfer", state="hidden")
    await press(page, "r")
    await page.wait_for_selector("#ticket-status:has-text('重呼 1')")
    await press(page, "x")
    await page.wait_for_selector("#dlg-no-show[open]")
    await press(page, "Enter")  # A001 did not come
    await state("idle")
    await press(page, "n")  # A002 goes to window w2
    await state("called")
    await press(page, "t")
    await page.wait_for_selector("#dlg-transfer[open]")
    await press(page, "2")
    await press(page, "Enter")
    await state("idle")
    await press(page, "n")  # A003 fetches a material
    await page.wait_for_selector("#number:text-is('A003')")
    await press(page, "s")
    await state("serving")
    await press(page, "h")
    await page.wait_for_selector("#dlg-suspend[open]")
    await press(page, "1")
    await press(page, "Enter")
    await state("idle")
    await page.wait_for_selector("#suspended li.row:has-text('A003')")
    await press(page, "q")  # into the queue; the suspended ticket is the only row
    await page.wait_for_selector("#suspended li.picked")
    await press(page, "Enter")  # 指呼
    await state("called")
    await press(page, "s")
    await state("serving")
    await press(page, "f")
    await page.wait_for_selector("#dlg-finish[open]")
    await press(page, "2")  # one-time notice: the item's materials appear to tick
    await page.wait_for_selector("#missing-box:not([hidden])")
    await press(page, "Tab")
    await press(page, "Tab")
    await press(page, "Space")  # 身份证
    await press(page, "Enter")
    await state("idle")
    await press(page, "b")
    await page.wait_for_selector("#dlg-handover[open]")
    await press(page, "Enter")
    await page.wait_for_selector("#on-duty:has-text('李一')")
    # Handed over: one clerk in the header, and A's session no longer acts (issue 19).
    await page.wait_for_selector("body[data-off-duty='1']")
    assert "张一" not in (await page.text_content("header") or "")
    await press(page, "c")
    await page.wait_for_selector("#dlg-close[open]")
    await press(page, "Enter")
    await page.wait_for_selector("#dlg-close .dlg-error:has-text('请先接班')")
    await press(page, "Escape")
    await state("idle")

    journal = await api.get("/api/v1/halls/t/events", who="admin")
    kinds = [e["type"] for e in journal["events"] if e["type"] != "ticket_issued"]
    assert kinds == ["window_opened", "ticket_called", "ticket_recalled", "ticket_no_show", "ticket_called",
                     "ticket_transferred", "ticket_called", "service_started", "ticket_suspended", "ticket_called",
                     "service_started", "service_finished", "window_handed_over"]
    by_type = {e["type"]: e for e in journal["events"]}
    assert by_type["ticket_transferred"]["to_window"] == "w2"
    assert by_type["ticket_suspended"]["kind"] == "fetching_materials"
    assert (by_type["service_finished"]["outcome"], by_type["service_finished"]["missing"]) == ("one_time_notice", ["身份证"])
    assert by_type["window_handed_over"]["to_clerk"] == "w1b"
    await context.close()


async def test_a_manager_adds_a_clerk_on_the_staff_page_and_the_clerk_logs_in(browser, server, api):
    context = await browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    page = await context.new_page()
    await log_in_with_the_keyboard(page, server.url + "/terminal/t/staff", "boss")
    await page.wait_for_selector("#accounts tr[data-username=w1a]")
    await page.fill("#add [name=username]", "w2b")
    await page.fill("#add [name=name]", "新人")
    await page.fill("#add [name=staff_no]", "S22")
    await page.select_option("#add [name=windows]", ["w2"])
    await page.select_option("#add [name=post]", "B")
    await page.fill("#add [name=password]", "first-day-pass")
    await page.click("#add button[type=submit]")
    await page.wait_for_selector("#accounts tr[data-username=w2b]")
    await page.wait_for_selector("#changes td:text-is('w2b')")
    assert "boss" in await text(page, "#changes tr")
    # disable w1b from the page; its row says so and the account cannot log in
    await page.click("#accounts tr[data-username=w1b] button:text-is('停用')")
    await page.wait_for_selector("#accounts tr[data-username=w1b].disabled")
    async with api.http.post(server.url + "/api/v1/auth/login", json={"username": "w1b", "password": "demo"}) as r:
        assert r.status == 401

    clerk = await (await browser.new_context(viewport={"width": 1366, "height": 768})).new_page()
    await log_in_with_the_keyboard(clerk, server.url + "/terminal/t", "w2b", "first-day-pass")
    await clerk.wait_for_url("**/terminal/t/window/w2")
    await clerk.wait_for_selector("body[data-state=closed][data-status=online]:not(.busy)")
    await press(clerk, "o")
    await clerk.wait_for_selector("body[data-state=idle]:not(.busy)")
    assert "新人" in await text(clerk, "#on-duty")
    await context.close()


async def test_the_login_page_says_when_an_account_is_locked(page, server):
    for n in range(6):
        await log_in_with_the_keyboard(page, server.url + "/terminal/t/login", "w3a", f"wrong-{n}")
        await page.wait_for_selector("#error:not(:empty)")
    assert "锁定" in await text(page, "#error")


async def test_terminal_screenshot_of_the_demo_hall(browser, tmp_path):
    """A terminal mid-morning, for the README (HALLQ_SCREENSHOTS=1 writes docs/terminal.png)."""
    from server.config import default_config_dir

    s = ServerProcess(default_config_dir(), tmp_path / "demo-data")
    await s.start()
    api = Api(s.url)
    try:
        for n, item in enumerate(["market_setup", "market_individual", "market_change", "market_food", "market_setup",
                                  "market_cancel", "market_individual", "market_setup"]):
            await api.post("/api/v1/halls/demo/tickets", {"item": item, "priority": n in (2, 5, 7)})
        await api.post("/api/v1/halls/demo/windows/w01/open", who="w01a")
        await api.post("/api/v1/halls/demo/windows/w01/call-next", who="w01a")
        await api.post("/api/v1/halls/demo/windows/w01/start", who="w01a")
        await api.post("/api/v1/halls/demo/windows/w01/suspend", {"kind": "fetching_materials"}, who="w01a")
        await api.post("/api/v1/halls/demo/windows/w01/call-next", who="w01a")
        await api.post("/api/v1/halls/demo/windows/w01/start", who="w01a")
        context = await browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
        page = await context.new_page()
        await log_in_with_the_keyboard(page, s.url + "/terminal/demo", "w01a")
        await page.wait_for_selector("body[data-state=serving][data-status=online]:not(.busy)")
        await press(page, "q")
        await press(page, "ArrowDown")
        await page.wait_for_timeout(200)
        shot = tmp_path / "terminal.png"
        await page.screenshot(path=str(shot))
        # The evaluator facing the citizen, paired by the hall's manager on its own screen.
        evaluator_context = await browser.new_context(viewport={"width": 1024, "height": 600}, locale="zh-CN")
        evaluator = await evaluator_context.new_page()
        await log_in_with_the_keyboard(evaluator, s.url + "/terminal/demo/login?next=/terminal/demo/evaluator/w01", "manager")
        await evaluator.wait_for_selector("body[data-status=online][data-mode=idle]")
        await press(page, "Escape")
        await press(page, "f")
        await press(page, "Enter")
        await evaluator.wait_for_selector("body[data-mode=rate]")
        await evaluator.click("#levels [data-score='2']")
        await evaluator.click("#reasons input[value=long_wait]")
        await evaluator.screenshot(path=str(tmp_path / "evaluator.png"))
        assert shot.stat().st_size > 20_000
        if os.environ.get("HALLQ_SCREENSHOTS"):
            DOCS.mkdir(exist_ok=True)
            shutil.copy(shot, DOCS / "terminal.png")
        await context.close()
        await evaluator_context.close()
    finally:
        await api.close()
        s.kill()


async def test_e_while_serving_the_next_citizen_never_asks_for_the_previous_rating(browser, server, api):
    """The rating is for the service just finished. A001's citizen leaves without rating; the clerk
    calls and starts B001: the evaluator drops A001's prompt, E is refused in words (the server
    too, with a problem), a reloaded evaluator owes nothing; once B001 is finished, E asks for B001."""
    # A001, then B001 (甲二, also served at w1)
    first, second = [await api.post("/api/v1/halls/t/tickets", {"item": item}) for item in ("a1", "a2")]
    context = await browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    terminal = await context.new_page()
    await log_in_with_the_keyboard(terminal, server.url + "/terminal/t", "w1a")
    await terminal.wait_for_url("**/terminal/t/window/w1")
    await terminal.wait_for_selector("body[data-state=closed][data-status=online]:not(.busy)")
    evaluator_context, evaluator = await open_evaluator(browser, server)

    await press(terminal, "o")
    await terminal.wait_for_selector("body[data-state=idle]:not(.busy)")
    await press(terminal, "n")
    await terminal.wait_for_selector("#number:text-is('A001')")
    await press(terminal, "s")
    await terminal.wait_for_selector("body[data-state=serving]:not(.busy)")
    await press(terminal, "f")
    await terminal.wait_for_selector("#dlg-finish[open]")
    await press(terminal, "Enter")
    await terminal.wait_for_selector("body[data-state=idle]:not(.busy)")
    await evaluator.wait_for_selector("body[data-mode=rate][data-rating=A001]")  # A001 walks away without rating

    await press(terminal, "n")
    await terminal.wait_for_selector("#number:text-is('B001')")
    await press(terminal, "s")
    await terminal.wait_for_selector("body[data-state=serving]:not(.busy)")
    # B001 is at the counter and served: the evaluator no longer asks about A001's service.
    await until(evaluator, "document.body.dataset.mode !== 'rate' && !document.body.dataset.rating")
    await press(terminal, "e")
    await terminal.wait_for_selector("#message.error")
    assert await text(terminal, "#message") == "当前号码尚未办结：办结后再邀请评价"
    await evaluator.reload()  # a reloaded evaluator owes no rating while B001 is served
    await evaluator.wait_for_selector("body[data-status=online][data-mode=idle]")
    await evaluator.wait_for_selector("#ev-number:text-is('B001')")
    assert await evaluator.get_attribute("body", "data-rating") is None
    # The server refuses it in its own right, and the evaluator may not rate A001 with B001 served.
    ask = server.url + "/api/v1/halls/t/windows/w1/evaluation/request"
    async with api.http.post(ask, json={}, headers=await api._headers("w1a")) as r:
        assert r.status == 409 and r.content_type == "application/problem+json"
        assert (await r.json())["type"].endswith("serving-another")
    token = await evaluator.evaluate("localStorage.getItem('hallq-evaluator:t:w1')")
    rate = server.url + "/api/v1/halls/t/windows/w1/evaluation"
    async with api.http.post(rate, json={"number": "A001", "score": 5}, headers={"X-Evaluator-Token": token}) as r:
        assert r.status == 409 and (await r.json())["type"].endswith("rating-moved-on")

    await press(terminal, "f")
    await terminal.wait_for_selector("#dlg-finish[open]")
    await press(terminal, "Enter")
    await terminal.wait_for_selector("body[data-state=idle]:not(.busy)")
    await evaluator.wait_for_selector("body[data-mode=rate][data-rating=B001]")
    await press(evaluator, "Escape")  # declined for now: the next prompt can only come from E
    await evaluator.wait_for_selector("body[data-mode=thanks]")
    await press(terminal, "e")
    await terminal.wait_for_selector("#message:not(.error):text-is('已请 B001 号评价')")
    await evaluator.wait_for_selector("body[data-mode=rate][data-rating=B001]")
    await evaluator.click("#levels [data-score='5']")
    await evaluator.click("#submit")
    await evaluator.wait_for_selector("body[data-mode=thanks]")

    journal = await api.get("/api/v1/halls/t/events", who="admin")
    assert [e["number"] for e in journal["events"] if e["type"] == "evaluation_requested"] == ["B001"]
    assert [(e["ticket"], e["score"]) for e in journal["events"] if e["type"] == "ticket_evaluated"] == [(second["id"], 5)]
    assert first["number"] == "A001" and second["number"] == "B001"
    await context.close()
    await evaluator_context.close()
