"""A real nginx (Debian's package) in front of a test's server, with the shipped site file
(deploy/nginx/hallq.conf) as it is, only its ports, upstream, certificate and log paths moved to
a temporary prefix; a self-signed certificate made with openssl for its TLS."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import time
from pathlib import Path

from tests.server_process import free_port
from tests.services import need

ROOT = Path(__file__).resolve().parents[2]
SITE = ROOT / "deploy" / "nginx" / "hallq.conf"


def site_for(upstream_port: int, http_port: int, https_port: int, prefix: Path) -> str:
    text = SITE.read_text(encoding="utf-8")
    swaps = [
        (r"server 127\.0\.0\.1:8080;", f"server 127.0.0.1:{upstream_port};"),
        (r"listen \[::\]:\d+[^;]*;\n", ""),
        (r"listen 80;", f"listen 127.0.0.1:{http_port};"),
        (r"listen 443 ssl;", f"listen 127.0.0.1:{https_port} ssl;"),
        (r"/etc/hallq/tls/fullchain\.pem", str(prefix / "cert.pem")),
        (r"/etc/hallq/tls/privkey\.pem", str(prefix / "key.pem")),
        (r"/var/log/nginx/hallq\.access\.log", str(prefix / "access.log")),
    ]
    for pattern, new in swaps:
        text, n = re.subn(pattern, new, text)
        assert n, f"the shipped nginx site no longer has {pattern!r}: adjust tests/system/nginx.py"
    return text


class Nginx:
    def __init__(self, prefix: Path, upstream_port: int) -> None:
        self.binary = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
        if self.binary is None:
            need("nginx", "apt-get install -y nginx")
        self.prefix, self.upstream_port = prefix, upstream_port
        self.http_port, self.https_port = free_port(), free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 30) -> None:
        p = self.prefix
        (p / "tmp").mkdir(parents=True, exist_ok=True)
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                        "-days", "1", "-subj", "/CN=localhost", "-keyout", str(p / "key.pem"), "-out", str(p / "cert.pem")],
                       check=True, capture_output=True)
        (p / "hallq.conf").write_text(site_for(self.upstream_port, self.http_port, self.https_port, p))
        # The master binds high ports only; when the tests run as root its workers drop to nobody.
        user = "user nobody nogroup;\n" if os.geteuid() == 0 else ""
        temp = "\n".join(f"  {kind}_temp_path {p / 'tmp' / kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        (p / "nginx.conf").write_text(
            f"{user}worker_processes 1;\ndaemon off;\npid {p / 'nginx.pid'};\nerror_log {p / 'error.log'} warn;\n"
            f"events {{ worker_connections 256; }}\nhttp {{\n{temp}\n  include {p / 'hallq.conf'};\n}}\n")
        self.proc = subprocess.Popen([self.binary, "-p", str(p), "-c", str(p / "nginx.conf")],
                                     stdout=subprocess.DEVNULL, stderr=open(p / "stderr.log", "wb"))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"nginx exited: {(p / 'stderr.log').read_text()} {(p / 'error.log').read_text()}")
            try:
                socket.create_connection(("127.0.0.1", self.https_port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.05)
        raise TimeoutError("nginx did not listen")

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.https_port}"

    def access_log(self) -> str:
        path = self.prefix / "access.log"
        return path.read_text() if path.exists() else ""

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
