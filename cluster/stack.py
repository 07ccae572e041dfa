"""The processes of the run: a PostgreSQL database, a private Redis, gunicorn replicas and
HAProxy in front. Every port is picked free at run time; every process is the run's own."""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(0.1)


def image_command() -> list[str]:
    """Return the Dockerfile's CMD with this venv's gunicorn: the replicas run what the image
    runs."""
    import json
    import re

    text = re.sub(r"\\\n\s*", " ", (ROOT / "Dockerfile").read_text())
    cmd = json.loads([ln for ln in text.splitlines() if ln.startswith("CMD ")][-1][4:])
    return [str(BIN / cmd[0]), *cmd[1:]]


class Database:
    """A database of the run's own on the local PostgreSQL server (never the server itself)."""

    def __init__(self, admin_url: str, name: str) -> None:
        self.admin_url = admin_url
        self.name = name
        self.url = admin_url.rsplit("/", 1)[0] + "/" + name

    def _admin(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(self.admin_url, autocommit=True, connect_timeout=5) as conn:
            conn.execute(sql)

    def create(self) -> None:
        self.drop()
        self._admin(f'CREATE DATABASE "{self.name}"')

    def drop(self) -> None:
        self._admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


class Redis:
    """redis-server on a free loopback port, no persistence; stop() and start() at will."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.workdir = workdir
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed (apt-get install redis-server)")
        log = (self.workdir / "redis.log").open("a")
        self.process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""]
            + ["--appendonly", "no", "--dir", str(self.workdir)],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        wait_for(self.is_up, 10, f"redis-server on port {self.port}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None

    def _client(self):
        import redis
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        # One try: redis-py's default retries with backoff made "is it down?" take about 3 s,
        # which stretched the outage past the time the run meant (the replicas' own cache
        # clients keep their settings).
        return redis.Redis(port=self.port, socket_connect_timeout=0.5, retry=Retry(NoBackoff(), 0))

    def is_up(self) -> bool:
        import redis

        try:
            return bool(self._client().ping())
        except redis.RedisError:
            return False

    def dbsize(self) -> int:
        return self._client().dbsize()


@dataclass
class Replica:
    """One gunicorn (the image's command) on its own port, in its own process group."""

    name: str
    port: int
    log: Path
    process: subprocess.Popen | None = None
    killed_at: float | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, env: dict[str, str]) -> None:
        out = self.log.open("a")
        self.process = subprocess.Popen(
            image_command(),
            cwd=ROOT,
            env={**env, "GUNICORN_BIND": f"127.0.0.1:{self.port}"},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: master and workers die together
        )

    def healthy(self) -> bool:
        request = urllib.request.Request(f"{self.base}/healthz", headers={"Host": "localhost"})
        try:
            with urllib.request.urlopen(request, timeout=2) as r:  # noqa: S310 (loopback)
                return r.status == 200
        except (urllib.error.URLError, OSError):
            return False

    def kill(self) -> None:
        """SIGKILL the whole replica, master and workers, as a node failure would.

        `killed_at` is when its port refuses connections: until then a dying worker's socket
        may still take a connection, so a request sent before that is one in flight.
        """
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)
        wait_for(self._refuses_connections, 10, f"{self.name}'s port to close")
        self.killed_at = time.time()

    def _refuses_connections(self) -> bool:
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
        except ConnectionRefusedError:
            return True
        except OSError:
            return False
        return False

    def terminate(self) -> None:
        """Ask for a graceful stop without waiting for it (stop() waits)."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


HAPROXY_CONFIG = """\
global
    log stdout format raw local0 info
    stats socket {socket} mode 600 level admin
    maxconn 4000

defaults
    mode http
    log global
    # client address, accept time, server, timings, status, termination state, request id
    log-format "%ci %tr %b/%s %TR/%Tw/%Tc/%Tr/%Ta %ST %tsc %[capture.req.hdr(0)]"
    timeout connect 2s
    timeout client 30s
    timeout server 30s
    # A busy replica answers its health check late, not never: only a refused connection or
    # 5 s of silence counts as a failed check.
    timeout check 5s
    # A connection refused by a dead server is tried on another one; a request that already
    # reached a server is never sent twice.
    retries 2
    option redispatch

