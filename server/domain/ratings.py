"""好差评 at the counter: the five levels, the three offline indicators, the reasons of a bad
rating, and which ticket a window's evaluator (评价器) may rate.

The one-rating-per-served-ticket rule (一次一评) stays in `tickets.evaluate`; `evaluate` here
runs it first and adds what a structured rating carries, with the same rules whichever the
channel (the window's evaluator or the mobile ticket page): a dissatisfied rating says why. A window's evaluator rates only the
ticket its window served last, for `EVALUATOR_PERIOD_S` after the service and until the window
starts serving the next citizen (whoever stands at the counter then would rate someone else's
service); later, the citizen rates from the mobile ticket page instead.

After the day of service (`evaluate_late`): the mobile ticket page still rates for
`supervision.rating_days` days after the ticket's day, and a promised case (承诺件) as long again
after its conclusion (办结) on a later day; still one rating per ticket, whichever day it was
given. The rating is journalled on the day it is given, naming the ticket's day and the window
and clerk of each part of the service (a transferred ticket has several), each credited with it.
"""

from __future__ import annotations

from collections.abc import Callable
import dataclasses
from datetime import date, datetime, timedelta

from . import commands as cmd
from . import events as ev
from . import tickets
from .catalog import Catalog
from .errors import Conflict, Invalid, NotFound
from .model import HallDay, Ticket, TicketStatus, WindowStatus

# The five levels of the national 好差评 scheme, best first.
LEVELS: dict[int, str] = {5: "非常满意", 4: "满意", 3: "基本满意", 2: "不满意", 1: "非常不满意"}
LEVELS_EN: dict[int, str] = {5: "Very satisfied", 4: "Satisfied", 3: "Fair", 2: "Dissatisfied", 1: "Very dissatisfied"}

# The three indicators of an offline (窗口) rating, each on the same five levels.
INDICATORS: dict[str, str] = {"efficiency": "服务效率", "proficiency": "服务水平", "attitude": "服务态度"}
INDICATORS_EN: dict[str, str] = {"efficiency": "Efficiency", "proficiency": "Proficiency", "attitude": "Attitude"}

# Why a citizen was not satisfied (差评原因).
REASONS: dict[str, str] = {
    "long_wait": "等候时间过长",
    "slow_service": "办理时间过长",
    "incomplete_notice": "未一次性告知所需材料",
    "repeated_visits": "多次跑动仍未办成",
    "not_proficient": "业务不熟练",
    "poor_attitude": "服务态度不好",
    "unclear_guide": "办事指南不清楚",
    "other": "其他",
}
REASONS_EN: dict[str, str] = {
    "long_wait": "Waited too long",
    "slow_service": "Service took too long",
    "incomplete_notice": "Missing materials not told at once",
    "repeated_visits": "Came several times, still not done",
    "not_proficient": "Clerk not proficient",
    "poor_attitude": "Poor attitude",
    "unclear_guide": "Guide unclear",
    "other": "Other",
}

BAD_AT_MOST = 2  # scores 1 and 2 are 差评: on the evaluator they say why
EVALUATOR_PERIOD_S = 600


def last_served(state: HallDay, window: str) -> Ticket | None:
    """The ticket this window finished last today, rated or not."""
    last: Ticket | None = None
    for t in state.tickets.values():
        if t.status is TicketStatus.done and t.window == window and t.finished_at is not None:
            if last is None or (t.finished_at, t.ordinal) > (last.finished_at, last.ordinal):  # type: ignore[operator]
                last = t
    return last


def _open_at_evaluator(state: HallDay, window: str, t: Ticket, now: datetime) -> None:
    """Refuse unless the window's evaluator may still rate `t` now."""
    if last_served(state, window) is not t:
        raise Conflict("rating-moved-on", f"ticket {t.number} is not the last one served at this window")
    w = state.window(window)
    if w.status is WindowStatus.serving and w.ticket not in (None, t.id):
        # The next citizen is at the counter and being served: the one served last has left, and
        # a rating given now would be the next citizen's rating of someone else's service.
        number = state.tickets[w.ticket].number
        raise Conflict("rating-moved-on", f"the window is serving {number} now: ticket {t.number} "
                       "is rated from the mobile ticket page", number=number)
    assert t.finished_at is not None
    if now - t.finished_at > timedelta(seconds=EVALUATOR_PERIOD_S):
        raise Conflict(
            "rating-closed",
            f"the evaluator rates for {EVALUATOR_PERIOD_S // 60} minutes after the service; "
            "the citizen can still rate from the mobile ticket page",
        )


def rateable_at(state: HallDay, window: str, now: datetime) -> Ticket | None:
    """The ticket the window's evaluator may rate now, if any."""
    t = last_served(state, window)
    if t is None or t.score is not None:
        return None
    try:
        _open_at_evaluator(state, window, t, now)
    except Conflict:
        return None
    return t


def served_here(state: HallDay, window: str, number: str) -> Ticket:
    """The ticket numbered `number` that this window served today (what its evaluator showed)."""
    for t in state.tickets.values():
        if t.number == number and t.window == window and t.status is TicketStatus.done:
            return t
    raise NotFound("unknown-ticket", f"window {window!r} has served no ticket {number!r} today")


