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
