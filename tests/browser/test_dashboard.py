"""The manager's dashboard in a real headless Chromium: log in, see a chart and an alert.

The demo hall with ten simulated days behind it and today played up to 10:40 (through the
real engine, `hallq simulate`'s code), served by the real app on a loopback port; the page
logs in through the API, polls the supervision board and draws the server's SVG charts.
The screenshot is the README's (docs/dashboard.png).
"""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import pytest_asyncio
from openpyxl import load_workbook

from server.api.supervision import SUPERVISORS
from server.api import Settings
from server.api.context import CTX
from server.config import default_config_dir
from server.domain import commands as c
from server.domain.model import WindowStatus
from server.i18n import words
from server.stats.simulate import run
from tests.browser.waits import until
from tests.halls import TZ, FakeClock

DOCS = Path(__file__).resolve().parents[2] / "docs"
NOW = datetime(2026, 11, 25, 10, 40, tzinfo=TZ)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW)


@pytest_asyncio.fixture(loop_scope="session")
async def settings(tmp_path: Path, clock: FakeClock) -> Settings:  # type: ignore[override]
    """The demo hall, its journal filled by the simulator before the server starts."""
    data = tmp_path / "data"
    await run(default_config_dir(), data, None, "demo", 10, seed=7, today=NOW, say=lambda _: None)
    return Settings(config_dir=default_config_dir(), data_dir=data, clock=clock)


async def test_a_manager_sees_the_live_board_with_charts_and_alerts(live, page, clock):
    service = live.app[CTX].halls["demo"]
    state = await service.current()
    assert state.seq > 0 and state.tickets  # today so far, from the simulator
    # Window 12's clerk leaves (离岗) and stays away 16 minutes: an unattended-window alert.
    w12 = state.window("w12")
    if w12.status is WindowStatus.serving:
        await service.handle(c.FinishService(by="w12a", window="w12", case_type="immediate"))
    elif w12.status is WindowStatus.called:
        await service.handle(c.NoShow(by="w12a", window="w12"))
    elif w12.status is WindowStatus.closed:
        await service.handle(c.OpenWindow(by="w12a", window="w12"))
    if service.state.window("w12").status is not WindowStatus.paused:
        await service.handle(c.Pause(by="w12a", window="w12", reason="临时离岗", until=NOW + timedelta(minutes=10)))
    clock.advance(16 * 60)
    await live.app[SUPERVISORS]["demo"].sweep()

    await page.goto(f"{live.url}/dashboard/demo/")
    await page.fill("input[name=username]", "manager")
    await page.fill("input[name=password]", "demo")
    await page.click("#login-form button[type=submit]")

    alert = page.locator('#alerts li.alert[data-key="unattended:w12"]')
    await alert.wait_for(timeout=15000)
    assert "离岗超时" in await alert.inner_text()
    assert await page.locator("#alerts li.alert").count() >= 1
    chart = page.locator("#chart-arrivals-served svg.chart")
    await chart.wait_for(timeout=15000)
    assert await chart.locator("polyline").count() == 2  # arrivals and served
    await page.locator("#chart-wait-by-hour svg.chart").wait_for(timeout=15000)
    assert await page.locator("#windows li.win").count() == 12
    assert (await page.locator('[data-kpi="issued"] .kpi-value').inner_text()).isdigit()
    # The log names what a clearing clears, never its machine key (which may hold a ticket's id).
    cleared = await page.locator("#log li.cleared").all_inner_texts()
    assert cleared and all(":" not in line[8:] and "解除" in line for line in cleared), cleared

    DOCS.mkdir(exist_ok=True)
    await page.wait_for_timeout(300)  # let the last poll paint
    await page.screenshot(path=str(DOCS / "dashboard.png"), full_page=True)
    assert (DOCS / "dashboard.png").stat().st_size > 50_000


async def test_the_statistics_page_draws_charts_and_a_table_in_english(live, page, tmp_path):
    await page.goto(f"{live.url}/dashboard/demo/stats?lang=en")
    await page.fill("input[name=username]", "manager")
    await page.fill("input[name=password]", "demo")
    await page.click("#login-form button[type=submit]")
    await page.fill("input[name=from]", "2026-11-11")
    await page.click("#query button[type=submit]")
    # The page first drew today's table; wait for the period's (ten simulated days and today's
    # morning: over a thousand served), not for any table.
    await until(page, "Number(document.querySelector('#table tfoot td:nth-child(4)')?.textContent) > 1000", timeout=15)
    assert await page.locator("#table tbody tr").count() == 12  # every window
    for name in ("wait-by-hour", "service-by-window", "arrivals-served", "satisfaction"):
        await page.locator(f"#chart-{name} svg.chart").wait_for(timeout=15000)
    # The charts draw the grouping of the table (by window): the windows by their names.
    wait = await page.locator("#chart-wait-by-hour").inner_text()
    assert "Waiting time by window" in wait and "1号窗口" in wait and "w01" not in wait
    served = await page.locator("#table tfoot td").nth(3).inner_text()
    assert int(served) > 1000  # ten simulated days and today's morning
    # 考勤 under the table: every window's sessions of the period (the first draw, of today's
    # morning still under way, counts none), and the sessions concerned.
    await page.wait_for_function(
        "() => Number(document.querySelector('#attendance tfoot td:nth-child(2)')?.textContent) > 0", timeout=15000)
    assert await page.locator("#attendance tbody tr").count() == 12
    assert "Sessions" in await page.locator("#attendance thead").inner_text()
    sessions = int(await page.locator("#attendance tfoot td").nth(1).inner_text())
    assert sessions == 12 * 2 * 10  # two sessions a window on each of the ten simulated working days
    assert await page.locator("#attendance-sessions tbody tr").count() >= 1
    # its button downloads the workbook worded for people, in the page's language
    async with page.expect_download() as info:
        await page.click("#export-attendance")
    saved = tmp_path / "attendance.xlsx"
    await (await info.value).save_as(saved)
    book = load_workbook(saved, read_only=True)
    assert [ws.title for ws in book.worksheets] == ["windows", "clerks", "by day", "sessions"]
    header = next(book.worksheets[0].iter_rows(values_only=True))
    assert header[:4] == ("group", "name", "A post", "B post") and "opened late by (minutes)" in header


async def test_the_review_pages_buttons_download_the_reviews_worded_in_english(live, page, tmp_path):
    await page.goto(f"{live.url}/dashboard/demo/reviews?lang=en")
    await page.fill("input[name=username]", "manager")
    await page.fill("input[name=password]", "demo")
    await page.click("#login-form button[type=submit]")
    await page.locator("#reviews tr").first.wait_for(timeout=15000)  # the simulated days' bad reviews
    async with page.expect_download() as info:
        await page.click('button[data-export="reviews.csv"]')
    saved = tmp_path / "reviews.csv"
    await (await info.value).save_as(saved)
    lines = list(csv.reader(io.StringIO(saved.read_text(encoding="utf-8-sig"))))
    assert lines[0][:4] == ["number", "item", "window", "clerk"] and "status" in lines[0] and "ticket" not in lines[0]
    statuses = {dict(zip(lines[0], line))["status"] for line in lines[1:]}
    said = {v for k, v in words("en", "dashboard").items() if k.startswith("review_")}  # review_assigned: to verify …
    assert statuses and statuses <= said, statuses
