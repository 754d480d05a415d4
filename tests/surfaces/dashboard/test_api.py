"""GET /api/v1/halls/{hall}/stats on the real app: who may read it, bad queries, CSV and XLSX."""

from __future__ import annotations

import csv
import io

import openpyxl
import pytest

from server.api.context import CTX
from tests.service.stats.scripted import play

URL = "/api/v1/halls/t/stats"


@pytest.fixture
async def played(client, clock):  # type: ignore[no-untyped-def]
    service = client.app[CTX].halls["t"]
    await service.current()
    return await play(service, clock)


async def test_managers_and_admins_read_statistics_clerks_do_not(client, login, played):
    assert (await client.get(URL)).status == 401
    assert (await client.get(URL, headers=await login("w1a"))).status == 403
    for who in ("boss", "admin"):
        r = await client.get(URL + "?from=2026-11-25&to=2026-11-25&by=window", headers=await login(who))
        assert r.status == 200
        body = await r.json()
        w1 = body["rows"][0]
        assert (body["from"], body["to"], body["by"], w1["key"], w1["served"]) == ("2026-11-25", "2026-11-25", "window", "w1", 4)
        assert w1["wait"]["mean_s"] == 200.0 and w1["service"]["p90_s"] == 360.0


@pytest.mark.parametrize(
    "query",
    [
        "?by=room",
        "?from=2026-13-01",
        "?from=yesterday",
        "?from=2026-11-25&to=2026-11-01",
        "?from=2020-01-01&to=2026-11-25",
    ],
)
async def test_a_bad_query_is_a_422_problem(client, login, query):
    for url in (URL, URL + ".csv", URL + ".xlsx"):
        r = await client.get(url + query, headers=await login("boss"))
        assert r.status == 422
    assert r.content_type == "application/problem+json"
    assert (await r.json())["type"] == "urn:hallq:problem:bad-query"


async def test_csv_and_xlsx_hold_the_same_numbers_as_json(client, login, played):
    h = await login("boss")
    q = "?from=2026-11-25&to=2026-11-25&by=item"
    answer = await (await client.get(URL + q, headers=h)).json()

    r = await client.get(URL + ".csv" + q, headers=h)
    assert r.status == 200 and r.content_type == "text/csv"
    assert "attachment" in r.headers["Content-Disposition"]
    lines = list(csv.DictReader(io.StringIO((await r.text()).lstrip("\ufeff"))))
    assert [line["key"] for line in lines] == ["a1", "a2", "b1", "c1", "total"]
    a1 = lines[0]
    assert (a1["name"], a1["issued"], a1["served"], a1["wait_mean_s"], a1["service_p50_s"]) == ("甲一", "2", "3", "270.0", "300.0")

    r = await client.get(URL + ".xlsx" + q, headers=h)
    assert r.status == 200
    sheet = openpyxl.load_workbook(io.BytesIO(await r.read())).active
    table = list(sheet.iter_rows(values_only=True))
    header = table[0]
    rows = {line[0]: dict(zip(header, line)) for line in table[1:]}
    for row in answer["rows"] + [answer["total"]]:
        x = rows[row["key"]]
        assert (x["name"], x["issued"], x["called"], x["served"], x["no_show"], x["transferred"]) == (
            row["name"], row["issued"], row["called"], row["served"], row["no_show"], row["transferred"],
        )
        for part in ("wait", "service"):
            for stat in ("count", "mean_s", "p50_s", "p90_s", "max_s"):
                assert x[f"{part}_{stat}"] == row[part][stat]
        assert x["satisfaction_scores_2"] == row["satisfaction"]["scores"]["2"]
    assert rows["total"]["served"] == 4 and rows["b1"]["no_show"] == 1
