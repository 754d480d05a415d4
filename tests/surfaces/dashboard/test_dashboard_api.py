"""The dashboard's API on the real app: live board, journalled alerts, bad-review loop,
promised cases across days, charts and the quarterly bulletin."""

from __future__ import annotations

from datetime import timedelta
from xml.etree import ElementTree

from server.api.supervision import SUPERVISORS
from server.api.context import CTX
from tests.halls import MORNING

HALL = "/api/v1/halls/t"


async def issue(client, item: str) -> dict:  # type: ignore[no-untyped-def]
    r = await client.post(f"{HALL}/tickets", json={"item": item})
    assert r.status == 201, await r.text()
    return await r.json()


async def act(client, h, window: str, action: str, body: dict | None = None) -> dict:  # type: ignore[no-untyped-def]
    r = await client.post(f"{HALL}/windows/{window}/{action}", json=body, headers=h)
    assert r.status == 200, await r.text()
    return await r.json()


async def sweep(client) -> None:  # type: ignore[no-untyped-def]
    await client.app[SUPERVISORS]["t"].sweep()


async def test_the_board_shows_queues_windows_and_a_journalled_alert(client, login, clock):
    boss, w1 = await login("boss"), await login("w1a")
    assert (await client.get(f"{HALL}/supervision", headers=w1)).status == 403
    await act(client, w1, "w1", "open")
    waiting = await issue(client, "a2")
    clock.advance(1250)
    await sweep(client)
    board = await (await client.get(f"{HALL}/supervision", headers=boss)).json()
    by_kind = {a["kind"]: a for a in board["alerts"]}
    assert sorted(by_kind) == ["idle", "unattended", "wait"]
    alert, empty, idle = by_kind["wait"], by_kind["unattended"], by_kind["idle"]
    assert (alert["kind"], alert["level"], alert["number"], alert["item_name"]) == ("wait", "warning", waiting["number"], "甲二")
    # w3 (comprehensive) serves a2 too and stayed closed while the ticket waited: unattended.
    assert (empty["key"], empty["level"], empty["value"]) == ("unattended:w3", "warning", 1250.0)
    # w1 was open and called nobody all that while: idle (issue 19), past its three thresholds (5, 10, 15 min).
    assert (idle["key"], idle["level"], idle["value"]) == ("idle:w1", "red", 1250.0)
    assert board["today"] == {"issued": 1, "served": 0, "waiting": 1, "no_show": 0, "open_windows": 1}
    a2 = next(q for q in board["queues"] if q["item"] == "a2")
    assert (a2["waiting"], a2["longest_wait_s"], a2["level"]) == (1, 1250, "warning")
    w = next(w for w in board["windows"] if w["id"] == "w1")
    assert (w["state"], w["clerk"]["name"], w["for_s"]) == ("idle", "张一", 1250)
    events = await (await client.get(f"{HALL}/events", headers=boss)).json()
    assert [e["type"] for e in events["events"]].count("alert_raised") == 3  # an alert is an event of the journal
    await act(client, w1, "w1", "call-next")
    await sweep(client)
    board = await (await client.get(f"{HALL}/supervision", headers=boss)).json()
    assert board["alerts"] == [] and [e["type"] for e in board["log"]] == ["alert_cleared"] * 3 + ["alert_raised"] * 3
    stats = await (await client.get(f"{HALL}/stats?by=item", headers=boss)).json()
    assert next(r for r in stats["rows"] if r["key"] == "a2")["alerts"] == {"total": 1, "warning": 1, "yellow": 0, "red": 0}


async def test_a_bad_review_goes_round_its_loop_and_a_late_step_raises_an_alert(client, login, clock):
    boss, w1 = await login("boss"), await login("w1a")
    await act(client, w1, "w1", "open")
    ticket = await issue(client, "a1")
    await act(client, w1, "w1", "call-next")
    await act(client, w1, "w1", "start")
    await act(client, w1, "w1", "finish", {"case_type": "immediate"})
    r = await client.post(f"{HALL}/tickets/{ticket['id']}/evaluation", json={"score": 1, "comment": "态度差"})
    assert r.status == 201
    await sweep(client)
    (review,) = (await (await client.get(f"{HALL}/reviews", headers=boss)).json())["reviews"]
    assert (review["status"], review["score"], review["comment"], review["due"]) == ("assigned", 1, "态度差", "2026-11-26")
    assert review["steps"][0]["by"] == "supervisor"

    # Friday: verification was due Thursday, one working day late: yellow.
    clock.t = MORNING + timedelta(days=2)
    boss, w1 = await login("boss"), await login("w1a")  # sessions last 12 hours
    await sweep(client)
    r = await client.get(f"{HALL}/supervision", headers=boss)
    board = await r.json()
    assert r.status == 200, board
    assert [(a["kind"], a["level"], a["number"]) for a in board["alerts"]] == [("review", "yellow", ticket["number"])]

    url = f"{HALL}/reviews/{ticket['id']}/steps"
    assert (await client.post(url, json={"step": "verified", "note": "属实"}, headers=w1)).status == 403
    r = await client.post(url, json={"step": "called_back", "note": "x"}, headers=boss)
    assert r.status == 409
    for step in ("verified", "rectified", "called_back"):
        r = await client.post(url, json={"step": step, "note": f"{step} 已完成"}, headers=boss)
        assert r.status == 201, await r.text()
    done = await r.json()
    assert (done["status"], done["closed"], [s["step"] for s in done["steps"]]) == (
        "called_back", True, ["assigned", "verified", "rectified", "called_back"],
    )
    await sweep(client)
    board = await (await client.get(f"{HALL}/supervision", headers=boss)).json()
    assert board["alerts"] == []


