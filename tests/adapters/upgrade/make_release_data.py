"""Make the data of a release, with that release's own code, for the upgrade tests.

    PYTHONPATH=<checkout of the release> python tests/adapters/upgrade/make_release_data.py OUT [--database URL]

It plays two simulated hall-days with `hallq simulate`, sets a password with `hallq user
passwd`, then serves and, over HTTP as a hall would be used, logs in, issues tickets, calls and
finishes one, books an appointment, saves a catalogue revision, registers a device and opens an
evaluator session. Every kind of row a hall keeps is then in OUT (or the database). The
fixtures in tests/adapters/upgrade/data/ were made this way from the tag named in their file names.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import aiohttp

PASSWORD = "release-pass-1"  # the password the upgrade test logs in with


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def hallq(*args: str, stdin: str | None = None) -> None:
    subprocess.run([sys.executable, "-m", "server.cli", *args], input=stdin, text=True, check=True)


async def use(url: str) -> None:
    async with aiohttp.ClientSession() as s:
        async def call(method: str, path: str, token: str | None = None, **kw: object) -> dict:
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            async with s.request(method, url + path, headers=headers, **kw) as r:
                body = await r.json()
                if r.status == 404 and body.get("detail") == "Not Found":  # an older commit without this route
                    raise LookupError(path)
                assert r.status < 300, (path, r.status, body)
                return body

        admin = (await call("POST", "/api/v1/auth/login", json={"username": "admin", "password": "demo"}))["token"]
        clerk = (await call("POST", "/api/v1/auth/login", json={"username": "w01a", "password": PASSWORD}))["token"]
        catalog = await call("GET", "/api/v1/halls/demo/catalog")
        item = catalog["windows"][0]["items"][0]
        for _ in range(5):
            await call("POST", "/api/v1/halls/demo/tickets", json={"item": item})
        window = catalog["windows"][0]["id"]
        await call("POST", f"/api/v1/halls/demo/windows/{window}/open", clerk)
        await call("POST", f"/api/v1/halls/demo/windows/{window}/call-next", clerk)
        await call("POST", f"/api/v1/halls/demo/windows/{window}/start", clerk)
        await call("POST", f"/api/v1/halls/demo/windows/{window}/finish", clerk, json={"case_type": "immediate"})
        for part in (_booking, _revision, _devices):
            try:
                await part(call, catalog, admin, window)
            except LookupError as missing:  # an older commit
                print(f"this code has no {missing}: left out")


async def _booking(call, catalog: dict, admin: str, window: str) -> None:  # type: ignore[no-untyped-def]
    bookable = next(i["id"] for i in catalog["items"] if i.get("booking", {}).get("enabled", True))
    slots = await call("GET", f"/api/v1/halls/demo/appointments/slots?item={bookable}")
    start = next(s["start"] for d in slots["days"] for s in d["slots"] if s["left"] > 0)
    await call("POST", "/api/v1/halls/demo/appointments", json={"item": bookable, "slot_start": start, "phone": "13800138000"})


async def _revision(call, catalog: dict, admin: str, window: str) -> None:  # type: ignore[no-untyped-def]
    edit = await call("GET", "/api/v1/halls/demo/admin/catalog", admin)
    hall = {**edit["document"]["hall"], "name": edit["document"]["hall"]["name"] + "（升级测试）"}
    await call("POST", "/api/v1/halls/demo/admin/catalog", admin, json={"base_rev": edit["rev"], "hall": hall})


async def _devices(call, catalog: dict, admin: str, window: str) -> None:  # type: ignore[no-untyped-def]
    await call("POST", "/api/v1/halls/demo/devices", json={"kind": "lobby_screen", "place": "", "name": "lobby east"})
    await call("POST", f"/api/v1/halls/demo/windows/{window}/evaluator-session", admin)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("out", type=Path)
    parser.add_argument("--database", default=None)
    args = parser.parse_args()
    db = ["--database", args.database] if args.database else []
    hallq("simulate", "--days", "2", "--end", "2026-11-27", "--load", "0.3", "--data", str(args.out), *db)
    hallq("user", "passwd", "w01a", "--data", str(args.out), *db, stdin=PASSWORD + "\n")
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "server.cli", "serve", "--data", str(args.out), *db, "--port", str(port),
                               "--always-open", "--issue-rate", "0"], env={**os.environ, "HALLQ_DEMO_PASSWORD": "demo"})
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise SystemExit("the release's server did not start")
                time.sleep(0.1)
        asyncio.run(use(f"http://127.0.0.1:{port}"))
    finally:
        server.terminate()
        server.wait(20)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
