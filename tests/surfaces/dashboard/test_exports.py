"""CSV and XLSX of the dashboard's tables (alerts, bad reviews, promised cases, the bulletin) on
the real app: each opens (openpyxl, the csv module) and holds the numbers of its JSON."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
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


# ------------------------------------------------------------------------------ worded for people

LANGS = ("zh-CN", "en")
ENGLISH_WORD = re.compile(r"[A-Za-z]{2,}")  # A岗 and B岗 are how a Chinese hall writes the posts
CHINESE = re.compile(r"[\u3400-\u9fff\u3000-\u303f\uff00-\uffef]")


async def read_csv(client, path: str, headers, **query: str) -> list[list[str]]:  # type: ignore[no-untyped-def]
    r = await client.get(f"{HALL}/{path}", params=query, headers=headers)
    assert r.status == 200 and r.content_type == "text/csv", await r.text()
    return list(csv.reader(io.StringIO((await r.read()).decode("utf-8-sig"))))


async def worded_csv(client, path: str, headers, lang: str, **query: str) -> list[list[str]]:  # type: ignore[no-untyped-def]
    return await read_csv(client, path, headers, words="1", lang=lang, **query)


def in_one_language(header: list[str], lang: str, names: tuple[str, ...] = ()) -> None:
    """No English word in a Chinese header, no Chinese in an English one; the hall's own names
    (its windows, in Chinese) are names, not words."""
    for h in header:
        for n in names:
            h = h.replace(n, "")
        assert not (ENGLISH_WORD if lang == "zh-CN" else CHINESE).search(h), (lang, header)


async def a_week_on(client, login, clock):  # type: ignore[no-untyped-def]
    """The scripted day played, the clock a week on (the day closed); the manager's headers."""
    service = client.app[CTX].halls["t"]
    await service.current()
    await play(service, clock)
    clock.t = MORNING + timedelta(days=7)
    return await login("boss")


async def alerts_of_a_day(client, login, clock):  # type: ignore[no-untyped-def]
    """The scripted day, a week on: a promised case due (yellow), a bad review overdue (red), and a
    ticket waiting 31 minutes (a yellow wait alert, in seconds)."""
    boss = await a_week_on(client, login, clock)
    assert (await client.post(f"{HALL}/tickets", json={"item": "a1"})).status == 201
    clock.t += timedelta(minutes=31)
    await client.app[SUPERVISORS]["t"].sweep()
    return boss


