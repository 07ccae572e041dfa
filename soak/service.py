"""
What the soak runs against: its own PostgreSQL cluster and Keystand under gunicorn.

The cluster is a throwaway one ("soak", port 5433 unless SOAK_PG_PORT says otherwise), so a
PostgreSQL already serving 5432 is never touched; gunicorn listens on a free port picked at
start.
"""

from __future__ import annotations

import http.client
import os
import secrets
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = str(ROOT / ".venv" / "bin" / "python")
GUNICORN = str(ROOT / ".venv" / "bin" / "gunicorn")
PG_VERSION, PG_CLUSTER = "15", "soak"
PG_PORT = int(os.environ.get("SOAK_PG_PORT", "5433"))
HOST = "127.0.0.1"
DB_NAME = "keystand_soak"
WORK = Path(os.environ.get("SOAK_WORK_DIR", Path(tempfile.gettempdir()) / "keystand-soak"))
PASSWORD = "soak-Password-for-every-client-7"


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def run(*cmd: str, check: bool = True, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, check=check, capture_output=True, text=True, **kw)  # noqa: S603


def wait_for(pred: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > deadline:
            raise TimeoutError(f"Timed out waiting for {what}.")
        time.sleep(0.1)


# --- The soak's own PostgreSQL ----------------------------------------------------------------


def _cluster_exists() -> bool:
    out = run("pg_lsclusters", "--no-header").stdout
    return any(line.split()[:2] == [PG_VERSION, PG_CLUSTER] for line in out.splitlines())


def pg_ready() -> bool:
    return run("pg_isready", "-h", HOST, "-p", str(PG_PORT), check=False).returncode == 0


def ensure_cluster() -> None:
    """Create (once) and start the throwaway cluster, trusting local TCP connections."""
    if not _cluster_exists():
        log(f"Creating PostgreSQL cluster {PG_VERSION}/{PG_CLUSTER} on port {PG_PORT}")
        run("pg_createcluster", PG_VERSION, PG_CLUSTER, "--port", str(PG_PORT))
        hba = Path(f"/etc/postgresql/{PG_VERSION}/{PG_CLUSTER}/pg_hba.conf")
        hba.write_text(
            "# Written by the soak (soak/service.py): a throwaway cluster for the soak only.\n"
            "local all all trust\n"
            "host all all 127.0.0.1/32 trust\n"
            "host all all ::1/128 trust\n"
        )
    if not pg_ready():
        run("pg_ctlcluster", PG_VERSION, PG_CLUSTER, "start")
    wait_for(pg_ready, 30, "the soak PostgreSQL")


def stop_cluster() -> None:
    """Stop the cluster once the run is over (it is started again by the next run)."""
    run("pg_ctlcluster", PG_VERSION, PG_CLUSTER, "stop", check=False)


def stop_database_now() -> None:
    """The fault: stop PostgreSQL at once, cutting every connection; raise if it fails."""
    run("pg_ctlcluster", PG_VERSION, PG_CLUSTER, "stop", "-m", "fast")


def start_database() -> None:
    run("pg_ctlcluster", PG_VERSION, PG_CLUSTER, "start")


def psql(sql: str, db: str = "postgres") -> str:
    return run(
        "psql", "-X", "-A", "-t", "-h", HOST, "-p", str(PG_PORT), "-U", "postgres", "-d", db,
        "-v", "ON_ERROR_STOP=1", "-c", sql,
    ).stdout  # fmt: skip


def fresh_database() -> None:
    psql(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
    psql(f"CREATE DATABASE {DB_NAME}")


def dump_database() -> str:
    """Return the soak database as INSERT statements, one row a line (report.db_rows reads it)."""
    return run(
        "pg_dump", "-h", HOST, "-p", str(PG_PORT), "-U", "postgres", "--inserts",
        "--column-inserts", DB_NAME,
    ).stdout  # fmt: skip


# --- Keystand under gunicorn ------------------------------------------------------------------


@dataclass(frozen=True)
class Server:
    """Where gunicorn listens; every request opens its own connection, as a client would."""

    host: str
    port: int

    @property
    def host_header(self) -> str:
        return f"{self.host}:{self.port}"

    def request(self, method, path, headers, body, timeout=15.0):
        conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=headers)
            resp = conn.getresponse()
            return resp.status, resp.getheaders(), resp.read()
        finally:
            conn.close()

    def healthy(self) -> bool:
        try:
            return self.request("GET", "/healthz", {"Host": self.host_header}, None)[0] == 200
        except OSError:
            return False


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def service_env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "KEYSTAND_ENV_FILE": "",
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DEBUG": "false",
            "SECRET_KEY": "soak-" + secrets.token_urlsafe(40),
            "DATABASE_URL": f"postgres://postgres@{HOST}:{PG_PORT}/{DB_NAME}",
            "ALLOWED_HOSTS": HOST,
            # Plain HTTP on loopback: the cookies cannot be Secure here.
            "SECURE_SSL_REDIRECT": "false",
            "SECURE_COOKIES": "false",
            "SECURE_HSTS_SECONDS": "0",
            "STATIC_ROOT": str(WORK / "static"),
            # Redis, as in production (a local cache is a startup error with DEBUG off); the
            # run's own prefix, since the server may be shared.
            "CACHE_URL": os.environ.get("SOAK_CACHE_URL", "redis://127.0.0.1:6379/0"),
            "CACHE_KEY_PREFIX": "keystand-soak-" + secrets.token_hex(6),
            # Emails go to the log, so the log search covers them too.
            "EMAIL_URL": "consolemail://",
            # Every client shares 127.0.0.1: lift the per-address API limits so the soak
            # exercises token checks rather than the throttles (tests cover those).
            "API_THROTTLE_USER": "100000/min",
            "API_THROTTLE_ANON": "100000/min",
            "API_THROTTLE_FAILED_AUTH": "100000/min",
            "LOG_LEVEL": "INFO",
            "PYTHONPATH": str(ROOT),
        }
    )
    return env


def manage(env: dict[str, str], *args: str) -> str:
    return run(PYTHON, "manage.py", *args, env=env, cwd=ROOT).stdout


def prepare(env: dict[str, str], usernames: list[str]) -> None:
    """Migrate the fresh database, collect static files and create one user per client."""
    manage(env, "migrate", "--no-input")
    manage(env, "collectstatic", "--no-input", "--clear")
    manage(
        env,
        "shell",
        "-c",
        "from django.contrib.auth import get_user_model as m\n"
        f"for n in {usernames!r}: m().objects.create_user(n, n + '@example.org', {PASSWORD!r})",
    )


def start_gunicorn(
    env: dict[str, str], workers: int, logfile: Path
) -> tuple[subprocess.Popen, Server]:
    server = Server(HOST, free_port())
    out = logfile.open("w")
    proc = subprocess.Popen(  # noqa: S603
        [
            GUNICORN, "config.wsgi", "--bind", server.host_header, "--workers", str(workers),
            "--timeout", "30", "--graceful-timeout", "5", "--access-logfile", "-",
            "--access-logformat", '%(h)s "%(r)s" %(s)s %(b)s %(L)ss',
        ],
        env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    wait_for(server.healthy, 30, "gunicorn")
    return proc, server
