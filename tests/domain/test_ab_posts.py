"""AB岗: each window's A and B posts, their config checks, and the window offered to B."""

from __future__ import annotations

from datetime import datetime

import pytest
from pydantic import ValidationError

from server.domain import commands as c
from server.domain.catalog import Catalog, HallConfig, post_errors, post_warnings
from server.domain.posts import duty
from tests.halls import TZ, Engine, FakeClock, small_config


def _with(windows: dict[str, dict], users: list[dict] | None = None) -> dict:
    data = small_config().model_dump(mode="json", exclude_defaults=True)
    for w in data["windows"]:
        w.update(windows.get(w["id"], {}))
    if users is not None:
        data["users"] = users
    return data


def test_the_small_hall_takes_its_posts_from_its_clerks_own_post_an_older_config():
    catalog = Catalog(small_config())
    assert catalog.posts == {"w1": ("w1a", "w1b"), "w2": ("w2a", None), "w3": ("w3a", None)}
    assert post_warnings(small_config()) == [
        "windows[1] (w2).b_post: no B post (AB岗): nobody is offered the window when w2a is away",
        "windows[2] (w3).b_post: no B post (AB岗): nobody is offered the window when w3a is away",
    ]


def test_a_window_names_its_posts_and_one_clerk_may_cover_another_window():
    users = [
        {"username": "boss", "name": "经理", "role": "manager"},
        {"username": "pp", "name": "甲", "role": "clerk", "windows": ["w1", "w2"]},
        {"username": "qq", "name": "乙", "role": "clerk", "windows": ["w2", "w1", "w3"]},
    ]
    config = HallConfig.model_validate(_with(
        {"w1": {"a_post": "pp", "b_post": "qq"}, "w2": {"a_post": "qq", "b_post": "pp"}, "w3": {"a_post": "qq"}}, users))
    assert Catalog(config).posts == {"w1": ("pp", "qq"), "w2": ("qq", "pp"), "w3": ("qq", None)}
    assert post_errors(config) == []


@pytest.mark.parametrize(
    ("windows", "message"),
    [
        ({"w1": {"a_post": "w1a", "b_post": "w1a"}}, "windows[0] (w1).b_post: 'w1a' has post A"),
        ({"w2": {"a_post": "w2a", "b_post": "w2a"}}, "windows[1] (w2).b_post: 'w2a' has post A"),
        ({"w2": {"b_post": "nobody"}}, "windows[1] (w2).b_post: no account 'nobody' in users.yaml"),
        ({"w2": {"b_post": "boss"}}, "windows[1] (w2).b_post: 'boss' is a manager, not a clerk"),
        ({"w2": {"b_post": "w1b"}}, "windows[1] (w2).b_post: 'w1b' does not list 'w2' among their windows"),
        ({"w1": {"a_post": "w1b"}}, "windows[0] (w1).a_post: 'w1b' has post B in users.yaml"),
    ],
)
def test_wrong_posts_are_config_errors_naming_the_window_and_field(windows, message):
    with pytest.raises(ValidationError) as info:
        HallConfig.model_validate(_with(windows))
    assert message in str(info.value)


def test_the_same_person_on_both_posts_is_refused_when_no_own_post_says_otherwise():
    users = [{"username": "pp", "name": "甲", "role": "clerk", "windows": ["w1", "w2", "w3"]}]
    windows = {"w1": {"a_post": "pp", "b_post": "pp"}, "w2": {"a_post": "pp"}, "w3": {"a_post": "pp"}}
    with pytest.raises(ValidationError, match=r"windows\[0\] \(w1\).b_post: 'pp' holds the A post already"):
        HallConfig.model_validate(_with(windows, users))


def test_a_window_without_an_a_post_is_an_error_once_the_hall_lists_clerks():
    users = [{"username": "pp", "name": "甲", "role": "clerk", "windows": ["w1"]}]
    with pytest.raises(ValidationError, match=r"windows\[1\] \(w2\).a_post: the window has no A post"):
        HallConfig.model_validate(_with({"w1": {"a_post": "pp"}}, users))
    # A hall whose staff are all added on the staff page has no clerk in its files yet.
    assert post_errors(HallConfig.model_validate(_with({}, [{"username": "boss", "name": "经理", "role": "manager"}]))) == []


def at(hh: int, mm: int) -> FakeClock:
    return FakeClock(datetime(2026, 11, 25, hh, mm, tzinfo=TZ))  # a Wednesday, a working day


