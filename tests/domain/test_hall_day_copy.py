"""A hall-day's copy (what a shared hall's writer goes back to after losing a race): equal to
the original, and nothing in it moves when the original folds on."""

from __future__ import annotations

from dataclasses import fields
from datetime import date

from server.config import default_config_dir, load_halls
from server.domain import events as ev
from server.domain.apply import apply
from server.domain.model import HallDay
from server.stats.simulate.day import DaySim
from server.stats.simulate.ledger import Ledger

DEMO = load_halls(default_config_dir())["demo"]
FRIDAY = date(2026, 11, 20)


def folded(events: list[ev.Event], upto: int) -> HallDay:
    state = HallDay(DEMO.hall.id, FRIDAY)
    for e in events[:upto]:
        apply(state, e)
    return state


def shared_parts(a: HallDay, b: HallDay) -> list[str]:
    """The mutable things the two hall-days hold in common (there must be none)."""
    out = []
    for f in fields(HallDay):
        x, y = getattr(a, f.name), getattr(b, f.name)
        if isinstance(x, (dict, set, list)) and x is y:
            out.append(f.name)
        if isinstance(x, dict):
            out += [f"{f.name}[{k}]" for k, v in x.items() if not isinstance(v, (str, int, float, tuple)) and v is y.get(k)]
    return out


def test_a_copy_taken_anywhere_in_a_busy_day_stays_as_it_was_and_folds_on_like_the_original():
    sim = DaySim(DEMO, FRIDAY, 1, 0.9, Ledger())
    sim.run()
    events = [ev.from_dict(e) for _, e in sim.out]
    assert len(events) > 2000
    whole = folded(events, len(events))
    for cut in range(0, len(events), len(events) // 7):
        original = folded(events, cut)
        copied = original.copy()
        assert copied == original and not shared_parts(original, copied)
        for e in events[cut:]:
            apply(original, e)
        assert copied == folded(events, cut), f"the copy taken at {cut} moved with the original"
        for e in events[cut:]:
            apply(copied, e)
        assert copied == whole == original
