"""Staff accounts: argon2 password hashes, bearer sessions, lock-out, and the staff changes
managers make in the browser, stored beside the journal.

Passwords are never stored or logged in clear: the database keeps argon2id hashes, and a
session keeps only the SHA-256 of its token. Accounts of a demo hall that have no password
set take the demo password (one hash, made at start).

The accounts of a hall are its `users.yaml` overlaid by the changes recorded here (added,
re-assigned, disabled accounts): `users_of(hall)` is the live set, and listeners hear of
every change so the hall's catalogue (posts, handover, window screens) follows it. Each
change is a row of `staff_changes` saying who did it and when.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import math
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from pydantic import ValidationError
from sqlalchemy import Boolean, Column, Float, Integer, MetaData, String, Table, Text, case, delete, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from ..domain.catalog import Catalog, HallConfig, User
from .. import migrations
from ..domain.errors import Conflict, Invalid, NotFound

log = logging.getLogger("hallq.auth")
metadata = MetaData()

passwords = Table(
    "passwords",
    metadata,
    Column("username", String(40), primary_key=True),
    Column("hash", String(200), nullable=False),
    Column("updated_at", Float, nullable=False),
    Column("updated_by", String(40), nullable=False),
)

sessions = Table(
    "sessions",
    metadata,
    Column("token_sha256", String(64), primary_key=True),
    Column("username", String(40), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("expires_at", Float, nullable=False),
)

# An account as changed in the browser; it replaces the users.yaml entry of the same name.
staff_accounts = Table(
    "staff_accounts",
    metadata,
    Column("username", String(40), primary_key=True),
    Column("hall", String(40), nullable=False),
    Column("data", Text, nullable=False),  # the User, as JSON
    Column("disabled", Boolean, nullable=False, default=False),
    Column("updated_at", Float, nullable=False),
    Column("updated_by", String(40), nullable=False),
)

staff_changes = Table(
    "staff_changes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("hall", String(40), nullable=False, index=True),
    Column("username", String(40), nullable=False),
    Column("action", String(20), nullable=False),  # added | changed | disabled | enabled | password_reset | password_set
    Column("detail", Text, nullable=False),  # JSON: the fields changed, before and after; never a password
    Column("at", Float, nullable=False),
    Column("by", String(40), nullable=False),
)

# Failed logins per username (known or not, so lock-out does not tell which names exist); a
# name that is no account is kept only as a keyed hash (Accounts.failure_key). `failures`
# counts attempts as they begin, so concurrent ones cannot pass the limit.
login_failures = Table(
    "login_failures",
    metadata,
    Column("username", String(40), primary_key=True),
    Column("failures", Integer, nullable=False),
    Column("first_at", Float, nullable=False),
    Column("locked_until", Float, nullable=False, default=0.0),
)

_hasher = PasswordHasher()
# The demo password is printed in the README: a costly hash of it would slow every demo login
# (and every test's) and protect nothing, so it is made with argon2's smallest parameters.
# Passwords people choose always get `_hasher`'s (RFC 9106's second recommendation).
_demo_hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
_demo_hashes: dict[str, str] = {}


async def _demo_hash(password: str) -> str:
    """The hash demo accounts check until they set their own password: held in memory only, made
    once per process (an app made again in one process, as the tests do, reuses it)."""
    if password not in _demo_hashes:
        _demo_hashes[password] = await asyncio.to_thread(_demo_hasher.hash, password)
    return _demo_hashes[password]


@dataclass(frozen=True, slots=True)
class Staff:
    """An authenticated member of staff and the hall their account belongs to."""

    user: User
    hall: str


@dataclass(frozen=True, slots=True)
class Account:
    """An account as managers see it: live or disabled, from users.yaml or changed here."""

    user: User
    hall: str
    disabled: bool
    changed: bool


class Locked(Exception):
    """Too many failed logins for this username: try again after `retry_after` seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"locked for {retry_after} s")
        self.retry_after = retry_after


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def csrf_token(session_token: str) -> str:
    """The CSRF token of a page session: derived from the session's secret, so it needs no
    storage and cannot be made without the (HttpOnly) session cookie."""
    return hashlib.sha256(b"hallq-csrf\0" + session_token.encode()).hexdigest()


