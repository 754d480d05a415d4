"""Queueing formulas for a pool of identical windows (M/M/c), used to check the call policy and
the wait estimates against theory. Pure functions of rates; times in seconds."""

from __future__ import annotations

import math


def erlang_c(windows: int, offered: float) -> float:
    """The probability that an arrival waits (Erlang C) with `windows` servers and `offered`
    load in Erlangs (arrival rate × mean service time); 1.0 when the pool is overloaded."""
    if windows <= 0 or offered >= windows:
        return 1.0
    if offered <= 0:
        return 0.0
    b = 1.0  # Erlang B by its stable recursion, then C from B
    for k in range(1, windows + 1):
        b = offered * b / (k + offered * b)
    return windows * b / (windows - offered * (1 - b))


def mean_wait_fcfs(windows: int, arrival_per_s: float, service_s: float) -> float:
    """Mean wait in queue of M/M/c, first come first served."""
    offered = arrival_per_s * service_s
    if offered >= windows:
        return math.inf
    return erlang_c(windows, offered) * service_s / (windows - offered)


def mean_waits_by_priority(windows: int, arrivals_per_s: list[float], service_s: float) -> list[float]:
    """Mean wait in queue of each class of a non-preemptive priority M/M/c queue (class 0 first),
    every class with the same exponential service time (Cobham's formula):
    W_k = C · S / (c · (1 − σ_{k−1}) · (1 − σ_k)), σ_k the load of classes 0..k per window."""
    offered = sum(arrivals_per_s) * service_s
    if offered >= windows:
        return [math.inf] * len(arrivals_per_s)
    base = erlang_c(windows, offered) * service_s / windows
    waits, before = [], 0.0
    for rate in arrivals_per_s:
        upto = before + rate * service_s / windows
        waits.append(base / ((1 - before) * (1 - upto)))
        before = upto
    return waits
