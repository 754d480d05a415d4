"""The listening socket of `hallq serve`: accepts through the connection gate, times out slow
request heads, answers refusals politely, and never runs out of descriptors while accepting.

asyncio's own accept loop, once accept() fails with EMFILE, logs a traceback for every waiting
connection (about 14,000 a second were seen) and keeps trying; here the listener pauses for a
moment instead, and every refusal goes into the gate's summary line. Each accepted connection
runs aiohttp's own protocol inside `Tracked`, which counts it and closes it when its request
head does not arrive in time (slowloris); idle keep-alive connections are closed by aiohttp
(`keepalive_timeout`).
"""

from __future__ import annotations

import asyncio
import errno
import json
import logging
import socket
from collections.abc import Callable, Coroutine
from typing import Any

from aiohttp import web

from .connections import ADDRESS, DESCRIPTORS, GATE, Gate, peer_key

log = logging.getLogger("hallq.connections")

PAUSE_S = 0.25  # out of descriptors: how long the listener rests before it accepts again
LINGER_S = 1.0  # a refused connection stays open this long for its request, so the answer is read
MAX_LINGERING = 32  # refusals waiting for their request at once; beyond, closed at once


def _answer(status: int, reason: str, code: str, detail: str, retry_after: int | None = None) -> bytes:
    """A whole HTTP answer with a problem+json body, as server/api/errors.py writes them."""
    title = reason[0] + reason[1:].lower()
    body = json.dumps({"type": f"urn:hallq:problem:{code}", "title": title, "status": status, "detail": detail}).encode()
    retry = f"Retry-After: {retry_after}\r\n" if retry_after is not None else ""
    return (f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/problem+json; charset=utf-8\r\n"
            f"Content-Length: {len(body)}\r\n{retry}X-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n").encode() + body


TOO_MANY = _answer(429, "Too Many Requests", "too-many-connections",
                   "too many connections from this address; close some or try again later", 5)
FULL = _answer(503, "Service Unavailable", "server-full", "the server holds all the connections it can; try again shortly", 5)
HEAD_TIMEOUT = _answer(408, "Request Timeout", "request-timeout", "the request head did not arrive in time")


class Refused(asyncio.Protocol):
    """A refused connection: its answer, then a FIN; its request is read and dropped for a
    moment, since closing with unread data resets the connection and the client may lose the answer."""

    def __init__(self, answer: bytes, done: Callable[[], None]) -> None:
        self.answer, self.done = answer, done
        self.timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        transport.write(self.answer)
        transport.write_eof()
        self.timer = asyncio.get_running_loop().call_later(LINGER_S, transport.abort)

    def data_received(self, data: bytes) -> None:
        pass

    def eof_received(self) -> bool:
        return False  # the client has sent all it will: close

    def connection_lost(self, exc: Exception | None) -> None:
        if self.timer is not None:
            self.timer.cancel()
        self.done()


class Tracked(asyncio.Protocol):
    """aiohttp's protocol for one connection, counted by the gate and given a deadline for its
    request head: armed by the first byte of a request, cleared when aiohttp hands the request
    to the app (`handling`), re-armed by the next request's first byte."""

    def __init__(self, inner: asyncio.Protocol, gate: Gate, key: str, trackers: dict[object, Tracked]) -> None:
        self.inner, self.gate, self.key, self.trackers = inner, gate, key, trackers
        self.transport: asyncio.Transport | None = None
        self.busy = False
        self.deadline: asyncio.TimerHandle | None = None
        self.released = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.trackers[self.inner] = self
        self.inner.connection_made(transport)

    def data_received(self, data: bytes) -> None:
        if not self.busy and self.deadline is None and self.gate.limits.header_timeout_s > 0:
            self.deadline = asyncio.get_running_loop().call_later(self.gate.limits.header_timeout_s, self._too_slow)
        self.inner.data_received(data)

    def handling(self, busy: bool) -> None:
        self.busy = busy
        if self.deadline is not None:
            self.deadline.cancel()
            self.deadline = None

    def _too_slow(self) -> None:
        self.deadline = None
        if self.transport is not None and not self.busy:
            self.transport.write(HEAD_TIMEOUT)
            self.transport.close()

    def eof_received(self) -> bool | None:
        return self.inner.eof_received()

    def pause_writing(self) -> None:
        self.inner.pause_writing()

    def resume_writing(self) -> None:
        self.inner.resume_writing()

    def connection_lost(self, exc: Exception | None) -> None:
        self.release()
        if self.deadline is not None:
            self.deadline.cancel()
        self.inner.connection_lost(exc)

    def release(self) -> None:
        if not self.released:
            self.released = True
            self.trackers.pop(self.inner, None)
            self.gate.release(self.key)


@web.middleware
async def request_heads(request: web.Request, handler: Callable[[web.Request], Any]) -> web.StreamResponse:
    """A request reached the app: its head arrived in time; the next one gets its own deadline."""
    tracker = request.app[GATE].trackers.get(request.protocol)
    if tracker is None:  # served by another site (tests' own servers)
        return await handler(request)
    tracker.handling(True)
    try:
        return await handler(request)
    finally:
        tracker.handling(False)


