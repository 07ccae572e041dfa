"""A signed-in browser session works on the API, with CSRF enforced on writes."""

import time

import pytest
from django.test import Client
from rest_framework.test import APIClient

from tests.conftest import sign_in

pytestmark = pytest.mark.django_db

CSRF = "a" * 32  # any well-formed secret: the cookie and the header must agree


@pytest.fixture
def browser(alice):
    """A browser that signed in through the form a moment ago."""
    client = APIClient(enforce_csrf_checks=True)
    client.cookies["sessionid"] = sign_in(Client(), alice).cookies["sessionid"].value
    return client


def test_it_reads_with_a_session(browser, alice_token):
    token, _raw = alice_token
    r = browser.get("/api/v1/access-tokens/")
    assert r.status_code == 200
    assert [t["id"] for t in r.json()["results"]] == [str(token.id)]


def test_it_refuses_a_write_without_a_csrf_token(browser, alice):
    r = browser.post("/api/v1/access-tokens/", {"name": "x"}, format="json")
    assert r.status_code == 403
    assert r.json() == {
        "detail": "CSRF Failed: CSRF cookie not set.",
        "code": "csrf_failed",
    }
    assert alice.access_tokens.count() == 0


def test_it_refuses_a_write_with_a_wrong_csrf_token(browser, alice):
    browser.cookies["csrftoken"] = CSRF
    r = browser.post(
        "/api/v1/access-tokens/", {"name": "x"}, format="json", HTTP_X_CSRFTOKEN="b" * 32
    )
    assert r.status_code == 403
    assert r.json()["detail"].startswith("CSRF Failed")
    assert alice.access_tokens.count() == 0


def test_it_refuses_a_delete_without_a_csrf_token(browser, alice, alice_token):
    token, _raw = alice_token
    r = browser.delete(f"/api/v1/access-tokens/{token.id}/")
    assert r.status_code == 403
    assert alice.access_tokens.count() == 1


def test_it_writes_with_a_csrf_token(browser, alice):
    browser.cookies["csrftoken"] = CSRF
    r = browser.post(
        "/api/v1/access-tokens/", {"name": "from the browser"}, format="json", HTTP_X_CSRFTOKEN=CSRF
    )
    assert r.status_code == 201
    assert r.json()["name"] == "from the browser"
    assert alice.access_tokens.count() == 1


def test_a_token_needs_no_csrf_token(alice_token):
    _token, raw = alice_token
    client = APIClient(enforce_csrf_checks=True)
    r = client.post(
        "/api/v1/access-tokens/", {"name": "x"}, format="json", HTTP_AUTHORIZATION=f"Bearer {raw}"
    )
    assert r.status_code == 201


def test_an_old_session_cannot_create_tokens_through_the_api(browser, alice, monkeypatch):
    # The API is no way around sudo mode (access_tokens/reauth.py).
    later = time.time() + 901
    monkeypatch.setattr(time, "time", lambda *args: later)
    browser.cookies["csrftoken"] = CSRF
    r = browser.post("/api/v1/access-tokens/", {"name": "x"}, format="json", HTTP_X_CSRFTOKEN=CSRF)
    assert r.status_code == 403
    assert r.json()["detail"].startswith("Confirm your password in the browser first")
    assert r.json()["code"] == "reauthentication_required"
    assert alice.access_tokens.count() == 0


def test_a_session_with_no_password_record_cannot_create_tokens(alice):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(alice)
    client.cookies["csrftoken"] = CSRF
    r = client.post("/api/v1/access-tokens/", {"name": "x"}, format="json", HTTP_X_CSRFTOKEN=CSRF)
    assert r.status_code == 403
    assert alice.access_tokens.count() == 0


def test_an_old_session_cannot_rotate_tokens_through_the_api(
    browser, alice, alice_token, monkeypatch
):
    token, _raw = alice_token
    later = time.time() + 901
    monkeypatch.setattr(time, "time", lambda *args: later)
    browser.cookies["csrftoken"] = CSRF
    r = browser.post(
        f"/api/v1/access-tokens/{token.id}/rotate/", {}, format="json", HTTP_X_CSRFTOKEN=CSRF
    )
    assert r.status_code == 403
    assert r.json()["detail"].startswith("Confirm your password in the browser first")
    assert r.json()["code"] == "reauthentication_required"
    token.refresh_from_db()
    assert token.revoked_at is None
