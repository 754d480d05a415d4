"""What the hall service hands its callers to render: the outcome of a command, as view objects.

Handlers never reach into the service's fold or its journal: they get the events a command
decided and the hall-day it was decided on from here, and a day's events from the service's
queries (`HallService.events`)."""

from __future__ import annotations

from dataclasses import dataclass

from ..domain import events as ev
from ..domain.model import HallDay, Ticket, WindowState


@dataclass(frozen=True, slots=True)
class Outcome:
    """A command's events, stored, and the hall-day they were decided on: today's, or the day
    before's for a late command about one of its tickets (a rating, a cancel after midnight)."""

    events: list[ev.Event]
    hall_day: HallDay

    def ticket(self, ticket_id: str) -> Ticket:
        return self.hall_day.tickets[ticket_id]

    def window(self, window_id: str) -> WindowState:
        return self.hall_day.window(window_id)
