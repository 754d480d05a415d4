"""Statistics by day on the real app (a SQLite journal): one row per calendar day of the period, in
the JSON, the CSV and the XLSX; the charts drawn by the grouping asked, named as people know it;
times past the hall's thresholds marked in the answer."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from xml.etree import ElementTree

from openpyxl import load_workbook

from server.api.context import CTX
from tests.halls import MORNING
from tests.service.stats.scripted import play

HALL = "/api/v1/halls/t"
SVG = "{http://www.w3.org/2000/svg}"
PERIOD = "from=2026-11-24&to=2026-11-29"  # Tuesday to Sunday; today is Friday 27th


async def two_days(client, login, clock) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """The scripted Wednesday (six tickets, nobody waited past 7 minutes), nothing on Thursday, and
    on Friday morning one a1 ticket that waited 31 minutes 40 seconds (past the hall's 30-minute
    yellow threshold) before a 5-minute service. Returns the manager's headers."""
    service = client.app[CTX].halls["t"]
    await service.current()
    await play(service, clock)
    clock.t = MORNING + timedelta(days=2)
    await service.current()
    w1 = await login("w1a")
    assert (await client.post(f"{HALL}/windows/w1/open", json={}, headers=w1)).status == 200
    assert (await client.post(f"{HALL}/tickets", json={"item": "a1"})).status == 201
    clock.advance(1900)
    for action, body in (("call-next", {}), ("start", {}), ("finish", {"case_type": "immediate"})):
        if action == "finish":
            clock.advance(300)
        r = await client.post(f"{HALL}/windows/w1/{action}", json=body, headers=w1)
        assert r.status == 200, await r.text()
    return await login("boss")


def labels(svg: str) -> list[str]:
    """The groups a chart names under its axis (their whole names: the tooltip of each label)."""
    root = ElementTree.fromstring(svg)
    return [t.find(f"{SVG}title").text for t in root.iter(f"{SVG}text") if t.get("class") == "label"]


async def test_by_day_gives_one_row_per_day_of_the_period_in_the_json_and_the_exports(client, login, clock):
    boss = await two_days(client, login, clock)
    answer = await (await client.get(f"{HALL}/stats?{PERIOD}&by=day", headers=boss)).json()
    # Every calendar day up to today, the empty ones too; Saturday and Sunday have not come.
    assert [r["key"] for r in answer["rows"]] == ["2026-11-24", "2026-11-25", "2026-11-26", "2026-11-27"]
    assert [(r["issued"], r["served"], r["wait"]["count"]) for r in answer["rows"]] == [(0, 0, 0), (6, 4, 5), (0, 0, 0), (1, 1, 1)]
    assert (answer["total"]["issued"], answer["total"]["served"]) == (7, 5)
    wednesday = await (await client.get(f"{HALL}/stats?from=2026-11-25&by=day", headers=boss)).json()
    assert wednesday["rows"][0] | {"thresholds": None, "over": None} == answer["rows"][1] | {"thresholds": None, "over": None}

    r = await client.get(f"{HALL}/stats.csv?{PERIOD}&by=day", headers=boss)
    assert r.status == 200 and r.headers["Content-Disposition"].endswith('-day-2026-11-24-2026-11-29.csv"')
    lines = list(csv.DictReader(io.StringIO((await r.text())[1:])))
    assert [(x["key"], x["issued"], x["served"]) for x in lines] == [
        ("2026-11-24", "0", "0"), ("2026-11-25", "6", "4"), ("2026-11-26", "0", "0"), ("2026-11-27", "1", "1"), ("total", "7", "5")]
    r = await client.get(f"{HALL}/stats.xlsx?{PERIOD}&by=day&words=1&lang=en", headers=boss)
    ws = load_workbook(io.BytesIO(await r.read()), read_only=True).worksheets[0]
    assert ws.title == "by day"
    # For people, the group's name alone (a day is its date) and the total in the page's language.
    assert [line[0] for line in ws.iter_rows(min_row=2, values_only=True)] == ["2026-11-24", "2026-11-25", "2026-11-26", "2026-11-27", "Total"]


