"""
DRF's throttles with the rates read when used, counted atomically.

Their counters live in `SimpleRateThrottle.cache`, which is `django.core.cache.cache`: a proxy
that looks up `caches["default"]` on every use, so the counters go wherever CACHE_URL points
(Redis in production, shared by every worker and replica) and follow a CACHES override in tests.

DRF's own algorithm reads a list of timestamps, appends one and writes the list back. Requests
that arrive together on different workers read the same list and each write back their own,
so most of them are never counted: measured behind three replicas (`make cluster`), a 30/min
limit let 51 requests through and a 120/min limit all 144 sent. Here each request is one
atomic INCR of a per-window counter instead (a sliding window estimated from the current and
the previous window, as Cloudflare and others do), so concurrent requests are each counted.

On Django's Redis cache the count is one round trip: SET NX EX, INCR and GET of the previous
window in one MULTI/EXEC (`count_in_window`), where the cache API's add, incr (EXISTS, then
INCRBY) and get took four. Other caches (the in-memory one of `make run`, a database cache) go
through the cache API, with the same keys and values.

Every answer to a counted request carries the IETF draft's RateLimit-Limit, -Remaining, -Reset
(and -Policy) headers, and a 429 a Retry-After that a client can trust: all computed from the
two counts the check has already read, with no further round trip to the cache.

While the cache is unreachable every throttle lets requests through (fails open) and says so
in the log once a minute: a token request must keep working while Redis restarts, and an
outage of minutes costs at most that long without limits.
"""

import logging
import math

from django.core.cache import DEFAULT_CACHE_ALIAS, caches
from django.core.cache import cache as default_cache
from django.core.cache.backends.redis import RedisCache
from rest_framework.exceptions import Throttled
from rest_framework.settings import api_settings
from rest_framework.throttling import AnonRateThrottle, SimpleRateThrottle, UserRateThrottle

from .cache_outage import CACHE_ERRORS, OutageLog
from .client_ip import client_ip

logger = logging.getLogger("access_tokens.throttling")
outage_log = OutageLog(logger)


def _through_cache_api(cache, current: str, previous: str, timeout: int) -> tuple[int, int]:
    cache.add(current, 0, timeout=timeout)
    try:
        count = cache.incr(current)
    except ValueError:  # expired between add() and incr()
        cache.set(current, 1, timeout=timeout)
        count = 1
    return count, cache.get(previous, 0)


_redis_unusable = False


def _in_one_round_trip(backend: RedisCache, current: str, previous: str, timeout: int):
    """What _through_cache_api does, in one MULTI/EXEC on the write server; None where this
    Django's Redis backend lacks the parts it reads (`_cache.get_client`, `_serializer`)."""
    global _redis_unusable
    try:
        client = backend._cache.get_client(None, write=True)
        loads = backend._cache._serializer.loads
    except AttributeError:
        _redis_unusable = True
        logger.warning(
            "This Django's Redis cache has no get_client() or serializer where the throttles "
            "look; they count through the cache API instead (four round trips, not one).",
            exc_info=True,
        )
        return None
    key, earlier = backend.make_and_validate_key(current), backend.make_and_validate_key(previous)
    with client.pipeline(transaction=True) as pipe:
        pipe.set(key, 0, ex=timeout, nx=True)
        pipe.incr(key)
        pipe.get(earlier)
        _created, count, before = pipe.execute()
    return count, 0 if before is None else loads(before)


def count_in_window(cache, current: str, previous: str, timeout: int) -> tuple[int, int]:
    """Count one request under the key `current` (kept `timeout` seconds from its first
    count) and read the count under `previous`: return (current's count, including this
    request, previous's count or 0). On Redis one transaction, one round trip; elsewhere the
    cache API's add and incr, as atomic as that cache makes them (the in-memory one is)."""
    backend = caches[DEFAULT_CACHE_ALIAS] if cache is default_cache else cache
    if isinstance(backend, RedisCache) and not _redis_unusable:
        counted = _in_one_round_trip(backend, current, previous, timeout)
        if counted is not None:
            return counted
    return _through_cache_api(cache, current, previous, timeout)


class Refused(Throttled):
    """A 429 that carries its RateLimit-* headers (errors.py adds `response_headers`)."""

    def __init__(self, wait: float, response_headers: dict[str, str]):
        super().__init__(wait=wait)
        self.response_headers = response_headers


