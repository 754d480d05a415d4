"""bench/stats_query.py run at a tiny size (3 hall-days of the demo hall), so the script cannot
rot: it simulates, queries in process and over HTTP, finds the same answers, and its exit code
says whether the target was met. A correctness smoke run, not a timing assertion."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def bench(cache: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(REPO / "bench" / "stats_query.py"), "--days", "3", "--copies", "1", "--repeat", "1", "--cache", str(cache), *args],
        capture_output=True, text=True, timeout=300, env={**os.environ, "PYTHONPATH": str(REPO)},
    )


def test_the_stats_bench_runs_at_a_tiny_size_and_its_exit_code_tells_a_missed_target(tmp_path):
    run = bench(tmp_path, "--rebuild", "--target", "60")  # a target no tiny query misses
    assert run.returncode == 0, run.stdout + run.stderr
    out = run.stdout
    assert "3 hall-days" in out and "meets the < 60 s target" in out
    assert "HTTP answers equal the in-process ones: True" in out
    assert "answer after rebuilding equals the simulation's derivation: True" in out
    missed = bench(tmp_path, "--target", "0.000001")  # the simulation is reused from the cache
    assert missed.returncode == 1, missed.stdout + missed.stderr
    assert "MISSES" in missed.stdout and "simulating" not in missed.stdout
