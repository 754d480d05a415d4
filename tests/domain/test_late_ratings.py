"""好差评 after the day of service (server/domain/ratings.py, `evaluate_late`): the rating window,
a promised case after its conclusion, one rating per ticket across days, every part credited."""

from __future__ import annotations

import dataclasses
import json
from datetime import date, timedelta

import pytest
from pydantic import ValidationError

from server.domain import commands as c
from server.domain import events as ev
from server.domain.catalog import Catalog
from server.domain.errors import Conflict, Invalid
from server.domain.model import HallDay
from server.domain.ratings import late_rating_open, rating_closes
from tests.halls import MORNING, Engine, FakeClock, small_catalog, small_config

DAY = MORNING.date()


def served(**kw: object) -> c.ServedTicket:
    base = dict(
        ticket="t1", served_on=DAY, number="A001", item="a1", channel="kiosk", appointment=False, status="done",
        finished_at=MORNING + timedelta(minutes=10), case_type="immediate", parts=(("w1", "w1a"),), rated=False,
    )
    return c.ServedTicket(**{**base, **kw})  # type: ignore[arg-type]


def later(days: int, catalog: Catalog | None = None) -> Engine:
    """The pure core on the hall-day `days` after DAY."""
    return Engine(catalog or small_catalog(), FakeClock(MORNING + timedelta(days=days)))


def rate(e: Engine, s: c.ServedTicket, score: int = 5, **kw: object) -> list[ev.Event]:
    return e.do(c.EvaluateLate(by="holder", served=s, score=score, **kw))  # type: ignore[arg-type]


def test_a_ticket_is_rated_the_next_day_on_the_next_days_stream_naming_its_day_and_server():
    e = later(1)
    (rated,) = rate(e, served(), 4, comment="很好")
    assert isinstance(rated, ev.TicketRatedLate)
    assert (rated.ticket, rated.served_on, rated.parts, rated.score, rated.comment) == ("t1", DAY, (("w1", "w1a"),), 4, "很好")
    assert rated.at == e.clock.now() and "t1" in e.state.rated_late
    with pytest.raises(Conflict, match="rated already"):  # 一次一评, also twice on the same later day
        rate(e, served(), 5)


def test_the_rating_closes_after_the_configured_days():
    catalog = small_catalog(supervision={"rating_days": 3})
    assert rating_closes(served(), catalog) == DAY + timedelta(days=3)
    (rated,) = rate(later(3, catalog), served())
    assert rated.score == 5
    with pytest.raises(Conflict, match="rated up to 3 days") as refused:
        rate(later(4, catalog), served())
    assert refused.value.code == "rating-closed" and refused.value.extra == {"closed_on": (DAY + timedelta(days=3)).isoformat()}
    none = small_catalog(supervision={"rating_days": 0})  # 0: the day of service only, as before
    with pytest.raises(Conflict, match="rating-closed|rated up to 0 days"):
        rate(later(1, none), served())


def test_a_promised_case_is_rated_after_its_conclusion_on_a_later_day():
    catalog = small_catalog(supervision={"rating_days": 2})
    case = served(case_type="promised", item="a2", number="B001")
    with pytest.raises(Conflict, match="rating-closed|rated up to"):
        rate(later(9, catalog), case)  # not concluded yet, and long after its day
    concluded = dataclasses.replace(case, concluded_on=DAY + timedelta(days=8))
    assert rating_closes(concluded, catalog) == DAY + timedelta(days=10)
    assert late_rating_open(concluded, catalog, DAY + timedelta(days=9))
    (rated,) = rate(later(9, catalog), concluded, 5)
    assert rated.concluded_on == DAY + timedelta(days=8)
    with pytest.raises(Conflict, match="rated up to"):
        rate(later(11, catalog), concluded)
    assert not late_rating_open(concluded, catalog, DAY + timedelta(days=11))


def test_one_rating_per_ticket_across_days():
    with pytest.raises(Conflict, match="rated already"):
        rate(later(2), served(rated=True))  # rated on its day, or late on a day before this one
    assert not late_rating_open(served(rated=True), small_catalog(), DAY + timedelta(days=1))


def test_only_a_served_ticket_of_an_earlier_day_is_rated_late():
    for status in ("closed_out", "no_show", "cancelled"):
        with pytest.raises(Conflict, match="once it has been served"):
            rate(later(1), served(status=status))
    with pytest.raises(Invalid, match="as a ticket of today"):
        rate(later(0), served())


def test_bad_input_is_refused_and_nothing_is_decided():
    e = later(1)
    for kw in ({"score": 0}, {"score": 6}, {"score": 5, "attitude": 9}, {"score": 5, "reasons": ("nonsense",)},
               {"score": 1}):  # a dissatisfied rating says why
        with pytest.raises(Invalid):
            rate(e, served(), **kw)  # type: ignore[arg-type]
    assert e.log == [] and e.state.rated_late == set()
    (rated,) = rate(e, served(), 1, reasons=("poor_attitude", "poor_attitude"), attitude=1)
    assert (rated.reasons, rated.attitude) == (("poor_attitude",), 1)


def test_the_rating_days_setting_has_limits():
    for bad in (-1, 31):
        with pytest.raises(ValidationError):
            small_config(supervision={"rating_days": bad})
    schema = Catalog(small_config()).config.hall.model_json_schema()
    field = schema["$defs"]["Supervision"]["properties"]["rating_days"]
    assert (field["minimum"], field["maximum"], field["default"]) == (0, 30, 7)


def test_a_transferred_ticket_remembers_who_served_each_part():
    e = Engine()
    for w in ("w1", "w3"):
        e.act(c.OpenWindow, w)
    t = e.issue("a2")
    e.call_next("w1")
    e.act(c.StartService, "w1")
    e.act(c.Transfer, "w1", to_window="w3")
    e.call_next("w3")
    e.act(c.StartService, "w3")
    e.act(c.Suspend, "w3", kind="fetching_materials")
    e.act(c.CallTicket, "w3", ticket=t.id)
    e.act(c.StartService, "w3")  # the same part again: counted once
    e.act(c.FinishService, "w3", case_type="promised")
    assert t.served_by == (("w1", "w1a"), ("w3", "w3a"))


def test_the_late_rating_round_trips_through_the_codec_and_json():
    (rated,) = rate(later(1), served(parts=(("w1", "w1a"), ("w3", None)), concluded_on=DAY), 3)
    stored = json.loads(json.dumps(ev.to_dict(rated)))
    assert stored["parts"] == [["w1", "w1a"], ["w3", None]] and stored["served_on"] == DAY.isoformat()
    assert ev.from_dict(stored) == rated


def test_the_fold_of_a_day_keeps_its_late_ratings():
    from server.domain.apply import fold

    (rated,) = rate(later(1), served())
    state = fold(HallDay("t", DAY + timedelta(days=1)), [rated])
    assert state.rated_late == {"t1"} and state.seq == 1
    assert date.fromisoformat(ev.to_dict(rated)["served_on"]) == DAY
