"""Hall administration through the API on the real app: preview, save, refuse, retire, schedule,
export and import. The small hall (tests/halls.py): w3 is the comprehensive window."""

from __future__ import annotations

import copy
import io
import zipfile
from pathlib import Path

import pytest

from server.api import Settings, create_app
from tests.halls import PUBLICS, small_config, write_config

ADMIN = "/api/v1/halls/t/admin"
NEW_ITEM = {"id": "c2", "name": "丙二 新事项", "department": "c", "prefix": "E", "publics": PUBLICS,
            "materials": ["身份证", "申请书"], "hours": {"hours": ["08:30-12:00", "13:30-17:30"]}}


async def editable(client, h) -> dict:  # type: ignore[no-untyped-def]
    r = await client.get(ADMIN + "/catalog", headers=h)
    assert r.status == 200, await r.text()
    return await r.json()


def window(doc: dict, ident: str) -> dict:
    return copy.deepcopy(next(w for w in doc["document"]["windows"] if w["id"] == ident))


def item(doc: dict, ident: str) -> dict:
    return copy.deepcopy(next(i for i in doc["document"]["items"] if i["id"] == ident))


async def catalog_changes(client, h) -> list[dict]:  # type: ignore[no-untyped-def]
    events = (await (await client.get("/api/v1/halls/t/events", headers=h)).json())["events"]
    return [e for e in events if e["type"] == "catalog_changed"]


async def test_an_item_added_to_the_comprehensive_window_is_previewed_saved_recorded_and_called_there(client, login):
    h = await login("admin")
    doc = await editable(client, h)
    assert doc["rev"] == 0 and doc["in_force"] == 0 and [r["rev"] for r in doc["revisions"]] == [0]
    w3 = window(doc, "w3")
    w3["items"].append("c2")
    change = {"base_rev": 0, "items": [NEW_ITEM], "windows": [w3]}

    r = await client.post(ADMIN + "/catalog", json={**change, "dry_run": True}, headers=h)
    assert r.status == 200, await r.text()
    plan = await r.json()
    assert plan["saved"] is False and plan["rev"] == 1
    assert plan["diff"]["items"]["added"] == [{"id": "c2", "name": "丙二 新事项"}]
    (changed,) = plan["diff"]["windows"]["changed"]
    assert changed["id"] == "w3" and changed["fields"][0]["field"] == "items"
    assert changed["fields"][0]["after"] == ["a2", "b1", "c1", "c2"]
    assert "c2" not in [i["id"] for i in (await (await client.get("/api/v1/halls/t/catalog")).json())["items"]]
    assert await catalog_changes(client, h) == []

    r = await client.post(ADMIN + "/catalog", json=change, headers=h)
    assert r.status == 201, await r.text()
    assert (await r.json())["summary"] == "items +1; windows ~1"
    public = await (await client.get("/api/v1/halls/t/catalog")).json()
    assert public["rev"] == 1
    assert "c2" in next(w for w in public["windows"] if w["id"] == "w3")["items"]
    (recorded,) = await catalog_changes(client, h)
    assert (recorded["by"], recorded["rev"], recorded["summary"]) == ("admin", 1, "items +1; windows ~1")

    r = await client.post("/api/v1/halls/t/tickets", json={"item": "c2"})
    assert r.status == 201, await r.text()
    ticket = await r.json()
    assert ticket["number"] == "E001" and ticket["windows"] == ["w3"]
    clerk = await login("w3a")
    assert (await client.post("/api/v1/halls/t/windows/w3/open", headers=clerk)).status == 200
    called = await (await client.post("/api/v1/halls/t/windows/w3/call-next", headers=clerk)).json()
    assert called["ticket"]["number"] == "E001"


async def _w3_without_items(doc: dict) -> dict:
    w3 = window(doc, "w3")
    w3["items"] = []
    return {"windows": [w3]}