class GatedSite(web.BaseSite):
    """A TCP site whose accept loop is ours: see the module's docstring."""

    def __init__(self, runner: web.AppRunner, gate: Gate, host: str, port: int, *, backlog: int = 128,
                 reuse_port: bool = False) -> None:
        super().__init__(runner, backlog=backlog)
        self.gate, self.host, self.port, self.reuse_port = gate, host, port, reuse_port
        self.sockets: list[socket.socket] = []
        self.trackers: dict[object, Tracked] = gate.trackers
        self.lingering = 0
        self.paused = False
        self.tasks: set[asyncio.Task[None]] = set()  # connections being set up, held until they are

    @property
    def name(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def start(self) -> None:
        await super().start()
        loop = asyncio.get_running_loop()
        infos = await loop.getaddrinfo(self.host or None, self.port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
        for family, kind, proto, _, address in dict.fromkeys(infos):
            sock = socket.socket(family, kind, proto)
            self.sockets.append(sock)  # closed by stop(), also when a later bind fails
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if self.reuse_port:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            sock.bind(address)
            sock.listen(self._backlog)
            sock.setblocking(False)
        self.port = self.sockets[0].getsockname()[1]  # the one chosen, when asked for port 0
        self._listen(True)

    async def stop(self) -> None:
        if not self.paused and self.sockets:
            self._listen(False)
        self.paused = True  # and no resume after a pause in progress
        for sock in self.sockets:
            sock.close()
        self.sockets.clear()
        self.gate.close()
        await super().stop()

    def _listen(self, on: bool) -> None:
        loop = asyncio.get_running_loop()
        for sock in self.sockets:
            if on:
                loop.add_reader(sock.fileno(), self._accept, sock)
            else:
                loop.remove_reader(sock.fileno())

    def _resume(self) -> None:
        if self.paused and self.sockets:
            self.paused = False
            self._listen(True)

    def _accept(self, sock: socket.socket) -> None:
        loop = asyncio.get_running_loop()
        for _ in range(self._backlog):  # what is waiting now; the rest on the next turn of the loop
            try:
                conn, addr = sock.accept()
            except (BlockingIOError, InterruptedError):
                return
            except ConnectionAbortedError:
                continue
            except OSError as exc:
                # The connections wait in the kernel's backlog meanwhile, not in our log.
                out = exc.errno in (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM)
                self.gate.refuse(DESCRIPTORS if out else f"as accept() failed: {exc.strerror}", None)
                self._listen(False)
                self.paused = True
                loop.call_later(PAUSE_S, self._resume)
                return
            conn.setblocking(False)
            key = peer_key(addr)
            reason = self.gate.admit(key)
            if reason is None:
                self._spawn(self._serve(conn, key))
            else:
                self._refuse(conn, TOO_MANY if reason == ADDRESS else FULL)

    async def _serve(self, conn: socket.socket, key: str) -> None:
        server = self._runner.server
        tracked: Tracked | None = None

        def protocol() -> Tracked:
            nonlocal tracked
            assert server is not None
            tracked = Tracked(server(), self.gate, key, self.trackers)
            return tracked

        try:
            await asyncio.get_running_loop().connect_accepted_socket(protocol, conn)
        except Exception:  # the client left before its transport was made
            conn.close()
            if tracked is not None:
                tracked.release()
            else:
                self.gate.release(key)

    def _refuse(self, conn: socket.socket, answer: bytes) -> None:
        if self.lingering >= MAX_LINGERING:  # a flood: answer and close now, dropping what has come
            try:
                conn.send(answer)
                conn.shutdown(socket.SHUT_WR)
                while conn.recv(65536):
                    pass
            except OSError:
                pass
            conn.close()
            return
        self.lingering += 1

        def done() -> None:
            self.lingering -= 1

        async def linger() -> None:
            try:
                await asyncio.get_running_loop().connect_accepted_socket(lambda: Refused(answer, done), conn)
            except Exception:
                conn.close()
                done()

        self._spawn(linger())

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)


def run(app: web.Application, host: str, port: int, *, reuse_port: bool = False) -> None:
    """Serve `app` until SIGINT or SIGTERM, as `web.run_app` does, through the gated site."""
    gate = app[GATE]

    async def serve() -> None:
        runner = web.AppRunner(app, handle_signals=True, access_log=None, keepalive_timeout=gate.limits.idle_timeout_s)
        await runner.setup()
        try:
            await GatedSite(runner, gate, host, port, reuse_port=reuse_port).start()
            log.info("listening on %s:%d; %s", host, port, gate.describe())
            shown = f"[{host}]" if ":" in host else (host or "0.0.0.0")
            print(f"hallq: serving on http://{shown}:{port}/", flush=True)  # the address, for the person who started it
            await asyncio.Event().wait()
        finally:
            await runner.cleanup()

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    main = loop.create_task(serve())
    try:
        loop.run_until_complete(main)
    except (web.GracefulExit, KeyboardInterrupt):
        pass
    finally:
        main.cancel()
        try:
            loop.run_until_complete(main)
        except (asyncio.CancelledError, web.GracefulExit):
            pass
        finally:
            pending = asyncio.all_tasks(loop)
            for task in pending:
                task.cancel()
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()
