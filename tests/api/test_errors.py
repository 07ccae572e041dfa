"""Every error under /api/ is JSON with a `detail`, never an HTML page or a 500."""

import json

import pytest

pytestmark = pytest.mark.django_db

NOT_FOUND = {"detail": "Not found.", "code": "not_found"}
UUID = "0b6f1a47-8a9f-4c2e-9d3b-5f1e2a7c9d00"


def test_the_suite_runs_with_debug_off(settings):
    # Django's handler404 (our JSON one) is used only when DEBUG is off, as in production.
    assert settings.DEBUG is False


@pytest.mark.parametrize(
    "path", ["/api/", "/api/v1/", "/api/v2/me/", "/api/v1/nope/", "/api/v1/access-tokens/x/y/"]
)
def test_it_answers_json_404_for_an_unknown_url(api_client, alice_token, path):
    _token, raw = alice_token
    for extra in ({}, {"HTTP_AUTHORIZATION": f"Bearer {raw}"}):
        r = api_client.get(path, **extra)
        assert r.status_code == 404
        assert r["Content-Type"] == "application/json"
        assert r.json() == NOT_FOUND


def test_it_answers_an_html_404_outside_the_api(client):
    r = client.get("/no-such-page/")
    assert r.status_code == 404
    assert r["Content-Type"].startswith("text/html")


@pytest.fixture
def small_uploads(settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    return 1000


def test_it_refuses_an_oversized_body_with_413(api_client, alice, alice_token, small_uploads):
    _token, raw = alice_token
    body = json.dumps({"name": "x" * 2000})
    r = api_client.post(
        "/api/v1/access-tokens/",
        body,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {raw}",
    )
    assert r.status_code == 413
    assert r.json() == {
        "detail": "Request body is too large (the limit is 1000 bytes).",
        "code": "request_too_large",
    }
    assert alice.access_tokens.count() == 1


def test_it_refuses_an_oversized_revoke_with_413(api_client, alice, alice_token, small_uploads):
    _token, raw = alice_token
    body = json.dumps({"token": raw, "padding": "x" * 2000})
    r = api_client.post("/api/v1/access-tokens/revoke/", body, content_type="application/json")
    assert r.status_code == 413
    assert r.json() == {
        "detail": "Request body is too large (the limit is 1000 bytes).",
        "code": "request_too_large",
    }
    assert alice.access_tokens.count() == 1


def test_it_takes_a_body_just_under_the_limit(api_client, alice_token, small_uploads):
    _token, raw = alice_token
    body = json.dumps({"name": "x" * 50}).ljust(1000)
    r = api_client.post(
        "/api/v1/access-tokens/",
        body,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {raw}",
    )
    assert r.status_code == 201


@pytest.mark.parametrize("body", ["{", '{"name": }', "nul", "\xff\xfe", '{"name": "a"} x', "NaN"])
def test_it_answers_400_for_malformed_json(api_client, alice_token, body):
    _token, raw = alice_token
    r = api_client.post(
        "/api/v1/access-tokens/",
        body.encode("latin-1"),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {raw}",
    )
    assert r.status_code == 400
    assert r["Content-Type"] == "application/json"
    assert r.json()["detail"].startswith("JSON parse error - ")


def test_it_refuses_an_unknown_charset(api_client, alice_token):
    _token, raw = alice_token
    r = api_client.post(
        "/api/v1/access-tokens/",
        b"{}",
        content_type="application/json; charset=bz2_codec",
        HTTP_AUTHORIZATION=f"Bearer {raw}",
    )
    assert r.status_code == 400
    assert r.json() == {
        "detail": 'Unsupported charset "bz2_codec" in request Content-Type header.',
        "code": "parse_error",
    }


def test_it_answers_406_json_when_json_is_not_acceptable(api_client, alice_token):
    _token, raw = alice_token
    r = api_client.get("/api/v1/me/", HTTP_ACCEPT="text/html", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert r.status_code == 406
    assert r.json() == {
        "detail": "Could not satisfy the request Accept header.",
        "code": "not_acceptable",
    }


def test_it_answers_json_400_for_a_host_it_does_not_serve(api_client, alice_token):
    _token, raw = alice_token
    r = api_client.get("/api/v1/me/", HTTP_HOST="evil.example", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert r.status_code == 400
    assert r["Content-Type"] == "application/json"
    assert r.json() == {"detail": "Bad request.", "code": "bad_request"}


@pytest.mark.parametrize("method", ["get", "post", "patch", "delete", "put", "options", "head"])
@pytest.mark.parametrize(
    ("path", "slashed"),
    [
        ("/api/v1/me", "/api/v1/me/"),
        ("/api/v1/access-tokens", "/api/v1/access-tokens/"),
        ("/api/v1/access-tokens/revoke?x=1&y=%20", "/api/v1/access-tokens/revoke/?x=1&y=%20"),
        (f"/api/v1/access-tokens/{UUID}", f"/api/v1/access-tokens/{UUID}/"),
        (f"/api/v1/access-tokens/{UUID}/rotate", f"/api/v1/access-tokens/{UUID}/rotate/"),
        ("/api/schema", "/api/schema/"),
    ],
)
def test_it_answers_308_to_a_path_without_its_trailing_slash(api_client, method, path, slashed):
    # 308 keeps the method and the body (a 301 turns a POST into a GET); JSON, not HTML.
    r = getattr(api_client, method)(path, HTTP_AUTHORIZATION="Bearer whatever")
    assert r.status_code == 308
    assert r["Location"] == slashed
    if method != "head":
        assert r["Content-Type"] == "application/json"
        assert r.json() == {
            "detail": f"API URLs end with a slash: use {slashed}",
            "code": "trailing_slash_required",
        }


def test_it_answers_404_where_the_slashed_path_does_not_exist_either(api_client):
    r = api_client.post("/api/v1/nothing-here")
    assert r.status_code == 404
    assert r.json() == NOT_FOUND


def test_it_keeps_djangos_301_outside_the_api(client):
    r = client.get("/settings/access-tokens")
    assert r.status_code == 301
    assert r["Location"] == "/settings/access-tokens/"
