"""The lobby read from 10 m (issue 19): on a 55" 1920×1080 screen (0.634 mm a CSS px) the latest
call's letters are at least 50 mm high (1/200 of the distance) and every other line — recent
calls, windows, waiting counts, clerks, headings — at least 30 mm (what 20/40 vision reads at
10 m); closed windows keep 4.5:1 contrast; the waiting list has a visible heading. Letter height:
0.73 of the font size for digits and capitals, 0.88 for Chinese characters (docs/screens.md)."""

from __future__ import annotations

import aiohttp

from tests.browser.waits import until

MM_PER_PX = 0.634
DIGITS, HANZI = 0.73, 0.88

# selector, what it shows (its letters' share of the font size), the least letter height in mm
SIZES = [
    (".latest-number", DIGITS, 50), (".latest-window", HANZI, 50),
    ("#recent-calls .num", DIGITS, 30), ("#recent-calls .win", HANZI, 30), ("#recent-calls .at", DIGITS, 30),
    ("#windows .w-name", HANZI, 30), ("#windows .w-num", DIGITS, 30), ("#windows .w-state", HANZI, 30),
    ("#windows .w-clerk", HANZI, 30), ("#queues .q-name", HANZI, 30), ("#queues .q-count", DIGITS, 30),
    (".recent h2", HANZI, 30), (".windows h2", HANZI, 30), (".queues h2", HANZI, 30), (".clock", DIGITS, 30),
]

MEASURE = """([sel, share]) => [...document.querySelectorAll(sel)].filter((e) => e.offsetParent !== null && e.textContent.trim())
  .map((e) => parseFloat(getComputedStyle(e).fontSize) * share)"""

CONTRAST = """() => {
  const rgb = (c) => c.match(/[\\d.]+/g).slice(0, 3).map(Number);
  const lum = ([r, g, b]) => [r, g, b].map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; })
    .reduce((s, v, i) => s + v * [0.2126, 0.7152, 0.0722][i], 0);
  const tile = document.querySelector('#windows .state-closed');
  const bg = lum(rgb(getComputedStyle(tile.closest('section')).backgroundColor));
  return [...tile.querySelectorAll('span')].filter((s) => s.textContent.trim()).map((s) => {
    let o = 1;
    for (let e = s; e; e = e.parentElement) o *= parseFloat(getComputedStyle(e).opacity);
    const fg = lum(rgb(getComputedStyle(s).color));
    return o < 1 ? 0 : (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
  });
}"""


async def test_the_lobby_reads_from_10_m(browser, live):
    async with aiohttp.ClientSession() as http:
        for item in ("a1", "a1", "b1", "c1"):
            async with http.post(live.url + "/api/v1/halls/t/tickets", json={"item": item}) as r:
                assert r.status == 201, await r.text()
        async with http.post(live.url + "/api/v1/auth/login", json={"username": "w1a", "password": "demo"}) as r:
            token = {"Authorization": f"Bearer {(await r.json())['token']}"}
        for action, body in (("open", {}), ("call-next", {}), ("start", {}), ("finish", {"case_type": "immediate"}), ("call-next", {})):
            async with http.post(f"{live.url}/api/v1/halls/t/windows/w1/{action}", json=body, headers=token) as r:
                assert r.status < 300, await r.text()
    page = await (await browser.new_context(viewport={"width": 1920, "height": 1080}, locale="zh-CN")).new_page()
    await page.goto(live.url + "/display/t/lobby?voice=0")
    await page.wait_for_selector("body[data-status=online]")
    await until(page, "document.querySelectorAll('#recent-calls li').length >= 1 && document.querySelectorAll('#queues li').length >= 1")
    small = []
    for selector, share, least in SIZES:
        heights = [px * MM_PER_PX for px in await page.evaluate(MEASURE, [selector, share])]
        assert heights, f"nothing shown for {selector}"
        if min(heights) < least:
            small.append((selector, round(min(heights), 1), least))
    assert not small, small
    assert min(await page.evaluate(CONTRAST)) >= 4.5
    assert await page.is_visible(".queues h2") and await page.text_content(".queues h2") == "等候人数"
    # Nothing cut off the screen: every section ends inside the viewport.
    assert await page.evaluate("[...document.querySelectorAll('main section')].every((s) => s.getBoundingClientRect().bottom <= innerHeight)")
