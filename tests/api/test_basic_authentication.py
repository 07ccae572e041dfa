"""HTTP Basic with a personal access token as the password (docker login -u - --password-stdin)."""

import pytest
from django.contrib.auth import authenticate
from django.contrib.auth.hashers import Argon2PasswordHasher

from tests.conftest import PASSWORD

from .headers import CHALLENGES, basic

pytestmark = pytest.mark.django_db

NOT_A_TOKEN = "Basic authentication takes a personal access token as the password."


class CountingArgon2PasswordHasher(Argon2PasswordHasher):
    """Django's Argon2 hasher (alice's password uses it), counting every time it runs."""

    calls = 0

    def verify(self, password, encoded):
        type(self).calls += 1
        return super().verify(password, encoded)

    def encode(self, password, salt):
        type(self).calls += 1
        return super().encode(password, salt)

    def harden_runtime(self, password, encoded):
        type(self).calls += 1
        return super().harden_runtime(password, encoded)


@pytest.fixture
def counting_hasher(settings, alice):
    """Make the counting hasher the only one, with alice's password hashed by it."""
    settings.PASSWORD_HASHERS = [f"{__name__}.CountingArgon2PasswordHasher"]
    alice.set_password(PASSWORD)
    alice.save()
    CountingArgon2PasswordHasher.calls = 0
    return CountingArgon2PasswordHasher


@pytest.mark.parametrize("username", ["-", "alice", "bob", "", "x" * 300, "élodie"])
def test_it_takes_the_token_as_password_whatever_the_username(api_client, alice_token, username):
    token, raw = alice_token
    r = api_client.get("/api/v1/me/", HTTP_AUTHORIZATION=basic(raw, username=username))
    assert r.status_code == 200
    assert r.json()["username"] == "alice"
    assert r.json()["token"]["id"] == str(token.id)


def test_it_refuses_alices_password_without_running_a_password_hasher(
    api_client, alice, counting_hasher
):
    # The counter works: checking alice's password the normal way runs the hasher.
    assert authenticate(username="alice", password=PASSWORD) == alice
    assert counting_hasher.calls > 0
    counting_hasher.calls = 0

    for username in ("alice", "-"):
        r = api_client.get("/api/v1/me/", HTTP_AUTHORIZATION=basic(PASSWORD, username=username))
        assert r.status_code == 401
        assert r.json() == {"detail": NOT_A_TOKEN, "code": "invalid_header"}
        assert r["WWW-Authenticate"] == CHALLENGES
    assert counting_hasher.calls == 0


def test_it_runs_no_password_hasher_for_a_good_token(api_client, alice_token, counting_hasher):
    _token, raw = alice_token
    r = api_client.get("/api/v1/me/", HTTP_AUTHORIZATION=basic(raw, username="alice"))
    assert r.status_code == 200
    assert counting_hasher.calls == 0


def test_it_refuses_a_deleted_token_as_password(api_client, alice, alice_token):
    from access_tokens import services

    token, raw = alice_token
    services.delete_access_token(token=token, actor=alice)
    r = api_client.get("/api/v1/me/", HTTP_AUTHORIZATION=basic(raw))
    assert r.status_code == 401
    assert r.json() == {"detail": "Token has been revoked.", "code": "token_revoked"}
    assert r["WWW-Authenticate"] == CHALLENGES


def test_it_explains_a_token_sent_as_the_username(api_client, alice_token):
    _token, raw = alice_token
    r = api_client.get("/api/v1/me/", HTTP_AUTHORIZATION=basic("", username=raw))
    assert r.status_code == 401
    assert r.json() == {
        "detail": "Basic authentication takes the token as the password, not the username "
        "(curl -u -:TOKEN).",
        "code": "invalid_header",
    }
    assert raw not in r.content.decode()
