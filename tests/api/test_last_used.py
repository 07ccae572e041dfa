"""One query per authenticated request, and last_used_at written at most once per interval."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from access_tokens import services
from access_tokens.models import AccessToken

from .headers import basic

pytestmark = pytest.mark.django_db

TABLE = AccessToken._meta.db_table


def _updates(queries) -> list[str]:
    return [q["sql"] for q in queries if q["sql"].startswith("UPDATE") and TABLE in q["sql"]]


@pytest.mark.parametrize("form", ["AccessToken", "Bearer", "Basic"])
def test_it_costs_one_query_when_last_used_is_fresh(
    api_client, alice_token, django_assert_num_queries, form
):
    token, raw = alice_token
    services.record_access_token_use(token, ip="127.0.0.1")
    header = basic(raw) if form == "Basic" else f"{form} {raw}"
    with django_assert_num_queries(1) as ctx:
        r = api_client.get("/api/v1/me/", HTTP_AUTHORIZATION=header)
    assert r.status_code == 200
    # The one query finds the token by its indexed digest and brings the owner along.
    sql = ctx.captured_queries[0]["sql"]
    assert sql.startswith("SELECT") and "digest" in sql and "JOIN" in sql


def test_it_costs_one_query_however_many_tokens_exist(
    api_client, alice, bob, charlie, make_token, django_assert_num_queries
):
    for user in (alice, bob, charlie):
        for i in range(20):
            make_token(user, name=f"t{i}")
    token, raw = make_token(bob, name="the one")
    services.record_access_token_use(token, ip="127.0.0.1")
    with django_assert_num_queries(1):
        r = api_client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert r.json()["token"]["id"] == str(token.id)


def test_it_costs_one_extra_update_when_last_used_is_stale(
    api_client, alice_token, django_assert_num_queries
):
    token, raw = alice_token
    long_ago = timezone.now() - dt.timedelta(hours=1)
    services.record_access_token_use(token, ip="10.0.0.1", now=long_ago)
    with django_assert_num_queries(2) as ctx:
        r = api_client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert r.status_code == 200
    assert len(_updates(ctx.captured_queries)) == 1
    token.refresh_from_db()
    assert token.last_used_at > long_ago
    assert token.last_used_ip == "127.0.0.1"
    assert r.json()["token"]["last_used_at"] is not None


def test_it_writes_last_used_once_within_the_interval(api_client, alice_token):
    token, raw = alice_token
    assert token.last_used_at is None
    with CaptureQueriesContext(connection) as ctx:
        for _ in range(10):
            r = api_client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"AccessToken {raw}")
            assert r.status_code == 200
    assert len(_updates(ctx.captured_queries)) == 1
    assert len(ctx.captured_queries) == 11
    token.refresh_from_db()
    assert token.last_used_at is not None
    assert token.last_used_ip == "127.0.0.1"


def test_it_writes_last_used_on_every_request_when_the_interval_is_zero(
    api_client, alice_token, settings
):
    settings.ACCESS_TOKEN_LAST_USED_INTERVAL = 0
    _token, raw = alice_token
    with CaptureQueriesContext(connection) as ctx:
        for _ in range(3):
            api_client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert len(_updates(ctx.captured_queries)) == 3


def test_it_does_not_touch_last_used_for_a_refused_request(api_client, alice, alice_token):
    token, raw = alice_token
    typo = raw[:-1] + ("x" if raw[-1] != "x" else "y")  # never the token itself
    r = api_client.post("/api/v1/me/", {}, format="json", HTTP_AUTHORIZATION=f"Bearer {typo}")
    assert r.status_code == 401
    token.refresh_from_db()
    assert token.last_used_at is None


def test_it_refuses_a_malformed_token_without_a_query(api_client, django_assert_num_queries):
    with django_assert_num_queries(0):
        r = api_client.get("/api/v1/me/", HTTP_AUTHORIZATION="Bearer kspat_" + "a" * 49)
    assert r.status_code == 401


def test_it_records_no_address_when_remote_addr_is_not_one(api_client, alice_token):
    # Behind a Unix socket REMOTE_ADDR can be a path; PostgreSQL's inet column refuses it.
    token, raw = alice_token
    r = api_client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {raw}", REMOTE_ADDR="unix:/run/k")
    assert r.status_code == 200
    token.refresh_from_db()
    assert token.last_used_at is not None
    assert token.last_used_ip is None
