"""好差评 upload against a local stand-in of the provincial platform that is away, busy, slow and
refusing, then back: every rating arrives exactly once, in the order of the hall's journal,
across a restart; waits follow the injected clock (SQLite and PostgreSQL)."""

from __future__ import annotations

import uuid

import pytest

from server.bus import LocalBus
from server.domain import commands as c
from server.domain import provincial
from server.domain.catalog import Catalog
from server.hall import HallService, new_ticket_id
from server.hall.uploads import RatingUploader
from server.journal import SQLJournal, make_engine
from server.journal.outbox import RatingUploads
from tests.halls import FakeClock, small_config
from tests.services import PostgresDatabase
from tests.standins import Platform, outbound  # noqa: F401  (the fixture)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def journal(request, tmp_path):  # type: ignore[no-untyped-def]
    # A PostgreSQL database of its own: the shared test database stays at the schema of main's code.
    db = PostgresDatabase() if request.param == "postgres" else None
    url = f"sqlite+aiosqlite:///{tmp_path / 'j.sqlite3'}" if db is None else (await db.create()).replace(
        "postgresql://", "postgresql+asyncpg://")
    j = SQLJournal(make_engine(url))
    await j.create()
    yield j
    await j.close()
    if db is not None:
        await db.drop()


@pytest.fixture
async def platform():  # type: ignore[no-untyped-def]
    p = Platform()
    yield p
    await p.stop()


def catalog(endpoint: str) -> Catalog:
    hall = "h" + uuid.uuid4().hex[:10]  # a fresh hall: a shared PostgreSQL needs no cleaning
    return Catalog(small_config(id=hall, provincial={
        "enabled": True, "endpoint": endpoint, "hall_code": "HALL-0001", "region_code": "330100",
        "timeout_s": 0.5, "retry_s": 5, "retry_max_s": 60,
    }))


async def serve_and_rate(service: HallService, clock: FakeClock, score: int, *, at_window: bool) -> str:
    ticket = new_ticket_id()
    await service.handle(c.IssueTicket(by="kiosk", ticket=ticket, item="a1"))
    await service.handle(c.CallNext(by="w1a", window="w1"))
    await service.handle(c.StartService(by="w1a", window="w1"))
    clock.advance(60)
    await service.handle(c.FinishService(by="w1a", window="w1", case_type="immediate"))
    reasons = ("long_wait",) if score <= 2 else ()
    await service.handle(c.Evaluate(by="evaluator-w1" if at_window else "holder", ticket=ticket, score=score, reasons=reasons,
                                    window="w1" if at_window else None))
    return provincial.rating_id(ticket)


