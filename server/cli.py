"""The `hallq` command: serve, user passwd, check-config."""

from __future__ import annotations

import argparse
import asyncio
import gc
import getpass
import logging
import os
import sys
from pathlib import Path

from .config import ConfigError, default_config_dir, load_halls
from .journal.engine import DEFAULT_TIMEOUT_S, SQLITE_TIMEOUT_S


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", type=Path, default=None, help="folder of hall folders (default: the demo in config/)")
    p.add_argument("--data", type=Path, default=Path(os.environ.get("HALLQ_DATA", "data")), help="where the journal lives (default: ./data)")
    p.add_argument("--database", default=os.environ.get("HALLQ_DATABASE"), help="SQLAlchemy URL of the journal instead of SQLite in --data")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hallq", description="Queue numbers and lobby screens for government service halls.")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the hall server")
    _common(serve)
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080)
    serve.add_argument("--always-open", action="store_true", help="issue tickets at any hour and on holidays (demos, training)")
    serve.add_argument("--issue-rate", type=float, default=1.0, help="tickets per second per client address (burst 30); 0: no limit")
    serve.add_argument("--db-timeout", type=float, default=None,
                       help=f"seconds a request waits on the database before it answers 503 "
                            f"(default {DEFAULT_TIMEOUT_S:g} for PostgreSQL, {SQLITE_TIMEOUT_S:g} for SQLite)")
    serve.add_argument("--redis", default=os.environ.get("HALLQ_REDIS"),
                       help="Redis URL of the bus between processes (several workers or hosts), e.g. redis://127.0.0.1:6379/0")
    serve.add_argument("--workers", type=int, default=1, help="worker processes sharing the port (needs --redis and PostgreSQL)")
    serve.add_argument("--no-background", dest="background", action="store_false",
                       help="run no supervision sweeps or statistics builder here (another host of the deployment does)")
    serve.add_argument("--worker-name", default="", help=argparse.SUPPRESS)  # set by the parent for its workers
    serve.add_argument("--reuse-port", action="store_true", help=argparse.SUPPRESS)

    user = sub.add_parser("user", help="staff accounts")
    user_sub = user.add_subparsers(dest="user_command", required=True)
    passwd = user_sub.add_parser("passwd", help="set a password, read from standard input")
    _common(passwd)
    passwd.add_argument("username")

    check = sub.add_parser("check-config", help="validate the config files and say what they hold")
    check.add_argument("--config", type=Path, default=None)

    sim = sub.add_parser("simulate", help="fill a data directory with simulated hall-days (demos, screenshots, benchmarks)")
    _common(sim)
    sim.add_argument("--days", type=int, default=20, help="how many opening days (default 20)")
    sim.add_argument("--hall", default="demo")
    sim.add_argument("--seed", type=int, default=1, help="the same seed gives the same journal")
    sim.add_argument("--end", type=_date, default=None, help="the last simulated day, YYYY-MM-DD (default: the last opening day before today)")
    sim.add_argument("--load", type=float, default=0.8, help="arrivals as a share of what the windows can serve (default 0.8)")
    sim.add_argument("--today", action="store_true", help="also play today up to now, left open for `hallq serve` to go on (a live board)")
    return parser


def _date(value: str):  # type: ignore[no-untyped-def]
    from datetime import date

    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date like 2026-11-25") from None


def simulate(args: argparse.Namespace) -> int:
    from .stats.simulate import run

    if args.days < 1 or not 0.05 <= args.load <= 2:
        print("--days is at least 1 and --load between 0.05 and 2", file=sys.stderr)
        return 2
    config = args.config or default_config_dir()
    _halls(config)
    today = None
    if args.today:
        from datetime import datetime
        from zoneinfo import ZoneInfo

        today = datetime.now(ZoneInfo(_halls(config)[args.hall].hall.timezone)) if args.hall in _halls(config) else None
    asyncio.run(run(config, args.data, args.database, args.hall, args.days, seed=args.seed, end=args.end, load=args.load, today=today))
    return 0


