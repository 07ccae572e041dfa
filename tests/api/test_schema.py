"""GET /api/schema/: an OpenAPI 3 document that validates and lists every endpoint."""

import pytest
import yaml
from django.urls import URLPattern, get_resolver
from openapi_spec_validator import validate
from rest_framework.test import APIClient

from .openapi import assert_answer_matches

pytestmark = pytest.mark.django_db

ENDPOINTS = {
    "/api/v1/me/": {"get"},
    "/api/v1/access-tokens/": {"get", "post"},
    "/api/v1/access-tokens/{token_id}/": {"get", "patch", "delete"},
    "/api/v1/access-tokens/{token_id}/rotate/": {"post"},
    "/api/v1/access-tokens/self/rotate/": {"post"},
    "/api/v1/access-tokens/revoke/": {"post"},
}


@pytest.fixture(scope="module")
def spec(django_db_setup, django_db_blocker):
    """Return the served document, fetched once for the module: it is the same for every
    test, and generating it takes a good tenth of a second (66 tests read it)."""
    with django_db_blocker.unblock():
        r = APIClient().get("/api/schema/?format=json")
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
    assert set(revoke["responses"]) == {"202", "400", "406", "411", "413", "415", "429", "503"}


def test_it_describes_create(spec):
    create = spec["paths"]["/api/v1/access-tokens/"]["post"]
    body = create["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    request = spec["components"]["schemas"][body.rsplit("/", 1)[1]]
    assert set(request["properties"]) == {"name", "description", "expires_at", "scopes", "scope"}
    created = create["responses"]["201"]["content"]["application/json"]["schema"]["$ref"]
    response = spec["components"]["schemas"][created.rsplit("/", 1)[1]]
    assert "token" in response["properties"]
    assert set(create["responses"]) == {
        "201",
        "400",
        "401",
        "403",
        "406",
        "411",
        "413",
        "415",
        "429",
        "503",
    }
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


# What each operation can answer besides its success (access_tokens/schema.py's AutoSchema).
ERRORS = {
    ("get", "/api/v1/me/"): {401, 403, 406, 429, 503},
    ("get", "/api/v1/access-tokens/"): {400, 401, 403, 404, 406, 429, 503},
    ("post", "/api/v1/access-tokens/"): {400, 401, 403, 406, 411, 413, 415, 429, 503},
    ("get", "/api/v1/access-tokens/{token_id}/"): {401, 403, 404, 406, 429, 503},
    ("patch", "/api/v1/access-tokens/{token_id}/"): {
        *(400, 401, 403, 404, 406, 409, 411, 413, 415, 429, 503)
    },
    ("delete", "/api/v1/access-tokens/{token_id}/"): {401, 403, 404, 406, 429, 503},
    ("post", "/api/v1/access-tokens/{token_id}/rotate/"): {
        *(400, 401, 403, 404, 406, 409, 411, 413, 415, 429, 503)
    },
    ("post", "/api/v1/access-tokens/self/rotate/"): {400, 401, 403, 406, 411, 413, 415, 429, 503},
    ("post", "/api/v1/access-tokens/revoke/"): {400, 406, 411, 413, 415, 429, 503},
}
SUCCESS = {"get": 200, "patch": 200, "delete": 204, "post": 201}


@pytest.mark.parametrize(("method", "path"), list(ERRORS))
def test_each_operation_lists_every_status_it_can_answer(spec, method, path):
    responses = spec["paths"][path][method]["responses"]
    success = 202 if path.endswith("/revoke/") else SUCCESS[method]
    assert {int(status) for status in responses} == {success} | ERRORS[(method, path)]
    for status in ERRORS[(method, path)]:
        answer = responses[str(status)]
        assert answer["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/Error"
        }
        assert answer["description"]
    assert set(ERRORS) == {(m, p) for p, ops in spec["paths"].items() for m in ops}


def test_it_lists_the_headers_clients_rely_on(spec):
    tokens = spec["paths"]["/api/v1/access-tokens/"]
    challenge = tokens["get"]["responses"]["401"]["headers"]["WWW-Authenticate"]
    assert challenge["required"] is True
    throttled = tokens["get"]["responses"]["429"]["headers"]
    assert throttled["Retry-After"]["required"] is True
    assert {"RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"} <= set(throttled)
    assert spec["paths"]["/api/v1/me/"]["get"]["responses"]["503"]["headers"]["Retry-After"]
    assert tokens["post"]["responses"]["201"]["headers"]["Location"]["required"] is True
    listed = tokens["get"]["responses"]["200"]["headers"]
    assert listed["Link"]["required"] is False  # left out when everything fits on one page
    assert {"Keystand-Token-Expiration", "Keystand-Token-Scopes"} <= set(listed)
    # A refused token is not described, and the revoke endpoint takes none.
    assert "Keystand-Token-Scopes" not in tokens["get"]["responses"]["401"]["headers"]
    revoked = spec["paths"]["/api/v1/access-tokens/revoke/"]["post"]["responses"]["202"]
    assert "Keystand-Token-Scopes" not in revoked["headers"]


def _provoke(api_client, raw, method, path, status):
    """Send a request to the operation that should get `status`; return the answer."""
    url = path.replace("{token_id}", "00000000-0000-0000-0000-000000000000")
    if status == 404:
        url = path.replace("{token_id}", "11111111-1111-1111-1111-111111111111")
        if "{token_id}" not in path:
            url += "?page=99"
    headers = {} if status == 401 else {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    if status == 406:
        headers["HTTP_ACCEPT"] = "text/html"
    if status == 415:
        return getattr(api_client, method)(url, "name=x", content_type="text/plain", **headers)
    if status == 413:
        body = '{"name": "' + "x" * 2000 + '"}'
        return getattr(api_client, method)(url, body, content_type="application/json", **headers)
    if status == 400:
        if method == "get":
            return api_client.get(url + "?ordering=nonsense", **headers)
        return getattr(api_client, method)(
            url, '{"nonsense": 1}', content_type="application/json", **headers
        )
    return getattr(api_client, method)(url, **headers)


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        (m, p, s)
        for (m, p), statuses in ERRORS.items()
        for s in sorted(statuses & {400, 401, 404, 406, 413, 415})
    ],
)
def test_each_listed_error_is_answered_as_the_schema_says(
    api_client, spec, alice_token, settings, method, path, status
):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    token, raw = alice_token
    path_for_real = path.replace("{token_id}", str(token.id)) if status != 404 else path
    r = _provoke(api_client, raw, method, path_for_real, status)
    assert r.status_code == status, r.content
    assert_answer_matches(spec, path, method, r)
