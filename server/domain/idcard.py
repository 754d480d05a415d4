"""刷身份证取号: the citizen ID number (GB 11643-1999) and what the hall does with a card. Pure.

An 18-character number: 6 digits of the region where it was issued, the birth date (YYYYMMDD),
3 digits of sequence, and a check character (ISO 7064 MOD 11-2: 0-9 or X). hallq checks it,
reads the birth date for the senior lane, and then keeps only a keyed hash of it (`person_key`,
made at the edge with the server's secret, as for phone numbers): never the number, never the
card's name, photo or address. Per-person limits (防黄牛) count today's tickets by that hash.
"""

from __future__ import annotations

import re
from datetime import date

from .errors import Conflict
from .model import HallDay
from .settings import IdCards

_SHAPE = re.compile(r"^\d{17}[\dX]$")
WEIGHTS = tuple(2 ** (17 - i) % 11 for i in range(17))  # 7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2
CHECK = "10X98765432"  # the check character for a weighted sum's remainder mod 11


def check_char(first17: str) -> str:
    return CHECK[sum(int(d) * w for d, w in zip(first17, WEIGHTS)) % 11]


def normalize(number: str) -> str:
    return number.strip().upper()


def birth_date(number: str) -> date | None:
    try:
        return date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return None


def valid(number: str, today: date | None = None) -> bool:
    """An 18-character number whose check character matches, with a real birth date (not after
    `today`, if given) and a region code that is not all zeros."""
    n = normalize(number)
    if not _SHAPE.match(n) or n[:6] == "000000" or check_char(n[:17]) != n[17]:
        return False
    born = birth_date(n)
    return born is not None and born.year >= 1900 and (today is None or born <= today)


def age_on(number: str, day: date) -> int:
    born = birth_date(normalize(number))
    assert born is not None, "check valid() first"
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def senior(number: str, day: date, rules: IdCards) -> bool:
    """老年人优先: offered the priority lane from this age on (the birth date is in the number)."""
    return age_on(number, day) >= rules.senior_age


def mask(number: str) -> str:
    """What a page may show of a number: the first three and last two characters (no birth date)."""
    n = normalize(number)
    return f"{n[:3]}{'*' * (len(n) - 5)}{n[-2:]}"


def taken_today(state: HallDay, person_key: str, item: str | None = None) -> int:
    """Numbers this person took today (of this item): cancelled ones count too, or a tout would
    cancel and take again."""
    return sum(1 for t in state.tickets.values() if t.person_key == person_key and (item is None or t.item == item))


def check_limits(state: HallDay, rules: IdCards, person_key: str, item: str, item_name: str) -> None:
    """Refuse a number beyond the hall's per-person limits, saying which (a kiosk shows the message)."""
    if taken_today(state, person_key) >= rules.per_day:
        raise Conflict("person-limit-day", f"one ID card takes at most {rules.per_day} numbers a day",
                       limit=rules.per_day)
    if taken_today(state, person_key, item) >= rules.per_item:
        raise Conflict("person-limit-item", f"one ID card takes at most {rules.per_item} numbers a day for {item_name}",
                       limit=rules.per_item)
