"""Bookings on every journal: two workers booking today's and a later day's slots at once never
overfill one (today's through each hall's writer, later days' at the expected position)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

from server.bus import LocalBus
from server.domain.errors import DomainError
from server.hall import HallService
from server.hall.booking import Bookings
from tests.adapters.test_journal import journal  # noqa: F401  (the fixture: SQLite and PostgreSQL)
from tests.halls import small_catalog


async def test_two_workers_never_overfill_todays_or_a_later_days_slot(journal, clock):  # noqa: F811
    catalog = small_catalog(id="b" + uuid.uuid4().hex[:12])  # a fresh hall, so a shared PostgreSQL needs no cleaning
    services = [HallService(catalog, journal, LocalBus(), clock) for _ in range(2)]
    for s in services:
        await s.start()
    try:
        workers = [Bookings(s, b"one secret for the hall") for s in services]
        today = clock.now().replace(hour=10, minute=0)
        later = today + timedelta(days=1)

        async def attempt(n: int) -> tuple[str, str]:
            start = today if n % 3 else later
            try:
                found = await workers[n % 2].book("a1", start, f"136{n:08d}")
                return found.day.isoformat(), "ok"
            except DomainError as exc:
                return start.date().isoformat(), exc.code

        outcome = await asyncio.gather(*(attempt(n) for n in range(36)))
        for day in (today.date(), later.date()):
            mine = sorted(code for d, code in outcome if d == day.isoformat())
            assert mine[:2] == ["ok", "ok"] and set(mine[2:]) == {"slot-full"}, (day, mine)
            stored = await journal.read(catalog.hall.id, day)
            assert [s.data["type"] for s in stored if s.data["type"] == "appointment_registered"] == ["appointment_registered"] * 2
    finally:
        for s in services:
            await s.stop()
