"""The query count of an authenticated request, pinned: the benchmark's numbers rest on it.

One indexed read per request while last_used_at is fresh, one read and one UPDATE when it is
stale, whatever the number of tokens the caller holds. Counted, never timed.
"""

import base64
import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from access_tokens import services
from access_tokens.models import AccessToken

pytestmark = pytest.mark.django_db

TABLE = AccessToken._meta.db_table


def _header(form: str, raw: str) -> str:
    if form == "Basic":
        return "Basic " + base64.b64encode(f"-:{raw}".encode()).decode("ascii")
    return f"{form} {raw}"


def _get_me(api_client, header: str):
    r = api_client.get("/api/v1/me/", HTTP_AUTHORIZATION=header)
    assert r.status_code == 200
    assert r.json()["username"] == "alice"
    return r


@pytest.mark.parametrize("form", ["AccessToken", "Bearer", "Basic"])
def test_it_reads_once_per_request_and_writes_once_per_interval(
    api_client, alice, make_token, form
):
    _token, raw = make_token(alice, name="ci")
    with CaptureQueriesContext(connection) as ctx:
        for _ in range(20):
            _get_me(api_client, _header(form, raw))
    sql = [q["sql"] for q in ctx.captured_queries]
    updates = [s for s in sql if s.startswith("UPDATE")]
    # The first request finds last_used_at unset and writes it; the other 19 only read.
    assert len(sql) == 21
    assert len(updates) == 1 and TABLE in updates[0]
    assert all(
        s.startswith("SELECT") and "digest" in s and "JOIN" in s for s in sql if s not in updates
    )


def test_it_costs_one_query_while_last_used_is_fresh(
    api_client, alice, make_token, django_assert_num_queries
):
    token, raw = make_token(alice, name="ci")
    services.record_access_token_use(token, ip="127.0.0.1")
    with django_assert_num_queries(1):
        r = _get_me(api_client, f"AccessToken {raw}")
    assert r.json()["token"]["id"] == str(token.id)
    # The token's headers come from the row already read, not from another query.
    assert r["Keystand-Token-Scopes"] == "api"
    assert r["Keystand-Token-Expiration"] == "never"


def test_it_costs_two_queries_once_last_used_is_stale(
    api_client, alice, make_token, django_assert_num_queries, settings
):
    token, raw = make_token(alice, name="ci")
    long_ago = timezone.now() - dt.timedelta(seconds=settings.ACCESS_TOKEN_LAST_USED_INTERVAL + 5)
    services.record_access_token_use(token, ip="127.0.0.1", now=long_ago)
    with django_assert_num_queries(2):
        _get_me(api_client, f"AccessToken {raw}")
    token.refresh_from_db()
    assert token.last_used_at > long_ago
    # Written, so fresh again: back to one read.
    with django_assert_num_queries(1):
        _get_me(api_client, f"AccessToken {raw}")


def test_it_costs_one_query_for_a_user_holding_the_most_tokens(
    api_client, alice, make_token, django_assert_num_queries, settings
):
    tokens = [make_token(alice, name=f"t{i}") for i in range(settings.ACCESS_TOKEN_MAX_PER_USER)]
    for token, _raw in tokens:
        services.record_access_token_use(token, ip="127.0.0.1")
    for _token, raw in (tokens[0], tokens[-1]):
        with django_assert_num_queries(1):
            _get_me(api_client, f"Bearer {raw}")


def test_it_refuses_a_malformed_token_without_a_query(api_client, django_assert_num_queries):
    with django_assert_num_queries(0):
        r = api_client.get("/api/v1/me/", HTTP_AUTHORIZATION="Bearer kspat_not-a-real-token")
    assert r.status_code == 401
    assert r.json()["detail"].startswith("Malformed token")


def test_it_refuses_an_unknown_token_with_one_query(api_client, django_assert_num_queries):
    raw = services.generate_token()
    with django_assert_num_queries(1):
        r = api_client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert r.status_code == 401
    assert r.json() == {"detail": "Invalid token.", "code": "unknown_token"}


@pytest.mark.parametrize(
    "path", ["/api/v1/me/", "/api/v1/access-tokens/", "/api/v1/access-tokens/revoke/"]
)
def test_it_routes_an_api_request_without_a_caught_exception(monkeypatch, path):
    # Every include() tried before the one that holds a path raises Resolver404, which the
    # root catches: config/urls.py lists the API first so an API request raises none.
    from django.urls import Resolver404, get_resolver

    raised = []
    original = Resolver404.__init__

    def counting(self, *args, **kwargs):
        raised.append(args)
        original(self, *args, **kwargs)

    monkeypatch.setattr(Resolver404, "__init__", counting)
    match = get_resolver().resolve(path)
    assert match.url_name.startswith("api-")
    assert raised == []
