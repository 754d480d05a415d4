"""One suite, every bus: the in-process bus and Redis (a private redis-server) keep the same
promises. `pair` gives two ends of the same bus, as two workers see it: with the in-process
bus both ends are one object (one process), with Redis two connections (two processes)."""

from __future__ import annotations

import asyncio
from datetime import date

import pytest

from server.bus import LocalBus, Published
from tests.services import CuttableProxy, RedisServer

DAY = date(2026, 11, 25)


def msg(hall: str, first: int, *numbers: str) -> Published:
    return Published(hall, DAY, first, tuple({"type": "ticket_issued", "number": n} for n in numbers))


@pytest.fixture(params=["local", pytest.param("redis", marks=pytest.mark.redis)])
async def pair(request, tmp_path):  # type: ignore[no-untyped-def]
    if request.param == "local":
        bus = LocalBus()
        await bus.start()
        yield bus, bus, None
        await bus.close()
        return
    from server.bus.redis import RedisBus

    server = RedisServer(tmp_path / "redis")
    server.start()
    a, b = RedisBus(server.url), RedisBus(server.url)
    await a.start()
    await b.start()
    yield a, b, server
    await a.close()
    await b.close()
    server.stop()


async def get(sub, timeout: float = 5.0) -> Published:  # type: ignore[no-untyped-def]
    return await asyncio.wait_for(sub.get(), timeout)


async def until(condition, timeout: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition() and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.02)


async def test_a_subscriber_hears_every_message_in_order_with_its_positions(pair):
    a, b, _ = pair
    sub = b.subscribe("h1")
    for n in range(1, 51):
        await a.publish(msg("h1", n, f"A{n:03d}"))
    got = [await get(sub) for _ in range(50)]
    assert [m.first_seq for m in got] == list(range(1, 51))
    assert got[9].events == ({"type": "ticket_issued", "number": "A010"},)
    assert got[0].day == DAY and got[0].hall == "h1"


async def test_halls_are_separate_and_chinese_text_survives(pair):
    a, b, _ = pair
    one, two = b.subscribe("h1"), b.subscribe("h2")
    await a.publish(Published("h2", DAY, 1, ({"type": "window_paused", "reason": "临时离开，请稍候"},)))
    await a.publish(msg("h1", 1, "A001"))
    assert (await get(one)).events[0]["number"] == "A001"
    assert (await get(two)).events[0]["reason"] == "临时离开，请稍候"
    assert one.queue.empty() and two.queue.empty()


async def test_a_publisher_hears_its_own_messages_once(pair):
    a, _, _ = pair
    sub = a.subscribe("h1")
    await a.publish(msg("h1", 1, "A001"))
    await a.publish(msg("h1", 2, "A002"))
    assert [(await get(sub)).first_seq for _ in range(2)] == [1, 2]
    await asyncio.sleep(0.3)  # an echo from Redis would arrive by now
    assert sub.queue.empty()


async def test_a_closed_subscription_hears_nothing_more(pair):
    a, b, _ = pair
    sub, other = b.subscribe("h1"), b.subscribe("h1")
    sub.close()
    await a.publish(msg("h1", 1, "A001"))
    assert (await get(other)).first_seq == 1
    await asyncio.sleep(0.2)
    assert sub.queue.empty()


async def test_a_full_subscription_is_marked_lagged_instead_of_blocking(pair):
    a, b, _ = pair
    sub = b.subscribe("h1", maxsize=3)
    for n in range(1, 11):
        await a.publish(msg("h1", n, f"A{n:03d}"))
    deadline = asyncio.get_running_loop().time() + 5
    while not sub.lagged and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.02)
    assert sub.lagged and sub.queue.qsize() == 3


@pytest.mark.redis
async def test_after_redis_restarts_listeners_are_told_to_catch_up_and_waiting_messages_go_out(tmp_path):
    """Redis keeps nothing: a listener must learn that it may have missed messages, and a
    message published while Redis was away goes out once it is back.

    Redis delivers a message only to those subscribed when it arrives, so the publisher is kept
    away (its link cut) until the listener has subscribed again; the other order, where the
    listener misses it and catches up from the journal, is the next test."""
    from server.bus.redis import RedisBus

    server = RedisServer(tmp_path / "redis")
    server.start()
    link = CuttableProxy(server.port)  # a's network to Redis
    await link.start()
    a, b = RedisBus(f"redis://127.0.0.1:{link.port}/0"), RedisBus(server.url)
    await a.start()
    await b.start()
    try:
        sub = b.subscribe("h1")
        await a.publish(msg("h1", 1, "A001"))
        assert (await get(sub)).first_seq == 1
        server.stop()
        await until(lambda: not a.healthy and not b.healthy)
        assert not a.healthy and not b.healthy
        await a.publish(msg("h1", 2, "A002"))  # Redis is down: it waits in the outbox
        link.cut()
        server.start()
        await until(lambda: b.healthy)
        assert b.healthy and a.stats()["outbox"] == 1
        link.restore()
        heard: list[Published] = []
        while not any(m.first_seq == 2 for m in heard):
            heard.append(await get(sub, 15))
        assert sub.lagged, "a listener must be told it may have missed messages"
        await until(lambda: a.healthy and b.healthy and a.stats()["outbox"] == 0)
        assert a.healthy and b.healthy and a.stats()["outbox"] == 0
        assert [m.first_seq for m in heard if m.events] == [2]
    finally:
        await a.close()
        await b.close()
        await link.close()
        server.stop()


@pytest.mark.redis
async def test_a_listener_is_told_to_catch_up_only_once_redis_has_its_subscription(tmp_path):
    """Subscribing again is a request like any other: until Redis has read it, what others
    publish is not heard. A listener told to catch up when the request was merely sent reads
    the journal too early, and a message published in between is lost until the next one."""
    from server.bus.redis import RedisBus

    server = RedisServer(tmp_path / "redis")
    server.start()
    link = CuttableProxy(server.port)  # b's network to Redis
    await link.start()
    a, b = RedisBus(server.url), RedisBus(f"redis://127.0.0.1:{link.port}/0")
    await a.start()
    await b.start()
    journal: list[Published] = []  # what the writers stored before publishing: the record
    try:
        sub = b.subscribe("h1")
        journal.append(msg("h1", 1, "A001"))
        await a.publish(journal[-1])
        assert (await get(sub)).first_seq == 1
        link.hold(b"PSUBSCRIBE")
        link.cut()  # b loses Redis …
        await until(lambda: not b.healthy)
        link.restore()  # … and subscribes again over a slow link
        await asyncio.wait_for(link.held.wait(), 10)
        while not sub.queue.empty():  # the listener catches up on what it was told so far: nothing new
            sub.queue.get_nowait()
        sub.lagged = False
        # Redis has not read the request: b must not say it is back (a wrong claim comes at once)
        await until(lambda: b.healthy or not sub.queue.empty(), timeout=1.0)
        assert not b.healthy and sub.queue.empty(), "b told its listeners to catch up before Redis had its subscription"
        journal.append(msg("h1", 2, "A002"))
        await a.publish(journal[-1])
        await until(lambda: a.stats()["outbox"] == 0)
        assert a.stats()["outbox"] == 0  # Redis has it, and b is not subscribed yet to hear it
        link.release()
        known = 1
        while known < 2:  # b hears it, or is told to catch up from the journal
            m = await get(sub, 10)
            known = max(known, m.last_seq)
            if sub.lagged:
                sub.lagged = False
                known = journal[-1].last_seq
        assert b.healthy
    finally:
        await a.close()
        await b.close()
        await link.close()
        server.stop()
