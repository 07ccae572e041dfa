"""POST /api/v1/access-tokens/revoke/: whoever holds a leaked token can kill it."""

import pytest

from access_tokens import services
from access_tokens.models import AccessTokenEvent

pytestmark = pytest.mark.django_db

URL = "/api/v1/access-tokens/revoke/"
ACCEPTED = {"detail": "If that was a live token, it has been revoked."}
REVOKED_NOW = {"detail": "That token was live and has been revoked."}


def test_it_revokes_a_live_token(api_client, alice, alice_token):
    token, raw = alice_token
    r = api_client.post(URL, {"token": raw}, format="json", HTTP_USER_AGENT="scanner/1")
    assert r.status_code == 202
    assert r.json() == REVOKED_NOW
    assert alice.access_tokens.active().count() == 0
    token.refresh_from_db()
    assert token.revoked_reason == "revoked_by_value" and token.revoked_by is None
    r = api_client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert r.status_code == 401
    assert r.json() == {"detail": "Token has been revoked.", "code": "token_revoked"}
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
    assert alice.access_tokens.active().count() == 0


def test_it_revokes_a_read_only_token(api_client, alice, make_token):
    _token, raw = make_token(alice, scopes=["read_api"])
    r = api_client.post(URL, {"token": raw}, format="json")
    assert r.status_code == 202
    assert r.json() == REVOKED_NOW
    assert alice.access_tokens.active().count() == 0


def test_it_records_a_leaked_expired_token_and_says_it_had_expired(api_client, alice, make_token):
    import datetime as dt

    from django.utils import timezone

    from access_tokens.models import AccessToken

    token, raw = make_token(alice)
    AccessToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - dt.timedelta(1))
    r = api_client.post(URL, {"token": raw}, format="json")
    assert r.status_code == 202
    assert r.json() == REVOKED_NOW
    token.refresh_from_db()
    # Revoking it still matters: it records the leak and stops every token made with it.
    assert token.revoked_reason == "revoked_by_value"


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


def test_it_says_when_and_how_a_token_was_revoked_but_not_whose(
    api_client, alice, alice_token, settings
):
    settings.TIME_ZONE = "UTC"
    token, raw = alice_token
    services.delete_access_token(token=token, actor=alice)
    token.refresh_from_db()
    when = token.revoked_at.strftime("%Y-%m-%d %H:%M UTC")
    for _ in range(2):
        r = api_client.post(URL, {"token": raw}, format="json")
        assert r.status_code == 202
        assert r.json() == {
            "detail": f"That token was already revoked: deleted by its owner on {when}."
        }
        assert "alice" not in r.content.decode()
    assert not AccessTokenEvent.objects.filter(action="revoked_by_value").exists()


def test_it_says_the_same_for_an_unknown_token(api_client, alice_token):
    r = api_client.post(URL, {"token": services.generate_token()}, format="json")
    assert r.status_code == 202
    assert r.json() == ACCEPTED


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
    assert r.json() == REVOKED_NOW
    assert alice.access_tokens.active().count() == 0


def test_it_needs_no_csrf_token_even_with_a_session(alice, alice_token):
    from rest_framework.test import APIClient

    _token, raw = alice_token
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(alice)
    r = client.post(URL, {"token": raw}, format="json")
    assert r.status_code == 202
    assert alice.access_tokens.active().count() == 0


def test_it_takes_post_only(api_client):
    r = api_client.get(URL)
    assert r.status_code == 405
    assert r.json() == {"detail": 'Method "GET" not allowed.', "code": "method_not_allowed"}
