"""Bookings (网上预约) across hall-days: today's through the hall's writer, later days' appended here.

A booking belongs to the hall-day of its slot, so that day's fold sees it and the call policy
works unchanged. Today's stream has one writer, the HallService: bookings for today go
through it. A later day's stream is appended here, through the hall's repository
(server/hall/repository.py): at the position of the day's folded state, caught up and decided
again after a conflict; at midnight the HallService loads the new day with its bookings. Later days' events are not published on the bus
(the realtime feed follows today's stream only).

Phone numbers never reach the journal: a keyed hash (HMAC-SHA256 with the server's secret)
stands for the per-phone limits, and the masked form (138****1234) for display.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from ..domain import commands as cmd
from ..domain import events as ev
from ..domain.booking import CODE_ALPHABET, CODE_LENGTH, check_changeable, check_day, held_by, mask_phone, release_missed
from ..domain.decide import decide
from ..domain.errors import Conflict, DomainError, NotFound
from ..domain.model import Appointment, HallDay
from . import HallService, Unavailable
from ..bus import Published
from ..scheduler import Scheduler
from ..tasks import cancel

log = logging.getLogger("hallq.booking")

SECRET_ENV = "HALLQ_PHONE_SECRET"


def load_secret(data_dir: Path) -> bytes:
    """The key of the phone hashes: $HALLQ_PHONE_SECRET (several hosts share it), or a random key
    kept in the data directory (mode 0600), made on first start."""
    env = os.environ.get(SECRET_ENV)
    if env:
        return env.encode()
    path = data_dir / "phone.key"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
    return path.read_text().strip().encode()


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


@dataclass(frozen=True, slots=True)
class Found:
    day: date
    appointment: Appointment
    state: HallDay


class Bookings:
    """One hall's bookings over today and the bookable days after it."""

    SWEEP_S = 30.0
    QUIET_S = 300.0  # with no booking open today, the next sweep waits for an event (or this long)

    def __init__(self, hall: HallService, secret: bytes) -> None:
        self.hall = hall
        self._secret = secret
        self._days: dict[date, HallDay] = {}
        self._day_locks: dict[date, asyncio.Lock] = {}
        # Bookings of one phone number are decided one at a time (its limit spans days); striped, so
        # the locks stay few however many numbers come.
        self._phone_locks = [asyncio.Lock() for _ in range(64)]
        self._task: asyncio.Task[None] | None = None
        self._scheduler: Scheduler | None = None
        self._heard: Callable[[Published], None] = lambda _message: None

    @property
    def catalog(self):  # type: ignore[no-untyped-def]
        return self.hall.catalog

    def phone_key(self, phone: str) -> str:
        return hmac.new(self._secret, phone.encode(), hashlib.sha256).hexdigest()[:32]

    def now(self) -> datetime:
        return self.hall.clock.now().astimezone(self.hall.tz)

    def today(self) -> date:
        return self.now().date()

    def open_days(self) -> list[date]:
        today = self.today()
        return [today + timedelta(days=n) for n in range(self.catalog.hall.booking.days_ahead + 1)]

    # -- reading -----------------------------------------------------------------------------
    async def day_state(self, day: date) -> HallDay:
        """The folded state of a hall-day: today's from the hall, later ones cached and caught up."""
        today = self.today()
        if day == today:
            return await self.hall.current()
        if day < today or day > today + timedelta(days=self.catalog.hall.booking.days_ahead):
            # a closed day, or one not bookable yet (a manager's look): read afresh, keep nothing
            return await self.hall.repo.load(day)
        for old in [d for d in self._days if d <= today]:
            del self._days[old]
        state = self._days.get(day)
        if state is None:
            state = self._days[day] = HallDay(self.hall.hall, day)
        await self.hall.repo.catch_up(state)
        return state

    async def find(self, code: str) -> Found:
        """The booking with this code (any case) among today's and the bookable days'."""
        code = code.strip()
        cancelled: Found | None = None
        for day in self.open_days():
            state = await self.day_state(day)
            a = state.appointments.get(code) or state.appointments.get(code.upper())
            if a is None:
                continue
            if not a.cancelled:
                return Found(day, a, state)
            cancelled = Found(day, a, state)  # moved to another day, or withdrawn
        if cancelled is None:
            raise NotFound("unknown-appointment", f"no appointment {code!r}")
        return cancelled

    async def held_elsewhere(self, phone_key: str, but: date, also_not: str | None = None) -> int:
        """Active bookings of this phone on the bookable days other than `but` (minus `also_not`)."""
        now = self.now()
        count = 0
        for day in self.open_days():
            if day == but:
                continue
            state = await self.day_state(day)
            count += held_by(state, self.catalog, phone_key, now)
            if also_not and also_not in state.appointments and state.appointments[also_not].phone_key == phone_key:
                a = state.appointments[also_not]
                if not (a.cancelled or a.missed or a.ticket):
                    count -= 1
        return count

    # -- writing -----------------------------------------------------------------------------
    def _day_lock(self, day: date) -> asyncio.Lock:
        for old in [d for d in self._day_locks if d < self.today()]:
            del self._day_locks[old]
        lock = self._day_locks.get(day)
        if lock is None:
            lock = self._day_locks[day] = asyncio.Lock()
        return lock

    def _phone_lock(self, phone_key: str) -> asyncio.Lock:
        return self._phone_locks[int(phone_key[:8], 16) % len(self._phone_locks)]

    async def handle(self, day: date, command: cmd.Command) -> list[ev.Event]:
        """Decide and store a command on the stream of `day` (today's through the hall's writer)."""
        if day == self.today():
            return await self.hall.handle(command)
        async with self._day_lock(day):
            try:
                commit = await self.hall.repo.write(
                    lambda: self.day_state(day), lambda state: decide(state, self.catalog, command, self.now()), publish=False
                )
            except (DomainError, Unavailable):
                raise
            except Exception as exc:
                log.error("hall %s: booking append for %s failed: %r", self.hall.hall, day, exc)
                raise Unavailable("the journal is unavailable, please try again") from None
        return list(commit.events)

    async def book(self, item: str, slot_start: datetime, phone: str, by: str = "online", channel: str = "online",
                   person_key: str | None = None) -> Found:
        day = slot_start.date()
        check_day(self.catalog, day, self.now())  # before anything reads or writes that day
        key = self.phone_key(phone)
        async with self._phone_lock(key):
            for _ in range(5):
                code = new_code()
                if not await self._code_taken(code):
                    break
            held = await self.held_elsewhere(key, day)
            await self.handle(day, cmd.BookAppointment(
                by=by, code=code, item=item, slot_start=slot_start, phone_key=key, phone_masked=mask_phone(phone),
                channel=channel, held_elsewhere=held, person_key=person_key,
            ))
        return await self.find(code)

    async def _code_taken(self, code: str) -> bool:
        try:
            await self.find(code)
        except NotFound:
            return False
        return True

    async def cancel(self, code: str, by: str = "holder", reason: str = "citizen") -> Found:
        found = await self.find(code)
        await self.handle(found.day, cmd.CancelAppointment(by=by, code=found.appointment.code, reason=reason))
        return await self.find(code)

    async def reschedule(self, code: str, slot_start: datetime, by: str = "holder") -> Found:
        found = await self.find(code)
        a = found.appointment
        day = slot_start.date()
        if day == found.day:
            await self.handle(day, cmd.RescheduleAppointment(by=by, code=a.code, slot_start=slot_start))
            return await self.find(code)
        check_day(self.catalog, day, self.now())
        check_changeable(a, self.catalog, self.now())
        if a.phone_key is None or a.phone_masked is None:
            raise Conflict("not-online", "an appointment entered by staff is moved to another day by staff")
        async with self._phone_lock(a.phone_key):
            held = await self.held_elsewhere(a.phone_key, day, also_not=a.code)
            # The new day first: a failure between the two appends leaves the booking on both days
            # (its page shows the earlier, which its holder can cancel), never on neither.
            await self.handle(day, cmd.BookAppointment(
                by=by, code=a.code, item=a.item, slot_start=slot_start, phone_key=a.phone_key,
                phone_masked=a.phone_masked, channel=a.channel, held_elsewhere=held, moved_from=found.day,
                person_key=a.person_key,
            ))
            await self.handle(found.day, cmd.CancelAppointment(by=by, code=a.code, reason="rescheduled"))
        return await self.find(code)

    # -- the no-show sweep ---------------------------------------------------------------------
    async def sweep(self) -> list[ev.Event]:
        """Release today's bookings whose check-in time is over (爽约), recording each as missed."""
        state = await self.hall.current()
        if not release_missed(state, self.catalog, cmd.ReleaseMissed(by="system"), self.now()):
            return []
        return await self.hall.handle(cmd.ReleaseMissed(by="system"))

    async def start(self, scheduler: Scheduler | None = None) -> None:
        """Sweep every SWEEP_S: on the app's one scheduler when given (a hall with no booking
        open today waits for its next event instead, or QUIET_S), else in a task of its own."""
        self._scheduler = scheduler
        if scheduler is None:
            self._task = asyncio.create_task(self._run(), name=f"bookings-{self.hall.hall}")
            return
        self._heard = lambda _message: scheduler.soon(self._key, self.SWEEP_S, self._timed)
        self.hall.local.listeners.append(self._heard)  # type: ignore[attr-defined]
        scheduler.after(self._key, self.SWEEP_S, self._timed)

    async def stop(self) -> None:
        if self._scheduler is not None:
            if self._heard in self.hall.local.listeners:  # type: ignore[attr-defined]
                self.hall.local.listeners.remove(self._heard)  # type: ignore[attr-defined]
            await self._scheduler.drop([self._key])
            self._scheduler = None
        await cancel((self._task,))
        self._task = None

    @property
    def _key(self) -> tuple[str, str]:
        return ("bookings", self.hall.hall)

    def _open_today(self) -> bool:
        return any(not (a.cancelled or a.missed or a.ticket is not None) for a in self.hall.held().appointments.values())

    async def _timed(self) -> None:
        assert self._scheduler is not None
        try:
            await self.sweep()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the journal may be away for a while: try again next time
            log.warning("hall %s: no-show sweep failed: %r", self.hall.hall, exc)
        quiet = not self.hall.shared and not self._open_today()
        self._scheduler.after(self._key, self.QUIET_S if quiet else self.SWEEP_S, self._timed)

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.SWEEP_S)
            try:
                await self.sweep()
            except Exception as exc:  # the journal may be away for a while: try again next time
                log.warning("hall %s: no-show sweep failed: %r", self.hall.hall, exc)
