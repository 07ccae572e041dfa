"""OPTIONS describes what each endpoint really takes, and a method an endpoint lacks is a
405 whatever the token's scopes (not a 403 for a read-only token)."""

import pytest

pytestmark = pytest.mark.django_db

LIST = "/api/v1/access-tokens/"


def _options(api_client, path, raw=None):
    extra = {"HTTP_AUTHORIZATION": f"Bearer {raw}"} if raw else {}
    r = api_client.options(path, **extra)
    assert r.status_code == 200, r.content
    return r.json()


def _writable(action: dict) -> dict[str, str]:
    return {name: f["type"] for name, f in action.items() if not f["read_only"]}


def test_it_describes_what_a_create_takes(api_client, alice_token):
    _token, raw = alice_token
    body = _options(api_client, LIST, raw)
    assert set(body["actions"]) == {"POST"}
    post = body["actions"]["POST"]
    assert _writable(post) == {
        "name": "string",
        "description": "string",
        "expires_at": "date or datetime",
        "scopes": "list",
        "scope": "choice",
    }
    assert post["name"]["max_length"] == 100
    assert post["name"]["required"] is False
    assert [c["value"] for c in post["scope"]["choices"]] == ["read_write", "read_only"]


def test_it_describes_a_rename_as_name_and_description(api_client, alice_token):
    token, raw = alice_token
    body = _options(api_client, f"{LIST}{token.id}/", raw)
    assert set(body["actions"]) == {"PATCH"}
    assert _writable(body["actions"]["PATCH"]) == {"name": "string", "description": "string"}


@pytest.mark.parametrize("path", ["{id}/rotate/", "self/rotate/"])
def test_it_describes_what_a_rotation_takes(api_client, alice_token, path):
    token, raw = alice_token
    body = _options(api_client, LIST + path.format(id=token.id), raw)
    assert _writable(body["actions"]["POST"]) == {"expires_at": "date or datetime"}


def test_it_describes_the_revoke_endpoint_without_credentials(api_client):
    body = _options(api_client, LIST + "revoke/")
    assert _writable(body["actions"]["POST"]) == {"token": "string", "tokens": "list"}


def test_it_leaves_out_what_the_token_may_not_send(api_client, alice, make_token):
    token, raw = make_token(alice, scopes=["read_api"])
    assert "actions" not in _options(api_client, LIST, raw)
    assert "actions" not in _options(api_client, f"{LIST}{token.id}/", raw)


def test_it_leaves_out_a_rename_of_a_token_it_cannot_see(api_client, alice_token, bob, make_token):
    _token, raw = alice_token
    bobs, _ = make_token(bob)
    r = api_client.options(f"{LIST}{bobs.id}/", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert r.status_code == 200
    assert "actions" not in r.json()


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("put", LIST),
        ("delete", LIST),
        ("patch", LIST),
        ("put", "{id}/"),
        ("post", "{id}/"),
        ("put", "/api/v1/me/"),
        ("delete", "/api/v1/me/"),
        ("get", "{id}/rotate/"),
        ("put", "self/rotate/"),
        ("delete", "revoke/"),
    ],
)
@pytest.mark.parametrize("scopes", [["read_api"], ["read_user"], ["api"]])
def test_a_method_the_endpoint_lacks_is_405_for_any_token(
    api_client, alice, make_token, method, path, scopes
):
    token, raw = make_token(alice, scopes=scopes)
    url = path if path.startswith("/") else LIST + path.format(id=token.id)
    r = getattr(api_client, method)(url, {}, format="json", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert r.status_code == 405
    assert r.json() == {
        "detail": f'Method "{method.upper()}" not allowed.',
        "code": "method_not_allowed",
    }
    assert method.upper() not in r["Allow"]


def test_a_read_only_token_gets_403_where_the_method_exists(api_client, alice, make_token):
    token, raw = make_token(alice, scopes=["read_api"])
    r = api_client.delete(f"{LIST}{token.id}/", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert r.status_code == 403
    assert r.json()["code"] == "insufficient_scope"