@pytest.mark.parametrize(
    "make,field",
    [
        (lambda doc: {"items": [{**NEW_ITEM, "prefix": "A"}], "windows": [{**window(doc, "w3"), "items": ["a2", "b1", "c1", "c2"]}]},
         "items.c2.prefix"),
        (lambda doc: {"windows": [{**window(doc, "w3"), "items": []}]}, "windows.w3.items"),
        (lambda doc: {"items": [{**item(doc, "c1"), "hours": {"hours": ["12:00-08:30"]}}]}, "items.c1.hours.hours.0"),
        (lambda doc: {"windows": [{**window(doc, "w3"), "scheduled": [{"departments": ["c"], "schedule": {"hours": ["17:00-09:00"]}}]}]},
         "windows.w3.scheduled.0.schedule.hours.0"),
        (lambda doc: {"items": [{**item(doc, "c1"), "department": "nobody"}]}, "items.c1.department"),
        (lambda doc: {"windows": [{**window(doc, "w1"), "items": ["a1", "b1"]}]}, "windows.w1.kind"),
        (lambda doc: {"hall": {**doc["document"]["hall"], "calendar": {"closed_days": ["2026-12-01"], "working_days": ["2026-12-01"]}}},
         "hall.calendar"),
    ],
    ids=["duplicate-prefix", "window-without-items", "hours-end-before-start", "scheduled-hours-backwards",
         "unknown-department", "dedicated-window-of-two-departments", "a-day-closed-and-working"],
)
async def test_an_invalid_edit_is_refused_naming_the_field_and_nothing_changes(client, login, make, field):
    h = await login("admin")
    doc = await editable(client, h)
    before = await (await client.get("/api/v1/halls/t/catalog")).json()
    for dry_run in (True, False):
        r = await client.post(ADMIN + "/catalog", json={"base_rev": 0, "dry_run": dry_run, **make(doc)}, headers=h)
        assert r.status == 422, await r.text()
        assert r.content_type == "application/problem+json"
        problem = await r.json()
        assert field in [e["field"] for e in problem["errors"]], problem
        assert field.split(".")[0] in problem["detail"]
    after = await editable(client, h)
    assert after["rev"] == 0 and after["document"] == doc["document"] and len(after["revisions"]) == 1
    assert await (await client.get("/api/v1/halls/t/catalog")).json() == before
    assert await catalog_changes(client, h) == []


async def test_a_retired_item_is_no_longer_offered_but_its_ticket_is_served_and_counted(client, login):
    h = await login("boss")
    issued = await (await client.post("/api/v1/halls/t/tickets", json={"item": "a1"})).json()
    doc = await editable(client, h)
    r = await client.post(ADMIN + "/catalog", json={"base_rev": 0, "items": [{**item(doc, "a1"), "retired": True}]}, headers=h)
    assert r.status == 201, await r.text()
    assert (await r.json())["diff"]["items"]["retired"] == [{"id": "a1", "name": "甲一"}]
    assert "a1" not in [i["id"] for i in (await (await client.get("/api/v1/halls/t/catalog")).json())["items"]]
    refused = await client.post("/api/v1/halls/t/tickets", json={"item": "a1"})
    assert refused.status == 409 and (await refused.json())["type"] == "urn:hallq:problem:retired"
    assert item(await editable(client, h), "a1")["retired"] is True  # kept, marked

    clerk = await login("w1a")
    await client.post("/api/v1/halls/t/windows/w1/open", headers=clerk)
    called = await (await client.post("/api/v1/halls/t/windows/w1/call-next", headers=clerk)).json()
    assert called["ticket"]["number"] == issued["number"]
    await client.post("/api/v1/halls/t/windows/w1/start", headers=clerk)
    r = await client.post("/api/v1/halls/t/windows/w1/finish", json={"case_type": "immediate"}, headers=clerk)
    assert r.status == 200
    rows = (await (await client.get("/api/v1/halls/t/stats?from=2026-11-25&to=2026-11-25&by=item", headers=h)).json())["rows"]
    a1 = next(row for row in rows if row["key"] == "a1")
    assert (a1["name"], a1["issued"], a1["served"]) == ("甲一", 1, 1)


async def test_retiring_the_last_window_of_waiting_tickets_is_refused(client, login):
    h = await login("admin")
    await client.post("/api/v1/halls/t/tickets", json={"item": "b1"})
    doc = await editable(client, h)
    w2, w3 = window(doc, "w2"), window(doc, "w3")
    w3["items"] = ["a2", "c1"]
    b1 = {**item(doc, "b1"), "retired": True}
    r = await client.post(ADMIN + "/catalog", json={"base_rev": 0, "items": [b1], "windows": [{**w2, "retired": True}, w3]}, headers=h)
    assert r.status == 422
    (error,) = (await r.json())["errors"]
    assert error["field"] == "items.b1" and "wait today" in error["message"]
    # From tomorrow, with nobody waiting yet, the same change is fine.
    r = await client.post(ADMIN + "/catalog", json={"base_rev": 0, "effective": "2026-11-26", "items": [b1],
                                                    "windows": [{**w2, "retired": True}, w3]}, headers=h)
    assert r.status == 201, await r.text()


