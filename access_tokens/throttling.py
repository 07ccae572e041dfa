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

Every answer to a counted request carries the IETF draft's RateLimit-Limit, -Remaining, -Reset
(and -Policy) headers, and a 429 a Retry-After that a client can trust: all computed from the
two counts the check has already read, with no further round trip to the cache.

While the cache is unreachable every throttle lets requests through (fails open) and says so
in the log once a minute: a token request must keep working while Redis restarts, and an
outage of minutes costs at most that long without limits.
"""

import logging
import math

from rest_framework.exceptions import Throttled
from rest_framework.settings import api_settings
from rest_framework.throttling import AnonRateThrottle, SimpleRateThrottle, UserRateThrottle

from .cache_outage import CACHE_ERRORS, OutageLog
from .client_ip import client_ip

outage_log = OutageLog(logging.getLogger("access_tokens.throttling"))


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
        self.cache.add(current, 0, timeout=2 * self.duration)
        try:
            count = self.cache.incr(current)
        except ValueError:  # expired between add() and incr()
            self.cache.set(current, 1, timeout=2 * self.duration)
            count = 1
        self.previous = self.cache.get(f"{self.key}:{window - 1}", 0)
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
