"""The public channels bounded by what an attacker cannot multiply (issue 16, finding 1): one address
looping online numbers, many random phones booking, and booking codes guessed, through the real
app on a real SQLite journal."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from server.api import Settings
from server.domain.catalog import HallConfig
from tests.surfaces.api.test_appointments import all_rows
from tests.surfaces.api.test_bad_input import expect_problem
from tests.halls import FakeClock, small_config, write_config
from tests.proof import proof, solve

A = "/api/v1/halls/t/appointments"
REMOTE = "/api/v1/halls/t/tickets/remote"
TICKETS = "/api/v1/halls/t/tickets"


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    """The small hall with b1 as the finding's item: 50 numbers a day, queued for remotely too."""
    data = small_config().model_dump(mode="json", exclude_defaults=True)
    for item in data["items"]:
        if item["id"] == "b1":
            item["daily_quota"] = 50
            item["booking"] = {"remote": True}
    folder = tmp_path / "config"
    write_config(folder, HallConfig.model_validate(data))
    return folder


@pytest.fixture
def settings(tmp_path: Path, config_dir: Path, clock: FakeClock) -> Settings:
    """The real per-address rate limit, set high enough that the loops below never wait for it."""
    return Settings(config_dir=config_dir, data_dir=tmp_path / "data", clock=clock, issue_rate_per_s=1000, issue_burst=1000)


async def test_one_address_looping_online_numbers_takes_at_most_half_of_an_items_day(client):
    taken: list[str] = []
    refused = None
    for n in range(60):  # more than the whole quota
        path, body = (REMOTE, {"item": "b1", "phone": f"139{n:08d}"}) if n % 2 else (TICKETS, {"item": "b1", "channel": "online"})
        r = await client.post(path, json={**body, "proof": await proof(client)})
        if r.status == 429:
            continue
        if r.status != 201:
            refused = await expect_problem(r, 409, "online-share-exhausted")
            break
        taken.append((await r.json())["number"])
    assert len(taken) == 25 and refused is not None and "25 places" in refused["detail"]
    # The walk-ins at the kiosk find the other half of the day.
    walk_ins = [await client.post(TICKETS, json={"item": "b1"}) for _ in range(25)]
    assert [r.status for r in walk_ins] == [201] * 25
    await expect_problem(await client.post(TICKETS, json={"item": "b1"}), 409, "quota-exhausted")


async def test_many_random_phones_book_at_most_the_online_share_of_a_day(client):
    # a1: 2 places in each of 15 half-hour slots, but its window (w1, shared with a2) serves 22 a day:
    # bookings may hold 11 of them.
    rng = random.Random(16)
    slots = (await (await client.get("/api/v1/halls/t/appointments/slots?item=a1&day=2026-11-26")).json())["days"][0]["slots"]
    assert sum(s["left"] for s in slots) == 30  # each slot offers its places until the day's share is taken
    outcomes = []
    for s in slots:
        for _ in range(s["capacity"]):
            phone = f"1{rng.randint(3, 9)}{rng.randrange(10**9):09d}"
            r = await client.post(A, json={"item": "a1", "slot_start": s["start"], "phone": phone, "proof": await proof(client)})
            outcomes.append(r.status if r.status == 201 else (await r.json())["type"].split(":")[-1])
    assert outcomes.count(201) == 11 and set(outcomes) == {201, "online-share-exhausted"}
    after = (await (await client.get("/api/v1/halls/t/appointments/slots?item=a1&day=2026-11-26")).json())["days"][0]["slots"]
    assert all(s["left"] == 0 for s in after)


