"""A request body sent chunked (`Transfer-Encoding: chunked`, no Content-Length) is read whole
or refused, never taken as empty (issue #11, item 1): against the image's gunicorn, which
decodes the chunks, and against Django's own development server, which cannot."""

import contextlib
import http.client
import json
import re
import socket
import threading
from collections.abc import Iterator
from http.cookies import SimpleCookie

import pytest

from tests.conftest import PASSWORD
from tests.forked_manage import run_manage
from tests.project.conftest import fresh_database
from tests.project.test_gunicorn import Server, _prepared_env

LIMIT = 64 * 1024
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
NONCE = re.compile(r'name="nonce" value="([^"]+)"')


def _chunks(body: bytes, size: int = 7) -> Iterator[bytes]:
    """Yield the body in small pieces: http.client sends each as a chunk of its own."""
    for start in range(0, len(body), size):
        yield body[start : start + size]


class Client:
    """HTTP/1.1 to one server, every body sent chunked, with the cookies a browser keeps."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}

    def request(
        self, method: str, path: str, body: bytes | None = None, **headers: str
    ) -> tuple[int, dict[str, str], bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        headers = {"Host": "127.0.0.1", **headers}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        try:
            # An iterable body and no Content-Length: http.client sends it chunked.
            conn.request(method, path, None if body is None else _chunks(body), headers)
            response = conn.getresponse()
            for header in response.headers.get_all("Set-Cookie") or []:
                for name, morsel in SimpleCookie(header).items():
                    self.cookies[name] = morsel.value
            return response.status, dict(response.headers), response.read()
        finally:
            conn.close()

    def json(self, method: str, path: str, body: bytes, **headers: str):
        status, _, answer = self.request(
            method, path, body, **{"Content-Type": "application/json", **headers}
        )
        return status, json.loads(answer)

    def form(self, path: str, fields: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        """GET the page for its CSRF token (and the create form's nonce), then POST it."""
        status, _, page = self.request("GET", path)
        assert status == 200, page[:500]
        html = page.decode()
        data = {"csrfmiddlewaretoken": CSRF.search(html).group(1), **fields}
        if nonce := NONCE.search(html):
            data["nonce"] = nonce.group(1)
        body = "&".join(f"{k}={v}" for k, v in data.items()).encode()
        return self.request(
            "POST", path, body, **{"Content-Type": "application/x-www-form-urlencoded"}
        )


def _manage(env: dict[str, str], *args: str) -> str:
    done = run_manage(*args, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def _tokens(client: Client, raw: str) -> list[dict]:
    status, listing = client.json(
        "GET", "/api/v1/access-tokens/?page_size=100", b"", Authorization=f"AccessToken {raw}"
    )
    assert status == 200, listing
    return listing["results"]


@pytest.fixture(scope="module")
def server(tmp_path_factory, static_root) -> Iterator[tuple[Server, str]]:
    """Return gunicorn (as the image runs it) with the user alice and a token of hers."""
    tmp_path = tmp_path_factory.mktemp("chunked")
    with fresh_database(tmp_path) as database_url:
        env = _prepared_env(database_url, static_root)
        env["DATA_UPLOAD_MAX_MEMORY_SIZE"] = str(LIMIT)
        _manage(
            env,
            "shell",
            "-c",
            "from django.contrib.auth import get_user_model; "
            f"get_user_model().objects.create_user('alice', 'alice@example.com', '{PASSWORD}')",
        )
        raw = _manage(env, "create_access_token", "alice", "--no-expiry", "--name", "parent")
        server = Server(env, tmp_path / "gunicorn.log")
        try:
            server.wait_until_up()
            yield server, raw
        finally:
            server.stop()


@pytest.fixture
def client(server) -> Client:
    return Client(server[0].port)


@pytest.fixture
def raw(server) -> str:
    return server[1]


def test_it_grants_the_scopes_and_expiry_a_chunked_body_asks_for(client, raw):
    body = json.dumps(
        {"name": "chunked", "scopes": ["read_api"], "expires_at": "2027-01-01T12:00:00Z"}
    ).encode()
    status, answer = client.json(
        "POST", "/api/v1/access-tokens/", body, Authorization=f"AccessToken {raw}"
    )
    assert status == 201, answer
    assert answer["name"] == "chunked"
    assert answer["scopes"] == ["read_api"]
    assert answer["expires_at"].startswith("2027-01-01T12:00:00")

    # And the new token has exactly that: it reads, and it may not write.
    child = answer["token"]
    status, me = client.json("GET", "/api/v1/me/", b"", Authorization=f"AccessToken {child}")
    assert status == 200, me
    status, refused = client.json(
        "POST", "/api/v1/access-tokens/", b"{}", Authorization=f"AccessToken {child}"
    )
    assert (status, refused["code"]) == (403, "insufficient_scope")


def test_it_answers_400_to_invalid_json_sent_chunked(client, raw):
    status, answer = client.json(
        "POST",
        "/api/v1/access-tokens/",
        b'{"scopes": ["read_api"',
        Authorization=f"AccessToken {raw}",
    )
    assert status == 400
    assert answer["code"] == "parse_error"


def _send_raw(port: int, path: str, body: bytes, **headers: str) -> tuple[bytes, bytes]:
    """POST `body` chunked over a raw socket and return the answer's head and body.

    The body goes from a thread: a server may answer before it has read everything, and a
    client that insisted on sending it all first would never see that answer.
    """
    lines = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", "Transfer-Encoding: chunked"]
    lines += [f"{name.replace('_', '-')}: {value}" for name, value in headers.items()]
    head = ("\r\n".join([*lines, "Connection: close"]) + "\r\n\r\n").encode()
    chunked = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in _chunks(body, 4096)) + b"0\r\n\r\n"
    with socket.create_connection(("127.0.0.1", port), timeout=30) as conn:

        def send() -> None:
            # The server may close the connection on the rest of the body.
            with contextlib.suppress(OSError):
                conn.sendall(head + chunked)

        sender = threading.Thread(target=send)
        sender.start()
        answer = b""
        with contextlib.suppress(ConnectionResetError):
            while piece := conn.recv(65536):
                answer += piece
        sender.join(timeout=30)
    answer_head, _, answer_body = answer.partition(b"\r\n\r\n")
    return answer_head, answer_body


def test_it_answers_413_to_a_chunked_body_over_the_limit(server, raw):
    gunicorn, _ = server
    before = len(_tokens(Client(gunicorn.port), raw))
    body = json.dumps({"name": "n" * (4 * LIMIT)}).encode()
    head, payload = _send_raw(
        gunicorn.port,
        "/api/v1/access-tokens/",
        body,
        Authorization=f"AccessToken {raw}",
        Content_Type="application/json",
    )
    assert head.startswith(b"HTTP/1.1 413"), head
    assert json.loads(payload) == {
        "detail": f"Request body is too large (the limit is {LIMIT} bytes).",
        "code": "request_too_large",
    }
    # Nothing was made.
    assert len(_tokens(Client(gunicorn.port), raw)) == before


def test_it_answers_a_413_page_to_a_chunked_form_over_the_limit(server):
    body = f"login=alice&password={'p' * 2 * LIMIT}".encode()
    head, page = _send_raw(
        server[0].port,
        "/accounts/login/",
        body,
        Content_Type="application/x-www-form-urlencoded",
    )
    assert head.startswith(b"HTTP/1.1 413"), head
    assert b"<h1>Request too large</h1>" in page
    assert f"the limit is {LIMIT} bytes".encode() in page


def test_it_revokes_a_token_sent_chunked(client, raw):
    status, created = client.json(
        "POST", "/api/v1/access-tokens/", b'{"name": "leaked"}', Authorization=f"AccessToken {raw}"
    )
    assert status == 201
    leaked = created["token"]
    status, _ = client.json("GET", "/api/v1/me/", b"", Authorization=f"AccessToken {leaked}")
    assert status == 200

    status, _ = client.json(
        "POST", "/api/v1/access-tokens/revoke/", json.dumps({"token": leaked}).encode()
    )
    assert status == 202
    status, answer = client.json("GET", "/api/v1/me/", b"", Authorization=f"AccessToken {leaked}")
    assert (status, answer["code"]) == (401, "token_revoked")


def test_it_reads_chunked_browser_forms(client, raw):
    # Sign in, create a token and delete it, every form posted chunked.
    status, headers, _ = client.form("/accounts/login/", {"login": "alice", "password": PASSWORD})
    assert status == 302, headers
    assert "sessionid" in client.cookies

    status, headers, page = client.form(
        "/settings/access-tokens/new/",
        {"name": "from-a-chunked-form", "expiration": "7", "scopes": "read_user"},
    )
    assert status == 302, page.decode()[:2000]
    assert headers["Location"] == "/settings/access-tokens/"
    status, _, listing = client.request("GET", "/settings/access-tokens/")
    html = listing.decode()
    assert "from-a-chunked-form" in html
    assert re.search(r"kspat_[0-9A-Za-z]{49}", html), "the one-time display"

    token_id = next(t["id"] for t in _tokens(client, raw) if t["name"] == "from-a-chunked-form")
    delete_url = f"/settings/access-tokens/{token_id}/delete/"
    status, headers, _ = client.form(delete_url, {})
    assert status == 302
    status, _, listing = client.request("GET", "/settings/access-tokens/")
    assert "deleted" in listing.decode()
    assert client.request("GET", delete_url)[0] == 404


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/api/v1/access-tokens/revoke/", "application/json"),
        ("/accounts/login/", "application/x-www-form-urlencoded"),
    ],
)
def test_it_answers_411_where_the_server_cannot_read_a_chunked_body(
    live_server, path, content_type
):
    # Django's development server (runserver, the live server here) does not decode chunks:
    # the body cannot be read, so it must not be taken as empty either.
    port = int(live_server.url.rsplit(":", 1)[1])
    body = b"token=x" if "form" in content_type else b'{"token": "x"}'
    head, answer = _send_raw(port, path, body, Content_Type=content_type)
    assert re.match(rb"HTTP/1\.[01] 411", head), head
    if path.startswith("/api/"):
        assert json.loads(answer)["code"] == "length_required"
        assert "Content-Length" in json.loads(answer)["detail"]
    else:
        assert b"<h1>Length required</h1>" in answer
