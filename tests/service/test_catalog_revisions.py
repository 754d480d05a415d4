"""Catalogue revisions in the service layer, on a real SQLite file: durable across a restart,
picked up by a second worker from the stream it folds, and heard on the websocket feed."""

from __future__ import annotations

from pathlib import Path

from server.bus import LocalBus
from server.domain import admin
from server.domain import commands as c
from server.hall import HallService, new_ticket_id
from server.journal import SQLJournal, make_engine
from server.journal.revisions import SQLRevisions
from tests.halls import PUBLICS, small_catalog

NEW = {"id": "c2", "name": "丙二", "department": "c", "prefix": "E", "publics": PUBLICS}


async def worker(path: Path, clock) -> tuple[HallService, SQLJournal]:  # type: ignore[no-untyped-def]
    journal = SQLJournal(make_engine(f"sqlite+aiosqlite:///{path}"))
    await journal.create()
    revisions = SQLRevisions(journal.engine)
    await revisions.create()
    service = HallService(small_catalog(), journal, LocalBus(), clock, revisions=revisions)
    await service.start()
    return service, journal


def with_c2(service: HallService):  # type: ignore[no-untyped-def]
    doc = admin.document(service.catalog.config)
    w3 = {**doc["windows"][2], "items": [*doc["windows"][2]["items"], "c2"]}
    return admin.edit(service.catalog.config, upserts={"items": [NEW], "windows": [w3]})


def issue(item: str) -> c.IssueTicket:
    return c.IssueTicket(by="kiosk", ticket=new_ticket_id(), item=item)


async def test_a_saved_revision_survives_a_restart_and_the_config_files_stay_the_seed(tmp_path, clock):
    path = tmp_path / "hall.sqlite3"
    service, journal = await worker(path, clock)
    plan = await service.change_catalog(0, with_c2(service), None, "admin")
    assert (plan["rev"], service.rev, "c2" in service.catalog.items) == (1, 1, True)
    await service.stop()
    await journal.close()

    again, journal = await worker(path, clock)
    try:
        assert again.rev == 1 and again.catalog.windows["w3"].items[-1] == "c2"
        assert again.seed == small_catalog().config  # the files are untouched: revision 0
        (e,) = await again.handle(issue("c2"))
        assert e.number == "E001"
    finally:
        await again.stop()
        await journal.close()


async def test_a_second_worker_takes_the_change_when_it_folds_the_catalog_changed_event(tmp_path, clock):
    path = tmp_path / "shared.sqlite3"
    (w1, j1), (w2, j2) = await worker(path, clock), await worker(path, clock)
    seen: list[str] = []
    w2.catalog_listeners.append(lambda hall, config: seen.append(config.items[-1].id))
    try:
        await w1.change_catalog(0, with_c2(w1), None, "admin")
        assert w2.rev == 0  # it has not folded the event yet
        (e,) = await w2.handle(issue("a1"))  # its append conflicts, it folds w1's events …
        assert e.number == "A001"
        assert (w2.rev, seen) == (1, ["c2"])  # … and with them the change
        (e,) = await w2.handle(issue("c2"))
        assert e.number == "E001"
    finally:
        for w, j in ((w1, j1), (w2, j2)):
            await w.stop()
            await j.close()


async def test_screens_hear_the_change_public_fields_only_then_a_fresh_snapshot(client, login):
    from server.api.context import CTX

    h = await login("admin")
    public = await client.ws_connect("/ws/v1/halls/t")
    staff = await client.ws_connect("/ws/v1/halls/t?token=" + h["Authorization"].split()[1])
    for ws in (public, staff):
        assert (await ws.receive_json())["type"] == "snapshot"
    service = client.app[CTX].halls["t"]
    doc = admin.document(service.catalog.config)
    r = await client.post("/api/v1/halls/t/admin/catalog", json={"base_rev": 0, "hall": {**doc["hall"], "notice": "新通知"}}, headers=h)
    assert r.status == 201, await r.text()

    event = await public.receive_json()
    assert event["type"] == "event"
    assert set(event["event"]) == {"type", "at", "rev", "effective"}
    snapshot = await public.receive_json()
    assert snapshot["type"] == "snapshot" and snapshot["state"]["hall"]["notice"] == "新通知"
    staff_event = await staff.receive_json()
    assert (staff_event["event"]["by"], staff_event["event"]["summary"]) == ("admin", "hall notice")
    await public.close()
    await staff.close()
