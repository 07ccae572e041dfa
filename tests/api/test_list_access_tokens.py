"""GET /api/v1/access-tokens/: the caller's own tokens, newest first."""

import datetime as dt

import pytest
from django.utils import timezone

from access_tokens import services
from access_tokens.models import AccessToken

from .fields import TOKEN_FIELDS as FIELDS
from .headers import CHALLENGES

pytestmark = pytest.mark.django_db


def test_it_lists_only_the_callers_tokens_newest_first(api_client, alice, bob, make_token):
    older, _ = make_token(alice, name="older")
    newer, raw = make_token(alice, name="newer", scopes=["read_api"])
    make_token(bob, name="bob's")
    r = api_client.get("/api/v1/access-tokens/", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert r.status_code == 200
    body = r.json()
    assert (body["count"], body["next"], body["previous"]) == (2, None, None)
    items = body["results"]
    assert [i["id"] for i in items] == [str(newer.id), str(older.id)]
    assert all(set(i) == FIELDS for i in items)
    assert items[0]["name"] == "newer"
    assert items[0]["scopes"] == ["read_api"]
    assert items[0]["scope"] == "read_only"
    assert items[0]["state"] == "active" and items[0]["active"] is True
    assert items[0]["last_four"] == raw[-4:]
    assert items[0]["expired"] is False
    assert items[1]["last_used_at"] is None
    # Nothing secret: no raw token, no digest.
    assert raw not in r.content.decode()
    assert newer.digest not in r.content.decode()


def test_it_marks_expired_tokens(api_client, alice, alice_token, make_token):
    _token, raw = alice_token
    old, _ = make_token(alice, name="old", expires_at=timezone.now() + dt.timedelta(days=1))
    past = timezone.now() - dt.timedelta(days=1)
    AccessToken.objects.filter(pk=old.pk).update(expires_at=past)
    r = api_client.get("/api/v1/access-tokens/", HTTP_AUTHORIZATION=f"Bearer {raw}")
    by_name = {i["name"]: i for i in r.json()["results"]}
    assert by_name["old"]["expired"] is True
    assert (by_name["old"]["state"], by_name["old"]["active"]) == ("expired", False)
    assert by_name["laptop"]["expired"] is False


def test_it_lists_inactive_tokens_and_narrows_by_state(api_client, alice, alice_token, make_token):
    _token, raw = alice_token
    gone, _ = make_token(alice, name="gone")
    services.delete_access_token(token=gone, actor=alice)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    everything = api_client.get("/api/v1/access-tokens/", **auth).json()["results"]
    assert [(i["name"], i["state"]) for i in everything] == [
        ("gone", "revoked"),
        ("laptop", "active"),
    ]
    assert everything[0]["revoked_reason"] == "deleted"
    active = api_client.get("/api/v1/access-tokens/?state=active", **auth).json()["results"]
    assert [i["name"] for i in active] == ["laptop"]
    inactive = api_client.get("/api/v1/access-tokens/?state=inactive", **auth).json()["results"]
    assert [i["name"] for i in inactive] == ["gone"]
    r = api_client.get("/api/v1/access-tokens/?state=deleted", **auth)
    assert r.status_code == 400
    assert r.json()["state"] == ["Choose active, inactive or all."]


def test_it_shows_expiry_as_iso_8601(api_client, alice, make_token):
    when = timezone.now() + dt.timedelta(days=3)
    _token, raw = make_token(alice, expires_at=when)
    r = api_client.get("/api/v1/access-tokens/", HTTP_AUTHORIZATION=f"Bearer {raw}")
    shown = dt.datetime.fromisoformat(r.json()["results"][0]["expires_at"])
    assert shown == when


def test_it_needs_authentication(api_client, alice_token):
    r = api_client.get("/api/v1/access-tokens/")
    assert r.status_code == 401
    assert r.json() == {
        "detail": "Authentication credentials were not provided.",
        "code": "not_authenticated",
    }
    assert r["WWW-Authenticate"] == CHALLENGES
