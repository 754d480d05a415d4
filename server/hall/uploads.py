"""好差评 upload: one hall's ratings, from its journal to the provincial platform, through the outbox.

`collect` reads the journal from the hall's stored position and puts every new rating into the
outbox (server/journal/outbox.py) with the position, in one transaction; `send_due` sends the
hall's oldest pending rating while one is due, and only that one (in order per hall): an
answer "taken" or "had it already" marks it sent, a refusal sets it aside (shown on the
dashboard), anything else (no answer, busy) waits longer each time (server/domain/provincial.py).
Every wait reads the injected clock; `run` is the lifespan's task and only sleeps between steps.

The HTTP call is given (`send`, made by server/api/outbound.py): this layer knows no HTTP.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from ..domain import provincial
from ..journal.outbox import RatingUploads, Upload
from ..scheduler import Scheduler
from . import HallService
from .timed import every

log = logging.getLogger("hallq.uploads")


@dataclass(frozen=True, slots=True)
class Reply:
    status: int | None  # None: no answer (refused connection, time-out)
    error: str = ""


# (url, JSON body, idempotency key, timeout in seconds) -> the platform's reply
Send = Callable[[str, dict[str, Any], str, float], Awaitable[Reply]]
# (url, query, timeout in seconds) -> the reply and its JSON body
Fetch = Callable[[str, dict[str, str], float], Awaitable[tuple[Reply, Any]]]


class RatingUploader:
    POLL_S = 2.0  # how often the upload looks for new ratings and due retries

    def __init__(self, service: HallService, store: RatingUploads, send: Send, fetch: Fetch | None = None) -> None:
        self.service = service
        self.store = store
        self.send = send
        self.fetch = fetch
        self.hall = service.hall
        self.lock = asyncio.Lock()  # one step at a time: the task's and a test's or an admin's
        self._pulled_at: Any = None  # when the returned ratings were last asked for (the hall's clock)
        self.returned_listeners: list[Callable[[], None]] = []  # told when bad ratings came back (the supervisor)

    @property
    def settings(self):  # type: ignore[no-untyped-def]
        return self.service.catalog.hall.provincial

    def _now(self):  # type: ignore[no-untyped-def]
        return self.service.clock.now().astimezone(self.service.tz)

    async def collect(self) -> int:
        """Put the ratings journalled since the stored position into the outbox; how many were new."""
        today = self._now().date()
        at = await self.store.positions.get(RatingUploads.KIND, self.hall) or (today, 0)
        days = await self.service.journal.days(self.hall, at[0], today, types=provincial.RATING_TYPES)  # type: ignore[attr-defined]
        new = 0
        for day in sorted(d for d in days if d >= at[0]):
            since = at[1] if day == at[0] else 0
            stored = await self.service.events(day, since, types=provincial.RATING_TYPES)
            if not stored:
                continue
            tickets = await self._tickets(day)
            found = [(day, s.seq, provincial.rating_id(s.data["ticket"]), self._record(s.data, tickets), provincial.is_bad(int(s.data["score"])))
                     for s in stored]
            new += await self.store.put(self.hall, found, day, stored[-1].seq)
        return new

    async def _tickets(self, day: date) -> dict[str, provincial.Ticket]:
        found: dict[str, provincial.Ticket] = {}
        for d in (day - timedelta(days=1), day):  # a ticket served across midnight was issued the day before
            for s in await self.service.events(d, 0, types=provincial.TICKET_TYPES):
                found[s.data["ticket"]] = provincial.Ticket(s.data["number"], s.data["item"])
        return found

    def _record(self, rating: dict[str, Any], tickets: dict[str, provincial.Ticket]) -> dict[str, Any]:
        catalog = self.service.catalog
        ticket = tickets.get(rating["ticket"])
        item = catalog.items.get(ticket.item) if ticket else None
        window = catalog.windows.get(rating.get("window") or "")
        s = self.settings
        return provincial.record(rating, ticket, hall_code=s.hall_code, region_code=s.region_code,
                                 item_name=item.name if item else None, window_name=window.name if window else None)

    async def send_due(self) -> float | None:
        """Send the hall's pending ratings in order while the oldest is due. Returns the seconds
        until the oldest pending one is due again (None: nothing is pending)."""
        s = self.settings
        while True:
            u = await self.store.head(self.hall)
            if u is None:
                return None
            now = self._now()
            if not provincial.due(u.next_at, now):
                return (u.next_at - now).total_seconds()  # type: ignore[operator]
            reply = await self._send(u)
            result = provincial.outcome(reply.status)
            now = self._now()
            if result == "retry":
                wait = provincial.retry_after(u.attempts + 1, s.retry_s, s.retry_max_s)
                await self.store.record_attempt(u, "pending", reply.status, reply.error, now + timedelta(seconds=wait), None)
                log.info("hall %s: rating upload %s will be tried again in %.0f s (%s)", self.hall, u.day, wait,
                         reply.status or reply.error)
                return wait
            await self.store.record_attempt(u, result, reply.status, reply.error, None, now.isoformat() if result == "sent" else None)
            if result == "refused":
                log.warning("hall %s: the provincial platform refused a rating of %s (HTTP %s)", self.hall, u.day, reply.status)

    async def _send(self, u: Upload) -> Reply:
        s = self.settings
        try:
            return await self.send(s.endpoint, provincial.to_platform(u.record, s.mapping()), u.rating, s.timeout_s)
        except Exception as exc:  # the adapter answers every failure with a Reply; anything else is a retry
            return Reply(None, type(exc).__name__)

    async def pull(self) -> int:
        """差评回传: the bad ratings the platform sent back for follow-up, into the hall's review
        loop (server/stats/ledger.py reads them), each once; how many were new."""
        s = self.settings
        if not s.returns_endpoint or self.fetch is None:
            return 0
        reply, data = await self.fetch(s.returns_endpoint, {"hallCode": s.hall_code}, s.timeout_s)
        if reply.status != 200 or not isinstance(data, (list, dict)):
            log.info("hall %s: the platform's returned ratings: no answer (%s)", self.hall, reply.status or reply.error)
            return 0
        rows = data if isinstance(data, list) else data.get("items") or []
        found = []
        for row in rows if isinstance(rows, list) else []:
            r = provincial.returned(row, s.mapping()) if isinstance(row, dict) else None
            if r is not None and (r := provincial.follow_up(r, await self.store.record_of(self.hall, r.rating_id))) is not None:
                found.append(r)
        new = await self.store.put_returned(self.hall, found, self._now().isoformat())
        if new:
            log.info("hall %s: %d bad ratings sent back by the platform for follow-up", self.hall, new)
            for listener in self.returned_listeners:
                listener()
        return new

    async def step(self) -> float | None:
        """One look: collect, send what is due, pull back bad ratings. Nothing while the upload is off."""
        if not self.settings.enabled:
            return None
        async with self.lock:
            await self.collect()
            wait = await self.send_due()
            now = self._now()
            if self._pulled_at is None or (now - self._pulled_at).total_seconds() >= self.settings.returns_every_s:
                self._pulled_at = now
                await self.pull()
            return wait

    def schedule(self, scheduler: Scheduler) -> None:
        """Look now and then on the app's one scheduler, sooner when a retry falls due."""
        every(scheduler, ("uploads", self.hall), self.step, lambda: self.settings.enabled, self.POLL_S, log,
              f"hall {self.hall}: rating upload")

