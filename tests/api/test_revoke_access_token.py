"""POST /api/v1/access-tokens/revoke/: whoever holds a leaked token can kill it."""

import pytest

from access_tokens import services
from access_tokens.models import AccessTokenEvent

pytestmark = pytest.mark.django_db

URL = "/api/v1/access-tokens/revoke/"
ACCEPTED = {"detail": "If that was a live token, it has been revoked."}


def test_it_revokes_a_live_token(api_client, alice, alice_token):
    token, raw = alice_token
    r = api_client.post(URL, {"token": raw}, format="json", HTTP_USER_AGENT="scanner/1")
    assert r.status_code == 202
    assert r.json() == ACCEPTED
    assert alice.access_tokens.count() == 0
    r = api_client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert r.status_code == 401
    assert r.json() == {"detail": "Invalid token."}
    event = AccessTokenEvent.objects.get(token_id=token.id, action="revoked_by_value")
    assert event.via == "api"
    assert event.actor is None
    assert event.owner == alice
    assert event.token_last_four == raw[-4:]
    assert event.ip == "127.0.0.1"
    assert event.user_agent == "scanner/1"


def test_it_revokes_a_token_pasted_with_whitespace(api_client, alice, alice_token):
    _token, raw = alice_token
    r = api_client.post(URL, {"token": f"  {raw}\n"}, format="json")
    assert r.status_code == 202
    assert alice.access_tokens.count() == 0


def test_it_revokes_an_expired_or_read_only_token(api_client, alice, make_token):
    from access_tokens.models import AccessToken

    _token, raw = make_token(alice, scope=AccessToken.Scope.READ_ONLY)
    assert api_client.post(URL, {"token": raw}, format="json").status_code == 202
    assert alice.access_tokens.count() == 0


@pytest.mark.parametrize(
    "value",
    ["junk", "kspat_", "kspat_" + "A" * 49, "x" * 1000, "é", "Bearer kspat_", 12345],
)
def test_it_says_the_same_for_junk(api_client, alice, alice_token, value):
    r = api_client.post(URL, {"token": value}, format="json")
    assert r.status_code == 202
    assert r.json() == ACCEPTED
    assert alice.access_tokens.count() == 1
    assert not AccessTokenEvent.objects.filter(action="revoked_by_value").exists()


def test_it_says_the_same_for_an_unknown_or_already_revoked_token(api_client, alice_token):
    _token, raw = alice_token
    for value in (services.generate_token(), raw, raw):
        r = api_client.post(URL, {"token": value}, format="json")
        assert r.status_code == 202
        assert r.json() == ACCEPTED
    assert AccessTokenEvent.objects.filter(action="revoked_by_value").count() == 1


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ({}, "token: This field is required."),
        ({"tokens": "x"}, "token: This field is required."),
        ({"token": None}, "token: This field may not be null."),
        ({"token": ""}, "token: This field may not be blank."),
        ({"token": " \n"}, "token: This field may not be blank."),
        ({"token": "a\x00"}, "token: Null characters are not allowed."),
        ({"token": ["x"]}, "token: Not a valid string."),
        ({"token": "x" * 1001}, "token: Ensure this field has no more than 1000 characters."),
    ],
)
def test_it_needs_a_token_field(api_client, body, detail):
    r = api_client.post(URL, body, format="json")
    assert r.status_code == 400
    assert r.json()["detail"] == detail
    assert r.json()["token"] == [detail.removeprefix("token: ")]


def test_it_refuses_malformed_json(api_client):
    r = api_client.post(URL, "{token", content_type="application/json")
    assert r.status_code == 400
    assert r.json()["detail"].startswith("JSON parse error - ")


@pytest.mark.parametrize(
    "header", ["Bearer", "Bearer junk", "Basic !!!", "AccessToken kspat_x y", "Token x"]
)
def test_it_ignores_a_broken_authorization_header(api_client, alice, alice_token, header):
    _token, raw = alice_token
    r = api_client.post(URL, {"token": raw}, format="json", HTTP_AUTHORIZATION=header)
    assert r.status_code == 202
    assert r.json() == ACCEPTED
    assert alice.access_tokens.count() == 0


def test_it_needs_no_csrf_token_even_with_a_session(alice, alice_token):
    from rest_framework.test import APIClient

    _token, raw = alice_token
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(alice)
    r = client.post(URL, {"token": raw}, format="json")
    assert r.status_code == 202
    assert alice.access_tokens.count() == 0


def test_it_takes_post_only(api_client):
    r = api_client.get(URL)
    assert r.status_code == 405
    assert r.json() == {"detail": 'Method "GET" not allowed.'}
