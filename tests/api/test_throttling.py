"""Throttling: per user for authenticated calls, per address for revoke and for failed
token authentication; the counters live in the configured cache (Redis works)."""

import re
import secrets
import threading
from types import SimpleNamespace

import pytest
import redis
from django.contrib.auth.models import AnonymousUser

from access_tokens import services
from access_tokens.throttling import FailedAuthenticationThrottle, UserThrottle, _LiveRateMixin

pytestmark = pytest.mark.django_db

THROTTLED = re.compile(r"Request was throttled\. Expected available in \d+ seconds?\.")


def _assert_throttled(r):
    assert r.status_code == 429
    assert r["Content-Type"] == "application/json"
    assert THROTTLED.fullmatch(r.json()["detail"]), r.json()
    assert r.json()["code"] == "throttled"
    assert int(r["Retry-After"]) > 0


def _me(client, raw, ip="127.0.0.1"):
    return client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {raw}", REMOTE_ADDR=ip)


def test_it_throttles_per_user(api_client, alice, bob, make_token, throttle_rates):
    throttle_rates(user="3/min")
    _token, first = make_token(alice)
    _token, second = make_token(alice)
    _token, bobs = make_token(bob)
    for raw in (first, second, first):
        assert _me(api_client, raw).status_code == 200
    # Another token of alice's shares her budget; bob has his own.
    _assert_throttled(_me(api_client, second, ip="10.0.0.9"))
    _assert_throttled(
        api_client.post(
            "/api/v1/access-tokens/", {}, format="json", HTTP_AUTHORIZATION=f"Bearer {first}"
        )
    )
    assert alice.access_tokens.count() == 2
    assert _me(api_client, bobs).status_code == 200


def test_it_throttles_revoke_per_address(api_client, alice, alice_token, throttle_rates):
    throttle_rates(revoke="2/min")
    _token, raw = alice_token
    for _ in range(2):
        r = api_client.post("/api/v1/access-tokens/revoke/", {"token": "junk"}, format="json")
        assert r.status_code == 202
    r = api_client.post("/api/v1/access-tokens/revoke/", {"token": raw}, format="json")
    _assert_throttled(r)
    assert alice.access_tokens.active().count() == 1  # a throttled request does nothing
    r = api_client.post(
        "/api/v1/access-tokens/revoke/", {"token": raw}, format="json", REMOTE_ADDR="10.0.0.2"
    )
    assert r.status_code == 202
    assert alice.access_tokens.active().count() == 0


def _hammer(client, n, ip="127.0.0.1"):
    """Send n requests with well-formed but unknown tokens; return the status codes."""
    return [_me(client, services.generate_token(), ip).status_code for _ in range(n)]


def test_it_throttles_failed_token_authentication_per_address(
    api_client, alice_token, throttle_rates
):
    throttle_rates(failed_auth="3/min")
    _token, raw = alice_token
    assert _hammer(api_client, 3) == [401, 401, 401]
    _assert_throttled(_me(api_client, services.generate_token()))
    _assert_throttled(api_client.get("/api/v1/me/", HTTP_AUTHORIZATION="Bearer junk"))
    _assert_throttled(api_client.get("/api/v1/me/", HTTP_AUTHORIZATION="Basic !!!"))
    # Another address is not affected.
    assert _hammer(api_client, 1, ip="10.0.0.3") == [401]
    # A good token is not a failure, and costs no throttle check.
    assert _me(api_client, raw).status_code == 200


def test_it_does_not_count_requests_without_credentials_as_failures(api_client, throttle_rates):
    throttle_rates(failed_auth="1/min")
    for _ in range(3):
        r = api_client.get("/api/v1/me/")
        assert r.status_code == 401
        assert r.json() == {
            "detail": "Authentication credentials were not provided.",
            "code": "not_authenticated",
        }


def test_it_throttles_anonymous_calls_to_the_schema(api_client, throttle_rates):
    throttle_rates(anon="2/min")
    url = "/api/schema/?format=json"
    assert api_client.get(url).status_code == 200
    assert api_client.get(url).status_code == 200
    r = api_client.get(url)
    assert r.status_code == 429
    _assert_throttled(r)  # in JSON, not in the schema's own media type


