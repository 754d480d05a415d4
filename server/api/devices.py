"""Registered devices over HTTP: register, claim the token, approve, revoke; and the check the
kiosk, screen, evaluator and print agent routes make when their hall requires devices.

A device sends its token in the `X-Device-Token` header, or as `?device=` on a websocket (a
browser cannot set a websocket's headers). Open websockets of a device are remembered, so a
revocation closes them (code 4401) at once on this worker and within SWEEP_S on the others.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable
from datetime import datetime
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from aiohttp import web
from pydantic import Field

from ..auth.devices import KINDS, KIOSK_KINDS, WINDOW_KINDS, Device, Devices, Kind
from ..domain.catalog import Action
from ..domain.errors import Forbidden, Invalid
from ..hall import HallService
from ..i18n import both
from . import models
from .context import CTX, Unauthorized, allowed, body, ctx, hall_of, json
from .openapi import contract
from .schemas import Out
from .security import Buckets

log = logging.getLogger("hallq.devices")
routes = web.RouteTableDef()

DEVICE_HEADER = "X-Device-Token"
REGISTER_LIMIT = web.AppKey("device-register-limit", Buckets)
SOCKETS = web.AppKey("device-sockets", dict)  # device id -> set of open websockets
REVOKED_CLOSE = 4401  # the close code a revoked device's websocket gets
SWEEP_S = 2.0
SEEN_EVERY = 15  # sweeps between notes of the connected devices' last_seen (30 s)
POLL_S = 2  # how often a waiting device asks for its token


class Registration(models.Body):
    kind: Kind
    place: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{0,40}$")] = ""  # the kiosk or window the device says it is
    name: Annotated[str, Field(max_length=80)] = ""


class Claim(models.Body):
    claim: Annotated[str, Field(min_length=16, max_length=100)]


class Approval(models.Body):
    code: Annotated[str, Field(pattern=r"^[0-9]{6}$")]
    name: Annotated[str, Field(min_length=1, max_length=80)]
    kiosk: models.Ref | None = None  # for a kiosk or print agent: which kiosk of kiosks.yaml
    window: models.Ref | None = None  # for a window screen or evaluator: which window


class DeviceOut(Out):
    id: str
    kind: Literal["kiosk", "lobby_screen", "window_screen", "evaluator", "print_agent"]
    status: Literal["pending", "approved", "revoked"]
    code: str
    name: str
    place: str
    kiosk: str | None
    window: str | None
    address: str
    registered_at: str
    approved_at: str | None
    approved_by: str | None
    token_claimed: bool
    revoked_at: str | None
    revoked_by: str | None
    last_seen: str | None


class Registered(Out):
    id: str
    kind: str
    place: str
    code: str
    claim: str
    status: Literal["pending"]
    poll_s: int


class Claimed(Out):
    status: Literal["pending", "approved"]
    code: str
    token: str | None = None
    device: DeviceOut | None = None


class DeviceSelf(Out):
    id: str
    hall: str
    kind: str
    name: str
    kiosk: str | None
    window: str | None


def _iso(at: float | None, tz: str) -> str | None:
    return None if at is None else datetime.fromtimestamp(at, ZoneInfo(tz)).isoformat(timespec="seconds")


def device_view(d: Device, tz: str) -> dict[str, Any]:
    return {
        "id": d.id, "kind": d.kind, "status": d.status, "code": d.code, "name": d.name, "place": d.place,
        "kiosk": d.kiosk, "window": d.window, "address": d.address, "registered_at": _iso(d.registered_at, tz),
        "approved_at": _iso(d.approved_at, tz), "approved_by": d.approved_by, "token_claimed": d.claimed_at is not None,
        "revoked_at": _iso(d.revoked_at, tz), "revoked_by": d.revoked_by, "last_seen": _iso(d.last_seen, tz),
    }


def store(request: web.Request) -> Devices:
    devices = ctx(request).devices
    assert devices is not None
    return devices


def device_token(request: web.Request) -> str | None:
    return (request.headers.get(DEVICE_HEADER) or request.query.get("device") or "").strip() or None


async def device(request: web.Request, hall: HallService, kinds: Iterable[str], bound: str | None = None) -> Device | None:
    """The approved device making this request, when its hall requires devices (None when it does
    not): 401 without a valid token, 403 for another hall's device, another kind, or one bound
    to another kiosk or window than `bound`."""
    if not hall.catalog.hall.devices.required:
        return None
    token = device_token(request)
    if token is None:
        raise Unauthorized("device-required", f"this hall serves registered devices only: send {DEVICE_HEADER}")
    found = await store(request).by_token(token)
    if found is None:
        raise Unauthorized("device-unknown", "this device token is unknown or revoked: register the device again")
    if found.hall != hall.hall:
        raise Forbidden("device-other-hall", "this device is registered in another hall")
    kinds = set(kinds)
    if found.kind not in kinds:
        raise Forbidden("device-kind", f"a {found.kind} may not do this (only {', '.join(sorted(kinds))})")
    if bound is not None and found.bound_to is not None and found.bound_to != bound:
        raise Forbidden("device-elsewhere", f"this device is approved for {found.bound_to!r}, not {bound!r}")
    return found


def page_device(hall: HallService, kind: str, place: str = "", name: str = "") -> dict[str, Any]:
    """What a device page's script needs to know: whether to register, as what, and where, and the
    registration screen's words in both languages (it must speak when the server cannot be reached)."""
    return {"required": hall.catalog.hall.devices.required, "kind": kind, "place": place, "name": name,
            "words": both("device")}


