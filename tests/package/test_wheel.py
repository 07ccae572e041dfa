"""django-keystand-tokens installs on its own: the built wheel, in a fresh virtual environment
with only its declared dependencies (plus a server and a PostgreSQL driver, as any project
has), serves tests/host_project — a stranger's project with an email-as-username user model
and a UUID primary key — on SQLite and on PostgreSQL, under gunicorn, over HTTP."""

import html
import http.cookiejar
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tests.conftest import made_once_per_run

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "packages" / "django-keystand-tokens"
HOST_PROJECT = ROOT / "tests" / "host_project"
PG_SERVER = os.environ.get("KEYSTAND_TEST_PG_SERVER", "postgres://postgres@127.0.0.1:5432")
TOKEN_RE = re.compile(r"kspat_[0-9A-Za-z]{49}")
EMAIL = "ada.lovelace-has-a-long-address@analytical-engines.example.org"
PASSWORD = "correct horse battery staple"


# pip runs from the suite's own environment and acts on the fresh venv (`pip --python`).
_PIP = [sys.executable, "-m", "pip", "--disable-pip-version-check"]


def _run(*args, cwd: Path | None = None, env: dict | None = None) -> str:
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"{args} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.fixture(scope="session")
def installed(tmp_path_factory, worker_id) -> Path:
    """Return the Python of a fresh venv holding the built wheel: built once per test run
    (made_once_per_run), shared by pytest-xdist's workers."""

    def build(directory: Path) -> None:
        dist, venv = directory / "dist", directory / "venv"
        _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", dist, PACKAGE)
        [wheel] = dist.glob("django_keystand_tokens-*.whl")
        # Without pip of its own (ensurepip takes seconds): this venv's pip installs into it,
        # the versions Keystand is tested with, from the shared pip cache.
        _run(sys.executable, "-m", "venv", "--without-pip", venv)
        pip = [*_PIP, "--python", venv / "bin" / "python", "install", "-q"]
        _run(*pip, "-c", ROOT / "constraints.txt", wheel, "gunicorn", "psycopg[binary]")
        (venv / "wheel-name").write_text(str(wheel))

    directory = made_once_per_run(tmp_path_factory, worker_id, "keystand-wheel", build)
    return directory / "venv" / "bin" / "python"


def test_the_wheel_holds_the_app_and_nothing_of_keystands_project(installed):
    wheel = Path((installed.parent.parent / "wheel-name").read_text())
    names = zipfile.ZipFile(wheel).namelist()
    assert {n.split("/")[0] for n in names} == {
        "access_tokens",
        "django_keystand_tokens-0.1.0.dist-info",
    }
    for part in (
        "access_tokens/templates/access_tokens/base.html",
        "access_tokens/templates/admin/access_tokens/find_leaked.html",
        "access_tokens/migrations/0001_initial.py",
        "access_tokens/management/commands/create_access_token.py",
    ):
        assert part in names
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
    metadata = zipfile.ZipFile(wheel).read("django_keystand_tokens-0.1.0.dist-info/METADATA")
    requires = sorted(
        line.split(":", 1)[1].split(">")[0].split("<")[0].strip().lower()
        for line in metadata.decode().splitlines()
        if line.startswith("Requires-Dist:")
    )
    assert requires == [
        "cryptography",
        "django",
        "django-tasks",
        "djangorestframework",
        "drf-spectacular",
    ]


def test_installing_it_brings_no_keystand_module(installed):
    # From / so that no checkout is on the path: only what pip installed.
    found = _run(
        installed,
        "-c",
        "import importlib.util as u, json; "
        "print(json.dumps({m: bool(u.find_spec(m)) for m in "
        "['access_tokens', 'config', 'accounts', 'allauth', 'environ', 'redis']}))",
        cwd=Path("/"),
    )
    assert json.loads(found) == {
        "access_tokens": True,
        "config": False,
        "accounts": False,
        "allauth": False,
        "environ": False,
        "redis": False,
    }
    assert "keystand " not in _run(*_PIP, "--python", installed, "list", cwd=Path("/")).lower()


# --- The host project, served --------------------------------------------------------------


