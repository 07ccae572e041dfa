"""GET /api/v1/me/: who am I, and through which token."""

import pytest

from .fields import TOKEN_FIELDS
from .headers import basic
from .openapi import assert_answer_matches, generated_schema

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("form", ["AccessToken", "Bearer", "Basic"])
def test_it_shows_the_owner_and_the_token(api_client, alice, alice_token, form):
    token, raw = alice_token
    header = basic(raw) if form == "Basic" else f"{form} {raw}"
    r = api_client.get("/api/v1/me/", HTTP_AUTHORIZATION=header)
    assert r.status_code == 200
    assert r["Content-Type"] == "application/json"
    body = r.json()
    assert body["id"] == alice.pk
    assert body["username"] == "alice"
    assert body["email"] == "alice@example.org"
    assert body["authenticated_by"] == "access_token"
    # request.auth is the token that was presented, not just any token of alice's.
    assert set(body["token"]) == TOKEN_FIELDS
    assert body["token"]["id"] == str(token.id)
    assert body["token"]["name"] == "laptop"
    assert body["token"]["last_four"] == raw[-4:]
    assert body["token"]["scope"] == "read_write"
    assert body["token"]["expired"] is False
    assert body["token"]["last_used_at"] is not None
    assert raw not in r.content.decode()


def test_it_tells_two_tokens_of_one_owner_apart(api_client, alice, make_token):
    first, first_raw = make_token(alice, name="first")
    second, second_raw = make_token(alice, name="second")
    r1 = api_client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {first_raw}")
    r2 = api_client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {second_raw}")
    assert r1.json()["token"]["id"] == str(first.id)
    assert r2.json()["token"]["id"] == str(second.id)


def test_it_acts_as_the_tokens_owner(api_client, alice_token, bob, make_token):
    _token, bob_raw = make_token(bob)
    r = api_client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"AccessToken {bob_raw}")
    assert r.status_code == 200
    assert r.json()["username"] == "bob"


def test_it_works_with_a_browser_session(alice_client, alice):
    r = alice_client.get("/api/v1/me/")
    assert r.status_code == 200
    assert r.json() == {
        "id": alice.pk,
        "username": "alice",
        "email": "alice@example.org",
        "authenticated_by": "session",
        "token": None,
    }


def test_it_answers_head(api_client, alice_token):
    _token, raw = alice_token
    r = api_client.head("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert r.status_code == 200


def test_it_refuses_post(api_client, alice_token):
    _token, raw = alice_token
    r = api_client.post("/api/v1/me/", {}, format="json", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert r.status_code == 405
    assert r.json() == {"detail": 'Method "POST" not allowed.', "code": "method_not_allowed"}


@pytest.mark.parametrize("email", ["alice@example.org", ""])
def test_its_answer_is_what_the_schema_says(api_client, alice, alice_token, email):
    alice.email = email
    alice.save()
    _token, raw = alice_token
    r = api_client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert r.json()["email"] == email
    assert_answer_matches(generated_schema(api_client), "/api/v1/me/", "get", r)


def test_its_answer_to_a_session_is_what_the_schema_says(alice_client, alice):
    r = alice_client.get("/api/v1/me/")
    assert r.json()["token"] is None
    assert_answer_matches(generated_schema(alice_client), "/api/v1/me/", "get", r)
