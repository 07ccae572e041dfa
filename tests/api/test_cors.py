"""Cross-origin use of the API (django-cors-headers): off until origins are listed in
CORS_ALLOWED_ORIGINS, then answered for those origins under /api/v1/ only."""

import pytest

APP = "https://app.example.com"
TOKENS = "/api/v1/access-tokens/"


@pytest.fixture
def allow_app(settings):
    settings.CORS_ALLOWED_ORIGINS = [APP, "http://localhost:3000"]


def _preflight(api_client, path, origin=APP, method="POST"):
    return api_client.options(
        path,
        HTTP_ORIGIN=origin,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD=method,
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization, content-type",
    )


def _cors_headers(response) -> dict[str, str]:
    return {k: v for k, v in response.headers.items() if k.lower().startswith("access-control-")}


def test_it_is_off_by_default(api_client, alice_token, settings):
    assert settings.CORS_ALLOWED_ORIGINS == []
    _token, raw = alice_token
    r = api_client.get("/api/v1/me/", HTTP_ORIGIN=APP, HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert r.status_code == 200
    assert _cors_headers(r) == {}
    r = _preflight(api_client, TOKENS)
    assert _cors_headers(r) == {}


@pytest.mark.usefixtures("allow_app")
@pytest.mark.parametrize("method", ["GET", "POST", "PATCH", "DELETE"])
@pytest.mark.parametrize(
    "path",
    [TOKENS, TOKENS + "00000000-0000-0000-0000-000000000000/", TOKENS + "revoke/", "/api/v1/me/"],
)
def test_it_answers_a_preflight_without_credentials(api_client, path, method):
    r = _preflight(api_client, path, method=method)
    assert r.status_code == 200
    assert r["Access-Control-Allow-Origin"] == APP
    allowed_headers = {h.strip() for h in r["Access-Control-Allow-Headers"].split(",")}
    assert {"authorization", "content-type"} <= allowed_headers
    assert method in r["Access-Control-Allow-Methods"].split(", ")
    # Tokens, not cookies: a session is never usable from another origin.
    assert "Access-Control-Allow-Credentials" not in r
    assert "origin" in r["Vary"].lower()


@pytest.mark.usefixtures("allow_app")
def test_it_lets_an_allowed_origin_read_the_answer_and_its_headers(api_client, alice_token):
    _token, raw = alice_token
    r = api_client.get(TOKENS, HTTP_ORIGIN=APP, HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert r.status_code == 200
    assert r["Access-Control-Allow-Origin"] == APP
    exposed = set(r["Access-Control-Expose-Headers"].split(", "))
    sent = {name for name in r.headers if name.startswith(("Keystand-", "RateLimit-"))}
    assert sent, "the answer should carry token and rate-limit headers"
    assert sent <= exposed
    assert {"Link", "Location", "Retry-After", "WWW-Authenticate"} <= exposed


@pytest.mark.usefixtures("allow_app")
def test_it_lets_an_allowed_origin_read_errors_too(api_client):
    r = api_client.get(TOKENS, HTTP_ORIGIN="http://localhost:3000")
    assert r.status_code == 401
    assert r["Access-Control-Allow-Origin"] == "http://localhost:3000"
    assert r.json()["code"] == "not_authenticated"


@pytest.mark.usefixtures("allow_app")
@pytest.mark.parametrize(
    "origin", ["https://evil.example.com", "http://app.example.com", "https://app.example.com:8443"]
)
def test_it_says_nothing_to_another_origin(api_client, alice_token, origin):
    _token, raw = alice_token
    r = api_client.get(TOKENS, HTTP_ORIGIN=origin, HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert _cors_headers(r) == {}
    assert _cors_headers(_preflight(api_client, TOKENS, origin=origin)) == {}


@pytest.mark.usefixtures("allow_app")
@pytest.mark.parametrize("path", ["/api/schema/", "/settings/access-tokens/", "/accounts/login/"])
def test_it_answers_cross_origin_under_api_v1_only(client, path):
    r = client.get(path, HTTP_ORIGIN=APP)
    assert _cors_headers(r) == {}
    r = _preflight(client, path)
    assert _cors_headers(r) == {}
