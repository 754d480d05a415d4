"""The `hallq` command: init, serve, user passwd, check-config, migrate, backup, simulate, plan."""

from __future__ import annotations

import argparse
import asyncio
import gc
import getpass
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import __version__
from .limits import ConnectionLimits
from .config import ConfigError, ImportLimits, default_config_dir, load_halls
from .journal.engine import DEFAULT_TIMEOUT_S, SQLITE_TIMEOUT_S


def _positive(kind: type) -> Callable[[str], Any]:
    def parse(text: str) -> Any:
        value = kind(text)
        if value <= 0:
            raise argparse.ArgumentTypeError(f"{text}: must be more than 0")
        return value

    return parse


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", type=Path, default=None, help="folder of hall folders (default: the demo in config/)")
    p.add_argument("--data", type=Path, default=Path(os.environ.get("HALLQ_DATA", "data")), help="where the journal lives (default: ./data)")
    p.add_argument("--database", default=os.environ.get("HALLQ_DATABASE"), help="SQLAlchemy URL of the journal instead of SQLite in --data")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hallq", description="Queue numbers and lobby screens for government service halls.")
    parser.add_argument("--version", action="version", version=f"hallq {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the hall server")
    _common(serve)
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080)
    serve.add_argument("--always-open", action="store_true", help="issue tickets at any hour and on holidays (demos, training)")
    serve.add_argument("--issue-rate", type=float, default=1.0, help="tickets per second per client address (burst 30); 0: no limit")
    serve.add_argument("--import-max-bytes", type=_positive(int), default=ImportLimits.max_bytes,
                       help=f"largest catalogue import, zip or JSON (default {ImportLimits.max_bytes})")
    serve.add_argument("--import-parse-s", type=_positive(float), default=ImportLimits.parse_s,
                       help=f"time to read one catalogue import before it is refused (default {ImportLimits.parse_s:g})")
    serve.add_argument("--db-timeout", type=float, default=None,
                       help=f"seconds a request waits on the database before it answers 503 "
                            f"(default {DEFAULT_TIMEOUT_S:g} for PostgreSQL, {SQLITE_TIMEOUT_S:g} for SQLite)")
    serve.add_argument("--redis", default=os.environ.get("HALLQ_REDIS"),
                       help="Redis URL of the bus between processes (several workers or hosts), e.g. redis://127.0.0.1:6379/0")
    serve.add_argument("--workers", type=int, default=1, help="worker processes sharing the port (needs --redis and PostgreSQL)")
    serve.add_argument("--no-background", dest="background", action="store_false",
                       help="run no supervision sweeps or statistics builder here (another host of the deployment does)")
    limits = serve.add_argument_group("connection limits (per process; see SECURITY.md)")
    limits.add_argument("--max-connections", type=int, default=0, metavar="N",
                        help="client connections held at most (default 0: the descriptor limit less a reserve)")
    limits.add_argument("--connections-per-address", type=int, default=ConnectionLimits.per_address, metavar="N",
                        help="connections one client address may hold (default %(default)s; 0: no cap, e.g. behind a reverse proxy)")
    limits.add_argument("--max-websockets", type=int, default=0, metavar="N",
                        help="websockets held at most (default 0: three quarters of --max-connections)")
    limits.add_argument("--websockets-per-address", type=int, default=ConnectionLimits.websockets_per_address, metavar="N",
                        help="websockets one client address may hold (default %(default)s; 0: no cap)")
    limits.add_argument("--header-timeout", type=float, default=ConnectionLimits.header_timeout_s, metavar="S",
                        help="seconds from a request's first byte to the end of its head (default %(default)s; 0: none)")
    limits.add_argument("--idle-timeout", type=float, default=ConnectionLimits.idle_timeout_s, metavar="S",
                        help="seconds a connection may wait for its next request (default %(default)s)")
    limits.add_argument("--refusal-log-interval", type=float, default=ConnectionLimits.refusal_log_interval_s, metavar="S",
                        help="refused connections are logged in one line per this many seconds (default %(default)s)")
    serve.add_argument("--log-format", choices=("text", "json"), default=os.environ.get("HALLQ_LOG_FORMAT", "text"),
                       help="text lines, or one JSON object a line (for a log collector); both carry the request id")
    serve.add_argument("--trusted-proxies", default=os.environ.get("HALLQ_TRUSTED_PROXIES", ""), metavar="LIST",
                       help="addresses or networks of the reverse proxies in front, e.g. 127.0.0.1,10.0.0.0/8: only their "
                            "X-Forwarded-For / X-Forwarded-Proto are believed (default: none)")
    serve.add_argument("--ws-tick", type=_positive(float), default=15.0, metavar="S",
                       help="seconds between the heartbeats every screen hears; a screen that hears none for about twice this shows itself offline (default %(default)s)")
    serve.add_argument("--worker-name", default="", help=argparse.SUPPRESS)  # set by the parent for its workers
    serve.add_argument("--reuse-port", action="store_true", help=argparse.SUPPRESS)

    user = sub.add_parser("user", help="staff accounts")
    user_sub = user.add_subparsers(dest="user_command", required=True)
    passwd = user_sub.add_parser("passwd", help="set a password, read from standard input")
    _common(passwd)
    passwd.add_argument("username")

    migrate = sub.add_parser("migrate", help="bring the database's schema up to this release (once, with every server stopped)")
    _common(migrate)

    backup = sub.add_parser("backup", help="a consistent copy of the data, made while the hall serves, with the keys it needs")
    _common(backup)
    backup.add_argument("file", type=Path, help="the archive to write (a .tar.gz; kept out of reach: it holds the keys)")

    restore = sub.add_parser("restore", help="restore an archive of `hallq backup` into an empty data directory or database")
    _common(restore)
    restore.add_argument("file", type=Path)

    init = sub.add_parser("init", help="write a starter configuration for a hall of your own into DIR")
    init.add_argument("dir", type=Path, help="the config folder (DIR/<hall>/*.yaml; serve it with --config DIR)")
    init.add_argument("--hall", default="hall", help="the hall's id, in addresses such as /kiosk/<hall> (default: hall)")
    init.add_argument("--name", default="政务服务中心", help="the hall's name on screens and tickets")
    init.add_argument("--timezone", default="Asia/Shanghai")

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
    plan = sub.add_parser("plan", help="print the staffing plan of a day: forecast arrivals and windows to open each half hour")
    _common(plan)
    plan.add_argument("--hall", default="demo")
    plan.add_argument("--day", type=_date, default=None, help="YYYY-MM-DD (default: the next opening day)")
    plan.add_argument("--csv", action="store_true", help="print it as CSV")
    plan.add_argument("--no-check", dest="check", action="store_false", help="Erlang-C only: do not play the day to check the plan")
    return parser


