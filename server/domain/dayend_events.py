"""Events of the day change (日终清号, server/domain/dayend.py), registered with the others.

Kept beside server/domain/events.py, which imports this module at its end: whoever decodes
the journal knows these types.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from .events import EVENT_TYPES, Event, ServiceFinished


@dataclass(frozen=True, kw_only=True, slots=True)
class TicketClosedOut(Event):
    """The hall-day ended with the ticket still open: it is void from then on, never lost.

    `status` is where it stood at the day's end (waiting, called, serving, suspended), `window`
    and `clerk` who held it then, so the record says which service ran over midnight.
    """

    type: ClassVar[str] = "ticket_closed_out"
    ticket: str
    number: str
    item: str
    status: str
    window: str | None = None
    clerk: str | None = None
    reason: str = "day_ended"


@dataclass(frozen=True, kw_only=True, slots=True)
class DayClosedOut(Event):
    """The last event of a closed hall-day: what it closed out, and the windows it left open.

    `at` is the day's end (midnight); `recorded_at` when the server got to it (later after a
    restart across midnight). Its presence is what makes the close-out happen once.
    """

    type: ClassVar[str] = "day_closed_out"
    tickets: int
    windows: tuple[str, ...] = ()  # open at the day's end, each closed by a window_closed before this
    recorded_at: datetime | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class ServiceFinishedLate(ServiceFinished):
    """办结 of a service that ran over midnight: the clerk finished it after its ticket was closed
    out. Journalled in the ticket's own (earlier) hall-day, so its case type and outcome count
    there; the window of the new day is not touched."""

    type: ClassVar[str] = "service_finished_late"


EVENT_TYPES.update({cls.type: cls for cls in (TicketClosedOut, DayClosedOut, ServiceFinishedLate)})
