"""短信提醒 against a local stand-in SMS gateway: the reminder the day before and the near-turn
message are sent once each (through a busy gateway and a restart), the hall's cancellation is
told, an opted-out holder gets nothing, and no phone number is left in the database after the day."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from server.api.outbound import Outbound
from server.bus import LocalBus
from server.domain import commands as c
from server.domain.booking import slots_of_day
from server.domain.catalog import Catalog
from server.domain.sms import HALL_CANCELLED
from server.hall import HallService, new_ticket_id
from server.hall.booking import Bookings
from server.hall.sms import SmsOutbox, booking_subject, ticket_subject
from server.journal import SQLJournal, make_engine
from server.journal.sms import SmsStore, sms_contacts
from tests.halls import MORNING, FakeClock, small_config
from tests.standins import Gateway, outbound, stored_text  # noqa: F401  (outbound: the fixture)

SECRET = b"k" * 32
REMOTE, BOOKED, CANCELLED, QUIET = "13900001111", "13812345678", "13711112222", "13655556666"


@pytest.fixture
async def journal(tmp_path):  # type: ignore[no-untyped-def]
    j = SQLJournal(make_engine(f"sqlite+aiosqlite:///{tmp_path / 'j.sqlite3'}"))
    await j.create()
    yield j
    await j.close()


@pytest.fixture
async def gateway():  # type: ignore[no-untyped-def]
    g = Gateway()
    await g.start()
    yield g
    await g.stop()


class Hall:
    """The hall's service, bookings and SMS outbox on one journal: made again to restart."""

    def __init__(self, catalog: Catalog, journal: SQLJournal, clock: FakeClock, outbound: Outbound) -> None:
        self.service = HallService(catalog, journal, LocalBus(), clock)
        self.bookings = Bookings(self.service, SECRET)
        self.store = SmsStore(journal.engine, SECRET)
        self.sms = SmsOutbox(self.service, self.bookings, self.store, outbound.post_json)

    async def book(self, phone: str, slot: int) -> str:
        tomorrow = self.bookings.today() + timedelta(days=1)
        start = slots_of_day(self.service.catalog, "a1", tomorrow)[slot].start
        found = await self.bookings.book("a1", start, phone)
        assert await self.sms.remember(booking_subject(found.appointment.code), found.day, phone)
        return found.appointment.code


async def test_reminder_and_near_turn_once_each_and_no_number_after_the_day(journal, gateway, outbound, caplog):
    clock = FakeClock(MORNING)  # Wednesday 09:00
    catalog = Catalog(small_config(sms={"enabled": True, "gateway": "http", "endpoint": gateway.url, "reminder_hour": 18,
                                        "near_ahead": 2, "retry_s": 60, "retry_max_s": 600, "timeout_s": 2}))
    hall = Hall(catalog, journal, clock, outbound)
    await hall.service.start()
    booked = await hall.book(BOOKED, 0)
    cancelled = await hall.book(CANCELLED, 1)
    quiet = await hall.book(QUIET, 2)
    await hall.sms.opt_out(booking_subject(quiet))
    ticket = new_ticket_id()
    await hall.service.handle(c.IssueTicket(by="online", ticket=ticket, item="a2", channel="online", remote=True,
                                            phone_key=hall.bookings.phone_key(REMOTE)))
    assert await hall.sms.remember(ticket_subject(ticket), hall.service.state.day, REMOTE)

    # 09:00: the remote number has nobody ahead: its near-turn message goes; no reminder yet.
    assert await hall.sms.step() is None
    assert gateway.to(REMOTE) == ["【政务服务中心】您在测试大厅取的B001号前面还有0人，请尽快到场。"]
    assert [m["phone"] for m in gateway.sent] == [REMOTE]
    assert ticket_subject(ticket) not in {x.subject for x in await hall.store.contacts("t")}  # nothing more to send it

    # The hall cancels a booking: its holder is told, then the number goes.
    await hall.bookings.cancel(cancelled, by="boss", reason=HALL_CANCELLED)
    await hall.sms.step()
    (told,) = gateway.to(CANCELLED)
    assert "已被测试大厅取消" in told and "11月26日" in told

    # 18:00 the day before, the gateway busy: the reminder waits 60 s, then a restart.
    gateway.busy = True
    clock.t = MORNING.replace(hour=18)
    assert await hall.sms.step() == 60
    assert await hall.sms.step() == 60  # not due again: not tried
    assert gateway.requests == 3
    await hall.service.stop()
    gateway.busy = False
    hall = Hall(catalog, journal, clock, outbound)
    await hall.service.start()
    clock.advance(60)
    await hall.sms.step()
    (reminder,) = gateway.to(BOOKED)
    assert f"预约码{booked}" in reminder and "11月26日 08:30" in reminder and "甲一" in reminder
    await hall.sms.step()
    assert len(gateway.to(BOOKED)) == 1
    assert booking_subject(booked) in {x.subject for x in await hall.store.contacts("t")}  # its turn is still to come
    await hall.service.stop()

    # The day of the booking: checked in, nobody ahead: "your turn is near", once.
    clock.t = datetime(2026, 11, 26, 8, 20, tzinfo=MORNING.tzinfo)
    hall = Hall(catalog, journal, clock, outbound)
    await hall.service.start()
    await hall.service.handle(c.IssueTicket(by="w1a", ticket=new_ticket_id(), item="a1", channel="staff", appointment=booked))
    await hall.sms.step()
    await hall.sms.step()
    assert len(gateway.to(BOOKED)) == 2 and "前面还有0人" in gateway.to(BOOKED)[1]
    assert gateway.to(QUIET) == []  # opted out
    assert await hall.store.counts("t") == {"pending": 0, "sent": 4, "failed": 0, "dropped": 0}

    # After the day nothing of any number is left; the log gateway's lines never had one either.
    clock.t = datetime(2026, 11, 27, 9, 0, tzinfo=MORNING.tzinfo)
    await hall.sms.step()
    async with journal.engine.connect() as conn:
        assert (await conn.execute(select(sms_contacts))).all() == []
    stored = await stored_text(journal.engine)
    assert "B001" in stored  # the scan reads the rows
    for phone in (REMOTE, BOOKED, CANCELLED, QUIET):
        assert phone not in stored
    await hall.service.stop()


async def test_the_log_gateway_writes_only_the_masked_number(journal, outbound, caplog):
    clock = FakeClock(MORNING)
    catalog = Catalog(small_config(sms={"enabled": True}))
    hall = Hall(catalog, journal, clock, outbound)
    await hall.service.start()
    ticket = new_ticket_id()
    await hall.service.handle(c.IssueTicket(by="online", ticket=ticket, item="a2", channel="online", remote=True,
                                            phone_key=hall.bookings.phone_key(REMOTE)))
    await hall.sms.remember(ticket_subject(ticket), hall.service.state.day, REMOTE)
    with caplog.at_level(logging.INFO, logger="hallq.sms"):
        await hall.sms.step()
    assert "139****1111" in caplog.text and REMOTE not in caplog.text and ticket not in caplog.text
    assert await hall.store.counts("t") == {"pending": 0, "sent": 1, "failed": 0, "dropped": 0}
    await hall.service.stop()


async def test_a_hall_without_sms_keeps_no_number(journal, outbound):
    hall = Hall(Catalog(small_config()), journal, FakeClock(MORNING), outbound)
    assert not await hall.sms.remember("ticket:x", MORNING.date(), REMOTE)
    assert await hall.store.contacts("t") == []
