"""`/metrics` after a scripted morning says what the journal says; every answer and log line of
a request carries its id; the access log holds no ticket id, token or query string."""

from __future__ import annotations

import logging
from collections import Counter

from prometheus_client.parser import text_string_to_metric_families

from server.api.context import CTX


async def scrape(client) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:  # type: ignore[no-untyped-def]
    r = await client.get("/metrics")
    assert r.status == 200 and r.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(await r.text()) for s in family.samples}


async def test_metrics_after_a_morning_are_the_journals_figures(client, login, clock) -> None:
    issued = []
    for item in ("a1", "a1", "a2", "b1", "b1", "b1", "c1"):
        r = await client.post("/api/v1/halls/t/tickets", json={"item": item})
        assert r.status == 201
        issued.append(await r.json())
        clock.advance(60)
    w1, w2 = await login("w1a"), await login("w2a")
    for window, h in (("w1", w1), ("w2", w2)):
        assert (await client.post(f"/api/v1/halls/t/windows/{window}/open", headers=h)).status == 200
    for path, body in (("call-next", None), ("start", None), ("finish", {"case_type": "promised"}), ("call-next", None)):
        r = await client.post(f"/api/v1/halls/t/windows/w1/{path}", json=body, headers=w1)
        assert r.status == 200, await r.text()
    for path in ("call-next", "start"):
        assert (await client.post(f"/api/v1/halls/t/windows/w2/{path}", headers=w2)).status == 200
    clock.advance(300)
    lobby = await client.ws_connect("/ws/v1/halls/t")

    figures = await scrape(client)

    # What the journal says, from its events.
    events = [s.data for s in await client.app[CTX].halls["t"].events()]
    item_of = {e["ticket"]: e["item"] for e in events if e["type"] == "ticket_issued"}
    issued_at = {e["ticket"]: e["at"] for e in events if e["type"] == "ticket_issued"}
    called = {e["ticket"] for e in events if e["type"] in ("ticket_called", "ticket_cancelled")}
    finished = Counter(item_of[e["ticket"]] for e in events if e["type"] == "service_finished")
    waiting = Counter(item_of[t] for t in item_of if t not in called)
    assert sum(finished.values()) == 1 and sum(waiting.values()) == 4  # the morning went as scripted
    for item in ("a1", "a2", "b1", "c1"):
        key = (("hall", "t"), ("item", item))
        assert figures[("hallq_tickets_issued_total", key)] == list(item_of.values()).count(item)
        assert figures[("hallq_tickets_served_total", key)] == finished[item]
        assert figures[("hallq_people_waiting", key)] == waiting[item]
    from datetime import datetime

    oldest = min(datetime.fromisoformat(issued_at[t]) for t in item_of if t not in called and item_of[t] == "b1")
    assert figures[("hallq_longest_wait_seconds", (("hall", "t"), ("item", "b1")))] == (clock.now() - oldest).total_seconds()
    raised = Counter(e["level"] for e in events if e["type"] == "alert_raised")
    assert {k[1][1][1]: v for k, v in figures.items() if k[0] == "hallq_alerts_raised_total"} == dict(raised)
    assert figures[("hallq_websocket_clients", ())] == 1
    assert figures[("hallq_bus_up", (("kind", "local"),))] == 1
    appends = figures[("hallq_journal_append_seconds_count", ())]
    assert appends >= 1 and figures[("hallq_journal_append_seconds_sum", ())] > 0
    await lobby.close()

    issued_more = await client.post("/api/v1/halls/t/tickets", json={"item": "a2"})
    assert issued_more.status == 201
    again = await scrape(client)
    assert again[("hallq_tickets_issued_total", (("hall", "t"), ("item", "a2")))] == 2
    assert again[("hallq_journal_append_seconds_count", ())] > appends


async def test_a_problem_answer_and_the_log_lines_carry_the_request_id(client, caplog) -> None:
    from server.api.observe import RequestIdFilter

    caplog.handler.addFilter(RequestIdFilter())
    with caplog.at_level(logging.INFO):
        r = await client.post("/api/v1/halls/t/tickets", json={"item": "no-such-item"})
        problem = await r.json()
        assert 400 <= r.status < 500 and problem["request_id"] == r.headers["X-Request-Id"]
        r2 = await client.get("/api/v1/halls/t/tickets/secret-ticket-id?token=abc", headers={"X-Request-Id": "lb-0123456789"})
        assert r2.headers["X-Request-Id"] == "lb-0123456789"  # a proxy's plain id is kept
        forged = await client.get("/api/v1/halls", headers={"X-Request-Id": "bad id\twith\ttabs"})
        assert forged.headers["X-Request-Id"] != "bad id\twith\ttabs"
    lines = [(rec.request_id, rec.name, rec.getMessage()) for rec in caplog.records]  # type: ignore[attr-defined]
    access = [line for line in lines if line[1] == "hallq.access"]
    assert any(rid == problem["request_id"] and "POST /api/v1/halls/{hall}/tickets 4" in msg for rid, _, msg in access)
    assert any(rid == "lb-0123456789" and "GET /api/v1/halls/{hall}/tickets/{ticket} 404" in msg for rid, _, msg in access)
    assert not any("secret-ticket-id" in msg or "token" in msg or "?" in msg for _, _, msg in access)


def test_json_log_lines_carry_the_request_id() -> None:
    import json

    from server.api.observe import REQUEST_ID, JsonFormatter, RequestIdFilter

    record = logging.LogRecord("hallq.api", logging.INFO, __file__, 1, "ticket %s issued", ("A001",), None)
    token = REQUEST_ID.set("abcd1234abcd1234")
    try:
        RequestIdFilter().filter(record)
    finally:
        REQUEST_ID.reset(token)
    line = json.loads(JsonFormatter("w2").format(record))
    assert line["request_id"] == "abcd1234abcd1234" and line["message"] == "ticket A001 issued" and line["worker"] == "w2"
