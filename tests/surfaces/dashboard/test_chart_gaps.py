"""Charts draw no line across a gap (issue 19: the wait-by-hour line crossed the lunch break)."""

from __future__ import annotations

import re

from server.api import charts
from server.api.supervision import _every_hour


def test_a_line_stops_at_an_hour_without_figures_and_starts_again_after_it():
    rows = _every_hour([{"key": "10", "wait": {"mean_s": 60}}, {"key": "11", "wait": {"mean_s": 120}},
                        {"key": "14", "wait": {"mean_s": 300}}, {"key": "15", "wait": {"mean_s": 240}}])
    assert [r["key"] for r in rows] == ["10", "11", "12", "13", "14", "15"]  # the lunch hours are on the axis
    values = [(r.get("wait") or {}).get("mean_s") for r in rows]
    svg = charts.lines("wait", [r["key"] for r in rows], [("mean", [None if v is None else v / 60 for v in values])], unit="min")
    lines = re.findall(r'<polyline class="line" points="([^"]+)"', svg)
    assert len(lines) == 2 and all(len(p.split()) == 2 for p in lines)  # 10–11 and 14–15, nothing across 12–13


def test_shares_of_many_groups_keep_a_readable_height_and_name_every_kth():
    names = {s: str(s) for s in range(1, 6)}
    few = charts.stacked_shares("s", [(f"d{n}", {5: 1}) for n in range(4)], names)
    many = charts.stacked_shares("s", [(f"d{n}", {5: 1, 1: 1}) for n in range(90)], names)  # a quarter by day
    height = lambda svg: int(re.search(r'viewBox="0 0 \d+ (\d+)"', svg).group(1))  # noqa: E731
    assert height(few) == 40 + 4 * 24 + 44 and height(many) == 40 + 600 + 44
    assert len(re.findall(r'class="label"', few)) == 4 and len(re.findall(r'class="label"', many)) == 23  # every 4th
    assert len(re.findall(r'<rect class="bar"', many)) == 180  # every day's two scores still drawn