def _check_structure(c: cmd.Evaluate | cmd.EvaluateLate) -> None:
    """The indicators and reasons of a structured rating, whichever the channel and the day."""
    for name in INDICATORS:
        value = getattr(c, name)
        if value is not None and not 1 <= value <= 5:
            raise Invalid("bad-indicator", f"{name} ({INDICATORS[name]}) is 1 to 5")
    unknown = [r for r in c.reasons if r not in REASONS]
    if unknown:
        raise Invalid("bad-reason", f"unknown reasons {unknown}; one of {list(REASONS)}")


def _says_why(c: cmd.Evaluate | cmd.EvaluateLate) -> None:
    """The same rule at the counter and on the phone: a dissatisfied rating says why."""
    if c.score <= BAD_AT_MOST and not (c.reasons or c.comment.strip()):
        raise Invalid("reasons-needed", "a dissatisfied rating (差评) says why: pick a reason")


def evaluate(state: HallDay, c: cmd.Evaluate, now: datetime) -> list[ev.Event]:
    """一次一评 (tickets.evaluate), plus the indicators and reasons of a structured rating."""
    events = tickets.evaluate(state, c, now)
    t = state.tickets[c.ticket]
    _check_structure(c)
    if c.window is not None:
        if t.window != c.window:
            raise Conflict("not-this-window", f"ticket {t.number} was not served at window {c.window!r}")
        _open_at_evaluator(state, c.window, t, now)
    _says_why(c)
    extra = {name: getattr(c, name) for name in INDICATORS}
    return [
        dataclasses.replace(e, **extra, reasons=tuple(dict.fromkeys(c.reasons))) if isinstance(e, ev.TicketEvaluated) else e
        for e in events
    ]


# ------------------------------------------------------------------ after the day of service


def rating_closes(served: cmd.ServedTicket, catalog: Catalog) -> date:
    """The last day a ticket of an earlier day may be rated: `rating_days` after its day, or after
    the conclusion of its promised case on a later day, whichever is later."""
    days = timedelta(days=catalog.hall.supervision.rating_days)
    last = served.served_on + days
    if served.concluded_on is not None:
        last = max(last, served.concluded_on + days)
    return last


def late_rating_open(served: cmd.ServedTicket, catalog: Catalog, today: date) -> bool:
    """Whether the mobile ticket page offers the rating of a ticket of an earlier day today."""
    return (served.status == TicketStatus.done.value and not served.rated and served.served_on < today
            and today <= rating_closes(served, catalog))


def evaluate_late(state: HallDay, catalog: Catalog, c: cmd.EvaluateLate, now: datetime) -> list[ev.Event]:
    """A rating, given today, of a ticket served on an earlier day (`state` is today's hall-day)."""
    s = c.served
    if not 1 <= c.score <= 5:
        raise Invalid("bad-score", "a score is 1 (very dissatisfied) to 5 (very satisfied)")
    _check_structure(c)
    if s.served_on >= state.day:
        raise Invalid("not-late", f"ticket {s.number} is of {s.served_on.isoformat()}: rate it as a ticket of today")
    if s.status != TicketStatus.done.value:
        raise Conflict("not-served", "a ticket can be rated once it has been served")
    if s.rated or s.ticket in state.rated_late:
        raise Conflict("already-rated", "this ticket has been rated already")
    closes = rating_closes(s, catalog)
    if state.day > closes:
        raise Conflict(
            "rating-closed",
            f"a service is rated up to {catalog.hall.supervision.rating_days} days after its day "
            f"(a promised case after its conclusion); this one closed on {closes.isoformat()}",
            closed_on=closes.isoformat(),
        )
    _says_why(c)
    return [
        ev.TicketRatedLate(
            at=now, by=c.by, ticket=s.ticket, served_on=s.served_on, number=s.number, item=s.item, channel=s.channel,
            appointment=s.appointment,
            finished_at=s.finished_at, parts=s.parts, score=c.score, comment=c.comment, efficiency=c.efficiency,
            proficiency=c.proficiency, attitude=c.attitude, reasons=tuple(dict.fromkeys(c.reasons)),
            concluded_on=s.concluded_on,
        )
    ]


def request_evaluation(state: HallDay, catalog: Catalog, c: cmd.RequestEvaluation, now: datetime) -> list[ev.Event]:
    """主动邀评: the clerk asks again for the rating of the ticket the window served last."""
    if c.window not in catalog.windows:
        raise NotFound("unknown-window", f"no window {c.window!r} in this hall")
    t = last_served(state, c.window)
    if t is None:
        raise Conflict("nothing-to-rate", "this window has served nobody today")
    if t.score is not None:
        raise Conflict("already-rated", f"ticket {t.number} has been rated already")
    current = state.window(c.window).ticket
    if current is not None and current != t.id:
        # The citizen at the counter now is not the one served last: asking would have them rate
        # someone else's service. Ask after finishing theirs.
        number = state.tickets[current].number
        raise Conflict("serving-another", f"the window is on {number} now; ask for a rating when it is finished",
                       number=number)
    _open_at_evaluator(state, c.window, t, now)
    return [ev.EvaluationRequested(at=now, by=c.by, window=c.window, ticket=t.id, number=t.number)]


# The commands decided here, gathered by server/domain/decide.py: (state, catalog, command, now)
# and (state, command, now).
WITH_CATALOG: dict[type[cmd.Command], Callable[..., list[ev.Event]]] = {
    cmd.RequestEvaluation: request_evaluation,
    cmd.EvaluateLate: evaluate_late,
}
STATE_ONLY: dict[type[cmd.Command], Callable[..., list[ev.Event]]] = {
    cmd.Evaluate: evaluate,
}
