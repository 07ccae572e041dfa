"""Signing in and changing the password give the browser a new session key, so a session
id planted or stolen beforehand is worth nothing afterwards."""

import pytest
from django.conf import settings
from django.test import Client

from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a-brand-new-Passphrase-77"


def _session_key(client) -> str:
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def test_it_rotates_the_session_key_on_sign_in(client, alice):
    # An anonymous session exists before sign-in (as one fixed by an attacker would).
    session = client.session
    session["planted"] = "by someone else"
    session.save()
    before = _session_key(client)

    r = client.post("/accounts/login/", {"login": "alice", "password": PASSWORD})
    assert r.status_code == 302
    after = _session_key(client)
    assert after != before

    # The old key does not carry the sign-in.
    planted = Client()
    planted.cookies[settings.SESSION_COOKIE_NAME] = before
    r = planted.get("/settings/access-tokens/")
    assert r.status_code == 302
    assert r["Location"].startswith("/accounts/login/")


def test_it_rotates_the_session_key_on_password_change(client, alice):
    client.post("/accounts/login/", {"login": "alice", "password": PASSWORD})
    before = _session_key(client)

    r = client.post(
        "/accounts/password/change/",
        {"oldpassword": PASSWORD, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    assert r.status_code == 302
    after = _session_key(client)
    assert after != before
    # This browser stays signed in ...
    r = client.get("/settings/access-tokens/")
    assert r.status_code == 200
    assert "Personal Access Tokens" in r.content.decode()

    # ... while a copy of the old cookie is signed out.
    stolen = Client()
    stolen.cookies[settings.SESSION_COOKIE_NAME] = before
    r = stolen.get("/settings/access-tokens/")
    assert r.status_code == 302
    assert r["Location"].startswith("/accounts/login/")


def test_it_signs_out_other_sessions_on_password_change(client, alice):
    other = Client()
    other.post("/accounts/login/", {"login": "alice", "password": PASSWORD})
    assert other.get("/settings/access-tokens/").status_code == 200

    client.post("/accounts/login/", {"login": "alice", "password": PASSWORD})
    client.post(
        "/accounts/password/change/",
        {"oldpassword": PASSWORD, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )

    r = other.get("/settings/access-tokens/")
    assert r.status_code == 302
    assert r["Location"].startswith("/accounts/login/")
