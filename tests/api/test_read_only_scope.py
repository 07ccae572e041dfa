"""A read_only token may use safe methods only."""

import pytest

from access_tokens.models import AccessToken

from .headers import basic

pytestmark = pytest.mark.django_db

READ_ONLY = {"detail": "This token is read-only."}


@pytest.fixture
def read_only(alice, make_token):
    return make_token(alice, name="ci", scope=AccessToken.Scope.READ_ONLY)


def test_it_allows_safe_methods(api_client, read_only):
    token, raw = read_only
    r = api_client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert r.status_code == 200
    assert r.json()["token"]["scope"] == "read_only"
    r = api_client.get("/api/v1/access-tokens/", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert r.status_code == 200
    r = api_client.get(f"/api/v1/access-tokens/{token.id}/", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert r.status_code == 200
    r = api_client.options("/api/v1/access-tokens/", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert r.status_code == 200


@pytest.mark.parametrize("form", ["AccessToken", "Bearer", "Basic"])
def test_it_cannot_create_a_token(api_client, alice, read_only, form):
    _token, raw = read_only
    header = basic(raw) if form == "Basic" else f"{form} {raw}"
    r = api_client.post(
        "/api/v1/access-tokens/", {"name": "more"}, format="json", HTTP_AUTHORIZATION=header
    )
    assert r.status_code == 403
    assert r.json() == READ_ONLY
    assert alice.access_tokens.count() == 1


def test_it_cannot_delete_a_token(api_client, alice, alice_token, read_only):
    other, _raw = alice_token
    token, raw = read_only
    for target in (other, token):
        r = api_client.delete(
            f"/api/v1/access-tokens/{target.id}/", HTTP_AUTHORIZATION=f"Bearer {raw}"
        )
        assert r.status_code == 403
        assert r.json() == READ_ONLY
    assert alice.access_tokens.count() == 2


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_it_refuses_every_unsafe_method(api_client, read_only, method):
    _token, raw = read_only
    r = getattr(api_client, method)("/api/v1/me/", HTTP_AUTHORIZATION=f"AccessToken {raw}")
    assert r.status_code == 403
    assert r.json() == READ_ONLY


def test_a_read_write_token_of_the_same_owner_can_write(api_client, alice_token, read_only):
    _token, raw = alice_token
    r = api_client.post(
        "/api/v1/access-tokens/",
        {"name": "more"},
        format="json",
        HTTP_AUTHORIZATION=f"Bearer {raw}",
    )
    assert r.status_code == 201