def _halls(config: Path | None):  # type: ignore[no-untyped-def]
    try:
        return load_halls(config or default_config_dir())
    except ConfigError as exc:
        print(f"config error:\n{exc}", file=sys.stderr)
        raise SystemExit(2) from None


def check_config(args: argparse.Namespace) -> int:
    for hall_id, c in _halls(args.config).items():
        comprehensive = sum(1 for w in c.config.windows if w.kind == "comprehensive")
        place = f" ({c.hall.level}" + (f", under {c.hall.parent}" if c.hall.parent else "") + (
            f", catalogue of {c.hall.catalog_from}" if c.hall.catalog_from else "") + ")"
        print(
            f"{hall_id}{place}: {c.hall.name}: {len(c.departments)} departments, {len(c.items)} items, "
            f"{len(c.windows)} windows ({comprehensive} comprehensive), {len(c.users)} accounts"
        )
    print("config OK")
    return 0


def _steady_gc() -> None:
    """Keep full garbage collections short: a hall-day holds hundreds of thousands of long-lived
    objects (tickets, views) that a full collection would walk every time (100-150 ms pauses
    measured with 40,000 tickets). Objects that survive a full collection are frozen, so later
    ones look only at what is new; the hall's objects are freed by reference counting as usual."""

    def freeze_survivors(phase: str, info: dict) -> None:  # type: ignore[type-arg]
        if phase == "stop" and info.get("generation") == 2:
            gc.freeze()

    gc.callbacks.append(freeze_survivors)


def serve(args: argparse.Namespace) -> int:
    from aiohttp import web

    from .api import Settings, create_app

    if args.workers < 1:
        print("--workers is at least 1", file=sys.stderr)
        return 2
    if args.workers > 1:
        if not args.redis:
            print("several workers need --redis URL: the bus that carries each hall's events between them", file=sys.stderr)
            return 2
        if not args.database or args.database.startswith("sqlite"):
            print("several workers need a journal they can all write: --database postgresql://…", file=sys.stderr)
            return 2
        from .workers import supervise

        return supervise(args)
    name = f" {args.worker_name}" if args.worker_name else ""
    logging.basicConfig(level=logging.INFO, format=f"%(asctime)s{name} %(levelname)s %(name)s: %(message)s")
    os.umask(0o077)  # the journal, sessions and password hashes are readable by this user only
    config = args.config or default_config_dir()
    _halls(config)
    settings = Settings(
        config_dir=config,
        data_dir=args.data,
        database_url=args.database,
        always_open=args.always_open,
        issue_rate_per_s=args.issue_rate,
        db_timeout_s=args.db_timeout,
        demo_password=os.environ.get("HALLQ_DEMO_PASSWORD") or "demo",
        redis_url=args.redis,
        worker=args.worker_name,
        background=args.background,
    )
    _steady_gc()
    web.run_app(create_app(settings), host=args.host, port=args.port, access_log=None, print=lambda *_: None,
                reuse_port=args.reuse_port or None)
    return 0


def passwd(args: argparse.Namespace) -> int:
    from .auth import Accounts
    from .journal import database_url, make_engine

    halls = _halls(args.config)
    if sys.stdin.isatty():
        password = getpass.getpass(f"new password for {args.username}: ")
        if getpass.getpass("again: ") != password:
            print("the two passwords differ", file=sys.stderr)
            return 1
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    if len(password) < 8:
        print("a password has at least 8 characters", file=sys.stderr)
        return 1

    async def run() -> int:
        args.data.mkdir(parents=True, exist_ok=True, mode=0o700)
        engine = make_engine(database_url(args.data, args.database))
        accounts = Accounts(engine, halls)
        try:
            await accounts.create()
            await accounts.set_password(args.username, password, by="cli")
        except KeyError:
            print(f"no account {args.username!r} in the config", file=sys.stderr)
            return 1
        finally:
            await engine.dispose()
        print(f"password set for {args.username}")
        return 0

    return asyncio.run(run())


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "serve":
        return serve(args)
    if args.command == "check-config":
        return check_config(args)
    if args.command == "simulate":
        return simulate(args)
    return passwd(args)


if __name__ == "__main__":
    raise SystemExit(main())
