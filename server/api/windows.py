"""POST /api/v1/halls/{hall}/windows/{window}/{action}: the clerk's actions at the counter."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web
from pydantic import BaseModel

from ..domain import commands as cmd
from ..domain.access import require_window
from ..domain.errors import NotFound
from . import models
from .context import body, hall_of, json, staff
from .views import window_view

routes = web.RouteTableDef()


def _aware(value: datetime | None, tz: str) -> datetime | None:
    """A time without offset is read as the hall's local time."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=ZoneInfo(tz))
    return value


Build = Callable[[Any, str, str, str], cmd.WindowCommand]

ACTIONS: dict[str, tuple[type[BaseModel], Build]] = {
    "open": (models.Empty, lambda b, w, by, tz: cmd.OpenWindow(by=by, window=w)),
    "call-next": (models.Empty, lambda b, w, by, tz: cmd.CallNext(by=by, window=w)),
    "call": (models.CallTicket, lambda b, w, by, tz: cmd.CallTicket(by=by, window=w, ticket=b.ticket)),
    "recall": (models.Empty, lambda b, w, by, tz: cmd.Recall(by=by, window=w)),
    "start": (models.Empty, lambda b, w, by, tz: cmd.StartService(by=by, window=w)),
    "finish": (
        models.Finish,
        lambda b, w, by, tz: cmd.FinishService(
            by=by, window=w, case_type=b.case_type.value, outcome=b.outcome.value, missing=tuple(b.missing), note=b.note
        ),
    ),
    "no-show": (models.NoShow, lambda b, w, by, tz: cmd.NoShow(by=by, window=w, requeue=b.requeue)),
    "transfer": (models.Transfer, lambda b, w, by, tz: cmd.Transfer(by=by, window=w, to_item=b.item, to_window=b.window)),
    "suspend": (models.Suspend, lambda b, w, by, tz: cmd.Suspend(by=by, window=w, kind=b.kind.value)),
    "pause": (models.Pause, lambda b, w, by, tz: cmd.Pause(by=by, window=w, reason=b.reason, until=_aware(b.until, tz))),
    "resume": (models.Empty, lambda b, w, by, tz: cmd.Resume(by=by, window=w)),
    "close": (models.Empty, lambda b, w, by, tz: cmd.CloseWindow(by=by, window=w)),
    "handover": (models.Handover, lambda b, w, by, tz: cmd.Handover(by=by, window=w, to=b.to)),
}


def _window_id(request: web.Request) -> str:
    hall = hall_of(request)
    window = request.match_info["window"]
    if window not in hall.catalog.windows:
        raise NotFound("unknown-window", f"no window {window!r} in this hall")
    return window


@routes.get("/api/v1/halls/{hall}/windows")
async def list_windows(request: web.Request) -> web.Response:
    hall = hall_of(request)
    state = await hall.current()
    return json([window_view(state, hall.catalog, state.window(w)) for w in hall.catalog.windows])


@routes.get("/api/v1/halls/{hall}/windows/{window}")
async def read_window(request: web.Request) -> web.Response:
    hall = hall_of(request)
    window = _window_id(request)
    state = await hall.current()
    return json(window_view(state, hall.catalog, state.window(window)))


@routes.post("/api/v1/halls/{hall}/windows/{window}/{action}")
async def act(request: web.Request) -> web.Response:
    hall = hall_of(request)
    window = _window_id(request)
    action = request.match_info["action"]
    if action not in ACTIONS:
        raise NotFound("unknown-action", f"no window action {action!r}; one of {sorted(ACTIONS)}")
    who = await staff(request, hall.hall)
    require_window(who.user, hall.catalog, window)
    model, build = ACTIONS[action]
    req = await body(request, model)
    await hall.handle(build(req, window, who.user.username, hall.catalog.hall.timezone))
    return json(window_view(hall.state, hall.catalog, hall.state.window(window)))
