"""decide(state, catalog, command, now) -> events: the one entry into the hall's rules.

Pure: no clock (`now` is given), no randomness (ids come in the command), no I/O. A refused
command raises a DomainError and changes nothing. Each rule module lists the commands it
decides (`WITH_CATALOG`, `STATE_ONLY`); this module only gathers those lists.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime

from . import admin, booking, dayend, ratings, supervision, tickets, windows
from . import commands as cmd
from .catalog import Catalog
from .errors import Conflict
from .events import Event
from .model import HallDay

_Decider = Callable[..., list[Event]]

# Counter and window work, 电子监察 (alerts, promised cases, bad reviews), 好差评 at the counter,
# 网上预约 and 远程取号, hall administration, 日终清号.
RULES = (tickets, windows, supervision, ratings, booking, admin, dayend)


def _gather(tables: list[Mapping[type[cmd.Command], _Decider]]) -> dict[type[cmd.Command], _Decider]:
    gathered: dict[type[cmd.Command], _Decider] = {}
    for table in tables:
        for kind, decider in table.items():
            if kind in gathered:
                raise TypeError(f"{kind.__name__} is decided twice: by {gathered[kind].__module__} and {decider.__module__}")
            gathered[kind] = decider
    return gathered


_WITH_CATALOG = _gather([m.WITH_CATALOG for m in RULES])
_STATE_ONLY = _gather([m.STATE_ONLY for m in RULES])
_gather([_WITH_CATALOG, _STATE_ONLY])  # no command in both

# What a closed-out day still takes, about its own tickets: a rating of a service finished late,
# a print that ended after midnight; cancel and arrival are refused by their own rules (not waiting).
# The late finish of a service that ran over midnight is decided on the day before
# (dayend.finish_late), chosen by the service with dayend.overnight_case.
AFTER_CLOSE_OUT = frozenset({cmd.CloseOutDay, cmd.Evaluate, cmd.RecordPrint, cmd.CancelTicket, cmd.ConfirmArrival})


def deciders() -> dict[type[cmd.Command], _Decider]:
    """Every command type with the function that decides it."""
    return {**_WITH_CATALOG, **_STATE_ONLY}


def decide(state: HallDay, catalog: Catalog, command: cmd.Command, now: datetime) -> list[Event]:
    kind = type(command)
    if state.closed_out_at is not None and kind not in AFTER_CLOSE_OUT:
        raise Conflict("day-closed", f"hall-day {state.day.isoformat()} has ended and was closed out")
    if kind in _WITH_CATALOG:
        return _WITH_CATALOG[kind](state, catalog, command, now)
    return _STATE_ONLY[kind](state, command, now)
