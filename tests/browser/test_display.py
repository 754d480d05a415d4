"""Lobby and window screens in a real headless Chromium, against a real server process."""

from __future__ import annotations

import asyncio
import os
import shutil
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path


import pytest

from tests.browser.waits import until
from tests.halls import small_config, write_config
from tests.server_process import Api, ServerProcess

DOCS = Path(__file__).resolve().parents[2] / "docs"


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    """The small hall with a short voice: each call is spoken once, as its number alone. These
    tests listen to real audio in real time and check which calls are spoken, in what order and
    when; the default sentence said twice took 11 s a call. The repeats and the chime between
    calls are checked in test_announcer.py, the sentence in tests/domain/test_announce.py."""
    folder = tmp_path / "config"
    write_config(folder, small_config(voice={"template": "{number}", "repeat": 1}))
    return folder


async def text(page, selector: str) -> str:  # type: ignore[no-untyped-def]
    return (await page.text_content(selector) or "").strip()


async def test_a_call_appears_on_the_lobby_and_on_its_window_screen(browser, page, server, api):
    t = await api.post("/api/v1/halls/t/tickets", {"item": "a1"})
    frames: list[str] = []  # what the lobby's websocket really received
    page.on("websocket", lambda ws: ws.on("framereceived", lambda payload: frames.append(str(payload))))
    await page.goto(server.url + "/display/t/lobby?voice=0")
    window_page = await (await browser.new_context(viewport={"width": 800, "height": 480})).new_page()
    await window_page.goto(server.url + "/display/t/window/w1")
    await page.wait_for_selector("body[data-status=online]")
    await window_page.wait_for_selector("body[data-status=online]")
    await api.post("/api/v1/halls/t/windows/w1/open", who="w1a")
    await api.post("/api/v1/halls/t/windows/w1/call-next", who="w1a")
    await until(page, "document.getElementById('latest-number').textContent === 'A001'", timeout=5)
    assert await text(page, "#latest-window") == "1号窗口"
    assert await text(page, "[data-window=w1] .w-num") == "A001"
    await until(window_page, "document.getElementById('ws-number').textContent === 'A001'", timeout=5)
    assert "张一" in await text(window_page, "#ws-clerk")
    received = "".join(frames)
    assert "A001" in received and "ticket_called" in received  # the call came over this feed
    assert t["id"] not in received and '"w1a"' not in received  # no ticket id, no login name


async def test_three_windows_calling_at_once_all_show_and_are_spoken_in_order(page, server, api):
    for item in ("c1", "a1", "b1"):  # c1 first: the comprehensive w3 calls its longest-waiting ticket
        await api.post("/api/v1/halls/t/tickets", {"item": item})
    for w in ("w1", "w2", "w3"):
        await api.post(f"/api/v1/halls/t/windows/{w}/open", who=f"{w}a")
    await page.goto(server.url + "/display/t/lobby?voice=1")
    await page.wait_for_selector("body[data-status=online]")
    sent: list[float] = []
    go = asyncio.Event()

    async def call(w: str) -> dict:
        headers = await api._headers(f"{w}a")  # logged in beforehand: only the call itself is timed
        await go.wait()
        sent.append(time.monotonic())
        async with api.http.post(f"{server.url}/api/v1/halls/t/windows/{w}/call-next", headers=headers) as r:
            assert r.status == 200, await r.text()
            return await r.json()

    calls = [asyncio.create_task(call(w)) for w in ("w1", "w2", "w3")]
    await asyncio.sleep(0.2)
    go.set()
    results = await asyncio.gather(*calls)
    assert max(sent) - min(sent) < 0.1, f"the calls were not at once: {sent}"
    numbers = {r["ticket"]["number"] for r in results}
    journal = await api.get("/api/v1/halls/t/events", who="boss")
    called = [e for e in journal["events"] if e["type"] == "ticket_called"]
    journalled = [e["number"] for e in called]
    assert set(journalled) == numbers and len(journalled) == 3
    stamps = [datetime.fromisoformat(e["at"]) for e in called]
    assert max(stamps) - min(stamps) < timedelta(seconds=0.1), "the server did not get the calls at once"
    await until(page, "window.hallqAnnouncer && window.hallqAnnouncer.enqueued.length === 3", timeout=5)
    assert await page.evaluate("window.hallqAnnouncer.enqueued.map(c => c.number)") == journalled
    recent = [await text(page, "#latest-number")] + await page.evaluate(
        "[...document.querySelectorAll('#recent-calls li .num')].map(e => e.textContent)")
    assert recent == journalled[::-1]  # the latest call on top
    # every call is spoken, one after another (chime, speech), in the journal's order
    assert await page.evaluate("window.hallqAnnouncer.repeat") == 1  # the short voice above
    await until(page, "window.hallqAnnouncer.log.length === 3 && window.hallqAnnouncer.pending === 0", timeout=90)
    log = await page.evaluate("window.hallqAnnouncer.log")
    assert [c["number"] for c in log] == journalled
    assert all(b["at"] > a["at"] for a, b in zip(log, log[1:]))


