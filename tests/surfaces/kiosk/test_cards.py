"""刷身份证取号 through the print agent's card relay: a simulated GA 467 reader on a pty and a
keyboard-wedge reader on another; the page's websocket gets a one-time token and the masked
number, the kiosk takes numbers with it, the fourth of a card is refused; and the whole number
is in no answer, page, log line or database row."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import tty
from pathlib import Path

import pytest
import yaml
from websockets.asyncio.client import connect

from kiosk.cardreader import GA467Reader, WedgeReader
from kiosk.cardrelay import CardRelay
from server.api.context import CTX
from tests.cardsim import SimulatedReader
from tests.halls import small_config, write_config
from tests.server_process import free_port
from tests.standins import stored_text

SENIOR = "11010519491231002X"  # GB 11643's own example: born 1949
YOUNG = "110105199003070017"  # born 1990


@pytest.fixture
def card_port() -> int:
    return free_port()


@pytest.fixture
def config_dir(tmp_path: Path, card_port: int) -> Path:
    folder = tmp_path / "config"
    write_config(folder, small_config(id_cards={"enabled": True, "per_day": 3, "per_item": 3}))
    kiosks = [{"id": "k3", "name": "一楼 自助取号机", "agent": True, "card_port": card_port}]
    (folder / "t" / "kiosks.yaml").write_text(yaml.safe_dump(kiosks, allow_unicode=True), encoding="utf-8")
    return folder


@pytest.fixture
def sim():  # type: ignore[no-untyped-def]
    s = SimulatedReader()
    yield s
    s.close()


async def relayed(relay: CardRelay, stop: asyncio.Event):  # type: ignore[no-untyped-def]
    task = asyncio.create_task(relay.run(stop))
    await asyncio.wait_for(relay.listening.wait(), 10)
    return task


async def next_card(ws) -> dict:  # type: ignore[no-untyped-def]
    return json.loads(await asyncio.wait_for(ws.recv(), 15))


async def test_a_ga467_card_takes_three_numbers_and_the_fourth_is_refused(server, client, sim, card_port, caplog):
    caplog.set_level(logging.DEBUG)
    stop = asyncio.Event()
    relay = CardRelay(lambda: GA467Reader(sim.port, timeout=2), server.base, "t", "k3", card_port)
    task = await relayed(relay, stop)
    answers: list[str] = []
    try:
        async with connect(f"ws://127.0.0.1:{card_port}/") as page:
            for n, item in enumerate(("a1", "b1", "c1", "a1")):
                sim.card = SENIOR
                read = await next_card(page)
                answers.append(json.dumps(read, ensure_ascii=False))
                assert read["type"] == "card" and read["masked"] == "110*************2X" and read["senior"] is True
                assert read["left_today"] == max(0, 3 - n)
                r = await client.post("/api/v1/halls/t/kiosks/k3/tickets", json={"item": item, "card": read["card"],
                                                                                     "priority": True})
                answers.append(await r.text())
                if n < 3:
                    assert r.status == 201, await r.text()
                    assert (await r.json())["priority"] is True  # the senior lane, offered and taken
                else:
                    assert r.status == 409 and (await r.json())["type"] == "urn:hallq:problem:person-limit-day"
                again = await client.post("/api/v1/halls/t/kiosks/k3/tickets", json={"item": "b1", "card": read["card"]})
                assert again.status == 409  # a read takes one number
                sim.card = None  # taken away (the reader looks and finds none) before the next read
                seen = len(sim.frames)
                async with asyncio.timeout(10):
                    while (0x20, 0x01) not in sim.frames[seen:]:
                        await asyncio.sleep(0.05)
    finally:
        stop.set()
        await task

    page_html = await (await client.get("/kiosk/t/k3")).text()
    stored = await stored_text(server.app[CTX].journal.engine)
    assert "person_key" in stored  # the scan reads the tickets
    for text in (*answers, page_html, caplog.text, stored):
        assert SENIOR not in text and "19491231" not in text


async def test_a_wedge_reader_and_a_bad_number(server, card_port):
    master, slave = os.openpty()
    tty.setraw(slave)
    stop = asyncio.Event()
    relay = CardRelay(lambda: WedgeReader.open(os.ttyname(slave)), server.base, "t", "k3", card_port)
    task = await relayed(relay, stop)
    try:
        async with connect(f"ws://127.0.0.1:{card_port}/") as page:
            os.write(master, YOUNG.encode() + b"\r")
            read = await next_card(page)
            assert (read["type"], read["masked"], read["senior"], read["left_today"]) == ("card", "110*************17", False, 3)
            os.write(master, (YOUNG[:17] + "5").encode() + b"\r")  # a wrong check character
            refused = await next_card(page)
            assert refused == {"type": "card_error", "problem": "urn:hallq:problem:bad-id-number", "limit": None}
    finally:
        stop.set()
        await task
        os.close(master)
        os.close(slave)


async def test_pages_of_other_sites_may_not_listen_to_the_reader(server, sim, card_port):
    stop = asyncio.Event()
    relay = CardRelay(lambda: GA467Reader(sim.port, timeout=2), server.base, "t", "k3", card_port)
    task = await relayed(relay, stop)
    try:
        with pytest.raises(Exception):
            async with connect(f"ws://127.0.0.1:{card_port}/", origin="http://evil.example"):  # type: ignore[arg-type]
                pass
    finally:
        stop.set()
        await task


async def test_bad_card_requests_change_nothing(server, client):
    for payload, status in (({"id_number": "x" * 40}, 422), ({}, 422), ({"id_number": "110105194912310021"}, 422)):
        r = await client.post("/api/v1/halls/t/kiosks/k3/card", json=payload)
        assert r.status == status and r.content_type == "application/problem+json"
        assert "110105194912310021" not in await r.text()
    assert (await client.post("/api/v1/halls/t/kiosks/nope/card", json={"id_number": SENIOR})).status == 404
    r = await client.post("/api/v1/halls/t/kiosks/k3/tickets", json={"item": "a1", "card": "forged"})
    assert r.status == 409 and (await r.json())["type"] == "urn:hallq:problem:card-expired"
    assert (await client.get("/api/v1/halls/t/queues")).status == 200
    state = server.app[CTX].halls["t"].held()
    assert state.tickets == {}


async def test_the_card_finds_todays_booking_made_with_its_number_and_checks_it_in(server, client):
    from tests.proof import proof

    slot = "2026-11-25T09:30:00+08:00"
    bad = await client.post("/api/v1/halls/t/appointments", json={"item": "a1", "slot_start": slot, "phone": "13812345678",
                                                                   "id_number": YOUNG[:17] + "5", "proof": await proof(client)})
    assert bad.status == 422 and YOUNG[:17] not in await bad.text()
    r = await client.post("/api/v1/halls/t/appointments", json={"item": "a1", "slot_start": slot, "phone": "13812345678",
                                                                 "id_number": YOUNG, "proof": await proof(client)})
    assert r.status == 201, await r.text()
    booking = await r.json()
    assert YOUNG not in str(booking)
    other = await (await client.post("/api/v1/halls/t/kiosks/k3/card", json={"id_number": SENIOR})).json()
    assert other["bookings"] == []
    read = await (await client.post("/api/v1/halls/t/kiosks/k3/card", json={"id_number": YOUNG.lower()})).json()
    assert read["bookings"] == [{"booking": 0, "item": "a1", "item_name": "甲一", "slot_start": slot}]
    assert booking["code"] not in str(read)  # whoever knows a number does not learn the booking's code
    r = await client.post("/api/v1/halls/t/kiosks/k3/tickets", json={"booking": 0})
    assert r.status == 422  # found by the card only
    r = await client.post("/api/v1/halls/t/kiosks/k3/tickets", json={"booking": 1, "card": read["card"]})
    assert r.status == 422
    read = await (await client.post("/api/v1/halls/t/kiosks/k3/card", json={"id_number": YOUNG})).json()
    r = await client.post("/api/v1/halls/t/kiosks/k3/tickets", json={"booking": 0, "card": read["card"]})
    assert r.status == 201, await r.text()
    assert (await r.json())["appointment"] is True
    again = await (await client.post("/api/v1/halls/t/kiosks/k3/card", json={"id_number": YOUNG})).json()
    assert again["bookings"] == [] and again["left_today"] == 2  # checked in: a number of the card's today
    stored = await stored_text(server.app[CTX].journal.engine)
    assert YOUNG not in stored and booking["code"] in stored


async def test_card_reads_from_one_address_are_rate_limited(aiohttp_client, settings):
    """Trying ID numbers in bulk at a kiosk's card route meets the per-address limit."""
    from dataclasses import replace

    from server.api import create_app

    limited = await aiohttp_client(create_app(replace(settings, issue_rate_per_s=0.5, issue_burst=2)))
    statuses = [(await limited.post("/api/v1/halls/t/kiosks/k3/card", json={"id_number": SENIOR})).status for _ in range(3)]
    assert statuses == [200, 200, 429]
