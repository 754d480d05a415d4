"""The staffing plan's rules: Erlang-C on a pure pool, overflow onto comprehensive windows,
schedules (综合定时办理) respected, and groups short of windows said so."""

from __future__ import annotations

import math
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server.domain.catalog import Catalog, HallConfig
from server.domain.staffing import Demand, Group, Queue, allocate, erlang_c, plan_day, plan_slot, window_groups
from tests.halls import PUBLICS, small_catalog


def erlang_c_by_factorials(c: int, a: float) -> float:
    """The textbook formula, written independently of the module's recursion."""
    top = a**c / math.factorial(c) * c / (c - a)
    return top / (sum(a**k / math.factorial(k) for k in range(c)) + top)


@pytest.mark.parametrize(("c", "a"), [(1, 0.5), (2, 1.5), (5, 3.0), (8, 7.2), (20, 17.5), (40, 36.0)])
def test_erlang_c_matches_the_textbook_formula(c, a):
    assert erlang_c(c, a) == pytest.approx(erlang_c_by_factorials(c, a), rel=1e-12)


def test_a_queue_reports_erlang_c_waits():
    q = Queue(5, 3.0, 300.0)
    pw = erlang_c_by_factorials(5, 3.0)
    assert q.mean_wait_s == pytest.approx(pw * 300 / 2)
    assert q.p_longer(600) == pytest.approx(pw * math.exp(-2 * 600 / 300))
    assert q.p_longer(q.quantile_s()) == pytest.approx(0.1)
    assert Queue(2, 2.0, 300).mean_wait_s == math.inf and not Queue(2, 2.0, 300).meets(900, 1200)


def smallest_pool(a: float, s: float, target: float, limit: float) -> int:
    """The fewest servers meeting both targets, searched by brute force with the factorial formula."""
    c = 1
    while True:
        if c > a:
            pw = erlang_c_by_factorials(c, a)
            if pw * s / (c - a) <= target and pw * math.exp(-(c - a) * limit / s) <= 0.1:
                return c
        c += 1


@pytest.mark.parametrize(("arrivals", "handling", "target", "limit"),
                         [(20, 600, 900, 1200), (60, 420, 300, 600), (10, 1500, 900, 1200), (90, 300, 120, 300), (3, 600, 900, 1200)])
def test_the_plan_of_a_pure_pool_is_the_fewest_windows_erlang_c_allows(arrivals, handling, target, limit):
    windows = tuple(f"w{n}" for n in range(30))
    group = Group("w0", "dedicated", windows, ("x",))
    plan = plan_slot([group], {"w0": frozenset({"x"})}, {"x": Demand(arrivals, handling)}, 1800, target, {"x": limit})
    a = arrivals * handling / 1800
    want = smallest_pool(a, handling, target, limit)
    assert plan.open == {"w0": want}
    q = plan.queues["w0"]
    assert (q.c, q.a, q.s) == (want, pytest.approx(a), pytest.approx(handling))
    pw = erlang_c_by_factorials(want, a)
    assert q.mean_wait_s == pytest.approx(pw * handling / (want - a))
    assert plan.short == [] and plan.unserved == []


def test_a_pool_without_enough_windows_is_short_and_opens_all_it_has():
    group = Group("w0", "dedicated", ("w0", "w1"), ("x",))
    plan = plan_slot([group], {"w0": frozenset({"x"})}, {"x": Demand(20, 600)}, 1800, 900, {"x": 1200})
    assert plan.open == {"w0": 2} and plan.short == ["w0"]


def test_no_arrivals_open_no_window():
    group = Group("w0", "dedicated", ("w0", "w1"), ("x",))
    plan = plan_slot([group], {"w0": frozenset({"x"})}, {"x": Demand(0, 600)}, 1800, 900, {"x": 1200})
    assert plan.windows == 0


def test_load_spreads_to_the_least_loaded_group_serving_the_item():
    serving = {"d": frozenset({"x"}), "c": frozenset({"x", "y"})}
    queues, unserved = allocate({"x": Demand(0.01, 300), "y": Demand(0.002, 600)}, serving, {"d": 2, "c": 1})
    # y only at c (1.2 erlangs); x's 3 erlangs fill d first, then level both: d 2 windows, c 1
    assert unserved == []
    assert queues["d"].a + queues["c"].a == pytest.approx(4.2)
    assert queues["d"].a / 2 == pytest.approx(queues["c"].a / 1, abs=0.2)
    queues, unserved = allocate({"y": Demand(0.002, 600)}, serving, {"d": 2, "c": 0})
    assert unserved == ["y"]