# Chromium driven by Playwright does not enforce its autoplay policy, whatever
# --autoplay-policy says: Playwright evaluates its scripts (wait_for_selector, evaluate) with a
# user gesture, so navigator.userActivation is set before anyone taps. The page therefore gets
# the policy from this script, as a real display browser applies it: media refuse to play with
# NotAllowedError until a trusted input event (a real tap; Playwright's click is one) reaches it.
AUTOPLAY_NEEDS_A_GESTURE = """
(() => {
  const play = HTMLMediaElement.prototype.play;
  let tapped = false;
  window.__refusedPlays = 0;
  for (const kind of ["pointerdown", "keydown"]) {
    window.addEventListener(kind, (e) => { if (e.isTrusted) tapped = true; }, true);
  }
  HTMLMediaElement.prototype.play = function () {
    if (!tapped) {
      window.__refusedPlays += 1;
      return Promise.reject(new DOMException("play() needs a user gesture", "NotAllowedError"));
    }
    return play.call(this);
  };
})();
"""


async def test_a_browser_that_blocks_audio_holds_the_call_until_the_tap_then_announces_it(browser, server, api):
    """Audio needs a user gesture: the call is held (not counted as spoken), then announced after the tap."""
    await api.post("/api/v1/halls/t/tickets", {"item": "a1"})
    await api.post("/api/v1/halls/t/windows/w1/open", who="w1a")
    context = await browser.new_context(viewport={"width": 1920, "height": 1080}, locale="zh-CN")
    try:
        await context.add_init_script(AUTOPLAY_NEEDS_A_GESTURE)
        page = await context.new_page()
        await page.goto(server.url + "/display/t/lobby?voice=1")
        await page.wait_for_selector("body[data-status=online]")
        assert await page.is_hidden("#enable-voice")
        await api.post("/api/v1/halls/t/windows/w1/call-next", who="w1a")
        await page.wait_for_selector("#enable-voice:not([hidden])", timeout=5000)
        state = await page.evaluate("({log: hallqAnnouncer.log.length, held: hallqAnnouncer.held.map(c => c.number)})")
        assert state == {"log": 0, "held": ["A001"]}  # not counted as spoken, not lost
        refused = await page.evaluate("window.__refusedPlays")
        await page.click("#enable-voice")
        await until(page, "hallqAnnouncer.log.length === 1", timeout=5)
        assert await page.evaluate("hallqAnnouncer.log[0].number") == "A001"
        assert await page.is_hidden("#enable-voice")
        await until(page, "hallqAnnouncer.pending === 0", timeout=20)  # chime and speech played through
        assert await page.evaluate("window.__refusedPlays") == refused and not await page.evaluate("hallqAnnouncer.blocked")
    finally:
        await context.close()


def back_at(minutes: int = 90) -> str:
    return (datetime.now(timezone.utc) + timedelta(minutes=minutes)).isoformat()


async def test_a_paused_window_shows_its_leave_notice_on_its_screen(browser, server, api):
    page = await (await browser.new_context(viewport={"width": 800, "height": 480})).new_page()
    await page.goto(server.url + "/display/t/window/w2")
    await page.wait_for_selector("body[data-status=online]")
    await api.post("/api/v1/halls/t/windows/w2/open", who="w2a")
    await until(page, "document.getElementById('ws-clerk').textContent.includes('S21')", timeout=5)
    assert await text(page, "#ws-name") == "2号窗口"
    assert await text(page, "#ws-clerk") == "王二 · 工号 S21"
    paused = await api.post("/api/v1/halls/t/windows/w2/pause", {"reason": "窗口培训", "until": back_at()}, who="w2a")
    await page.wait_for_selector("body[data-state=paused]:not(.busy)", timeout=5000)
    windows = await api.get("/api/v1/halls/t/windows")
    until_hhmm = next(w for w in windows if w["id"] == "w2")["pause"]["until"][11:16]  # in the hall's time
    assert paused["state"] == "paused"
    assert await text(page, "#ws-notice") == f"窗口培训 · 预计回岗 {until_hhmm}"
    assert await text(page, "#ws-label") == "暂停服务"
    assert await text(page, "#ws-name") == "2号窗口"


