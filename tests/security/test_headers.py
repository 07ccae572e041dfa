"""Security headers on every HTML page: a CSP without inline script, no framing, a referrer
policy and nosniff; and no caching of any page that can show a token."""

import pytest
from django.test import Client

from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def _directives(policy: str) -> dict[str, list[str]]:
    parts = (p.split() for p in policy.split(";") if p.strip())
    return {p[0]: p[1:] for p in parts}


def _assert_secure_headers(r, url):
    assert r["Content-Type"].startswith("text/html"), url
    directives = _directives(r["Content-Security-Policy"])
    scripts = directives.get("script-src", directives.get("default-src"))
    assert scripts is not None, url
    assert "'unsafe-inline'" not in scripts, url
    assert "'unsafe-eval'" not in scripts, url
    assert "*" not in scripts, url
    assert directives["frame-ancestors"] == ["'none'"], url
    assert directives["object-src"] == ["'none'"], url
    assert r["X-Frame-Options"] == "DENY", url
    assert r["Referrer-Policy"] == "same-origin", url
    assert r["X-Content-Type-Options"] == "nosniff", url


def _assert_no_store(r, url):
    assert "no-store" in r.get("Cache-Control", ""), url


@pytest.fixture
def tokens(alice, make_token):
    token, _ = make_token(alice, name="ci")
    return token


def test_it_sends_the_headers_on_anonymous_pages(client):
    for url in ["/accounts/login/", "/accounts/signup/", "/api/docs/", "/no-such-page/"]:
        r = client.get(url)
        assert r.status_code in (200, 404), url
        _assert_secure_headers(r, url)


def test_it_sends_the_headers_on_signed_in_pages(alice_client, tokens):
    for url in [
        "/",
        "/accounts/password/change/",
        "/accounts/email/",
        "/accounts/2fa/",
        "/settings/access-tokens/",
        "/settings/access-tokens/new/",
        f"/settings/access-tokens/{tokens.pk}/delete/",
    ]:
        r = alice_client.get(url)
        assert r.status_code == 200, url
        _assert_secure_headers(r, url)


def test_it_sends_the_headers_in_the_admin(olivia, tokens):
    client = Client()
    client.force_login(olivia)
    for url in [
        "/admin/",
        "/admin/access_tokens/accesstoken/",
        f"/admin/access_tokens/accesstoken/{tokens.pk}/change/",
        "/admin/access_tokens/accesstokenevent/",
        "/admin/access_tokens/accesstoken/find-leaked/",
        "/admin/auth/user/",
    ]:
        r = client.get(url)
        assert r.status_code == 200, url
        _assert_secure_headers(r, url)
        _assert_no_store(r, url)


def test_it_sends_the_headers_on_the_admin_sign_in_page(client):
    r = client.get("/admin/login/", follow=True)
    assert r.redirect_chain == [("/accounts/login/?next=%2Fadmin%2Flogin%2F", 302)]
    assert r.status_code == 200
    _assert_secure_headers(r, "/admin/login/")


def test_it_never_lets_a_page_that_can_show_a_token_be_cached(alice_client):
    # Create through the form: the list then holds the one-time display.
    page = alice_client.get("/settings/access-tokens/new/")
    _assert_no_store(page, "new")
    nonce = page.context["form"].initial["nonce"]
    r = alice_client.post(
        "/settings/access-tokens/new/",
        {"name": "ci", "expiration": "30", "scopes": "api", "nonce": nonce},
    )
    assert r.status_code == 302
    _assert_no_store(r, "create")
    r = alice_client.get("/settings/access-tokens/")
    assert 'id="new-token-value"' in r.content.decode()
    _assert_no_store(r, "list")


def test_it_never_lets_the_api_answer_with_a_token_be_cached(alice, make_token, api_client):
    _, raw = make_token(alice)
    api_client.credentials(HTTP_AUTHORIZATION=f"AccessToken {raw}")
    r = api_client.post("/api/v1/access-tokens/", {"name": "x"}, format="json")
    assert r.status_code == 201
    assert r.json()["token"].startswith("kspat_")
    _assert_no_store(r, "api create")


def test_it_does_not_cache_the_sign_in_and_password_pages(client, alice):
    _assert_no_store(client.get("/accounts/login/"), "login")
    client.post("/accounts/login/", {"login": "alice", "password": PASSWORD})
    for url in ["/accounts/password/change/", "/accounts/email/", "/accounts/2fa/"]:
        _assert_no_store(client.get(url), url)