async def test_a_change_from_a_chosen_day_takes_effect_when_that_day_begins(client, login, clock):
    h = await login("admin")
    doc = await editable(client, h)
    hall = {**doc["document"]["hall"], "notice": "12月1日起新事项开办"}
    r = await client.post(ADMIN + "/catalog", json={"base_rev": 0, "effective": "2026-11-26", "hall": hall}, headers=h)
    assert r.status == 201, await r.text()
    assert (await (await client.get("/api/v1/halls/t/catalog")).json())["hall"]["notice"] == ""
    listed = await editable(client, h)
    assert (listed["rev"], listed["in_force"], listed["revisions"][0]["pending"]) == (1, 0, True)
    # An immediate change cannot jump ahead of the one waiting for its day.
    r = await client.post(ADMIN + "/catalog", json={"base_rev": 1, "hall": {**hall, "notice": "x"}}, headers=h)
    assert r.status == 409 and (await r.json())["type"] == "urn:hallq:problem:pending-revision"
    r = await client.post(ADMIN + "/catalog", json={"base_rev": 1, "effective": "2026-11-24", "hall": hall}, headers=h)
    assert r.status == 422

    clock.advance(24 * 3600)  # Thursday 26 November, 09:00
    public = await (await client.get("/api/v1/halls/t/catalog")).json()
    assert (public["rev"], public["hall"]["notice"]) == (1, "12月1日起新事项开办")


async def test_two_saves_on_the_same_revision_the_second_is_refused_as_stale(client, login):
    h = await login("admin")
    doc = await editable(client, h)
    first = await client.post(ADMIN + "/catalog", json={"base_rev": 0, "items": [{**item(doc, "c1"), "name": "丙一甲"}]}, headers=h)
    second = await client.post(ADMIN + "/catalog", json={"base_rev": 0, "items": [{**item(doc, "c1"), "name": "丙一乙"}]}, headers=h)
    assert (first.status, second.status) == (201, 409)
    assert (await second.json())["type"] == "urn:hallq:problem:stale-revision"


async def test_only_managers_and_admins_administer(client, login):
    assert (await client.get(ADMIN + "/catalog")).status == 401
    clerk = await login("w1a")
    assert (await client.get(ADMIN + "/catalog", headers=clerk)).status == 403
    r = await client.post(ADMIN + "/catalog", json={"base_rev": 0, "windows": []}, headers=clerk)
    assert r.status == 403
    assert (await client.get(ADMIN + "/export", headers=clerk)).status == 403


async def _export(client, h) -> bytes:  # type: ignore[no-untyped-def]
    r = await client.get(ADMIN + "/export", headers=h)
    assert r.status == 200 and r.content_type == "application/zip"
    return await r.read()


