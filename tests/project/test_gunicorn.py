"""Production serving end to end: the image's command (gunicorn -c config/gunicorn.py) with
DEBUG=false, collectstatic's manifest, WhiteNoise, Django's checks at start, the trusted-proxy
setting, token-safe access logs, the container health check and a graceful stop; on the
database engine the suite runs on (DATABASE_URL: SQLite or PostgreSQL)."""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from config.healthcheck import probe_host
from tests.forked_manage import run_manage
from tests.project.conftest import fresh_database
from tests.redis_cache import subprocess_cache_env

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
HASHED_CSS = re.compile(r'<link rel="stylesheet" href="(/static/css/keystand\.[0-9a-f]{12}\.css)"')
TOKEN = "kspat_" + "A" * 49


def _image_command() -> list[str]:
    """Return the Dockerfile's CMD: the tests serve exactly what the image runs."""
    text = re.sub(r"\\\n\s*", " ", (ROOT / "Dockerfile").read_text())
    cmd = [ln for ln in text.splitlines() if ln.startswith("CMD ")][-1]
    argv = json.loads(cmd[4:])
    assert argv[0] == "gunicorn"
    return [str(BIN / "gunicorn"), *argv[1:]]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str, **headers: str) -> tuple[int, dict, bytes]:
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as r:  # noqa: S310 (local server)
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


@pytest.fixture(scope="module")
def server_env(tmp_path_factory, static_root) -> Iterator[dict[str, str]]:
    """Return a production environment on a migrated database of its own (SQLite or
    PostgreSQL, as the suite runs; migrated once for the module, which takes a while) serving
    the run's collected static files (static_root)."""
    tmp_path = tmp_path_factory.mktemp("gunicorn")
    with fresh_database(tmp_path) as database_url:
        yield _prepared_env(database_url, static_root)


def _production_env(database_url: str, static_root: Path) -> dict[str, str]:
    return {
        "PATH": os.environ["PATH"],
        "KEYSTAND_ENV_FILE": "",
        "DEBUG": "false",
        "SECRET_KEY": "test-only-key-for-the-gunicorn-test-000000000000000000000000",
        "ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_URL": database_url,
        "STATIC_ROOT": str(static_root),
        # Plain HTTP on loopback: no TLS proxy in front of this server.
        "SECURE_SSL_REDIRECT": "false",
        "WEB_CONCURRENCY": "2",
        **subprocess_cache_env(),
    }


def _prepared_env(database_url: str, static_root: Path) -> dict[str, str]:
    """Return a production environment on `database_url`, migrated, serving the static files
    collected in `static_root` (the static_root fixture)."""
    env = _production_env(database_url, static_root)
    step = run_manage("migrate", "--no-input", env=env, timeout=120, stderr_to_stdout=True)
    assert step.returncode == 0, step.stdout
    return env


def collect_static(static_root: Path) -> None:
    """Run collectstatic into `static_root`, as a release does: hashed names, the manifest,
    WhiteNoise's compressed copies."""
    env = _production_env(f"sqlite:///{static_root.parent / 'unused.sqlite3'}", static_root)
    step = run_manage("collectstatic", "--no-input", env=env, timeout=120, stderr_to_stdout=True)
    assert step.returncode == 0, step.stdout


class Server:
    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = {**env, "GUNICORN_BIND": f"127.0.0.1:{self.port}"}
        self.log = log
        with log.open("w") as out:
            self.process = subprocess.Popen(
                _image_command(), cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT
            )

    def wait_until_up(self) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"gunicorn exited with {self.process.returncode}:\n{self.text()}")
            try:
                host = probe_host(self.env["ALLOWED_HOSTS"])
                if _get(f"{self.base}/healthz", Host=host)[0] == 200:
                    return
            except (urllib.error.URLError, ConnectionError):
                pass
            time.sleep(0.2)
        pytest.fail(f"gunicorn did not answer:\n{self.text()}")

    def text(self) -> str:
        return self.log.read_text()

    def wait_for_workers(self, expected: int, timeout: float = 20) -> int:
        """Return how many workers have logged their boot, once `expected` have or at timeout
        (so a test sees too many as well as too few)."""
        deadline = time.monotonic() + timeout
        while (booted := self.text().count("Booting worker")) < expected:
            if time.monotonic() > deadline:
                break
            time.sleep(0.1)
        return booted

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@pytest.fixture
def serve(tmp_path, server_env):
    """Start the image's command with extra settings; return the running server."""
    servers = []

    def start(**extra: str) -> Server:
        server = Server({**server_env, **extra}, tmp_path / f"gunicorn-{len(servers)}.log")
        servers.append(server)
        server.wait_until_up()
        return server

    yield start
    for server in servers:
        server.stop()


