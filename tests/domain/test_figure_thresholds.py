"""Which alert thresholds a statistics row is held against, and which of its times are past them
(server/domain/supervision.py: `group_thresholds`, `past_thresholds`)."""

from __future__ import annotations

from server.domain.catalog import Catalog, HallConfig
from server.domain.supervision import group_thresholds, past_thresholds
from tests.halls import small_config


def catalog_with_own_thresholds() -> Catalog:
    """a1 has its own wait thresholds (10, 15, 20 min) and a short service (5 min expected);
    the other items take the hall's (20, 30, 45 min) and 10 min expected."""
    data = small_config().model_dump(mode="json")
    a1 = next(i for i in data["items"] if i["id"] == "a1")
    a1["alerts"] = {"wait_s": [600, 900, 1200]}
    a1["expected_service_s"] = 300
    return Catalog(HallConfig.model_validate(data))


def times(mean: float | None, p50: float | None, p90: float | None, mx: float | None) -> dict:
    return {"count": 3, "mean_s": mean, "p50_s": p50, "p90_s": p90, "max_s": mx}


def test_an_item_is_held_against_its_own_thresholds():
    catalog = catalog_with_own_thresholds()
    assert group_thresholds(catalog, "item", "a1") == {"wait": (600, 900, 1200), "service": (600.0, 900.0, 1200.0)}
    # a2 has none of its own: the hall's wait thresholds, 2×, 3×, 4× its 10 expected minutes.
    assert group_thresholds(catalog, "item", "a2") == {"wait": (1200, 1800, 2700), "service": (1200.0, 1800.0, 2400.0)}
    assert group_thresholds(catalog, "item", "gone") == {}


def test_a_row_of_several_items_takes_the_most_lenient_threshold_of_each_level():
    catalog = catalog_with_own_thresholds()
    # w1 serves a1 (strict) and a2 (the hall's): a wait past a1's 10 minutes may be fine for a2.
    assert group_thresholds(catalog, "window", "w1") == {"wait": (1200, 1800, 2700), "service": (1200.0, 1800.0, 2400.0)}
    assert group_thresholds(catalog, "department", "a") == group_thresholds(catalog, "window", "w1")
    for by, key in (("clerk", "w1a"), ("hour", "10"), ("day", "2026-11-25"), ("channel", "walk_in"), ("total", "total")):
        assert group_thresholds(catalog, by, key) == {"wait": (1200, 1800, 2700), "service": (1200.0, 1800.0, 2400.0)}


def test_only_the_times_that_reached_a_threshold_are_past_it_with_the_highest_level_reached():
    limits = {"wait": (600, 900, 1200), "service": (600.0, 900.0, 1200.0)}
    row = {"wait": times(300.0, 200.0, 600.0, 1500.0), "service": times(100.0, 100.0, 599.9, 900.0), "served": 3}
    assert past_thresholds(row, limits) == {"wait": {"p90_s": "warning", "max_s": "red"}, "service": {"max_s": "yellow"}}
    assert past_thresholds({"wait": times(None, None, None, None), "service": times(599.0, 1, 2, 3)}, limits) == {}
    assert past_thresholds(row, {}) == {}  # a row of no known item is held against nothing
