"""The online share of an item's day in the pure core: online numbers and bookings together stop at
(1 − walk_in_share) of the day, and walk-ins at the kiosk still find the rest."""

from __future__ import annotations

from datetime import datetime

import pytest

from server.domain import commands as c
from server.domain.catalog import Catalog, HallConfig
from server.domain.errors import Conflict
from server.domain.shares import day_capacity, online_allowance
from tests.halls import MORNING, TZ, Engine, small_config


def catalog(quota: int | None = 50, walk_in_share: float = 0.5) -> Catalog:
    """The small hall with b1's quota at `quota` and a1 bookable without a per-slot limit of its own."""
    data = small_config().model_dump(mode="json", exclude_defaults=True)
    for item in data["items"]:
        if item["id"] == "b1":
            item["daily_quota"] = quota
            item["booking"] = {"remote": True, "slots": True, "capacity": 10}
    data["hall"]["booking"] = {"walk_in_share": walk_in_share}
    return Catalog(HallConfig.model_validate(data))


def online(e: Engine, item: str = "b1", **kw: object):  # type: ignore[no-untyped-def]
    return e.issue(item, channel="online", **kw)


def slot(hh: int, mm: int = 0) -> datetime:
    return datetime(2026, 11, 25, hh, mm, tzinfo=TZ)


def test_online_numbers_stop_at_half_the_daily_quota_and_the_kiosk_takes_the_rest():
    e = Engine(catalog(quota=50))
    for _ in range(25):
        online(e)
    with pytest.raises(Conflict) as refused:
        online(e)
    assert refused.value.code == "online-share-exhausted" and refused.value.extra["allowance"] == 25
    with pytest.raises(Conflict):
        online(e, remote=True, phone_key="p1")  # 远程取号 is the online channel too
    for _ in range(25):
        e.issue("b1")  # walk-ins at the kiosk
    with pytest.raises(Conflict) as full:
        e.issue("b1")
    assert full.value.code == "quota-exhausted"


def test_bookings_and_online_numbers_share_the_allowance_and_a_cancelled_booking_frees_its_place():
    e = Engine(catalog(quota=10))  # 5 may be taken online
    for n in range(3):
        e.do(c.BookAppointment(by="online", code=f"C{n}", item="b1", slot_start=slot(10 + n // 2, 30 * (n % 2)), phone_key=f"p{n}",
                               phone_masked="138****0000"))
    online(e)
    online(e)
    with pytest.raises(Conflict) as refused:
        e.do(c.BookAppointment(by="online", code="C9", item="b1", slot_start=slot(14), phone_key="p9", phone_masked="138****0000"))
    assert refused.value.code == "online-share-exhausted"
    e.do(c.CancelAppointment(by="holder", code="C0"))
    online(e)  # the cancelled booking's place is free again
    with pytest.raises(Conflict):
        online(e)
    assert e.issue("b1").channel == "kiosk"  # the walk-in share is untouched


def test_a_checked_in_booking_holds_one_place_not_two():
    e = Engine(catalog(quota=4))  # 2 online
    e.do(c.BookAppointment(by="online", code="C1", item="b1", slot_start=slot(9, 30), phone_key="p1", phone_masked="138****0000"))
    e.clock.advance(30 * 60)
    e.issue("b1", appointment="C1")
    online(e)
    with pytest.raises(Conflict):
        online(e)


def test_an_item_without_a_quota_shares_what_its_windows_can_serve():
    cat = catalog(quota=None)
    # b1 is served by w2 (b1 alone) and w3 (a2, b1, c1): 7.5 h ÷ 600 s = 45, and 45 ÷ 3 = 15.
    assert day_capacity(cat, "b1") == 60 and online_allowance(cat, "b1") == 30
    assert online_allowance(catalog(quota=None, walk_in_share=1.0), "b1") == 0
    e = Engine(catalog(quota=None, walk_in_share=1.0))
    with pytest.raises(Conflict):
        online(e)
    assert e.issue("b1").number == "C001"
    assert MORNING.date() == e.state.day
