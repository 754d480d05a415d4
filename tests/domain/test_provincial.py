"""好差评 upload rules: what a rating carries to the province, under whose names, what an answer
means and how long a retry waits."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from server.domain import provincial as p
from server.domain.settings import DEFAULT_FIELDS, RATING_FIELDS, Provincial

RATING = {"type": "ticket_evaluated", "at": "2026-11-25T09:30:00+08:00", "by": "evaluator-w1", "ticket": "Zq3-secret-id",
          "window": "w1", "score": 2, "comment": "等太久", "efficiency": 2, "proficiency": None, "attitude": 4,
          "reasons": ["long_wait", "slow_service"]}


def test_a_rating_record_carries_the_rating_and_never_the_ticket_id() -> None:
    rec = p.record(RATING, p.Ticket("A007", "a1"), hall_code="H1", region_code="330100", item_name="甲一", window_name="1号窗口")
    assert set(rec) == {*RATING_FIELDS, "window_id"} and rec["window_id"] == "w1"
    assert "window_id" not in str(p.to_platform(rec, DEFAULT_FIELDS))
    assert rec["rating_id"] == p.rating_id("Zq3-secret-id") and "Zq3-secret-id" not in str(rec)
    assert (rec["channel"], rec["level"], rec["reasons"]) == ("1", "不满意", "long_wait,slow_service")
    assert (rec["number"], rec["item"], rec["item_code"], rec["window"]) == ("A007", "甲一", "a1", "1号窗口")
    phone = p.record({**RATING, "by": "holder"}, None, hall_code="H1", region_code="")
    assert phone["channel"] == "2" and phone["number"] == "" and phone["window"] == "w1"


def test_rating_ids_are_stable_and_distinct() -> None:
    assert p.rating_id("a") == p.rating_id("a") != p.rating_id("b")


def test_the_mapping_renames_and_leaves_out() -> None:
    rec = p.record(RATING, None, hall_code="H1", region_code="330100")
    assert p.to_platform(rec, DEFAULT_FIELDS)["evaluateId"] == rec["rating_id"]
    assert p.to_platform(rec, {"score": "pjdj"}) == {"pjdj": 2}


@pytest.mark.parametrize(("status", "result"), [
    (200, "sent"), (201, "sent"), (409, "sent"), (None, "retry"), (503, "retry"), (500, "retry"), (429, "retry"),
    (408, "retry"), (400, "refused"), (401, "refused"), (422, "refused"), (302, "retry"),
])
def test_what_an_answer_means(status: int | None, result: str) -> None:
    assert p.outcome(status) == result


@given(st.integers(1, 80), st.floats(0.1, 100), st.floats(1, 10_000))
def test_retries_wait_longer_each_time_up_to_the_most(attempts: int, first: float, most: float) -> None:
    wait = p.retry_after(attempts, first, most)
    assert 0 < wait <= most
    assert wait >= min(most, p.retry_after(attempts - 1, first, most)) if attempts > 1 else wait == min(first, most)


def test_bad_is_the_follow_up_loops_bad() -> None:
    assert [s for s in range(1, 6) if p.is_bad(s)] == [1, 2]


@pytest.mark.parametrize("bad", [
    {"enabled": True},  # no endpoint
    {"endpoint": "ftp://x/y"},
    {"endpoint": "http://a b/"},
    {"region_code": "33010"},
    {"fields": {"phone": "sjhm"}},  # not a rating field: nothing personal can be mapped
    {"fields": {"score": "x", "level": "x"}},
    {"fields": {"score": " "}},
])
def test_settings_refuse_what_cannot_work(bad: dict) -> None:
    with pytest.raises(ValidationError):
        Provincial.model_validate(bad)


def test_settings_default_to_the_national_names() -> None:
    s = Provincial.model_validate({"enabled": True, "endpoint": "https://hcp.example.gov.cn/api/evaluate"})
    assert s.mapping() == DEFAULT_FIELDS and set(DEFAULT_FIELDS) == set(RATING_FIELDS)


def test_a_returned_row_is_read_back_under_hallqs_names() -> None:
    row = {"evaluateId": "r9", "alternate": 1, "assessTime": "2026-11-24T10:00:00+08:00", "writingEvaluation": "态度差",
           "projectNo": "A003", "taskCode": "a1", "unknownField": "x"}
    r = p.returned(row, DEFAULT_FIELDS)
    assert r == p.Returned("r9", 1, "态度差", date(2026, 11, 24), "A003", "a1", None)
    assert p.returned({**row, "alternate": 4}, DEFAULT_FIELDS) is None  # not bad: nothing to follow up
    assert p.returned({**row, "assessTime": "yesterday"}, DEFAULT_FIELDS) is None
    assert p.returned({"alternate": 1}, DEFAULT_FIELDS) is None


def test_a_returned_rating_hallq_rated_bad_itself_is_followed_up_once() -> None:
    r = p.Returned("r9", 2, "", date(2026, 11, 24))
    assert p.follow_up(r, None) == r  # rated on another channel of the platform
    assert p.follow_up(r, {"score": 2}) is None  # hallq's own bad rating: its review is open already
    changed = p.follow_up(r, {"score": 5, "number": "A001", "item_code": "a1", "window_id": "w1"})
    assert changed == p.Returned("r9", 2, "", date(2026, 11, 24), "A001", "a1", "w1")
