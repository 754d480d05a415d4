"""The national holiday calendar on the real app: the warning in the log, health and the
dashboard; a year added from config/calendar/ or by an admin; bad tables refused, nothing kept."""

from __future__ import annotations

import logging
from datetime import datetime

import pytest
import yaml

from server.api import Settings, create_app
from server.domain import calendar
from tests.domain.test_national_calendar import YEAR
from tests.halls import TZ, FakeClock

WARNING = "national holiday calendar is known only up to 2026-12-31"
BANNER = "全国节假日安排只录入到 2026-12-31"


async def three_places(aiohttp_client, settings: Settings, caplog) -> tuple[bool, dict, str]:  # type: ignore[no-untyped-def]
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="hallq.calendar"):
        client = await aiohttp_client(create_app(settings))
    health = await (await client.get("/api/v1/health")).json()
    page = await (await client.get("/dashboard/t/")).text()
    return any(WARNING in r.getMessage() for r in caplog.records), health["calendar"], page


@pytest.mark.parametrize("today, warned", [(datetime(2026, 12, 4, 10, tzinfo=TZ), True),
                                           (datetime(2026, 6, 1, 10, tzinfo=TZ), False)])
async def test_a_year_missing_from_the_calendar_is_said_in_the_log_health_and_the_dashboard(
        aiohttp_client, settings, caplog, today, warned):
    settings.clock = FakeClock(today)
    logged, health, page = await three_places(aiohttp_client, settings, caplog)
    assert (logged, health["warning"], BANNER in page) == (warned, warned, warned)
    assert health["covered_until"] == "2026-12-31" and health["next_year"] == 2027


async def test_a_year_in_config_calendar_is_known_at_start_and_silences_the_warning(aiohttp_client, settings, caplog):
    (settings.config_dir / "calendar").mkdir()
    (settings.config_dir / "calendar" / "2027.yaml").write_text(yaml.safe_dump(YEAR, allow_unicode=True), encoding="utf-8")
    settings.clock = FakeClock(datetime(2026, 12, 4, 10, tzinfo=TZ))
    logged, health, page = await three_places(aiohttp_client, settings, caplog)
    assert (logged, health["warning"], BANNER in page) == (False, False, False)
    assert health["covered_until"] == "2027-12-31" and not calendar.is_workday(datetime(2027, 2, 8).date())


async def test_an_admin_adds_a_year_others_may_not_and_a_bad_table_changes_nothing(client, login):
    admin, boss = await login("admin"), await login("boss")
    assert (await client.post("/api/v1/calendar/years", json=YEAR)).status == 401
    refused = await client.post("/api/v1/calendar/years", json=YEAR, headers=boss)  # a hall's manager: not the nation's
    assert refused.status == 403 and refused.content_type == "application/problem+json"
    bad = await client.post("/api/v1/calendar/years", headers=admin,
                            json={**YEAR, "workdays": [{"date": "2027-02-15", "for": "春节"}]})  # a Monday
    assert bad.status == 422 and bad.content_type == "application/problem+json"
    broken = await client.post("/api/v1/calendar/years", headers=admin, data=b"{not json")
    assert broken.status == 400
    assert (await (await client.get("/api/v1/calendar")).json())["years"][-1] == 2026  # nothing kept

    added = await client.post("/api/v1/calendar/years", json=YEAR, headers=admin)
    assert added.status == 201, await added.text()
    body = await added.json()
    assert body["years"][-1] == 2027 and body["coverage"]["covered_until"] == "2027-12-31"
    assert not calendar.is_workday(datetime(2027, 2, 8).date())


async def test_a_year_added_by_an_admin_outlives_a_restart(aiohttp_client, settings):
    first = await aiohttp_client(create_app(settings))
    token = (await (await first.post("/api/v1/auth/login", json={"username": "admin", "password": "demo"})).json())["token"]
    assert (await first.post("/api/v1/calendar/years", json=YEAR, headers={"Authorization": f"Bearer {token}"})).status == 201
    await first.close()
    calendar.use_years([])  # a new process knows only the shipped table
    second = await aiohttp_client(create_app(settings))
    assert (await (await second.get("/api/v1/calendar")).json())["years"][-1] == 2027
