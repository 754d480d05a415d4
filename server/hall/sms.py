"""短信提醒: one hall's text messages to holders of bookings and remote numbers, through an outbox.

`remember` keeps a holder's phone number (encrypted, server/journal/sms.py) when a booking or a
remote number is made in a hall that sends SMS. `plan` looks at each remembered booking or
ticket as the hall's fold has it, queues the messages the rules call for (server/domain/sms.py,
each once), and deletes the phone numbers no message may still need. `send_due` hands the
queued messages to the gateway: the log gateway (halls without one) writes the kind and the
masked number; the http gateway posts to the configured endpoint, retried with back-off by the
injected clock. `opt_out` deletes the number and drops what was still queued for it.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from datetime import date, datetime, timedelta
from typing import Any

from ..domain import delivery, sms
from ..domain.booking import mask_phone
from ..domain.errors import NotFound
from ..domain.estimates import ahead
from ..domain.model import TicketStatus
from ..journal.sms import Contact, Message, SmsStore
from ..scheduler import Scheduler
from . import HallService
from .timed import every
from .booking import Bookings
from .uploads import Reply, Send

log = logging.getLogger("hallq.sms")


def booking_subject(code: str) -> str:
    return f"booking:{code}"


def ticket_subject(ticket: str) -> str:
    return f"ticket:{ticket}"


class SmsOutbox:
    POLL_S = 5.0

    def __init__(self, service: HallService, bookings: Bookings, store: SmsStore, send: Send) -> None:
        self.service = service
        self.bookings = bookings
        self.store = store
        self.send = send
        self.hall = service.hall
        self.lock = asyncio.Lock()

    @property
    def settings(self):  # type: ignore[no-untyped-def]
        return self.service.catalog.hall.sms

    def _now(self) -> datetime:
        return self.service.clock.now().astimezone(self.service.tz)

    # -- from the API ------------------------------------------------------------------------
    async def remember(self, subject: str, day: date, phone: str) -> bool:
        """Keep the number while a message may be due (only in a hall that sends SMS)."""
        if not self.settings.enabled:
            return False
        await self.store.remember(self.hall, subject, day, phone, self._now().isoformat())
        return True

    async def opt_out(self, subject: str) -> None:
        await self.store.forget(self.hall, [subject], drop_pending=True)
        log.info("hall %s: a holder opted out of text messages", self.hall)

    # -- planning ----------------------------------------------------------------------------
    async def _subject(self, c: Contact) -> tuple[sms.Subject, dict[str, Any], datetime | None] | None:
        kind, _, ident = c.subject.partition(":")
        catalog = self.service.catalog
        fields: dict[str, Any] = {"hall": catalog.hall.name}
        if kind == "booking":
            try:
                found = await self.bookings.find(ident)
            except NotFound:
                return None
            a, state = found.appointment, found.state
            item = catalog.items.get(a.item)
            fields.update(item=item.name if item else a.item, code=a.code, date=f"{a.slot_start:%m月%d日}",
                          time=f"{a.slot_start:%H:%M}")
            t = state.tickets.get(a.ticket) if a.ticket else None
            reason = await self._cancel_reason(found.day, a.code) if a.cancelled else None
            if t is not None:
                fields.update(number=t.number, ahead=ahead(state, catalog, t))
            subject = sms.Subject(day=found.day, status=a.status, slot_start=a.slot_start, cancel_reason=reason,
                                  ticket_status=t.status.value if t else None, ahead=fields.get("ahead"))
            return subject, fields, a.booked_at
        if kind == "ticket":
            held = self.service.ticket_held(ident)
            if held is None:
                return None
            state, t = held
            n = ahead(state, catalog, t) if t.status is TicketStatus.waiting else None
            item = catalog.items.get(t.item)
            fields.update(number=t.number, ahead=n, item=item.name if item else t.item)
            return sms.Subject(day=state.day, status=t.status.value, ticket_status=t.status.value, ahead=n), fields, None
        return None

    async def _cancel_reason(self, day: date, code: str) -> str | None:
        reason = None
        for s in await self.service.events(day, 0, types={"appointment_cancelled"}):
            if s.data.get("code") == code:
                reason = s.data.get("reason")
        return reason

    async def plan(self) -> int:
        """Queue the messages due now; delete the numbers no message may still need. How many queued."""
        s = self.settings
        now = self._now()
        queued = await self.store.queued(self.hall)
        waiting = {m.subject for m in await self.store.pending(self.hall)}
        new = 0
        done: list[str] = []
        for c in await self.store.contacts(self.hall):
            found = await self._subject(c)  # a booking moved to another day is found on its new day
            if found is None or found[0].day < now.date():
                done.append(c.subject)
                continue
            subject, fields, booked_at = found
            p = sms.plan(subject, queued.get(c.subject, frozenset()), now, s, booked_at)
            for kind in p.send:
                new += await self.store.queue(self.hall, c.subject, kind, sms.text(kind, s, **fields), now.isoformat())
            if not p.keep and c.subject not in waiting and not p.send:
                done.append(c.subject)
        await self.store.forget(self.hall, done)
        return new

    # -- sending -----------------------------------------------------------------------------
    async def send_due(self) -> float | None:
        """Send what is due; the seconds until the next retry is due (None: nothing waits)."""
        s = self.settings
        soonest: float | None = None
        for msg in await self.store.pending(self.hall):
            now = self._now()
            if not delivery.due(msg.next_at, now):
                wait = (msg.next_at - now).total_seconds()  # type: ignore[operator]
                soonest = wait if soonest is None else min(soonest, wait)
                continue
            phone = await self.store.phone(self.hall, msg.subject)
            if phone is None:  # opted out, or its day is over
                await self.store.record_attempt(msg, "dropped", "no number", None, None)
                continue
            reply = await self._deliver(phone, msg)
            result = delivery.outcome(reply.status)
            now = self._now()
            if result == "retry":
                wait = delivery.retry_after(msg.attempts + 1, s.retry_s, s.retry_max_s)
                await self.store.record_attempt(msg, "pending", reply.error or str(reply.status), now + timedelta(seconds=wait), None)
                soonest = wait if soonest is None else min(soonest, wait)
            else:
                await self.store.record_attempt(msg, "sent" if result == "sent" else "failed", reply.error, None,
                                                now.isoformat() if result == "sent" else None)
        return soonest

    async def _deliver(self, phone: str, msg: Message) -> Reply:
        s = self.settings
        if s.gateway == "log":
            log.info("hall %s: sms %s to %s: %s", self.hall, msg.kind, mask_phone(phone), msg.text)
            return Reply(200)
        key = hashlib.sha256(f"{self.hall}|{msg.key}".encode()).hexdigest()[:32]  # not the ticket's id
        try:
            return await self.send(s.endpoint, {"phone": phone, "sign": s.sign, "text": msg.text}, key, s.timeout_s)
        except Exception as exc:
            return Reply(None, type(exc).__name__)

    async def step(self) -> float | None:
        if not self.settings.enabled:
            return None
        async with self.lock:
            await self.plan()
            wait = await self.send_due()
            await self.plan()  # numbers whose last message just went are deleted now
            return wait

    def schedule(self, scheduler: Scheduler) -> None:
        """Look now and then on the app's one scheduler, sooner when a message falls due."""
        every(scheduler, ("sms", self.hall), self.step, lambda: self.settings.enabled, self.POLL_S, log,
              f"hall {self.hall}: sms")

