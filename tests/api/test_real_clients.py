"""Clients nobody here wrote, against a live server: Debian's curl and Python's urllib.

A 401 offers every scheme Keystand takes, so a client that knows only Basic answers it
(curl --anyauth, urllib's HTTPBasicAuthHandler); a URL without its trailing slash is a 308
that curl -L follows with the same method and body.
"""

import json
import shutil
import subprocess
import urllib.error
import urllib.request

import pytest

pytestmark = pytest.mark.django_db(transaction=True)

CURL = shutil.which("curl")


def _curl(*args: str) -> tuple[int, dict, dict]:
    """Run curl; return the final status, its headers (lower-case names) and JSON body."""
    if CURL is None:
        pytest.fail("curl is not installed (apt-get install curl)")
    out = subprocess.run(
        [CURL, "--silent", "--show-error", "--include", "--max-time", "20", *args],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    ).stdout
    # With --anyauth or -L curl prints every response; the last one is the answer.
    last = out.replace("\r\n", "\n").split("\nHTTP/")[-1]
    head, _, body = last.partition("\n\n")
    lines = head.splitlines()
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return status, headers, json.loads(body) if body.strip() else {}


def test_curl_anyauth_answers_the_basic_challenge(live_server, alice, make_token):
    token, raw = make_token(alice, name="ci")
    status, headers, body = _curl("--anyauth", "-u", f"-:{raw}", f"{live_server.url}/api/v1/me/")
    assert status == 200
    assert body["username"] == "alice"
    assert body["token"]["id"] == str(token.id)
    assert headers["keystand-token-scopes"] == "api"


def test_curl_anyauth_with_a_wrong_token_ends_in_401(live_server, alice, make_token):
    _token, raw = make_token(alice)
    typo = raw[:-1] + ("B" if raw[-1] == "A" else "A")
    status, headers, body = _curl("--anyauth", "-u", f"-:{typo}", f"{live_server.url}/api/v1/me/")
    assert status == 401
    assert body["code"] == "checksum_mismatch"
    assert 'Basic realm="api"' in headers["www-authenticate"]


def test_curl_sees_rfc_6750s_error_for_a_bad_bearer_token(live_server, alice, make_token):
    _token, raw = make_token(alice)
    from access_tokens import services

    services.delete_access_token(token=_token, actor=alice)
    status, headers, body = _curl(
        "-H", f"Authorization: Bearer {raw}", f"{live_server.url}/api/v1/me/"
    )
    assert status == 401
    assert body == {"detail": "Token has been revoked.", "code": "token_revoked"}
    assert headers["www-authenticate"] == (
        'AccessToken realm="api", Bearer realm="api", error="invalid_token", '
        'error_description="Token has been revoked.", Basic realm="api"'
    )


def test_curl_follows_the_308_with_the_same_method_and_body(live_server, alice, make_token):
    _token, raw = make_token(alice)
    status, headers, body = _curl(
        "-L",
        "-H", f"Authorization: Bearer {raw}",
        "-H", "Content-Type: application/json",
        "--data", '{"name": "via a redirect"}',
        f"{live_server.url}/api/v1/access-tokens",
    )  # fmt: skip
    assert status == 201
    assert body["name"] == "via a redirect"
    assert alice.access_tokens.filter(name="via a redirect").count() == 1


def _opener(url: str, password: str) -> urllib.request.OpenerDirector:
    passwords = urllib.request.HTTPPasswordMgrWithDefaultRealm()
    passwords.add_password(None, url, "-", password)
    return urllib.request.build_opener(urllib.request.HTTPBasicAuthHandler(passwords))


def test_urllibs_basic_handler_answers_the_challenge(live_server, alice, make_token):
    token, raw = make_token(alice)
    url = f"{live_server.url}/api/v1/me/"
    with _opener(url, raw).open(url, timeout=20) as r:
        assert r.status == 200
        assert json.load(r)["token"]["id"] == str(token.id)


def test_urllib_with_a_wrong_token_gets_the_401_not_a_scheme_error(live_server, alice):
    # Offered only "AccessToken", urllib raised ValueError("... does not support the
    # following scheme"); offered Basic too, it tries once and reports the 401.
    from access_tokens.services import generate_token

    url = f"{live_server.url}/api/v1/me/"
    with pytest.raises(urllib.error.HTTPError) as refused:
        _opener(url, generate_token()).open(url, timeout=20)
    assert refused.value.code == 401
    assert json.load(refused.value) == {"detail": "Invalid token.", "code": "unknown_token"}