async def lobby_state(page) -> dict:  # type: ignore[no-untyped-def]
    """What the lobby shows, read from its DOM."""
    return await page.evaluate(
        """({
      seq: Number(document.body.dataset.seq),
      latest: document.getElementById('latest-number').textContent,
      recent: [...document.querySelectorAll('#recent-calls li .num')].map((e) => e.textContent),
      windows: Object.fromEntries([...document.querySelectorAll('#windows li')].map((li) => [li.dataset.window,
        { num: li.querySelector('.w-num').textContent, note: li.querySelector('.w-note').textContent }])),
      queues: Object.fromEntries([...document.querySelectorAll('#queues li')].map((li) => [li.dataset.item,
        li.querySelector('.q-count').textContent])),
    })"""
    )


async def expected_lobby(api) -> dict:  # type: ignore[no-untyped-def]
    """What the lobby should show, from the REST API and the journal."""
    windows = await api.get("/api/v1/halls/t/windows")
    queues = (await api.get("/api/v1/halls/t/queues"))["items"]
    journal = (await api.get("/api/v1/halls/t/events", who="boss"))["events"]
    calls = [e["number"] for e in journal if e["type"] in ("ticket_called", "ticket_recalled")][::-1]
    shown = {}
    for w in windows:
        num = w["ticket"]["number"] if w["ticket"] else {"paused": "暂停服务", "closed": "未开放"}.get(w["state"], "空闲")
        if w["state"] == "paused":
            note = (f"预计回岗 {w['pause']['until'][11:16]} · " if w["pause"]["until"] else "") + w["pause"]["reason"]
        else:
            note = f"{w['clerk']['name']} {w['clerk']['staff_no']}" if w["clerk"] else ""
        shown[w["id"]] = {"num": num, "note": note}
    return {
        "seq": journal[-1]["seq"],
        "latest": calls[0] if calls else "—",
        "recent": calls[1:9],
        "windows": shown,
        "queues": {q["item"]: f"{q['waiting']}人" for q in queues if q["waiting"] > 0},
    }


async def test_the_lobby_shows_leave_notices_clerks_and_waiting_counts(page, server, api):
    for item in ("a1", "a1", "a2", "b1"):
        await api.post("/api/v1/halls/t/tickets", {"item": item})
    await page.goto(server.url + "/display/t/lobby?voice=0")
    await page.wait_for_selector("body[data-status=online]")
    assert await text(page, "[data-item=a1] .q-count") == "2人"
    assert await text(page, "[data-item=a2] .q-name") == "甲二"
    assert await page.query_selector("[data-item=c1]") is None  # nobody waiting: not listed
    await api.post("/api/v1/halls/t/windows/w1/open", who="w1a")
    await api.post("/api/v1/halls/t/windows/w2/open", who="w2a")
    await api.post("/api/v1/halls/t/windows/w2/pause", {"reason": "午间交接", "until": back_at()}, who="w2a")
    await api.post("/api/v1/halls/t/windows/w1/call-next", who="w1a")
    await until(page, "document.querySelector('[data-item=a1] .q-count').textContent === '1人'", timeout=5)
    assert await text(page, "[data-window=w1] .w-note") == "张一 S11"
    assert (await text(page, "[data-window=w2] .w-note")).startswith("预计回岗 ")
    assert (await text(page, "[data-window=w2] .w-note")).endswith(" · 午间交接")
    assert await text(page, "[data-window=w1] .w-state") == "叫号中"
    assert await lobby_state(page) == await expected_lobby(api)


async def test_the_lobby_recovers_the_exact_state_after_the_server_is_killed(page, server, api):
    for item in ("a1", "a2", "a1", "b1"):
        await api.post("/api/v1/halls/t/tickets", {"item": item})
    await api.post("/api/v1/halls/t/windows/w1/open", who="w1a")
    await api.post("/api/v1/halls/t/windows/w2/open", who="w2a")
    await api.post("/api/v1/halls/t/windows/w1/call-next", who="w1a")
    await page.goto(server.url + "/display/t/lobby?voice=0")
    await page.wait_for_selector("body[data-status=online]")
    server.kill()
    await page.wait_for_selector("body[data-status=offline]", timeout=5000)
    assert await page.is_visible("#offline")
    await server.start()
    await api.close()
    fresh = Api(server.url)
    try:
        # all this happens while the screen is away
        await fresh.post("/api/v1/halls/t/windows/w1/start", who="w1a")
        await fresh.post("/api/v1/halls/t/windows/w1/finish", {"case_type": "immediate"}, who="w1a")
        await fresh.post("/api/v1/halls/t/windows/w1/call-next", who="w1a")
        await fresh.post("/api/v1/halls/t/windows/w2/call-next", who="w2a")
        await fresh.post("/api/v1/halls/t/windows/w2/no-show", who="w2a")
        await fresh.post("/api/v1/halls/t/windows/w2/pause", {"reason": "窗口培训", "until": back_at()}, who="w2a")
        await fresh.post("/api/v1/halls/t/windows/w3/open", who="w3a")
        await fresh.post("/api/v1/halls/t/tickets", {"item": "c1"})
        await page.wait_for_selector("body[data-status=online]", timeout=15000)
        expected = await expected_lobby(fresh)
        await until(page, f"document.body.dataset.seq === '{expected['seq']}'", timeout=5)
        assert await lobby_state(page) == expected
        assert expected["windows"]["w2"]["num"] == "暂停服务" and expected["queues"]["c1"] == "1人"
        assert not await page.is_visible("#offline")
    finally:
        await fresh.close()


