"""POST /api/v1/auth/login and /logout."""

from __future__ import annotations

import logging

from aiohttp import web

from . import models
from .context import Unauthorized, bearer, body, ctx, json

log = logging.getLogger("hallq.auth")
routes = web.RouteTableDef()


@routes.post("/api/v1/auth/login")
async def login(request: web.Request) -> web.Response:
    creds = await body(request, models.Login)
    accounts = ctx(request).accounts
    who = await accounts.verify(creds.username, creds.password)
    if who is None:
        log.info("failed login for %r from %s", creds.username, request.remote)
        raise Unauthorized("bad-credentials", "wrong username or password")
    token = await accounts.open_session(who)
    log.info("login %s (%s) from %s", who.user.username, who.user.role.value, request.remote)
    return json(
        {
            "token": token,
            "username": who.user.username,
            "name": who.user.name,
            "role": who.user.role.value,
            "hall": who.hall,
            "windows": list(who.user.windows),
            "post": who.user.post,
            "expires_in_s": accounts.SESSION_TTL_S,
        }
    )


@routes.post("/api/v1/auth/logout")
async def logout(request: web.Request) -> web.Response:
    token = bearer(request)
    if token is None or await ctx(request).accounts.session(token) is None:
        raise Unauthorized("unauthorized", "no valid session to end")
    await ctx(request).accounts.close_session(token)
    return web.Response(status=204)
