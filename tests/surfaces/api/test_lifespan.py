"""The app's one lifespan starts every service and background task in its listed order, stops
them in the reverse order, and leaves no task running once the app is cleaned up."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest
from aiohttp.test_utils import TestClient, TestServer

from server.api import Settings, create_app
from server.api.lifespan import LIFESPAN, SCHEDULER, Lifespan, Step

ORDER = [
    "database", "catalogue imports", "refusals log", "accounts", "calendar", "bus", "scheduler", "halls", "device sweep",
    "feeds", "booking sweeps", "print dispatcher", "statistics", "supervision sweeps", "statistics builder",
    "outbound", "outboxes", "serving",
]


def _recorded(life: Lifespan, log: list[str]) -> None:
    """Note each step's start and stop as it happens (the steps themselves stay the real ones)."""

    def note(what: str, action):  # type: ignore[no-untyped-def]
        async def run() -> object:
            log.append(what)
            return await action()

        return run

    life.steps[:] = [Step(s.name, note(f"start {s.name}", s.start), note(f"stop {s.name}", s.stop)) for s in life.steps]


async def test_the_lifespan_starts_every_task_in_order_and_stops_them_in_reverse(settings: Settings) -> None:
    before = asyncio.all_tasks()
    app = create_app(settings)
    life = app[LIFESPAN]
    assert life.names() == ORDER
    log: list[str] = []
    _recorded(life, log)

    client = TestClient(TestServer(app))
    await client.start_server()
    try:
        assert life.running == ORDER
        assert log == [f"start {name}" for name in ORDER]
        running = {t.get_name() for t in asyncio.all_tasks()}
        for name in ("hall-writer-t", "feed-t", "device-sweep", "stats-builder", "scheduler"):
            assert name in running, name
        # Every hall's timed work is an entry of the one scheduler, not a task of its own.
        timed = set(app[SCHEDULER].keys())
        for key in (("day", "t"), ("bookings", "t"), ("supervise", "t"), ("print-days",), ("uploads", "t"), ("sms", "t")):
            assert key in timed, key
        assert life.tasks.keys() == {"device sweep", "statistics builder"}
        resp = await client.get("/api/v1/halls")
        assert resp.status == 200
    finally:
        await client.close()

    assert log[len(ORDER):] == [f"stop {name}" for name in reversed(ORDER)]
    assert life.running == [] and life.tasks == {} and app[SCHEDULER].keys() == []
    left = [t for t in asyncio.all_tasks() - before if t is not asyncio.current_task() and not t.done()]
    assert [t.get_name() for t in left] == []


async def test_one_process_of_several_runs_no_sweeps_and_follows_the_accounts(settings: Settings) -> None:
    life = create_app(dataclasses.replace(settings, background=False, redis_url="redis://127.0.0.1:6379/0"))[LIFESPAN]
    names = life.names()
    assert "supervision sweeps" not in names and "statistics builder" not in names and "rating uploads" not in names and "sms" not in names
    assert names.index("halls") < names.index("accounts follower") < names.index("feeds")


async def test_a_step_that_fails_to_start_stops_those_started_before_it_in_reverse() -> None:
    log: list[str] = []

    def step(name: str, fail: bool = False) -> Step:
        async def start() -> None:
            if fail:
                raise RuntimeError(f"{name} cannot start")
            log.append(f"start {name}")

        async def stop() -> None:
            log.append(f"stop {name}")

        return Step(name, start, stop)

    life = Lifespan()
    for s in (step("a"), step("b"), step("c", fail=True), step("d")):
        life.add(s.name, s.start, s.stop)
    with pytest.raises(RuntimeError, match="c cannot start"):
        async for _ in life.run(None):  # type: ignore[arg-type]
            pass
    assert log == ["start a", "start b", "stop b", "stop a"]
    assert life.running == []


async def test_background_tasks_of_a_step_are_cancelled_and_awaited_at_its_stop() -> None:
    life = Lifespan()
    started: list[str] = []
    stopped: list[str] = []

    async def forever(name: str) -> None:
        started.append(name)
        try:
            await asyncio.Event().wait()
        finally:
            stopped.append(name)

    life.add_tasks("work", lambda: {"work-1": forever("1"), "work-2": forever("2")})
    run = life.run(None)  # type: ignore[arg-type]
    await run.__anext__()
    tasks = life.tasks["work"]
    assert [t.get_name() for t in tasks] == ["work-1", "work-2"]
    async with asyncio.timeout(5):
        while len(started) < 2:  # both are inside their work, not merely scheduled
            await asyncio.sleep(0)
    with pytest.raises(StopAsyncIteration):
        await run.__anext__()
    assert sorted(stopped) == ["1", "2"] and all(t.done() for t in tasks) and life.tasks == {}