def plan(args: argparse.Namespace) -> int:
    from .stats.plan_cli import run

    return asyncio.run(run(args.config or default_config_dir(), args.data, args.database, args.hall, args.day, args.check, args.csv))


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


def init(args: argparse.Namespace) -> int:
    from .config.starter import write_starter

    try:
        folder = write_starter(args.dir, args.hall, args.name, args.timezone)
    except ConfigError as exc:
        print(f"hallq init: {exc}", file=sys.stderr)
        return 2
    config = args.dir
    print(f"wrote {folder}: one hall, three departments, four items, three windows, one kiosk, five accounts")
    print("next:")
    print(f"  hallq check-config --config {config}")
    print(f"  hallq user passwd admin --config {config}     # nobody has a password until it is set")
    print(f"  hallq serve --config {config}")
    print(f"then log in as admin at /dashboard/{args.hall}, approve the kiosk's code at /dashboard/{args.hall}/devices;"
          " docs/deploy.md is a production install in a page")
    return 0


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


def connection_limits(args: argparse.Namespace) -> ConnectionLimits | None:
    limits = ConnectionLimits(
        max_connections=args.max_connections, per_address=args.connections_per_address, max_websockets=args.max_websockets,
        websockets_per_address=args.websockets_per_address, header_timeout_s=args.header_timeout,
        idle_timeout_s=args.idle_timeout, refusal_log_interval_s=args.refusal_log_interval,
    )
    counts = (limits.max_connections, limits.per_address, limits.max_websockets, limits.websockets_per_address)
    times = (limits.header_timeout_s, limits.idle_timeout_s)
    if min(counts) < 0 or min(times) < 0 or limits.idle_timeout_s == 0 or limits.refusal_log_interval_s <= 0:
        print("connection limits are whole numbers of at least 0, the timeouts and log interval seconds above 0"
              " (--header-timeout 0: none)", file=sys.stderr)
        return None
    return limits