async def test_a_promised_case_is_tracked_to_its_deadline_and_concluded(client, login, clock):
    boss, w1 = await login("boss"), await login("w1a")
    await act(client, w1, "w1", "open")
    ticket = await issue(client, "a2")  # promised, 5 working days
    await act(client, w1, "w1", "call-next")
    await act(client, w1, "w1", "start")
    await act(client, w1, "w1", "finish", {"case_type": "promised"})
    clock.t = MORNING + timedelta(days=7)  # Wednesday 2 December: the deadline
    boss, w1 = await login("boss"), await login("w1a")  # sessions last 12 hours
    await sweep(client)
    cases = (await (await client.get(f"{HALL}/cases", headers=boss)).json())["cases"]
    assert [(c["number"], c["deadline"], c["working_days_left"], c["level"]) for c in cases] == [(ticket["number"], "2026-12-02", 0, "yellow")]
    board = await (await client.get(f"{HALL}/supervision", headers=boss)).json()
    assert [(a["kind"], a["level"]) for a in board["alerts"]] == [("deadline", "yellow")]
    assert (await client.post(f"{HALL}/cases/{ticket['id']}/conclude", json={}, headers=await login("w2a"))).status == 403
    r = await client.post(f"{HALL}/cases/{ticket['id']}/conclude", json={"note": "已发证"}, headers=w1)
    assert r.status == 201
    assert (await client.post(f"{HALL}/cases/{ticket['id']}/conclude", json={}, headers=w1)).status == 404
    client.app[SUPERVISORS]["t"].invalidate()
    await sweep(client)
    board = await (await client.get(f"{HALL}/supervision", headers=boss)).json()
    assert board["alerts"] == [] and (await (await client.get(f"{HALL}/cases", headers=boss)).json())["cases"] == []


async def test_charts_are_svg_drawn_on_the_server(client, login):
    boss = await login("boss")
    await issue(client, "a1")
    for name in ("wait-by-hour", "service-by-window", "arrivals-served", "satisfaction"):
        r = await client.get(f"{HALL}/charts/{name}", headers=boss)
        assert r.status == 200 and r.content_type == "image/svg+xml"
        svg = ElementTree.fromstring(await r.text())
        assert svg.tag == "{http://www.w3.org/2000/svg}svg" and f"chart-{name}" in svg.get("class", "")
    r = await client.get(f"{HALL}/charts/arrivals-served?lang=en", headers=boss)
    assert "Arrivals and served by hour" in await r.text()
    assert (await client.get(f"{HALL}/charts/pie", headers=boss)).status == 404
    assert (await client.get(f"{HALL}/charts/wait-by-hour")).status == 401


async def test_the_bulletin_ranks_windows_and_exports(client, login, clock):
    boss = await login("boss")
    service = client.app[CTX].halls["t"]
    from tests.service.stats.scripted import play

    await service.current()
    await play(service, clock)
    r = await client.get(f"{HALL}/bulletin?quarter=2026Q4", headers=boss)
    b = await r.json()
    assert (b["quarter"], b["from"], b["to"]) == ("2026Q4", "2026-10-01", "2026-11-25")
    assert [w["key"] for w in b["windows"]] == ["w1", "w2", "w3"] and b["windows"][0]["award"]["rank"] == 1
    # w1: good rate 0.5 (scores 5 and 2), p90 wait 420 s of a 2700 s red threshold, the most
    # served (4 of 4), no alerts: 40 × 0.5 + 20 × (1 − 420/2700) + 20 × 1 + 20 × 1 = 76.9.
    assert b["windows"][0]["award"]["score"] == 76.9
    assert b["candidates"] == []  # nobody served the 100 tickets a candidate needs
    html = await (await client.get(f"{HALL}/bulletin.html?quarter=2026Q4", headers=boss)).text()
    assert "1号窗口" in html and "评选公式" in html and "2026年第四季度" in html
    r = await client.get(f"{HALL}/bulletin.xlsx?quarter=2026Q4", headers=boss)
    assert r.status == 200 and (await r.read())[:2] == b"PK"
    assert (await client.get(f"{HALL}/bulletin?quarter=2026Q5", headers=boss)).status == 422
    assert (await client.get(f"{HALL}/bulletin?quarter=2027Q1", headers=boss)).status == 422
    assert (await client.get(f"{HALL}/bulletin?quarter=9999Q4", headers=boss)).status == 422


