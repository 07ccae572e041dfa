"""Every answer to a token-authenticated request says when that token expires and what it
may do (Keystand-Token-Expiration, Keystand-Token-Scopes) and which scopes the request takes
(Keystand-Accepted-Scopes), in the manner of GitHub's token headers."""

import datetime as dt

import pytest

from access_tokens import services

from .headers import basic

pytestmark = pytest.mark.django_db

ME = "/api/v1/me/"
LIST = "/api/v1/access-tokens/"


def _headers(r) -> dict:
    return {
        name: r.get(name)
        for name in (
            "Keystand-Token-Expiration",
            "Keystand-Token-Scopes",
            "Keystand-Accepted-Scopes",
        )
    }


@pytest.mark.parametrize("form", ["AccessToken", "Bearer", "Basic"])
def test_it_tells_expiry_and_scopes_on_every_scheme(api_client, alice, make_token, form):
    when = dt.datetime(2031, 5, 6, 7, 8, 9, 123456, tzinfo=dt.UTC)
    _token, raw = make_token(alice, expires_at=when, scopes=["read_api", "self_rotate"])
    header = basic(raw) if form == "Basic" else f"{form} {raw}"
    r = api_client.get(ME, HTTP_AUTHORIZATION=header)
    assert r.status_code == 200
    assert _headers(r) == {
        "Keystand-Token-Expiration": "2031-05-06T07:08:09.123456Z",
        "Keystand-Token-Scopes": "read_api, self_rotate",
        "Keystand-Accepted-Scopes": "api, read_api, read_user",
    }
    # The same instant the body gives, so a client may read either.
    body_expiry = dt.datetime.fromisoformat(r.json()["token"]["expires_at"])
    assert body_expiry == when


def test_it_says_never_for_a_token_without_expiry(api_client, alice_token):
    _token, raw = alice_token
    r = api_client.get(LIST, HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert r.status_code == 200
    assert _headers(r) == {
        "Keystand-Token-Expiration": "never",
        "Keystand-Token-Scopes": "api",
        "Keystand-Accepted-Scopes": "api, read_api",
    }


def test_it_gives_the_expiry_in_utc_whatever_the_time_zone(api_client, alice, make_token, settings):
    settings.TIME_ZONE = "America/Santiago"
    _token, raw = make_token(alice, expires_at=dt.datetime(2030, 1, 31, 3, 0, tzinfo=dt.UTC))
    r = api_client.get(ME, HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert r["Keystand-Token-Expiration"] == "2030-01-31T03:00:00Z"


def test_it_tells_a_refused_scope_what_would_do(api_client, alice, make_token):
    _token, raw = make_token(alice, scopes=["read_user"])
    r = api_client.post(LIST, {}, format="json", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert r.status_code == 403
    assert r.json()["code"] == "insufficient_scope"
    assert _headers(r) == {
        "Keystand-Token-Expiration": "never",
        "Keystand-Token-Scopes": "read_user",
        "Keystand-Accepted-Scopes": "api",
    }


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("get", f"{LIST}00000000-0000-4000-8000-000000000000/", 404),
        ("put", LIST, 405),
        ("post", LIST, 400),
    ],
)
def test_it_tells_them_on_errors_too(api_client, alice_token, method, path, status):
    _token, raw = alice_token
    r = getattr(api_client, method)(
        path, {"scopes": []}, format="json", HTTP_AUTHORIZATION=f"Bearer {raw}"
    )
    assert r.status_code == status
    assert r["Keystand-Token-Expiration"] == "never"
    assert r["Keystand-Token-Scopes"] == "api"


def test_it_tells_them_when_throttled(api_client, alice_token, throttle_rates):
    throttle_rates(user="1/min")
    _token, raw = alice_token
    assert api_client.get(ME, HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 200
    r = api_client.get(ME, HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert r.status_code == 429
    assert r["Keystand-Token-Scopes"] == "api"


def test_it_sends_none_without_a_token(api_client, alice, alice_token):
    _token, raw = alice_token
    typo = raw[:-1] + ("B" if raw[-1] == "A" else "A")
    answers = [
        api_client.get(ME),
        api_client.get(ME, HTTP_AUTHORIZATION=f"Bearer {typo}"),
        api_client.post("/api/v1/access-tokens/revoke/", {"token": "x"}, format="json"),
    ]
    api_client.force_login(alice)
    answers.append(api_client.get(ME))
    assert [r.status_code for r in answers] == [401, 401, 202, 200]
    for r in answers:
        assert _headers(r) == dict.fromkeys(_headers(r))  # all None


def test_it_describes_the_new_token_after_a_rotation_not_the_old(api_client, alice, make_token):
    _token, raw = make_token(alice, scopes=["self_rotate"])
    r = api_client.post(
        "/api/v1/access-tokens/self/rotate/", {}, format="json", HTTP_AUTHORIZATION=f"Bearer {raw}"
    )
    assert r.status_code == 201
    # The request was made with the old token, which the headers describe: it is the
    # credential the caller holds until it reads the new one from the body.
    assert r["Keystand-Token-Scopes"] == "self_rotate"
    assert services.check_access_token(r.json()["token"]).scope_list == ["self_rotate"]
