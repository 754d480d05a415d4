"""好差评 after the day of service, on the real app: a rating days later and after a promised case's
conclusion, the window and clerk of every part credited, and what is refused (nothing stored)."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path

import pytest

from tests.halls import MORNING, small_config, write_config

HALL = "/api/v1/halls/t"
DAY = MORNING.date()


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "config"
    write_config(folder, small_config(enforce_hours=False))
    return folder


async def issue(client, item: str) -> dict:  # type: ignore[no-untyped-def]
    r = await client.post(f"{HALL}/tickets", json={"item": item})
    assert r.status == 201, await r.text()
    return await r.json()


async def act(client, headers, window: str, action: str, body: dict | None = None) -> dict:  # type: ignore[no-untyped-def]
    r = await client.post(f"{HALL}/windows/{window}/{action}", json=body, headers=headers)
    assert r.status == 200, await r.text()
    return await r.json()


async def serve(client, headers, window: str, case_type: str = "immediate") -> None:  # type: ignore[no-untyped-def]
    await act(client, headers, window, "call-next")
    await act(client, headers, window, "start")
    await act(client, headers, window, "finish", {"case_type": case_type})


async def rate(client, ticket_id: str, body: dict, status: int) -> dict:  # type: ignore[no-untyped-def]
    r = await client.post(f"{HALL}/tickets/{ticket_id}/evaluation", json=body)
    assert r.status == status, await r.text()
    if status >= 400:
        assert r.content_type == "application/problem+json"
    return await r.json()


async def late_ratings(client, boss, day) -> list[dict]:  # type: ignore[no-untyped-def]
    r = await client.get(f"{HALL}/events?day={day.isoformat()}", headers=boss)
    assert r.status == 200, await r.text()
    return [e for e in (await r.json())["events"] if e["type"] == "ticket_rated_late"]


async def stats(client, boss, day, by: str) -> dict:  # type: ignore[no-untyped-def]
    r = await client.get(f"{HALL}/stats?from={day.isoformat()}&to={day.isoformat()}&by={by}", headers=boss)
    assert r.status == 200, await r.text()
    return await r.json()


def rated(answer: dict) -> dict[str, int]:
    return {row["key"]: row["satisfaction"]["rated"] for row in answer["rows"] if row["satisfaction"]["rated"]}


async def test_a_rating_days_later_credits_every_window_and_clerk_that_served_a_part(client, login, clock):
    w1, w3 = await login("w1a"), await login("w3a")
    await act(client, w1, "w1", "open")
    await act(client, w3, "w3", "open")
    plain = await issue(client, "a1")
    await serve(client, w1, "w1")
    moved = await issue(client, "a2")  # served by w1 and w3
    await act(client, w1, "w1", "call-next")
    await act(client, w1, "w1", "start")
    await act(client, w1, "w1", "transfer", {"window": "w3"})
    await serve(client, w3, "w3")
    late = await issue(client, "a1")
    await serve(client, w1, "w1")

    clock.t = MORNING + timedelta(days=1)  # a day in between with events: the ticket's day is no longer "the day before"
    await issue(client, "b1")
    clock.t = MORNING + timedelta(days=2, hours=1)
    today = clock.t.date()
    boss = await login("boss")

    # The holder's ticket says it may still be rated, and until when; the phone page offers it.
    r = await client.get(f"{HALL}/tickets/{plain['id']}")
    assert r.status == 200, await r.text()
    view = await r.json()
    assert (view["status"], view["day"], view["rated"], view["rating_open"], view["rating_closes"]) == (
        "done", DAY.isoformat(), False, True, (DAY + timedelta(days=7)).isoformat())
    page = await client.get(f"/t/{plain['id']}")
    config = json.loads(re.search(r'<script type="application/json" id="config">(.*?)</script>', await page.text(), re.S)[1])
    assert config["final"]["rating_open"] is True

    # Bad input: a 4xx problem, nothing stored.
    await rate(client, plain["id"], {"score": 0}, 422)
    await rate(client, plain["id"], {"score": 1}, 422)  # a dissatisfied rating says why
    await rate(client, plain["id"], {"score": 5, "reasons": ["nonsense"]}, 422)
    await rate(client, "no-such-ticket-id", {"score": 5}, 404)
    assert await late_ratings(client, boss, today) == []

    assert (await rate(client, plain["id"], {"score": 4}, 201))["score"] == 4
    problem = await rate(client, plain["id"], {"score": 5}, 409)  # 一次一评, across days
    assert problem["type"].endswith("already-rated")
    await rate(client, moved["id"], {"score": 5, "attitude": 5}, 201)
    assert (await (await client.get(f"{HALL}/tickets/{plain['id']}")).json())["rated"] is True

    stored = await late_ratings(client, boss, today)
    assert [(e["number"], e["served_on"], e["parts"], e["score"]) for e in stored] == [
        (plain_number := "A001", DAY.isoformat(), [["w1", "w1a"]], 4),
        ("B001", DAY.isoformat(), [["w1", "w1a"], ["w3", "w3a"]], 5),
    ]
    assert plain_number == plain["number"]
    # Counted on the day given, for the windows and clerks of the day of service: the
    # transferred ticket for both its windows and clerks, once in the total.
    assert rated(await stats(client, boss, today, "window")) == {"w1": 2, "w3": 1}
    assert rated(await stats(client, boss, today, "clerk")) == {"w1a": 2, "w3a": 1}
    by_item = await stats(client, boss, today, "item")
    assert rated(by_item) == {"a1": 1, "a2": 1} and by_item["total"]["satisfaction"]["rated"] == 2
    assert by_item["total"]["satisfaction"]["scores"] == {"1": 0, "2": 0, "3": 0, "4": 1, "5": 1}
    assert (await stats(client, boss, DAY, "window"))["total"]["satisfaction"]["rated"] == 0  # that day's stay as they were

    # Too late: the rating closed 7 days after the day of service.
    clock.t = MORNING + timedelta(days=8)
    r = await client.get(f"{HALL}/tickets/{late['id']}")
    assert r.status == 200 and (await r.json())["rating_open"] is False
    problem = await rate(client, late["id"], {"score": 5}, 409)
    assert problem["type"].endswith("rating-closed") and problem["closed_on"] == (DAY + timedelta(days=7)).isoformat()
    assert await late_ratings(client, await login("boss"), clock.t.date()) == []


async def test_a_promised_case_is_rated_after_its_conclusion_and_a_bad_rating_joins_the_review_loop(client, login, clock):
    w1 = await login("w1a")
    await act(client, w1, "w1", "open")
    case = await issue(client, "a2")  # promised, 5 working days
    await serve(client, w1, "w1", "promised")

    clock.t = MORNING + timedelta(days=9)  # past the 7 rating days, not concluded yet
    w1, boss = await login("w1a"), await login("boss")
    problem = await rate(client, case["id"], {"score": 2, "reasons": ["long_wait"]}, 409)
    assert problem["type"].endswith("rating-closed")
    r = await client.post(f"{HALL}/cases/{case['id']}/conclude", json={"note": "已发证"}, headers=w1)
    assert r.status == 201, await r.text()

    r = await client.get(f"{HALL}/tickets/{case['id']}")
    view = await r.json()
    assert (view["rating_open"], view["rating_closes"]) == (True, (clock.t.date() + timedelta(days=7)).isoformat())
    await rate(client, case["id"], {"score": 2, "reasons": ["long_wait"]}, 201)
    (stored,) = await late_ratings(client, boss, clock.t.date())
    assert (stored["concluded_on"], stored["parts"]) == (clock.t.date().isoformat(), [["w1", "w1a"]])
    assert rated(await stats(client, boss, clock.t.date(), "window")) == {"w1": 1}

    # A bad rating given late opens its review loop from the day it was given.
    r = await client.get(f"{HALL}/reviews", headers=boss)
    assert r.status == 200, await r.text()
    (review,) = (await r.json())["reviews"]
    assert (review["number"], review["rated_on"], review["window"], review["clerk"], review["status"]) == (
        case["number"], clock.t.date().isoformat(), "w1", "w1a", "new")
    # … and still there once its day is closed and derived.
    clock.t += timedelta(days=1)
    (review,) = (await (await client.get(f"{HALL}/reviews", headers=await login("boss"))).json())["reviews"]
    assert review["rated_on"] == (clock.t.date() - timedelta(days=1)).isoformat() and review["score"] == 2


async def test_the_day_before_is_rated_the_next_day_on_the_next_days_stream(client, login, clock):
    w1 = await login("w1a")
    await act(client, w1, "w1", "open")
    ticket = await issue(client, "a1")
    await serve(client, w1, "w1")
    clock.t = MORNING + timedelta(days=1)
    boss = await login("boss")
    page = await client.get(f"/t/{ticket['id']}?lang=en")
    assert page.status == 200
    await rate(client, ticket["id"], {"score": 5}, 201)
    assert [e["served_on"] for e in await late_ratings(client, boss, clock.t.date())] == [DAY.isoformat()]
    r = await client.get(f"{HALL}/events?day={DAY.isoformat()}", headers=boss)
    assert "ticket_evaluated" not in [e["type"] for e in (await r.json())["events"]]  # its own day is closed
    await rate(client, ticket["id"], {"score": 3}, 409)


async def test_a_transferred_tickets_rating_of_the_same_day_credits_both_windows_and_clerks(client, login, clock):
    w1, w3, boss = await login("w1a"), await login("w3a"), await login("boss")
    await act(client, w1, "w1", "open")
    await act(client, w3, "w3", "open")
    moved = await issue(client, "a2")
    await act(client, w1, "w1", "call-next")
    await act(client, w1, "w1", "start")
    await act(client, w1, "w1", "transfer", {"window": "w3"})
    await serve(client, w3, "w3")
    await rate(client, moved["id"], {"score": 5}, 201)
    assert rated(await stats(client, boss, DAY, "window")) == {"w1": 1, "w3": 1}
    assert rated(await stats(client, boss, DAY, "clerk")) == {"w1a": 1, "w3a": 1}
    by_window = await stats(client, boss, DAY, "window")
    served = {row["key"]: row["served"] for row in by_window["rows"] if row["served"]}
    assert served == {"w3": 1} and by_window["total"]["satisfaction"]["rated"] == 1  # served once, where finished
    clock.t += timedelta(days=1)  # the same from the derived tables once the day is closed
    assert rated(await stats(client, await login("boss"), DAY, "window")) == {"w1": 1, "w3": 1}


async def test_a_promised_case_rated_late_is_not_rated_again_after_its_conclusion_months_later(client, login, clock):
    """一次一评 across a long promised case: the late rating of its third day is found when the
    conclusion, ten weeks later, opens the rating again (the days between are not read)."""
    w1 = await login("w1a")
    await act(client, w1, "w1", "open")
    case = await issue(client, "a2")
    await serve(client, w1, "w1", "promised")
    clock.t = MORNING + timedelta(days=3)
    await rate(client, case["id"], {"score": 4}, 201)
    clock.t = MORNING + timedelta(days=70)
    r = await client.post(f"{HALL}/cases/{case['id']}/conclude", json={}, headers=await login("w1a"))
    assert r.status == 201, await r.text()
    view = await (await client.get(f"{HALL}/tickets/{case['id']}")).json()
    assert (view["rated"], view["rating_open"]) == (True, False)
    problem = await rate(client, case["id"], {"score": 5}, 409)
    assert problem["type"].endswith("already-rated")
    assert await late_ratings(client, await login("boss"), clock.t.date()) == []
