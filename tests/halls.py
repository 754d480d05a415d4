"""Small halls built in code for the tests, and a clock the tests move by hand."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from server.domain.catalog import Catalog, HallConfig

TZ = ZoneInfo("Asia/Shanghai")
# A Wednesday that is a working day, at 09:00 in the hall.
MORNING = datetime(2026, 11, 25, 9, 0, tzinfo=TZ)

PUBLICS = {
    "content": "审批内容",
    "legal_basis": "法律依据",
    "procedure": "申请、受理、审核、决定",
    "requirements": "身份证",
    "time_limit": "即时办结",
    "fee": "不收费",
}


def small_config(**hall: object) -> HallConfig:
    """Three departments; w1 and w2 dedicated, w3 comprehensive; a2 served by w1 and w3."""
    return HallConfig.model_validate(
        {
            # A light proof of work (256 tries on average), so tests book quickly and still show the check.
            "hall": {"id": "t", "name": "测试大厅", "demo": True, "booking": {"proof_bits": 8}, **hall},
            "departments": [{"id": "a", "name": "甲局"}, {"id": "b", "name": "乙局"}, {"id": "c", "name": "丙局"}],
            "items": [
                {"id": "a1", "name": "甲一", "department": "a", "prefix": "A", "publics": PUBLICS, "materials": ["身份证", "申请表"],
                 "booking": {"slots": True, "capacity": 2}},
                {"id": "a2", "name": "甲二", "department": "a", "prefix": "B", "publics": PUBLICS, "case_type": "promised", "promised_days": 5,
                 "booking": {"remote": True}},
                {"id": "b1", "name": "乙一", "department": "b", "prefix": "C", "publics": PUBLICS, "daily_quota": 3},
                {"id": "c1", "name": "丙一", "department": "c", "prefix": "D", "publics": PUBLICS,
                 "hours": {"weekdays": [1, 2, 3, 4, 5], "hours": ["08:30-12:00"]}},
            ],
            "windows": [
                {"id": "w1", "name": "1号窗口", "kind": "dedicated", "items": ["a1", "a2"]},
                {"id": "w2", "name": "2号窗口", "kind": "dedicated", "items": ["b1"]},
                {"id": "w3", "name": "3号窗口", "kind": "comprehensive", "items": ["a2", "b1", "c1"]},
            ],
            "users": [
                {"username": "admin", "name": "管理员", "role": "admin"},
                {"username": "boss", "name": "经理", "role": "manager"},
                {"username": "w1a", "name": "张一", "staff_no": "S11", "role": "clerk", "windows": ["w1"], "post": "A"},
                {"username": "w1b", "name": "李一", "staff_no": "S12", "role": "clerk", "windows": ["w1"], "post": "B"},
                {"username": "w2a", "name": "王二", "staff_no": "S21", "role": "clerk", "windows": ["w2"], "post": "A"},
                {"username": "w3a", "name": "赵三", "staff_no": "S31", "role": "clerk", "windows": ["w3"], "post": "A"},
            ],
        }
    )


def small_catalog(**hall: object) -> Catalog:
    return Catalog(small_config(**hall))


class FakeClock:
    """A clock for tests: stands still until moved."""

    def __init__(self, start: datetime = MORNING) -> None:
        self.t = start

    def now(self) -> datetime:
        return self.t

    def advance(self, seconds: float) -> datetime:
        self.t += timedelta(seconds=seconds)
        return self.t


def write_config(folder, config: HallConfig | None = None) -> None:  # type: ignore[no-untyped-def]
    """Write a hall's config as the YAML files `hallq` loads (folder/<hall id>/*.yaml)."""
    import yaml

    config = config or small_config()
    data = config.model_dump(mode="json", exclude_defaults=True)
    hall_dir = folder / config.hall.id
    hall_dir.mkdir(parents=True, exist_ok=True)
    for key in ("hall", "departments", "items", "windows", "users"):
        (hall_dir / f"{key}.yaml").write_text(yaml.safe_dump(data.get(key, []), allow_unicode=True), encoding="utf-8")


class Engine:
    """The pure core driven by hand: decide then apply, as the service does, minus storage."""

    def __init__(self, catalog: Catalog | None = None, clock: FakeClock | None = None) -> None:
        from server.domain.model import HallDay

        self.catalog = catalog or small_catalog()
        self.clock = clock or FakeClock()
        self.state = HallDay(self.catalog.hall.id, self.clock.now().date())
        self.log: list = []
        self._ids = 0

    def do(self, command):  # type: ignore[no-untyped-def]
        from server.domain.apply import apply
        from server.domain.decide import decide

        events = decide(self.state, self.catalog, command, self.clock.now())
        for e in events:
            apply(self.state, e)
        self.log.extend(events)
        return events

    def issue(self, item: str = "a1", **kw: object):  # type: ignore[no-untyped-def]
        from server.domain.commands import IssueTicket

        self._ids += 1
        (e,) = self.do(IssueTicket(by="kiosk", ticket=f"t{self._ids}", item=item, **kw))
        return self.state.tickets[e.ticket]

    def act(self, command, window: str, by: str | None = None, **kw: object):  # type: ignore[no-untyped-def]
        return self.do(command(by=by or f"{window}a", window=window, **kw))

    def call_next(self, window: str):  # type: ignore[no-untyped-def]
        from server.domain.commands import CallNext

        events = self.act(CallNext, window)
        return self.state.tickets[events[0].ticket] if events else None