async def test_export_then_import_into_an_empty_data_directory_gives_the_same_catalogue(
    client, login, tmp_path: Path, clock, aiohttp_client
):
    h = await login("admin")
    doc = await editable(client, h)
    w3 = window(doc, "w3")
    w3["items"].append("c2")
    hall = {**doc["document"]["hall"], "notice": "导出测试", "calendar": {"closed_days": ["2026-12-31"]}}
    r = await client.post(ADMIN + "/catalog", json={"base_rev": 0, "hall": hall, "items": [NEW_ITEM, {**item(doc, "b1"), "retired": True}],
                                                    "windows": [w3]}, headers=h)
    assert r.status == 201, await r.text()
    exported = await _export(client, h)
    source = await editable(client, h)
    public = await (await client.get("/api/v1/halls/t/catalog")).json()

    # 1. The files are a config directory: a new server on an empty data directory starts from them.
    folder = tmp_path / "exported"
    zipfile.ZipFile(io.BytesIO(exported)).extractall(folder)
    assert sorted(p.name for p in (folder / "t").iterdir()) == ["departments.yaml", "hall.yaml", "items.yaml", "users.yaml", "windows.yaml"]
    fresh = await aiohttp_client(create_app(Settings(config_dir=folder, data_dir=tmp_path / "empty", clock=clock)))
    h2 = {"Authorization": "Bearer " + (await (await fresh.post("/api/v1/auth/login", json={"username": "admin", "password": "demo"})).json())["token"]}
    copy_doc = await editable(fresh, h2)
    assert copy_doc["document"] == source["document"]
    assert {**await (await fresh.get("/api/v1/halls/t/catalog")).json(), "rev": 1} == public

    # 2. Imported through the API into a hall still at its original catalogue: preview, then apply.
    other = tmp_path / "other"
    write_config(other, small_config())
    target = await aiohttp_client(create_app(Settings(config_dir=other, data_dir=tmp_path / "other-data", clock=clock)))
    h3 = {"Authorization": "Bearer " + (await (await target.post("/api/v1/auth/login", json={"username": "admin", "password": "demo"})).json())["token"]}
    query = "?base_rev=0&with_hall=true"
    r = await target.post(ADMIN + "/import" + query + "&dry_run=true", data=exported, headers={**h3, "Content-Type": "application/zip"})
    assert r.status == 200, await r.text()
    plan = await r.json()
    assert plan["diff"]["items"]["added"] == [{"id": "c2", "name": "丙二 新事项"}]
    assert plan["diff"]["items"]["retired"] == [{"id": "b1", "name": "乙一"}]
    assert plan["ignored"] == ["users"]
    assert (await editable(target, h3))["rev"] == 0
    r = await target.post(ADMIN + "/import" + query, data=exported, headers={**h3, "Content-Type": "application/zip"})
    assert r.status == 201, await r.text()
    assert (await editable(target, h3))["document"] == source["document"]
    assert await (await target.get("/api/v1/halls/t/catalog")).json() == public


async def test_an_import_lacking_entries_keeps_them_retired_and_bad_files_are_refused(client, login):
    h = await login("admin")
    config = small_config()
    data = config.model_dump(mode="json", exclude_defaults=True)
    import yaml

    files = {
        "departments.yaml": yaml.safe_dump(data["departments"], allow_unicode=True),
        "items.yaml": yaml.safe_dump([i for i in data["items"] if i["id"] != "c1"], allow_unicode=True),
        "windows.yaml": yaml.safe_dump([{**w, "items": [i for i in w["items"] if i != "c1"]} for w in data["windows"]], allow_unicode=True),
    }
    r = await client.post(ADMIN + "/import", json={"base_rev": 0, "files": files}, headers=h)
    assert r.status == 201, await r.text()
    assert (await r.json())["diff"]["items"]["retired"] == [{"id": "c1", "name": "丙一"}]
    assert item(await editable(client, h), "c1")["retired"] is True

    bad = await client.post(ADMIN + "/import", json={"base_rev": 1, "files": {**files, "items.yaml": "- id: [unclosed"}}, headers=h)
    assert bad.status == 422 and "items.yaml" in (await bad.json())["detail"]
    wrong = await client.post(ADMIN + "/import", json={"base_rev": 1, "files": {"notes.txt": "x"}}, headers=h)
    assert wrong.status == 422
    junk = await client.post(ADMIN + "/import?base_rev=1", data=b"not a zip", headers={**h, "Content-Type": "application/zip"})
    assert junk.status == 422
    assert (await editable(client, h))["rev"] == 1


async def test_always_open_is_how_a_server_runs_never_what_a_revision_stores(tmp_path: Path, config_dir, clock, aiohttp_client):
    clock.advance(12 * 3600)  # 21:00, the hall is closed
    app = create_app(Settings(config_dir=config_dir, data_dir=tmp_path / "night", clock=clock, always_open=True, issue_rate_per_s=0))
    night = await aiohttp_client(app)
    h = {"Authorization": "Bearer " + (await (await night.post("/api/v1/auth/login", json={"username": "admin", "password": "demo"})).json())["token"]}
    doc = await editable(night, h)
    assert doc["document"]["hall"]["enforce_hours"] is True
    r = await night.post(ADMIN + "/catalog", json={"base_rev": 0, "hall": {**doc["document"]["hall"], "notice": "夜间测试"}}, headers=h)
    assert r.status == 201, await r.text()
    assert (await editable(night, h))["document"]["hall"]["enforce_hours"] is True
    assert (await night.post("/api/v1/halls/t/tickets", json={"item": "a1"})).status == 201