def two_kinds() -> Catalog:
    """Two dedicated windows of one department; a comprehensive window serving its item and,
    on Tuesday afternoons only, a second department's item."""
    return Catalog(HallConfig.model_validate({
        "hall": {"id": "p", "name": "排班", "staffing": {"target_wait_s": 600}},
        "departments": [{"id": "a", "name": "甲"}, {"id": "b", "name": "乙"}],
        "items": [
            {"id": "a1", "name": "甲一", "department": "a", "prefix": "A", "publics": PUBLICS, "expected_service_s": 600},
            {"id": "b1", "name": "乙一", "department": "b", "prefix": "B", "publics": PUBLICS, "expected_service_s": 600},
        ],
        "windows": [
            {"id": "d1", "name": "1号", "kind": "dedicated", "items": ["a1"]},
            {"id": "d2", "name": "2号", "kind": "dedicated", "items": ["a1"]},
            {"id": "c1", "name": "3号", "kind": "comprehensive", "items": ["a1", "b1"],
             "scheduled": [{"departments": ["b"], "schedule": {"weekdays": [2], "hours": ["13:30-17:30"]}}]},
        ],
    }))


def test_windows_of_one_kind_and_items_form_one_group():
    groups = window_groups(two_kinds())
    assert [(g.key, g.windows) for g in groups] == [("d1", ("d1", "d2")), ("c1", ("c1",))]
    assert [g.key for g in window_groups(small_catalog())] == ["w1", "w2", "w3"]


def test_a_scheduled_item_is_planned_only_in_its_hours():
    catalog = two_kinds()
    tuesday, monday = date(2026, 11, 24), date(2026, 11, 23)
    demand = {s: {"a1": Demand(2, 600), "b1": Demand(2, 600)} for s in (9 * 60, 14 * 60)}
    plan = plan_day(catalog, tuesday, (9 * 60, 14 * 60), demand)
    assert plan[14 * 60].open["c1"] == 1 and plan[14 * 60].unserved == []
    assert plan[9 * 60].unserved == ["b1"]  # nobody serves 乙一 on Tuesday morning: the plan cannot help
    assert plan_day(catalog, monday, (14 * 60,), demand)[14 * 60].unserved == ["b1"]


def test_the_least_a_simulation_asked_for_is_kept():
    catalog = two_kinds()
    demand = {9 * 60: {"a1": Demand(1, 600)}}
    assert plan_day(catalog, date(2026, 11, 23), (9 * 60,), demand)[9 * 60].open == {"d1": 1, "c1": 0}
    kept = plan_day(catalog, date(2026, 11, 23), (9 * 60,), demand, least={9 * 60: {"d1": 2}})
    assert kept[9 * 60].open == {"d1": 2, "c1": 0}


@st.composite
def halls(draw):  # type: ignore[no-untyped-def]
    """Random groups of windows over a few items, and a half hour's demand."""
    items = [f"i{n}" for n in range(draw(st.integers(1, 4)))]
    groups, serving = [], {}
    for n in range(draw(st.integers(1, 4))):
        served = frozenset(draw(st.lists(st.sampled_from(items), min_size=1, max_size=len(items), unique=True)))
        size = draw(st.integers(1, 6))
        groups.append(Group(f"g{n}", "dedicated", tuple(f"g{n}w{k}" for k in range(size)), tuple(sorted(served))))
        serving[f"g{n}"] = served
    demand = {i: Demand(draw(st.just(0.0) | st.floats(0.01, 40)), draw(st.floats(60, 1800)), draw(st.floats(0.2, 2))) for i in items}
    return groups, serving, demand


@settings(max_examples=150, deadline=None)
@given(halls(), st.floats(60, 1800), st.floats(300, 2400))
def test_a_plan_meets_its_targets_unless_it_says_where_it_cannot(hall, target, limit):
    groups, serving, demand = hall
    plan = plan_slot(groups, serving, demand, 1800, target, {i: limit for i in demand})
    served = set().union(*serving.values())
    assert plan.unserved == sorted(i for i, d in demand.items() if d.arrivals > 0 and i not in served)
    for g in groups:
        assert 0 <= plan.open[g.key] <= len(g.windows)
        q = plan.queues[g.key]
        if g.key in plan.short:
            assert not q.meets(target, plan.limits[g.key])
        elif q.a > 0:
            assert q.meets(target, plan.limits[g.key])
    if not plan.short:  # nothing is short: every window opened is needed by its own group or a neighbour's
        for g in groups:
            if plan.open[g.key]:
                fewer = {**plan.open, g.key: plan.open[g.key] - 1}
                queues, unserved = allocate({i: Demand(d.arrivals / 1800, d.handling_s, d.cv2) for i, d in demand.items()}, serving, fewer)
                assert set(unserved) - set(plan.unserved) or any(
                    q.a > 0 and not q.meets(target, min(limit, plan.limits[k])) for k, q in queues.items())
