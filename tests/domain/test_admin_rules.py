"""The pure rules of hall administration (server/domain/admin.py) and what retiring means to the engine."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server.domain import admin
from server.domain import commands as c
from server.domain.calendar import add_working_days, is_open, item_issuing
from server.domain.catalog import Catalog, HallConfig
from server.domain.errors import Conflict, Invalid
from tests.halls import MORNING, PUBLICS, TZ, Engine, small_config

CONFIG = small_config()
NEW = {"id": "c2", "name": "丙二", "department": "c", "prefix": "E", "publics": PUBLICS}


def with_w3(*items: str) -> dict:
    w3 = admin.document(CONFIG)["windows"][2]
    return {**w3, "items": [*w3["items"], *items]}


def test_an_edit_upserts_by_id_and_the_diff_names_each_changed_field():
    new = admin.edit(CONFIG, upserts={"items": [NEW, {**admin.document(CONFIG)["items"][0], "daily_quota": 40}], "windows": [with_w3("c2")]})
    d = admin.diff(CONFIG, new)
    assert d["items"]["added"] == [{"id": "c2", "name": "丙二"}]
    (a1,) = d["items"]["changed"]
    assert (a1["id"], a1["fields"]) == ("a1", [{"field": "daily_quota", "before": None, "after": 40}])
    assert d["windows"]["changed"][0]["fields"] == [{"field": "items", "before": ["a2", "b1", "c1"], "after": ["a2", "b1", "c1", "c2"]}]
    assert d["hall"] == [] and not any(d["departments"].values())
    assert admin.summary(d) == "items +1 ~1; windows ~1"
    assert [i.id for i in new.items] == ["a1", "a2", "b1", "c1", "c2"]  # order kept, the new one last
    assert new.users == CONFIG.users  # accounts are not part of the catalogue's edits


def test_retiring_and_restoring_are_named_as_such_and_change_nothing_else():
    doc = admin.document(CONFIG)
    retired = admin.edit(CONFIG, upserts={"items": [{**doc["items"][0], "retired": True}]})
    d = admin.diff(CONFIG, retired)
    assert d["items"]["retired"] == [{"id": "a1", "name": "甲一"}] and d["items"]["changed"] == []
    back = admin.diff(retired, admin.edit(retired, upserts={"items": [{**doc["items"][0], "retired": False}]}))
    assert back["items"]["restored"] == [{"id": "a1", "name": "甲一"}]
    assert admin.is_empty(admin.diff(CONFIG, CONFIG))


def test_nothing_is_deleted_an_entry_missing_from_a_new_catalogue_is_refused():
    data = admin.document(CONFIG)
    data["departments"] = data["departments"][:2]
    data["items"] = [i for i in data["items"] if i["department"] != "c"]
    data["windows"] = [{**w, "items": [i for i in w["items"] if i != "c1"]} for w in data["windows"]]
    smaller = admin.validate(data)
    with pytest.raises(admin.CatalogInvalid) as refused:
        admin.check_change(CONFIG, smaller)
    assert [e["field"] for e in refused.value.extra["errors"]] == ["departments.c", "items.c1"]


def test_an_import_keeps_what_it_lacks_retired_and_the_hall_keeps_its_id_and_settings():
    city = admin.document(small_config(name="市中心", notice="市里的通知"))
    city["hall"]["id"] = "city"
    city["items"] = [i for i in city["items"] if i["id"] != "b1"] + [NEW]
    city["windows"] = [{**w, "items": [i for i in w["items"] if i != "b1"] + (["c2"] if w["id"] == "w3" else [])}
                       for w in city["windows"] if w["id"] != "w2"]
    county = admin.merge_import(CONFIG, city)
    assert county.hall == CONFIG.hall
    assert {i.id: i.retired for i in county.items} == {"a1": False, "a2": False, "c1": False, "c2": False, "b1": True}
    assert {w.id: w.retired for w in county.windows} == {"w1": False, "w3": False, "w2": True}
    admin.check_change(CONFIG, county)  # nothing deleted
    with_hall = admin.merge_import(CONFIG, city, with_hall=True)
    assert (with_hall.hall.id, with_hall.hall.name, with_hall.hall.notice) == ("t", "市中心", "市里的通知")


def test_errors_name_entries_by_id_whatever_their_place():
    data = admin.document(CONFIG)
    data["items"][3] = {**data["items"][3], "prefix": "A"}
    data["windows"][1] = {**data["windows"][1], "items": []}
    with pytest.raises(admin.CatalogInvalid) as refused:
        admin.validate(data)
    assert {e["field"] for e in refused.value.extra["errors"]} == {"windows.w2.items"}
    data["windows"][1] = admin.document(CONFIG)["windows"][1]
    with pytest.raises(admin.CatalogInvalid) as refused:
        admin.validate(data)
    (error,) = refused.value.extra["errors"]
    assert error["field"] == "items.c1.prefix" and "appears twice" in error["message"]


def test_a_retired_item_frees_its_prefix_and_an_active_item_needs_an_active_department():
    doc = admin.document(CONFIG)
    reused = admin.edit(CONFIG, upserts={"items": [{**doc["items"][0], "retired": True}, {**NEW, "prefix": "A"}], "windows": [with_w3("c2")]})
    assert reused.items[-1].prefix == "A"
    with pytest.raises(admin.CatalogInvalid) as refused:
        admin.edit(CONFIG, upserts={"departments": [{**doc["departments"][2], "retired": True}]})
    assert refused.value.extra["errors"][0]["field"] == "items.c1.department"


def test_a_change_takes_effect_today_or_later_and_never_before_a_pending_one():
    today = date(2026, 11, 25)
    admin.check_effective(today, today, None)
    admin.check_effective(today, date(2026, 12, 1), date(2026, 12, 1))
    with pytest.raises(Invalid):
        admin.check_effective(today, date(2026, 11, 24), None)
    with pytest.raises(Conflict):
        admin.check_effective(today, today, date(2026, 12, 1))


def test_a_ticket_of_today_is_never_left_without_a_window():
    engine = Engine(Catalog(CONFIG))
    engine.issue("b1")
    doc = admin.document(CONFIG)
    w3 = {**doc["windows"][2], "items": ["a2", "c1"]}
    b1 = {**doc["items"][2], "retired": True}
    stranding = admin.edit(CONFIG, upserts={"items": [b1], "windows": [{**doc["windows"][1], "retired": True}, w3]})
    admin.check_change(CONFIG, stranding)  # fine from another day on …
    with pytest.raises(admin.CatalogInvalid) as refused:
        admin.check_change(CONFIG, stranding, engine.state)  # … not today
    assert refused.value.extra["errors"][0]["field"] == "items.b1"
    assert "wait today" in refused.value.extra["errors"][0]["message"]


def test_retired_items_and_windows_take_no_new_work_but_earlier_tickets_are_served():
    doc = admin.document(CONFIG)
    engine = Engine(Catalog(CONFIG))
    earlier = engine.issue("a1")
    engine.catalog = Catalog(admin.edit(CONFIG, upserts={"items": [{**doc["items"][0], "retired": True}, {**doc["items"][1], "retired": True}]}))
    assert not item_issuing(engine.catalog, "a1", MORNING)
    with pytest.raises(Conflict, match="no longer offered"):
        engine.issue("a1")
    engine.act(c.OpenWindow, "w1")
    assert engine.call_next("w1").id == earlier.id
    with pytest.raises(Conflict):
        engine.act(c.Transfer, "w1", to_item="a2")

    retired_w2 = admin.edit(CONFIG, upserts={"windows": [{**doc["windows"][1], "retired": True}]})
    with pytest.raises(Conflict, match="retired"):
        Engine(Catalog(retired_w2)).act(c.OpenWindow, "w2")
    assert Catalog(retired_w2).windows_of_item["b1"] == ("w3",)  # tickets are not sent to it


def test_the_halls_own_closed_and_working_days_override_the_official_calendar():
    cfg = admin.edit(CONFIG, hall={**admin.document(CONFIG)["hall"], "enforce_hours": True,
                                   "calendar": {"closed_days": ["2026-11-25"], "working_days": ["2026-11-28"]}})
    catalog = Catalog(cfg)
    assert not item_issuing(catalog, "a1", MORNING)  # Wednesday, closed for a move
    saturday = datetime(2026, 11, 28, 9, 0, tzinfo=TZ)
    assert item_issuing(catalog, "a1", saturday)
    assert not item_issuing(Catalog(CONFIG), "a1", saturday)
    assert not is_open(cfg.hall.opening, datetime(2026, 11, 28, 20, 0, tzinfo=TZ), cfg.hall.calendar)  # hours still count
    assert add_working_days(date(2026, 11, 24), 1, cfg.hall.calendar) == date(2026, 11, 26)
    assert add_working_days(date(2026, 11, 24), 1) == date(2026, 11, 25)


def test_a_record_of_a_change_is_an_event_of_the_day():
    engine = Engine(Catalog(CONFIG))
    (e,) = engine.do(c.RecordCatalogChange(by="admin", rev=3, effective=date(2026, 11, 26), summary="items +1"))
    assert (e.type, e.rev, e.by, e.summary) == ("catalog_changed", 3, "admin", "items +1")
    with pytest.raises(Invalid):
        engine.do(c.RecordCatalogChange(by="admin", rev=0, effective=date(2026, 11, 26)))
    with pytest.raises(Invalid):
        engine.do(c.RecordCatalogChange(by="admin", rev=4, effective=date(2026, 11, 24)))


def test_hours_are_written_back_as_in_the_config_files():
    cfg = admin.document(CONFIG)
    assert cfg["items"][3]["hours"]["hours"] == ["08:30-12:00"]
    assert HallConfig.model_validate({**cfg, "users": []}) == CONFIG.model_copy(update={"users": ()})


names = st.text(alphabet="甲乙丙丁市区县办证照", min_size=1, max_size=8)


@settings(max_examples=40, deadline=None)
@given(renames=st.dictionaries(st.sampled_from(["a1", "a2", "b1", "c1"]), names, max_size=4),
       retire=st.sets(st.sampled_from(["a1", "a2", "b1", "c1"]), max_size=2))
def test_the_diff_of_any_edit_lists_exactly_the_entries_it_touched(renames, retire):
    doc = admin.document(CONFIG)
    touched = [{**i, "name": renames.get(i["id"], i["name"]), "retired": i["id"] in retire}
               for i in doc["items"] if i["id"] in renames or i["id"] in retire]
    new = admin.edit(CONFIG, upserts={"items": touched} if touched else None)
    d = admin.diff(CONFIG, new)
    old_names = {i.id: i.name for i in CONFIG.items}
    assert {x["id"] for x in d["items"]["changed"]} == {i for i, n in renames.items() if n != old_names[i]}
    assert {x["id"] for x in d["items"]["retired"]} == retire
    assert admin.is_empty(d) == (not d["items"]["changed"] and not retire)


def test_only_the_newest_revision_still_waiting_for_its_day_may_be_withdrawn():
    today = date(2026, 11, 25)
    admin.check_withdraw(3, 3, date(2026, 12, 1), today)
    with pytest.raises(Conflict, match="not the newest"):
        admin.check_withdraw(2, 3, date(2026, 12, 1), today)
    with pytest.raises(Conflict, match="in force"):
        admin.check_withdraw(3, 3, today, today)
