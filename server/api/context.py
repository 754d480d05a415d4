"""What the handlers share: settings, the halls' services, accounts; and small request helpers."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from aiohttp import web
from pydantic import BaseModel

from ..auth import Accounts, Staff
from ..bus import Bus
from ..domain.catalog import Role
from ..domain.errors import DomainError, Forbidden, NotFound
from ..hall import Clock, HallService
from ..journal import Journal


@dataclass
class Settings:
    config_dir: Path
    data_dir: Path
    database_url: str | None = None
    always_open: bool = False  # ignore opening hours and holidays (demos, training, benchmarks)
    demo_password: str = "demo"
    clock: Clock | None = None  # tests give their own
    max_body_bytes: int = 64 * 1024


@dataclass
class Context:
    settings: Settings
    journal: Journal
    bus: Bus
    accounts: Accounts
    halls: dict[str, HallService] = field(default_factory=dict)


CTX = web.AppKey("hallq", Context)

M = TypeVar("M", bound=BaseModel)


class Unauthorized(DomainError):
    status = 401


def ctx(request: web.Request) -> Context:
    return request.app[CTX]


def hall_of(request: web.Request) -> HallService:
    hall_id = request.match_info["hall"]
    service = ctx(request).halls.get(hall_id)
    if service is None:
        raise NotFound("unknown-hall", f"no hall {hall_id!r}")
    return service


async def body(request: web.Request, model: type[M]) -> M:
    raw = await request.read()
    if not raw.strip():
        raw = b"{}"
    return model.model_validate_json(raw)


def bearer(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


async def staff(request: web.Request, hall: str | None = None) -> Staff:
    """The logged-in member of staff (401 without a valid token); 403 if bound to another hall."""
    token = bearer(request)
    who = await ctx(request).accounts.session(token) if token else None
    if who is None:
        raise Unauthorized("unauthorized", "log in first: Authorization: Bearer <token>")
    if hall is not None and who.hall != hall and who.user.role is not Role.admin:
        raise Forbidden("other-hall", f"{who.user.username} belongs to another hall")
    return who


def json(data: Any, status: int = 200) -> web.Response:
    import json as _json

    return web.Response(
        text=_json.dumps(data, ensure_ascii=False), status=status, content_type="application/json", charset="utf-8"
    )
