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

While the cache is unreachable every throttle lets requests through (fails open) and says so
in the log once a minute: a token request must keep working while Redis restarts, and an
outage of minutes costs at most that long without limits.
"""

import logging

from rest_framework.settings import api_settings
from rest_framework.throttling import AnonRateThrottle, SimpleRateThrottle, UserRateThrottle

from .cache_outage import CACHE_ERRORS, OutageLog
from .client_ip import client_ip

outage_log = OutageLog(logging.getLogger("access_tokens.throttling"))


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
        # How much of the previous window still lies inside the sliding one.
        self.previous_weight = 1 - (now - window * self.duration) / self.duration
        self.window_end = (window + 1) * self.duration
        current = f"{self.key}:{window}"
        # Two windows long: the next window reads this one as its previous.
        self.cache.add(current, 0, timeout=2 * self.duration)
        try:
            count = self.cache.incr(current)
        except ValueError:  # expired between add() and incr()
            self.cache.set(current, 1, timeout=2 * self.duration)
            count = 1
        previous = self.cache.get(f"{self.key}:{window - 1}", 0)
        if previous * self.previous_weight + count <= self.num_requests:
            return True
        # A refused request is not counted, so a client that keeps knocking gets in again as
        # soon as its earlier requests slide out of the window.
        self.cache.decr(current)
        self.now = now
        return False

    def wait(self):
        """Seconds until the current window ends: then the count starts again from (a part
        of) this window's, so a retry after this long has a fair chance."""
        return max(1.0, self.window_end - self.now)


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
