"""Production serving end to end: gunicorn, DEBUG=false, collectstatic's manifest, WhiteNoise."""

import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.redis_cache import subprocess_cache_env

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
# This test's own port range, so it never collides with a developer's server on 8000.
PORTS = range(8400, 8500)
HASHED_CSS = re.compile(r'<link rel="stylesheet" href="(/static/css/keystand\.[0-9a-f]{12}\.css)"')


def _free_port() -> int:
    for port in PORTS:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    pytest.fail(f"no free port in {PORTS.start}-{PORTS.stop - 1}")


def _get(url: str) -> tuple[int, dict, bytes]:
    with urllib.request.urlopen(url, timeout=10) as r:  # noqa: S310 (our own local server)
        return r.status, dict(r.headers), r.read()


def _wait_until_up(url: str, server: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"gunicorn exited with {server.returncode}:\n{log.read_text()}")
        try:
            if _get(url)[0] == 200:
                return
        except (urllib.error.URLError, ConnectionError):
            pass
        time.sleep(0.2)
    pytest.fail(f"gunicorn did not answer {url}:\n{log.read_text()}")


@pytest.fixture
def server_env(tmp_path) -> dict[str, str]:
    """Return a production environment on a migrated SQLite file with collected static files."""
    env = {
        "PATH": os.environ["PATH"],
        "KEYSTAND_ENV_FILE": "",
        "DEBUG": "false",
        "SECRET_KEY": "test-only-key-for-the-gunicorn-test-000000000000000000000000",
        "ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "STATIC_ROOT": str(tmp_path / "staticfiles"),
        # Plain HTTP on loopback: no TLS proxy in front of this server.
        "SECURE_SSL_REDIRECT": "false",
        **subprocess_cache_env(),
    }
    for command in ("migrate", "collectstatic"):
        step = subprocess.run(
            [sys.executable, "manage.py", command, "--no-input"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=120,
        )
        assert step.returncode == 0, step.stdout
    return env


def test_it_serves_pages_and_hashed_css_without_debug(tmp_path, server_env):
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "gunicorn.log"
    with log.open("w") as out:
        server = subprocess.Popen(
            [BIN / "gunicorn", "config.wsgi", "-b", f"127.0.0.1:{port}", "-w", "2"],
            cwd=ROOT,
            env=server_env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_until_up(f"{base}/healthz", server, log)

        status, _, body = _get(f"{base}/accounts/login/")
        assert status == 200
        html = body.decode()
        assert "Sign in to Keystand" in html
        # The production storage links the content-hashed name from the manifest.
        css = HASHED_CSS.search(html)
        assert css, html

        status, headers, body = _get(base + css.group(1))
        assert status == 200
        assert headers["Content-Type"].startswith("text/css")
        assert b"--primary" in body
        # A hashed name never changes content, so browsers may keep it for good.
        assert "immutable" in headers["Cache-Control"]

        status, _, body = _get(f"{base}/readyz")
        assert status == 200
        assert b'"database": "ok"' in body
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
