"""While the database is unreachable, every answer is a short 503, never a 500 with a trace.

Django's own `connection.execute_wrapper` hook makes every query fail the way a lost
connection does, on SQLite and PostgreSQL alike; the soak run (soak/run.py) does it for real by
restarting PostgreSQL under gunicorn.
"""

import contextlib
import json

import pytest
from django.db import OperationalError, ProgrammingError, connection
from django.test import Client

from access_tokens.models import AccessToken

pytestmark = pytest.mark.django_db

TRACE_MARKERS = ("Traceback", "OperationalError", "django.db", 'File "')


def _refuse_every_query(execute, sql, params, many, context):
    raise OperationalError("server closed the connection unexpectedly")


def _refuse_session_writes(execute, sql, params, many, context):
    if "django_session" in sql and sql.lstrip().upper().startswith(("UPDATE", "INSERT")):
        raise OperationalError("server closed the connection unexpectedly")
    return execute(sql, params, many, context)


@contextlib.contextmanager
def _database_down(refuse=_refuse_every_query):
    with connection.execute_wrapper(refuse):
        yield


def _assert_short_and_clean(r):
    body = r.content.decode()
    assert r.status_code == 503
    assert r["Retry-After"] == "5"
    assert "no-store" in r["Cache-Control"]
    assert len(body) < 2000
    for marker in TRACE_MARKERS:
        assert marker not in body


def test_it_answers_503_html_on_a_page(alice_client):
    with _database_down():
        r = alice_client.get("/settings/access-tokens/")
    _assert_short_and_clean(r)
    assert r["Content-Type"].startswith("text/html")
    assert "Keystand is briefly unavailable" in r.content.decode()
    # Still a page like any other: the security headers are there.
    assert "script-src 'self'" in r["Content-Security-Policy"]
    assert r["X-Frame-Options"] == "DENY"


def test_it_answers_503_json_on_the_api(api_client, alice, make_token):
    _, raw = make_token(alice)
    with _database_down():
        r = api_client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"AccessToken {raw}")
    _assert_short_and_clean(r)
    assert r.json() == {
        "detail": "Service temporarily unavailable. Try again shortly.",
        "code": "service_unavailable",
    }


def test_it_answers_503_on_sign_in(client, alice):
    with _database_down():
        r = client.post("/accounts/login/", {"login": "alice", "password": "whatever"})
    _assert_short_and_clean(r)


def test_it_answers_503_on_readyz(client):
    with _database_down():
        r = client.get("/readyz")
    assert r.status_code == 503
    assert json.loads(r.content)["database"] == "unreachable"


def test_it_answers_503_when_the_session_cannot_be_saved(alice, make_token):
    # The delete commits, then saving the session (for the "deleted" message) fails:
    # that happens after the view, in the session middleware, and reaches handler500.
    client = Client(raise_request_exception=False)
    client.force_login(alice)
    token, _ = make_token(alice, name="ci")
    with _database_down(_refuse_session_writes):
        r = client.post(f"/settings/access-tokens/{token.pk}/delete/")
    _assert_short_and_clean(r)
    assert "Keystand is briefly unavailable" in r.content.decode()
    # A retry tells the truth: the token is gone.
    assert not AccessToken.objects.active().filter(pk=token.pk).exists()
    assert client.post(f"/settings/access-tokens/{token.pk}/delete/").status_code == 404


def test_it_serves_again_once_the_database_is_back(alice_client):
    with _database_down():
        assert alice_client.get("/settings/access-tokens/").status_code == 503
    r = alice_client.get("/settings/access-tokens/")
    assert r.status_code == 200
    assert "Personal Access Tokens" in r.content.decode()


def test_it_still_answers_500_for_other_database_errors(alice):
    def broken_sql(execute, sql, params, many, context):
        if "access_tokens_accesstoken" in sql:
            raise ProgrammingError("column does not exist")  # a bug, not an outage
        return execute(sql, params, many, context)

    client = Client(raise_request_exception=False)
    client.force_login(alice)
    with connection.execute_wrapper(broken_sql):
        r = client.get("/settings/access-tokens/")
    assert r.status_code == 500
    assert "Something went wrong" in r.content.decode()
