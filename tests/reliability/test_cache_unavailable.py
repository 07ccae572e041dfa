"""While Redis is down: token requests keep working (their throttles let them through and say
so once a minute), sign-in fails closed with a 503 page, and both recover by themselves.

A Redis server of the test's own is stopped for real (tests/redis_server.py)."""

import logging

import pytest
from django.core.cache import cache
from django.test import Client

from access_tokens import cache_outage, services
from tests.conftest import PASSWORD
from tests.redis_server import PrivateRedis

pytestmark = pytest.mark.django_db

TRACE_MARKERS = ("Traceback", "ConnectionError", "redis", 'File "')


@pytest.fixture
def redis_server(settings):
    """Point the default cache at a private Redis; yield it running."""
    server = PrivateRedis()
    server.start()
    settings.CACHES = {
        "default": {
            "BACKEND": "config.cache.RedisCache",  # what CACHE_URL=redis://... selects
            "LOCATION": server.url,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    yield server
    server.stop()


@pytest.fixture
def redis_down(redis_server):
    redis_server.stop()
    assert not redis_server.is_up()  # the fault really happened
    return redis_server


@pytest.fixture
def clock(monkeypatch):
    """Control the outage log's clock; return a function that moves it on."""
    now = [1000.0]
    monkeypatch.setattr(cache_outage, "_now", lambda: now[0])

    def advance(seconds):
        now[0] += seconds

    return advance


@pytest.fixture(autouse=True)
def _fresh_outage_logs(monkeypatch):
    """Each test starts as if no outage had been reported in this process."""
    from access_tokens import throttling
    from config import middleware

    for log in (throttling.outage_log, middleware.cache_outage_log):
        monkeypatch.setattr(log, "_last", None)
        monkeypatch.setattr(log, "_suppressed", 0)


def _me(client, raw):
    return client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {raw}")


def _sign_in(client, password=PASSWORD):
    return client.post("/accounts/login/", {"login": "alice", "password": password})


def _outage_warnings(caplog, logger):
    return [r for r in caplog.records if r.name == logger and r.levelno == logging.WARNING]


def test_it_serves_token_requests_while_redis_is_down(api_client, alice, redis_down):
    _, raw = services.create_access_token(user=alice, name="ci")
    r = _me(api_client, raw)
    assert r.status_code == 200
    assert r.json()["username"] == "alice"
    # Creating and listing through the API touch the throttles as well.
    r = api_client.post(
        "/api/v1/access-tokens/", {"name": "new"}, format="json", HTTP_AUTHORIZATION=f"Bearer {raw}"
    )
    assert r.status_code == 201, r.content
    assert _me(api_client, r.json()["token"]).status_code == 200


def test_it_still_refuses_bad_tokens_while_redis_is_down(api_client, alice, redis_down):
    # The failed-token throttle is consulted and lets the request through; the token check
    # itself needs no cache, so a bad token is still a 401, never a 500.
    r = _me(api_client, services.generate_token())
    assert r.status_code == 401
    assert r.json()["detail"]
    r = api_client.post("/api/v1/access-tokens/revoke/", {"token": "junk"}, format="json")
    assert r.status_code == 202


def test_it_logs_the_outage_once_a_minute(api_client, alice, redis_down, caplog, clock):
    _, raw = services.create_access_token(user=alice)
    for _ in range(5):
        assert _me(api_client, raw).status_code == 200
    warnings = _outage_warnings(caplog, "access_tokens.throttling")
    assert len(warnings) == 1
    assert "let requests through" in warnings[0].getMessage()

    clock(59)
    assert _me(api_client, raw).status_code == 200
    assert len(_outage_warnings(caplog, "access_tokens.throttling")) == 1
    clock(2)
    assert _me(api_client, raw).status_code == 200
    warnings = _outage_warnings(caplog, "access_tokens.throttling")
    assert len(warnings) == 2
    # The second report counts what the minute kept quiet about.
    assert "more since the last report" in warnings[1].getMessage()


def test_it_refuses_sign_in_with_a_503_page(alice, redis_down, caplog):
    client = Client()
    r = _sign_in(client)
    assert r.status_code == 503
    body = r.content.decode()
    assert "Signing in is paused for a moment" in body
    assert r["Retry-After"] == "5"
    assert "no-store" in r["Cache-Control"]
    for marker in TRACE_MARKERS:
        assert marker not in body
    # Fails closed: the right password did not sign anyone in.
    assert "_auth_user_id" not in client.session
    assert client.get("/settings/access-tokens/").status_code == 302
    # Said once in the log, however many people try.
    _sign_in(client)
    assert len(_outage_warnings(caplog, "keystand.cache")) == 1


def test_it_keeps_serving_pages_that_need_no_cache(alice, redis_down):
    client = Client()
    client.force_login(alice)
    r = client.get("/settings/access-tokens/")
    assert r.status_code == 200
    assert client.get("/accounts/login/").status_code in (200, 302)
    assert client.get("/readyz").status_code == 200


def test_it_recovers_by_itself_when_redis_is_back(api_client, alice, redis_server, settings):
    settings.ACCOUNT_RATE_LIMITS = {
        **settings.ACCOUNT_RATE_LIMITS,
        "login_failed": "30/900s/ip,2/900s/key",
    }
    _, raw = services.create_access_token(user=alice)
    shared = cache._cache.get_client(write=True)  # one client per pool (config/cache.py)
    redis_server.stop()
    assert _sign_in(Client()).status_code == 503
    assert _me(api_client, raw).status_code == 200

    redis_server.start()
    # Same process, same connection pool and client: the next request reconnects.
    assert _me(api_client, raw).status_code == 200
    assert cache._cache.get_client(write=True) is shared
    client = Client()
    assert _sign_in(client).status_code == 302
    # And the limits count again.
    for _ in range(2):
        assert _sign_in(Client(), "wrong").status_code == 200
    assert _sign_in(Client()).status_code == 429
    assert cache.get("anything") is None  # the cache answers