@pytest.mark.parametrize("throttle_class", [FailedAuthenticationThrottle, UserThrottle])
def test_it_counts_every_one_of_simultaneous_requests(throttle_class, throttle_rates, rf):
    """DRF's read-append-write let most of a simultaneous burst through uncounted (behind three
    replicas, 144 of 144 calls against 120/min); each request is one atomic count now."""
    throttle_rates(failed_auth="10/min", user="10/min")
    request = rf.get("/api/v1/me/", REMOTE_ADDR="198.51.100.40")
    request.user = AnonymousUser()  # the user throttle then counts by address as well
    barrier = threading.Barrier(40)
    answers = []

    def knock():
        throttle = throttle_class()
        barrier.wait()
        answers.append(throttle.allow_request(request, None))

    threads = [threading.Thread(target=knock) for _ in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert answers.count(True) == 10
    assert answers.count(False) == 30


def test_it_lets_a_refused_client_in_again_as_its_window_slides(throttle_rates, rf, monkeypatch):
    throttle_rates(failed_auth="4/min")
    request = rf.get("/api/v1/me/", REMOTE_ADDR="198.51.100.41")
    now = [6000.0]  # the start of a minute
    monkeypatch.setattr(FailedAuthenticationThrottle, "timer", lambda self: now[0])

    def allowed(n):
        return [FailedAuthenticationThrottle().allow_request(request, None) for _ in range(n)]

    assert allowed(5) == [True, True, True, True, False]
    throttle = FailedAuthenticationThrottle()
    assert not throttle.allow_request(request, None)
    # Retry-After tells the truth: the minute's four requests still weigh 4 when the next
    # minute starts, and 3 once a quarter of it has passed, which leaves room for one.
    assert throttle.wait() == 75
    now[0] += 74.9
    assert allowed(1) == [False]
    now[0] += 0.1
    assert allowed(2) == [True, False]
    # Half-way through that minute: 4 x 0.5 + 1 counted, room for one more.
    now[0] += 15
    assert allowed(2) == [True, False]
    # A minute on, the first burst is out of the window; half of the second (2) still counts.
    now[0] += 60
    assert allowed(4) == [True, True, True, False]


def test_it_reads_rates_from_the_environment_names(settings):
    rates = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
    assert set(rates) == {"user", "anon", "revoke", "failed_auth"}


@pytest.fixture
def redis_cache(settings):
    """Return a plain client for the suite's Redis and this run's key prefix."""
    default = settings.CACHES["default"]
    assert "Redis" in default["BACKEND"], "the suite's cache is Redis (pyproject's CACHE_URL)"
    return redis.Redis.from_url(default["LOCATION"]), default["KEY_PREFIX"]


def test_it_keeps_throttle_state_in_redis(
    api_client, alice_token, redis_cache, throttle_rates, monkeypatch
):
    client, prefix = redis_cache
    # One fixed instant: on a loaded machine the test may otherwise straddle two minutes,
    # and its counts two windows.
    monkeypatch.setattr(_LiveRateMixin, "timer", lambda self: 60 * 29_000_000 + 1.0, raising=False)
    throttle_rates(failed_auth="2/min", user="2/min")
    _token, raw = alice_token
    assert _hammer(api_client, 2) == [401, 401]
    _assert_throttled(_me(api_client, services.generate_token()))
    assert _me(api_client, raw).status_code == 200
    assert _me(api_client, raw).status_code == 200
    _assert_throttled(_me(api_client, raw))
    keys = sorted(k.decode() for k in client.scan_iter(match=f"{prefix}:*"))
    # One counter per throttle and minute (the window's number since the epoch).
    window = r"\d+"
    assert len(keys) == 2, keys
    assert re.fullmatch(rf"{prefix}:1:throttle_failed_auth_127\.0\.0\.1:{window}", keys[0])
    assert re.fullmatch(rf"{prefix}:1:throttle_user_{_token.user_id}:{window}", keys[1])
    # Nothing is kept in this process: with the Redis keys gone, the counts start again.
    client.delete(*keys)
    assert _hammer(api_client, 2) == [401, 401]
    assert _me(api_client, raw).status_code == 200


# --- One round trip to Redis (throttling.count_in_window) -----------------------------------


@pytest.fixture
def round_trips(monkeypatch):
    """Return the list of every write redis-py makes to a Redis connection from here on: one
    per command sent alone, one per pipeline (each is answered before the next is sent)."""
    sent = []
    send = redis.connection.AbstractConnection.send_packed_command

    def counted(self, command, *args, **kwargs):
        sent.append(command)
        return send(self, command, *args, **kwargs)

    monkeypatch.setattr(redis.connection.AbstractConnection, "send_packed_command", counted)
    return sent


def test_a_token_request_makes_one_round_trip_to_redis(api_client, alice_token, round_trips):
    _token, raw = alice_token
    assert _me(api_client, raw).status_code == 200  # the connection is open from here on
    round_trips.clear()
    r = _me(api_client, raw)
    assert r.status_code == 200
    assert r["RateLimit-Remaining"]
    assert len(round_trips) == 1, round_trips


def _answers(cache, at: float, requests: int, monkeypatch):
    """Ask a fresh UserThrottle `requests` times at the instant `at` for the same signed-in
    user, counting in `cache`: return each answer with the RateLimit headers it set."""
    monkeypatch.setattr(_LiveRateMixin, "timer", lambda self: at, raising=False)
    request = SimpleNamespace(user=SimpleNamespace(is_authenticated=True, pk=7))
    answers = []
    for _ in range(requests):
        throttle = UserThrottle()
        throttle.cache = cache
        view = SimpleNamespace(headers={})
        answers.append((throttle.allow_request(request, view), dict(view.headers)))
    return answers


def test_redis_and_the_cache_api_count_alike(throttle_rates, settings, monkeypatch):
    """The same requests, on Redis in one round trip and through a local cache's API, are let
    through and told the same; in the next window both read the previous one's count."""
    from django.core.cache import caches

    throttle_rates(user="5/min")
    name = secrets.token_hex(4)  # a local cache of this test's own: locmem outlives a test
    settings.CACHES = {
        **settings.CACHES,
        "local": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": name},
    }
    start = 60 * 29_000_001.0
    for at in (start + 1, start + 75):  # this minute, then 15 s into the next
        on_redis = _answers(caches["default"], at, 4, monkeypatch)
        local = _answers(caches["local"], at, 4, monkeypatch)
        assert on_redis == local
    assert [allowed for allowed, _ in on_redis] == [True, True, False, False]


class _PublicMethodsOnly:
    """Django's Redis cache client, less get_client() and the serializer: what a future Django
    might move, where count_in_window looks for them."""

    def __init__(self, inner) -> None:
        self._inner = inner

    def __getattr__(self, name):
        if name in ("get_client", "_serializer"):
            raise AttributeError(name)
        return getattr(self._inner, name)


def test_without_those_parts_it_counts_through_the_cache_api(
    throttle_rates, settings, monkeypatch, caplog
):
    from django.core.cache import caches
    from django.core.cache.backends.redis import RedisCache
    from django.utils.functional import cached_property

    from access_tokens import throttling

    class FutureRedisCache(RedisCache):
        @cached_property
        def _cache(self):
            return _PublicMethodsOnly(self._class(self._servers, **self._options))

    monkeypatch.setattr(throttling, "_redis_unusable", False)
    throttle_rates(user="2/min")
    default = settings.CACHES["default"]
    future = FutureRedisCache(default["LOCATION"], {"KEY_PREFIX": default["KEY_PREFIX"] + "-f"})
    name = secrets.token_hex(4)
    settings.CACHES = {
        **settings.CACHES,
        "local": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": name},
    }
    at = 60 * 29_000_002.0 + 1
    with caplog.at_level("WARNING", logger="access_tokens.throttling"):
        answers = _answers(future, at, 3, monkeypatch)
    assert answers == _answers(caches["local"], at, 3, monkeypatch)
    assert [allowed for allowed, _ in answers] == [True, True, False]
    warnings = [r for r in caplog.records if "through the cache API" in r.getMessage()]
    assert len(warnings) == 1  # once, then it no longer tries
