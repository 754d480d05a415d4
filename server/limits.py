"""The connection limits' settings and defaults (`hallq serve` flags; enforced by
server/api/connections.py and server/api/listener.py), light enough for the command line to import."""

from __future__ import annotations

import resource
from dataclasses import dataclass


@dataclass(frozen=True)
class ConnectionLimits:
    """The settings (`hallq serve` flags); 0 for a total means: derived from the descriptor limit."""

    max_connections: int = 0  # 0: the descriptor limit less a reserve for the server's own files
    per_address: int = 64  # a browser opens about six; a kiosk or a clerk's PC a few pages' worth
    max_websockets: int = 0  # 0: three quarters of max_connections
    websockets_per_address: int = 32
    header_timeout_s: float = 10.0  # from a request's first byte to the end of its head
    idle_timeout_s: float = 30.0  # a kept-alive connection with no request (also: connected, never asked)
    refusal_log_interval_s: float = 10.0


def descriptor_limit() -> int:
    """The soft RLIMIT_NOFILE of this process (what accept() runs into)."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    return 1 << 20 if soft == resource.RLIM_INFINITY else int(soft)


def reserve(limit: int) -> int:
    """Descriptors kept for the server's own files, pools and pipes, and for answering refusals."""
    return max(64, limit // 8)
