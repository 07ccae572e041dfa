"""Throttling: per user for authenticated calls, per address for revoke and for failed
token authentication; the counters live in the configured cache (Redis works)."""

import re
import threading

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