def serve(args: argparse.Namespace) -> int:
    from .api import Settings, create_app
    from .api.listener import run

    if args.workers < 1:
        print("--workers is at least 1", file=sys.stderr)
        return 2
    limits = connection_limits(args)
    if limits is None:
        return 2
    from .api.proxies import parse_proxies

    try:
        proxies = parse_proxies(args.trusted_proxies)
    except ValueError as exc:
        print(f"--trusted-proxies: {exc}", file=sys.stderr)
        return 2
    if args.workers > 1:
        if not args.redis:
            print("several workers need --redis URL: the bus that carries each hall's events between them", file=sys.stderr)
            return 2
        if not args.database or args.database.startswith("sqlite"):
            print("several workers need a journal they can all write: --database postgresql://…", file=sys.stderr)
            return 2
        if not _schema_ready(args.data, args.database, may_upgrade=False):
            return 2
        from .workers import supervise

        return supervise(args)
    from .api.observe import configure_logging

    configure_logging(args.log_format, args.worker_name)
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
        migrate=not _is_postgres(args.database),
        imports=ImportLimits(max_bytes=args.import_max_bytes, parse_s=args.import_parse_s),
        connections=limits,
        trusted_proxies=proxies,
        ws_tick_s=args.ws_tick,
    )
    if not _schema_ready(args.data, args.database, may_upgrade=not _is_postgres(args.database)):
        return 2
    _steady_gc()
    run(create_app(settings), args.host, args.port, reuse_port=args.reuse_port)
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


# An upgrade of a large hall's tables may take minutes: not the deadline of a request.
MAINTENANCE_TIMEOUT_S = 3600.0


def _is_postgres(database: str | None) -> bool:
    return bool(database) and not str(database).startswith("sqlite")


def _schema_ready(data: Path, database: str | None, may_upgrade: bool) -> bool:
    """Whether the server may start on this database: the embedded SQLite one is upgraded here;
    a shared PostgreSQL one that is behind is refused with one line (only `hallq migrate`,
    run once, upgrades it: several workers or hosts must not race). Never a traceback."""
    from . import migrations
    from .journal import database_url, make_engine

    async def run() -> migrations.Status:
        data.mkdir(parents=True, exist_ok=True, mode=0o700)
        engine = make_engine(database_url(data, database), timeout_s=MAINTENANCE_TIMEOUT_S)
        try:
            return await migrations.prepare(engine, may_upgrade)
        finally:
            await engine.dispose()

    try:
        found = asyncio.run(run())
    except migrations.SchemaError as exc:
        print(f"hallq: {exc}", file=sys.stderr)
        return False
    except Exception as exc:  # the database cannot be reached or read: say so in one line
        print(f"hallq: cannot open the database: {exc.__class__.__name__}: {str(exc).splitlines()[0] if str(exc) else ''}",
              file=sys.stderr)
        return False
    if found.done():
        print(f"hallq: {found.done()}", file=sys.stderr)
    return True


def migrate(args: argparse.Namespace) -> int:
    return 0 if _schema_ready(args.data, args.database, may_upgrade=True) else 2


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "serve":
        return serve(args)
    if args.command == "migrate":
        return migrate(args)
    if args.command in ("backup", "restore"):
        from . import backup

        return backup.main(args)
    if args.command == "check-config":
        return check_config(args)
    if args.command == "init":
        return init(args)
    if args.command == "simulate":
        return simulate(args)
    if args.command == "plan":
        return plan(args)
    return passwd(args)


if __name__ == "__main__":
    raise SystemExit(main())
