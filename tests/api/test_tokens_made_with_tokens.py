"""A token cannot breed a stronger or longer-lived token: what a token creates through the API
can't outlive it, can't reach further, dies with it, and the audit trail names it."""

import datetime as dt

import pytest
from django.utils import timezone

from access_tokens import services
from access_tokens.models import AccessToken, AccessTokenEvent
from tests.conftest import sign_in

pytestmark = pytest.mark.django_db

URL = "/api/v1/access-tokens/"


@pytest.fixture
def hour_token(alice, make_token):
    """A token with scope api that expires in an hour."""
    return make_token(alice, name="short", expires_at=timezone.now() + dt.timedelta(hours=1))


def _post(api_client, raw, data):
    return api_client.post(URL, data, format="json", HTTP_AUTHORIZATION=f"Bearer {raw}")


def test_it_refuses_a_child_that_never_expires(api_client, alice, hour_token):
    parent, raw = hour_token
    r = _post(api_client, raw, {"expires_at": None})
    assert r.status_code == 400
    assert r.json()["expires_at"] == [
        f"A token made with token {parent.masked} can't outlive it: choose an expiry on or "
        f"before {timezone.localtime(parent.expires_at):%Y-%m-%d %H:%M %Z}."
    ]
    assert alice.access_tokens.count() == 1


def test_it_refuses_a_child_that_would_outlive_its_parent(api_client, alice, hour_token):
    _parent, raw = hour_token
    later = (timezone.localdate() + dt.timedelta(days=2)).isoformat()
    r = _post(api_client, raw, {"expires_at": later})
    assert r.status_code == 400
    assert "can't outlive it" in r.json()["detail"]
    assert alice.access_tokens.count() == 1


def test_it_gives_a_child_no_longer_than_its_parent_by_default(api_client, hour_token):
    parent, raw = hour_token
    r = _post(api_client, raw, {"name": "child"})
    assert r.status_code == 201
    child = AccessToken.objects.get(pk=r.json()["id"])
    assert child.expires_at == parent.expires_at
    assert child.created_by_token == parent
    assert r.json()["created_by_token"] == str(parent.pk)


def test_it_refuses_a_child_with_wider_scopes(api_client, alice, alice_token, settings):
    # api covers every built-in scope, but not a scope the server adds.
    settings.ACCESS_TOKEN_SCOPES = {"deploy": "Trigger deployments."}
    parent, raw = alice_token
    r = _post(api_client, raw, {"scopes": ["read_api", "deploy"]})
    assert r.status_code == 400
    assert r.json()["scopes"] == [
        f"A token made with token {parent.masked} can't have wider access than it: it has "
        "api, so it can't grant deploy."
    ]
    assert alice.access_tokens.count() == 1


def test_the_scope_rule_follows_what_scopes_imply(alice, make_token):
    made, _raw = make_token(alice, scopes=["read_user", "self_rotate"], expires_at=None)
    with pytest.raises(services.ValidationError) as error:
        services.validate_new_token(user=alice, expires_at=None, scopes=["read_api"], parent=made)
    assert "it has read_user, self_rotate, so it can't grant read_api." in str(error.value)
    reader, _raw = make_token(alice, scopes=["read_api"], expires_at=None)
    # read_api implies read_user: no wider.
    services.validate_new_token(user=alice, expires_at=None, scopes=["read_user"], parent=reader)


def test_a_child_may_have_narrower_scopes(api_client, hour_token):
    _parent, raw = hour_token
    r = _post(api_client, raw, {"scopes": ["read_api", "read_user"]})
    assert r.status_code == 201
    assert r.json()["scopes"] == ["read_api", "read_user"]


def test_a_child_of_a_narrow_token_defaults_to_its_parents_scopes(api_client, alice, make_token):
    # An api token made with another api token: the default scopes are the parent's, never
    # "api" when the parent has less (here the parent has api + read_user).
    parent, raw = make_token(alice, scopes=["api", "read_user"], expires_at=None)
    r = _post(api_client, raw, {})
    assert r.json()["scopes"] == ["api", "read_user"]


def test_deleting_the_parent_revokes_what_it_made(api_client, alice, hour_token):
    parent, raw = hour_token
    child_raw = _post(api_client, raw, {"name": "child"}).json()["token"]
    grandchild = _post(api_client, child_raw, {"name": "grandchild"}).json()
    grandchild_raw = grandchild["token"]
    for token in (raw, child_raw, grandchild_raw):
        me = api_client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {token}")
        assert me.status_code == 200
    services.delete_access_token(token=parent, actor=alice)
    for token in (raw, child_raw, grandchild_raw):
        me = api_client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {token}")
        assert me.status_code == 401
        assert me.json() == {"detail": "Token has been revoked.", "code": "token_revoked"}
    reasons = dict(AccessToken.objects.values_list("name", "revoked_reason"))
    assert reasons == {
        "short": "deleted",
        "child": "parent_revoked",
        "grandchild": "parent_revoked",
    }
    events = AccessTokenEvent.objects.filter(action="revoked_with_parent")
    assert events.count() == 2
    assert {e.actor for e in events} == {alice}


def test_a_session_made_token_has_no_parent(client, alice):
    sign_in(client, alice)  # a fresh password: the API asks for one from sessions too
    r = client.post(URL, {"expires_at": None}, content_type="application/json")
    assert r.status_code == 201
    assert r.json()["created_by_token"] is None
    assert r.json()["expires_at"] is None


def test_every_audit_row_names_the_acting_token(api_client, alice, alice_token):
    parent, raw = alice_token
    r = _post(api_client, raw, {"name": "child"})
    child_id = r.json()["id"]
    auth = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    api_client.patch(f"{URL}{child_id}/", {"name": "renamed"}, format="json", **auth)
    new_id = api_client.post(f"{URL}{child_id}/rotate/", format="json", **auth).json()["id"]
    api_client.delete(f"{URL}{new_id}/", **auth)
    events = AccessTokenEvent.objects.exclude(token_id=parent.pk).order_by("created_at", "pk")
    assert [e.action for e in events] == ["created", "updated", "rotated", "created", "deleted"]
    for event in events:
        assert event.actor_token_id == parent.pk
        assert event.actor_token_last_four == parent.last_four
    # A browser session or an operator acts without a token.
    services.delete_access_token(token=parent, actor=alice)
    last = AccessTokenEvent.objects.get(token_id=parent.pk, action="deleted")
    assert last.actor_token_id is None and last.actor_token_last_four == ""
