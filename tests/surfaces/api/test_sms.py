"""短信提醒 through the API: bookings and remote numbers keep the number encrypted only in a hall
that texts, the holder opts out (bad requests change nothing), staff cancelling for the hall
is told to the holder, and no whole phone number is in any answer, log line or row."""

from __future__ import annotations

import logging

import pytest

from server.api.appointments import SMS
from server.api.context import CTX
from server.hall.sms import booking_subject, ticket_subject
from tests.halls import small_config, write_config
from tests.proof import proof
from tests.standins import stored_text
from tests.surfaces.api.test_appointments import THU_0930, book
from tests.surfaces.api.test_bad_input import expect_problem

PHONE = "13812345678"
OTHER = "13900001111"


@pytest.fixture
def config_dir(tmp_path):  # type: ignore[no-untyped-def]
    folder = tmp_path / "config"
    write_config(folder, small_config(sms={"enabled": True, "gateway": "log", "near_ahead": 1}))
    return folder


def outbox(client):  # type: ignore[no-untyped-def]
    return client.app[SMS]["t"]


async def remote(client, phone: str) -> dict:  # type: ignore[no-untyped-def]
    r = await client.post("/api/v1/halls/t/tickets/remote", json={"item": "a2", "phone": phone, "proof": await proof(client)})
    assert r.status == 201, await r.text()
    return await r.json()


async def subjects(client) -> set[str]:  # type: ignore[no-untyped-def]
    return {c.subject for c in await outbox(client).store.contacts("t")}


async def test_numbers_are_kept_for_texts_and_the_holder_opts_out(client, caplog):
    caplog.set_level(logging.DEBUG)
    booking = await book(client, THU_0930, PHONE)
    ticket = await remote(client, OTHER)
    assert await subjects(client) == {booking_subject(booking["code"]), ticket_subject(ticket["id"])}
    assert await outbox(client).store.phone("t", booking_subject(booking["code"])) == PHONE

    # Bad requests: a problem, and both numbers stay.
    for payload, status in (({}, 422), ({"code": booking["code"], "ticket": ticket["id"]}, 422),
                            ({"ticket": "nope"}, 404), ({"code": "ZZZZZZ"}, 404), ({"phone": PHONE}, 422)):
        r = await client.post("/api/v1/halls/t/sms/opt-out", json=payload)
        await expect_problem(r, status)
    assert len(await subjects(client)) == 2

    r = await client.post("/api/v1/halls/t/sms/opt-out", json={"code": booking["code"].lower()})
    assert r.status == 200 and await r.json() == {"opted_out": True}
    r = await client.post("/api/v1/halls/t/sms/opt-out", json={"ticket": ticket["id"]})
    assert r.status == 200
    assert await subjects(client) == set()

    # Nowhere whole: not in the answers, the log, or any row (the events hold a keyed hash and 138****5678).
    stored = await stored_text(client.app[CTX].journal.engine)
    assert "138****5678" in stored  # the scan reads the rows
    for text in (str(booking), str(ticket), caplog.text, stored):
        assert PHONE not in text and OTHER not in text


async def test_staff_cancelling_for_the_hall_texts_the_holder_once(client, login, caplog):
    caplog.set_level(logging.INFO, logger="hallq.sms")
    booking = await book(client, THU_0930, PHONE)
    boss = await login("boss")
    r = await client.post(f"/api/v1/halls/t/appointments/{booking['code']}/cancel", json={}, headers=boss)
    assert r.status == 200, await r.text()
    await outbox(client).step()
    await outbox(client).step()
    assert await outbox(client).store.counts("t") == {"pending": 0, "sent": 1, "failed": 0, "dropped": 0}
    assert caplog.text.count("sms cancelled to 138****5678") == 1 and PHONE not in caplog.text
    assert await subjects(client) == set()  # told: nothing more to send, the number is gone


async def test_a_holder_cancelling_is_not_texted(client):
    booking = await book(client, THU_0930, PHONE)
    r = await client.post(f"/api/v1/halls/t/appointments/{booking['code']}/cancel", json={})
    assert r.status == 200
    await outbox(client).step()
    assert await outbox(client).store.counts("t") == {"pending": 0, "sent": 0, "failed": 0, "dropped": 0}
    assert await subjects(client) == set()
