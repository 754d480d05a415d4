"""The connection gate in process: who counts as one address, the totals derived from the
descriptor limit, refusals logged once per interval, websockets refused before the upgrade, and
a listener that pauses instead of logging a traceback per connection when descriptors run out."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
import resource
import socket
import time

import aiohttp
import pytest
from aiohttp import web

from server.api import create_app
from server.api.connections import GATE, Gate, address_key
from server.api.listener import GatedSite
from server.limits import ConnectionLimits


def test_one_address_is_the_peer_address_in_one_spelling():
    assert address_key("192.0.2.7") == address_key("::ffff:192.0.2.7") == "192.0.2.7"
    assert address_key("2001:DB8:0:0:0:0:0:1") == "2001:db8::1"
    assert address_key("2001:db8::1") != address_key("2001:db8::2")  # a hall's IPv6 LAN shares a /64
    assert address_key(None) == "?"


def test_the_totals_stay_below_the_descriptor_limit():
    gate = Gate(ConnectionLimits(), fd_limit=1024)
    assert (gate.max_connections, gate.max_websockets) == (896, 672)
    asked_too_much = Gate(ConnectionLimits(max_connections=5000, max_websockets=5000), fd_limit=1024)
    assert asked_too_much.clamped and asked_too_much.max_connections == 896 and asked_too_much.max_websockets == 896
    assert "lowered" in asked_too_much.describe()
    assert Gate(ConnectionLimits(max_connections=100), fd_limit=1024).max_websockets == 75


async def test_each_address_has_its_share_and_a_closed_connection_gives_its_place_back(caplog):
    gate = Gate(ConnectionLimits(max_connections=4, per_address=3, refusal_log_interval_s=0.2), fd_limit=1024)
    caplog.set_level(logging.WARNING, "hallq.connections")
    assert [gate.admit("a") for _ in range(4)] == [None, None, None, "over the per-address cap"]
    assert gate.admit("b") is None
    assert gate.admit("c") == "over the total cap"
    gate.release("a")
    assert gate.admit("c") is None
    for _ in range(50):
        gate.admit("a")
    assert gate.figures()["refused"] == 52 and gate.figures()["open"] == 4
    # The first refusal was logged at once; the 51 after it wait for the interval's summary.
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 1 and lines[0].startswith("refused 1:")
    deadline = time.monotonic() + 5
    while len(caplog.records) < 2 and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    summary = caplog.records[1].getMessage()
    assert summary.startswith("refused 51: connections over the total cap ×51; most from a ×50, c ×1"), summary
    gate.close()


async def test_websockets_over_the_cap_are_answered_429_before_the_upgrade(aiohttp_client, settings):
    settings = dataclasses.replace(settings, connections=ConnectionLimits(websockets_per_address=2))
    client = await aiohttp_client(create_app(settings))
    held = [await client.ws_connect("/ws/v1/halls/t") for _ in range(2)]
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await client.ws_connect("/ws/v1/halls/t")
    assert refused.value.status == 429
    answer = await client.get("/ws/v1/halls/t", headers={"Upgrade": "websocket", "Connection": "Upgrade",
                                                          "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version": "13"})
    assert answer.status == 429 and answer.content_type == "application/problem+json" and "Retry-After" in answer.headers
    health = await (await client.get("/api/v1/health")).json()
    assert health["connections"]["websockets"] == 2 and health["connections"]["refused"] == 2
    await held[0].close()
    deadline = time.monotonic() + 5
    while client.app[GATE].websocket_total > 1 and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
    again = await client.ws_connect("/ws/v1/halls/t")  # the screen that left gave its place back
    await again.close()
    await held[1].close()


async def test_out_of_descriptors_the_listener_pauses_and_logs_one_line_not_a_traceback_per_connection(settings, caplog):
    caplog.set_level(logging.INFO)
    app = create_app(dataclasses.replace(settings, background=False))  # no statistics builder opening files meanwhile
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = GatedSite(runner, app[GATE], "127.0.0.1", 0)
    await site.start()
    port = site.sockets[0].getsockname()[1]
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    # Connected in the kernel, not yet accepted: the loop has not run since.
    clients = [socket.create_connection(("127.0.0.1", port)) for _ in range(20)]
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (len(os.listdir("/proc/self/fd")), hard))
        try:
            deadline = time.monotonic() + 5
            while site.gate.refused_total < 3 and time.monotonic() < deadline:  # it tries again, after a pause each time
                await asyncio.sleep(0.05)
        finally:
            resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
        assert site.gate.refused_total >= 3
        assert not [r for r in caplog.records if r.name == "asyncio" or r.exc_info]
        refusals = [r.getMessage() for r in caplog.records if r.name == "hallq.connections"]
        assert len(refusals) == 1 and "out of file descriptors" in refusals[0]

        # Descriptors are back: every waiting client is served.
        def ask(sock: socket.socket) -> bytes:
            sock.settimeout(5)
            sock.sendall(b"GET /api/v1/halls HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            return sock.recv(12)

        answers = await asyncio.gather(*(asyncio.to_thread(ask, c) for c in clients))
        assert set(answers) == {b"HTTP/1.1 200"}
    finally:
        for c in clients:
            c.close()
        await runner.cleanup()


@pytest.mark.parametrize("flags", [("--max-connections", "-1"), ("--idle-timeout", "0"), ("--refusal-log-interval", "0")])
def test_limits_that_make_no_sense_stop_the_server_before_it_starts(flags, capsys):
    from server.cli import main

    assert main(["serve", *flags]) == 2
    assert "connection limits" in capsys.readouterr().err
