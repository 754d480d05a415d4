"""Programs this server starts get arguments they cannot misread: a value that begins with "-"
stays a value (the workers' command line; the speech engine's text is tested in test_call_audio)."""

from __future__ import annotations

from server.cli import _parser
from server.workers import worker_argv


def test_a_worker_reads_every_value_the_parent_was_given_even_one_that_looks_like_an_option():
    given = _parser().parse_args(["serve", "--data=-data dir", "--config=-config", "--database=-postgresql://x/db",
                                  "--redis=-redis://x", "--host=-h", "--workers=3", "--issue-rate=2.5",
                                  "--import-max-bytes=9000000", "--import-parse-s=3.5", "--max-connections=500",
                                  "--connections-per-address=7", "--max-websockets=300", "--websockets-per-address=3",
                                  "--header-timeout=2.5", "--idle-timeout=12", "--refusal-log-interval=4",
                                  "--trusted-proxies=127.0.0.1,10.0.0.0/8", "--log-format=json"])
    argv = worker_argv(given, 2)
    assert argv[1:4] == ["-m", "server.cli", "serve"]
    worker = _parser().parse_args(argv[3:])
    for name in ("data", "config", "database", "redis", "host", "port", "issue_rate", "import_max_bytes", "import_parse_s",
                 "max_connections", "connections_per_address", "max_websockets", "websockets_per_address",
                 "header_timeout", "idle_timeout", "refusal_log_interval", "trusted_proxies", "log_format"):
        assert getattr(worker, name) == getattr(given, name), name
    assert (worker.workers, worker.worker_name, worker.reuse_port, worker.background) == (1, "w2", True, False)