def test_b_is_offered_the_window_when_a_pauses_and_takes_it_over():
    e = Engine(clock=at(9, 0))
    e.act(c.OpenWindow, "w1")
    d = duty(e.state, e.catalog, "w1", e.clock.now())
    assert (d.on_duty, d.post, d.offer) == ("w1a", "A", None)
    e.clock.advance(60)
    e.act(c.Pause, "w1", reason="去窗口后台取材料")
    d = duty(e.state, e.catalog, "w1", e.clock.now())
    assert d.offer is not None and (d.offer.to, d.offer.reason, d.offer.action) == ("w1b", "paused", "take-over")
    assert d.offer.since == e.clock.now()
    # B takes it over: a hand-over to themselves, then resume.
    e.act(c.Handover, "w1", by="w1b", to="w1b")
    e.act(c.Resume, "w1", by="w1b")
    d = duty(e.state, e.catalog, "w1", e.clock.now())
    assert (d.on_duty, d.post, d.offer) == ("w1b", "B", None)
    # B pauses in turn: the window is offered back to A.
    e.act(c.Pause, "w1", by="w1b", reason="午间交接")
    d = duty(e.state, e.catalog, "w1", e.clock.now())
    assert d.offer is not None and (d.offer.to, d.offer.reason) == ("w1a", "paused")


def test_nobody_is_offered_a_paused_window_without_a_b_post():
    e = Engine(clock=at(9, 0))
    e.act(c.OpenWindow, "w2")
    e.act(c.Pause, "w2", reason="离岗")
    assert duty(e.state, e.catalog, "w2", e.clock.now()).offer is None


def test_b_is_offered_the_window_when_a_is_absent_at_opening():
    e = Engine(clock=at(8, 30))
    grace = e.catalog.hall.supervision.attendance_grace_s
    assert grace == 300
    assert duty(e.state, e.catalog, "w1", e.clock.now()).offer is None  # A has until 08:35
    e.clock.advance(grace - 1)
    assert duty(e.state, e.catalog, "w1", e.clock.now()).offer is None
    e.clock.advance(1)
    d = duty(e.state, e.catalog, "w1", e.clock.now())
    assert d.offer is not None and (d.offer.to, d.offer.reason, d.offer.action) == ("w1b", "absent", "open")
    assert d.offer.since == datetime(2026, 11, 25, 8, 35, tzinfo=TZ)
    e.act(c.OpenWindow, "w1", by="w1b")
    d = duty(e.state, e.catalog, "w1", e.clock.now())
    assert (d.on_duty, d.post, d.offer) == ("w1b", "B", None)


def test_no_offer_outside_the_windows_hours_or_on_a_holiday():
    assert duty(Engine(clock=at(12, 30)).state, Engine().catalog, "w1", at(12, 30).now()).offer is None  # lunch
    sunday = FakeClock(datetime(2026, 11, 29, 9, 0, tzinfo=TZ))
    e = Engine(clock=sunday)
    assert duty(e.state, e.catalog, "w1", sunday.now()).offer is None
    # A window with its own hours: staffed only in the afternoon.
    config = HallConfig.model_validate(_with({"w1": {"hours": {"hours": ["13:30-17:30"]}}}))
    e = Engine(catalog=Catalog(config), clock=at(9, 0))
    assert duty(e.state, e.catalog, "w1", e.clock.now()).offer is None
    e.clock.t = datetime(2026, 11, 25, 13, 40, tzinfo=TZ)
    assert duty(e.state, e.catalog, "w1", e.clock.now()).offer is not None


def test_a_window_closed_again_in_its_hours_is_offered_to_b():
    e = Engine(clock=at(8, 30))
    e.act(c.OpenWindow, "w1")
    e.clock.advance(3600)
    e.act(c.CloseWindow, "w1")
    d = duty(e.state, e.catalog, "w1", e.clock.now())
    assert d.offer is not None and d.offer.reason == "absent" and d.offer.since == e.clock.now()


def test_a_window_closed_in_the_last_minutes_of_its_hours_is_offered_to_nobody():
    e = Engine(clock=at(8, 30))
    e.act(c.OpenWindow, "w1")
    e.clock.t = datetime(2026, 11, 25, 11, 56, tzinfo=TZ)  # within the grace before 12:00: on time
    e.act(c.CloseWindow, "w1")
    assert duty(e.state, e.catalog, "w1", e.clock.now()).offer is None
