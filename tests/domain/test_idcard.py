"""ID cards (GB 11643): the check character, the birth date, seniors, masking and the per-person limits."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.domain import commands as c
from server.domain import idcard
from server.domain.catalog import Catalog
from server.domain.errors import Conflict
from server.domain.settings import IdCards
from tests.halls import Engine, small_config


def number(region: str = "110105", born: str = "19491231", seq: str = "002") -> str:
    first = region + born + seq
    return first + idcard.check_char(first)


def test_the_published_example_checks() -> None:
    assert idcard.valid("11010519491231002X")  # GB 11643-1999's own example
    assert not idcard.valid("110105194912310021")


@given(st.from_regex(r"\d{6}", fullmatch=True).filter(lambda r: r != "000000"),
       st.dates(date(1900, 1, 1), date(2026, 11, 25)), st.from_regex(r"\d{3}", fullmatch=True))
def test_every_number_with_its_check_character_is_valid_and_any_single_change_is_not(region, born, seq) -> None:  # type: ignore[no-untyped-def]
    n = number(region, born.strftime("%Y%m%d"), seq)
    assert idcard.valid(n, date(2026, 11, 25)) and idcard.birth_date(n) == born
    for i in range(17):
        changed = n[:i] + str((int(n[i]) + 1) % 10) + n[i + 1:]
        assert not idcard.valid(changed)  # MOD 11-2 catches every single-digit error


@pytest.mark.parametrize("bad", ["", "11010519491231002", "11010519491231002XX", "1101051949123100 X", "000000194912310020",
                                 number(born="19490230"), number(born="20990101")])
def test_malformed_numbers_and_impossible_birth_dates(bad: str) -> None:
    assert not idcard.valid(bad, date(2026, 11, 25))


def test_age_and_the_senior_lane_turn_on_the_birthday() -> None:
    n = number(born="19661126")
    rules = IdCards(senior_age=60)
    assert idcard.age_on(n, date(2026, 11, 25)) == 59 and not idcard.senior(n, date(2026, 11, 25), rules)
    assert idcard.age_on(n, date(2026, 11, 26)) == 60 and idcard.senior(n, date(2026, 11, 26), rules)


def test_a_mask_hides_the_birth_date() -> None:
    assert idcard.mask("11010519491231002x") == "110*************2X"


def test_the_fourth_number_of_a_card_is_refused_and_a_third_of_one_item() -> None:
    engine = Engine(Catalog(small_config(id_cards={"enabled": True, "per_day": 3, "per_item": 2})))
    engine.issue("a1", person_key="p1")
    engine.issue("a1", person_key="p1")
    with pytest.raises(Conflict) as item_limit:
        engine.issue("a1", person_key="p1")
    assert item_limit.value.code == "person-limit-item"
    engine.issue("b1", person_key="p1")
    with pytest.raises(Conflict) as day_limit:
        engine.issue("c1", person_key="p1")
    assert day_limit.value.code == "person-limit-day" and day_limit.value.extra == {"limit": 3}
    engine.issue("c1", person_key="p2")  # another card
    engine.issue("c1")  # no card: walk-ins without one are not limited by it
    ticket = next(iter(engine.state.tickets.values()))
    engine.do(c.CancelTicket(by="holder", ticket=ticket.id))
    with pytest.raises(Conflict):  # a cancelled number still counts: no cancel-and-take-again
        engine.issue("c1", person_key="p1")
