"""The schema of every table, versioned by Alembic migrations (`versions/`), on SQLite and PostgreSQL.

One history covers the journal, catalogue revisions, accounts, sessions, devices, evaluators,
statistics and the calendar's added years. `upgrade(engine)` brings a database to the newest
revision (it is what `hallq migrate` and the embedded server run); `status(engine)` tells where
a database stands, so `hallq serve` can refuse, with one line, a database it may not upgrade
itself or one written by a newer hallq.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

HERE = Path(__file__).parent
logging.getLogger("alembic").setLevel(logging.WARNING)  # hallq says in one line what was upgraded
# Any table of ours: a database holding one of them but no alembic_version predates migrations.
KNOWN_TABLES = frozenset({"events", "catalog_revisions", "passwords", "sessions", "devices", "evaluator_sessions", "stat_meta"})
UPGRADE_TIMEOUT_S = 3600.0
PG_LOCK = 0x68616C6C  # "hall": one migrating process at a time per PostgreSQL database

State = Literal["empty", "legacy", "behind", "current", "ahead"]


class SchemaError(Exception):
    """The database cannot be served by this code as it is; the message is one line for an operator."""


@dataclass(frozen=True, slots=True)
class Status:
    state: State
    current: str | None  # the database's revision (None: empty, or made before migrations)
    head: str  # the newest revision this code knows

    @property
    def ready(self) -> bool:
        return self.state == "current"

    def done(self) -> str | None:
        """What upgrading a database found in this state did, in one line (None: nothing)."""
        if self.state == "empty":
            return f"database created at schema revision {self.head}"
        if self.state in ("legacy", "behind"):
            return f"database schema upgraded from {self.current or 'the tables of before migrations'} to {self.head}"
        return None


@lru_cache(maxsize=1)  # the migration files do not change while a process runs
def _script() -> ScriptDirectory:
    return ScriptDirectory(str(HERE), version_locations=[str(HERE / "versions")])


def head() -> str:
    return _script().get_current_head() or ""


def _status(conn: Connection) -> Status:
    script = _script()
    newest = script.get_current_head() or ""
    current = MigrationContext.configure(conn).get_current_revision()
    if current is None:
        tables = set(inspect(conn).get_table_names())
        return Status("legacy" if tables & KNOWN_TABLES else "empty", None, newest)
    try:
        script.get_revision(current)
    except CommandError:
        return Status("ahead", current, newest)
    return Status("current" if current == newest else "behind", current, newest)


def _upgrade(conn: Connection) -> Status:
    status = _status(conn)
    if status.state == "ahead":
        raise SchemaError(_ahead(status))
    if status.state == "current":
        return status
    script = _script()

    def steps(rev: Any, _context: Any) -> Any:
        return script._upgrade_revs(status.head, rev)

    context = MigrationContext.configure(conn, opts={"fn": steps, "transactional_ddl": conn.dialect.name == "postgresql"})
    with Operations.context(context):
        context.run_migrations()
    return status


def _ahead(status: Status) -> str:
    return (f"the database is at schema revision {status.current}, which this hallq does not know (it knows up to "
            f"{status.head}): it was written by a newer release; run that release, or restore a backup made for this one")


# One lock per database and event loop (keyed by the loop itself: a closed loop's id may come back).
_locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, asyncio.Lock]] = weakref.WeakKeyDictionary()
_current: set[str] = set()  # databases this process found at the newest revision


async def status(engine: AsyncEngine) -> Status:
    async with engine.connect() as conn:
        return await conn.run_sync(_status)


async def upgrade(engine: AsyncEngine) -> Status:
    """Bring the database to the newest revision; returns where it stood before (`done()` says what was done).

    Safe to call from several processes at once on PostgreSQL (an advisory lock lets one
    migrate while the others wait, then find it done) and from several apps of one process.
    A database found current once is not asked again by this process (every store's create()
    calls this). SchemaError for a database written by a newer release.
    """
    key = engine.url.render_as_string(hide_password=False)
    if key in _current:
        return Status("current", head(), head())
    lock = _locks.setdefault(asyncio.get_running_loop(), {}).setdefault(key, asyncio.Lock())
    async with lock:
        found = await status(engine)
        if found.state == "ahead":
            raise SchemaError(_ahead(found))
        if found.state != "current":
            # Migrating is an operator's work, not a request's: the blocks of the upgrade wait as
            # long as a migration may take (PostgreSQL statements keep the driver's own limit).
            before = getattr(engine, "timeout_s", None)
            if before is not None:
                engine.timeout_s = max(before, UPGRADE_TIMEOUT_S)  # type: ignore[attr-defined]
            try:
                async with engine.begin() as conn:
                    if conn.dialect.name == "postgresql":
                        await conn.execute(text(f"SELECT pg_advisory_xact_lock({PG_LOCK})"))
                    found = await conn.run_sync(_upgrade)
            finally:
                if before is not None:
                    engine.timeout_s = before  # type: ignore[attr-defined]
        _current.add(key)
        return found


async def prepare(engine: AsyncEngine, may_upgrade: bool) -> Status:
    """What a starting server does: upgrade when it may (or the database is new), else refuse
    a database that is behind with one line naming the command that upgrades it."""
    found = await status(engine)
    if found.state == "ahead":
        raise SchemaError(_ahead(found))
    if found.state in ("behind", "legacy") and not may_upgrade:
        at = found.current or "from before migrations"
        raise SchemaError(
            f"the database is at schema revision {at} and this hallq needs {found.head}: stop every hallq process "
            "of this deployment, run `hallq migrate` once with the same --database, then start them again"
        )
    if found.state == "current":
        return found
    return await upgrade(engine)


__all__ = ["SchemaError", "Status", "head", "prepare", "status", "upgrade"]
