"""The deployment kit (deploy/) says what the program does: the commands and flags it runs exist,
the container runs unprivileged with a health check on a real route, the compose file has the
parts docs/deploy.md promises, and the systemd units start real commands. (The nginx site is
run for real in tests/system/test_proxy.py.)"""

from __future__ import annotations

import configparser
import re
import shlex
from pathlib import Path

import yaml

from server.cli import _parser

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"


def hallq_args(argv: list[str]):  # type: ignore[no-untyped-def]
    """Parse a `hallq …` command line as the program would (SystemExit on an unknown flag)."""
    assert argv[0].endswith("hallq"), argv
    return _parser().parse_args(argv[1:])


def test_the_container_runs_unprivileged_and_checks_its_health() -> None:
    text = (DEPLOY / "Dockerfile").read_text()
    users = re.findall(r"^USER (\S+)", text, re.M)
    assert users and users[-1] not in ("root", "0")
    health = re.search(r"^HEALTHCHECK .*?CMD (\[.*\])", text, re.M | re.S)
    assert health and "/api/v1/health" in health.group(1)
    cmd = yaml.safe_load(re.findall(r"^CMD (\[.*\])$", text, re.M)[-1])
    assert hallq_args(cmd).command == "serve"


def test_the_compose_file_runs_workers_postgres_redis_and_nginx_with_the_shipped_site() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    services = compose["services"]
    assert {"hallq", "postgres", "redis", "nginx", "migrate"} <= set(services)
    serve = hallq_args(services["hallq"]["command"])
    assert serve.workers > 1
    env = services["hallq"]["environment"]
    assert env["HALLQ_DATABASE"].startswith("postgresql+asyncpg://") and env["HALLQ_REDIS"].startswith("redis://redis:")
    assert env["HALLQ_TRUSTED_PROXIES"] == "127.0.0.1" and services["hallq"]["network_mode"] == "service:nginx"
    assert hallq_args(services["migrate"]["command"]).command == "migrate"
    mounts = services["nginx"]["volumes"]
    assert "./nginx/hallq.conf:/etc/nginx/conf.d/default.conf:ro" in mounts and (DEPLOY / "nginx" / "hallq.conf").exists()
    assert "443:443" in services["nginx"]["ports"]


def unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string((DEPLOY / "systemd" / name).read_text().replace("\\\n", " "))
    return parser


def test_the_systemd_units_start_the_server_and_the_agent() -> None:
    server = unit("hallq.service")
    argv = shlex.split(server["Service"]["ExecStart"])
    assert hallq_args(argv).command == "serve" and server["Service"]["User"] == "hallq"
    assert "HALLQ_TRUSTED_PROXIES=127.0.0.1" in server["Service"]["Environment"]
    agent = unit("hallq-agent.service")
    argv = shlex.split(agent["Service"]["ExecStart"])
    assert argv[0].endswith("/hallq-agent") and agent["Service"]["User"] == "hallq-agent"
    from kiosk.agent import _parser as agent_parser

    parsed = agent_parser().parse_args(argv[1:])
    assert parsed.server.startswith("https://") and parsed.kiosk == "k1"