async def test_lobby_screenshot_of_the_demo_hall(page, tmp_path):
    """A lobby in the middle of a morning, for the README (HALLQ_SCREENSHOTS=1 writes docs/lobby.png):
    nothing cut off, every item with people waiting shown in turn, states in words too."""
    from server.config import default_config_dir

    s = ServerProcess(default_config_dir(), tmp_path / "demo-data")
    await s.start()
    api = Api(s.url)
    try:
        catalog = await api.get("/api/v1/halls/demo/catalog")
        items = [i["id"] for i in catalog["items"]]
        for n in range(60):  # more items waiting than one page of the waiting counts holds
            await api.post("/api/v1/halls/demo/tickets", {"item": items[n % 24]})
        for w in ["w01", "w03", "w04", "w05", "w07", "w08", "w11", "w12", "w06"]:
            await api.post(f"/api/v1/halls/demo/windows/{w}/open", who=f"{w}a")
            await api.post(f"/api/v1/halls/demo/windows/{w}/call-next", who=f"{w}a")
        await api.post("/api/v1/halls/demo/windows/w03/start", who="w03a")
        await api.post("/api/v1/halls/demo/windows/w02/open", who="w02a")
        until_ = (datetime.now(timezone.utc) + timedelta(minutes=40)).isoformat()
        await api.post("/api/v1/halls/demo/windows/w02/pause", {"reason": "午间交接", "until": until_}, who="w02a")
        await page.goto(s.url + "/display/demo/lobby?voice=0&page_s=1.5")
        await page.wait_for_selector("body[data-status=online]")
        await page.evaluate("document.fonts.ready.then(() => true)")
        await page.wait_for_timeout(300)
        # the recent calls show only whole rows, inside their panel
        inside = """(sel) => [...document.querySelectorAll(sel)].every((e) => {
            const box = e.closest('section').getBoundingClientRect(), r = e.getBoundingClientRect();
            return r.top >= box.top && r.bottom <= box.bottom && r.right <= box.right + 1; })"""
        assert await page.evaluate(f"({inside})('#recent-calls li')")
        assert len(await page.query_selector_all("#recent-calls li")) >= 4  # whole rows of 31 mm type (issue 19: readable from 10 m)
        # states in words: a called and a serving window (the windows turn a page at a time, like the counts)
        states: dict[str, str | None] = {}
        for _ in range(60):
            states |= dict(await page.evaluate("[...document.querySelectorAll('#windows li')].map((li) => "
                                               "[li.dataset.window, li.querySelector('.w-state')?.textContent ?? null])"))
            if {"w02", "w03", "w04"} <= set(states):
                break
            await page.wait_for_timeout(200)
        assert states["w04"] == "叫号中" and states["w03"] == "办理中"
        assert states["w02"] is None  # paused says so itself
        shot = tmp_path / "lobby.png"
        await page.screenshot(path=str(shot))
        assert shot.stat().st_size > 20_000
        if os.environ.get("HALLQ_SCREENSHOTS"):
            DOCS.mkdir(exist_ok=True)
            shutil.copy(shot, DOCS / "lobby.png")
        # every item with people waiting appears in turn, each page inside its panel
        queues = (await api.get("/api/v1/halls/demo/queues"))["items"]
        waiting = {q["item"] for q in queues if q["waiting"] > 0}
        pages = int(await page.get_attribute("#queues", "data-pages") or "1")
        assert pages >= 2 and await page.is_visible("#queues-page")
        seen: set[str] = set()
        for _ in range(pages * 10):
            assert await page.evaluate(f"({inside})('#queues li')")
            seen |= set(await page.evaluate("[...document.querySelectorAll('#queues li')].map((li) => li.dataset.item)"))
            if seen == waiting:
                break
            await page.wait_for_timeout(500)
        assert seen == waiting
    finally:
        await api.close()
        s.kill()
