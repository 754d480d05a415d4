"""The priority lane (绿色通道) under load, played through the domain core on a pool of identical
windows against the non-preemptive priority M/M/c formula (server/domain/queueing.py)."""

from __future__ import annotations

from statistics import mean

import pytest

from server.domain.queueing import erlang_c, mean_wait_fcfs, mean_waits_by_priority
from server.stats.pool import play

WINDOWS, SERVICE_S, LOAD, SHARE, RATIO = 6, 30.0, 0.95, 0.10, 2


def test_erlang_c_matches_known_values():
    # Values from the Erlang C table: 2 servers at 1 Erlang, 10 servers at 8 Erlangs.
    assert erlang_c(2, 1.0) == pytest.approx(1 / 3)
    assert erlang_c(10, 8.0) == pytest.approx(0.4092, abs=1e-4)
    assert erlang_c(1, 0.5) == pytest.approx(0.5)  # M/M/1: the load
    assert mean_wait_fcfs(1, 0.5 / 60, 60) == pytest.approx(60)  # M/M/1: ρ/(1−ρ)·S
    # one class of priority is the FCFS queue; the classes' waits average to it
    rate = LOAD * WINDOWS / SERVICE_S
    (alone,) = mean_waits_by_priority(WINDOWS, [rate], SERVICE_S)
    assert alone == pytest.approx(mean_wait_fcfs(WINDOWS, rate, SERVICE_S))
    high, low = mean_waits_by_priority(WINDOWS, [SHARE * rate, (1 - SHARE) * rate], SERVICE_S)
    assert SHARE * high + (1 - SHARE) * low == pytest.approx(alone)


@pytest.mark.parametrize("seed", [1, 2])
def test_at_95_percent_load_priority_tickets_wait_as_the_priority_formula_says_and_normal_ones_get_their_turn(seed: int):
    run = play(WINDOWS, LOAD, SERVICE_S, 8000, priority_share=SHARE, priority_ratio=RATIO, seed=seed)
    steady = run.served[800:]  # the pool starts empty: leave out the first tenth
    rate = LOAD * WINDOWS / SERVICE_S
    high, _ = mean_waits_by_priority(WINDOWS, [SHARE * rate, (1 - SHARE) * rate], SERVICE_S)
    priority = mean(s.waited_s for s in steady if s.priority)
    assert high * 0.75 <= priority <= high * 1.25, (priority, high)
    # Before, tickets that had waited `ageing_s` went first whatever their lane: at this load
    # nearly all of them, so priority tickets waited about as long as everyone (14 times more).
    assert priority < mean_wait_fcfs(WINDOWS, rate, SERVICE_S) / 5
    # The configured bound on what the priority lane costs a normal ticket: no window calls
    # more than `priority_ratio` priority tickets in a row while a normal one waits for it.
    assert run.longest_priority_run == RATIO
