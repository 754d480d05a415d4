"""Online booking (网上预约) and remote tickets (远程取号) through the real app on a real SQLite journal."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import timedelta
from pathlib import Path

import pytest
import yaml

from server.api.appointments import BOOKINGS
from server.api.context import CTX
from server.bus import LocalBus
from server.domain.booking import CODE_ALPHABET
from server.hall import HallService
from server.hall.booking import Bookings
from tests.surfaces.api.test_bad_input import expect_problem
from tests.halls import MORNING, small_catalog, write_config
from tests.proof import proof


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    """The small hall with a kiosk without a printer (k1) for check-ins."""
    folder = tmp_path / "config"
    write_config(folder)
    kiosks = [{"id": "k1", "name": "一楼 自助取号机1"}]
    (folder / "t" / "kiosks.yaml").write_text(yaml.safe_dump(kiosks, allow_unicode=True), encoding="utf-8")
    return folder

TODAY = MORNING.date()
PHONE = "13812345678"
SLOT_0930 = "2026-11-25T09:30:00+08:00"
SLOT_1000 = "2026-11-25T10:00:00+08:00"
THU_0930 = "2026-11-26T09:30:00+08:00"


async def all_rows(client) -> list:  # type: ignore[no-untyped-def]
    """Every stored event of the hall, on every day around today (a booking may go to any)."""
    journal = client.app[CTX].journal
    out = []
    for n in range(-2, 12):
        day = TODAY + timedelta(days=n)
        out += [(day, s.seq, s.data) for s in await journal.read("t", day)]
    return out


async def book(client, slot: str = SLOT_0930, phone: str = PHONE, item: str = "a1", status: int = 201):  # type: ignore[no-untyped-def]
    r = await client.post("/api/v1/halls/t/appointments",
                          json={"item": item, "slot_start": slot, "phone": phone, "proof": await proof(client)})
    assert r.status == status, await r.text()
    return await r.json()


async def test_a_booking_gets_a_short_code_and_shows_the_phone_only_masked(client):
    b = await book(client)
    assert re.fullmatch(f"[{CODE_ALPHABET}]{{8}}", b["code"])
    assert b["phone"] == "138****5678" and b["status"] == "booked" and b["day"] == "2026-11-25"
    assert b["slot_start"] == SLOT_0930 and b["slot_end"] == "2026-11-25T10:00:00+08:00"
    assert b["check_in_from"] == "2026-11-25T09:00:00+08:00" and b["check_in_until"] == "2026-11-25T09:45:00+08:00"
    again = await (await client.get(f"/api/v1/halls/t/appointments/{b['code'].lower()}")).json()
    assert again == b
    rows = await all_rows(client)
    assert [d["type"] for _, _, d in rows] == ["appointment_registered"]
    assert PHONE not in json.dumps(rows, default=str) and rows[0][2]["phone_key"] and rows[0][2]["phone_masked"] == "138****5678"
    qr = await client.get(b["qr_url"])
    assert qr.status == 200 and qr.content_type == "image/svg+xml"


async def test_slots_list_capacity_and_places_left_for_every_bookable_day(client):
    await book(client)
    answer = await (await client.get("/api/v1/halls/t/appointments/slots?item=a1")).json()
    days = {d["day"]: d["slots"] for d in answer["days"]}
    assert len(days) == 8 and days["2026-11-28"] == [] and days["2026-11-29"] == []  # the weekend
    today = {s["start"][11:16]: s for s in days["2026-11-25"]}
    assert today["08:30"]["left"] == 0  # begun
    assert (today["09:30"]["capacity"], today["09:30"]["left"], today["10:00"]["left"]) == (2, 1, 2)


@pytest.mark.parametrize("slot", [SLOT_0930, THU_0930], ids=["today", "a later day"])
async def test_many_simultaneous_bookings_never_overfill_a_slot(client, slot):
    phones = [f"139{n:08d}" for n in range(40)]
    proofs = [await proof(client) for _ in phones]
    results = await asyncio.gather(*(
        client.post("/api/v1/halls/t/appointments", json={"item": "a1", "slot_start": slot, "phone": p, "proof": q})
        for p, q in zip(phones, proofs)
    ))
    statuses = sorted(r.status for r in results)
    assert statuses == [201, 201] + [409] * 38
    refused = [await r.json() for r in results if r.status == 409]
    assert {p["type"] for p in refused} == {"urn:hallq:problem:slot-full"}
    assert "fully booked" in refused[0]["detail"]
    rows = await all_rows(client)
    assert len([d for _, _, d in rows if d["type"] == "appointment_registered"]) == 2


async def test_two_workers_booking_one_later_day_on_one_journal_never_overfill_it(client, clock):
    """A second process on the same journal: their appends conflict, and each decides again."""
    ctx = client.app[CTX]
    other = HallService(small_catalog(), ctx.journal, LocalBus(), clock)
    await other.start()
    try:
        mine = client.app[BOOKINGS]["t"]
        theirs = Bookings(other, b"another-worker-same-secret")
        start = mine.now().replace(day=26, hour=10, minute=0, second=0, microsecond=0)

        async def attempt(b: Bookings, n: int) -> str:
            try:
                await b.book("a1", start, f"137{n:08d}")
                return "ok"
            except Exception as exc:  # noqa: BLE001
                return getattr(exc, "code", repr(exc))

        outcome = await asyncio.gather(*(attempt(mine if n % 2 else theirs, n) for n in range(30)))
        assert sorted(outcome) == ["ok", "ok"] + ["slot-full"] * 28
        stored = await ctx.journal.read("t", start.date())
        assert [s.seq for s in stored] == [1, 2]
    finally:
        await other.stop()


async def test_a_booking_is_checked_in_at_the_kiosk_and_called_before_walk_ins(client, login, clock):
    b = await book(client)
    walk_in = await (await client.post("/api/v1/halls/t/tickets", json={"item": "a1"})).json()
    clock.advance(31 * 60)  # 09:31, inside the slot
    r = await client.post("/api/v1/halls/t/kiosks/k1/tickets", json={"appointment": b["code"].lower()})
    assert r.status == 201, await r.text()
    booked = await r.json()
    assert booked["appointment"] is True and booked["item"] == "a1"
    view = await (await client.get(f"/api/v1/halls/t/appointments/{b['code']}")).json()
    assert view["status"] == "checked_in" and view["ticket_number"] == booked["number"]
    h = await login("w1a")
    await client.post("/api/v1/halls/t/windows/w1/open", headers=h)
    called = await (await client.post("/api/v1/halls/t/windows/w1/call-next", headers=h)).json()
    assert called["ticket"]["number"] == booked["number"] != walk_in["number"]


async def test_a_clerk_checks_a_booking_in_at_the_counter_once(client, login):
    b = await book(client)
    r = await client.post(f"/api/v1/halls/t/appointments/{b['code']}/check-in", headers=await login("w1a"))
    assert r.status == 201 and (await r.json())["channel"] == "staff"
    r = await client.post(f"/api/v1/halls/t/appointments/{b['code']}/check-in", headers=await login("w1a"))
    await expect_problem(r, 409, "appointment-used")


async def test_cancel_frees_the_place_and_reschedule_moves_it_within_or_across_days(client):
    first = await book(client, phone="13800000001")
    await book(client, phone="13800000002")
    await book(client, phone="13800000003", status=409)  # full
    cancelled = await (await client.post(f"/api/v1/halls/t/appointments/{first['code']}/cancel")).json()
    assert cancelled["status"] == "cancelled"
    third = await book(client, phone="13800000003")
    moved = await (await client.post(f"/api/v1/halls/t/appointments/{third['code']}/reschedule", json={"slot_start": SLOT_1000})).json()
    assert moved["slot_start"] == SLOT_1000 and moved["code"] == third["code"] and moved["status"] == "booked"
    r = await client.post(f"/api/v1/halls/t/appointments/{third['code']}/reschedule", json={"slot_start": THU_0930})
    assert r.status == 200, await r.text()
    away = await r.json()
    assert away["day"] == "2026-11-26" and away["code"] == third["code"] and away["phone"] == "138****0003"
    rows = await all_rows(client)
    today_types = [d["type"] for day, _, d in rows if day == TODAY]
    assert today_types[-1] == "appointment_cancelled" and rows[-1][2]["moved_from"] == "2026-11-25"
    slots = await (await client.get("/api/v1/halls/t/appointments/slots?item=a1&day=2026-11-25")).json()
    assert {s["start"][11:16]: s["left"] for s in slots["days"][0]["slots"]}["10:00"] == 2


async def test_a_phone_holds_at_most_three_bookings_across_days(client):
    for day in ("25", "26", "27"):
        await book(client, slot=f"2026-11-{day}T09:30:00+08:00")
    before = await all_rows(client)
    r = await client.post("/api/v1/halls/t/appointments",
                          json={"item": "a1", "slot_start": "2026-11-30T09:30:00+08:00", "phone": PHONE, "proof": await proof(client)})
    body = await expect_problem(r, 409, "booking-limit")
    assert "3 bookings" in body["detail"]
    assert await all_rows(client) == before


async def test_a_missed_booking_is_released_as_a_no_show_and_late_check_in_is_refused(client, clock):
    b = await book(client)
    clock.advance(46 * 60)  # 09:46: check-in closed at 09:45
    r = await client.post("/api/v1/halls/t/kiosks/k1/tickets", json={"appointment": b["code"]})
    body = await expect_problem(r, 409, "appointment-late")
    assert "closed at 09:45" in body["detail"]
    (missed,) = await client.app[BOOKINGS]["t"].sweep()
    assert missed.type == "appointment_missed" and missed.code == b["code"]
    assert (await (await client.get(f"/api/v1/halls/t/appointments/{b['code']}")).json())["status"] == "missed"
    assert await client.app[BOOKINGS]["t"].sweep() == []


async def test_a_remote_ticket_is_skipped_until_its_holder_confirms_arrival(client, login):
    r = await client.post("/api/v1/halls/t/tickets/remote", json={"item": "a2", "phone": PHONE, "proof": await proof(client)})
    assert r.status == 201, await r.text()
    remote = await r.json()
    assert remote["remote"] is True and remote["arrived"] is False and remote["mobile_url"] == f"/t/{remote['id']}"
    await expect_problem(await client.post("/api/v1/halls/t/tickets/remote", json={"item": "a2", "phone": PHONE, "proof": await proof(client)}),
                         409, "remote-limit")
    walk_in = await (await client.post("/api/v1/halls/t/tickets", json={"item": "a2"})).json()
    h = await login("w1a")
    await client.post("/api/v1/halls/t/windows/w1/open", headers=h)
    first = await (await client.post("/api/v1/halls/t/windows/w1/call-next", headers=h)).json()
    assert first["ticket"]["number"] == walk_in["number"]
    for path in ("start", "finish"):
        await client.post(f"/api/v1/halls/t/windows/w1/{path}", headers=h, json={"case_type": "promised"} if path == "finish" else None)
    none = await (await client.post("/api/v1/halls/t/windows/w1/call-next", headers=h)).json()
    assert none["ticket"] is None
    arrived = await (await client.post(f"/api/v1/halls/t/tickets/{remote['id']}/arrive")).json()
    assert arrived["arrived"] is True and arrived["status"] == "waiting"
    called = await (await client.post("/api/v1/halls/t/windows/w1/call-next", headers=h)).json()
    assert called["ticket"]["number"] == remote["number"]
    assert PHONE not in json.dumps(await all_rows(client), default=str)


async def test_managers_see_the_days_bookings_per_item_and_slot(client, login):
    await book(client)
    b2 = await book(client, phone="13900000000")
    await client.post(f"/api/v1/halls/t/appointments/{b2['code']}/cancel")
    answer = await (await client.get("/api/v1/halls/t/appointments", headers=await login("boss"))).json()
    (a1,) = [i for i in answer["items"] if i["item"] == "a1"]
    (slot,) = [s for s in a1["slots"] if s["start"] == SLOT_0930]
    assert (slot["capacity"], slot["booked"], slot["cancelled"]) == (2, 1, 1)
    assert sorted(b["phone"] for b in slot["bookings"]) == ["138****5678", "139****0000"]
    await expect_problem(await client.get("/api/v1/halls/t/appointments", headers=await login("w1a")), 403, "role")


@pytest.fixture
async def three_booked(client):  # type: ignore[no-untyped-def]
    """PHONE holds three bookings (today 09:30, Thursday, Friday); the 10:00 slot today is full."""
    held = [await book(client, slot=s) for s in (SLOT_0930, THU_0930, "2026-11-27T09:30:00+08:00")]
    await book(client, slot=SLOT_1000, phone="13900000001")
    await book(client, slot=SLOT_1000, phone="13900000002")
    remote = await (await client.post("/api/v1/halls/t/tickets/remote", json={"item": "a2", "phone": PHONE, "proof": await proof(client)})).json()
    checked = await book(client, slot=SLOT_0930, phone="13900000003")
    r = await client.post("/api/v1/halls/t/kiosks/k1/tickets", json={"appointment": checked["code"]})
    assert r.status == 201, await r.text()
    walk_in = await (await client.post("/api/v1/halls/t/tickets", json={"item": "a1"})).json()
    return {"code": held[0]["code"], "checked": checked["code"], "remote": remote["id"], "walk_in": walk_in["id"]}


A = "/api/v1/halls/t/appointments"
BAD = [
    # (method, path, body, status, code, who)
    ("POST", A, {"item": "a1", "slot_start": "2026-11-25T09:10:00+08:00", "phone": "13700000000"}, 404, "unknown-slot", None),
    ("POST", A, {"item": "a1", "slot_start": "2026-11-24T09:30:00+08:00", "phone": "13700000000"}, 422, "past-day", None),
    ("POST", A, {"item": "a1", "slot_start": "2026-12-25T09:30:00+08:00", "phone": "13700000000"}, 422, "too-far-ahead", None),
    ("POST", A, {"item": "a1", "slot_start": "2026-11-25T08:30:00+08:00", "phone": "13700000000"}, 409, "slot-started", None),
    ("POST", A, {"item": "a1", "slot_start": SLOT_1000, "phone": "13700000000"}, 409, "slot-full", None),
    ("POST", A, {"item": "a1", "slot_start": SLOT_0930, "phone": "1381234567"}, 422, "invalid-body", None),
    ("POST", A, {"item": "a1", "slot_start": SLOT_0930, "phone": "12812345678"}, 422, "invalid-body", None),
    ("POST", A, {"item": "a1", "slot_start": SLOT_0930, "phone": "+8613812345678"}, 422, "invalid-body", None),
    ("POST", A, {"item": "a1", "slot_start": SLOT_0930, "phone": "13812345678\n"}, 422, "invalid-body", None),
    ("POST", A, {"item": "a1", "slot_start": SLOT_0930, "phone": "1381234567\u0664"}, 422, "invalid-body", None),
    ("POST", A, {"item": "a1", "slot_start": SLOT_0930}, 422, "phone-required", None),
    ("POST", A, {"item": "a1", "slot_start": "2026-11-30T09:30:00+08:00", "phone": PHONE}, 409, "booking-limit", None),
    ("POST", A, {"item": "b1", "slot_start": SLOT_0930, "phone": "13700000000"}, 409, "not-bookable", None),
    ("POST", A, {"item": "zz", "slot_start": SLOT_0930, "phone": "13700000000"}, 404, "unknown-item", None),
    ("POST", A, {"item": "a1", "slot_start": "tomorrow", "phone": "13700000000"}, 422, "invalid-body", None),
    ("POST", A, {"code": "OWN1234", "item": "a1", "slot_start": SLOT_0930}, 401, "unauthorized", None),
    ("POST", A + "/{checked}/check-in", None, 409, "appointment-used", "w1a"),
    ("POST", A + "/{code}/check-in", None, 403, "not-your-item", "w2a"),
    ("POST", "/api/v1/halls/t/kiosks/k1/tickets", {"appointment": "{checked}"}, 409, "appointment-used", None),
    ("POST", A + "/NOPE2345/cancel", None, 404, "unknown-appointment", None),
    ("POST", A + "/{code}/reschedule", {"slot_start": SLOT_1000}, 409, "slot-full", None),
    ("POST", A + "/{code}/reschedule", {"slot_start": SLOT_0930}, 409, "same-slot", None),
    ("POST", A + "/{code}/reschedule", {"slot_start": "2026-11-21T09:30:00+08:00"}, 422, "past-day", None),
    ("POST", A + "/{checked}/cancel", None, 409, "appointment-used", None),
    ("GET", A + "/slots", None, 422, "bad-query", None),
    ("GET", A + "/slots?item=a1&day=someday", None, 422, "bad-query", None),
    ("GET", A + "/slots?item=a1&day=2020-01-01", None, 422, "past-day", None),
    ("GET", A, None, 401, "unauthorized", None),
    ("GET", A + "?day=never", None, 422, "bad-query", "boss"),
    ("POST", "/api/v1/halls/t/tickets/remote", {"item": "a2", "phone": PHONE}, 409, "remote-limit", None),
    ("POST", "/api/v1/halls/t/tickets/remote", {"item": "a1", "phone": "13700000000"}, 409, "remote-off", None),
    ("POST", "/api/v1/halls/t/tickets/remote", {"item": "a2", "phone": "abc"}, 422, "invalid-body", None),
    ("POST", "/api/v1/halls/t/tickets/{walk_in}/arrive", None, 409, "not-remote", None),
]


@pytest.mark.parametrize("method,path,payload,status,code,who", BAD, ids=[f"{c[3]}-{c[4]}-{n}" for n, c in enumerate(BAD)])
async def test_bad_bookings_get_a_problem_and_store_nothing(client, login, three_booked, method, path, payload, status, code, who):
    before = await all_rows(client)
    path = path.format(**three_booked)
    kwargs = {}
    if payload is not None:
        kwargs["json"] = json.loads(json.dumps(payload).replace("{checked}", three_booked["checked"]))
        if method == "POST" and path in (A, "/api/v1/halls/t/tickets/remote") and who is None:
            kwargs["json"]["proof"] = await proof(client)  # the public channel's check passed: the refusal is the hall's
    if who:
        kwargs["headers"] = await login(who)
    resp = await client.request(method, path, **kwargs)
    await expect_problem(resp, status, code)
    assert await all_rows(client) == before



async def test_staff_book_for_a_citizen_with_a_token_and_a_staff_cookie_does_not_stop_the_public_page(client, login):
    r = await client.post(A, json={"item": "a1", "slot_start": SLOT_0930, "phone": PHONE}, headers=await login("w1a"))
    assert r.status == 201 and (await r.json())["channel"] == "staff"
    # A clerk's page session in the same browser: the public page sends its cookie but no CSRF token.
    s = await client.post("/api/v1/auth/session", json={"username": "w2a", "password": "demo"})
    assert s.status == 200 and client.session.cookie_jar.filter_cookies(client.make_url("/"))
    r = await client.post(A, json={"item": "a1", "slot_start": SLOT_0930, "phone": "13900000009", "proof": await proof(client)})
    assert r.status == 201, await r.text()
    assert (await r.json())["channel"] == "online"
