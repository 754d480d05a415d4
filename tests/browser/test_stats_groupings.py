"""The statistics page in a real Chromium: the charts follow the grouping chosen and name its groups
(items, windows by name, one point a day), and a time past the hall's threshold is marked in the
table with a ⚠ and words (its level and threshold), not by colour alone.

The small hall on a real SQLite journal: the scripted Wednesday (nobody waited past 7 minutes),
nothing on Thursday, and on Friday one a1 ticket that waited 31 min 40 s (past the 30-minute yellow
threshold), served by 1号窗口."""

from __future__ import annotations

import json
from datetime import timedelta

from server.api.context import CTX
from server.domain import commands as c
from tests.browser.waits import until
from tests.halls import MORNING
from tests.service.stats.scripted import play

LABELS = "JSON.stringify([...document.querySelectorAll('#chart-{chart} svg text.label title')].map((t) => t.textContent))"


async def two_days(service, clock) -> None:  # type: ignore[no-untyped-def]
    await service.current()
    await play(service, clock)
    clock.t = MORNING + timedelta(days=2)  # Friday 27th, 09:00
    await service.current()
    await service.handle(c.OpenWindow(by="w1a", window="w1"))
    await service.handle(c.IssueTicket(by="kiosk", ticket="id-friday", item="a1"))
    clock.advance(1900)
    await service.handle(c.CallNext(by="w1a", window="w1"))
    await service.handle(c.StartService(by="w1a", window="w1"))
    clock.advance(300)
    await service.handle(c.FinishService(by="w1a", window="w1", case_type="immediate"))


async def chart_labels(page, chart: str, expected: list[str]) -> None:  # type: ignore[no-untyped-def]
    want = json.dumps(expected, ensure_ascii=False, separators=(",", ":"))
    await until(page, f"{LABELS.format(chart=chart)} === {json.dumps(want)}", timeout=15)


async def show(page, by: str) -> None:  # type: ignore[no-untyped-def]
    await page.select_option("select[name=by]", by)
    await page.click("#query button[type=submit]")


async def test_the_charts_follow_the_grouping_and_late_times_are_marked(live, page, clock):
    await two_days(live.app[CTX].halls["t"], clock)
    await page.goto(f"{live.url}/dashboard/t/stats")
    await page.fill("input[name=username]", "boss")
    await page.fill("input[name=password]", "demo")
    await page.click("#login-form button[type=submit]")
    await page.fill("input[name=from]", "2026-11-24")
    await page.fill("input[name=to]", "2026-11-29")

    await show(page, "item")
    items = ["甲一", "甲二", "乙一", "丙一"]
    for chart in ("wait-by-hour", "service-by-window", "arrivals-served", "satisfaction"):
        await chart_labels(page, chart, items)  # the items by name, not a1, a2…
    assert "等候时间（按事项）" in await page.locator("#chart-wait-by-hour").inner_text()
    await until(page, "document.querySelectorAll('#table tbody tr').length === 4 && "
                      "document.querySelector('#table thead th').textContent === '事项'", timeout=15)
    # a1's waits (120 s, 420 s, 1900 s): its p90 and its longest are past the yellow threshold.
    marked = page.locator('#table tr[data-key="a1"] td.over')
    assert await marked.count() == 2
    assert [await marked.nth(n).get_attribute("data-figure") for n in range(2)] == ["wait|p90", "wait|max"]
    title = await marked.nth(1).get_attribute("title")
    assert title == "超过黄灯阈值（30:00）"
    assert await marked.nth(1).locator(".mark").get_attribute("aria-label") == title
    assert "⚠" in await marked.nth(1).inner_text()
    assert await marked.nth(1).evaluate("(td) => Number(getComputedStyle(td).fontWeight) >= 700")  # bold, not colour alone
    assert await page.locator('#table tr[data-key="b1"] td.over').count() == 0

    await show(page, "window")
    await chart_labels(page, "service-by-window", ["1号窗口", "2号窗口", "3号窗口"])

    await show(page, "day")
    days = ["11-24", "11-25", "11-26", "11-27"]  # every day of the period up to today, one entry each
    for chart in ("wait-by-hour", "arrivals-served", "satisfaction"):
        await chart_labels(page, chart, days)
    await until(page, "[...document.querySelectorAll('#table tbody tr')].map((r) => r.dataset.key).join() === "
                      "'2026-11-24,2026-11-25,2026-11-26,2026-11-27'", timeout=15)
    friday = page.locator('#table tr[data-key="2026-11-27"] td.over')
    assert await friday.count() == 4  # its one wait: mean, p50, p90 and longest all past 30 minutes
    assert await page.locator('#table tr[data-key="2026-11-25"] td.over').count() == 0
    assert "超过预警阈值" in await page.locator(".legend").inner_text()


async def test_the_board_marks_a_queue_waiting_past_its_threshold_in_words(live, page, clock):
    service = live.app[CTX].halls["t"]
    await service.current()
    await service.handle(c.IssueTicket(by="kiosk", ticket="id-long", item="a2"))
    clock.advance(600)
    await service.handle(c.IssueTicket(by="kiosk", ticket="id-short", item="b1"))
    clock.advance(660)  # a2's ticket has waited 21 minutes (past 20), b1's 11
    await page.goto(f"{live.url}/dashboard/t/?lang=en")
    await page.fill("input[name=username]", "boss")
    await page.fill("input[name=password]", "demo")
    await page.click("#login-form button[type=submit]")
    longest = page.locator('#queues tr[data-item="a2"] td.over')
    await longest.wait_for(timeout=15000)
    assert await longest.get_attribute("title") == "past the warning threshold (20:00)"
    assert await longest.locator(".mark").get_attribute("aria-label") == "past the warning threshold (20:00)"
    assert (await longest.inner_text()).startswith("21:00")
    assert await page.locator('#queues tr[data-item="b1"] td.over').count() == 0
    assert await page.locator('#queues tr[data-item="b1"]').count() == 1
