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
        "/api/v1/" + str(p.pattern).replace("<token_id:token_id>", "{token_id}")
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
    assert error["properties"]["detail"] == {
        "type": "string",
        "description": "What went wrong, in a sentence.",
    }
    assert error["required"] == ["code", "detail"]


@pytest.mark.parametrize(
    "header", ["Bearer junk", "AccessToken kspat_x", "Basic !!!", "Bearer " + "A" * 55]
)
@pytest.mark.parametrize("path", ["/api/schema/?format=json", "/api/docs/"])
def test_it_is_public_and_ignores_any_credential(api_client, path, header, throttle_rates):
    # Anyone may read it, and a stale token in a client's default headers is no reason not
    # to: credentials are not read here at all (nor counted as failed authentications).
    throttle_rates(failed_auth="1/min")
    for _ in range(3):
        r = api_client.get(path, HTTP_AUTHORIZATION=header)
        assert r.status_code == 200


@pytest.mark.parametrize("path", ["/api/schema/", "/api/docs/"])
def test_its_errors_are_json_in_the_one_shape(api_client, path, throttle_rates):
    throttle_rates(anon="2/min")
    r = api_client.post(path)
    assert r.status_code == 405
    assert r["Content-Type"] == "application/json"
    assert r.json() == {"detail": 'Method "POST" not allowed.', "code": "method_not_allowed"}
    assert api_client.get(path).status_code == 200
    r = api_client.get(path)
    assert r.status_code == 429
    assert r["Content-Type"] == "application/json"
    assert r.json()["code"] == "throttled"
    assert int(r["Retry-After"]) >= 1


def test_it_answers_406_in_json(api_client):
    r = api_client.get("/api/schema/", HTTP_ACCEPT="text/html")
    assert r.status_code == 406
    assert r["Content-Type"] == "application/json"
    assert r.json() == {
        "detail": "Could not satisfy the request Accept header.",
        "code": "not_acceptable",
    }