frontend keystand
    bind 127.0.0.1:{port}
    http-request capture req.hdr(X-Request-ID) len 64
    # Append the connecting client's address; Keystand believes it because TRUSTED_PROXIES
    # lists 127.0.0.1, HAProxy's address as the replicas see it.
    option forwardfor
    default_backend replicas

backend replicas
    balance roundrobin
    # A new server connection per request: a request sent after a replica died is then
    # refused at connect and redispatched, never written into an idle connection that died
    # with the replica (that race would fail requests that were not in flight at the kill).
    http-reuse never
    option httpchk
    http-check send meth GET uri /healthz ver HTTP/1.1 hdr Host localhost
    http-response set-header X-Served-By %[srv_name]
    default-server inter 500ms fall 2 rise 2
{servers}
"""


@dataclass
class HAProxy:
    workdir: Path
    replicas: list[Replica]
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def socket_path(self) -> Path:
        return self.workdir / "haproxy.sock"

    @property
    def log(self) -> Path:
        return self.workdir / "haproxy.log"

    def start(self) -> None:
        binary = shutil.which("haproxy") or "/usr/sbin/haproxy"
        if not Path(binary).exists():
            raise RuntimeError("HAProxy is not installed (apt-get install haproxy)")
        servers = "\n".join(f"    server {r.name} 127.0.0.1:{r.port} check" for r in self.replicas)
        config = self.workdir / "haproxy.cfg"
        config.write_text(
            HAPROXY_CONFIG.format(socket=self.socket_path, port=self.port, servers=servers)
        )
        check = subprocess.run([binary, "-c", "-f", str(config)], capture_output=True, text=True)
        if check.returncode != 0:
            raise RuntimeError(f"HAProxy refused its configuration:\n{check.stderr}")
        self.process = subprocess.Popen(
            [binary, "-db", "-f", str(config)],
            stdout=self.log.open("a"),
            stderr=subprocess.STDOUT,
        )
        wait_for(self.socket_path.exists, 10, "HAProxy's runtime socket")

    def command(self, line: str) -> str:
        """Send one command to HAProxy's runtime API."""
        with socket.socket(socket.AF_UNIX) as s:
            s.connect(str(self.socket_path))
            s.sendall(line.encode() + b"\n")
            chunks = []
            while chunk := s.recv(65536):
                chunks.append(chunk)
        return b"".join(chunks).decode()

    def server_states(self) -> dict[str, str]:
        """Return each server's operational state as HAProxy sees it (UP, DOWN, MAINT)."""
        states = {}
        for line in self.command("show stat").splitlines():
            cols = line.split(",")
            if len(cols) > 17 and cols[0] == "replicas" and cols[1] not in ("BACKEND",):
                states[cols[1]] = cols[17]
        return states

    def up(self) -> set[str]:
        return {name for name, state in self.server_states().items() if state.startswith("UP")}

    def enable_only(self, names: set[str]) -> None:
        for r in self.replicas:
            state = "ready" if r.name in names else "maint"
            self.command(f"set server replicas/{r.name} state {state}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)

    def log_entries(self) -> dict[str, tuple[str, int, str]]:
        """Return request id -> (server, status, termination state) from HAProxy's log."""
        entries = {}
        for line in self.log.read_text().splitlines():
            parts = line.split()
            if len(parts) >= 7 and "/" in parts[2] and parts[-1] != "-":
                server = parts[2].split("/", 1)[1]
                try:
                    status = int(parts[4])
                except ValueError:
                    continue
                entries[parts[-1].strip('"{}')] = (server, status, parts[5])
        return entries


def keystand_env(database_url: str, redis_url: str, workers: int, **extra: str) -> dict[str, str]:
    """The replicas' environment: production settings on loopback."""
    return {
        "PATH": os.environ["PATH"],
        "KEYSTAND_ENV_FILE": "",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "false",
        "SECRET_KEY": "cluster-" + secrets.token_urlsafe(40),
        "DATABASE_URL": database_url,
        "CACHE_URL": redis_url,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "TRUSTED_PROXIES": "127.0.0.1",
        # Plain HTTP on loopback: no TLS in front of HAProxy here.
        "SECURE_SSL_REDIRECT": "false",
        "SECURE_COOKIES": "false",
        "SECURE_HSTS_SECONDS": "0",
        "EMAIL_URL": "dummymail://",
        "WEB_CONCURRENCY": str(workers),
        "LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
        **extra,
    }


def manage(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if result.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stderr}")
    return result.stdout
