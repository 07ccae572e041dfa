"""Rotation: a new secret for the same token (name, description, scopes), shown once; the old
one stops working in the same transaction; the audit trail links old and new."""

import datetime as dt

import pytest
from django.utils import timezone

from access_tokens import services
from access_tokens.models import AccessToken, AccessTokenEvent

from .fields import TOKEN_FIELDS

pytestmark = pytest.mark.django_db

URL = "/api/v1/access-tokens/"


def _rotate(api_client, raw, token_id="self", data=None):
    path = f"{URL}{token_id}/rotate/"
    return api_client.post(path, data or {}, format="json", HTTP_AUTHORIZATION=f"Bearer {raw}")


def _me(api_client, raw):
    return api_client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {raw}")


@pytest.fixture
def ci_token(alice, make_token):
    """A 90-day token made three days ago, with a description and two scopes."""
    token, raw = make_token(
        alice,
        name="ci",
        description="Nightly build",
        scopes=["read_api", "self_rotate"],
        expires_at=services.end_of_day_in(87),
    )
    AccessToken.objects.filter(pk=token.pk).update(created_at=timezone.now() - dt.timedelta(days=3))
    token.refresh_from_db()
    return token, raw


def test_it_rotates_a_token_by_id(api_client, alice, alice_token, ci_token):
    _caller, raw = alice_token
    old, old_raw = ci_token
    r = _rotate(api_client, raw, old.pk)
    assert r.status_code == 201
    assert r["Cache-Control"] == "no-store"
    body = r.json()
    assert set(body) == {*TOKEN_FIELDS, "token"}
    new_raw = body["token"]
    assert services.is_well_formed(new_raw) and new_raw != old_raw
    assert (body["name"], body["description"]) == ("ci", "Nightly build")
    assert body["scopes"] == ["read_api", "self_rotate"]
    assert body["rotated_from"] == str(old.pk)
    # The same lifetime (90 days), counted from today.
    assert dt.datetime.fromisoformat(body["expires_at"]) == services.end_of_day_in(90)
    # The old one stops at once; the new one works.
    assert _me(api_client, old_raw).json() == {
        "detail": "Token has been revoked.",
        "code": "token_revoked",
    }
    assert _me(api_client, new_raw).status_code == 200
    old.refresh_from_db()
    assert old.revoked_reason == "rotated" and old.revoked_by == alice
    assert old.rotated_to.pk == AccessToken.objects.get(pk=body["id"]).pk
    # The audit trail links them both ways.
    rotated = AccessTokenEvent.objects.get(token_id=old.pk, action="rotated")
    assert rotated.detail == f"replaced by kspat_…{new_raw[-4:]} ({body['id']})"
    created = AccessTokenEvent.objects.get(token_id=body["id"], action="created")
    assert created.detail == f"rotation of {old.masked} ({old.pk})"
    assert alice.access_tokens.active().count() == 2


def test_a_token_rotates_itself_without_outliving_itself(api_client, ci_token):
    old, raw = ci_token
    r = _rotate(api_client, raw)
    assert r.status_code == 201
    # 90 days from today would be later than the old token's own expiry: it keeps that.
    assert dt.datetime.fromisoformat(r.json()["expires_at"]) == old.expires_at
    later = (timezone.localdate() + dt.timedelta(days=200)).isoformat()
    r = _rotate(api_client, r.json()["token"], data={"expires_at": later})
    assert r.status_code == 400
    assert "can't outlive it" in r.json()["expires_at"][0]


