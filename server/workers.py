"""`hallq serve --workers N`: N server processes on one port, watched by this one.

Each worker is a whole `hallq serve` bound with SO_REUSEPORT, so the kernel spreads new
connections over them; they share the PostgreSQL journal and the Redis bus, and any of them
takes any command. The first worker starts alone (it creates the tables) and is the one that
runs the background sweeps; the others follow once it listens. A worker that dies is started
again after a pause that grows while it keeps dying; SIGTERM or Ctrl-C stops them all.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import socket
import subprocess
import sys
import time

log = logging.getLogger("hallq.workers")

READY_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 15.0


def worker_argv(args: argparse.Namespace, n: int) -> list[str]:
    """The worker's command line. Each value is joined to its option (`--data=…`), so a value
    that begins with "-" (a folder, a URL) is never read as another option."""
    values = {"host": args.host, "port": args.port, "data": args.data, "database": args.database, "redis": args.redis,
              "issue-rate": args.issue_rate, "import-max-bytes": args.import_max_bytes, "import-parse-s": args.import_parse_s,
              "workers": 1, "worker-name": f"w{n}",
              # each worker holds its own connections, within its own descriptor limit
              "max-connections": args.max_connections, "connections-per-address": args.connections_per_address,
              "max-websockets": args.max_websockets, "websockets-per-address": args.websockets_per_address,
              "header-timeout": args.header_timeout, "idle-timeout": args.idle_timeout,
              "refusal-log-interval": args.refusal_log_interval, "trusted-proxies": args.trusted_proxies,
              "log-format": args.log_format, "ws-tick": args.ws_tick}
    if args.config:
        values["config"] = args.config
    if args.db_timeout is not None:
        values["db-timeout"] = args.db_timeout
    argv = [sys.executable, "-m", "server.cli", "serve", *(f"--{k}={v}" for k, v in values.items()), "--reuse-port"]
    if args.always_open:
        argv.append("--always-open")
    if n > 1 or not args.background:
        argv.append("--no-background")
    return argv


def _listening(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host if host not in ("0.0.0.0", "::", "") else "127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


class Workers:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.procs: dict[int, subprocess.Popen[bytes]] = {}
        self.deaths: dict[int, int] = {}
        self.next_start: dict[int, float] = {}
        self.stopping = False

    def start(self, n: int) -> None:
        self.procs[n] = subprocess.Popen(worker_argv(self.args, n))
        log.info("worker w%d started (pid %d)", n, self.procs[n].pid)

    def first(self) -> bool:
        """Start worker 1 alone and wait until it listens (it creates the tables)."""
        self.start(1)
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline and not self.stopping:
            if self.procs[1].poll() is not None:
                log.error("worker w1 exited with %s before it listened", self.procs[1].returncode)
                return False
            if _listening(self.args.host, self.args.port):
                return True
            time.sleep(0.1)
        return False

    def watch(self) -> None:
        while not self.stopping:
            time.sleep(0.2)
            now = time.monotonic()
            for n, proc in list(self.procs.items()):
                if proc.poll() is None or self.stopping:
                    continue
                if n not in self.next_start:
                    self.deaths[n] = self.deaths.get(n, 0) + 1
                    pause = min(30.0, 0.5 * 2 ** (self.deaths[n] - 1))
                    log.error("worker w%d exited with %s; starting it again in %.1f s", n, proc.returncode, pause)
                    self.next_start[n] = now + pause
                elif now >= self.next_start[n]:
                    del self.next_start[n]
                    self.start(n)

    def stop(self) -> None:
        self.stopping = True
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT_S
        for proc in self.procs.values():
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def supervise(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    workers = Workers(args)

    def on_signal(signum: int, _frame: object) -> None:
        workers.stopping = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        if not workers.first():
            log.error("the first worker did not come up; stopping")
            return 1
        for n in range(2, args.workers + 1):
            workers.start(n)
        log.info("%d workers on %s:%d (pid %d watches them)", args.workers, args.host, args.port, os.getpid())
        workers.watch()
    finally:
        workers.stop()
    return 0