async def test_the_alerts_reviews_and_cases_exports_for_people_are_worded_in_the_pages_language(client, login, clock):
    boss = await alerts_of_a_day(client, login, clock)

    alerts = await read_csv(client, "alerts.csv", boss)
    assert alerts[0] == ["seq", "type", "at", "by", "key", "kind", "level", "value", "threshold", "ticket", "number", "window", "item"]
    by_kind = {a[5]: a for a in alerts[1:]}
    assert by_kind["wait"][2:4] == ["2026-12-02T09:31:00+08:00", "supervisor"] and by_kind["wait"][6:9] == ["yellow", "1860.0", "1800"]
    assert by_kind["review"][6:8] == ["red", "4.0"] and by_kind["review"][11:] == ["w1", "a1"]
    expected = {
        "zh-CN": (["事件", "时间", "发出方", "类型", "级别", "数值", "阈值", "号码", "窗口", "事项"],
                  ["发出", "2026-12-02 09:31:00", "电子监察", "等候超时", "黄灯", "31 分钟", "30 分钟"],
                  ["发出", "2026-12-02 09:31:00", "电子监察", "差评整改逾期", "红灯", "4 个工作日", "0 个工作日", "A002", "1号窗口", "甲一"]),
        "en": (["event", "time", "by", "kind", "level", "value", "threshold", "number", "window", "item"],
               ["raised", "2026-12-02 09:31:00", "e-supervision", "long wait", "yellow", "31 min", "30 min"],
               ["raised", "2026-12-02 09:31:00", "e-supervision", "bad review overdue", "red", "4 working days", "0 working days",
                "A002", "1号窗口", "甲一"]),
    }
    for lang, (header, wait, review) in expected.items():
        worded = await worded_csv(client, "alerts.csv", boss, lang)
        assert worded[0] == header
        assert wait in [line[:7] for line in worded[1:]] and review in worded[1:], worded

    reviews = await read_csv(client, "reviews.csv", boss)
    assert reviews[0] == ["ticket", "number", "item", "item_name", "window", "window_name", "clerk", "rated_on", "score", "comment",
                          "status", "closed", "assignee", "assignee_name", "due", "steps"]
    assert reviews[1][6] == "w1a" and reviews[1][10:12] == ["assigned", "False"] and reviews[1][-1].endswith(" assigned supervisor")
    for lang, header, line, step in (
        ("zh-CN", ["号码", "事项", "窗口", "工作人员", "评价日期", "评分", "评价内容", "状态", "已闭环", "责任人", "期限", "处理记录"],
         ["A002", "甲一", "1号窗口", "张一", "2026-11-25", "2", "材料清单不清楚", "待核实", "否"], "分派 电子监察"),
        ("en", ["number", "item", "window", "clerk", "rated on", "rating", "comment", "status", "closed", "assigned to", "due", "steps"],
         ["A002", "甲一", "1号窗口", "张一", "2026-11-25", "2", "材料清单不清楚", "to verify", "no"], "assign e-supervision"),
    ):
        worded = await worded_csv(client, "reviews.csv", boss, lang)
        assert worded[0] == header and worded[1][:9] == line, worded
        assert worded[1][-1] == f"2026-12-02 09:31 {step}"  # the step and who took it in words, not `assigned supervisor`

    cases = await read_csv(client, "cases.csv", boss)
    assert cases[0] == ["ticket", "number", "item", "item_name", "window", "accepted_on", "deadline", "working_days_left", "level"]
    assert cases[1][1:] == ["B001", "a2", "甲二", "w1", "2026-11-25", "2026-12-02", "0", "yellow"]
    for lang, header, level in (("zh-CN", ["号码", "事项", "窗口", "受理日期", "承诺期限", "剩余工作日", "级别"], "黄灯"),
                                ("en", ["number", "item", "window", "accepted on", "deadline", "working days left", "level"], "yellow")):
        worded = await worded_csv(client, "cases.csv", boss, lang)
        assert worded == [header, ["B001", "甲二", "1号窗口", "2026-11-25", "2026-12-02", "0", level]]

    # the workbook: the same worded table on a worded sheet; without words=1, as before
    r = await client.get(f"{HALL}/reviews.xlsx?words=1", headers=boss)  # Chinese unless the page asks for English
    ws = load_workbook(io.BytesIO(await r.read()), read_only=True).worksheets[0]
    assert ws.title == "差评整改" and next(ws.iter_rows(values_only=True))[:4] == ("号码", "事项", "窗口", "工作人员")
    r = await client.get(f"{HALL}/reviews.xlsx", headers=boss)
    ws = load_workbook(io.BytesIO(await r.read()), read_only=True).worksheets[0]
    assert ws.title == "reviews" and list(next(ws.iter_rows(values_only=True))) == reviews[0]


async def test_the_attendance_and_bulletin_exports_for_people_give_minutes_names_and_words(client, login, clock):
    boss = await a_week_on(client, login, clock)
    period = {"from": "2026-11-25", "to": "2026-11-25"}

    sessions = await read_csv(client, "attendance.csv", boss, table="sessions", **period)
    assert sessions[0][:3] == ["day", "window", "window_name"] and "late_s" in sessions[0]
    first = dict(zip(sessions[0], sessions[1]))
    assert (first["window"], first["late_s"], first["absent"]) == ("w1", "4800.0", "False")
    for lang, (window, late, absent, no) in (("zh-CN", ("窗口", "迟开时长（分钟）", "缺岗", "否")),
                                             ("en", ("window", "opened late by (minutes)", "absent", "no"))):
        worded = await worded_csv(client, "attendance.csv", boss, lang, table="sessions", **period)
        line = dict(zip(worded[0], worded[1]))
        assert (line[window], line[late], line[absent]) == ("1号窗口", "80.0", no), line

    bulletin = await read_csv(client, "bulletin.csv", boss, quarter="2026Q4")
    w1 = dict(zip(bulletin[0], bulletin[1]))
    assert (w1["key"], w1["wait_p90_s"], w1["award_eligible"]) == ("w1", "420.0", "False")
    for lang, (p90, eligible, no) in (("zh-CN", ("等候 90%分位（分钟）", "可评优", "否")),
                                      ("en", ("wait 90th percentile (minutes)", "award eligible", "no"))):
        worded = await worded_csv(client, "bulletin.csv", boss, lang, quarter="2026Q4")
        line = dict(zip(worded[0], worded[1]))
        assert (line[p90], line[eligible]) == ("7.0", no), line

    r = await client.get(f"{HALL}/attendance.xlsx", params={**period, "words": "1", "lang": "en"}, headers=boss)
    book = load_workbook(io.BytesIO(await r.read()), read_only=True)
    assert [ws.title for ws in book.worksheets] == ["windows", "clerks", "by day", "sessions"]
    r = await client.get(f"{HALL}/bulletin.xlsx", params={"quarter": "2026Q4", "words": "1"}, headers=boss)
    book = load_workbook(io.BytesIO(await r.read()), read_only=True)
    assert [ws.title for ws in book.worksheets] == ["各部门情况", "窗口", "优秀窗口候选", "预警最多", "工作人员", "考勤", "考勤（按工作人员）"]


