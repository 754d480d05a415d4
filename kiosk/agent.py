"""The kiosk print agent: a small process on the kiosk PC that prints the server's jobs locally.

    hallq-agent --server http://HALL-SERVER:8080 --hall demo --kiosk k1 \
        [--printer network:127.0.0.1:9100 | usb:0x0416:0x5011 | serial:/dev/ttyS0@9600 | file:/dev/usb/lp0
                   | win32raw:POS-80C | cups:pos80] \
        [--state ~/.hallq-agent/demo-k1.json] [--device-file ~/.hallq-agent/demo-k1.device] [--status-every 60]
        [--card-reader serial:/dev/ttyUSB0 | wedge:/dev/ttyACM0] [--card-port 8766]

It keeps one websocket to the server (WS /ws/v1/halls/{hall}/kiosks/{kiosk}) and reconnects by
itself with backoff. Each job carries an id and the ticket's ESC/POS bytes, rendered by the
server. Never twice: before printing, the agent writes the job id to its state file; a job it
has seen before is acknowledged from that file and not printed again. Only a job the printer
refused before it got a byte is forgotten (nothing came out: it may print if sent again); a job
interrupted once bytes had gone (the printer hung up, the paper ran out, the agent stopped
half-way) is reported failed with `sent: true` rather than risked twice, and stays in the file:
a person looks at the printer and asks for a reprint, which is a new job. Results
the server has not confirmed are sent again after every reconnect. The printer comes from the
kiosk's config on the server unless --printer names a local one.

In a hall that requires registered devices the server refuses an agent without a device token
(401): the agent then registers as the kiosk's print agent, prints a six-digit code for the
manager to approve on the dashboard's 设备管理 page, waits, and keeps the token it receives in
its device file (mode 600). A revoked token (refused, or its connection closed with 4401) is
deleted and the agent registers again.

Light: it needs websockets, python-escpos and the printer's driver (pyusb, pyserial, pywin32,
or CUPS's `lp`), and imports of hallq only the printer drivers (server/printing/devices.py,
spooled.py), so it installs on a small kiosk PC on its own (deploy/agent-requirements.txt,
docs/deploy.md). Its HTTP calls (registration) use the standard library.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import logging
import os
import random
import time
import urllib.error
import urllib.request
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus, InvalidURI

from server.printing import devices
from server.printing.devices import Printer, Spec

log = logging.getLogger("hallq.agent")


class JobLog:
    """Jobs this kiosk PC has printed (or begun to print), in a small JSON file written atomically."""

    KEEP_DAYS = 2

    def __init__(self, path: Path) -> None:
        self.path = path
        self.jobs: dict[str, dict[str, Any]] = {}
        if path.exists():
            try:
                self.jobs = json.loads(path.read_text(encoding="utf-8")).get("jobs", {})
            except (ValueError, OSError) as exc:
                # A damaged file must not stop printing; keep it aside for a person to read.
                log.error("state file %s unreadable (%s): kept as %s.bad", path, exc, path.name)
                with contextlib.suppress(OSError):
                    path.replace(path.with_suffix(path.suffix + ".bad"))
        oldest = (date.today() - timedelta(days=self.KEEP_DAYS)).isoformat()
        self.jobs = {j: e for j, e in self.jobs.items() if e.get("day", "") >= oldest}

    def _save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(self.path.suffix + ".tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump({"jobs": self.jobs}, f, ensure_ascii=False)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path)

    def get(self, job: str) -> dict[str, Any] | None:
        return self.jobs.get(job)

    def begin(self, job: str, ticket: str) -> None:
        self.jobs[job] = {"ticket": ticket, "state": "printing", "day": date.today().isoformat(), "confirmed": False}
        self._save()

    def printed(self, job: str, state: str = "ok", detail: str = "") -> None:
        self.jobs[job].update(state="printed", printer=state, detail=detail)
        self._save()

    def failed(self, job: str, sent: bool, state: str, detail: str) -> None:
        if sent:  # part of it may have come out: kept, so it is never printed again by itself
            self.jobs[job].update(state="interrupted", printer=state, detail=detail)
        else:  # the printer refused before printing: the server may send it again, and it may print then
            self.jobs.pop(job, None)
        self._save()

    def confirm(self, job: str) -> None:
        if job in self.jobs and not self.jobs[job]["confirmed"]:
            self.jobs[job]["confirmed"] = True
            self._save()

    def unconfirmed(self) -> list[str]:
        return [j for j, e in self.jobs.items() if not e["confirmed"]]


def ack_for(job: str, entry: dict[str, Any]) -> dict[str, Any]:
    """The result to tell the server about a job found in the log."""
    ack = {"type": "ack", "job": job, "ticket": entry["ticket"]}
    if entry["state"] == "printed":
        return {**ack, "ok": True, "state": entry.get("printer", "ok"), "detail": entry.get("detail", "")}
    if entry["state"] == "interrupted":
        return {**ack, "ok": False, "sent": True, "state": entry.get("printer", "error"), "detail": entry.get("detail", "")}
    return {**ack, "ok": False, "sent": True, "state": "error",
            "detail": "the agent stopped while printing this ticket: check the printer, then reprint if it did not come out"}


def parse_printer(spec: str) -> Spec:
    """`network:host:port`, `usb:vendor:product`, `serial:device[@baud]`, `file:path`,
    `win32raw:printer name`, `cups:queue[@server]` (ValueError if it is none of them)."""
    return devices.parse_spec(spec)


def feed_url(server: str, hall: str, kiosk: str) -> str:
    base = server.rstrip("/")
    if base.startswith("http"):
        base = "ws" + base[4:]
    return f"{base}/ws/v1/halls/{hall}/kiosks/{kiosk}"


REVOKED_CLOSE = 4401  # the server closes a revoked device's connection with this code
HTTP_TIMEOUT_S = 10.0


def _post(url: str, body: dict[str, Any], headers: dict[str, str] | None = None) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json", "Accept": "application/json",
                                              **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT_S) as answer:
            return answer.status, json.loads(answer.read() or b"{}")
    except urllib.error.HTTPError as refused:  # 4xx/5xx: the problem+json answer, read like any other
        text = refused.read()
        refused.close()
        try:
            return refused.code, json.loads(text or b"{}")
        except ValueError:
            return refused.code, {"detail": text.decode(errors="replace")[:200]}


async def post_json(url: str, body: dict[str, Any], headers: dict[str, str] | None = None) -> tuple[int, dict[str, Any]]:
    """POST a JSON body, with the standard library in a thread: (status, the JSON answer)."""
    return await asyncio.to_thread(_post, url, body, headers)


def write_private(path: Path, text: str) -> None:
    """Write a secret to a file only this user may read (created with mode 600, folder 700)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


