"""CSV and XLSX of the dashboard's tables (alerts, bad reviews, promised cases, the bulletin) on
the real app: each opens (openpyxl, the csv module) and holds the numbers of its JSON."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from openpyxl import load_workbook

from server.api.supervision import SUPERVISORS
from server.api.context import CTX
from tests.halls import MORNING
from tests.service.stats.scripted import play

HALL = "/api/v1/halls/t"


async def fetch(client, path: str, headers) -> tuple[list[dict], list[dict]]:  # type: ignore[no-untyped-def]
    """The CSV's and the XLSX's first sheet's lines, as dicts by header (None for empty cells)."""
    r = await client.get(f"{HALL}/{path}.csv", headers=headers)
    assert r.status == 200 and r.content_type == "text/csv", await r.text()
    text = await r.text()
    assert text.startswith("\ufeff")  # Excel on a Chinese Windows needs the BOM
    from_csv = [{k: (v if v != "" else None) for k, v in line.items()} for line in csv.DictReader(io.StringIO(text[1:]))]
    r = await client.get(f"{HALL}/{path}.xlsx", headers=headers)
    assert r.status == 200
    ws = load_workbook(io.BytesIO(await r.read()), read_only=True).worksheets[0]
    rows = list(ws.iter_rows(values_only=True))
    return from_csv, [dict(zip(rows[0], line)) for line in rows[1:]]


async def test_alerts_reviews_and_cases_export_the_same_rows_as_their_json(client, login, clock):
    service = client.app[CTX].halls["t"]
    await service.current()
    await play(service, clock)  # T2 rated 2 (a bad review), T4 a promised case of 5 working days
    clock.t = MORNING + timedelta(days=7)  # Wednesday 2 December: T4 due today, T2's review long late
    boss = await login("boss")
    await client.app[SUPERVISORS]["t"].sweep()

    alerts = (await (await client.get(f"{HALL}/alerts", headers=boss)).json())["alerts"]
    assert sorted((a["kind"], a["level"]) for a in alerts) == [("deadline", "yellow"), ("review", "red")]
    from_csv, from_xlsx = await fetch(client, "alerts", boss)
    assert [(a["seq"], a["key"], a["level"], a["number"]) for a in alerts] == [
        (x["seq"], x["key"], x["level"], x["number"]) for x in from_xlsx
    ] == [(int(x["seq"]), x["key"], x["level"], x["number"]) for x in from_csv]

    reviews = (await (await client.get(f"{HALL}/reviews", headers=boss)).json())["reviews"]
    from_csv, from_xlsx = await fetch(client, "reviews", boss)
    assert [(r["number"], r["score"], r["status"], r["due"]) for r in reviews] == [
        (x["number"], x["score"], x["status"], x["due"]) for x in from_xlsx
    ] == [(x["number"], int(x["score"]), x["status"], x["due"]) for x in from_csv]
    assert from_xlsx[0]["comment"] == "材料清单不清楚" and "assigned supervisor" in from_xlsx[0]["steps"]

    cases = (await (await client.get(f"{HALL}/cases", headers=boss)).json())["cases"]
    assert [(c["deadline"], c["working_days_left"], c["level"]) for c in cases] == [("2026-12-02", 0, "yellow")]
    from_csv, from_xlsx = await fetch(client, "cases", boss)
    assert [(c["number"], c["deadline"], c["working_days_left"], c["level"]) for c in cases] == [
        (x["number"], x["deadline"], x["working_days_left"], x["level"]) for x in from_xlsx
    ] == [(x["number"], x["deadline"], int(x["working_days_left"]), x["level"]) for x in from_csv]
    assert (await client.get(f"{HALL}/cases.csv")).status == 401


async def test_the_bulletin_exports_each_of_its_tables_as_csv(client, login, clock):
    service = client.app[CTX].halls["t"]
    await service.current()
    await play(service, clock)
    boss = await login("boss")
    b = await (await client.get(f"{HALL}/bulletin?quarter=2026Q4", headers=boss)).json()
    r = await client.get(f"{HALL}/bulletin.csv?quarter=2026Q4", headers=boss)
    assert r.status == 200 and r.content_type == "text/csv"
    windows = list(csv.DictReader(io.StringIO((await r.text())[1:])))
    assert [(w["key"], int(w["award_rank"]), float(w["award_score"]), int(w["served"])) for w in windows] == [
        (w["key"], w["award"]["rank"], w["award"]["score"], w["served"]) for w in b["windows"]
    ]
    r = await client.get(f"{HALL}/bulletin.csv?quarter=2026Q4&table=departments", headers=boss)
    departments = list(csv.DictReader(io.StringIO((await r.text())[1:])))
    assert [(d["key"], int(d["issued"])) for d in departments] == [
        *((d["key"], d["issued"]) for d in b["departments"]), ("total", b["total"]["issued"])
    ]
    assert (await client.get(f"{HALL}/bulletin.csv?table=charts", headers=boss)).status == 422


def test_no_export_cell_becomes_a_formula():
    """A comment or reason typed by anyone reaches a manager's spreadsheet: each of these would
    run as a formula (or hide one) in Excel or WPS; every export goes through these two writers."""
    from server.api.stats import csv_response, xlsx_bytes

    dangerous = ['=HYPERLINK("x")', "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1"]
    lines = [[text, 7, -3.5] for text in dangerous]
    ws = load_workbook(io.BytesIO(xlsx_bytes([("s", ["comment", "n", "x"], lines)]))).worksheets[0]
    cells = list(ws.iter_rows(min_row=2))
    # the very text, not a formula's result (XML keeps a carriage return as a line feed)
    assert [c[0].value for c in cells] == [d.replace("\r", "\n") for d in dangerous]
    assert {c[0].data_type for c in cells} == {"s"}
    assert [(c[1].value, c[2].value, c[1].data_type) for c in cells] == [(7, -3.5, "n")] * len(dangerous)  # numbers stay numbers

    text = csv_response(["comment", "n", "x"], lines, "f").text
    read = list(csv.reader(io.StringIO(text[1:])))[1:]
    assert [r[0] for r in read] == ["'" + d for d in dangerous]
    assert [r[1:] for r in read] == [["7", "-3.5"]] * len(dangerous)


async def test_the_statistics_export_for_people_has_words_and_minutes(client, login, clock):
    boss = await login("boss")
    plain = (await (await client.get(f"{HALL}/stats.csv?by=item", headers=boss)).read()).decode("utf-8-sig")
    assert plain.splitlines()[0].startswith("key,name,")  # for machines, as before
    for lang, wait in (("zh-CN", "等候 90%分位（分钟）"), ("en", "wait 90th percentile (minutes)")):
        r = await client.get(f"{HALL}/stats.csv?by=item&words=1&lang={lang}", headers=boss)
        assert r.status == 200
        header = (await r.read()).decode("utf-8-sig").splitlines()[0].split(",")
        assert wait in header and not any(h.endswith("_s") for h in header), header
