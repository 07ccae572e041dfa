"""GET /api/schema/: an OpenAPI 3 document that validates and lists every endpoint."""

import pytest
import yaml
from django.urls import URLPattern, get_resolver
from openapi_spec_validator import validate

pytestmark = pytest.mark.django_db

ENDPOINTS = {
    "/api/v1/me/": {"get"},
    "/api/v1/access-tokens/": {"get", "post"},
    "/api/v1/access-tokens/{token_id}/": {"get", "patch", "delete"},
    "/api/v1/access-tokens/{token_id}/rotate/": {"post"},
    "/api/v1/access-tokens/self/rotate/": {"post"},
    "/api/v1/access-tokens/revoke/": {"post"},
}


@pytest.fixture
def spec(api_client):
    r = api_client.get("/api/schema/?format=json")
    assert r.status_code == 200
    assert r["Content-Type"] == "application/vnd.oai.openapi+json"
    return r.json()


def test_it_validates(spec):
    validate(spec)  # raises on an invalid document
    assert spec["openapi"].startswith("3.")
    assert spec["info"]["title"] == "Keystand API"


def test_it_serves_yaml_by_default(api_client, spec):
    r = api_client.get("/api/schema/")
    assert r.status_code == 200
    assert r["Content-Type"] == "application/vnd.oai.openapi; charset=utf-8"
    assert yaml.safe_load(r.content) == spec


def test_it_lists_every_endpoint_and_method(spec):
    documented = {
        path: {m for m in ops if m in {"get", "post", "put", "patch", "delete"}}
        for path, ops in spec["paths"].items()
    }
    assert documented == ENDPOINTS


def test_it_lists_every_url_under_api_v1(spec):
    api = next(p for p in get_resolver().url_patterns if str(p.pattern) == "api/v1/")
    routes = {
        "/api/v1/" + str(p.pattern).replace("<uuid:token_id>", "{token_id}")
        for p in api.url_patterns
        if isinstance(p, URLPattern)
    }
    assert routes == set(spec["paths"])


def test_it_describes_the_access_token_scheme(spec):
    schemes = spec["components"]["securitySchemes"]
    assert schemes["AccessToken"]["type"] == "http"
    assert schemes["AccessToken"]["scheme"] == "bearer"
    assert "AccessToken kspat_" in schemes["AccessToken"]["description"]
    assert schemes["AccessTokenBasic"] == {
        "type": "http",
        "scheme": "basic",
        "description": "HTTP Basic with any username and a personal access token as password.",
    }
    me = spec["paths"]["/api/v1/me/"]["get"]
    assert {"AccessToken": []} in me["security"]
    assert {"AccessTokenBasic": []} in me["security"]


def test_it_shows_revoke_needs_no_credentials(spec):
    revoke = spec["paths"]["/api/v1/access-tokens/revoke/"]["post"]
    assert revoke.get("security", []) == []
    assert "security" not in spec  # and nothing global that it would inherit
    assert set(revoke["responses"]) == {"202", "400", "413", "429"}


def test_it_describes_create(spec):
    create = spec["paths"]["/api/v1/access-tokens/"]["post"]
    body = create["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    request = spec["components"]["schemas"][body.rsplit("/", 1)[1]]
    assert set(request["properties"]) == {"name", "description", "expires_at", "scopes", "scope"}
    created = create["responses"]["201"]["content"]["application/json"]["schema"]["$ref"]
    response = spec["components"]["schemas"][created.rsplit("/", 1)[1]]
    assert "token" in response["properties"]
    assert set(create["responses"]) == {"201", "400", "401", "403", "413", "429"}
    error = spec["components"]["schemas"]["Error"]
    assert error["properties"] == {
        "detail": {"type": "string", "description": "What went wrong, in a sentence."}
    }


def test_it_is_public_but_refuses_a_broken_token(api_client):
    # Anyone may read it; a token header that is broken is refused here as everywhere.
    assert api_client.get("/api/schema/").status_code == 200
    r = api_client.get("/api/schema/?format=json", HTTP_AUTHORIZATION="Bearer junk")
    assert r.status_code == 401
    assert r.json()["detail"].startswith("Malformed token")