async def test_every_worded_export_is_in_one_language(client, login, clock):
    """Each table every export can give, worded in Chinese and in English: not one header with a
    word of the other language (the statistics by every grouping too)."""
    boss = await alerts_of_a_day(client, login, clock)
    period = {"from": "2026-11-25", "to": "2026-12-02"}
    exports = [("alerts.csv", {}), ("reviews.csv", {}), ("cases.csv", {})]
    exports += [("attendance.csv", {**period, "table": t}) for t in ("windows", "clerks", "days", "sessions")]
    exports += [("bulletin.csv", {"quarter": "2026Q4", "table": t}) for t in ("windows", "departments", "most alerts", "clerks",
                                                                              "attendance", "attendance by clerk")]
    exports += [("stats.csv", {**period, "by": by}) for by in ("window", "item", "department", "clerk", "hour", "day", "channel")]
    for lang in LANGS:
        for path, query in exports:
            header = (await worded_csv(client, path, boss, lang, **query))[0]
            assert len(header) > 1, (path, query)
            in_one_language(header, lang)
    machine = (await read_csv(client, "bulletin.csv", boss, quarter="2026Q4"))[0]
    with pytest.raises(AssertionError):  # the check can fail: the machine form's keys are English words
        in_one_language(machine, "zh-CN")
    with pytest.raises(AssertionError):
        in_one_language((await worded_csv(client, "cases.csv", boss, "zh-CN"))[0], "en")


async def test_the_worded_statistics_name_each_group_in_the_pages_language(client, login, clock):
    """For people a group is its name: a clerk by name (never the login), a channel and the total
    in the page's language; the machine form keeps the key."""
    boss = await a_week_on(client, login, clock)
    period = {"from": "2026-11-25", "to": "2026-11-25"}
    catalog = client.app[CTX].halls["t"].catalog
    logins = set(catalog.users)
    for lang, total in (("zh-CN", "合计"), ("en", "Total")):
        clerks = await worded_csv(client, "stats.csv", boss, lang, by="clerk", **period)
        groups = [line[0] for line in clerks[1:]]
        assert groups[-1] == total and groups[:-1] and not logins & set(groups), groups
        assert all(g.split(" (")[0] in {u.name for u in catalog.users.values()} for g in groups[:-1]), groups
        channels = [line[0] for line in (await worded_csv(client, "stats.csv", boss, lang, by="channel", **period))[1:]]
        in_one_language(channels, lang)
        assert channels[-1] == total and len(channels) == 4
    machine = await read_csv(client, "stats.csv", boss, by="clerk", **period)
    assert machine[0][:2] == ["key", "name"] and machine[-1][0] == "total" and logins & {line[0] for line in machine[1:]}


def test_a_worded_export_is_as_formula_safe_as_the_machine_form():
    """Worded cells go through the same writers: a typed comment still never runs as a formula."""
    from server.api.stats import csv_response, worded

    header, lines = worded(["comment", "wait_s"], [['=HYPERLINK("x")', 120]], "zh-CN")
    read = list(csv.reader(io.StringIO(csv_response(header, lines, "f").text[1:])))
    assert read == [["评价内容", "等候（分钟）"], ["'=HYPERLINK(\"x\")", "2.0"]]