def test_it_takes_a_chosen_expiry_within_policy(api_client, alice_token, ci_token, settings):
    _caller, raw = alice_token
    old, _ = ci_token
    day = timezone.localdate() + dt.timedelta(days=10)
    r = _rotate(api_client, raw, old.pk, {"expires_at": day.isoformat()})
    assert r.status_code == 201
    assert dt.datetime.fromisoformat(r.json()["expires_at"]) == services.end_of_day(day)
    settings.ACCESS_TOKEN_MAX_LIFETIME_DAYS = 30
    new_id = r.json()["id"]
    r = _rotate(api_client, raw, new_id, {"expires_at": None})
    assert r.status_code == 400
    assert r.json()["expires_at"] == ["Tokens on this server must expire within 30 days."]
    assert AccessToken.objects.get(pk=new_id).is_active()


def test_it_keeps_the_default_within_the_servers_cap(api_client, alice_token, ci_token, settings):
    settings.ACCESS_TOKEN_MAX_LIFETIME_DAYS = 30
    _caller, raw = alice_token
    old, _ = ci_token
    r = _rotate(api_client, raw, old.pk)
    assert r.status_code == 201
    assert dt.datetime.fromisoformat(r.json()["expires_at"]) == services.end_of_day_in(30)


def test_it_refuses_to_rotate_an_inactive_token(api_client, alice, alice_token, ci_token):
    _caller, raw = alice_token
    old, old_raw = ci_token
    services.revoke_access_token_by_value(old_raw)
    r = _rotate(api_client, raw, old.pk)
    # Not a bad request: the token's state forbids it (409, as GitHub answers a conflict).
    assert r.status_code == 409
    assert r.json() == {
        "detail": "Only an active token can be rotated: this one is revoked or expired.",
        "code": "token_inactive",
    }
    assert not AccessTokenEvent.objects.filter(action="rotated").exists()


def test_it_hides_another_users_token(api_client, alice_token, bob, make_token):
    _caller, raw = alice_token
    bobs, _ = make_token(bob)
    r = _rotate(api_client, raw, bobs.pk)
    assert r.status_code == 404
    assert AccessToken.objects.get(pk=bobs.pk).is_active()


def test_a_session_cannot_use_self_rotate(client, alice):
    client.force_login(alice)
    r = client.post(f"{URL}self/rotate/", {}, content_type="application/json")
    assert r.status_code == 403
    assert r.json() == {
        "detail": "Only a request authenticated with a token can rotate itself.",
        "code": "permission_denied",
    }


def test_it_hands_what_the_old_token_made_to_the_new_one(api_client, alice, alice_token):
    _caller, raw = alice_token
    child = api_client.post(
        URL, {"name": "child"}, format="json", HTTP_AUTHORIZATION=f"Bearer {raw}"
    ).json()
    r = _rotate(api_client, raw)
    new = AccessToken.objects.get(pk=r.json()["id"])
    assert AccessToken.objects.get(pk=child["id"]).created_by_token == new
    # Revoking the new token still takes the child with it.
    services.delete_access_token(token=new, actor=alice)
    assert _me(api_client, child["token"]).status_code == 401


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({"expires_at": "2030-01-01", "name": "new"}, "name", "unknown_field"),
        ({"scopes": ["api"]}, "scopes", "unknown_field"),
        ({"expires_at": "20300101"}, "expires_at", "invalid"),
        ({"expires_at": 20300101}, "expires_at", "invalid"),
    ],
)
def test_it_takes_expires_at_only(api_client, alice, ci_token, body, field, code):
    _token, raw = ci_token
    r = _rotate(api_client, raw, data=body)
    assert r.status_code == 400
    assert r.json()["code"] == code
    assert field in r.json()
    assert _me(api_client, raw).status_code == 200  # not rotated
    assert alice.access_tokens.count() == 1


def test_201_carries_the_new_tokens_location(api_client, ci_token):
    _token, raw = ci_token
    r = _rotate(api_client, raw)
    assert r.status_code == 201
    assert r["Location"] == f"http://testserver/api/v1/access-tokens/{r.json()['id']}/"
    shown = api_client.get(r["Location"], HTTP_AUTHORIZATION=f"Bearer {r.json()['token']}")
    assert shown.json()["rotated_from"] == str(_token.id)
