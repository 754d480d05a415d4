"""考勤 on the real app: the report of the scripted attendance day (tests/service/stats/test_attendance.py)
as JSON, CSV and XLSX, refused to clerks and to bad queries."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook

from server.api import Settings, create_app
from server.api.context import CTX
from tests.halls import FakeClock, write_config
from tests.service.stats.test_attendance import DAY, at, check, play

HALL = "/api/v1/halls/t"
DATE = DAY.date().isoformat()


@pytest.fixture
async def attendance_client(aiohttp_client, tmp_path):  # type: ignore[no-untyped-def]
    clock = FakeClock(DAY.replace(hour=8))
    folder = tmp_path / "cfg"
    write_config(folder)
    app = create_app(Settings(config_dir=folder, data_dir=tmp_path / "d", clock=clock, background=False))
    client = await aiohttp_client(app)
    service = app[CTX].halls["t"]
    await service.current()
    await play(service, clock)
    at(clock, 18, 0)

    async def token(user: str) -> dict[str, str]:
        r = await client.post("/api/v1/auth/login", json={"username": user, "password": "demo"})
        return {"Authorization": f"Bearer {(await r.json())['token']}"}

    return client, await token("boss"), await token("w1a")


async def test_the_report_as_json_csv_and_xlsx(attendance_client):
    client, boss, _ = attendance_client
    r = await client.get(f"{HALL}/attendance?from={DATE}", headers=boss)
    assert r.status == 200
    report = await r.json()
    check(report)
    r = await client.get(f"{HALL}/attendance.csv?from={DATE}&table=clerks", headers=boss)
    assert r.status == 200
    rows = list(csv.DictReader(io.StringIO((await r.text()).lstrip("\ufeff"))))
    assert [(x["key"], x["late_s"], x["early_s"], x["absent"], x["covered"], x["alerts"]) for x in rows] == [
        ("w1a", "900.0", "0.0", "0", "0", "0"), ("w1b", "0.0", "600.0", "0", "2", "1"),
        ("w2a", "600.0", "0.0", "0", "0", "0"), ("w3a", "0.0", "0.0", "2", "0", "1"),
    ]
    r = await client.get(f"{HALL}/attendance.xlsx?from={DATE}", headers=boss)
    assert r.status == 200
    wb = load_workbook(io.BytesIO(await r.read()), read_only=True)
    assert wb.sheetnames == ["windows", "clerks", "days", "sessions"]
    sessions = list(wb["sessions"].iter_rows(values_only=True))
    assert len(sessions) == 1 + len(report["sessions"]) == 6
    windows = list(wb["windows"].iter_rows(values_only=True))
    assert [line[0] for line in windows[1:]] == ["w1", "w2", "w3", "total"]


@pytest.mark.parametrize(
    ("query", "status"),
    [("attendance?from=2026-13-01", 422), ("attendance?from=2026-11-26&to=2026-11-25", 422), ("attendance.csv?table=nope", 422)],
)
async def test_bad_queries_are_refused(attendance_client, query, status):
    client, boss, _ = attendance_client
    r = await client.get(f"{HALL}/{query}", headers=boss)
    assert r.status == status
    assert r.content_type == "application/problem+json"


async def test_a_clerk_reads_no_attendance(attendance_client):
    client, _, clerk = attendance_client
    assert (await client.get(f"{HALL}/attendance", headers=clerk)).status == 403
    assert (await client.get(f"{HALL}/attendance")).status == 401