class Agent:
    def __init__(self, url: str, state: Path, printer: Printer | None = None, status_every: float = 60.0,
                 max_backoff: float = 10.0, device_file: Path | None = None, register_every: float = 2.0) -> None:
        self.url = url
        self.device_file = device_file  # None: never register (a hall without registered devices)
        self.register_every = register_every
        self.code: str | None = None  # the registration code while waiting for approval
        self.log = JobLog(state)
        self.local_printer = printer
        self.printer: Printer | None = printer
        self.status_every = status_every
        self.max_backoff = max_backoff
        self.connected = asyncio.Event()
        self.printed = 0  # tickets printed by this process, for diagnostics
        self._device = asyncio.Lock()  # one conversation with the printer at a time
        self._last_status: tuple[str, str] | None = None

    async def run(self, stop: asyncio.Event | None = None) -> None:
        """Stay connected until `stop` is set, reconnecting with backoff after any failure."""
        stop = stop or asyncio.Event()
        attempt = 0
        while not stop.is_set():
            started = time.monotonic()
            refused = False
            try:
                token = self._token()
                headers = {"X-Device-Token": token} if token else None
                async with connect(self.url, open_timeout=5, ping_interval=20, ping_timeout=20, max_size=2**21,
                                   additional_headers=headers) as ws:
                    session = asyncio.create_task(self._session(ws))
                    stopper = asyncio.create_task(stop.wait())
                    done, _ = await asyncio.wait({session, stopper}, return_when=asyncio.FIRST_COMPLETED)
                    for task in (session, stopper):
                        task.cancel()
                        with contextlib.suppress(asyncio.CancelledError, ConnectionClosed):
                            await task
                    refused = ws.close_code == REVOKED_CLOSE
                    if session in done and session.exception() is not None and not refused:
                        raise session.exception()  # type: ignore[misc]
            except InvalidStatus as exc:
                refused = exc.response.status_code == 401
                log.warning("connection to %s refused: HTTP %s", self.url, exc.response.status_code)
            except (OSError, asyncio.TimeoutError, ConnectionClosed, InvalidHandshake, InvalidURI) as exc:
                log.warning("connection to %s: %s", self.url, exc.__class__.__name__)
            except Exception:  # a message it could not read: start afresh rather than stop printing
                log.exception("session with %s failed", self.url)
            finally:
                self.connected.clear()
            if stop.is_set():
                break
            if refused and self.device_file is not None:
                log.warning("this agent's device token is missing or revoked: registering")
                with contextlib.suppress(FileNotFoundError):
                    self.device_file.unlink()
                await self.register(stop)
                continue
            attempt = 0 if time.monotonic() - started > 30 else attempt + 1
            delay = min(self.max_backoff, 0.25 * 2 ** min(attempt, 8)) * (0.75 + random.random() / 2)
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stop.wait(), delay)

    def _token(self) -> str | None:
        if self.device_file is None:
            return None
        try:
            return self.device_file.read_text(encoding="utf-8").strip() or None
        except OSError:
            return None

    def _http(self) -> tuple[str, str, str]:
        """The server's http address, the hall and the kiosk, from the feed's URL."""
        base, _, rest = self.url.partition("/ws/v1/halls/")
        hall, _, kiosk = rest.partition("/kiosks/")
        return "http" + base[2:] if base.startswith("ws") else base, hall, kiosk

    async def register(self, stop: asyncio.Event) -> None:
        """Register as the kiosk's print agent, show the code, wait for approval, keep the token."""
        server, hall, kiosk = self._http()
        api = f"{server}/api/v1/halls/{hall}/devices"
        pending: dict[str, Any] | None = None
        while not stop.is_set():
            try:
                if pending is None:
                    status, pending = await post_json(api, {"kind": "print_agent", "place": kiosk, "name": f"打印代理 {kiosk}"})
                    if status != 201:
                        raise RuntimeError(f"registration refused: HTTP {status} {pending}")
                    self.code = pending["code"]
                    print(f"设备登记码 registration code: {self.code} — hall {hall}, print agent of kiosk {kiosk}; "
                          f"approve it at {server}/dashboard/{hall}/devices", flush=True)
                    log.info("registered as print agent of %s: code %s, waiting for approval", kiosk, self.code)
                status, answer = await post_json(f"{api}/{pending['id']}/claim", {"claim": pending["claim"]})
                if status in (404, 409):
                    pending = None  # expired or refused: a new code
                    continue
                if answer.get("status") == "approved" and answer.get("token"):
                    write_private(self.device_file, answer["token"])  # type: ignore[arg-type]
                    self.code = None
                    log.info("approved as %r: token kept in %s", answer["device"]["name"], self.device_file)
                    return
            except (OSError, asyncio.TimeoutError, RuntimeError, ValueError, KeyError) as exc:
                log.warning("registration: %s", exc)
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stop.wait(), self.register_every)

    async def _session(self, ws: ClientConnection) -> None:
        hello = json.loads(await ws.recv())
        if hello.get("type") != "hello":
            raise InvalidHandshake(f"expected hello, got {hello.get('type')!r}")
        if self.local_printer is None:
            p = hello["printer"]
            self.printer = Spec(kind=p["kind"], address=p["address"])
        log.info("connected to %s as %s (%s), printer %s %s", self.url, hello["kiosk"], hello.get("name"),
                 self.printer.kind if self.printer else "-", self.printer.address if self.printer else "")
        self.connected.set()
        for job in self.log.unconfirmed():  # results the server may not have heard
            await ws.send(json.dumps(ack_for(job, self.log.jobs[job])))
        status = asyncio.create_task(self._report_status(ws))
        try:
            async for raw in ws:
                msg = json.loads(raw)
                if msg.get("type") == "job":
                    await self._job(ws, msg)
                elif msg.get("type") == "acked":
                    self.log.confirm(msg["job"])
        finally:
            status.cancel()
            with contextlib.suppress(asyncio.CancelledError, ConnectionClosed):
                await status

    async def _job(self, ws: ClientConnection, msg: dict[str, Any]) -> None:
        job, ticket = msg["job"], msg["ticket"]
        seen = self.log.get(job)
        if seen is not None:
            log.info("job %s (%s) was handled before: acknowledged, not printed again", job, msg.get("number"))
            await ws.send(json.dumps(ack_for(job, seen)))
            return
        assert self.printer is not None
        data = base64.b64decode(msg["data"])
        self.log.begin(job, ticket)
        async with self._device:
            try:
                status = await devices.deliver(self.printer, data)
            except devices.PrinterFault as fault:
                self.log.failed(job, fault.sent, fault.state, fault.detail)
                log.warning("job %s (%s) not printed%s: %s: %s", job, msg.get("number"),
                            " (part of it may have come out)" if fault.sent else "", fault.state, fault.detail)
                await ws.send(json.dumps(ack_for(job, self.log.jobs[job]) if fault.sent else
                                         {"type": "ack", "job": job, "ticket": ticket, "ok": False, "sent": False,
                                          "state": fault.state, "detail": fault.detail}))
                await self._status(ws, devices.Status(fault.state, fault.detail))
                return
        self.log.printed(job, status.state, status.warning)
        self.printed += 1
        log.info("job %s (%s) printed", job, msg.get("number"))
        await ws.send(json.dumps(ack_for(job, self.log.jobs[job])))
        await self._status(ws, status if status.state != "unknown" else devices.Status("ok"))

    async def _status(self, ws: ClientConnection, status: devices.Status, force: bool = False) -> None:
        if force or self._last_status != (status.state, status.detail):
            self._last_status = (status.state, status.detail)
            await ws.send(json.dumps({"type": "status", "state": status.state, "detail": status.detail}))

    async def _report_status(self, ws: ClientConnection) -> None:
        """The printer's state on connect and every `status_every` seconds, so faults show before a ticket fails."""
        first = True
        while True:
            if self.printer is not None:
                async with self._device:
                    status = await devices.probe(self.printer)
                await self._status(ws, status, force=first)
                first = False
            if self.status_every <= 0:
                return
            await asyncio.sleep(self.status_every)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hallq-agent", description="Print a kiosk's tickets on its local printer.")
    parser.add_argument("--server", required=True, help="the hall server, e.g. http://10.0.0.5:8080")
    parser.add_argument("--hall", required=True)
    parser.add_argument("--kiosk", required=True, help="the kiosk's id in the hall's kiosks.yaml")
    parser.add_argument("--printer", help="a local printer instead of the kiosk's config: network:HOST:PORT, "
                        "usb:VENDOR:PRODUCT, serial:DEVICE[@BAUD], file:PATH, win32raw:PRINTER NAME, cups:QUEUE")
    parser.add_argument("--state", type=Path, help="the file of printed job ids (default ~/.hallq-agent/HALL-KIOSK.json)")
    parser.add_argument("--device-file", type=Path, help="where the device token is kept once approved "
                        "(default ~/.hallq-agent/HALL-KIOSK.device, mode 600)")
    parser.add_argument("--status-every", type=float, default=60.0, help="seconds between printer status checks (0: only on connect)")
    # -- card reader hook (刷身份证取号, kiosk/cardrelay.py) --
    parser.add_argument("--card-reader", help="an ID-card reader on this PC: serial:PORT[@BAUD] (GA 467) or wedge:PATH")
    parser.add_argument("--card-port", type=int, default=8766, help="the port on 127.0.0.1 where the kiosk page hears card reads")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    state = args.state or Path.home() / ".hallq-agent" / f"{args.hall}-{args.kiosk}.json"
    device_file = args.device_file or Path.home() / ".hallq-agent" / f"{args.hall}-{args.kiosk}.device"
    try:
        printer = parse_printer(args.printer) if args.printer else None
    except ValueError as exc:
        parser.error(f"--printer: {exc}")
    agent = Agent(feed_url(args.server, args.hall, args.kiosk), state, printer, args.status_every, device_file=device_file)
    try:
        if args.card_reader:  # -- card reader hook: the relay runs beside the agent --
            from .cardreader import open_reader
            from .cardrelay import CardRelay, alongside

            relay = CardRelay(lambda: open_reader(args.card_reader), args.server, args.hall, args.kiosk, args.card_port,
                              token=agent._token)
            asyncio.run(alongside(agent.run, relay))
        else:
            asyncio.run(agent.run())
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