async def test_a_booking_or_an_online_number_without_a_solved_challenge_is_refused_and_stores_nothing(client, clock):
    booking = {"item": "a1", "slot_start": "2026-11-25T10:00:00+08:00", "phone": "13812345678"}
    fresh = await (await client.post("/api/v1/halls/t/challenge")).json()
    assert fresh["bits"] == 8 and fresh["challenge"].startswith("v1.t.")
    answer = solve(fresh["challenge"], fresh["bits"])
    wrong = next(str(n) for n in range(10**6) if str(n) != answer and not _solves(fresh, str(n)))
    easier = fresh["challenge"].replace(".8.", ".0.", 1)
    cases = [
        (A, booking, None, 403, "proof-required"),
        (REMOTE, {"item": "b1", "phone": "13812345678"}, None, 403, "proof-required"),
        (TICKETS, {"item": "b1", "channel": "online"}, None, 403, "proof-required"),
        (A, booking, {"challenge": fresh["challenge"], "answer": wrong}, 403, "proof-invalid"),
        (A, booking, {"challenge": easier, "answer": "0"}, 403, "proof-invalid"),  # its signature no longer fits
        (A, booking, {"challenge": fresh["challenge"].replace("v1.t.", "v1.x.", 1), "answer": answer}, 403, "proof-invalid"),
        (A, booking, {"challenge": fresh["challenge"], "answer": "not a number"}, 422, "invalid-body"),
        (A, booking, {"challenge": "x" * 201, "answer": "1"}, 422, "invalid-body"),
    ]
    before = await all_rows(client)
    for path, body, given, status, code in cases:
        r = await client.post(path, json={**body, **({"proof": given} if given else {})})
        await expect_problem(r, status, code)
    assert await all_rows(client) == before

    good = {"challenge": fresh["challenge"], "answer": answer}
    r = await client.post(A, json={**booking, "proof": good})
    assert r.status == 201, await r.text()
    stored = await all_rows(client)
    replay = await client.post(A, json={**booking, "phone": "13900000000", "proof": good})
    await expect_problem(replay, 409, "proof-used")
    assert await all_rows(client) == stored

    stale = await proof(client)
    clock.advance(601)  # past booking.proof_ttl_s
    await expect_problem(await client.post(REMOTE, json={"item": "b1", "phone": "13812345678", "proof": stale}), 403, "proof-expired")
    assert await all_rows(client) == stored


def _solves(challenge: dict, answer: str) -> bool:
    from server.domain.proof import solves

    return solves(challenge["challenge"], answer, challenge["bits"])


async def test_the_kiosk_and_staff_need_no_challenge(client, login):
    assert (await client.post(TICKETS, json={"item": "b1"})).status == 201
    r = await client.post(A, json={"item": "a1", "slot_start": "2026-11-25T10:00:00+08:00", "phone": "13812345678"},
                          headers=await login("w1a"))
    assert r.status == 201 and (await r.json())["channel"] == "staff"


async def test_an_address_asking_for_many_challenges_gets_harder_ones(client):
    bits = [(await (await client.post("/api/v1/halls/t/challenge")).json())["bits"] for _ in range(40)]
    assert bits[:7] == [8] * 7 and bits[7:15] == [9] * 8 and bits[15:31] == [10] * 16 and bits[31:] == [11] * 9


async def test_guessing_booking_codes_is_stopped_after_five_unknown_codes(client, clock):
    r = await client.post(A, json={"item": "a1", "slot_start": "2026-11-25T10:00:00+08:00", "phone": "13812345678",
                                   "proof": await proof(client)})
    code = (await r.json())["code"]
    guesses = iter(f"GUESS{n:03d}".replace("0", "2").replace("1", "3") for n in range(100))
    for path in (f"{A}/{next(guesses)}", f"{A}/{next(guesses)}/cancel", f"/book/t/{next(guesses)}",
                 f"/book/t/{next(guesses)}/qr.svg", f"{A}/{next(guesses)}"):
        method = client.post if path.endswith("/cancel") else client.get
        assert (await method(path)).status == 404, path
    locked = await client.get(f"{A}/{next(guesses)}")
    body = await expect_problem(locked, 429, "rate-limited")
    assert "unknown booking codes" in body["detail"] and 0 < int(locked.headers["Retry-After"]) <= 900
    # While locked out, this address learns nothing: not even a real code answers.
    await expect_problem(await client.get(f"{A}/{code}"), 429, "rate-limited")
    await expect_problem(await client.post(f"{A}/{code}/cancel"), 429, "rate-limited")
    page = await client.get(f"/book/t/{code}")
    assert page.status == 429 and "rate-limited" in await page.text()
    clock.advance(901)  # booking.lookup_lockout_s after the last failure
    again = await client.get(f"{A}/{code}")
    assert again.status == 200 and (await again.json())["status"] == "booked"


async def test_one_booking_is_changed_at_most_ten_times_an_hour(client):
    r = await client.post(A, json={"item": "a1", "slot_start": "2026-11-25T10:00:00+08:00", "phone": "13812345678",
                                   "proof": await proof(client)})
    code = (await r.json())["code"]
    for n in range(10):
        start = "2026-11-25T10:30:00+08:00" if n % 2 == 0 else "2026-11-25T10:00:00+08:00"
        r = await client.post(f"{A}/{code}/reschedule", json={"slot_start": start})
        assert r.status == 200, await r.text()
    before = await all_rows(client)
    await expect_problem(await client.post(f"{A}/{code}/cancel"), 429, "rate-limited")
    assert await all_rows(client) == before
    assert json.loads(await (await client.get(f"{A}/{code}")).text())["status"] == "booked"
