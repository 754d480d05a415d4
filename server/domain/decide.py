"""decide(state, catalog, command, now) -> events: the one entry into the hall's rules.

Pure: no clock (`now` is given), no randomness (ids come in the command), no I/O. A refused
command raises a DomainError and changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from . import commands as cmd
from . import tickets, windows
from .catalog import Catalog
from .errors import Conflict
from .events import Event
from .model import HallDay

_Decider = Callable[..., list[Event]]

_WITH_CATALOG: dict[type[cmd.Command], _Decider] = {
    cmd.RegisterAppointment: tickets.register_appointment,
    cmd.IssueTicket: tickets.issue,
    cmd.OpenWindow: windows.open_window,
    cmd.CallNext: windows.call_next,
    cmd.CallTicket: windows.call_ticket,
    cmd.Recall: windows.recall,
    cmd.StartService: windows.start,
    cmd.FinishService: windows.finish,
    cmd.NoShow: windows.no_show,
    cmd.Transfer: windows.transfer,
    cmd.Suspend: windows.suspend,
    cmd.Pause: windows.pause,
    cmd.Resume: windows.resume,
    cmd.CloseWindow: windows.close,
    cmd.Handover: windows.handover,
}

_STATE_ONLY: dict[type[cmd.Command], _Decider] = {
    cmd.RecordPrint: tickets.record_print,
    cmd.CancelTicket: tickets.cancel,
    cmd.Evaluate: tickets.evaluate,
}


def decide(state: HallDay, catalog: Catalog, command: cmd.Command, now: datetime) -> list[Event]:
    kind = type(command)
    if state.closed_out_at is not None and kind not in AFTER_CLOSE_OUT:
        raise Conflict("day-closed", f"hall-day {state.day.isoformat()} has ended and was closed out")
    if kind in _WITH_CATALOG:
        return _WITH_CATALOG[kind](state, catalog, command, now)
    return _STATE_ONLY[kind](state, command, now)


# 电子监察 (e-supervision): alerts, promised cases, bad reviews (server/domain/supervision.py).
from . import supervision  # noqa: E402

_WITH_CATALOG.update(
    {
        cmd.Supervise: supervision.sweep,
        cmd.ConcludeCase: supervision.conclude_case,
        cmd.RecordReviewStep: supervision.record_review_step,
    }
)

# 好差评 at the counter (server/domain/ratings.py): structured ratings and the clerk's request.
from . import ratings  # noqa: E402

_STATE_ONLY[cmd.Evaluate] = ratings.evaluate
_WITH_CATALOG[cmd.RequestEvaluation] = ratings.request_evaluation

# 网上预约 and 远程取号 (server/domain/booking.py): bookings, their changes, no-shows, arrivals.
from . import booking  # noqa: E402

_WITH_CATALOG.update(
    {
        cmd.BookAppointment: booking.book,
        cmd.RescheduleAppointment: booking.reschedule,
        cmd.CancelAppointment: booking.cancel,
        cmd.ReleaseMissed: booking.release_missed,
    }
)
_STATE_ONLY[cmd.ConfirmArrival] = booking.confirm_arrival


# Hall administration (server/domain/admin.py): a new catalogue revision, recorded in the stream.
from . import admin  # noqa: E402

_STATE_ONLY[cmd.RecordCatalogChange] = admin.record_change
_STATE_ONLY[cmd.RecordCatalogWithdrawal] = admin.record_withdrawal


# 日终清号 (server/domain/dayend.py): the day change closes out what is open and carries the
# open windows over. The late finish of a service that ran over midnight is decided on the day
# before (dayend.finish_late), chosen by the service with dayend.overnight_case.
from . import dayend  # noqa: E402

_WITH_CATALOG[cmd.CloseOutDay] = dayend.close_out
_WITH_CATALOG[cmd.CarryOverWindows] = dayend.carry_over
# What a closed-out day still takes, about its own tickets: a rating of a service finished late,
# a print that ended after midnight; cancel and arrival are refused by their own rules (not waiting).
AFTER_CLOSE_OUT = frozenset({cmd.CloseOutDay, cmd.Evaluate, cmd.RecordPrint, cmd.CancelTicket, cmd.ConfirmArrival})