@pytest.fixture(params=["sqlite", "postgresql"])
def host_env(request, tmp_path) -> Iterator[dict[str, str]]:
    """Return the environment of a copy of the host project on a database of its own."""
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "HOST_SECRET_KEY": secrets.token_urlsafe(50),
    }
    if request.param == "sqlite":
        env["HOST_SQLITE_PATH"] = str(tmp_path / "host.sqlite3")
        yield env
        return
    name = f"keystand_host_{secrets.token_hex(4)}"
    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    parts = urllib.parse.urlsplit(PG_SERVER)
    env.update(
        HOST_PG_NAME=name,
        HOST_PG_HOST=parts.hostname or "127.0.0.1",
        HOST_PG_PORT=str(parts.port or 5432),
        HOST_PG_USER=parts.username or "postgres",
    )
    try:
        yield env
    finally:
        with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(installed, host_env, tmp_path) -> Iterator[str]:
    """Migrate the host project, make its one user, serve it with gunicorn; return its URL."""
    project = tmp_path / "host_project"
    shutil.copytree(HOST_PROJECT, project, ignore=shutil.ignore_patterns("__pycache__"))
    manage = [installed, "manage.py"]
    # Django's own checks (the app's settings checks and its user-admin warning among them)
    # must be silent.
    assert "no issues" in _run(*manage, "check", cwd=project, env=host_env)
    _run(*manage, "migrate", "--no-input", cwd=project, env=host_env)
    _run(
        *manage,
        "shell",
        "-c",
        f"from people.models import Person; Person.objects.create_user({EMAIL!r}, {PASSWORD!r})",
        cwd=project,
        env=host_env,
    )
    port = _free_port()
    gunicorn = installed.parent / "gunicorn"
    log = open(tmp_path / "gunicorn.log", "w")  # noqa: SIM115 (closed below)
    process = subprocess.Popen(
        [gunicorn, "--bind", f"127.0.0.1:{port}", "--workers", "1", "hostsite.wsgi"],
        cwd=project,
        env=host_env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120  # a busy machine; not a measurement
        while True:
            try:
                urllib.request.urlopen(f"{url}/login/", timeout=30).close()  # noqa: S310
                break
            except OSError:  # refused while gunicorn starts (URLError is an OSError)
                assert process.poll() is None, (tmp_path / "gunicorn.log").read_text()
                assert time.monotonic() < deadline, (tmp_path / "gunicorn.log").read_text()
                time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


class _Browser:
    """Cookies, CSRF and no redirects followed: what a person's browser sends."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.jar = http.cookiejar.CookieJar()

        class _NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *args, **kwargs):
                return None

        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), _NoRedirect
        )

    def request(self, method: str, path: str, data=None, headers=None) -> tuple[int, dict, str]:
        body = urllib.parse.urlencode(data, doseq=True).encode() if data is not None else None
        headers = {"Referer": self.base + path, **(headers or {})}
        req = urllib.request.Request(self.base + path, body, headers, method=method)
        try:
            with self.opener.open(req, timeout=60) as r:
                return r.status, dict(r.headers), r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers), e.read().decode()

    def get(self, path: str) -> tuple[int, dict, str]:
        return self.request("GET", path)

    def post_form(self, path: str, page: str, fields: dict) -> tuple[int, dict, str]:
        """POST `fields` with the hidden inputs of the form on `page` (CSRF, nonce)."""
        hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page))
        return self.request(
            "POST", path, {**{k: html.unescape(v) for k, v in hidden.items()}, **fields}
        )


def _api(base: str, method: str, path: str, token: str) -> tuple[int, dict]:
    req = urllib.request.Request(
        base + path,
        b"{}" if method == "POST" else None,
        method=method,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(req, timeout=60) as r:  # noqa: S310 (local server)
            return r.status, json.loads(r.read() or b"{}")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


def test_a_stranger_signs_in_creates_a_token_uses_it_and_deletes_it(server):
    browser = _Browser(server)

    # The host's own sign-in, in front of the token pages mounted at /account/tokens/.
    status, headers, _ = browser.get("/account/tokens/")
    assert status == 302
    assert headers["Location"] == "/login/?next=/account/tokens/"
    _, _, page = browser.get("/login/?next=/account/tokens/")
    status, headers, _ = browser.post_form(
        "/login/?next=/account/tokens/", page, {"username": EMAIL, "password": PASSWORD}
    )
    assert (status, headers["Location"]) == (302, "/account/tokens/")

    # The pages sit in the host's layout and offer the host's own scope.
    status, _, page = browser.get("/account/tokens/new/")
    assert status == 200
    assert '<header id="hostsite-header">' in page
    assert "— Hostsite</title>" in page
    assert 'value="deploy"' in page
    status, headers, _ = browser.post_form(
        "/account/tokens/new/",
        page,
        {
            "name": "Deploy bot",
            "description": "",
            "expiration": "30",
            "expires_on": "",
            "scopes": ["deploy"],
        },
    )
    assert (status, headers["Location"]) == (302, "/account/tokens/")

    # Shown once, on the next page; never again.
    _, _, page = browser.get("/account/tokens/")
    found = set(TOKEN_RE.findall(page))
    assert len(found) == 1, page
    [raw] = found
    assert "Deploy bot" in page
    _, _, again = browser.get("/account/tokens/")
    assert not TOKEN_RE.search(again)
    assert "Deploy bot" in again
    assert raw[-4:] in again  # the masked value: kspat_…1234

    # The host's own view, behind its own scope, answers the token as its owner.
    assert _api(server, "POST", "/api/deploys/", raw) == (202, {"deployed_by": EMAIL})
    # The token grants its scope and no more: /me/ needs read_user.
    status, body = _api(server, "GET", "/api/me/", raw)
    assert status == 403
    assert "read_user" in body["detail"]
    # The token API, under the host's prefix, knows the UUID-keyed owner.
    status, body = _api(server, "GET", "/api/access-tokens/", raw)
    assert status == 403

    # Delete it in the page: refused at once.
    [token_id] = set(re.findall(r'href="/account/tokens/([0-9a-f-]{36})/delete/"', again))
    status, _, page = browser.get(f"/account/tokens/{token_id}/delete/")
    assert status == 200
    status, headers, _ = browser.post_form(f"/account/tokens/{token_id}/delete/", page, {})
    assert (status, headers["Location"]) == (302, "/account/tokens/")
    status, body = _api(server, "POST", "/api/deploys/", raw)
    assert status == 401
    assert "Deploy bot" in browser.get("/account/tokens/")[2]  # listed as inactive for a while
