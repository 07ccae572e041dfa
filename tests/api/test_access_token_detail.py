"""GET and DELETE /api/v1/access-tokens/<uuid>/: one of the caller's tokens."""

import uuid

import pytest

from access_tokens import services
from access_tokens.models import AccessTokenEvent

pytestmark = pytest.mark.django_db

NOT_FOUND = {"detail": "Not found.", "code": "not_found"}


def test_it_shows_a_token(api_client, alice_token):
    token, raw = alice_token
    r = api_client.get(f"/api/v1/access-tokens/{token.id}/", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert r.status_code == 200
    assert r.json()["id"] == str(token.id)
    assert r.json()["name"] == "laptop"
    assert "token" not in r.json()


def test_it_deletes_a_token_which_then_stops_working(api_client, alice, alice_token, make_token):
    token, raw = alice_token
    other, other_raw = make_token(alice, name="other")
    r = api_client.delete(
        f"/api/v1/access-tokens/{other.id}/",
        HTTP_AUTHORIZATION=f"Bearer {raw}",
        HTTP_USER_AGENT="curl/8",
    )
    assert r.status_code == 204
    assert r.content == b""
    assert list(alice.access_tokens.active()) == [token]
    r = api_client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {other_raw}")
    assert r.status_code == 401
    event = AccessTokenEvent.objects.get(token_id=other.id, action="deleted")
    assert event.via == "api"
    assert event.actor == alice
    assert event.owner == alice
    assert event.token_name == "other"
    assert event.ip == "127.0.0.1"
    assert event.user_agent == "curl/8"


def test_a_token_can_delete_itself(api_client, alice, alice_token):
    token, raw = alice_token
    r = api_client.delete(f"/api/v1/access-tokens/{token.id}/", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert r.status_code == 204
    assert alice.access_tokens.active().count() == 0
    r = api_client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert r.status_code == 401


def test_it_hides_another_users_token(api_client, alice_token, bob, make_token):
    _token, raw = alice_token
    bobs, _ = make_token(bob, name="bob's")
    url = f"/api/v1/access-tokens/{bobs.id}/"
    r = api_client.get(url, HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert r.status_code == 404
    assert r.json() == NOT_FOUND
    r = api_client.delete(url, HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert r.status_code == 404
    assert r.json() == NOT_FOUND
    assert bob.access_tokens.count() == 1


def test_it_says_not_found_for_an_unknown_id(api_client, alice_token):
    _token, raw = alice_token
    url = f"/api/v1/access-tokens/{uuid.uuid4()}/"
    for method in ("get", "delete"):
        r = getattr(api_client, method)(url, HTTP_AUTHORIZATION=f"Bearer {raw}")
        assert r.status_code == 404
        assert r.json() == NOT_FOUND


def test_a_deleted_token_is_gone_from_its_url_but_listed_as_inactive(
    api_client, alice, alice_token, make_token
):
    _token, raw = alice_token
    other, _ = make_token(alice)
    url = f"/api/v1/access-tokens/{other.id}/"
    assert api_client.delete(url, HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 204
    # DELETE removed the resource (RFC 9110 §9.3.5): its URL is not found, and says why.
    other.refresh_from_db()
    when = other.revoked_at.strftime("%Y-%m-%d %H:%M UTC")
    gone = {"detail": f"This token was deleted on {when}.", "code": "token_deleted"}
    for method, body in (("get", None), ("patch", {"name": "x"}), ("delete", None)):
        r = getattr(api_client, method)(
            url, body, format="json", HTTP_AUTHORIZATION=f"Bearer {raw}"
        )
        assert (r.status_code, r.json()) == (404, gone)
    r = api_client.post(f"{url}rotate/", {}, format="json", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert (r.status_code, r.json()) == (404, gone)
    # The list still shows it, inactive, until it is purged.
    r = api_client.get("/api/v1/access-tokens/?state=inactive", HTTP_AUTHORIZATION=f"Bearer {raw}")
    (listed,) = r.json()["results"]
    assert (listed["id"], listed["state"], listed["revoked_reason"]) == (
        str(other.id),
        "revoked",
        "deleted",
    )
    assert AccessTokenEvent.objects.filter(token_id=other.id, action="deleted").count() == 1


def test_a_token_revoked_otherwise_is_still_shown_but_not_deleted_again(
    api_client, alice, alice_token, make_token
):
    _token, raw = alice_token
    other, other_raw = make_token(alice)
    services.revoke_access_token_by_value(other_raw)
    url = f"/api/v1/access-tokens/{other.id}/"
    r = api_client.get(url, HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert r.status_code == 200
    assert (r.json()["state"], r.json()["revoked_reason"]) == ("revoked", "revoked_by_value")
    r = api_client.delete(url, HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert (r.status_code, r.json()) == (404, NOT_FOUND)


def test_it_says_not_found_for_an_id_that_is_not_a_uuid(api_client, alice_token):
    _token, raw = alice_token
    r = api_client.get("/api/v1/access-tokens/123/", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert r.status_code == 404
    assert r.json() == NOT_FOUND


def test_it_refuses_put(api_client, alice_token):
    token, raw = alice_token
    r = api_client.put(
        f"/api/v1/access-tokens/{token.id}/",
        {"name": "x"},
        format="json",
        HTTP_AUTHORIZATION=f"Bearer {raw}",
    )
    assert r.status_code == 405
    assert r.json() == {"detail": 'Method "PUT" not allowed.', "code": "method_not_allowed"}


def test_it_renames_a_token_and_changes_its_description(api_client, alice, alice_token):
    token, raw = alice_token
    r = api_client.patch(
        f"/api/v1/access-tokens/{token.id}/",
        {"name": " deploy bot ", "description": "Runs the nightly deploy."},
        format="json",
        HTTP_AUTHORIZATION=f"Bearer {raw}",
    )
    assert r.status_code == 200
    assert r.json()["name"] == "deploy bot"
    assert r.json()["description"] == "Runs the nightly deploy."
    token.refresh_from_db()
    assert (token.name, token.description) == ("deploy bot", "Runs the nightly deploy.")
    event = AccessTokenEvent.objects.get(action="updated")
    assert event.detail == "name 'laptop' -> 'deploy bot'; description changed"
    assert (event.via, event.actor, event.actor_token_id) == ("api", alice, token.id)


def test_it_refuses_a_bad_rename_and_changes_nothing(api_client, alice_token):
    token, raw = alice_token
    r = api_client.patch(
        f"/api/v1/access-tokens/{token.id}/",
        {"name": "x" * 101, "description": "fine"},
        format="json",
        HTTP_AUTHORIZATION=f"Bearer {raw}",
    )
    assert r.status_code == 400
    assert r.json()["name"] == ["Ensure this field has no more than 100 characters."]
    token.refresh_from_db()
    assert (token.name, token.description) == ("laptop", "")
    assert not AccessTokenEvent.objects.filter(action="updated").exists()


def test_it_needs_authentication(api_client, alice_token):
    token, _raw = alice_token
    r = api_client.delete(f"/api/v1/access-tokens/{token.id}/")
    assert r.status_code == 401
    assert r.json() == {
        "detail": "Authentication credentials were not provided.",
        "code": "not_authenticated",
    }
    assert token.user.access_tokens.count() == 1


@pytest.mark.parametrize("case", [str.upper, str.lower, lambda s: s[:9] + s[9:].upper()])
def test_it_finds_a_token_by_its_id_in_any_case(api_client, alice, alice_token, make_token, case):
    # Ids are UUIDs, compared as such: EEB6F563-… is the same token as eeb6f563-….
    token, raw = alice_token
    other, _other_raw = make_token(alice, name="other")
    path = f"/api/v1/access-tokens/{case(str(other.id))}/"
    r = api_client.get(path, HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert r.status_code == 200
    assert r.json()["id"] == str(other.id)  # answered in the canonical lower case
    r = api_client.patch(
        path, {"name": "renamed"}, format="json", HTTP_AUTHORIZATION=f"Bearer {raw}"
    )
    assert r.status_code == 200
    r = api_client.post(path + "rotate/", {}, format="json", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert r.status_code == 201
    assert r.json()["rotated_from"] == str(other.id)


def test_an_upper_case_id_of_someone_elses_token_is_still_not_found(
    api_client, alice_token, bob, make_token
):
    _token, raw = alice_token
    bobs, _ = make_token(bob)
    r = api_client.get(
        f"/api/v1/access-tokens/{str(bobs.id).upper()}/", HTTP_AUTHORIZATION=f"Bearer {raw}"
    )
    assert r.status_code == 404
    assert r.json() == NOT_FOUND


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({"name": "x", "scopes": ["api"]}, "scopes", "unknown_field"),
        ({"expires_at": "2030-01-01"}, "expires_at", "unknown_field"),
        ({"name": 5}, "name", "invalid"),
        ({"description": ["a"]}, "description", "invalid"),
    ],
)
def test_a_rename_takes_name_and_description_only(api_client, alice_token, body, field, code):
    token, raw = alice_token
    r = api_client.patch(
        f"/api/v1/access-tokens/{token.id}/",
        body,
        format="json",
        HTTP_AUTHORIZATION=f"Bearer {raw}",
    )
    assert r.status_code == 400
    assert r.json()["code"] == code
    assert field in r.json()
    token.refresh_from_db()
    assert token.name == "laptop"
    assert not AccessTokenEvent.objects.filter(action="updated").exists()


def test_it_refuses_to_change_a_revoked_token_with_409(api_client, alice, alice_token, make_token):
    _token, raw = alice_token
    old, old_raw = make_token(alice, name="old")
    services.revoke_access_token_by_value(old_raw)
    r = api_client.patch(
        f"/api/v1/access-tokens/{old.id}/",
        {"name": "new"},
        format="json",
        HTTP_AUTHORIZATION=f"Bearer {raw}",
    )
    assert r.status_code == 409
    assert r.json() == {"detail": "A revoked token can't be changed.", "code": "token_inactive"}
    old.refresh_from_db()
    assert old.name == "old"