def remember(request: web.Request, found: Device | None, ws: web.WebSocketResponse) -> None:
    if found is not None:
        request.app[SOCKETS].setdefault(found.id, set()).add(ws)


def forget(request: web.Request, found: Device | None, ws: web.WebSocketResponse) -> None:
    if found is not None:
        sockets = request.app[SOCKETS].get(found.id)
        if sockets is not None:
            sockets.discard(ws)
            if not sockets:
                request.app[SOCKETS].pop(found.id, None)


async def close_sockets(app: web.Application, device_ids: Iterable[str]) -> None:
    for device_id in device_ids:
        for ws in list(app[SOCKETS].pop(device_id, ())):
            with contextlib.suppress(Exception):
                await ws.close(code=REVOKED_CLOSE, message=b"device revoked")


async def _manager(request: web.Request) -> tuple[HallService, str]:
    hall = hall_of(request)
    # Listing is reading; approving and revoking is managing.
    action = Action.read_records if request.method == "GET" else Action.manage_devices
    who = await allowed(request, action, hall)
    return hall, who.user.username


def _ttl(hall: HallService) -> int:
    return hall.catalog.hall.devices.pending_ttl_s


@routes.post("/api/v1/halls/{hall}/devices")
@contract("A device without a token registers: it shows the code and keeps the claim secret (rate-limited per address)",
          body=Registration, response=Registered, status=201, errors=(429,), tags=("devices",))
async def register(request: web.Request) -> web.Response:
    hall = hall_of(request)
    req = await body(request, Registration)
    await request.app[REGISTER_LIMIT].take(f"{hall.hall}|{request.remote}", what="registrations")
    if req.kind in KIOSK_KINDS and req.place and req.place not in hall.catalog.kiosks:
        raise Invalid("unknown-kiosk", f"no kiosk {req.place!r} in this hall")
    if req.kind in WINDOW_KINDS and req.place and req.place not in hall.catalog.windows:
        raise Invalid("unknown-window", f"no window {req.place!r} in this hall")
    found, claim = await store(request).register(hall.hall, req.kind, req.place, req.name, request.remote or "", _ttl(hall))
    log.info("device %s (%s at %r) registered from %s with code %s", found.id, found.kind, found.place, found.address, found.code)
    return json({"id": found.id, "kind": found.kind, "place": found.place, "code": found.code, "claim": claim,
                 "status": "pending", "poll_s": POLL_S}, status=201)


@routes.post("/api/v1/halls/{hall}/devices/{device}/claim")
@contract("The registered device asks for its token with its claim secret: pending, or the token, once",
          body=Claim, response=Claimed, errors=(409,), tags=("devices",))
