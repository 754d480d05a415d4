"""The database engine every store shares, bounded in time and able to heal.

A database that is away must cost a request a few seconds and a clear 503, never a hang: a
network that drops packets answers nothing, so no driver error ever comes. Each connection
block (`async with engine.connect()` / `engine.begin()`) therefore runs under one deadline,
`timeout_s`, besides the drivers' own limits (asyncpg's connect and statement timeouts, the
pool's wait, SQLite's busy timeout), and a failure of the database, whatever the driver calls
it, leaves the block as `Unavailable`. A connection abandoned at its deadline is dropped at
once, without the polite goodbye a dead network would never answer.

SQLite opens a file it may not write read-only, silently, and such a connection stays
read-only after the disk is writable again: a server that pooled one kept refusing writes
until restarted. A new SQLite connection is kept only when the file is writable, and one
refused a write as read-only is dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
from typing import Any

from sqlalchemy import event, exc
from sqlalchemy.engine.interfaces import ExceptionContext
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

# How long a request waits on the database before its 503. PostgreSQL is across a network that
# may swallow packets: 3 s, so a request hears within the 5 s a client or a load balancer waits.
# SQLite is a file on this machine: its only wait is the queue for the write lock, which a burst
# of concurrent writes (logins, tickets) on a busy host may hold for a few seconds; the old 30 s
# held a request far beyond anyone's patience.
DEFAULT_TIMEOUT_S = 3.0
SQLITE_TIMEOUT_S = 5.0
STARTUP_TIMEOUT_S = 30.0  # creating or checking the schema at start, before any request is served


class Unavailable(Exception):
    """The journal could not be reached or written: nothing was stored, the client may try again."""


def is_database_fault(error: BaseException) -> bool:
    """The database is away, unwritable or too slow (the client may try again), as opposed to a
    bug in a query or a constraint refusing a row."""
    if isinstance(error, (Unavailable, TimeoutError, OSError, sqlite3.OperationalError, exc.TimeoutError, exc.OperationalError,
                          exc.InterfaceError)):
        return True
    return isinstance(error, exc.DBAPIError) and error.connection_invalidated


def is_timeout(error: BaseException | None) -> bool:
    """The database did not answer in time (here or anywhere in the chain of causes)."""
    while error is not None:
        if isinstance(error, (TimeoutError, exc.TimeoutError)):
            return True
        error = error.__cause__
    return False


def _detail(error: BaseException, timeout_s: float) -> str:
    if isinstance(error, (TimeoutError, exc.TimeoutError)):
        return f"the database did not answer within {timeout_s:g} s, please try again"
    if _readonly(error) or "disk I/O" in str(error):
        return "the journal cannot be written, please try again"
    return "the journal is unavailable, please try again"


def _readonly(error: BaseException) -> bool:
    original = getattr(error, "orig", error)
    return isinstance(original, sqlite3.OperationalError) and "readonly" in str(original)


class BoundedConnection(AsyncConnection):
    """An AsyncConnection whose whole `async with` block (checkout, statements, return to the
    pool) ends within the engine's deadline; a database fault leaves it as Unavailable."""

    __slots__ = ("_deadline",)

    async def __aenter__(self) -> BoundedConnection:
        assert isinstance(self.engine, BoundedEngine)
        self._deadline = asyncio.timeout(self.engine.timeout_s)
        await self._deadline.__aenter__()
        try:
            await self.start(is_ctxmanager=True)
        except BaseException as error:
            await self._leave(error)
            raise
        return self

    async def __aexit__(self, type_: Any, value: Any, traceback: Any) -> None:
        if self._deadline.expired() and self.sync_connection is not None and not self.invalidated:
            await self.invalidate()  # it may be mid-statement on a dead socket: never wait on it
        try:
            await super().__aexit__(type_, value, traceback)
        except BaseException as error:
            await self._leave(error)
            raise
        await self._leave(value)

    async def _leave(self, error: BaseException | None) -> None:
        """End the deadline; say a database fault as Unavailable."""
        assert isinstance(self.engine, BoundedEngine)
        try:
            await self._deadline.__aexit__(type(error) if error else None, error, error.__traceback__ if error else None)
        except TimeoutError as expired:
            raise Unavailable(_detail(expired, self.engine.timeout_s)) from expired
        if error is not None and not isinstance(error, Unavailable) and is_database_fault(error):
            raise Unavailable(_detail(error, self.engine.timeout_s)) from error


class BoundedEngine(AsyncEngine):
    __slots__ = ("timeout_s",)
    _connection_cls = BoundedConnection

    def __init__(self, engine: AsyncEngine, timeout_s: float) -> None:
        super().__init__(engine.sync_engine)
        self.timeout_s = timeout_s


def sqlite_write_probe(dbapi_conn: Any) -> None:
    """Prove the connection can write the file: rewrite the header's user_version with its own
    value, in a write transaction committed to disk (no table needed). Raises if it cannot."""
    cur = dbapi_conn.cursor()
    try:
        cur.execute("BEGIN IMMEDIATE")
        try:
            cur.execute("PRAGMA user_version")
            (version,) = cur.fetchone()
            cur.execute(f"PRAGMA user_version = {int(version)}")
            cur.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(sqlite3.Error):  # a failed COMMIT has rolled back already
                cur.execute("ROLLBACK")
            raise
    finally:
        cur.close()


def make_engine(url: str, timeout_s: float | None = None) -> BoundedEngine:
    """The engine for `url`; `timeout_s` bounds each connection block (None: the backend's default)."""
    if url.startswith("sqlite"):
        timeout_s = timeout_s or SQLITE_TIMEOUT_S
        engine = create_async_engine(url, connect_args={"timeout": timeout_s}, pool_timeout=timeout_s)

        path = engine.url.database or ""

        @event.listens_for(engine.sync_engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=FULL")
            cur.execute(f"PRAGMA busy_timeout={int(timeout_s * 1000)}")
            cur.close()
            # SQLite falls back to read-only exactly when it cannot open the file for writing;
            # the kernel's answer to the same question (immutable, read-only mount, mode bits)
            # keeps such a connection out of the pool, without queueing for the write lock.
            if path and not all(os.access(f, os.W_OK) for f in (path, path + "-wal") if os.path.exists(f)):
                dbapi_conn.close()
                raise sqlite3.OperationalError(f"attempt to write a readonly database: {path} is not writable")

        @event.listens_for(engine.sync_engine, "handle_error")
        def _readonly_is_dead(context: ExceptionContext) -> None:
            if _readonly(context.original_exception):
                context.is_disconnect = True  # latched read-only: drop it, the next one reopens the file

        return BoundedEngine(engine, timeout_s)
    timeout_s = timeout_s or DEFAULT_TIMEOUT_S
    engine = create_async_engine(
        url, pool_size=10, max_overflow=10, pool_pre_ping=True, pool_timeout=timeout_s,
        connect_args={"timeout": timeout_s, "command_timeout": timeout_s},
    )

    @event.listens_for(engine.sync_engine, "handle_error")
    def _timeout_is_dead(context: ExceptionContext) -> None:
        if isinstance(context.original_exception, TimeoutError):
            context.is_disconnect = True  # a statement lost on the network: the connection is of no more use

    @event.listens_for(engine.sync_engine.pool, "invalidate")
    def _drop_now(_dbapi_conn: Any, record: Any, _error: BaseException | None) -> None:
        # The pool would say goodbye to the server first and wait 2 s for an answer that a dead
        # network never gives; the socket is closed at once instead.
        driver = record.driver_connection
        if driver is not None and not driver.is_closed():
            driver.terminate()

    return BoundedEngine(engine, timeout_s)