async def test_every_rating_arrives_once_in_order_through_refusals_time_outs_and_a_restart(journal, platform, outbound):
    clock = FakeClock()
    cat = catalog(platform.url)
    hall = cat.hall.id
    store = RatingUploads(journal.engine)
    service = HallService(cat, journal, LocalBus(), clock)
    await service.start()
    uploader = RatingUploader(service, store, outbound.post_json)
    await service.handle(c.OpenWindow(by="w1a", window="w1"))
    ids = [await serve_and_rate(service, clock, 5, at_window=True),
           await serve_and_rate(service, clock, 2, at_window=False),
           await serve_and_rate(service, clock, 4, at_window=True)]

    # The platform is away (nothing listens): the first rating waits 5 s, the others behind it.
    assert await uploader.step() == 5
    assert await store.counts(hall) == {"pending": 3, "sent": 0, "refused": 0}
    head = await store.head(hall)
    assert head is not None and head.rating == ids[0] and head.attempts == 1 and head.last_status is None
    clock.advance(4)
    assert await uploader.step() == pytest.approx(1)  # not due yet: nothing is tried
    assert (await store.head(hall)).attempts == 1  # type: ignore[union-attr]

    # Busy: 503, and the wait doubles.
    await platform.start()
    platform.mode = "busy"
    clock.advance(1)
    assert await uploader.step() == 10
    assert platform.requests == [ids[0]] and platform.taken == []

    # A restart: a new service and uploader on the same database; one more rating meanwhile.
    await service.stop()
    service = HallService(cat, journal, LocalBus(), clock)
    await service.start()
    uploader = RatingUploader(service, RatingUploads(journal.engine), outbound.post_json)
    ids.append(await serve_and_rate(service, clock, 1, at_window=True))

    # Slow: the platform takes the first rating but answers after the upload has given up.
    platform.mode = "slow"
    clock.advance(10)
    assert await uploader.step() == 20
    assert platform.ids == [ids[0]]
    assert await store.counts(hall) == {"pending": 4, "sent": 0, "refused": 0}

    # Back, refusing the third rating as it is: the first is a duplicate now (409: sent), the rest
    # go in order, the refused one is set aside and does not hold up the fourth.
    platform.mode = "ok"
    platform.refuse = {ids[2]}
    clock.advance(20)
    assert await uploader.step() is None
    assert platform.ids == [ids[0], ids[1], ids[3]]  # each once, in the order of the journal
    assert platform.requests == [ids[0], ids[0], ids[0], ids[1], ids[2], ids[3]]
    assert platform.keys == platform.requests  # the idempotency key is the rating's id
    assert await store.counts(hall) == {"pending": 0, "sent": 3, "refused": 1}
    (refused,) = await store.listed(hall, "refused")
    assert refused.rating == ids[2] and refused.last_status == 400

    # Read again from the start: nothing new, nothing sent twice.
    assert await uploader.collect() == 0
    assert await uploader.step() is None and len(platform.requests) == 6

    # What the platform got: its own field names, the channel, the level; no ticket id.
    first, second = platform.taken[0], platform.taken[1]
    assert first["pf"] == "1" and second["pf"] == "2"  # 窗口评价器, then the citizen's phone
    assert first["evaluateLevel"] == "非常满意" and second["alternate"] == 2 and second["evaluateReason"] == "long_wait"
    assert first["deptCode"] == "HALL-0001" and first["areaCode"] == "330100" and first["taskName"] == "甲一"
    assert first["projectNo"].startswith("A") and first["windowName"] == "1号窗口"
    text = str(platform.taken)
    for stored in await journal.read(hall, service.state.day, types={"ticket_issued"}):
        assert stored.data["ticket"] not in text
    await service.stop()


async def test_a_province_names_its_own_fields_and_a_hall_without_upload_sends_nothing(journal, platform, outbound):
    clock = FakeClock()
    await platform.start()
    cat = catalog(platform.url)
    fields = {"rating_id": "pjbh", "score": "pjdj", "rated_at": "pjsj"}
    cat = Catalog(cat.config.model_copy(update={"hall": cat.hall.model_copy(update={
        "provincial": cat.hall.provincial.model_copy(update={"fields": fields})})}))
    service = HallService(cat, journal, LocalBus(), clock)
    await service.start()
    platform.id_field = "pjbh"
    uploader = RatingUploader(service, RatingUploads(journal.engine), outbound.post_json)
    await service.handle(c.OpenWindow(by="w1a", window="w1"))
    rid = await serve_and_rate(service, clock, 3, at_window=True)
    assert await uploader.step() is None
    assert platform.taken == [{"pjbh": rid, "pjdj": 3, "pjsj": platform.taken[0]["pjsj"]}]
    await service.stop()

    off = Catalog(small_config(id="h" + uuid.uuid4().hex[:10]))
    service = HallService(off, journal, LocalBus(), clock)
    await service.start()
    uploader = RatingUploader(service, RatingUploads(journal.engine), outbound.post_json)
    await service.handle(c.OpenWindow(by="w1a", window="w1"))
    await serve_and_rate(service, clock, 5, at_window=True)
    assert await uploader.step() is None
    assert len(platform.requests) == 1
    assert await RatingUploads(journal.engine).counts(off.hall.id) == {"pending": 0, "sent": 0, "refused": 0}
    await service.stop()