class _LiveRateMixin:
    """Read the rate when asked rather than when the class was defined, so changing
    DEFAULT_THROTTLE_RATES (in tests, or at startup from the environment) takes effect;
    count by the one client address Keystand uses everywhere; and let the request through
    when the cache cannot be reached."""

    def get_ident(self, request):
        # client_ip honours TRUSTED_PROXIES; DRF's own get_ident would read NUM_PROXIES.
        return client_ip(request) or "unknown"

    def get_rate(self):
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def allow_request(self, request, view):
        try:
            return self._allow(request, view)
        except CACHE_ERRORS as exc:
            outage_log.warning(
                "Cache unreachable; API throttles let requests through until it is back: %s",
                exc,
            )
            return True

    def _allow(self, request, view) -> bool:
        """Count this request in the current window; refuse it (and uncount it) when the
        sliding-window estimate would pass the rate."""
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        now = self.timer()
        window = int(now // self.duration)
        self.now, self.window_start = now, window * self.duration
        current = f"{self.key}:{window}"
        # Two windows long: the next window reads this one as its previous.
        count, self.previous = count_in_window(
            self.cache, current, f"{self.key}:{window - 1}", int(2 * self.duration)
        )
        self.count = count
        allowed = self._estimate(now) <= self.num_requests
        if not allowed:
            # A refused request is not counted, so a client that keeps knocking gets in again
            # as soon as its earlier requests slide out of the window.
            self.cache.decr(current)
            self.count = count - 1
        self._tell(view)
        return allowed

    def _estimate(self, at: float) -> float:
        """Return the requests counted in the sliding window that ends at `at`, from the
        counts read in _allow (no further round trip to the cache)."""
        window_end = self.window_start + self.duration
        if at < window_end:
            weight = 1 - (at - self.window_start) / self.duration
            return self.previous * weight + self.count
        # In the next window this one is the previous, and nothing is counted yet.
        return self.count * max(0.0, 1 - (at - window_end) / self.duration)

    def wait(self):
        """Seconds until one more request would be let in, if no other arrives meanwhile
        (at least one): the earliest moment the sliding estimate falls to the rate minus one.
        It falls as the previous window slides out, then, in the next window, as this one
        does."""
        return max(1.0, self._until_room())

    def _until_room(self) -> float:
        limit, duration = self.num_requests, self.duration
        window_end = self.window_start + duration
        room = limit - 1 - self.count
        if room >= 0 and self.previous > 0:
            at = self.window_start + duration * (1 - room / self.previous)
            if at < window_end:
                return max(0.0, at - self.now)
        elif room >= 0:
            return 0.0
        at = window_end
        if self.count > 0:
            at += duration * max(0.0, 1 - (limit - 1) / self.count)
        return max(0.0, at - self.now)

    def rate_limit_headers(self) -> dict[str, str]:
        """Return the IETF draft's RateLimit-* headers (draft-ietf-httpapi-ratelimit-headers-07)
        for this request: the rate, what is left of it, and seconds until the window the
        request was counted in ends (or, with nothing left, until one more is let in)."""
        if getattr(self, "count", None) is None:
            return {}  # not counted: no rate, no key, or the cache is down
        remaining = max(0, math.floor(self.num_requests - self._estimate(self.now)))
        reset = self.window_start + self.duration - self.now if remaining else self.wait()
        return {
            "RateLimit-Limit": str(self.num_requests),
            "RateLimit-Remaining": str(remaining),
            "RateLimit-Reset": str(max(1, math.ceil(reset))),
            "RateLimit-Policy": f"{self.num_requests};w={int(self.duration)}",
        }

    def _tell(self, view) -> None:
        """Put the headers on the view's response (DRF adds a view's `headers` to whatever it
        finally answers, a 429 included). Where two limits count a request (an anonymous one
        counts against the user and the anonymous rate), the one with less left is told."""
        headers = getattr(view, "headers", None)
        if headers is None:
            return
        mine = self.rate_limit_headers()
        told = headers.get("RateLimit-Remaining")
        if told is None or int(mine["RateLimit-Remaining"]) < int(told):
            headers.update(mine)


class UserThrottle(_LiveRateMixin, UserRateThrottle):
    """Per-user rate for authenticated calls (per IP for anonymous ones)."""


class AnonThrottle(_LiveRateMixin, AnonRateThrottle):
    """Per-IP rate for unauthenticated calls."""


class _PerAddressThrottle(_LiveRateMixin, SimpleRateThrottle):
    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class RevokeThrottle(_PerAddressThrottle):
    """Per-IP rate for the unauthenticated revoke endpoint."""

    scope = "revoke"


class FailedAuthenticationThrottle(_PerAddressThrottle):
    """Per-IP count of refused credentials; consulted only when a credential fails, so a
    good token pays nothing for it."""

    scope = "failed_auth"