async def claim(request: web.Request) -> web.Response:
    hall = hall_of(request)
    req = await body(request, Claim)
    found, token = await store(request).claim(hall.hall, request.match_info["device"], req.claim, _ttl(hall))
    if token is None:
        return json({"status": "pending", "code": found.code})
    log.info("device %s (%s) took its token", found.id, found.name)
    return json({"status": "approved", "code": found.code, "token": token,
                 "device": device_view(found, hall.catalog.hall.timezone)})


@routes.get("/api/v1/halls/{hall}/devices/self")
@contract("The device of the X-Device-Token header, as approved (401 once revoked)", response=DeviceSelf,
          auth="device", tags=("devices",))
async def whoami(request: web.Request) -> web.Response:
    hall = hall_of(request)
    token = device_token(request)
    found = await store(request).by_token(token) if token else None
    if found is None:
        raise Unauthorized("device-unknown", "this device token is unknown or revoked: register the device again")
    if found.hall != hall.hall:
        raise Forbidden("device-other-hall", "this device is registered in another hall")
    return json({"id": found.id, "hall": found.hall, "kind": found.kind, "name": found.name,
                 "kiosk": found.kiosk, "window": found.window})


@routes.get("/api/v1/halls/{hall}/devices")
@contract("Pending, approved and revoked devices, with who approved or revoked each and when", response=list[DeviceOut],
          auth="manager", tags=("devices",))
async def list_devices(request: web.Request) -> web.Response:
    hall, _ = await _manager(request)
    tz = hall.catalog.hall.timezone
    return json([device_view(d, tz) for d in await store(request).of_hall(hall.hall, _ttl(hall))])


@routes.post("/api/v1/halls/{hall}/devices/{device}/approve")
@contract("Approve a pending device by the code it shows, name it, and bind it to its kiosk or window",
          body=Approval, response=DeviceOut, auth="manager", errors=(409,), tags=("devices",))
async def approve(request: web.Request) -> web.Response:
    hall, by = await _manager(request)
    req = await body(request, Approval)
    found = await store(request).approve(hall.catalog, request.match_info["device"], req.code, req.name,
                                         req.kiosk or req.window, by, _ttl(hall))
    log.info("device %s approved as %r (%s %s) by %s", found.id, found.name, found.kind, found.bound_to or "", by)
    return json(device_view(found, hall.catalog.hall.timezone))


@routes.post("/api/v1/halls/{hall}/devices/{device}/revoke")
@contract("Revoke a device (or refuse a pending one): its token is refused and its websockets closed at once",
          body=models.Empty, response=DeviceOut, auth="manager", errors=(409,), tags=("devices",))
async def revoke(request: web.Request) -> web.Response:
    hall, by = await _manager(request)
    await body(request, models.Empty)
    found = await store(request).revoke(hall.hall, request.match_info["device"], by)
    await close_sockets(request.app, [found.id])
    log.info("device %s (%r) revoked by %s", found.id, found.name, by)
    return json(device_view(found, hall.catalog.hall.timezone))


async def sweep(app: web.Application) -> None:
    """Close the websockets of devices revoked on another worker; note connected devices as seen."""
    devices = app[CTX].devices
    assert devices is not None
    sweeps = 0
    while True:
        await asyncio.sleep(SWEEP_S)
        sweeps += 1
        try:
            gone = await devices.revoked_among(set(app[SOCKETS]))
            if gone:
                await close_sockets(app, gone)
            if sweeps % SEEN_EVERY == 0:
                await devices.seen(set(app[SOCKETS]))
        except Exception as exc:  # the database is away: try again at the next sweep
            log.warning("checking revoked devices failed: %r", exc)


def setup(app: web.Application, rate_per_s: float, burst: int) -> None:
    """The registration limit and the table of open sockets; `sweep` runs in the app's lifespan."""
    app[REGISTER_LIMIT] = Buckets(rate_per_s, burst)
    app[SOCKETS] = {}


__all__ = ["DEVICE_HEADER", "KINDS", "device", "setup", "sweep"]