def test_it_serves_pages_and_hashed_css_without_debug(serve):
    server = serve()
    status, _, body = _get(f"{server.base}/accounts/login/")
    assert status == 200
    html = body.decode()
    assert "Sign in to Keystand" in html
    # The production storage links the content-hashed name from the manifest.
    css = HASHED_CSS.search(html)
    assert css, html

    status, headers, body = _get(server.base + css.group(1))
    assert status == 200
    assert headers["Content-Type"].startswith("text/css")
    assert b"--primary" in body
    # A hashed name never changes content, so browsers may keep it for good.
    assert "immutable" in headers["Cache-Control"]

    status, _, body = _get(f"{server.base}/readyz")
    assert status == 200
    assert b'"database": "ok"' in body
    # Two workers, as WEB_CONCURRENCY said; Django's checks ran once, in the master. A worker
    # logs its boot itself, after the fork: the first may answer before the second has logged.
    assert server.wait_for_workers(2) == 2
    assert "System check identified no issues" in server.text()


@pytest.mark.parametrize("cache_url", ["locmemcache://", "dummycache://"])
def test_it_refuses_to_start_with_a_process_local_cache(tmp_path, server_env, cache_url):
    server = Server({**server_env, "CACHE_URL": cache_url}, tmp_path / "gunicorn.log")
    try:
        assert server.process.wait(timeout=60) != 0
    finally:
        server.stop()
    text = server.text()
    assert "keystand.E001" in text
    assert "Set CACHE_URL=redis://" in text
    assert "Booting worker" not in text
    assert "Traceback" not in text


def test_it_refuses_to_start_without_a_secret_key(tmp_path, server_env):
    server = Server({**server_env, "SECRET_KEY": ""}, tmp_path / "gunicorn.log")
    try:
        assert server.process.wait(timeout=60) != 0
    finally:
        server.stop()
    assert "SECRET_KEY is not set" in server.text()
    assert "Booting worker" not in server.text()


def test_it_keeps_tokens_out_of_the_access_log(serve):
    server = serve()
    status, _, _ = _get(f"{server.base}/api/v1/me/?token={TOKEN}", Referer=f"https://x/?{TOKEN}")
    assert status == 401
    server.stop()  # flush and close the log
    text = server.text()
    assert "GET /api/v1/me/?token=kspat_[REDACTED]" in text
    assert TOKEN not in text
    assert TOKEN[:20] not in text


@pytest.mark.parametrize(("trusted", "expected"), [("127.0.0.1", 200), ("", 301)])
def test_it_believes_the_forwarded_scheme_only_from_trusted_proxies(serve, trusted, expected):
    # With SECURE_SSL_REDIRECT on, an https request is served and an http one redirected: the
    # scheme comes from X-Forwarded-Proto only when the sender is in TRUSTED_PROXIES.
    server = serve(TRUSTED_PROXIES=trusted, SECURE_SSL_REDIRECT="true")
    opener = urllib.request.build_opener(_NoRedirect)
    request = urllib.request.Request(
        f"{server.base}/accounts/login/", headers={"X-Forwarded-Proto": "https"}
    )
    try:
        status = opener.open(request, timeout=10).status
    except urllib.error.HTTPError as e:
        status = e.code
    assert status == expected


def test_it_passes_the_container_health_check(serve, tmp_path):
    # The first allowed host is the one the probe names; 127.0.0.1 is not allowed here.
    server = serve(ALLOWED_HOSTS="keystand.example.com,localhost")

    def probe(path: str, **env: str) -> int:
        return subprocess.run(
            [sys.executable, "-m", "config.healthcheck", path],
            cwd=ROOT,
            env={**server.env, **env},
            capture_output=True,
            timeout=30,
        ).returncode

    assert probe("/readyz") == 0
    assert probe("/healthz") == 0
    assert probe("/no-such-page") == 1
    assert probe("/readyz", GUNICORN_BIND=f"127.0.0.1:{_free_port()}") == 1


def test_it_finishes_a_request_in_flight_on_sigterm(serve):
    server = serve()
    body = b'{"token": "junk"}'
    head = (
        "POST /api/v1/access-tokens/revoke/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        "Connection: close\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as conn:
        conn.sendall(head + body[:5])
        time.sleep(0.5)  # a worker now holds the half-sent request
        server.process.send_signal(signal.SIGTERM)
        time.sleep(1)
        conn.sendall(body[5:])
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 202"), answer[:200]
    assert server.process.wait(timeout=30) == 0
    # And it took no new connection after the signal.
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", server.port), timeout=2).close()


@pytest.mark.parametrize(
    ("allowed", "host"),
    [
        ("keystand.example.com,localhost", "keystand.example.com"),
        (".example.com", "example.com"),
        ("*", "localhost"),
        ("", "localhost"),
    ],
)
def test_it_probes_with_a_host_that_django_allows(allowed, host):
    assert probe_host(allowed) == host