@pytest.mark.parametrize(
    "body",
    [
        {"base_rev": 0, "items": [{"id": "x9", "prefix": 5}]},
        {"base_rev": 0, "items": [{"name": "没有编号"}]},
        {"base_rev": 0, "items": [7, "a1"]},
        {"base_rev": 0, "hall": {"id": "another"}},
        {"base_rev": 0, "hall": {}},
        {"base_rev": 0, "windows": [{"id": "w1", "items": "a1"}]},
        {"base_rev": 0, "windows": [{"id": "w1", "name": "1号窗口", "kind": "dedicated", "items": ["a1"], "scheduled": "daily"}]},
        {"base_rev": 0, "effective": "someday", "hall": {"name": "x"}},
        {"base_rev": -1},
        {"base_rev": 0, "kiosks": []},
        {"base_rev": 0},
    ],
)
async def test_junk_edits_are_4xx_problems_never_500(client, login, body):
    h = await login("admin")
    r = await client.post(ADMIN + "/catalog", json=body, headers=h)
    assert 400 <= r.status < 500, await r.text()
    assert r.content_type == "application/problem+json"
    assert (await editable(client, h))["rev"] == 0


@pytest.mark.parametrize(
    "files",
    [
        {"departments.yaml": "- 1\n- 2", "items.yaml": "[]", "windows.yaml": "[]"},
        {"departments.yaml": "{}", "items.yaml": "[]", "windows.yaml": "[]"},
        {"hall.yaml": "[]", "departments.yaml": "[]", "items.yaml": "[]", "windows.yaml": "[]"},
        {"items.yaml": "- id: a1"},
    ],
)
async def test_junk_imports_are_4xx_problems_never_500(client, login, files):
    h = await login("admin")
    r = await client.post(ADMIN + "/import", json={"base_rev": 0, "files": files, "with_hall": True}, headers=h)
    assert r.status == 422, await r.text()
    assert (await editable(client, h))["rev"] == 0
    assert (await client.get(ADMIN + "/revisions/x", headers=h)).status == 422
    assert (await client.get(ADMIN + "/revisions/7", headers=h)).status == 404


async def test_a_change_waiting_for_its_day_can_be_withdrawn_and_is_never_in_force(client, login, clock):
    h = await login("boss")
    doc = await editable(client, h)
    hall = doc["document"]["hall"]
    r = await client.post(ADMIN + "/catalog", json={"base_rev": 0, "effective": "2026-11-27", "hall": {**hall, "notice": "周五起"}}, headers=h)
    assert r.status == 201
    assert (await client.post(ADMIN + "/revisions/1/withdraw", headers=await login("w1a"))).status == 403
    r = await client.post(ADMIN + "/revisions/1/withdraw", headers=h)
    assert r.status == 200, await r.text()
    assert (await r.json())["withdrawn"]["by"] == "boss"
    assert (await client.post(ADMIN + "/revisions/1/withdraw", headers=h)).status == 409
    listed = await editable(client, h)
    assert (listed["rev"], listed["document"]["hall"]["notice"]) == (0, "")  # the next change is made on revision 0 again
    r = await client.post(ADMIN + "/catalog", json={"base_rev": 0, "hall": {**hall, "notice": "今天起"}}, headers=h)
    assert r.status == 201 and (await r.json())["rev"] == 2  # numbers are never reused
    assert (await client.post(ADMIN + "/revisions/2/withdraw", headers=h)).status == 409  # in force already
    events = (await (await client.get("/api/v1/halls/t/events", headers=h)).json())["events"]
    assert [(e["type"], e["rev"]) for e in events if e["type"].startswith("catalog")] == [
        ("catalog_changed", 1), ("catalog_withdrawn", 1), ("catalog_changed", 2)]
    clock.advance(2 * 24 * 3600)  # Friday the 27th: revision 1 would have been in force
    public = await (await client.get("/api/v1/halls/t/catalog")).json()
    assert (public["rev"], public["hall"]["notice"]) == (2, "今天起")
