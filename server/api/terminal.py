"""What the clerk's terminal and the window's evaluator read and send, beyond the window actions:
the queue a window will call from, which actions the window takes now, and ratings."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from aiohttp import web
from pydantic import Field

from server.api import models
from server.api.context import Unauthorized, allowed, body, ctx, hall_of, json, resource
from server.api.devices import device, device_token
from server.api.openapi import contract
from server.api.boards import Duty
from server.api.schemas import Out, Window
from server.feed.views import iso, window_view
from server.auth import Staff
from server.auth.evaluators import EvaluatorSessions
from server.domain import commands as cmd
from server.domain import ratings
from server.domain.access import EVALUATOR, Actor, may, refusal
from server.domain.catalog import Action, Catalog
from server.domain.dayend import overnight_case
from server.domain.errors import Conflict, Forbidden, NotFound
from server.domain.model import HallDay, TicketStatus
from server.domain.tickets import print_flagged
from server.domain.policy import call_order, candidates
from server.domain.posts import duty, duty_view
from server.domain.windows import actions as window_actions
from server.hall import HallService

routes = web.RouteTableDef()

QUEUE_LIMIT = 50

def queue_view(state: HallDay, catalog: Catalog, window: str, now: datetime) -> dict[str, Any]:
    order = call_order(state, catalog, window, now, limit=QUEUE_LIMIT)
    suspended = [
        t for t in state.tickets.values() if t.status is TicketStatus.suspended and t.window == window
    ]
    suspended.sort(key=lambda t: t.suspended_at or now)
    return {
        "waiting": sum(1 for _ in candidates(state, catalog, window, now)),
        # Tickets by number (what `call` takes): the id is the holder's secret, never the clerk's.
        "queue": [
            {
                "number": t.number,
                "item": t.item,
                "item_name": catalog.items[t.item].name,
                "lane": lane.value,
                "priority": t.priority,
                "appointment": t.appointment is not None,
                "transferred": t.transfers > 0,
                "issued_at": iso(t.issued_at),
                "waited_s": int((now - t.queued_at).total_seconds()),
            }
            for t, lane in order
        ],
        "suspended": [
            {
                "number": t.number,
                "item": t.item,
                "item_name": catalog.items[t.item].name,
                "kind": t.suspend_kind.value if t.suspend_kind else None,
                "since": iso(t.suspended_at),
            }
            for t in suspended
        ],
    }


def item_view(catalog: Catalog, item_id: str) -> dict[str, Any]:
    item = catalog.items[item_id]
    return {
        "id": item.id,
        "name": item.name,
        "case_type": item.case_type.value,
        "materials": list(item.materials),
        "time_limit": item.publics.time_limit,
        "fee": item.publics.fee,
    }


def rateable_view(state: HallDay, window: str, now: datetime) -> dict[str, Any] | None:
    t = ratings.rateable_at(state, window, now)
    return None if t is None else {"number": t.number, "finished_at": iso(t.finished_at)}


async def _window_staff(request: web.Request, action: Action = Action.operate) -> tuple[HallService, str, Staff]:
    hall = hall_of(request)
    window = request.match_info["window"]
    if window not in hall.catalog.windows:
        raise NotFound("unknown-window", f"no window {window!r} in this hall")
    who = await allowed(request, action, hall, window)
    return hall, window, who


EVALUATOR_HEADER = "X-Evaluator-Token"


def evaluator_token(request: web.Request) -> str | None:
    return request.headers.get(EVALUATOR_HEADER, "").strip() or None


async def _evaluator(request: web.Request, rating: bool) -> tuple[HallService, str]:
    """The window's evaluator. A rating comes only from an evaluator credential, never from a
    member of staff's session (a clerk does not rate their own service): in a hall that requires
    devices, the evaluator device approved for this window; otherwise an evaluator session of
    this window. Reading the evaluator's state is also open to the window's staff."""
    hall = hall_of(request)
    window = request.match_info["window"]
    if window not in hall.catalog.windows:
        raise NotFound("unknown-window", f"no window {window!r} in this hall")
    if hall.catalog.hall.devices.required:
        if rating or device_token(request):
            found_device = await device(request, hall, {"evaluator"}, bound=window)
            assert found_device is not None
            _may_rate(Actor(EVALUATOR, found_device.hall, frozenset({found_device.window or window})), hall, window)
            return hall, window
    elif (token := evaluator_token(request)) is not None:
        found = await evaluators(request).get(token)
        if found is None:
            raise Unauthorized("evaluator-unknown", "this evaluator session has ended: open the evaluator again")
        if (found.hall, found.window) != (hall.hall, window):
            raise Forbidden("evaluator-elsewhere", f"this evaluator rates window {found.window!r}")
        _may_rate(Actor(EVALUATOR, found.hall, frozenset({found.window})), hall, window)
        return hall, window
    elif rating:
        raise Forbidden("evaluator-only", "ratings at a window come from its evaluator screen, not from a staff session")
    await _window_staff(request)
    return hall, window


def _may_rate(evaluator: Actor, hall: HallService, window: str) -> None:
    r = resource(hall, window)
    if not may(evaluator, Action.rate, r):
        raise refusal(evaluator, Action.rate, r)


def evaluators(request: web.Request) -> EvaluatorSessions:
    found = ctx(request).evaluators
    assert found is not None
    return found


class TerminalQueueRow(Out):
    number: str
    item: str
    item_name: str
    lane: Literal["appointment", "aged", "priority", "normal"]
    priority: bool
    appointment: bool
    transferred: bool
    issued_at: str
    waited_s: int


class TerminalSuspendedRow(Out):
    number: str
    item: str
    item_name: str
    kind: str | None
    since: str | None


class TerminalItem(Out):
    id: str
    name: str
    case_type: str
    materials: list[str]
    time_limit: str
    fee: str


class RateableTicket(Out):
    number: str
    finished_at: str | None


class OvernightCase(Out):
    """A service that ran over midnight at this window, still to be finished (日终 close-out)."""

    number: str
    item: str
    item_name: str


class TerminalQueue(Out):
    hall: str
    seq: int
    now: str
    window: dict[str, Any]
    item: TerminalItem | None
    waiting: int
    queue: list[TerminalQueueRow]
    suspended: list[TerminalSuspendedRow]
    actions: list[str]
    rateable: RateableTicket | None
    overnight: OvernightCase | None = None
    duty: Duty
    offered_to_me: bool  # AB岗: the window is offered to the clerk asking (take it over, or open it)


@routes.get("/api/v1/halls/{hall}/windows/{window}/queue")
@contract(
    "For the window's clerks: the tickets it will call, in call order (the first is what call-next calls), "
    "its suspended tickets, the current item's materials, and the actions its state allows now",
    response=TerminalQueue, auth="staff", tags=("windows",),
)
async def queue(request: web.Request) -> web.Response:
    hall, window, who = await _window_staff(request)
    state = await hall.current()
    catalog = hall.catalog
    now = hall.clock.now().astimezone(hall.tz)
    w = state.window(window)
    current = state.tickets[w.ticket] if w.ticket else None
    # The service that ran over midnight here: `finish` records it in its own day (server/hall/dayend.py).
    before = hall.day_before()
    late = overnight_case(before, state, window) if before is not None else None
    shown = current or late
    on_duty = duty(state, catalog, window, now)
    return json(
        {
            "hall": hall.hall,
            "seq": state.seq,
            "now": now.isoformat(),
            "window": window_view(state, catalog, w),
            "item": item_view(catalog, shown.item) if shown else None,
            **queue_view(state, catalog, window, now),
            # 补打: not a counter action of the window but the ticket's, offered while its print is flagged.
            "actions": window_actions(state, catalog, window, now)
            + (["reprint"] if current is not None and print_flagged(current) else [])
            + (["finish"] if late is not None else []),
            "rateable": rateable_view(state, window, now),
            "overnight": {"number": late.number, "item": late.item, "item_name": catalog.items[late.item].name} if late else None,
            "duty": duty_view(catalog, on_duty),
            "offered_to_me": on_duty.offer is not None and on_duty.offer.to == who.user.username,
        }
    )


Level = Annotated[int, Field(ge=1, le=5)]


class WindowRating(models.Body):
    number: Annotated[str, Field(min_length=2, max_length=8)]  # the number the evaluator showed
    score: Level
    efficiency: Level | None = None
    proficiency: Level | None = None
    attitude: Level | None = None
    reasons: Annotated[list[Annotated[str, Field(max_length=40)]], Field(max_length=len(ratings.REASONS))] = []
    comment: Annotated[str, Field(max_length=500)] = ""


class RatingAnswer(Out):
    number: str
    score: int


class EvaluatorState(Out):
    window: Window
    rateable: RateableTicket | None
    timeout_s: int


class EvaluationAsked(Out):
    number: str


@routes.get("/api/v1/halls/{hall}/windows/{window}/evaluation")
@contract("For the window's evaluator: the window as the citizen sees it, and the ticket it may rate now",
          response=EvaluatorState, auth="staff", tags=("evaluation",))
async def evaluator_state(request: web.Request) -> web.Response:
    hall, window = await _evaluator(request, rating=False)
    state = await hall.current()
    now = hall.clock.now().astimezone(hall.tz)
    return json(
        {
            "window": window_view(state, hall.catalog, state.window(window), public=True),
            "rateable": rateable_view(state, window, now),
            "timeout_s": ratings.EVALUATOR_PERIOD_S,
        }
    )


@routes.post("/api/v1/halls/{hall}/windows/{window}/evaluation")
@contract(
    "The window's evaluator rates the ticket the window served last (好差评, 一次一评): five levels, "
    "the three offline indicators, reasons when dissatisfied",
    body=WindowRating, response=RatingAnswer, status=201, auth="evaluator", errors=(409,), tags=("evaluation",),
)
async def rate_at_window(request: web.Request) -> web.Response:
    hall, window = await _evaluator(request, rating=True)
    req = await body(request, WindowRating)
    state = await hall.current()
    t = ratings.served_here(state, window, req.number)
    await hall.handle(
        cmd.Evaluate(
            by=f"evaluator-{window}",
            ticket=t.id,
            score=req.score,
            comment=req.comment,
            efficiency=req.efficiency,
            proficiency=req.proficiency,
            attitude=req.attitude,
            reasons=tuple(req.reasons),
            window=window,
        )
    )
    return json({"number": t.number, "score": req.score}, status=201)


class EvaluatorOpened(Out):
    token: str
    hall: str
    window: str
    expires_in_s: int


@routes.post("/api/v1/halls/{hall}/windows/{window}/evaluator-session")
@contract(
    "A manager of the hall (never the clerk it rates) opens the window's evaluator screen once: the answer's token (sent as "
    "X-Evaluator-Token) shows the window and submits ratings, nothing else, and outlives the clerk's logout",
    body=models.Empty, response=EvaluatorOpened, status=201, auth="staff", errors=(409,), tags=("evaluation",),
)
async def open_evaluator(request: web.Request) -> web.Response:
    hall, window, who = await _window_staff(request, Action.pair_evaluator)
    await body(request, models.Empty)
    if hall.catalog.hall.devices.required:
        raise Conflict("devices-required", "this hall's evaluators are registered devices: register this screen instead")
    store = evaluators(request)
    token = await store.open(hall.hall, window, who.user.username)
    return json({"token": token, "hall": hall.hall, "window": window, "expires_in_s": store.TTL_S}, status=201)


@routes.post("/api/v1/halls/{hall}/windows/{window}/evaluation/request")
@contract("The clerk asks the citizen to rate (主动邀评): the evaluator shows the rating again",
          body=models.Empty, response=EvaluationAsked, auth="staff", errors=(409,), tags=("evaluation",))
async def request_evaluation(request: web.Request) -> web.Response:
    hall, window, who = await _window_staff(request)
    await body(request, models.Empty)
    (asked,) = await hall.handle(cmd.RequestEvaluation(by=who.user.username, window=window))
    return json({"number": asked.number})  # type: ignore[attr-defined]
