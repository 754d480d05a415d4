"""排班建议 in a real headless Chromium at 1920×1080: tomorrow's plan beside the windows usually
open, today's forecast against arrivals, past accuracy and the CSV export, in Chinese and English.

The small hall with twelve simulated working days and today played up to 10:40, served by the
real app on a loopback port.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest
import pytest_asyncio

from server.api import Settings
from server.stats.simulate import run
from tests.browser.waits import until
from tests.halls import TZ, FakeClock

NOW = datetime(2026, 11, 25, 10, 40, tzinfo=TZ)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW)


@pytest_asyncio.fixture(loop_scope="session")
async def settings(tmp_path: Path, config_dir: Path, clock: FakeClock) -> Settings:  # type: ignore[override]
    data = tmp_path / "data"
    await run(config_dir, data, None, "t", 12, seed=4, end=date(2026, 11, 24), load=0.5, today=NOW, say=lambda _: None)
    return Settings(config_dir=config_dir, data_dir=data, clock=clock, issue_rate_per_s=0)


async def log_in(page, url: str) -> None:  # type: ignore[no-untyped-def]
    await page.goto(url)
    await page.fill("input[name=username]", "boss")
    await page.fill("input[name=password]", "demo")
    await page.click("#login-form button[type=submit]")
    await page.locator("#plan-table tbody tr").first.wait_for(timeout=30000)
    await until(page, "document.body.dataset.loaded === '1'", timeout=30)


async def test_the_plan_page_shows_tomorrow_today_and_accuracy_in_chinese(live, page, tmp_path):
    await log_in(page, f"{live.url}/dashboard/t/plan")
    assert await page.locator("nav a[aria-current=page]").inner_text() == "排班建议"
    assert "2026-11-26 排班建议（周四）" in await page.locator("#plan-title").inner_text()
    assert "预计到访" in await page.locator("#plan-lead").inner_text()
    assert await page.input_value("#plan-day") == "2026-11-26"
    rows = page.locator("#plan-table tbody tr")
    assert await rows.count() == 15
    first = await rows.first.locator("td").all_inner_texts()
    assert first[0] == "08:30–09:00" and first[3].isdigit()
    assert await page.locator("#plan-table thead th").nth(3).inner_text() == "建议开窗"
    assert await page.locator("#groups-table tbody tr").count() == 3
    assert "/1" in await page.locator('#groups-table tr[data-group="w1"] td').nth(1).inner_text()
    # today: the forecast band for every half hour, arrivals up to 10:30's half hour
    assert await page.locator("#today-chart svg rect.band").count() == 15
    assert await page.locator("#today-chart svg rect.actual").count() == 5  # 08:30 … 10:30
    assert "实际" in await page.locator("#today-so-far").inner_text()
    assert await page.locator("#accuracy-table tbody tr").count() >= 5
    # the page fits the screen
    assert await page.evaluate("document.documentElement.scrollWidth") <= 1920
    async with page.expect_download() as info:
        await page.click("#export-csv")
    download = await info.value
    assert download.suggested_filename == "hallq-t-plan-2026-11-26.csv"
    saved = tmp_path / "plan.csv"
    await download.save_as(saved)
    lines = saved.read_text(encoding="utf-8-sig").splitlines()
    assert lines[0].startswith("日期,开始,结束,预计到访,") and len(lines) == 16  # worded for people, in the page's language
    await page.screenshot(path=str(tmp_path / "plan.png"), full_page=True)
    assert (tmp_path / "plan.png").stat().st_size > 30_000


async def test_the_plan_page_in_english_plans_another_day(live, page):
    await log_in(page, f"{live.url}/dashboard/t/plan?lang=en")
    assert "Staffing plan for 2026-11-26 (Thu)" in await page.locator("#plan-title").inner_text()
    assert await page.locator("#plan-table thead th").nth(3).inner_text() == "Windows to open"
    await page.evaluate("document.body.dataset.loaded = ''")
    await page.fill("#plan-day", "2026-11-30")
    await page.click("#query button[type=submit]")
    await until(page, "document.body.dataset.loaded === '1'", timeout=30)
    title = await page.locator("#plan-title").inner_text()
    assert "2026-11-30 (Mon)" in title and "month end" in title
    assert await page.locator("#accuracy-table thead th").first.inner_text() == "Day"
    await page.fill("#plan-day", "2026-11-29")  # a Sunday: the hall is closed
    await page.click("#query button[type=submit]")
    status = page.locator("#status")
    await status.wait_for(state="visible", timeout=30000)
    assert "does not open" in await status.inner_text()