async def test_answers_match_the_openapi_document(client, login, clock):
    import jsonschema

    from tests.service.stats.scripted import play

    service = client.app[CTX].halls["t"]
    await service.current()
    await play(service, clock)
    boss = await login("boss")
    spec = await (await client.get("/api/v1/openapi.json")).json()

    def check(path: str, method: str, status: int, data: dict) -> None:  # type: ignore[type-arg]
        schema = spec["paths"][path][method]["responses"][str(status)]["content"]["application/json"]["schema"]
        jsonschema.validate(data, {**schema, "components": spec["components"]}, cls=jsonschema.Draft202012Validator)

    for by in ("window", "item", "department", "clerk", "hour", "day"):
        check("/api/v1/halls/{hall}/stats", "get", 200, await (await client.get(f"{HALL}/stats?by={by}", headers=boss)).json())
    await sweep(client)
    check("/api/v1/halls/{hall}/supervision", "get", 200, await (await client.get(f"{HALL}/supervision", headers=boss)).json())
    check("/api/v1/halls/{hall}/alerts", "get", 200, await (await client.get(f"{HALL}/alerts", headers=boss)).json())
    reviews = await (await client.get(f"{HALL}/reviews", headers=boss)).json()
    assert len(reviews["reviews"]) == 1  # T2's score of 2
    check("/api/v1/halls/{hall}/reviews", "get", 200, reviews)
    check("/api/v1/halls/{hall}/cases", "get", 200, await (await client.get(f"{HALL}/cases", headers=boss)).json())
    check("/api/v1/halls/{hall}/bulletin", "get", 200, await (await client.get(f"{HALL}/bulletin", headers=boss)).json())
    r = await client.post(f"{HALL}/reviews/{reviews['reviews'][0]['ticket']}/steps", json={"step": "appealed", "note": "评价对象有误"}, headers=boss)
    assert r.status == 201
    check("/api/v1/halls/{hall}/reviews/{ticket}/steps", "post", 201, await r.json())


async def test_a_chief_answers_for_the_bad_reviews_of_their_department_only(aiohttp_client, tmp_path, clock):
    from server.api import Settings, create_app
    from tests.halls import small_config, write_config

    data = small_config().model_dump(mode="json")
    data["users"].append({"username": "chief-a", "name": "甲首席", "role": "chief", "department": "a"})
    folder = tmp_path / "cfg"
    write_config(folder, type(small_config()).model_validate(data))
    client = await aiohttp_client(create_app(Settings(config_dir=folder, data_dir=tmp_path / "d", clock=clock)))

    async def login(who: str) -> dict[str, str]:
        r = await client.post("/api/v1/auth/login", json={"username": who, "password": "demo"})
        return {"Authorization": f"Bearer {(await r.json())['token']}"}

    boss = await login("boss")
    ids = {}
    for item, window in (("a1", "w1"), ("b1", "w2")):
        ids[item] = (await issue(client, item))["id"]
        await act(client, boss, window, "open")
        await act(client, boss, window, "call-next")
        await act(client, boss, window, "start")
        await act(client, boss, window, "finish", {"case_type": "immediate"})
        assert (await client.post(f"{HALL}/tickets/{ids[item]}/evaluation", json={"score": 2, "reasons": ["long_wait"]})).status == 201
    await sweep(client)
    chief = await login("chief-a")
    mine = (await (await client.get(f"{HALL}/reviews", headers=chief)).json())["reviews"]
    assert [(r["item"], r["assignee"], r["status"]) for r in mine] == [("a1", "chief-a", "assigned")]
    assert len((await (await client.get(f"{HALL}/reviews", headers=boss)).json())["reviews"]) == 2
    steps = f"{HALL}/reviews/{{}}/steps"
    assert (await client.post(steps.format(ids["b1"]), json={"step": "verified", "note": "x"}, headers=chief)).status == 403
    assert (await client.post(steps.format(ids["a1"]), json={"step": "appealed", "note": "评价人并非本窗口办事人"}, headers=chief)).status == 201
    r = await client.post(steps.format(ids["a1"]), json={"step": "appeal_upheld", "note": "x"}, headers=chief)
    assert r.status == 403  # a manager decides appeals
    r = await client.post(steps.format(ids["a1"]), json={"step": "appeal_upheld", "note": "核实为误评"}, headers=boss)
    assert r.status == 201 and (await r.json())["closed"] is True


async def test_an_alert_at_a_window_counts_for_the_clerk_at_it(client, login, clock):
    """Every clerk showed 预警 0 (issue 19): an alert raised at a window is the clerk's there too."""
    boss, w1 = await login("boss"), await login("w1a")
    await act(client, w1, "w1", "open")
    await issue(client, "a2")
    clock.advance(16 * 60)  # w1 idle while 甲二 waits: idle:w1, and w3 closed: unattended:w3 (nobody's)
    await sweep(client)
    stats = await (await client.get(f"{HALL}/stats?by=clerk", headers=boss)).json()
    rows = {r["key"]: r["alerts"]["total"] for r in stats["rows"]}
    assert rows.get("w1a") == 1, stats["rows"]
