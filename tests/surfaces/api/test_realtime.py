"""The websocket feed's driver with real websocket clients: the contract (paths, message shapes,
resume, refusals), privacy end to end, the journal filling a gap, a stuck socket dropped. What the
feed decides (windows, tickets, history, heartbeat, limits) is tested without sockets in tests/service/feed/."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta, timezone

import aiohttp
import pytest

from server.api.context import CTX


async def recv(ws, timeout: float = 3.0) -> dict:  # type: ignore[no-untyped-def]
    msg = await asyncio.wait_for(ws.receive(), timeout)
    assert msg.type is aiohttp.WSMsgType.TEXT, msg
    return json.loads(msg.data)


async def recv_until(ws, kind: str, timeout: float = 3.0) -> dict:  # type: ignore[no-untyped-def]
    while True:
        m = await recv(ws, timeout)
        if m["type"] == kind:
            return m


async def issue(client, item: str = "a1") -> dict:  # type: ignore[no-untyped-def]
    r = await client.post("/api/v1/halls/t/tickets", json={"item": item})
    assert r.status == 201
    return await r.json()


def no_ticket_ids(payload: str, ids: list[str]) -> None:
    for i in ids:
        assert i not in payload, "a public message carried a ticket id"


async def test_a_screen_gets_a_snapshot_then_every_event_in_order(client, login):
    h = await login("w1a")
    first = await issue(client)
    ws = await client.ws_connect("/ws/v1/halls/t")
    snap = await recv(ws)
    assert snap["type"] == "snapshot" and snap["seq"] == 1
    assert {w["id"] for w in snap["state"]["windows"]} == {"w1", "w2", "w3"}
    assert next(q for q in snap["state"]["queues"] if q["item"] == "a1")["waiting"] == 1
    await client.post("/api/v1/halls/t/windows/w1/open", headers=h)
    await client.post("/api/v1/halls/t/windows/w1/call-next", headers=h)
    opened, called = await recv(ws), await recv(ws)
    assert (opened["seq"], called["seq"]) == (2, 3)
    assert called["event"]["type"] == "ticket_called" and called["event"]["number"] == "A001"
    assert called["call"]["text"] == "请 A001 号 到 1号窗口 办理"
    assert called["call"]["speech"] == "请 A零零一 号 到 一号窗口 办理"
    assert called["windows"][0]["state"] == "called" and called["windows"][0]["ticket"]["number"] == "A001"
    no_ticket_ids(json.dumps(snap) + json.dumps(called), [first["id"]])
    await ws.close()


async def test_public_messages_carry_no_ticket_id_appointment_code_or_comment(client, login):
    boss, h = await login("boss"), await login("w1a")
    await client.post(
        "/api/v1/halls/t/appointments",
        json={"code": "SECRET42", "item": "a1", "slot_start": "2026-11-25T09:00:00", "slot_end": "2026-11-25T09:30:00"},
        headers=boss,
    )
    ws = await client.ws_connect("/ws/v1/halls/t")
    staff_ws = await client.ws_connect("/ws/v1/halls/t?token=" + h["Authorization"].split()[1])
    await recv(ws), await recv(staff_ws)
    t = await (await client.post("/api/v1/halls/t/tickets", json={"item": "a1", "appointment": "SECRET42"})).json()
    for path in ("open", "call-next", "start"):
        await client.post(f"/api/v1/halls/t/windows/w1/{path}", headers=h)
    await client.post("/api/v1/halls/t/windows/w1/finish", json={"case_type": "immediate"}, headers=h)
    await client.post(f"/api/v1/halls/t/tickets/{t['id']}/evaluation", json={"score": 2, "comment": "态度差，电话13800138000"})
    await client.post("/api/v1/halls/t/windows/w1/handover", json={"to": "w1b"}, headers=h)
    public = [await recv(ws) for _ in range(7)]
    staff = [await recv(staff_ws) for _ in range(7)]
    later = await client.ws_connect("/ws/v1/halls/t")  # a screen starting now: its snapshot
    public.append(await recv(later))
    text = json.dumps(public, ensure_ascii=False)
    no_ticket_ids(text, [t["id"]])
    assert "SECRET42" not in text and "13800138000" not in text and "态度差" not in text
    assert [m["seq"] for m in public[:7]] == [m["seq"] for m in staff]
    assert t["id"] not in json.dumps(staff)  # staff name tickets by number: the id is the holder's secret
    # login names stay private; the clerk's name and staff number are public by design
    for username in ("w1a", "w1b", "boss"):
        assert f'"{username}"' not in text, f"a public message carried the account name {username!r}"
    opened = next(m for m in public if m.get("event", {}).get("type") == "window_opened")
    assert opened["event"]["clerk"] == {"name": "张一", "staff_no": "S11", "post": "A"}
    handed = next(m for m in public if m.get("event", {}).get("type") == "window_handed_over")
    assert (handed["event"]["from_clerk"]["staff_no"], handed["event"]["to_clerk"]["name"]) == ("S11", "李一")
    assert handed["windows"][0]["clerk"]["name"] == "李一"
    assert public[-1]["type"] == "snapshot" and "李一" in json.dumps(public[-1], ensure_ascii=False)
    assert '"w1a"' in json.dumps(staff) and '"w1b"' in json.dumps(staff)  # staff see who did what


async def test_resume_after_a_drop_replays_the_missed_events(client, login):
    h = await login("w1a")
    ws = await client.ws_connect("/ws/v1/halls/t")
    snap = await recv(ws)
    await ws.close()
    await issue(client)
    await client.post("/api/v1/halls/t/windows/w1/open", headers=h)
    day = snap["state"]["day"]
    ws = await client.ws_connect(f"/ws/v1/halls/t?since={snap['seq']}&day={day}")
    resumed = await recv(ws)
    assert resumed == {"type": "resumed", "seq": 0}
    assert [(await recv(ws))["seq"] for _ in range(2)] == [1, 2]
    # a resume from the future or another day gets a fresh snapshot
    await ws.send_str(json.dumps({"type": "resume", "seq": 99, "day": day}))
    assert (await recv(ws))["type"] == "snapshot"
    await ws.send_str(json.dumps({"type": "resume", "seq": 0, "day": "2020-01-01"}))
    assert (await recv(ws))["type"] == "snapshot"


async def test_bad_frames_get_an_error_and_binary_closes(client):
    ws = await client.ws_connect("/ws/v1/halls/t")
    await recv(ws)
    await ws.send_str("{not json")
    assert (await recv(ws))["type"] == "error"
    await ws.send_str(json.dumps({"type": "ping"}))
    assert (await recv(ws))["type"] == "pong"
    await ws.send_bytes(b"\x00\x01")
    msg = await asyncio.wait_for(ws.receive(), 3)
    assert msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.CLOSING)


@pytest.mark.parametrize("query,code", [("?window=w9", "unknown-window"), ("?ticket=nope", "unknown-ticket")])
async def test_unknown_subscriptions_are_refused_with_a_problem(client, query, code):
    r = await client.get("/ws/v1/halls/t" + query)
    assert r.status == 404 and (await r.json())["type"] == f"urn:hallq:problem:{code}"
    r = await client.get("/ws/v1/halls/nowhere")
    assert r.status == 404


async def test_a_gap_in_the_bus_is_filled_from_the_journal(client, login):
    """Events that never reached the bus (another worker's, or dropped) still reach screens in order."""
    ws = await client.ws_connect("/ws/v1/halls/t")
    await recv(ws)
    ctx = client.app[CTX]
    service = ctx.halls["t"]
    bus = service.local  # the bus a worker's screens hear from
    real_publish = bus.publish
    dropped = 0

    async def lossy(message):  # type: ignore[no-untyped-def]
        nonlocal dropped
        if dropped < 2:
            dropped += 1
            return None
        return await real_publish(message)

    bus.publish = lossy  # the network between workers loses two messages
    try:
        for _ in range(3):
            await issue(client)
    finally:
        bus.publish = real_publish
    seqs = [(await recv(ws))["seq"] for _ in range(3)]
    assert seqs == [1, 2, 3]


class RawScreen:
    """A real websocket client over its own TCP socket, with a tiny receive buffer, that can stop
    reading: the network under a stuck screen. websockets' sans-I/O protocol does the framing."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, protocol) -> None:  # type: ignore[no-untyped-def]
        self.reader, self.writer, self.protocol = reader, writer, protocol

    @classmethod
    async def connect(cls, host: str, port: int, path: str) -> "RawScreen":
        import socket

        from websockets.client import ClientProtocol
        from websockets.uri import parse_uri

        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # before connect: a small window
        sock.setblocking(False)
        await asyncio.get_running_loop().sock_connect(sock, (host, port))
        reader, writer = await asyncio.open_connection(sock=sock, limit=4096)
        protocol = ClientProtocol(parse_uri(f"ws://{host}:{port}{path}"))
        screen = cls(reader, writer, protocol)
        protocol.send_request(protocol.connect())
        screen._flush()
        from websockets.http11 import Response

        while True:  # the handshake: read until the server's 101
            data = await asyncio.wait_for(reader.read(4096), 3)
            assert data, "the server closed during the handshake"
            protocol.receive_data(data)
            if any(isinstance(e, Response) for e in protocol.events_received()):
                break
        assert protocol.handshake_exc is None, protocol.handshake_exc
        return screen

    def _flush(self) -> None:
        for chunk in self.protocol.data_to_send():
            self.writer.write(chunk)

    async def read_to_the_end(self, timeout: float) -> tuple[int, int | None]:
        """Read everything left (messages, close); return (text messages, close code or None)."""
        from websockets.frames import Frame, Opcode

        messages, code = 0, None
        deadline = asyncio.get_running_loop().time() + timeout
        while asyncio.get_running_loop().time() < deadline:
            try:
                data = await asyncio.wait_for(self.reader.read(65536), 1)
            except asyncio.TimeoutError:
                continue
            except ConnectionError:
                break
            if not data:
                self.protocol.receive_eof()
            else:
                self.protocol.receive_data(data)
            for e in self.protocol.events_received():
                if isinstance(e, Frame) and e.opcode is Opcode.TEXT:
                    messages += 1
                elif isinstance(e, Frame) and e.opcode is Opcode.CLOSE:
                    code = int.from_bytes(e.data[:2], "big")
            if not data:
                break
        return messages, code

    def close(self) -> None:
        self.writer.close()


async def test_a_screen_that_stops_reading_is_dropped_and_the_others_keep_up(client):
    """A real client over TCP that stops reading: the server drops it (1013) and never waits for it."""
    from server.api.realtime import FEEDS
    from server.domain.commands import IssueTicket
    from server.hall import new_ticket_id

    feed = client.app[FEEDS]["t"]
    service = client.app[CTX].halls["t"]
    stuck = await RawScreen.connect(client.server.host, client.server.port, "/ws/v1/halls/t")
    healthy = await client.ws_connect("/ws/v1/halls/t")
    await recv(healthy)
    for _ in range(50):
        if len(feed.clients) == 2:
            break
        await asyncio.sleep(0.05)
    assert len(feed.clients) == 2
    # Linux grows a loopback socket's send buffer up to tcp_wmem's maximum (4 MB here, some
    # 10,000 events); a fixed small buffer on the server's side of this one connection makes it
    # fill in a few hundred, as a slow link would. The feed's code path is the same either way.
    import socket

    port = stuck.writer.get_extra_info("sockname")[1]
    (victim,) = [c for c in feed.clients if c.transport.get_extra_info("peername")[1] == port]
    victim.transport.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 8192)
    # the stuck screen reads nothing from now on; events go on, one at a time, each to be seen at once
    slowest, n = 0.0, 0
    loop = asyncio.get_running_loop()
    while len(feed.clients) == 2 and n < 4000:
        n += 1
        began = loop.time()
        await service.handle(IssueTicket(by="kiosk", ticket=new_ticket_id(), item="a1"))
        m = await recv_until(healthy, "event", timeout=2)
        assert m["seq"] == n
        slowest = max(slowest, loop.time() - began)
    assert len(feed.clients) == 1, f"the stuck screen was still served after {n} events"
    assert slowest < 1.0, f"a healthy screen waited {slowest:.2f} s for an event"
    for _ in range(5):  # and the hall goes on for the healthy one
        n += 1
        await service.handle(IssueTicket(by="kiosk", ticket=new_ticket_id(), item="a1"))
        assert (await recv_until(healthy, "event"))["seq"] == n
    # the stuck screen, reading at last, finds fewer messages than events and then a 1013 or the end
    messages, code = await stuck.read_to_the_end(timeout=15)
    assert messages < n + 1 and code in (1013, None)
    stuck.close()


async def test_a_return_time_reaches_screens_in_the_halls_time_whatever_offset_it_came_with(client, login):
    """Screens show a return time as the HH:MM of its ISO text: it must be the hall's clock."""
    h = await login("w2a")
    ws = await client.ws_connect("/ws/v1/halls/t")
    await recv(ws)
    await client.post("/api/v1/halls/t/windows/w2/open", headers=h)
    now = client.app[CTX].halls["t"].clock.now()
    back = (now + timedelta(hours=1)).astimezone(timezone.utc)  # sent in UTC by some client
    r = await client.post("/api/v1/halls/t/windows/w2/pause", json={"reason": "培训", "until": back.isoformat()}, headers=h)
    assert r.status == 200, await r.text()
    await recv_until(ws, "event")
    paused = await recv_until(ws, "event")
    until = paused["event"]["until"]
    assert datetime.fromisoformat(until) == back and until[11:16] == (now + timedelta(hours=1)).strftime("%H:%M")
    assert paused["windows"][0]["pause"]["until"] == until