def csrf_ok(session_token: str, sent: str | None) -> bool:
    return bool(sent) and hmac.compare_digest(csrf_token(session_token), sent or "")


Listener = Callable[[str, tuple[User, ...]], None]


class Accounts:
    SESSION_TTL_S = 12 * 3600
    MAX_FAILURES = 5  # failed logins within FAILURE_WINDOW_S that lock the username …
    FAILURE_WINDOW_S = 15 * 60
    LOCK_S = 15 * 60  # … for this long
    MIN_PASSWORD = 8

    def __init__(
        self, engine: AsyncEngine, halls: dict[str, Catalog], demo_password: str = "demo", clock: Callable[[], float] = time.time
    ) -> None:
        self.engine = engine
        self.clock = clock
        self._configs: dict[str, HallConfig] = {hall: c.config for hall, c in halls.items()}
        self._overlay: dict[str, tuple[str, User, bool]] = {}  # username -> (hall, user, disabled)
        self.staff: dict[str, Staff] = {}
        self.listeners: list[Listener] = []
        self._demo_halls = {hall for hall, c in halls.items() if c.hall.demo}
        self._demo_password = demo_password
        self._demo_hash: str | None = None
        self._lock = asyncio.Lock()
        self._failure_key = secrets.token_bytes(32)  # never stored: see failure_key()
        self._rebuild()

    async def create(self) -> None:
        await migrations.upgrade(self.engine)  # the tables come from the one migration history
        await self.refresh(notify_all=True)
        if self._demo_halls:
            self._demo_hash = await _demo_hash(self._demo_password)
        self._demo_password = ""

    async def refresh(self, notify_all: bool = False) -> set[str]:
        """Read the managers' changes from the database (another process may have made them);
        returns the halls whose accounts changed, and tells the listeners."""
        async with self.engine.connect() as conn:
            rows = (await conn.execute(select(staff_accounts))).all()
        overlay = {
            row.username: (row.hall, User.model_validate_json(row.data), bool(row.disabled))
            for row in rows if row.hall in self._configs
        }
        changed = {h for name in overlay.keys() | self._overlay.keys()
                   if overlay.get(name) != self._overlay.get(name)
                   for h in {v[0] for v in (overlay.get(name), self._overlay.get(name)) if v}}
        self._overlay = overlay
        self._rebuild()
        for hall in self._configs if notify_all else sorted(changed):
            self._notify(hall)
        return changed

    # -- the live set of accounts -----------------------------------------------------------
    def accounts_of(self, hall: str) -> list[Account]:
        """Every account of the hall, disabled ones included: users.yaml order, then those added here."""
        out: list[Account] = []
        seen: set[str] = set()
        for u in self._configs[hall].users:
            seen.add(u.username)
            if u.username in self._overlay:
                _, user, disabled = self._overlay[u.username]
                out.append(Account(user, hall, disabled, True))
            else:
                out.append(Account(u, hall, False, False))
        for name in sorted(self._overlay):
            h, user, disabled = self._overlay[name]
            if h == hall and name not in seen:
                out.append(Account(user, hall, disabled, True))
        return out

    def use_catalog(self, hall: str, config: HallConfig) -> None:
        """The hall's catalogue changed (hall administration): staff changes are checked against
        its windows and departments from now on; the accounts of users.yaml stay as they were."""
        if hall in self._configs:
            self._configs[hall] = config.model_copy(update={"users": self._configs[hall].users})

    def users_of(self, hall: str) -> tuple[User, ...]:
        """The hall's accounts that may log in, as the catalogue holds them."""
        return tuple(a.user for a in self.accounts_of(hall) if not a.disabled)

    def account(self, username: str) -> Account | None:
        for hall in self._configs:
            for a in self.accounts_of(hall):
                if a.user.username == username:
                    return a
        return None

    def _rebuild(self) -> None:
        self.staff = {u.username: Staff(u, hall) for hall in self._configs for u in self.users_of(hall)}

    def _notify(self, hall: str) -> None:
        users = self.users_of(hall)
        for listener in self.listeners:
            listener(hall, users)

    def _validate(self, hall: str, users: tuple[User, ...]) -> None:
        """The hall's rules for accounts (known windows, one clerk per post, a chief's department)."""
        config = self._configs[hall]
        try:
            HallConfig.model_validate({name: getattr(config, name) for name in HallConfig.model_fields} | {"users": users})
        except ValidationError as exc:
            messages = "; ".join(e["msg"].removeprefix("Value error, ") for e in exc.errors())
            raise Invalid("staff-invalid", messages) from None

    @property
    def demo_accounts(self) -> list[str]:
        return sorted(name for name, s in self.staff.items() if s.hall in self._demo_halls)

    # -- passwords and sessions -------------------------------------------------------------
    async def _stored_hash(self, username: str) -> str | None:
        async with self.engine.connect() as conn:
            row = (await conn.execute(select(passwords.c.hash).where(passwords.c.username == username))).first()
        return row[0] if row else None

    async def set_password(self, username: str, password: str, by: str, action: str | None = "password_set") -> None:
        """Store the argon2 hash of a new password; `action` names the change recorded (None: none)."""
        account = self.account(username)
        if account is None:
            raise KeyError(username)
        hashed = await asyncio.to_thread(_hasher.hash, password)
        now = self.clock()
        async with self.engine.begin() as conn:
            done = await conn.execute(
                update(passwords).where(passwords.c.username == username).values(hash=hashed, updated_at=now, updated_by=by)
            )
            if done.rowcount == 0:
                await conn.execute(insert(passwords).values(username=username, hash=hashed, updated_at=now, updated_by=by))
            # A new password ends every session of the old one, and lifts a lock-out.
            await conn.execute(delete(sessions).where(sessions.c.username == username))
            await conn.execute(delete(login_failures).where(login_failures.c.username == username))
            if action is not None:
                await conn.execute(_change_row(account.hall, username, action, {}, now, by))
        if action is not None:
            log.info("staff %s %s by %s", username, action, by)

    async def verify(self, username: str, password: str) -> Staff | None:
        staff = self.staff.get(username)
        hashed = await self._stored_hash(username) if staff else None
        if hashed is None and staff and staff.hall in self._demo_halls:
            hashed = self._demo_hash
        if hashed is None:
            # Spend the same time as a real check, so timing does not tell which names exist.
            hashed = self._demo_hash or await asyncio.to_thread(_hasher.hash, secrets.token_hex(8))
            staff = None
        try:
            ok = await asyncio.to_thread(_hasher.verify, hashed, password)
        except (VerificationError, InvalidHashError):
            ok = False
        return staff if ok and staff else None

    def failure_key(self, username: str) -> str:
        """The row of `login_failures` counting a typed username: an account's name as it is;
        anything else (a mistyped name, a password typed into the name field) only as a keyed
        hash whose key lives in this process alone, so no clear text is ever stored."""
        if self.account(username) is not None:
            return username
        return "#" + hmac.new(self._failure_key, username.encode(), hashlib.sha256).hexdigest()[:32]

    async def _reserve_attempt(self, key: str, now: float) -> None:
        """Count an attempt before its password is checked, atomically in the database, so that
        concurrent attempts (in this process or in other workers sharing the database) cannot
        pass the limit: at most MAX_FAILURES attempts within FAILURE_WINDOW_S get checked.
        Raises Locked when the username is locked or its attempts are all taken."""
        t = login_failures
        stale = now - self.FAILURE_WINDOW_S
        async with self.engine.begin() as conn:
            await conn.execute(_insert_missing(conn, t, username=key, failures=0, first_at=now, locked_until=0.0))
            # One statement: a window that has passed (or a lock that ended) starts again here.
            fresh = or_(t.c.first_at < stale, t.c.locked_until > 0)
            reserved = await conn.execute(
                update(t)
                .where(t.c.username == key, t.c.locked_until <= now, or_(t.c.failures < self.MAX_FAILURES, fresh))
                .values(
                    failures=case((fresh, 1), else_=t.c.failures + 1),
                    first_at=case((fresh, now), else_=t.c.first_at),
                    locked_until=0.0,
                )
            )
            if reserved.rowcount == 1:
                return
            row = (await conn.execute(select(t.c.locked_until).where(t.c.username == key))).first()
        until = row[0] if row is not None else 0.0
        # Not locked yet: the last attempts allowed are being checked right now.
        raise Locked(max(1, math.ceil(until - now)) if until > now else 1)

    async def login(self, username: str, password: str) -> Staff | None:
        """`verify` behind the lock-out: MAX_FAILURES failures within FAILURE_WINDOW_S lock the
        username for LOCK_S (raises Locked, without checking the password). The attempt is
        counted before the password is checked and forgotten on success."""
        key = self.failure_key(username)
        await self._reserve_attempt(key, self.clock())
        who = await self.verify(username, password)
        now = self.clock()
        t = login_failures
        async with self.engine.begin() as conn:
            if who is not None:
                await conn.execute(delete(t).where(t.c.username == key))
                return who
            locked = await conn.execute(
                update(t)
                .where(t.c.username == key, t.c.failures >= self.MAX_FAILURES, t.c.locked_until <= now)
                .values(locked_until=now + self.LOCK_S)
            )
            await conn.execute(delete(t).where(t.c.first_at < now - self.FAILURE_WINDOW_S, t.c.locked_until < now))
        if locked.rowcount:
            name = repr(username) if key == username else "(an unknown username)"
            log.warning("username %s locked for %d s after %d failed logins", name, self.LOCK_S, self.MAX_FAILURES)
        return None

    async def locked_until(self, username: str) -> float | None:
        key = self.failure_key(username)
        async with self.engine.connect() as conn:
            row = (await conn.execute(select(login_failures.c.locked_until).where(login_failures.c.username == key))).first()
        return row[0] if row and row[0] > self.clock() else None

    async def open_session(self, staff: Staff) -> str:
        token = secrets.token_urlsafe(32)
        now = self.clock()
        async with self.engine.begin() as conn:
            # Ended sessions are refused anyway; each login sweeps them out, so the table holds the live ones.
            await conn.execute(delete(sessions).where(sessions.c.expires_at < now))
            await conn.execute(
                insert(sessions).values(
                    token_sha256=_digest(token), username=staff.user.username, created_at=now, expires_at=now + self.SESSION_TTL_S
                )
            )
        return token

    async def session(self, token: str) -> Staff | None:
        async with self.engine.connect() as conn:
            row = (
                await conn.execute(
                    select(sessions.c.username, sessions.c.expires_at).where(sessions.c.token_sha256 == _digest(token))
                )
            ).first()
        if row is None or row[1] < self.clock():
            return None
        return self.staff.get(row[0])  # the live account: a disabled one has no session

    async def close_session(self, token: str) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(delete(sessions).where(sessions.c.token_sha256 == _digest(token)))

    # -- staff changes by managers ----------------------------------------------------------
    def check_password(self, password: str) -> None:
        if len(password) < self.MIN_PASSWORD:
            raise Invalid("weak-password", f"a password has at least {self.MIN_PASSWORD} characters")

    async def add(self, hall: str, user: User, password: str, by: str) -> Account:
        self.check_password(password)
        hashed = await asyncio.to_thread(_hasher.hash, password)
        async with self._lock:
            if self.account(user.username) is not None:
                raise Conflict("username-taken", f"an account {user.username!r} exists already")
            self._validate(hall, self.users_of(hall) + (user,))
            # The account and its password in one transaction: never an account without one.
            await self._store(hall, user, False, by, "added", _fields(user), password_hash=hashed)
        return self._account(user.username)

    async def change(self, username: str, by: str, disabled: bool | None = None, **fields: Any) -> Account:
        """Change an account's fields (name, staff_no, role, windows, post, department) and/or
        disable or enable it. Disabling ends its sessions."""
        async with self._lock:
            before = self._account(username)
            after = User.model_validate(before.user.model_dump() | fields)
            now_disabled = before.disabled if disabled is None else disabled
            if not now_disabled:
                others = tuple(u for u in self.users_of(before.hall) if u.username != username)
                self._validate(before.hall, others + (after,))
            detail = {k: [_plain(getattr(before.user, k)), _plain(getattr(after, k))]
                      for k in User.model_fields if getattr(before.user, k) != getattr(after, k)}
            if now_disabled != before.disabled:
                action = "disabled" if now_disabled else "enabled"
            elif detail:
                action = "changed"
            else:
                return before
            await self._store(before.hall, after, now_disabled, by, action, detail)
        return self._account(username)

    async def reset_password(self, username: str, password: str, by: str) -> None:
        self._account(username)
        self.check_password(password)
        await self.set_password(username, password, by, action="password_reset")

    async def changes(self, hall: str, limit: int = 200) -> list[dict[str, Any]]:
        t = staff_changes
        query = select(t).where(t.c.hall == hall).order_by(t.c.id.desc()).limit(limit)
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [
            {"id": r.id, "username": r.username, "action": r.action, "detail": json.loads(r.detail), "at": r.at, "by": r.by}
            for r in rows
        ]

    def _account(self, username: str) -> Account:
        account = self.account(username)
        if account is None:
            raise NotFound("unknown-user", f"no account {username!r}")
        return account

    async def _store(
        self, hall: str, user: User, disabled: bool, by: str, action: str, detail: dict[str, Any], password_hash: str | None = None
    ) -> None:
        now = self.clock()
        async with self.engine.begin() as conn:
            if password_hash is not None:
                await conn.execute(delete(passwords).where(passwords.c.username == user.username))
                await conn.execute(
                    insert(passwords).values(username=user.username, hash=password_hash, updated_at=now, updated_by=by)
                )
            await conn.execute(delete(staff_accounts).where(staff_accounts.c.username == user.username))
            await conn.execute(
                insert(staff_accounts).values(
                    username=user.username, hall=hall, data=user.model_dump_json(), disabled=disabled, updated_at=now, updated_by=by
                )
            )
            await conn.execute(_change_row(hall, user.username, action, detail, now, by))
            if disabled:
                await conn.execute(delete(sessions).where(sessions.c.username == user.username))
        self._overlay[user.username] = (hall, user, disabled)
        self._rebuild()
        self._notify(hall)
        log.info("staff %s %s by %s", user.username, action, by)



def _insert_missing(conn: Any, table: Table, **values: Any) -> Any:
    """INSERT … ON CONFLICT DO NOTHING, which SQLite and PostgreSQL both do atomically."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    else:
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    return dialect_insert(table).values(**values).on_conflict_do_nothing()


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else getattr(value, "value", value)


def _fields(user: User) -> dict[str, Any]:
    return {k: _plain(v) for k, v in user.model_dump().items() if v not in (None, "", ())}


def _change_row(hall: str, username: str, action: str, detail: dict[str, Any], at: float, by: str) -> Any:
    return insert(staff_changes).values(
        hall=hall, username=username, action=action, detail=json.dumps(detail, ensure_ascii=False), at=at, by=by
    )


def new_password() -> str:
    """A password a manager reads out once: 12 characters without look-alikes (0/O, 1/l)."""
    alphabet = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "".join(secrets.choice(alphabet) for _ in range(12))
