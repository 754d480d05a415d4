"""The catalogue in force for a HallService (hall administration): which revision holds on a
day, and the changes administrators plan, save and withdraw, each recorded in the day's stream."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from ..domain import admin
from ..domain import commands as cmd
from ..domain import events as ev
from ..domain.catalog import Catalog, HallConfig
from ..domain.errors import Conflict, DomainError
from ..domain.model import HallDay
from ..journal.revisions import Revision, RevisionConflict, SQLRevisions

log = logging.getLogger("hallq.hall")


class CatalogRevisions:
    """The part of HallService that follows and changes its catalogue revisions."""

    hall: str
    seed: HallConfig
    config: HallConfig
    catalog: Catalog
    rev: int
    revisions: SQLRevisions | None
    adjust: Callable[[HallConfig], HallConfig]
    catalog_listeners: list[Callable[[str, HallConfig], None]]
    state: HallDay
    _admin: asyncio.Lock

    if TYPE_CHECKING:
        def _now(self) -> datetime: ...
        def _today(self) -> date: ...
        async def current(self) -> HallDay: ...
        async def handle(self, command: cmd.Command) -> list[ev.Event]: ...

    async def follow_catalog(self, day: date | None = None) -> bool:
        """Take the catalogue revision in force on `day` (today) if it is not the one held.

        Called on every load of a hall-day and whenever a `catalog_changed` event is folded,
        here or from another worker's stream; True when the catalogue changed."""
        if self.revisions is None:
            return False
        day = day or self._today()
        rev = await self.revisions.in_force_rev(self.hall, day)
        if rev == self.rev:
            return False
        config = self.seed
        if rev:
            stored = await self.revisions.get(self.hall, rev)
            if stored is None or stored.document is None:
                return False
            try:
                config = admin.validate(stored.document, self.catalog.config.users)
            except DomainError as exc:
                log.error("hall %s: revision %d cannot be used (%s); keeping revision %d", self.hall, rev, exc.detail, self.rev)
                return False
        else:
            config = config.model_copy(update={"users": self.catalog.config.users})
        self.config = config
        self.catalog = Catalog(self.adjust(config))
        self.rev = rev
        log.info("hall %s: catalogue revision %d in force from %s", self.hall, rev, day)
        for listener in self.catalog_listeners:
            listener(self.hall, config)
        return True

    async def latest_catalog(self) -> tuple[int, date | None, HallConfig]:
        """The newest revision (in force or waiting for its day), its day, and its catalogue:
        every change is made on top of it."""
        if self.revisions is None:
            return 0, None, self.config
        latest = await self.revisions.latest(self.hall, withdrawn=False)
        if latest == self.rev:
            return self.rev, None if latest == 0 else (await self._revision(latest)).effective, self.config
        stored = await self._revision(latest)
        assert stored.document is not None
        return latest, stored.effective, admin.validate(stored.document, self.catalog.config.users)

    async def _revision(self, rev: int) -> Revision:
        assert self.revisions is not None
        stored = await self.revisions.get(self.hall, rev)
        if stored is None:
            raise Conflict("stale-revision", f"revision {rev} is gone")
        return stored

    async def plan_change(self, base_rev: int, new: HallConfig, effective: date | None) -> dict[str, Any]:
        """What saving `new` (made on top of revision `base_rev`) would do: the diff, the revision
        it would become, from which day; refused (DomainError) exactly as saving would be."""
        if self.revisions is None:
            raise Conflict("read-only", "this hall's catalogue is not stored in a database")
        latest, latest_day, base = await self.latest_catalog()
        if base_rev != latest:
            raise Conflict("stale-revision", f"the catalogue is at revision {latest} now, not {base_rev}: reload and edit again",
                           rev=latest)
        today = (await self.current()).day
        effective = effective or today
        pending = latest_day if latest_day is not None and latest_day > today else None
        admin.check_effective(today, effective, pending)
        admin.check_change(base, new, self.state if effective == today else None)
        d = admin.diff(base, new)
        if admin.is_empty(d):
            raise admin.CatalogInvalid([{"field": "catalog", "message": "nothing would change"}])
        number = await self.revisions.latest(self.hall) + 1  # withdrawn ones keep their numbers
        return {"base": latest, "rev": number, "effective": effective, "diff": d, "summary": admin.summary(d)}

    async def change_catalog(self, base_rev: int, new: HallConfig, effective: date | None, by: str) -> dict[str, Any]:
        """Store `new` as the next revision, record it in the day's stream, and (in force today)
        take it at once. A ticket already issued keeps its item: nothing is ever deleted."""
        async with self._admin:
            plan = await self.plan_change(base_rev, new, effective)
            assert self.revisions is not None
            revision = Revision(self.hall, plan["rev"], self._now().isoformat(), by, plan["effective"], plan["summary"],
                                admin.document(new))
            try:
                await self.revisions.add(revision)
            except RevisionConflict:
                raise Conflict("stale-revision", "another change was saved at the same moment: reload and edit again") from None
            try:
                await self.handle(cmd.RecordCatalogChange(by=by, rev=plan["rev"], effective=plan["effective"], summary=plan["summary"]))
            finally:
                await self.follow_catalog()  # also when the event could not be journalled: the revision is stored
            return plan

    async def withdraw_revision(self, rev: int, by: str) -> Revision:
        """Withdraw the newest revision while it still waits for its day; recorded in the day's stream."""
        if self.revisions is None:
            raise Conflict("read-only", "this hall's catalogue is not stored in a database")
        async with self._admin:
            stored = await self.revisions.get(self.hall, rev) if rev > 0 else None
            if stored is None or stored.withdrawn_at is not None:
                raise Conflict("unknown-revision", f"no revision {rev} to withdraw")
            today = (await self.current()).day
            admin.check_withdraw(rev, await self.revisions.latest(self.hall, withdrawn=False), stored.effective, today)
            if not await self.revisions.withdraw(self.hall, rev, self._now().isoformat(), by):
                raise Conflict("unknown-revision", f"revision {rev} was withdrawn just now")
            await self.handle(cmd.RecordCatalogWithdrawal(by=by, rev=rev))
            withdrawn = await self.revisions.get(self.hall, rev)
            assert withdrawn is not None
            return withdrawn
