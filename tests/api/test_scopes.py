"""Named scopes: each token does only what its scopes allow, on every method and every way of
presenting it; a request for a method that does not exist is a 405, never a 403."""

import pytest

from access_tokens.models import AccessToken

from .headers import basic

pytestmark = pytest.mark.django_db

ME = "/api/v1/me/"
TOKENS = "/api/v1/access-tokens/"


def _needs(have: str, need: str) -> dict:
    return {
        "detail": f"This token's scopes ({have}) do not allow this request: it needs {need}.",
        "code": "insufficient_scope",
    }


@pytest.fixture
def token_with(alice, make_token):
    def make(*scopes):
        return make_token(alice, name="ci", scopes=list(scopes))

    return make


def _as(api_client, raw, method, path, form="Bearer", **kwargs):
    header = basic(raw) if form == "Basic" else f"{form} {raw}"
    return getattr(api_client, method)(path, HTTP_AUTHORIZATION=header, format="json", **kwargs)


def test_a_read_api_token_uses_safe_methods(api_client, token_with):
    token, raw = token_with("read_api")
    r = _as(api_client, raw, "get", ME)
    assert r.status_code == 200
    assert r.json()["token"]["scopes"] == ["read_api"]
    assert r.json()["token"]["scope"] == "read_only"
    assert _as(api_client, raw, "get", TOKENS).status_code == 200
    assert _as(api_client, raw, "get", f"{TOKENS}{token.id}/").status_code == 200
    assert _as(api_client, raw, "options", TOKENS).status_code == 200
    assert _as(api_client, raw, "head", TOKENS).status_code == 200


@pytest.mark.parametrize("form", ["AccessToken", "Bearer", "Basic"])
def test_a_read_api_token_cannot_create_a_token(api_client, alice, token_with, form):
    _token, raw = token_with("read_api")
    r = _as(api_client, raw, "post", TOKENS, form=form, data={"name": "more"})
    assert r.status_code == 403
    assert r.json() == _needs("read_api", "api")
    assert alice.access_tokens.count() == 1


def test_a_read_api_token_cannot_change_rotate_or_delete(
    api_client, alice, alice_token, token_with
):
    other, _raw = alice_token
    token, raw = token_with("read_api")
    for target in (other, token):
        for method, path in [
            ("delete", f"{TOKENS}{target.id}/"),
            ("patch", f"{TOKENS}{target.id}/"),
            ("post", f"{TOKENS}{target.id}/rotate/"),
        ]:
            r = _as(api_client, raw, method, path, data={"name": "x"})
            assert r.status_code == 403, (method, path)
            assert r.json() == _needs("read_api", "api")
    r = _as(api_client, raw, "post", f"{TOKENS}self/rotate/")
    assert r.json() == _needs("read_api", "api or self_rotate")
    assert alice.access_tokens.active().count() == 2
    assert {t.name for t in alice.access_tokens.all()} == {"laptop", "ci"}


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_a_method_that_does_not_exist_is_405_whatever_the_scope(api_client, token_with, method):
    _token, raw = token_with("read_user")
    r = _as(api_client, raw, method, ME)
    assert r.status_code == 405
    assert r.json() == {
        "detail": f'Method "{method.upper()}" not allowed.',
        "code": "method_not_allowed",
    }


def test_a_read_user_token_reads_only_who_it_is(api_client, alice, token_with):
    token, raw = token_with("read_user")
    r = _as(api_client, raw, "get", ME)
    assert r.status_code == 200
    assert r.json()["username"] == "alice"
    assert r.json()["token"]["scope"] is None
    for method, path in [("get", TOKENS), ("get", f"{TOKENS}{token.id}/"), ("post", TOKENS)]:
        r = _as(api_client, raw, method, path)
        assert r.status_code == 403
        need = "api or read_api" if method == "get" else "api"
        assert r.json() == _needs("read_user", need)


def test_a_self_rotate_token_can_only_rotate_itself(api_client, alice, alice_token, token_with):
    other, _ = alice_token
    token, raw = token_with("self_rotate")
    assert _as(api_client, raw, "get", ME).status_code == 403
    assert _as(api_client, raw, "get", TOKENS).status_code == 403
    assert _as(api_client, raw, "post", f"{TOKENS}{other.id}/rotate/").status_code == 403
    r = _as(api_client, raw, "post", f"{TOKENS}self/rotate/")
    assert r.status_code == 201
    assert r.json()["scopes"] == ["self_rotate"]
    assert r.json()["rotated_from"] == str(token.id)


def test_an_api_token_may_do_everything_its_owner_may(api_client, alice, token_with):
    token, raw = token_with("api")
    assert _as(api_client, raw, "get", ME).status_code == 200
    assert _as(api_client, raw, "get", TOKENS).status_code == 200
    r = _as(api_client, raw, "post", TOKENS, data={"name": "more", "scopes": ["read_api"]})
    assert r.status_code == 201
    made = AccessToken.objects.get(pk=r.json()["id"])
    assert (
        _as(api_client, raw, "patch", f"{TOKENS}{made.id}/", data={"name": "x"}).status_code == 200
    )
    assert _as(api_client, raw, "delete", f"{TOKENS}{made.id}/").status_code == 204


def test_scopes_add_up(api_client, token_with):
    _token, raw = token_with("read_user", "self_rotate")
    assert _as(api_client, raw, "get", ME).status_code == 200
    assert _as(api_client, raw, "get", TOKENS).status_code == 403
    assert _as(api_client, raw, "post", f"{TOKENS}self/rotate/").status_code == 201


def test_a_browser_session_is_not_limited_by_scopes(client, alice):
    client.force_login(alice)
    assert client.get(TOKENS).status_code == 200
