"""AB岗 at the counter: the terminal's answer offers the window to B when A pauses or has not
opened it, B takes it over with the window's own actions, and the board shows who is on duty."""

from __future__ import annotations

from datetime import datetime

from tests.halls import TZ
from tests.surfaces.window_terminal.test_queue import act, queue


async def board_window(client, h, window: str = "w1") -> dict:  # type: ignore[no-untyped-def]
    r = await client.get("/api/v1/halls/t/supervision", headers=h)
    assert r.status == 200, await r.text()
    return next(w for w in (await r.json())["windows"] if w["id"] == window)


async def test_b_is_offered_the_window_when_a_pauses_and_takes_it_over(client, login, clock):
    a, b, boss = await login("w1a"), await login("w1b"), await login("boss")
    await act(client, a, "open")
    assert (await queue(client, b))["offered_to_me"] is False
    await act(client, a, "pause", {"reason": "去后台取件"})
    seen_by_a, seen_by_b = await queue(client, a), await queue(client, b)
    assert seen_by_a["offered_to_me"] is False and seen_by_b["offered_to_me"] is True
    offer = seen_by_b["duty"]["offer"]
    assert (offer["to"]["name"], offer["reason"], offer["action"]) == ("李一", "paused", "take-over")
    assert seen_by_b["duty"]["on_duty"]["name"] == "张一" and seen_by_b["duty"]["post"] == "A"
    on_board = await board_window(client, boss)
    assert on_board["duty"]["offer"]["to"]["name"] == "李一" and on_board["clerk"]["post"] == "A"
    # Taking it over: a hand-over to oneself, then resume (what the terminal's button sends).
    await act(client, b, "handover", {"to": "w1b"})
    await act(client, b, "resume")
    after = await queue(client, b)
    assert after["offered_to_me"] is False and after["duty"]["offer"] is None
    assert (after["window"]["state"], after["duty"]["on_duty"]["name"], after["duty"]["post"]) == ("idle", "李一", "B")
    on_board = await board_window(client, boss)
    assert (on_board["clerk"]["name"], on_board["clerk"]["post"], on_board["duty"]["offer"]) == ("李一", "B", None)


async def test_b_is_offered_the_window_when_a_is_absent_at_opening(client, login, clock):
    clock.t = datetime(2026, 11, 25, 8, 34, 59, tzinfo=TZ)
    b, boss = await login("w1b"), await login("boss")
    assert (await queue(client, b))["duty"]["offer"] is None  # A has until 08:35
    clock.advance(1)
    seen = await queue(client, b)
    assert seen["offered_to_me"] is True
    assert (seen["duty"]["offer"]["reason"], seen["duty"]["offer"]["action"]) == ("absent", "open")
    assert seen["duty"]["offer"]["since"] == "2026-11-25T08:35:00+08:00"
    assert (await board_window(client, boss))["duty"]["offer"]["reason"] == "absent"
    await act(client, b, "open")
    seen = await queue(client, b)
    assert (seen["duty"]["offer"], seen["duty"]["on_duty"]["name"], seen["duty"]["post"]) == (None, "李一", "B")


async def test_a_window_without_a_b_post_is_shown_so_and_offered_to_nobody(client, login, clock):
    a, boss = await login("w2a"), await login("boss")
    await act(client, a, "open", window="w2")
    await act(client, a, "pause", {"reason": "会议"}, window="w2")
    on_board = await board_window(client, boss, "w2")
    assert on_board["duty"]["b"] is None and on_board["duty"]["offer"] is None
    assert on_board["duty"]["a"]["name"] == "王二"
