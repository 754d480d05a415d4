"""bench/forecast.py run at a tiny size (fifteen hall-days, one held-out week, one planned day), so
the script cannot rot: it simulates, forecasts, plans, plays and prints its figures."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_the_forecast_bench_runs_at_a_tiny_size(tmp_path):
    run = subprocess.run(
        [sys.executable, str(REPO / "bench" / "forecast.py"), "--days", "15", "--held-out", "1", "--planned", "1", "--cache", str(tmp_path)],
        capture_output=True, text=True, timeout=600, env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert run.returncode in (0, 1), run.stdout + run.stderr  # 1: a week's history does not beat last week, which is fair
    out = run.stdout
    assert "simulating 15 hall-days of demo" in out
    assert "MAPE per half hour:" in out and "naive (same weekday last week)" in out and "MAPE per day:" in out
    assert "half hours meeting the target with the plan's windows:" in out and "window-half-hours: plan" in out
