"""POST /api/v1/halls/{hall}/windows/{window}/{action}: the clerk's actions at the counter."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web
from pydantic import BaseModel

from ..domain import commands as cmd
from ..domain.catalog import Action
from ..domain.errors import NotFound
from ..domain.windows import check_on_duty
from . import models, schemas
from .context import allowed, body, hall_of, json
from .openapi import contract
from ..feed.views import window_view

routes = web.RouteTableDef()


def _aware(value: datetime | None, tz: str) -> datetime | None:
    """A time in the hall's local time: one without offset is read as such, one with another
    offset is converted (screens show a return time as its clock digits, HH:MM of the ISO text)."""
    if value is None:
        return None
    return value.replace(tzinfo=ZoneInfo(tz)) if value.tzinfo is None else value.astimezone(ZoneInfo(tz))


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
@contract("Every window's state, current ticket (number only) and clerk", response=list[schemas.Window], tags=("windows",))
async def list_windows(request: web.Request) -> web.Response:
    hall = hall_of(request)
    state = await hall.current()
    return json([window_view(state, hall.catalog, state.window(w), public=True) for w in hall.catalog.windows])


@routes.get("/api/v1/halls/{hall}/windows/{window}")
@contract("One window's state", response=schemas.Window, tags=("windows",))
async def read_window(request: web.Request) -> web.Response:
    hall = hall_of(request)
    window = _window_id(request)
    state = await hall.current()
    return json(window_view(state, hall.catalog, state.window(window), public=True))


SUMMARIES = {
    "open": "Open the window (the clerk signs in at it)",
    "call-next": "Call the next ticket by the call policy (ticket null when nobody waits)",
    "call": "Call a chosen waiting or suspended ticket (指呼)",
    "recall": "Call the current ticket again (重呼)",
    "start": "Start serving the called citizen",
    "finish": "Finish with a case type and outcome (四件管理, 一次性告知)",
    "no-show": "Mark the called ticket as not come (过号), optionally re-queued",
    "transfer": "Transfer the ticket to another item or window, keeping its place",
    "suspend": "Suspend the service (挂起) and free the window",
    "pause": "Pause with a leave notice (离岗告示)",
    "resume": "Resume after a pause",
    "close": "Close the window",
    "handover": "Hand the window to the other post (AB岗)",
}


def _action(name: str, model: type[BaseModel], build: Build):  # type: ignore[no-untyped-def]
    @contract(SUMMARIES[name], body=model, response=schemas.Window, auth="staff", errors=(409,), tags=("windows",))
    async def act(request: web.Request) -> web.Response:
        hall = hall_of(request)
        window = _window_id(request)
        who = await allowed(request, Action.operate, hall, window)
        req = await body(request, model)
        check_on_duty(await hall.current(), hall.catalog, window, who.user, name)  # AB岗: after a hand-over
        done = await hall.answer(build(req, window, who.user.username, hall.catalog.hall.timezone))
        return json(window_view(done.hall_day, hall.catalog, done.window(window)))

    return act


for _name, (_model, _build) in ACTIONS.items():
    routes.post(f"/api/v1/halls/{{hall}}/windows/{{window}}/{_name}")(_action(_name, _model, _build))
