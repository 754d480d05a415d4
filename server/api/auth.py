"""Logging in and out (bearer tokens for the API, session cookies for pages), and the staff
accounts managers keep: add, change, disable, reset a password. Every change is recorded."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from aiohttp import web
from pydantic import Field

from ..auth import Account, Locked, Staff, csrf_token, new_password
from ..domain.access import require_manage, windows_of
from ..domain.catalog import Action, Role, User
from ..domain.errors import Conflict, Forbidden, NotFound
from . import models
from .openapi import contract
from .schemas import Out
from ..feed.views import user_view
from .context import (
    Unauthorized,
    allowed,
    bearer,
    body,
    check_csrf,
    clear_session_cookie,
    cookie_token,
    ctx,
    hall_of,
    json,
    same_origin,
    set_session_cookie,
    staff,
)
from .errors import problem

log = logging.getLogger("hallq.auth")
routes = web.RouteTableDef()

Username = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_.-]{1,39}$")]
Password = Annotated[str, Field(min_length=1, max_length=200)]
Ref = Annotated[str, Field(min_length=1, max_length=40)]


class NewAccount(models.Body):
    username: Username
    name: Annotated[str, Field(min_length=1, max_length=40)]
    staff_no: Annotated[str, Field(max_length=20)] = ""
    role: Role
    windows: Annotated[list[Ref], Field(max_length=50)] = []
    post: Literal["A", "B"] | None = None
    department: Ref | None = None
    password: Password | None = None  # none: the server makes one and answers it once


class AccountChange(models.Body):
    name: Annotated[str, Field(min_length=1, max_length=40)] | None = None
    staff_no: Annotated[str, Field(max_length=20)] | None = None
    role: Role | None = None
    windows: Annotated[list[Ref], Field(max_length=50)] | None = None
    post: Literal["A", "B"] | None = None
    department: Ref | None = None
    disabled: bool | None = None


class PasswordReset(models.Body):
    password: Password | None = None


class Whoami(Out):
    username: str
    name: str
    staff_no: str
    role: Literal["clerk", "chief", "manager", "admin"]
    hall: str
    windows: list[str]
    post: Literal["A", "B"] | None


class LoginAnswer(Whoami):
    token: str
    expires_in_s: int


class PageSession(Whoami):
    csrf: str
    expires_in_s: int


class SessionInfo(Whoami):
    may_act_on: list[str] = []
    csrf: str | None = None


class AccountOut(Out):
    username: str
    name: str
    staff_no: str
    role: Literal["clerk", "chief", "manager", "admin"]
    windows: list[str]
    post: Literal["A", "B"] | None
    department: str | None
    disabled: bool
    changed: bool
    locked_until: str | None
    password: str | None = None


class StaffChange(Out):
    id: int
    username: str
    action: Literal["added", "changed", "disabled", "enabled", "password_reset", "password_set"]
    detail: dict[str, Any]
    at: str
    by: str


class PasswordAnswer(Out):
    username: str
    sessions_ended: bool
    password: str | None = None


def _whoami(who: Staff) -> dict[str, Any]:
    return {
        "username": who.user.username,
        "name": who.user.name,
        "staff_no": who.user.staff_no,
        "role": who.user.role.value,
        "hall": who.hall,
        "windows": list(who.user.windows),
        "post": who.user.post,
    }


def _name_for_log(accounts: Any, username: str) -> str:
    """What a log line may say of a typed username: an account's name, never other text (it may
    be a password typed into the wrong field)."""
    return repr(username) if accounts.account(username) is not None else "an unknown username"


async def _login(request: web.Request, creds: models.Login) -> Staff | web.Response:
    accounts = ctx(request).accounts
    try:
        who = await accounts.login(creds.username, creds.password)
    except Locked as exc:
        log.info("locked login for %s from %s", _name_for_log(accounts, creds.username), request.remote)
        resp = problem(
            429, "locked", "Too many failed logins",
            f"this account is locked after {accounts.MAX_FAILURES} failed logins; try again in {exc.retry_after} s",
            retry_after_s=exc.retry_after,
        )
        resp.headers["Retry-After"] = str(exc.retry_after)
        return resp
    if who is None:
        log.info("failed login for %s from %s", _name_for_log(accounts, creds.username), request.remote)
        raise Unauthorized("bad-credentials", "wrong username or password")
    log.info("login %s (%s) from %s", who.user.username, who.user.role.value, request.remote)
    return who


@routes.post("/api/v1/auth/login")
@contract("Log in for a bearer token (5 failures in 15 min lock the username for 15 min: 429)", body=models.Login, response=LoginAnswer, errors=(401, 429), tags=("auth",))
async def login(request: web.Request) -> web.Response:
    """For API clients: a bearer token."""
    result = await _login(request, await body(request, models.Login))
    if isinstance(result, web.Response):
        return result
    accounts = ctx(request).accounts
    token = await accounts.open_session(result)
    return json({"token": token, **_whoami(result), "expires_in_s": accounts.SESSION_TTL_S})


@routes.post("/api/v1/auth/session")
@contract("Log in a page: an HttpOnly SameSite=Strict session cookie, and its CSRF token", body=models.Login, response=PageSession, errors=(401, 403, 429), tags=("auth",))
async def open_page_session(request: web.Request) -> web.Response:
    """For pages: the session goes into an HttpOnly cookie; the answer carries its CSRF token."""
    if not same_origin(request):
        raise Forbidden("csrf", "log in from this server's own pages")
    result = await _login(request, await body(request, models.Login))
    if isinstance(result, web.Response):
        return result
    accounts = ctx(request).accounts
    token = await accounts.open_session(result)
    resp = json({**_whoami(result), "csrf": csrf_token(token), "expires_in_s": accounts.SESSION_TTL_S})
    set_session_cookie(resp, request, token, accounts.SESSION_TTL_S)
    return resp


@routes.get("/api/v1/auth/session")
@contract("Who is logged in (bearer or cookie); a cookie session also gets its CSRF token", response=SessionInfo, auth="staff", tags=("auth",))
async def read_session(request: web.Request) -> web.Response:
    who = await staff(request)
    token = bearer(request) or cookie_token(request)
    assert token is not None
    out = _whoami(who)
    service = ctx(request).halls.get(who.hall)
    if service is not None:
        out["may_act_on"] = windows_of(who.user, service.catalog)
    if bearer(request) is None:
        out["csrf"] = csrf_token(token)
    return json(out)


@routes.post("/api/v1/auth/logout")
@contract("End the session (bearer, or cookie with X-CSRF-Token)", response=None, status=204, auth="staff", tags=("auth",))
async def logout(request: web.Request) -> web.Response:
    accounts = ctx(request).accounts
    token = bearer(request)
    via_cookie = token is None
    token = token or cookie_token(request)
    if token is None or await accounts.session(token) is None:
        raise Unauthorized("unauthorized", "no valid session to end")
    if via_cookie:
        check_csrf(request, token)
    await accounts.close_session(token)
    resp = web.Response(status=204)
    if via_cookie:
        clear_session_cookie(resp, request)
    return resp


# -- staff accounts (managers, admin) ------------------------------------------------------------


def _iso(at: float, tz: str) -> str:
    return datetime.fromtimestamp(at, ZoneInfo(tz)).isoformat(timespec="seconds")


def account_view(a: Account, locked_until: float | None, tz: str) -> dict[str, Any]:
    return {
        **user_view(a.user),
        "disabled": a.disabled,
        "changed": a.changed,  # changed in the browser: the database overrides users.yaml for it
        "locked_until": _iso(locked_until, tz) if locked_until else None,
    }


async def _manager(request: web.Request) -> tuple[Any, Staff]:
    hall = hall_of(request)
    # Listing accounts and their changes is reading; adding, changing and resetting is managing.
    who = await allowed(request, Action.read_records if request.method == "GET" else Action.manage_staff, hall)
    return hall, who


def _account_in(request: web.Request, hall: str) -> Account:
    username = request.match_info["username"]
    account = ctx(request).accounts.account(username)
    if account is None or account.hall != hall:
        raise NotFound("unknown-user", f"no account {username!r} in this hall")
    return account


async def _view(request: web.Request, a: Account, tz: str) -> dict[str, Any]:
    return account_view(a, await ctx(request).accounts.locked_until(a.user.username), tz)


@routes.get("/api/v1/halls/{hall}/staff")
@contract("Every staff account of the hall, disabled ones included", response=list[AccountOut], auth="manager", tags=("staff",))
async def list_staff(request: web.Request) -> web.Response:
    hall, _ = await _manager(request)
    tz = hall.catalog.hall.timezone
    return json([await _view(request, a, tz) for a in ctx(request).accounts.accounts_of(hall.hall)])


@routes.get("/api/v1/halls/{hall}/staff/changes")
@contract("Who changed which account, and when (newest first)", response=list[StaffChange], auth="manager", tags=("staff",))
async def staff_changes(request: web.Request) -> web.Response:
    hall, _ = await _manager(request)
    tz = hall.catalog.hall.timezone
    rows = await ctx(request).accounts.changes(hall.hall)
    return json([{**r, "at": _iso(r["at"], tz)} for r in rows])


@routes.post("/api/v1/halls/{hall}/staff")
@contract("Add an account (a generated password is answered once)", body=NewAccount, response=AccountOut, status=201, auth="manager", errors=(409,), tags=("staff",))
async def add_staff(request: web.Request) -> web.Response:
    hall, who = await _manager(request)
    req = await body(request, NewAccount)
    user = User.model_validate(req.model_dump(exclude={"password"}))
    require_manage(who.user, user)
    password = req.password or new_password()
    account = await ctx(request).accounts.add(hall.hall, user, password, by=who.user.username)
    out = await _view(request, account, hall.catalog.hall.timezone)
    if req.password is None:
        out["password"] = password  # shown once, to the manager who hands it over
    return json(out, status=201)


@routes.patch("/api/v1/halls/{hall}/staff/{username}")
@contract("Change, re-assign, disable or enable an account", body=AccountChange, response=AccountOut, auth="manager", errors=(409,), tags=("staff",))
async def change_staff(request: web.Request) -> web.Response:
    hall, who = await _manager(request)
    before = _account_in(request, hall.hall)
    req = await body(request, AccountChange)
    fields = req.model_dump(exclude_unset=True, exclude={"disabled"})
    after = User.model_validate(before.user.model_dump() | fields)
    require_manage(who.user, before.user, after)
    if req.disabled and before.user.username == who.user.username:
        raise Conflict("disable-self", "nobody disables their own account")
    account = await ctx(request).accounts.change(before.user.username, who.user.username, disabled=req.disabled, **fields)
    return json(await _view(request, account, hall.catalog.hall.timezone))


@routes.post("/api/v1/halls/{hall}/staff/{username}/password")
@contract("Reset a password: ends the account's sessions and lifts a lock-out", body=PasswordReset, response=PasswordAnswer, auth="manager", tags=("staff",))
async def reset_password(request: web.Request) -> web.Response:
    hall, who = await _manager(request)
    account = _account_in(request, hall.hall)
    require_manage(who.user, account.user)
    req = await body(request, PasswordReset)
    password = req.password or new_password()
    await ctx(request).accounts.reset_password(account.user.username, password, by=who.user.username)
    out: dict[str, Any] = {"username": account.user.username, "sessions_ended": True}
    if req.password is None:
        out["password"] = password
    return json(out)