async def test_times_past_the_thresholds_are_marked_with_their_level(client, login, clock):
    boss = await two_days(client, login, clock)
    rows = {r["key"]: r for r in (await (await client.get(f"{HALL}/stats?{PERIOD}&by=day", headers=boss)).json())["rows"]}
    friday, wednesday = rows["2026-11-27"], rows["2026-11-25"]
    # Every item takes the hall's thresholds: waits 20, 30, 45 minutes; services 2×, 3×, 4× 10 minutes.
    assert friday["thresholds"] == {"wait": [1200, 1800, 2700], "service": [1200.0, 1800.0, 2400.0]}
    # Friday's one wait, 1900 s, is every figure of its distribution: past yellow; its 300 s service is not late.
    assert friday["over"] == {"wait": {"mean_s": "yellow", "p50_s": "yellow", "p90_s": "yellow", "max_s": "yellow"}}
    assert wednesday["over"] == {} and rows["2026-11-26"]["over"] == {}
    by_item = {r["key"]: r for r in (await (await client.get(f"{HALL}/stats?{PERIOD}&by=item", headers=boss)).json())["rows"]}
    # a1's waits: 120, 420 and 1900 s; mean 813, p50 420 (2nd of 3), p90 and max 1900 (3rd of 3).
    assert by_item["a1"]["over"] == {"wait": {"p90_s": "yellow", "max_s": "yellow"}}
    assert by_item["b1"]["over"] == {}

    # The Excel export marks the same cells: bold, with the page's words as a comment.
    for query, says in (("", "超过黄灯阈值（30:00）"), ("&words=1&lang=en", "past the yellow threshold (30:00)")):
        r = await client.get(f"{HALL}/stats.xlsx?{PERIOD}&by=day{query}", headers=boss)
        ws = load_workbook(io.BytesIO(await r.read())).worksheets[0]
        marked = {(line[0].value, ws.cell(1, cell.column).value): cell.comment.text for line in ws.iter_rows(min_row=2)
                  for cell in line if cell.comment}
        assert all(ws[ref].font.b for ref in (c.coordinate for line in ws.iter_rows(min_row=2) for c in line if c.comment))
        friday = {figure: note for (day, figure), note in marked.items() if day == "2026-11-27"}
        assert len(friday) == 4 and set(friday.values()) == {says}  # mean, p50, p90, max of its one wait
        if not query:
            assert set(friday) == {"wait_mean_s", "wait_p50_s", "wait_p90_s", "wait_max_s"}
        else:  # the worded table has no key column: the marks moved with the figures
            assert set(friday) == {"wait mean (minutes)", "wait median (minutes)", "wait 90th percentile (minutes)", "wait longest (minutes)"}
        assert {day for day, _ in marked} == {"2026-11-27", "Total" if query else "total"}  # the total's p90 and max too


async def test_the_charts_draw_the_grouping_asked_by_name(client, login, clock):
    boss = await two_days(client, login, clock)

    async def chart(name: str, by: str = "", lang: str = "") -> str:
        r = await client.get(f"{HALL}/charts/{name}?{PERIOD}" + (f"&by={by}" if by else "") + (f"&lang={lang}" if lang else ""), headers=boss)
        assert r.status == 200, await r.text()
        return await r.text()

    for name in ("wait-by-hour", "service-by-window", "arrivals-served", "satisfaction"):
        assert labels(await chart(name, "item")) == ["甲一", "甲二", "乙一", "丙一"]  # names, not a1, a2…
        assert labels(await chart(name, "window")) == ["1号窗口", "2号窗口", "3号窗口"]
        assert labels(await chart(name, "department")) == ["甲局", "乙局", "丙局"]
        assert labels(await chart(name, "day")) == ["11-24", "11-25", "11-26", "11-27"]  # one a day
    assert labels(await chart("service-by-window", "clerk")) == ["张一 (S11)", "李一 (S12)", "王二 (S21)"]
    assert labels(await chart("arrivals-served", "channel", "en")) == ["booked online", "number taken remotely", "walk-in"]
    assert "Waiting time by item" in await chart("wait-by-hour", "item", "en")
    assert "等候时间（按事项）" in await chart("wait-by-hour", "item")
    # Without a grouping the board's charts are as they were: by hour, by window.
    assert labels(await chart("wait-by-hour"))[:2] == ["09:00", "10:00"]
    assert labels(await chart("service-by-window")) == ["1号窗口", "2号窗口", "3号窗口"]  # every window, as the table

    # By day, a line never crosses a day without waits: Wednesday's and Friday's points stand alone.
    root = ElementTree.fromstring(await chart("wait-by-hour", "day"))
    assert len(list(root.iter(f"{SVG}circle"))) == 4 and not list(root.iter(f"{SVG}polyline"))  # mean and p90, two days
    assert (await client.get(f"{HALL}/charts/wait-by-hour?by=week", headers=boss)).status == 422
